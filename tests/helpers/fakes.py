"""Fast stand-ins for the data, training and attack layers (shared by the experiment tests).

Also runnable as a script: ``python tests/helpers/fakes.py PROFILE_TOML RESULTS RUNS LOG
[--gate K] [--rendezvous DIR N]`` runs a grid on the stand-ins (used by the interruption and race
tests). ``--gate K`` prints ``GATE`` after K attacks and blocks on stdin, so the test signals a
child that is provably mid-grid; ``--rendezvous DIR N`` makes each runner, at its first attack,
wait until N runners have started one, so a race between runners is certain, not likely.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from aslo.experiments.backend import Backend


def _seed_of(*parts) -> int:
    return int(hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:8], 16)


class FakeBackend(Backend):
    """Deterministic, fast stand-in; counts calls.

    ``gate_after=k``: before the (k+1)-th attack, print ``GATE`` on stdout and block reading stdin
    (an event the test waits for, instead of guessing with sleeps).
    """

    def __init__(self, metrics: str = "fake-1", log: str | None = None,
                 gate_after: int | None = None, rendezvous: tuple[str, int] | None = None):
        self.metrics, self.log, self.gate_after = metrics, log, gate_after
        self.rendezvous = rendezvous
        self.trained: list[tuple] = []
        self.attacked: list[tuple] = []

    def attack_config(self, attack, overrides):
        if "bogus" in overrides:
            raise ValueError(f"unknown attack setting 'bogus'")
        return {"attack": attack, **dict(overrides)}

    def train_config(self, model, overrides, recipe="default"):
        return {"recipe": recipe, **dict(overrides)}

    def code_version(self):
        return {"metrics": self.metrics}

    def weights_fingerprint(self, net):
        return hashlib.sha256(str(net).encode()).hexdigest()

    def load_dataset(self, name, normalize):
        rng = np.random.default_rng(_seed_of(name))
        n = 20 + len(name)
        return SimpleNamespace(name=name, x_test=rng.normal(size=(n, 1, 16)).astype(np.float32),
                               y_test=rng.integers(0, 2, size=n))

    def trained_model(self, dataset, model, overrides, *, seed, runs_dir, device, progress, recipe="default"):
        self.trained.append((dataset.name, model))
        return f"net-{model}", {"train_accuracy": 1.0, "test_accuracy": 0.5 + len(model) / 100}

    def run_attack(self, net, x, y, attack, overrides, *, seed, device, distance, batch_size, progress):
        t0 = time.perf_counter()
        if self.gate_after is not None and len(self.attacked) == self.gate_after:
            print("GATE", flush=True)
            sys.stdin.read()  # blocks until the test signals this process (or closes stdin)
        if self.rendezvous and not self.attacked:
            folder, count = Path(self.rendezvous[0]), self.rendezvous[1]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / str(os.getpid())).touch()
            while len(list(folder.iterdir())) < count:  # the event: every runner holds a cell
                time.sleep(0.01)
        self.attacked.append((net, attack, seed, tuple(np.asarray(x).reshape(len(x), -1)[:, 0].round(6))))
        if self.log:
            with open(self.log, "a") as fh:
                fh.write(f"{net} {attack} {seed} {os.getpid()}\n")
        rng = np.random.default_rng(_seed_of(net, attack, seed, dict(overrides)))
        x = np.asarray(x)
        l2 = np.abs(x.reshape(len(x), -1)).mean(axis=1) * rng.uniform(0.1, 1.0, size=len(x))
        success = rng.uniform(size=len(x)) < 0.6
        records = pd.DataFrame({"success": success, "l2": l2, "l0": rng.integers(0, 16, size=len(x))})
        summary = {"asr": float(success.mean()), "mean_success_distance": float(l2[success].mean()) if success.any() else float("nan"),
                   "overall_mean_distance": float(l2.mean()), "close_to_zero": 1.5, "n": len(x),
                   "n_success": int(success.sum()), "distance": distance,
                   "duration": time.perf_counter() - t0}
        return summary, records


SMALL_PROFILE = """
name = "tiny"
datasets = ["GunPoint", "Coffee"]
models = ["inception", "lstmfcn"]
seeds = [0]
samples = 6
sample_seed = 3
device = "cpu"
[attack]
steps = 3
lr = 0.1
"""


def write_profile(folder: Path, text: str = SMALL_PROFILE, name: str = "tiny.toml") -> Path:
    """Write a profile TOML into ``folder`` and return its path."""
    path = Path(folder) / name
    path.write_text(text)
    return path


if __name__ == "__main__":  # the interruption tests run this in a subprocess
    from aslo.experiments import run_grid

    # Whoever started us (a script's background job, a CI runner) may have left SIGINT ignored;
    # as `aslo run` does, restore Python's handler and let SIGTERM interrupt the same way.
    from aslo.cli.options import stop_cleanly_on_sigterm

    stop_cleanly_on_sigterm()
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("results")
    parser.add_argument("runs")
    parser.add_argument("log")
    parser.add_argument("--gate", type=int)
    parser.add_argument("--rendezvous", nargs=2)
    args = parser.parse_args()
    rendezvous = (args.rendezvous[0], int(args.rendezvous[1])) if args.rendezvous else None
    run_grid(args.profile, results_dir=args.results, runs_dir=args.runs, progress=False,
             backend=FakeBackend(log=args.log, gate_after=args.gate, rendezvous=rendezvous))
