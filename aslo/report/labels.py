"""Names shared by the report: model labels, Table 1 rows and columns, Part 2 attacks.

Model labels come from the model registry and the Parts from the attack registry; this module
only derives the report's views of them.
"""

from __future__ import annotations

from aslo.attacks.registry import ALIASES, PAPER_PARTS
from aslo.models.registry import MODEL_LABELS

# The paper's labels in its Table 1 order.
MODEL_ORDER = tuple(MODEL_LABELS.values())

# Part 1 attack -> Table 1 column (CW loss with each regulariser); aliases map to the same column.
PART1_COLUMNS = {**PAPER_PARTS[1], **{alias: PAPER_PARTS[1][name] for alias, name in ALIASES.items()
                                      if name in PAPER_PARTS[1]}}
REGULARISERS = tuple(dict.fromkeys(PAPER_PARTS[1].values()))

# Table 1 row label -> summary column.
METRIC_COLUMNS = {
    "ASR": "asr",
    "Mean Success Distance": "mean_success_distance",
    "Mean Failure Distance": "mean_failure_distance",
    "Overall Mean Distance": "overall_mean_distance",
    "duration": "duration",
    "close to 0": "close_to_zero",
}
METRICS = tuple(METRIC_COLUMNS)

# Figure 1 / claim 4: the attacks of Part 2, in the order their bars are drawn.
PART2_ATTACKS = tuple(PAPER_PARTS[2])


def model_label(name: str) -> str:
    """Return the paper's label for a model name (case-insensitive); raise ValueError if unknown."""
    key = str(name).strip().lower()
    for registry_name, label in MODEL_LABELS.items():
        if key in (registry_name, label.lower()):
            return label
    raise ValueError(
        f"unknown model {name!r}; expected one of {sorted(MODEL_LABELS)} "
        f"(or the paper's labels {list(MODEL_ORDER)})"
    )
