"""Variable-length series: observed lengths from the data layer to the attacks, peers and metrics.

The real set is GesturePebbleZ1 (lengths 100 to 455). The copy in ``tests/fixtures/ucr`` is the
archive's "adjusted" version, whose short series are padded with noise below 1e-3; the fixture
turns that trailing noise back into NaN, which is how the raw archive stores the padding, and loads
the result through ``load_ucr`` like any raw archive folder.
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import aslo.data
import aslo.training
from aslo.attacks import ATTACKS, resolve_attack_name, run_attack
from aslo.attacks.algorithm import attack_batch
from aslo.cli import main
from aslo.data import UCRDataset, load_ucr
from aslo.metrics import METRIC_COLUMNS, per_sample_metrics
from aslo.observed import observed_mask
from aslo.peers import PEERS, peer_status
from aslo.peers.runners import ObservedOnly
from helpers.data import UCR_FIXTURES
from helpers.models import BATCH_EXACT_LENGTH, PerSeries

PEBBLE = "GesturePebbleZ1"
NOISE = 1e-3  # the adjusted copy pads with values in [0, 1e-3)
#: Every registered attack once (aliases resolve to one of these).
REGISTERED = [name for name in ATTACKS if resolve_attack_name(name) == name]


def raw_rows(path):
    """The rows of an adjusted archive file with the trailing noise written as NaN; and the lengths."""
    table = np.loadtxt(path, delimiter="\t")
    values = table[:, 1:]
    tiny = np.abs(values) < NOISE
    lengths = values.shape[1] - np.argmax(~tiny[:, ::-1], axis=1)
    rows = []
    for label, row, n in zip(table[:, 0], values, lengths):
        rows.append("\t".join([f"{label:g}", *(repr(float(v)) for v in row[:n]), *["NaN"] * (len(row) - n)]))
    return rows, lengths.astype(np.int64)


@pytest.fixture(scope="module")
def pebble(tmp_path_factory):
    """(dataset loaded from the NaN-padded files, the lengths written into them, per split)."""
    root = tmp_path_factory.mktemp("raw")
    (root / PEBBLE).mkdir()
    written = {}
    for split in ("TRAIN", "TEST"):
        rows, written[split] = raw_rows(UCR_FIXTURES / PEBBLE / f"{PEBBLE}_{split}.tsv")
        (root / PEBBLE / f"{PEBBLE}_{split}.tsv").write_text("\n".join(rows) + "\n")
    return load_ucr(PEBBLE, root=root, download=False), written


def tiny_model(n_classes, seed=0, *, pool="avg"):
    """A random 1-D CNN in eval mode. ``pool="avg"`` averages over 8 windows of time, so every
    step, padding too, has a gradient (an attack that forgets the mask perturbs it); ``"max"``
    takes the maximum over time, so single steps decide (sparse attacks succeed quickly, and
    float32 sums vary less with the batch size)."""
    torch.manual_seed(seed)
    head = ([torch.nn.AdaptiveAvgPool1d(8), torch.nn.Flatten(), torch.nn.Linear(64, n_classes)] if pool == "avg"
            else [torch.nn.AdaptiveMaxPool1d(1), torch.nn.Flatten(), torch.nn.Linear(8, n_classes)])
    return torch.nn.Sequential(torch.nn.Conv1d(1, 8, 9, padding=4), torch.nn.ReLU(),
                               torch.nn.Conv1d(8, 8, 9, padding=4), *head).eval()


def pick(ds, k=6):
    """The k shortest test series (the most padding) as tensors, with their lengths."""
    idx = np.argsort(ds.lengths_test, kind="stable")[:k]
    return torch.from_numpy(ds.x_test[idx]), torch.from_numpy(ds.y_test[idx]), ds.lengths_test[idx]


def padding_of(lengths, length):
    return ~observed_mask(lengths, length)


# ------------------------------------------------------------------ data layer
def test_lengths_survive_the_loader(pebble):
    ds, written = pebble
    assert ds.length == 455 and ds.variable_length
    np.testing.assert_array_equal(ds.lengths_train, written["TRAIN"])
    np.testing.assert_array_equal(ds.lengths_test, written["TEST"])
    assert ds.lengths_test.dtype == np.int64 and ds.lengths_test.max() < ds.length  # every test series padded
    mask = observed_mask(ds.lengths_test, ds.length).numpy()
    assert (ds.x_test[~np.broadcast_to(mask, ds.x_test.shape)] == 0).all()  # zero padding after z-norm
    for x, lengths in ((ds.x_train, ds.lengths_train), (ds.x_test, ds.lengths_test)):
        i = int(np.argmin(lengths))
        assert x[i, 0, lengths[i] - 1] != 0  # the last observed step is data, not padding


def test_fixed_length_datasets_observe_every_step():
    x = np.zeros((3, 1, 7), dtype=np.float32)
    y = np.array([0, 1, 0])
    ds = UCRDataset("X", x, y, x[:2], y[:2], np.array([0, 1]), "test")
    assert ds.lengths_train.tolist() == [7, 7, 7] and ds.lengths_test.tolist() == [7, 7]
    assert not ds.variable_length
    with pytest.raises(ValueError, match="lengths_test must lie in 1..7"):
        UCRDataset("X", x, y, x[:2], y[:2], np.array([0, 1]), "test", lengths_test=np.array([3, 8]))
    with pytest.raises(ValueError, match=r"lengths_train must be int64 of shape \(3,\)"):
        UCRDataset("X", x, y, x[:2], y[:2], np.array([0, 1]), "test", lengths_train=np.array([3, 4]))


def test_observed_mask_shape_and_bad_lengths():
    mask = observed_mask([2, 4, 1], 4)
    assert mask.dtype == torch.bool and mask.shape == (3, 1, 4)
    assert mask[:, 0].int().tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]
    assert torch.equal(observed_mask(np.array([2.0, 4.0, 1.0]), 4), mask)
    for bad, fragment in (([0, 2], "lengths must lie in 1..4"), ([2, 5], "series 1 has 5"),
                          ([[2, 3]], r"shape \(N,\)"), ([2.5, 3], "whole numbers"),
                          ([True, False], "integers"), (["a", "b"], "integers")):
        with pytest.raises(ValueError, match=fragment):
            observed_mask(bad, 4)
    with pytest.raises(ValueError, match="lengths has 2 entries but x has 3 series"):
        observed_mask([2, 3], 4, n=3)


# ------------------------------------------------------------------ attacks
@pytest.mark.parametrize("attack", REGISTERED)
def test_every_attack_leaves_the_padding_untouched(pebble, attack):
    ds, _ = pebble
    x, y, lengths = pick(ds)
    model = tiny_model(ds.n_classes)
    kw = dict(steps=15, lr=0.05, seed=1, progress=False)
    res = run_attack(model, x, y, attack, lengths=lengths, **kw)
    pad = padding_of(lengths, ds.length).expand_as(res.delta)
    assert (res.delta[pad] == 0).all() and torch.equal(res.x_adv[pad], x[pad])
    rec = res.records
    assert rec["observed_length"].tolist() == lengths.tolist()
    assert (rec["l0"] <= rec["observed_length"]).all()
    assert (rec["l0"] + rec["close_to_zero"] <= rec["observed_length"]).all()
    assert rec["l0"].tolist() == (res.delta != 0).flatten(1).sum(1).tolist()  # no component below 1e-6 here
    with torch.no_grad():
        assert (model(res.x_adv).argmax(1).numpy() != rec["clean_pred"].to_numpy()).tolist() == rec["success"].tolist()


def test_without_lengths_the_padding_is_perturbed_and_counted(pebble):
    """The reported defect, so the test above can fail: L0 = full length on short series."""
    ds, _ = pebble
    x, y, lengths = pick(ds)
    res = run_attack(tiny_model(ds.n_classes), x, y, "AS_CW", steps=5, lr=0.05, progress=False)
    assert (res.records["l0"] == ds.length).all() and (res.records["observed_length"] == ds.length).all()
    assert (res.records["l0"] > lengths).all()


def test_sparse_attack_succeeds_within_the_observed_steps(pebble):
    ds, _ = pebble
    x, y, lengths = pick(ds)
    res = run_attack(tiny_model(ds.n_classes, pool="max"), x, y, "AS_CW_SPARSE", lengths=lengths, steps=30,
                     lr=1 / 30, progress=False)
    rec = res.records
    assert rec["success"].all()  # a random model: every series is fooled, so pruning ran on each
    assert (rec["best_l0"] <= rec["observed_length"]).all() and (rec["best_l0"] >= 1).all()
    assert (res.delta[padding_of(lengths, ds.length).expand_as(res.delta)] == 0).all()


@pytest.mark.parametrize("attack", ["AS_CW", "AS_CW_SPARSE"])
def test_batch_invariance_and_memory_halving_with_lengths(pebble, attack):
    from test_attack_oom import ERRORS, MemoryLimited

    ds, _ = pebble
    x, y, lengths = pick(ds, k=7)
    # The model runs one series at a time and the padded width is cut to a multiple of
    # BATCH_EXACT_LENGTH (these series are at most 120 steps long): the arithmetic is then the
    # same for every batch on any CPU, so the results are compared bit for bit.
    width = ds.length // BATCH_EXACT_LENGTH * BATCH_EXACT_LENGTH
    assert lengths.max() <= width
    x = x[..., :width].contiguous()
    model = PerSeries(tiny_model(ds.n_classes, pool="max"))
    kw = dict(steps=12, lr=0.05, seed=2, progress=False, lengths=lengths)
    whole = run_attack(model, x, y, attack, **kw)
    chunked = run_attack(model, x, y, attack, batch_size=3, **kw)
    assert torch.equal(chunked.delta, whole.delta)
    assert chunked.records["observed_length"].tolist() == lengths.tolist()
    limited = MemoryLimited(model, limit=2, error=ERRORS["RuntimeError"])
    halved = run_attack(limited, x, y, attack, **kw)
    assert 7 in limited.sizes and max(s for s in limited.sizes if s <= 2) == 2
    assert torch.equal(halved.delta, whole.delta)
    assert halved.records["observed_length"].tolist() == lengths.tolist()
    assert (halved.delta[padding_of(lengths, width).expand_as(halved.delta)] == 0).all()
    # a sample's result depends only on its own series and length, not on the others'
    others = np.r_[0:3, 4:7]
    x2, lengths2 = x.clone(), lengths.copy()
    longer = np.argsort(ds.lengths_test, kind="stable")[-60:-54]  # other series, all within the width
    assert ds.lengths_test[longer].max() <= width
    x2[others], lengths2[others] = torch.from_numpy(ds.x_test[longer][..., :width]), ds.lengths_test[longer]
    assert (lengths2 != lengths)[others].any()
    other = run_attack(model, x2, y, attack, **{**kw, "lengths": lengths2})
    assert torch.equal(other.delta[3], whole.delta[3])


@pytest.mark.parametrize("attack", ["AS_CW", "CW", "AS_CW_SPARSE", "AS_GM_PGD"])
def test_fixed_length_results_are_unchanged_by_full_lengths(attack):
    x = torch.randn(7, 1, 24, generator=torch.Generator().manual_seed(2))
    y = torch.zeros(7, dtype=torch.int64)
    kw = dict(steps=10, lr=0.05, seed=3, progress=False)
    before = run_attack(tiny_model(3), x, y, attack, **kw)
    full = run_attack(tiny_model(3), x, y, attack, lengths=np.full(7, 24), **kw)
    assert torch.equal(before.delta, full.delta)
    pd.testing.assert_frame_equal(before.records, full.records)
    assert before.summary == {**full.summary, "duration": before.summary["duration"]}
    assert (before.records["observed_length"] == 24).all()


def test_attack_rejects_lengths_that_do_not_fit_before_any_work():
    x = torch.randn(3, 1, 10)
    model = tiny_model(2)
    for lengths, fragment in (([4, 5], "lengths has 2 entries but x has 3"), ([4, 5, 11], "lengths must lie in 1..10"),
                              ([0, 5, 5], "series 0 has 0"), (np.ones((3, 1)), r"shape \(N,\)")):
        with pytest.raises(ValueError, match=fragment):
            run_attack(model, x, [0, 0, 0], "AS_CW", steps=2, progress=False, lengths=lengths)
    clean = torch.zeros(3, dtype=torch.int64)
    for mask in (torch.ones(3, 1, 9, dtype=torch.bool), torch.ones(3, 1, 10), torch.ones(2, 1, 10, dtype=torch.bool)):
        with pytest.raises(ValueError, match=r"observed must be a bool mask of shape \(3, 1, 10\)"):
            attack_batch(model, x, clean, clean, torch.zeros_like(x), steps=1, observed=mask)


# ------------------------------------------------------------------ metrics
def test_metrics_count_observed_steps_only():
    x = torch.zeros(2, 1, 5)
    delta = torch.tensor([[[0.5, 0.0, 3.0, 4.0, 1e-7]],      # observed: 3 steps
                          [[2.0, 0.0, 0.0, 0.0, 0.0]]])     # observed: 5 steps
    rec = per_sample_metrics(x, x + delta, [0, 0], [1, 0], [0, 0], delta=delta, lengths=[3, 5])
    assert tuple(rec.columns) == METRIC_COLUMNS
    assert rec["observed_length"].tolist() == [3, 5]
    assert rec["l0"].tolist() == [2, 1] and rec["close_to_zero"].tolist() == [1, 4]
    np.testing.assert_allclose(rec["l2_squared"], [9.25, 4.0])
    np.testing.assert_allclose(rec["linf"], [3.0, 2.0])
    plain = per_sample_metrics(x, x + delta, [0, 0], [1, 0], [0, 0], delta=delta)
    assert plain["l0"].tolist() == [3, 1] and plain["observed_length"].tolist() == [5, 5]
    full = per_sample_metrics(x, x + delta, [0, 0], [1, 0], [0, 0], delta=delta, lengths=[5, 5])
    pd.testing.assert_frame_equal(plain, full)
    with pytest.raises(ValueError, match="lengths must lie in 1..5"):
        per_sample_metrics(x, x + delta, [0, 0], [1, 0], [0, 0], delta=delta, lengths=[3, 6])
    with pytest.raises(ValueError, match=r"lengths need x of shape \(N, C, L\)"):
        per_sample_metrics(x[:, 0], (x + delta)[:, 0], [0, 0], [1, 0], [0, 0], lengths=[3, 5])


# ------------------------------------------------------------------ peers
def test_observed_only_model_ignores_the_padding():
    model = tiny_model(3)
    x = torch.randn(4, 1, 12)
    lengths = np.array([3, 12, 7, 1])
    mask = observed_mask(lengths, 12)
    wrapped = ObservedOnly(model, x, mask)
    noise = torch.randn_like(x).masked_fill(mask, 0.0)  # padding only
    u = (x + noise).requires_grad_(True)
    out = wrapped(u)
    assert torch.equal(out, model(x))
    (grad,) = torch.autograd.grad(out.sum(), u)
    assert (grad[~mask.expand_as(grad)] == 0).all() and (grad[mask.expand_as(grad)] != 0).any()
    with pytest.raises(RuntimeError, match="built for a batch of shape"):
        wrapped(x[:2])


@pytest.mark.parametrize("name", list(PEERS))
def test_peers_leave_the_padding_untouched(pebble, name):
    if peer_status()[name]:
        pytest.skip(peer_status()[name])
    from aslo.peers import run_peer

    ds, _ = pebble
    x, y, lengths = pick(ds, k=4)
    res = run_peer(tiny_model(ds.n_classes), x, y, name, steps=10, eps=1.0, lengths=lengths)
    assert (res.delta[padding_of(lengths, ds.length).expand_as(res.delta)] == 0).all()
    rec = res.records
    assert rec["observed_length"].tolist() == lengths.tolist() and (rec["l0"] <= rec["observed_length"]).all()
    assert rec["l0"].tolist() == (res.delta.abs() > 1e-6).flatten(1).sum(1).tolist()


# ------------------------------------------------------------------ callers
def test_attack_cli_passes_the_lengths(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 20)).astype(np.float32)
    lengths = np.array([5, 20, 12, 1], dtype=np.int64)
    x[~np.broadcast_to(observed_mask(lengths, 20).numpy(), x.shape)] = 0
    data = SimpleNamespace(name="Fake", x_test=x, y_test=np.array([0, 1, 0, 1]), lengths_test=lengths)
    monkeypatch.setattr(aslo.data, "load_ucr", lambda name, *a, **k: data)
    monkeypatch.setattr(aslo.training, "get_trained_model", lambda *a, **k: (tiny_model(2), {}))
    out = tmp_path / "rec.csv"
    assert main(["attack", "--dataset", "Fake", "--model", "inception", "--samples", "3", "--steps", "4",
                 "--lr", "0.05", "--out", str(out), "--runs-dir", str(tmp_path), "--device", "cpu",
                 "--no-progress"]) == 0
    rec = pd.read_csv(out)
    assert rec["observed_length"].tolist() == [5, 20, 12]
    assert (rec["l0"] <= rec["observed_length"]).all() and rec["l0"].iloc[0] <= 5


def test_grid_runner_passes_the_selected_series_lengths(tmp_path):
    from aslo.experiments import run_grid
    from aslo.experiments.backend import Backend
    from aslo.experiments.examples import decode_examples
    from aslo.experiments.store import ResultStore
    from helpers.fakes import write_profile

    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 1, 16)).astype(np.float32)
    lengths = rng.integers(2, 17, size=10).astype(np.int64)
    x[~np.broadcast_to(observed_mask(lengths, 16).numpy(), x.shape)] = 0
    y = np.arange(10, dtype=np.int64) % 2
    # a small constructed stand-in under a variable-length set's name (a profile takes UCR names)
    data = UCRDataset("GesturePebbleZ1", x, y, x, y, np.array([0, 1]), "test", lengths_train=lengths, lengths_test=lengths)

    class VarBackend(Backend):
        def load_dataset(self, name, normalize):
            return data

        def trained_model(self, dataset, model, overrides, *, seed, runs_dir, device, progress, recipe="default"):
            return tiny_model(2), {"train_accuracy": 1.0, "test_accuracy": 1.0}

    profile = write_profile(tmp_path, 'name = "var"\ndatasets = ["GesturePebbleZ1"]\nmodels = ["inception"]\n'
                            'seeds = [0]\nsamples = 6\nsample_seed = 3\ndevice = "cpu"\n[attack]\nsteps = 3\nlr = 0.1\n')
    run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False, backend=VarBackend())
    store = ResultStore(tmp_path / "res" / "var")
    assert store.cells()
    for cell in store.cells():
        rec = store.read(cell).records
        picked = rec["test_index"].to_numpy()
        assert rec["observed_length"].tolist() == lengths[picked].tolist()
        assert (rec["l0"] <= rec["observed_length"]).all()
        examples = decode_examples(store.read_examples(cell))
        assert examples.indices.tolist() == picked.tolist()
        assert (examples.delta[~observed_mask(lengths[picked], 16).expand_as(examples.delta)] == 0).all()


def test_sparse_refinement_never_keeps_or_counts_padding():
    """ExactZero.refine, given the mask, prunes among observed components only: the model's
    class 1 wins when the sum over all steps exceeds 1, the padding holds the largest values."""
    from aslo.attacks import get_attack_config
    from aslo.attacks.sparse import rules_for

    class SumModel(torch.nn.Module):
        def forward(self, x):
            total = x.flatten(1).sum(1)
            return torch.stack([torch.ones_like(total), total], dim=1)

    x = torch.zeros(3, 1, 10)
    lengths = np.array([4, 10, 6])
    mask = observed_mask(lengths, 10)
    delta = torch.full((3, 1, 10), 0.1)
    delta[:, 0, 0] = 3.0  # the one decisive observed step
    delta.masked_fill_(~mask, 5.0)  # larger than any observed component
    model, clean = SumModel(), torch.zeros(3, dtype=torch.int64)
    rules = rules_for(get_attack_config("AS_CW_SPARSE"))
    rules.start(x)
    with torch.no_grad():
        refined = rules.refine(model, x, delta, clean, observed=mask)
        plain = rules.refine(model, x, delta, clean)
    assert (model(x + refined).argmax(1) == 1).all()
    expected = torch.zeros_like(delta)
    expected[:, 0, 0] = 3.0
    assert torch.equal(refined, expected)  # L0 = 1, on an observed step
    assert (plain[~mask.expand_as(plain)] != 0).any()  # without the mask the pruning keeps padding
