"""Names shared by the report: model labels, Table 1 rows and columns, Part 2 attacks."""

from __future__ import annotations

# Model registry name -> the label the paper prints, in the paper's Table 1 order.
MODEL_LABELS = {
    "inception": "INCEPTION",
    "resnet18": "ResNet18",
    "macnn": "MACNN",
    "lstmfcn": "LSTMFCN",
}
MODEL_ORDER = tuple(MODEL_LABELS.values())

# Part 1 attack -> Table 1 column (CW loss with each regulariser); aliases map to the same column.
PART1_COLUMNS = {
    "AS_CW": "ASL0",
    "CW_ASL0": "ASL0",
    "CW_L1": "L1",
    "CW_L2": "L2",
    "CW": "No Reg.",
    "CW_NONE": "No Reg.",
}
REGULARISERS = ("ASL0", "L1", "L2", "No Reg.")

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
PART2_ATTACKS = ("GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "AS_CW")


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
