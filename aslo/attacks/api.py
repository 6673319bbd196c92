"""``run_attack``: validate, seed, batch (halving a batch that runs out of memory), and measure.

The attack itself is :func:`aslo.attacks.algorithm.attack_batch`; this module only prepares its
inputs and turns its outputs into per-sample records and a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..metrics import DISTANCES, per_sample_metrics, summarize
from ..observed import observed_mask
from ._tensor import as_label_tensor, as_series_tensor, attack_mode, resolve_device
from .config import AttackConfig
from .registry import get_attack_config
from .algorithm import attack_batch
from .budget import BudgetAttackConfig, asl0_budget_attack
from .sparse import rules_for


@dataclass
class AttackResult:
    """The outcome of :func:`run_attack` (tensors on CPU)."""

    x_adv: torch.Tensor
    delta: torch.Tensor
    records: pd.DataFrame
    summary: dict
    trace: pd.DataFrame | None
    config: AttackConfig


def draw_random_state(n: int, shape: tuple, n_classes: int, cfg: AttackConfig):
    """Initial perturbation (+-eps_init, random signs) and target offsets, for the whole input.

    Drawn on CPU from one generator seeded by ``cfg.seed``, so every sample's draw is independent
    of ``batch_size`` and of the device. Offsets lie in 1..K-1; the target of a sample is
    ``(clean_pred + offset) % K``, a uniformly random class other than its clean prediction.
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    signs = torch.randint(0, 2, (n, *shape), generator=gen, dtype=torch.int64)
    delta0 = (signs.to(torch.float32) * 2 - 1) * cfg.eps_init
    offsets = torch.randint(1, n_classes, (n,), generator=gen, dtype=torch.int64)
    return delta0, offsets


