"""Bad input, one table: each case fails with a clear error naming the problem, before any work,
and leaves nothing behind. CLI cases: ``aslo.cli.main`` returns 2 with ``aslo CMD: error: ...``
on stderr and no traceback. API cases: the named exception with the message pattern.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from aslo.attacks import run_attack
from aslo.cli import main
from aslo.data import MalformedDatasetError, load_ucr
from aslo.experiments import load_profile, run_grid
from aslo.models import build_model
from aslo.report.outputs import write_report
from aslo.training import TrainConfig, default_train_config, get_trained_model
from helpers.data import write_dataset

GOOD = [[1, 0.1, 0.2, 0.3], [2, 0.3, 0.2, 0.1]]
ARCHIVE = {  # name: (train rows, test rows)
    "Ragged": (GOOD, [[1, 0.5, 0.4], [2, 0.1, 0.4, 0.2]]),
    "NonNumeric": (GOOD, [[1, 0.5, 0.4, 0.3], [2, 0.1, "abc", 0.2]]),
    "EmptyTest": (GOOD, []),
    "OneClass": ([[1, 0.1, 0.2, 0.3], [1, 0.3, 0.2, 0.1]], [[1, 0.5, 0.4, 0.3]]),
    "InfValue": ([[1, 0.1, "inf", 0.3], [2, 0.3, 0.2, 0.1]], GOOD),
    "NaNLabel": ([["nan", 0.1, 0.2, 0.3], [2, 0.3, 0.2, 0.1]], GOOD),
}
PROFILES = {  # file name: TOML text (a valid smoke-like profile with one thing wrong)
    "steps.toml": '[attack]\nsteps = -5\n',
    "eta_d.toml": '[attack.AS_CW]\neta_d = 1.0\n',
    "eta_i.toml": '[attack.AS_GM_PGD]\neta_i = 0.9\n',
    "sigma.toml": '[attack.AS_CW]\nsigma0 = 0.0\n',
    "lr.toml": '[training]\nlr = 0.0\n',
    "epochs.toml": '[training]\nepochs = 0\n',
    "nan.toml": '[attack]\neps = nan\n',
}
BASE_PROFILE = 'name = "{name}"\ndatasets = ["ItalyPowerDemand"]\nmodels = ["lstmfcn"]\n'
IPD = ["--dataset", "ItalyPowerDemand", "--model", "lstmfcn"]

# id: (argv with {t} = the test's folder, pattern expected on stderr)
CLI_CASES = {
    "unknown profile": (["run", "--profile", "nosuch"], r"unknown profile 'nosuch'"),
    "profile file missing": (["run", "--profile", "{t}/missing.toml"], r"profile file not found: .*missing\.toml"),
    "unknown model (run)": (["run", "--profile", "smoke", "--models", "vgg"], r"unknown model 'vgg'"),
    "unknown model (attack)": (["attack", "--dataset", "ItalyPowerDemand", "--model", "vgg"],
                               r"--model: invalid choice: 'vgg'"),
    "unknown dataset": (["run", "--profile", "smoke", "--datasets", "NoSuchSet"],
                        r"unknown dataset 'NoSuchSet': not one of the 128 UCR 2018 datasets"),
    "path traversal dataset": (["run", "--profile", "smoke", "--datasets", "../etc"],
                               r"invalid dataset name '\.\./etc'"),
    "slash in dataset": (["attack", "--dataset", "a/b", "--model", "lstmfcn"], r"invalid dataset name 'a/b'"),
    "traversal in profile name": (["run", "--profile", "{t}/evil.toml"], r"key 'name': use letters, digits"),
    "unknown attack": (["attack", *IPD, "--attack", "FOO"], r"unknown attack 'FOO'"),
    "negative steps": (["attack", *IPD, "--steps", "-1"], r"steps must be a non-negative integer, got -1"),
    "negative eps": (["attack", *IPD, "--eps", "-0.1"], r"eps must be >= 0, got -0.1"),
    "zero samples": (["attack", *IPD, "--samples", "0"], r"--samples must be >= 1, got 0"),
    "steps < 0 in profile": (["run", "--profile", "{t}/steps.toml"], r"key 'attack': rejected by the attack layer: steps must be"),
    "eta_d >= 1 in profile": (["run", "--profile", "{t}/eta_d.toml"], r"eta_d must be in \(0, 1\)"),
    "eta_i <= 1 in profile": (["run", "--profile", "{t}/eta_i.toml"], r"eta_i must be > 1"),
    "sigma0 <= 0 in profile": (["run", "--profile", "{t}/sigma.toml"], r"sigma0 must be > 0"),
    "eps NaN in profile": (["run", "--profile", "{t}/nan.toml"], r"eps must be"),
    "lr <= 0 in profile": (["run", "--profile", "{t}/lr.toml"], r"key 'training': .*lr must be a positive finite number"),
    "epochs <= 0 in profile": (["run", "--profile", "{t}/epochs.toml"], r"epochs must be a positive integer, got 0"),
    "epochs <= 0": (["train", *IPD, "--epochs", "0"], r"epochs must be a positive integer, got 0"),
    "negative max-seconds": (["train", *IPD, "--max-seconds", "-1"], r"--max-seconds must be >= 0"),
    "zero workers": (["run", "--profile", "smoke", "--workers", "0"], r"--workers: must be >= 1"),
    "ragged TSV": (["train", "--dataset", "Ragged", "--model", "lstmfcn"],
                   r"Ragged_TEST\.tsv: ragged rows: row 2 has 4 columns"),
    "non-numeric TSV": (["data", "show", "NonNumeric", "--root", "{t}/archive"],
                        r"NonNumeric_TEST\.tsv: non-numeric value 'abc' in row 2"),
    "empty TSV": (["attack", "--dataset", "EmptyTest", "--model", "lstmfcn"], r"EmptyTest_TEST\.tsv: file is empty"),
    "one class": (["train", "--dataset", "OneClass", "--model", "lstmfcn"], r"only one class"),
    "infinite value in TSV": (["train", "--dataset", "InfValue", "--model", "lstmfcn"], r"InfValue_TRAIN\.tsv: infinite value"),
    "NaN label in TSV": (["train", "--dataset", "NaNLabel", "--model", "lstmfcn"], r"class label is NaN"),
    "results dir under a file": (["run", "--profile", "smoke", "--models", "lstmfcn", "--results-dir", "{t}/afile/sub"],
                                 r"results folder .*afile/sub/smoke cannot be created: .*afile is a file"),
    "runs dir under a file": (["train", *IPD, "--epochs", "1", "--runs-dir", "{t}/afile/sub"],
                              r"checkpoint folder .*afile/sub/.* cannot be created"),
    "--out under a file": (["attack", *IPD, "--steps", "1", "--out", "{t}/afile/sub/r.csv"],
                           r"--out folder .*afile/sub cannot be created"),
    "report without results": (["report", "--profile", "smoke", "--results-dir", "{t}/results"], r"no stored results for profile 'smoke'"),
    "book unknown profile": (["book", "--profile", "nosuch", "--no-execute", "--root", "{t}"], r"unknown profile 'nosuch'"),
}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder holding a malformed archive, bad profiles and a regular file ``afile``."""
    for name, (train, test) in ARCHIVE.items():
        write_dataset(tmp_path / "archive", name, train, test)
    for file, body in PROFILES.items():
        (tmp_path / file).write_text(BASE_PROFILE.format(name=Path(file).stem) + body)
    (tmp_path / "evil.toml").write_text(BASE_PROFILE.format(name="../evil"))
    (tmp_path / "afile").write_text("a regular file, not a folder\n")
    monkeypatch.setenv("ASLO_DATA_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("ASLO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("ASLO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)  # default runs/ and results/ would land here
    return tmp_path


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size if p.is_file() else -1 for p in root.rglob("*")}


def _cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse rejects the argument itself
        return exc.code


@pytest.mark.parametrize("argv, pattern", CLI_CASES.values(), ids=CLI_CASES.keys())
def test_cli_bad_input_exits_2_with_clear_message(workdir, capsys, argv, pattern):
    before = _snapshot(workdir)
    code = _cli([a.replace("{t}", str(workdir)) for a in argv] + (["--no-progress"] if argv[0] in ("attack", "train") else []))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert re.search(rf"^aslo {argv[0]}: error: ", err, re.M), err
    assert re.search(pattern, err), err
    assert _snapshot(workdir) == before, "the failed command left files behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; see 'results dir under a file'")
