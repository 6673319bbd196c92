"""Measure the attack engine's per-step overhead against a bare forward + backward.

For each of the four models (untrained; weights do not change the cost) and a batch of 64 GunPoint
test series (synthetic series of the same shape if the data layer cannot serve GunPoint), time
the median of: one bare forward + input-gradient backward of the model, and one step of
``attack_batch`` (Algorithm 1: loss, regulariser, sigma bookkeeping, Adam, box) for AS_CW and
GM_PGD_L2, timed as the gap between consecutive step callbacks of one run. The bare rounds run
before and after the attacks so that a change of machine load shows. Writes a Markdown table to
``benchmarks/results/attack_overhead.md`` (or ``--out``).

    python benchmarks/attack_overhead.py [--rounds 30] [--device cpu] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from aslo.attacks import get_attack_config
from aslo.attacks._tensor import attack_mode
from aslo.attacks.algorithm import attack_batch
from aslo.attacks.api import draw_random_state
from aslo.models import MODEL_NAMES, build_model

ATTACKS = ("AS_CW", "GM_PGD_L2")
# "linear" (a single Linear layer) is a near-free model: its row isolates the engine's own cost.
BUDGET = 0.15  # the engine's allowed overhead over a bare forward + backward


def load_batch(batch: int):
    """64 GunPoint test series and the class count, or synthetic ones of the same shape."""
    try:
        from aslo.data import load_ucr
        data = load_ucr("GunPoint", download=False)
        x = torch.as_tensor(data.x_test[:batch])
        return x, data.n_classes, f"GunPoint ({data.source})"
    except Exception as exc:  # any failure of the data layer: fall back, and say so
        gen = torch.Generator().manual_seed(0)
        return torch.randn(batch, 1, 150, generator=gen), 2, f"synthetic (GunPoint unavailable: {exc})"


def _timed(fn, device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_times(model, x, n_classes, device, name: str, steps: int) -> list[float]:
    """Seconds of each step of one ``attack_batch`` run of attack ``name``."""
    cfg = get_attack_config(name, steps=steps, seed=0)
    delta0, offsets = draw_random_state(len(x), tuple(x.shape[1:]), n_classes, cfg)
    with torch.no_grad():
        clean = model(x).argmax(dim=1)
    stamps = []

    def stamp():
        _sync(device)
        stamps.append(time.perf_counter())

    stamp()
    attack_batch(model, x, clean, (clean + offsets.to(device)) % n_classes, delta0.to(device), on_step=stamp,
                 **cfg.keywords())
    return [b - a for a, b in zip(stamps, stamps[1:])]


def measure(model, x, n_classes, device, rounds: int, warmup: int = 3) -> dict:
    """Median seconds of a bare forward+backward and of one attack step per attack."""
    x = x.to(device)
    probe = x.clone().requires_grad_(True)

    def bare():
        out = model(probe)
        torch.autograd.grad(out.sum(), probe)

    half = (rounds + 1) // 2
    times = {"bare": [_timed(bare, device) for _ in range(warmup + half)][warmup:]}
    for name in ATTACKS:
        times[name] = step_times(model, x, n_classes, device, name, rounds + warmup)[warmup:]
    times["bare"] += [_timed(bare, device) for _ in range(rounds - half)]
    return {key: statistics.median(values) for key, values in times.items()}


def main(argv=None) -> int:
    """Run the benchmark and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "attack_overhead.md"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1 or args.threads < 1:
        parser.error("--rounds, --batch and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x, n_classes, source = load_batch(args.batch)

    rows, worst = [], 0.0
    for name in (*MODEL_NAMES, "linear"):
        torch.manual_seed(0)
        model = (build_model(name, x.shape[1], n_classes, x.shape[2]) if name != "linear" else
                 torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(x.shape[1] * x.shape[2], n_classes)))
        with attack_mode(model, device):
            med = measure(model, x, n_classes, device, args.rounds)
        cells = [name, f"{med['bare'] * 1e3:.2f}"]
        for attack in ATTACKS:
            overhead = med[attack] / med["bare"] - 1
            if name != "linear":
                worst = max(worst, overhead)
            cells += [f"{med[attack] * 1e3:.2f}", f"{overhead:+.1%}"]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)

    hw = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} threads"
    header = ["model", "bare fwd+bwd (ms)"] + [f"{a} {h}" for a in ATTACKS for h in ("step (ms)", "overhead")]
    lines = [
        "# Attack engine overhead per step",
        "",
        f"Median of {args.rounds} rounds (after 3 warm-up rounds); batch {len(x)} x "
        f"{x.shape[1]} x {x.shape[2]}, data: {source}; device: {hw}; torch {torch.__version__}.",
        "Bare = one forward and one input-gradient backward of the same model and batch (parameters "
        "frozen, eval mode). Overhead = step / bare - 1; budget "
        f"{BUDGET:.0%}. Worst overhead over the four models: {worst:+.1%} "
        f"({'within' if worst < BUDGET else 'OVER'} budget).",
        "The last row, a single linear layer whose forward and backward cost next to nothing, shows "
        "the engine's own absolute cost per step (step - bare), independent of the model.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *rows,
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"worst overhead {worst:+.1%}; table written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
