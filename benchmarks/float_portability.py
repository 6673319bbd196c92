"""Which float settings change results on this machine, and by how much.

Each variation runs in a fresh process (torch reads these settings at start-up): the four
classifiers, seeded, on 16 GunPoint-shaped series (1 x 150): the logits of one forward pass and
the weights after 5 Adam steps. Every variation is compared with the first (this machine's
defaults: all threads, the CPU's best instruction set): bit-identical or not, and the largest
absolute difference. A second comparison repeats the default in a new process (same settings:
must be identical). Writes ``benchmarks/results/float_portability.md``.

    python benchmarks/float_portability.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

#: The AVX2 cap is ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY and MKL_ENABLE_INSTRUCTIONS together.
VARIANTS = {
    "defaults": {},
    "defaults, again": {},
    "1 thread": {"OMP_NUM_THREADS": "1"},
    "AVX2 cap": {
        "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "1 thread + AVX2 cap": {"OMP_NUM_THREADS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                            "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}

WORKER = r"""
import sys, torch
from safetensors.torch import save_file
from aslo.models import MODEL_NAMES, build_model
out = {}
gen = torch.Generator().manual_seed(0)
x = torch.randn(16, 1, 150, generator=gen)
y = torch.randint(0, 2, (16,), generator=gen)
for name in MODEL_NAMES:
    torch.manual_seed(0)
    model = build_model(name, 1, 2, 150)
    model.eval()
    with torch.no_grad():
        out[f"{name}.logits"] = model(x).contiguous()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            out[f"{name}.weights.{k}"] = v.detach().contiguous()
out["_threads"] = torch.tensor([torch.get_num_threads()])
save_file(out, sys.argv[1])
print(torch.backends.cpu.get_cpu_capability())
"""


def main() -> None:
    """Run every variation and write the Markdown table."""
    import torch
    from safetensors.torch import load_file

    with tempfile.TemporaryDirectory() as tmp:
        results, capability = {}, {}
        for i, (name, extra) in enumerate(VARIANTS.items()):
            path = Path(tmp) / f"{i}.safetensors"
            done = subprocess.run([sys.executable, "-c", WORKER, str(path)], env={**os.environ, **extra},
                                  capture_output=True, text=True, check=True)
            capability[name] = done.stdout.strip()
            results[name] = load_file(path)
            print(f"{name}: done", file=sys.stderr, flush=True)
    base = results["defaults"]
    rows = []
    for name, res in results.items():
        if name == "defaults":
            continue
        for model in ("inception", "resnet18", "macnn", "lstmfcn"):
            for part in ("logits", "weights"):
                keys = [k for k in base if k.startswith(f"{model}.{part}")]
                diff = max(float((res[k].double() - base[k].double()).abs().max()) for k in keys)
                same = all(torch.equal(res[k], base[k]) for k in keys)
                rows.append((name, int(res["_threads"][0]), capability[name], model, part, same, diff))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = ["# Float results under other settings, on one machine", "",
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
             f"code at {commit}; `python benchmarks/float_portability.py`. Reference: this machine's defaults "
             f"({int(base['_threads'][0])} threads, CPU capability {capability['defaults']}). Logits: one forward "
             "pass of a seeded model on 16 series of 150 steps; weights: after 5 Adam steps.", "",
             "| variation | threads | CPU capability | model | compared | bit-identical | max abs difference |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {t} | {c} | {m} | {p} | {'yes' if s else 'no'} | {d:.2g} |" for n, t, c, m, p, s, d in rows]
    out = Path("benchmarks/results/float_portability.md")
    out.write_text("\n".join(lines) + "\n")
    # the table the book's Reproduce chapter includes
    import pandas as pd

    # (compact: one row per setting and model, "identical" or the largest absolute difference)
    frame = pd.DataFrame(rows, columns=["setting", "threads", "capability", "model", "part", "same", "diff"])
    frame["value"] = [("identical" if same else f"{diff:.1g}") for same, diff in zip(frame["same"], frame["diff"])]
    wide = frame.pivot_table(index=["setting", "model"], columns="part", values="value", aggfunc="first", sort=False)
    wide.reset_index().rename(columns={"logits": "forward logits", "weights": "weights after 5 Adam steps"})[
        ["setting", "model", "forward logits", "weights after 5 Adam steps"]].to_csv(out.with_suffix(".csv"), index=False)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
