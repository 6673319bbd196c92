"""Published UCR test accuracies of the four architectures (the yardstick for our training).

Transcribed into ``aslo/resources/published_accuracies.csv`` (columns dataset, model, accuracy,
source). ResNet18 has no published UCR table; its yardstick is the 3-block ResNet column
(model ``resnet``), as the reference notes say.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from aslo.models.registry import MODELS

#: Which published column stands in for each of our models (from the registry).
YARDSTICK = {name: spec.yardstick for name, spec in MODELS.items()}


def published_accuracies() -> pd.DataFrame:
    """The published table: one row per (dataset, model); accuracy NaN where the run failed."""
    path = resources.files("aslo") / "resources" / "published_accuracies.csv"
    with resources.as_file(path) as file:
        return pd.read_csv(file)


def published_accuracy(dataset: str, model: str) -> float | None:
    """Published test accuracy for our ``model`` on ``dataset``; None if there is no number."""
    if model not in YARDSTICK:
        raise ValueError(f"unknown model {model!r}; valid names: {', '.join(YARDSTICK)}")
    table = published_accuracies()
    row = table[(table.dataset == dataset) & (table.model == YARDSTICK[model])]
    if row.empty or pd.isna(row.accuracy.iloc[0]):
        return None
    return float(row.accuracy.iloc[0])
