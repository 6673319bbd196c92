"""``get_trained_model``: reuse a matching checkpoint, or train and store one."""

from __future__ import annotations

from torch import nn

from aslo.training.checkpoints import load_checkpoint, run_directory, save_checkpoint
from aslo.training.config import TrainConfig
from aslo.training.device import resolve_device
from aslo.training.loop import prepare, train_model
from aslo.writable import require_writable_dir


def get_trained_model(dataset, model_name: str, config: TrainConfig | None = None, *,
                      seed: int = 0, runs_dir="runs", device=None, retrain: bool = False,
                      progress: bool = True, train_if_missing: bool = True) -> tuple[nn.Module, dict]:
    """Return (model in eval mode, record) for ``model_name`` trained on ``dataset``.

    A checkpoint under ``runs_dir`` with the same dataset, model, seed, config hash, dataset
    shape and data fingerprint is loaded instead of retraining (unless ``retrain``). A corrupt or
    mismatching checkpoint is reported with a warning and replaced by a fresh run.
    ``train_if_missing=False`` only loads (for shipped weights, which must never be replaced):
    without a matching checkpoint it raises FileNotFoundError naming the folder.
    ``device`` None or "auto" picks CUDA when available.
    """
    data, config, seed = prepare(dataset, model_name, config, seed)
    dev = resolve_device(device)
    directory = run_directory(runs_dir, data.name, model_name, seed, config.hash())
    if not retrain:
        expected = {
            "dataset": data.name, "model": model_name, "seed": seed,
            "config_hash": config.hash(), "config": config.to_dict(), "data": data.shape,
            "data_fingerprint": data.fingerprint(),
        }
        loaded = load_checkpoint(directory, expected, dev)
        if loaded is not None:
            return loaded
    if not train_if_missing:
        raise FileNotFoundError(f"no usable checkpoint of {model_name} on {data.name} (seed {seed}, config "
                                f"{config.hash()}) in {directory}")
    require_writable_dir(directory, "checkpoint folder")  # before training, not after it
    model, record = train_model(dataset, model_name, config, seed=seed, device=dev,
                                progress=progress)
    save_checkpoint(directory, model, record)
    return model, record