def test_cli_read_only_results_dir(workdir, capsys):
    ro = workdir / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code = _cli(["run", "--profile", "smoke", "--models", "lstmfcn", "--results-dir", str(ro / "res")])
        assert code == 2 and "is not writable" in capsys.readouterr().err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@pytest.fixture(scope="module")
def model():
    """An untrained LSTM-FCN for ItalyPowerDemand-shaped input (1 channel, length 24)."""
    torch.manual_seed(0)
    return build_model("lstmfcn", 1, 2, 24).eval()


def _x(*, nan_at=None, inf_at=None, n=4, length=24):
    x = torch.randn(n, 1, length, generator=torch.Generator().manual_seed(0))
    if nan_at is not None:
        x[nan_at, 0, 3] = float("nan")
    if inf_at is not None:
        x[inf_at, 0, 5] = float("-inf")
    return x


Y = torch.tensor([0, 1, 0, 1])
QUICK = dict(steps=2, progress=False)

# id: (call(model, folder), exception type, pattern)
API_CASES = {
    "NaN in x": (lambda m, t: run_attack(m, _x(nan_at=1), Y, **QUICK), ValueError, r"x contains NaN or inf \(first in sample 1\)"),
    "inf in x": (lambda m, t: run_attack(m, _x(inf_at=2), Y, **QUICK), ValueError, r"x contains NaN or inf \(first in sample 2\)"),
    "empty x": (lambda m, t: run_attack(m, _x()[:0], Y[:0], **QUICK), ValueError, r"x must be non-empty"),
    "2-D x": (lambda m, t: run_attack(m, _x()[:, 0], Y, **QUICK), ValueError, r"x must have shape \(N, C, L\), got \(4, 24\)"),
    "y length": (lambda m, t: run_attack(m, _x(), Y[:3], **QUICK), ValueError, r"y has 3 labels but x has 4 samples"),
    "wrong length": (lambda m, t: run_attack(m, _x(length=30), Y, **QUICK), ValueError, r"model rejects input of shape \(N, 1, 30\)"),
    "eta_d >= 1": (lambda m, t: run_attack(m, _x(), Y, "AS_CW", eta_d=1.0, **QUICK), ValueError, r"eta_d must be in \(0, 1\)"),
    "eta_i <= 1": (lambda m, t: run_attack(m, _x(), Y, "AS_CW", eta_i=1.0, **QUICK), ValueError, r"eta_i must be > 1"),
    "sigma0 <= 0": (lambda m, t: run_attack(m, _x(), Y, "AS_CW", sigma0=-1.0, **QUICK), ValueError, r"sigma0 must be > 0"),
    "negative eps": (lambda m, t: run_attack(m, _x(), Y, "CW", eps=-0.1, **QUICK), ValueError, r"eps must be >= 0"),
    "negative steps": (lambda m, t: run_attack(m, _x(), Y, "CW", steps=-3, progress=False), ValueError, r"steps must be a non-negative integer"),
    "unknown attack": (lambda m, t: run_attack(m, _x(), Y, "FGSM", **QUICK), ValueError, r"unknown attack 'FGSM'"),
    "unknown setting": (lambda m, t: run_attack(m, _x(), Y, "CW", sigma=1.0, **QUICK), ValueError, r"unknown attack setting 'sigma'"),
    "batch_size 0": (lambda m, t: run_attack(m, _x(), Y, batch_size=0, **QUICK), ValueError, r"batch_size must be a positive integer"),
    "epochs <= 0": (lambda m, t: TrainConfig(epochs=0), ValueError, r"epochs must be a positive integer, got 0"),
    "lr <= 0": (lambda m, t: default_train_config("lstmfcn").replace(lr=-1e-3), ValueError, r"lr must be a positive finite number"),
    "unknown model": (lambda m, t: build_model("vgg", 1, 2, 24), ValueError, r"unknown model 'vgg'"),
    "traversal dataset": (lambda m, t: load_ucr("../etc"), ValueError, r"invalid dataset name '\.\./etc'"),
    "ragged TSV": (lambda m, t: load_ucr("Ragged", t / "archive"), MalformedDatasetError, r"Ragged_TEST\.tsv: ragged rows"),
    "one-class TSV": (lambda m, t: load_ucr("OneClass", t / "archive"), MalformedDatasetError, r"only one class"),
    "unknown profile": (lambda m, t: load_profile("nosuch"), ValueError, r"unknown profile 'nosuch'"),
    "grid part 3": (lambda m, t: run_grid("smoke", part=3, results_dir=t / "results", progress=False), ValueError, r"part must be 1, 2 or None"),
    "grid results under a file": (lambda m, t: run_grid("smoke", models=["lstmfcn"], results_dir=t / "afile" / "r", progress=False),
                                  ValueError, r"results folder .* cannot be created"),
    "checkpoint under a file": (lambda m, t: get_trained_model(load_ucr("ItalyPowerDemand"), "lstmfcn", runs_dir=t / "afile" / "r", progress=False),
                                ValueError, r"checkpoint folder .* cannot be created: .*afile is a file"),
    "report under a file": (lambda m, t: write_report(pd.DataFrame({"attack": ["AS_CW"]}), t / "afile" / "rep"),
                            ValueError, r"report folder .*afile/rep cannot be created"),
}


@pytest.mark.parametrize("call, error, pattern", API_CASES.values(), ids=API_CASES.keys())
def test_api_bad_input_raises_clear_error(workdir, model, call, error, pattern):
    before = _snapshot(workdir)
    with pytest.raises(error, match=pattern):
        call(model, workdir)
    assert _snapshot(workdir) == before, "the failed call left files behind"


def test_attack_leaves_model_untouched_after_bad_input(model):
    """A rejected input must not leave the model in train mode or with frozen parameters."""
    with pytest.raises(ValueError):
        run_attack(model, _x(nan_at=0), Y, **QUICK)
    assert not model.training and all(p.requires_grad for p in model.parameters())
