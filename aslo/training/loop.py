"""The training loop: Adam, plateau schedule on the training loss, lowest-loss weights.

The test split never drives any decision: batches, loss, schedule, BatchNorm statistics and the
checkpoint choice all come from the training split; the test split is only scored at the end.
"""

from __future__ import annotations

import copy
import math
import platform
import random
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

import aslo
from aslo.models import build_model, count_parameters, validate_model_name
from aslo.training.config import TrainConfig, default_train_config
from aslo.training.data import CheckedData, check_dataset
from aslo.training.device import resolve_device

EVAL_BATCH = 256


def check_seed(seed) -> int:
    """Return ``seed`` if it is a non-negative integer, else raise ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def batch_indices(n: int, batch_size: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    """A seeded shuffle of ``range(n)`` (in order when ``generator`` is None) cut into batches; a
    lone last sample joins the previous batch (BatchNorm needs more than one value per channel)
    so no sample is dropped."""
    perm = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    batches = list(torch.split(perm, batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] = torch.cat([batches[-1], last])
    return batches


def class_weights(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Balanced weights N / (K * count_k); classes absent from training get weight 0."""
    counts = torch.bincount(y, minlength=n_classes).double()
    present = counts > 0
    weights = torch.zeros(n_classes, dtype=torch.float64)
    weights[present] = len(y) / (int(present.sum()) * counts[present])
    return weights.float()


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Predicted labels of ``x`` in eval mode, computed in batches."""
    was_training = model.training
    model.eval()
    preds = [model(chunk).argmax(dim=1) for chunk in torch.split(x, batch_size)]
    model.train(was_training)
    return torch.cat(preds)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int) -> None:
    """Replace every BatchNorm's running statistics by their sample-weighted average over the
    batches of ``x`` (in order, train-mode forward, no gradient); the weights are not changed."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
    model.train()
    seen = 0
    for idx in batch_indices(len(x), batch_size, None):
        # Momentum n_b / (seen + n_b) makes the running mean the sample-weighted average.
        for m in norms:
            m.momentum = len(idx) / (seen + len(idx))
        model(x[idx.to(x.device)])
        seen += len(idx)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` classified as ``y`` (eval mode)."""
    return float((predict(model, x) == y).float().mean())


def library_versions() -> dict:
    """Versions recorded with every checkpoint."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "aslo": aslo.__version__,
    }


def prepare(dataset, model_name: str, config: TrainConfig | None, seed) -> tuple:
    """Validate every input before work starts; returns (CheckedData, config, seed)."""
    validate_model_name(model_name)
    if config is None:
        config = default_train_config(model_name)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    return check_dataset(dataset), config, check_seed(seed)


def train_model(dataset, model_name: str, config: TrainConfig | None = None, *, seed: int = 0,
                device="cpu", progress: bool = True) -> tuple[nn.Module, dict]:
    """Train ``model_name`` on ``dataset``'s training split; return (model in eval mode, record).

    The record holds the dataset, model, config (+ hash), seed, epochs run, best epoch, train and
    test accuracy (test: None when the test split has non-finite values), the training loss of
    the kept weights, seconds, stopped_by ("epochs" or "time"), versions and a timestamp.
    A fixed seed gives bit-identical weights on rerun on the same machine and thread count,
    whatever its speed, unless the optional wall-clock guard ``max_seconds`` fires (it warns).
    """
    data, config, seed = prepare(dataset, model_name, config, seed)
    dev = resolve_device(device)
    model, summary = _fit(data, model_name, config, seed, dev, progress)
    x_train = torch.from_numpy(data.x_train).to(dev)
    y_train = torch.from_numpy(data.y_train).to(dev)
    test_accuracy = None
    if not data.test_finite:
        warnings.warn(
            f"dataset {data.name!r}: the test split contains NaN/inf; test_accuracy not computed",
            stacklevel=2,
        )
    elif len(data.x_test):
        test_accuracy = accuracy(model, torch.from_numpy(data.x_test).to(dev),
                                 torch.from_numpy(data.y_test).to(dev))
    record = {
        "dataset": data.name,
        "model": model_name,
        "config": config.to_dict(),
        "config_hash": config.hash(),
        "seed": seed,
        **summary,
        "train_accuracy": accuracy(model, x_train, y_train),
        "test_accuracy": test_accuracy,
        "n_parameters": count_parameters(model),
        "data": data.shape,
        "data_fingerprint": data.fingerprint(),
        "device": str(dev),
        "versions": library_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return model.eval(), record


def _fit(data: CheckedData, model_name: str, config: TrainConfig, seed: int,
         dev: torch.device, progress: bool) -> tuple[nn.Module, dict]:
    """Run the epochs; return the model holding the chosen weights and a summary dict."""
    seed_everything(seed)
    shape = data.shape
    model = build_model(model_name, shape["in_channels"], data.n_classes, shape["length"]).to(dev)
    x = torch.from_numpy(data.x_train).to(dev)
    y = torch.from_numpy(data.y_train).to(dev)
    n = len(x)
    batch_size = min(config.batch_size, n)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = None
    if config.scheduler_factor < 1.0:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.scheduler_factor,
            patience=config.scheduler_patience, min_lr=config.min_lr,
        )
    weight = class_weights(y.cpu(), data.n_classes).to(dev) if config.balanced else None
    loss_fn = nn.CrossEntropyLoss(weight=weight)

    best_loss, best_state, best_epoch = math.inf, None, 0
    stopped_by = "epochs"
    start = time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc=f"{model_name} on {data.name}", unit="epoch",
               disable=not progress, leave=False)
    epoch = 0
    for epoch in bar:
        model.train()
        total = 0.0
        for idx in batch_indices(n, batch_size, generator):
            idx = idx.to(dev)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        epoch_loss = total / n
        if not math.isfinite(epoch_loss):
            raise FloatingPointError(
                f"training {model_name} on {data.name} diverged at epoch {epoch} (loss "
                f"{epoch_loss}); lower the learning rate"
            )
        if scheduler is not None:
            scheduler.step(epoch_loss)
        if config.checkpoint == "last" or epoch_loss < best_loss:
            best_loss, best_epoch = epoch_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{epoch_loss:.4f}", best=f"{best_loss:.4f}",
                        lr=f"{optimizer.param_groups[0]['lr']:.1e}")
        if config.max_seconds is not None and time.perf_counter() - start >= config.max_seconds:
            stopped_by = "time" if epoch < config.epochs else "epochs"
            break
    bar.close()
    if stopped_by == "time":
        warnings.warn(f"training {model_name} on {data.name}: the wall-clock guard max_seconds="
                      f"{config.max_seconds:g} fired after {epoch} of {config.epochs} epochs; these "
                      "weights depend on this machine's speed", RuntimeWarning, stacklevel=3)
    seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    if config.recalibrate_bn:
        recalibrate_batchnorm(model, x, batch_size)
    return model.eval(), {
        "epochs": epoch,
        "best_epoch": best_epoch,
        "train_loss": best_loss,
        "final_lr": optimizer.param_groups[0]["lr"],
        "seconds": round(seconds, 3),
        "stopped_by": stopped_by,
    }
