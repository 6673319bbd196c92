"""Experiment profiles: small declarative TOML files (datasets, models, seeds, budgets).

A profile is a built-in name (``smoke``, ``default``, ``paper``) or a path to a TOML file.
Every key is validated; a mistake raises ``ValueError`` naming the key and the file before any
work starts.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from aslo.attacks.registry import GRID_ATTACKS
from aslo.data import dataset_summary, validate_dataset_name
from aslo.config_base import Config, check_choice, integer
from aslo.experiments.backend import resolve_attack_config, resolve_train_config
from aslo.metrics import DISTANCES
from aslo.models import MODEL_NAMES, validate_model_name
from aslo.training import TRAINING_RECIPES
from aslo.training.device import check_device_name

PROFILES: tuple[str, ...] = ("smoke", "default", "archive", "archive_literal", "l0bench", "l0bench_own", "paper")
#: A profile's choices of test series (see :func:`aslo.experiments.grid.correct_subset`).
SERIES = ("all", "correct")


def profile_attacks() -> tuple[str, ...]:
    """The names a profile's ``attacks`` may hold: the grid's attacks, then the L0 benchmark's."""
    from aslo.peers.l0 import L0_ATTACKS

    return GRID_ATTACKS + tuple(L0_ATTACKS)
_SCALAR = (bool, int, float, str)


@dataclass(frozen=True)
class Profile(Config):
    """A validated experiment profile (see ``aslo/profiles/*.toml`` for the fields).

    :func:`parse_profile` checks a TOML mapping key by key; :meth:`validate` checks the typed
    fields again, so that ``replace`` (e.g. ``device="cuda"``) cannot make an invalid profile.
    """

    KIND = "profile field"

    name: str
    description: str = ""
    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = MODEL_NAMES
    seeds: tuple[int, ...] = (0,)
    train_seed: int = 0
    samples: int = 0
    sample_seed: int = 0
    distance: str = "l2"
    normalize: bool = True
    device: str = "auto"
    batch_size: int = 0
    store_examples: bool = True
    #: The attacks of the grid (Parts 1 and 2 by default; the L0 benchmark's names are allowed).
    attacks: tuple[str, ...] = GRID_ATTACKS
    #: Which test series are drawn: "all", or "correct" (only those the model classifies correctly).
    series: str = "all"
    attack: Mapping[str, Any] = field(default_factory=dict)
    attack_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    training_recipe: str = "default"
    training: Mapping[str, Any] = field(default_factory=dict)
    training_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""
    #: Named attack variants: cell attack name -> (registered attack, its settings over the
    #: profile's). A cell may name a variant where it names an attack (the fidelity map's readings).
    variants: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)

    def attack_kwargs(self, attack: str) -> dict[str, Any]:
        """Overrides for one attack: shared ``[attack]`` keys, then ``[attack.<NAME>]``."""
        return {**self.attack, **self.attack_overrides.get(attack, {})}

    def attack_spec(self, name: str) -> tuple[str, dict[str, Any]]:
        """(registered attack, overrides) that a cell naming ``name`` runs: a variant's attack
        with the profile's settings for it, then the variant's; else ``name`` itself."""
        if name in self.variants:
            attack, overrides = self.variants[name]
            return attack, {**self.attack_kwargs(attack), **overrides}
        return name, self.attack_kwargs(name)

    def training_kwargs(self, model: str) -> dict[str, Any]:
        """Overrides for one model's training: ``[training]``, then ``[training.<model>]``."""
        return {**self.training, **self.training_overrides.get(model, {})}

    def validate(self) -> None:
        """Check the names and numbers the engine depends on (ValueError naming the field)."""
        check_choice(self.distance, DISTANCES, "distance")
        check_device_name(self.device)
        check_choice(self.training_recipe, TRAINING_RECIPES, "training recipe")
        check_choice(self.series, SERIES, "series")
        if not self.attacks or len(set(self.attacks)) != len(self.attacks):
            raise ValueError(f"attacks must be a non-empty tuple of distinct names, got {self.attacks!r}")
        for attack in self.attacks:
            check_choice(attack, profile_attacks(), "attack")
        for model in self.models:
            validate_model_name(model)
        for field in ("train_seed", "samples", "sample_seed", "batch_size"):
            value = getattr(self, field)
            if not integer(value) or value < 0:
                raise ValueError(f"{field} must be a non-negative integer, got {value!r}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or not all(map(integer, self.seeds)):
            raise ValueError(f"seeds must be a non-empty tuple of distinct integers, got {self.seeds!r}")
        for name, spec in self.variants.items():
            if not isinstance(spec, tuple) or len(spec) != 2 or spec[0] not in GRID_ATTACKS:
                raise ValueError(f"variant {name!r}: expected (one of {', '.join(GRID_ATTACKS)}, overrides), got {spec!r}")
            if name in GRID_ATTACKS or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
                raise ValueError(f"variant name {name!r}: not an attack's name; letters, digits, '_', '-', '.' only "
                                 "(it names the cell's folder)")


# Top-level keys and their expected Python types.
_TOP_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "datasets": (list, str),
    "models": (list,),
    "seeds": (list,),
    "train_seed": (int,),
    "samples": (int,),
    "sample_seed": (int,),
    "distance": (str,),
    "normalize": (bool,),
    "device": (str,),
    "batch_size": (int,),
    "store_examples": (bool,),
    "attacks": (list,),
    "series": (str,),
    "training_recipe": (str,),
    "attack": (dict,),
    "training": (dict,),
}


