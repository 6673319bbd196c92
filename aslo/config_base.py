"""The one idiom of the configuration classes (attack, sparse attack, training, profile, claims).

A configuration is a frozen dataclass that inherits :class:`Config`: ``validate()`` raises
ValueError naming the first bad field and runs on construction; ``replace(**changes)`` refuses
unknown keys (suggesting close ones) and re-validates; ``to_dict()`` is JSON-ready; ``hash()`` is
the first ``HASH_DIGITS`` hex digits of the SHA-256 of the sorted-key JSON of ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from typing import Any, ClassVar


def finite_number(value: Any) -> bool:
    """A real number (not a bool) that is finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_choice(value: Any, allowed, what: str) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(map(str, allowed))}")


def check_flag(cfg: Any, *names: str) -> None:
    """Raise ValueError unless every named field is True or False."""
    for name in names:
        if not isinstance(getattr(cfg, name), bool):
            raise ValueError(f"{name} must be True or False, got {getattr(cfg, name)!r}")


def check_keys(keys, field_names, kind: str) -> None:
    """Raise ValueError naming the first key that is not a field, with close matches."""
    for key in keys:
        if key not in field_names:
            close = difflib.get_close_matches(key, field_names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; valid keys: {', '.join(field_names)}"
            raise ValueError(f"unknown {kind} {key!r}{hint}")


class Config:
    """Base of the frozen configuration dataclasses (see the module docstring)."""

    #: Length of :meth:`hash`. Stored hashes decide reuse: never change it for a class.
    HASH_DIGITS: ClassVar[int] = 16
    #: How an unknown key is named in errors ("unknown <KIND> 'x'").
    KIND: ClassVar[str] = "setting"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field (nothing to check here)."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the fields, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def check_keys(cls, keys) -> None:
        """Raise ValueError naming any key that is not a field of this class."""
        check_keys(keys, cls.field_names(), cls.KIND)

    def replace(self, **changes):
        """A validated copy with some fields changed (unknown keys raise ValueError)."""
        self.check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain dict of every field (tuples as lists: JSON-ready)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def hash(self) -> str:
        """Stable digest of :meth:`to_dict` (``HASH_DIGITS`` hex digits)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[: self.HASH_DIGITS]
