"""Trained models of a profile and their accuracy against the published numbers."""

from __future__ import annotations

import itertools

import pandas as pd
from tqdm.auto import tqdm

from aslo.report.labels import model_label


def resolve_profile(profile, datasets=None, models=None, seeds=None):
    """Load a profile (name, path or Profile) and apply notebook overrides of its lists (None keeps)."""
    from aslo.experiments import load_profile

    prof = load_profile(profile)
    changes = {}
    if datasets is not None:
        changes["datasets"] = tuple(datasets)
    if models is not None:
        changes["models"] = tuple(models)
    if seeds is not None:
        changes["seeds"] = tuple(int(s) for s in seeds)
    return prof.replace(**changes) if changes else prof


def train_profile_models(profile, *, datasets=None, models=None, runs_dir="runs", progress=True) -> pd.DataFrame:
    """Train (or load the matching checkpoint of) every model of a profile on every dataset.

    Goes through the experiment grid's ``TrainedModels`` (profile training overrides and recipe,
    the profile's ``train_seed``, the training lock), so the grid reuses these checkpoints.
    Returns one row per (dataset, model) with train_accuracy, test_accuracy, epochs and stopped_by.
    """
    from aslo.experiments import TrainedModels

    prof = resolve_profile(profile, datasets, models)
    if not prof.datasets or not prof.models:
        raise ValueError(f"profile {prof.name!r} names no datasets or no models")
    trained = TrainedModels(prof, runs_dir, progress=progress)
    rows = []
    for dataset_name, model in tqdm(list(itertools.product(prof.datasets, prof.models)), desc="models",
                                    unit="model", disable=not progress, dynamic_ncols=True):
        _, record = trained.model(dataset_name, model)
        rows.append(dict(dataset=dataset_name, model=model, train_accuracy=record.get("train_accuracy"),
                         test_accuracy=record.get("test_accuracy"), epochs=record.get("epochs"),
                         stopped_by=record.get("stopped_by")))
    return pd.DataFrame(rows)


def trained_model_for(profile, dataset_name: str, model_name: str, *, runs_dir="runs"):
    """(dataset, model in eval mode, training record) exactly as the experiment grid gets them."""
    from aslo.experiments import TrainedModels

    trained = TrainedModels(resolve_profile(profile), runs_dir)
    net, record = trained.model(dataset_name, model_name)
    return trained.dataset(dataset_name), net, record


def accuracy_vs_published(accuracies: pd.DataFrame) -> pd.DataFrame:
    """Add the published test accuracy (ResNet18 against the 3-block ResNet) and the gap to ours.

    ``accuracies`` needs columns dataset, model, test_accuracy. Adds ``published`` (NaN where no
    number is published) and ``difference`` (ours - published); model names become the paper's.
    """
    from aslo.models.published import YARDSTICK, published_accuracies

    missing = {"dataset", "model", "test_accuracy"} - set(accuracies.columns)
    if missing:
        raise ValueError(f"accuracies lacks column(s) {sorted(missing)}")
    published = published_accuracies().rename(columns={"model": "yardstick", "accuracy": "published"})
    frame = accuracies.copy()
    frame["yardstick"] = [YARDSTICK.get(str(m).lower(), "") for m in frame["model"]]
    frame = frame.merge(published[["dataset", "yardstick", "published"]], on=["dataset", "yardstick"], how="left")
    frame["difference"] = frame["test_accuracy"] - frame["published"]
    frame["model"] = [model_label(m) for m in frame["model"]]
    return frame.drop(columns="yardstick")