def _check_model(model, x: torch.Tensor, device: torch.device) -> int:
    """Run the model on one sample; return the number of classes or raise ValueError."""
    if not callable(model):
        raise ValueError(f"model must be callable (a torch.nn.Module returning logits), got {type(model).__name__}")
    try:
        with torch.no_grad():
            out = model(x[:1].to(device))
    except (RuntimeError, ValueError, IndexError) as exc:
        raise ValueError(f"the model rejects input of shape (N, {x.shape[1]}, {x.shape[2]}): {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model must return logits of shape (N, n_classes), got {shape}")
    if out.shape[1] < 2:
        raise ValueError(f"the model returns {out.shape[1]} logit(s); an attack needs at least 2 classes")
    return int(out.shape[1])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _trace_frame(parts: list[dict], steps: int) -> pd.DataFrame:
    """Per-step means/medians over all samples of all chunks."""
    full = {k: torch.cat([p[k] for p in parts], dim=1).double() for k in parts[0]}
    sigma = full["sigma"]
    has_sigma = not torch.isnan(sigma).all()
    return pd.DataFrame({
        "step": range(steps),
        "mean_loss": full["loss"].mean(dim=1).numpy(),
        "mean_sigma": sigma.mean(dim=1).numpy() if has_sigma else float("nan"),
        "median_sigma": sigma.median(dim=1).values.numpy() if has_sigma else float("nan"),
        "success_rate": full["success"].mean(dim=1).numpy(),
        "mean_regulariser": full["regulariser"].mean(dim=1).numpy(),
        "mean_objective": full["objective"].mean(dim=1).numpy(),
    })


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says a device ran out of memory (torch's OOM error or its message)."""
    oom = getattr(torch, "OutOfMemoryError", None)
    return (oom is not None and isinstance(exc, oom)) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def run_attack(model, x, y, attack: str = "AS_CW", *, batch_size: int | None = None, device=None,
               progress: bool = True, trace: bool = False, distance: str = "l2", lengths=None,
               **overrides) -> AttackResult:
    """Attack every series of ``x`` (N, C, L) with the named attack and measure the result.

    ``y`` holds the true labels (only for ``success_true_label``; success is judged against the
    clean prediction). ``overrides`` are AttackConfig fields (``steps``, ``lr``, ``eps``,
    ``seed``, ``reg_coef``, ``sigma0``, ``return_iterate``, ...). ``batch_size`` chunks the input
    without changing any sample's result (except with the coupling ``regulariser="l2_batch"``);
    a batch that runs out of device memory is halved and retried, with the same results. The
    model is used in eval mode with frozen parameters and restored afterwards. ``duration`` in
    the summary is the wall clock of the clean forward, all steps and the final forward.
    All inputs are validated (ValueError) before any work starts.

    ``lengths`` (N integers in 1..L, e.g. ``dataset.lengths_test[:n]``; None: every step
    observed) is each series' observed length when variable-length series are padded to L: the
    attack then never touches the padding (the returned ``delta`` is exactly zero there) and the
    metrics count observed steps only (column ``observed_length``). Full lengths give the same
    results as None.
    """
    cfg = get_attack_config(attack, **overrides)
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    x_cpu = as_series_tensor(x)
    y_cpu = as_label_tensor(y, x_cpu.shape[0])
    observed = None if lengths is None else observed_mask(lengths, x_cpu.shape[2], n=x_cpu.shape[0])
    dev = resolve_device(device, model)
    n = x_cpu.shape[0]
    chunk = batch_size or n
    budget = isinstance(cfg, BudgetAttackConfig)  # the extension with its own loop (aslo.attacks.budget)
    if budget and trace:
        raise ValueError(f"{cfg.name} records no per-step trace; run it with trace=False")
    settings = cfg.keywords()
    rules = None if budget else rules_for(cfg)

    with attack_mode(model, dev):
        n_classes = _check_model(model, x_cpu, dev)
        delta0, offsets = draw_random_state(n, tuple(x_cpu.shape[1:]), n_classes, cfg)
        bar = tqdm(total=-(-n // chunk) * cfg.steps, desc=cfg.name, disable=not progress, unit="step")

        def attack_slice(start: int, stop: int) -> list[dict]:
            """Attack samples start..stop-1; on out-of-memory, attack each half instead."""
            try:
                return [attack_chunk(start, stop)]
            except (RuntimeError, MemoryError) as exc:
                if not is_out_of_memory(exc) or stop - start < 2:
                    raise
                if cfg.regulariser == "l2_batch":
                    raise RuntimeError(f"{cfg.name}: out of memory on a batch of {stop - start}, and the "
                                       "batch-coupled regulariser l2_batch cannot be split without "
                                       "changing the result; pass a smaller batch_size") from exc
            # retried outside the except block, so the failed batch's tensors are already freed
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            bar.total += cfg.steps
            middle = (start + stop) // 2
            return attack_slice(start, middle) + attack_slice(middle, stop)

        def attack_chunk(start: int, stop: int) -> dict:
            xb = x_cpu[start:stop].to(dev)
            with torch.no_grad():
                clean = model(xb).argmax(dim=1)
            target = (clean + offsets[start:stop].to(dev)) % n_classes
            mask = None if observed is None else observed[start:stop].to(dev)
            if budget:
                out = asl0_budget_attack(model, xb, clean, delta0[start:stop].to(dev), observed=mask,
                                         on_step=lambda: bar.update(1), **settings)
            else:
                out = attack_batch(model, xb, clean, target, delta0[start:stop].to(dev), rules=rules,
                                   trace=trace, on_step=lambda: bar.update(1), observed=mask, **settings)
            out.update(clean_pred=clean, target=target)
            return {k: _to_cpu(v) for k, v in out.items()}

        _sync(dev)
        began = time.perf_counter()
        outputs = [part for start in range(0, n, chunk) for part in attack_slice(start, min(start + chunk, n))]
        _sync(dev)
        duration = time.perf_counter() - began
        bar.close()

    def joined(key: str) -> torch.Tensor:
        return torch.cat([o[key] for o in outputs])

    delta, adv_pred, clean_pred = joined("delta"), joined("adv_pred"), joined("clean_pred")
    x_adv = x_cpu + delta
    records = per_sample_metrics(x_cpu, x_adv, clean_pred, adv_pred, y_cpu, delta=delta, lengths=lengths)
    records.insert(0, "index", range(n))
    records["y_true"] = y_cpu.numpy()
    records["clean_pred"] = clean_pred.numpy()
    records["adv_pred"] = adv_pred.numpy()
    records["target"] = joined("target").numpy() if cfg.loss == "ce_targeted" else -1
    records["first_success_step"] = joined("first_success_step").numpy()
    records["final_sigma"] = joined("final_sigma").double().numpy() if cfg.adaptive_sigma else float("nan")
    for extra in outputs[0]["extra"]:  # columns of an extension (e.g. aslo.attacks.sparse)
        records[extra] = torch.cat([o["extra"][extra] for o in outputs]).double().numpy()
    summary = summarize(records, duration, distance)
    summary["attack"] = cfg.name
    trace_df = _trace_frame([o["trace"] for o in outputs], cfg.steps) if trace else None
    return AttackResult(x_adv=x_adv, delta=delta, records=records, summary=summary, trace=trace_df, config=cfg)


def _to_cpu(value):
    """Tensors (also inside dicts) to CPU; None stays None."""
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    return value.cpu() if isinstance(value, torch.Tensor) else value