def profile_path(name_or_path: str | Path) -> Path:
    """The TOML file of a built-in profile name, or the given path (which must exist)."""
    text = str(name_or_path)
    if text in PROFILES:
        return Path(str(importlib.resources.files("aslo") / "profiles" / f"{text}.toml"))
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        if not path.is_file():
            raise FileNotFoundError(f"profile file not found: {path}")
        return path
    raise ValueError(f"unknown profile {text!r}: use one of {', '.join(PROFILES)} or a path to a .toml file")


def load_profile(name_or_path: "str | Path | Profile") -> Profile:
    """Load and validate a profile given by built-in name or TOML path."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = profile_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    return parse_profile(raw, source=str(path))


def as_profile(profile: "str | Path | Profile") -> Profile:
    """Accept a Profile, a built-in name or a path."""
    return profile if isinstance(profile, Profile) else load_profile(profile)


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a registered model, else raise ValueError listing the models."""
    return validate_model_name(name)


def check_dataset_name(name: str) -> str:
    """Validate a dataset name: safe characters and one of the 128 UCR 2018 datasets."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"dataset name must be a non-empty string, got {name!r}")
    name = validate_dataset_name(name)
    known = all_dataset_names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}: not one of the 128 UCR 2018 datasets{hint}")
    return name


@functools.lru_cache(maxsize=1)
def _summary_names() -> tuple[str, ...]:
    return tuple(dataset_summary()["name"])


def all_dataset_names() -> list[str]:
    """The 128 dataset names of the UCR 2018 summary (``datasets = "all"``)."""
    return list(_summary_names())


def parse_profile(raw: Mapping[str, Any], source: str = "<profile>") -> Profile:
    """Validate a parsed TOML mapping and build a Profile; errors name the key and the source."""

    def fail(key: str, problem: str) -> ValueError:
        return ValueError(f"{source}: key {key!r}: {problem}")

    for key, value in raw.items():
        if key not in _TOP_KEYS:
            raise fail(key, f"unknown key (allowed: {', '.join(_TOP_KEYS)})")
        if isinstance(value, bool) and bool not in _TOP_KEYS[key]:
            raise fail(key, f"expected {_type_names(_TOP_KEYS[key])}, got a boolean")
        if not isinstance(value, _TOP_KEYS[key]):
            raise fail(key, f"expected {_type_names(_TOP_KEYS[key])}, got {type(value).__name__}")
    if "name" not in raw or not raw["name"].strip():
        raise fail("name", "missing or empty (every profile needs a name)")
    name = raw["name"]
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise fail("name", "use letters, digits, '_', '-', '.' only (it names the results folder)")

    datasets = raw.get("datasets")
    if datasets is None:
        raise fail("datasets", "missing (a list of UCR names, or \"all\")")
    if isinstance(datasets, str):
        if datasets != "all":
            raise fail("datasets", f"expected a list of names or \"all\", got {datasets!r}")
        datasets = all_dataset_names()
    datasets = tuple(_each(datasets, str, "datasets", fail, check_dataset_name))
    if not datasets:
        raise fail("datasets", "empty list")
    models = tuple(_each(raw.get("models", list(MODEL_NAMES)), str, "models", fail, check_model_name))
    if not models:
        raise fail("models", "empty list")
    seeds = tuple(_each(raw.get("seeds", [0]), int, "seeds", fail, None))
    if not seeds or len(set(seeds)) != len(seeds):
        raise fail("seeds", "must be a non-empty list of distinct integers")

    for key in ("samples", "train_seed", "sample_seed", "batch_size"):
        if raw.get(key, 0) < 0:
            raise fail(key, f"must be >= 0, got {raw[key]}")
    distance = raw.get("distance", "l2")
    if distance not in DISTANCES:
        raise fail("distance", f"unknown distance {distance!r}: the metrics can summarise only "
                               f"{', '.join(DISTANCES)}")
    device = raw.get("device", "auto")
    try:
        check_device_name(device)
    except ValueError as exc:
        raise fail("device", str(exc)) from None

    recipe = raw.get("training_recipe", "default")
    if recipe not in TRAINING_RECIPES:
        raise fail("training_recipe", f"unknown recipe {recipe!r} (known: {', '.join(TRAINING_RECIPES)})")
    attacks = tuple(_each(raw.get("attacks", list(GRID_ATTACKS)), str, "attacks", fail, _check_attack_name))
    if not attacks or len(set(attacks)) != len(attacks):
        raise fail("attacks", "must be a non-empty list of distinct attack names")
    series = raw.get("series", "all")
    if series not in SERIES:
        raise fail("series", f"unknown choice {series!r} (allowed: {', '.join(SERIES)})")
    attack, attack_over = _split_overrides(raw.get("attack", {}), "attack", attacks, fail)
    training, training_over = _split_overrides(raw.get("training", {}), "training", models, fail)
    profile = Profile(
        name=name,
        description=raw.get("description", ""),
        datasets=datasets,
        models=models,
        seeds=seeds,
        train_seed=raw.get("train_seed", 0),
        samples=raw.get("samples", 0),
        sample_seed=raw.get("sample_seed", 0),
        distance=distance,
        normalize=raw.get("normalize", True),
        device=device,
        batch_size=raw.get("batch_size", 0),
        store_examples=raw.get("store_examples", True),
        attacks=attacks,
        series=series,
        attack=attack,
        attack_overrides=attack_over,
        training_recipe=recipe,
        training=training,
        training_overrides=training_over,
        source=source,
    )
    _check_against_layers(profile, fail)
    return profile


def _check_attack_name(name: str) -> str:
    if name not in profile_attacks():
        close = difflib.get_close_matches(name, profile_attacks(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f" (known: {', '.join(profile_attacks())})"
        raise ValueError(f"unknown attack {name!r}{hint}")
    return name


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join({list: "a list", dict: "a table", str: "a string", int: "an integer", bool: "a boolean"}.get(t, t.__name__) for t in types)


def _each(values, typ, key, fail, check):
    if not isinstance(values, list):
        raise fail(key, f"expected a list, got {type(values).__name__}")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, typ):
            raise fail(key, f"expected a list of {typ.__name__}, found {value!r}")
        if check is not None:
            try:
                value = check(value)
            except (ValueError, KeyError, FileNotFoundError) as exc:
                raise fail(key, str(exc.args[0] if exc.args else exc)) from exc
        out.append(value)
    return out


def _split_overrides(table, section, names, fail):
    """Split ``[section]`` into shared scalar overrides and per-name sub-tables."""
    shared: dict[str, Any] = {}
    per: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            if key not in names:
                raise fail(f"{section}.{key}", f"unknown name (allowed sub-tables: {', '.join(names)})")
            for sub, sub_value in value.items():
                if isinstance(sub_value, dict) or not isinstance(sub_value, _SCALAR):
                    raise fail(f"{section}.{key}.{sub}", "expected a number, string or boolean")
            per[key] = dict(value)
        elif isinstance(value, _SCALAR):
            shared[key] = value
        else:
            raise fail(f"{section}.{key}", "expected a number, string, boolean or a sub-table")
    return shared, per


def check_profile_layers(profile: Profile) -> Profile:
    """Let the attack and training layers validate a profile built in code (as :func:`parse_profile`
    does for a file); returns it. ValueError names the setting."""
    _check_against_layers(profile, lambda key, problem: ValueError(f"{profile.source or profile.name}: {key!r}: {problem}"))
    return profile


def _check_against_layers(profile: Profile, fail) -> None:
    """Let the attack and training layers validate the overrides (unknown keys, bad values)."""
    for attack in profile.attacks:
        try:
            resolve_attack_config(attack, profile.attack_kwargs(attack))
        except (TypeError, ValueError, KeyError) as exc:
            key = f"attack.{attack}" if attack in profile.attack_overrides else "attack"
            raise fail(key, f"rejected by the attack layer: {exc}") from exc
    for name, (attack, _) in profile.variants.items():
        try:
            resolve_attack_config(attack, profile.attack_spec(name)[1])
        except (TypeError, ValueError, KeyError) as exc:
            raise fail(f"variant {name}", f"rejected by the attack layer: {exc}") from exc
    for model in profile.models:
        try:
            resolve_train_config(model, profile.training_kwargs(model), profile.training_recipe)
        except (TypeError, ValueError, KeyError) as exc:
            key = f"training.{model}" if model in profile.training_overrides else "training"
            raise fail(key, f"rejected by the training layer: {exc}") from exc
