"""Tests of aslo.training on a tiny synthetic stand-in for aslo.data.UCRDataset."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch

import aslo.training.loop as loop_module
import aslo.training.trained as trained_module
from aslo.training import (
    TrainConfig,
    default_train_config,
    get_trained_model,
    paper_train_config,
    resolve_device,
    run_directory,
    train_model,
)
from aslo.training.loop import batch_indices, class_weights




@dataclasses.dataclass(frozen=True)
class TinyDataset:
    """Minimal UCRDataset-like object (same fields as the aslo.data contract)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def length(self) -> int:
        return self.x_train.shape[-1]

    @property
    def in_channels(self) -> int:
        return self.x_train.shape[1]


def make_dataset(name="Tiny", n_train=21, n_test=12, length=32, seed=0) -> TinyDataset:
    """Two classes: noisy sine vs noisy square wave."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, length)

    def split(n):
        y = np.arange(n) % 2
        base = np.where(y[:, None] == 0, np.sin(t), np.sign(np.sin(t)))
        x = base + 0.3 * rng.standard_normal((n, length))
        return x[:, None, :].astype(np.float32), y.astype(np.int64)

    x_train, y_train = split(n_train)
    x_test, y_test = split(n_test)
    return TinyDataset(name, x_train, y_train, x_test, y_test)


FAST = TrainConfig(epochs=3, max_seconds=None, batch_size=8)


def weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


# ---------------------------------------------------------------- config

def test_config_validation():
    for bad in ({"epochs": 0}, {"epochs": -3}, {"epochs": 2.5}, {"lr": 0}, {"lr": -1e-3},
                {"lr": float("nan")}, {"batch_size": 0}, {"max_seconds": 0},
                {"scheduler_factor": 1.5}, {"min_lr": -1.0}, {"balanced": "yes"},
                {"checkpoint": "best_test"}, {"weight_decay": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig(**bad)


def test_config_dict_replace_and_hash():
    config = TrainConfig(epochs=10, max_seconds=None, batch_size=4, lr=1e-3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert json.loads(json.dumps(config.to_dict())) == config.to_dict()
    assert config.replace(lr=1) .hash() == config.replace(lr=1.0).hash()
    assert config.hash() == TrainConfig(**config.to_dict()).hash()
    assert config.replace(epochs=11).hash() != config.hash()
    assert len(config.hash()) == 12 and int(config.hash(), 16) >= 0
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        config.replace(learning_rate=1.0)
    with pytest.raises(ValueError, match="epochs"):
        config.replace(epochs=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 5  # type: ignore[misc]


def test_default_and_paper_configs():
    for name in ("inception", "resnet18", "macnn", "lstmfcn"):
        # epochs decide the weights, never the machine's speed
        assert default_train_config(name).max_seconds is None and paper_train_config(name).max_seconds is None
        assert paper_train_config(name).epochs >= 1500
    assert TrainConfig().max_seconds is None
    assert paper_train_config("macnn").lr == 1e-4
    with pytest.raises(ValueError, match="valid names"):
        default_train_config("rocket")


# ---------------------------------------------------------------- helpers

@pytest.mark.parametrize("n,batch", [(21, 8), (17, 8), (16, 8), (5, 5), (9, 4)])
def test_batches_cover_every_sample_once(n, batch):
    batches = batch_indices(n, batch, torch.Generator().manual_seed(0))
    joined = torch.cat(batches)
    assert sorted(joined.tolist()) == list(range(n))
    assert all(len(b) > 1 for b in batches)


def test_class_weights_balance():
    w = class_weights(torch.tensor([0, 0, 0, 1]), 3)
    assert torch.allclose(w, torch.tensor([4 / 6, 2.0, 0.0]))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == expected and resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="device"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


# ---------------------------------------------------------------- training

def test_train_record_and_eval_mode():
    model, record = train_model(make_dataset(), "lstmfcn", FAST, seed=0, progress=False)
    assert not model.training
    for key in ("dataset", "model", "config", "seed", "epochs", "best_epoch", "train_accuracy",
                "test_accuracy", "train_loss", "seconds", "stopped_by", "versions", "created"):
        assert key in record
    assert record["epochs"] == 3 and record["stopped_by"] == "epochs"
    assert 1 <= record["best_epoch"] <= 3
    assert 0 <= record["test_accuracy"] <= 1 and 0 <= record["train_accuracy"] <= 1
    assert set(record["versions"]) == {"python", "torch", "numpy", "aslo"}
    assert record["config"] == FAST.to_dict() and record["data"]["n_train"] == 21
    json.dumps(record)  # serialisable


def test_training_learns_the_tiny_task():
    config = TrainConfig(epochs=15, max_seconds=None, batch_size=8, lr=1e-2)
    _, record = train_model(make_dataset(), "lstmfcn", config, seed=0, progress=False)
    assert record["train_accuracy"] >= 0.9 and record["test_accuracy"] >= 0.8


def test_same_seed_gives_bit_identical_weights():
    data = make_dataset()
    a, rec_a = train_model(data, "inception", FAST, seed=3, progress=False)
    b, rec_b = train_model(data, "inception", FAST, seed=3, progress=False)
    assert_same_weights(a, b)
    assert rec_a["train_loss"] == rec_b["train_loss"]
    c, _ = train_model(data, "inception", FAST, seed=4, progress=False)
    assert not torch.equal(weights(a)["fc.weight"], weights(c)["fc.weight"])


def test_keeps_lowest_training_loss_epoch():
    # A too-large learning rate makes the loss jump around, so the best epoch is not the last.
    data = make_dataset()
    config = TrainConfig(epochs=8, max_seconds=None, batch_size=8, lr=0.3, scheduler_factor=1.0)
    model, record = train_model(data, "lstmfcn", config, seed=1, progress=False)
    best = record["best_epoch"]
    assert best < 8, "setup should produce a non-monotonic loss"
    # Rerunning only up to the best epoch and keeping the last weights must give the same model.
    replay_config = config.replace(epochs=best, checkpoint="last")
    replay, replay_record = train_model(data, "lstmfcn", replay_config, seed=1, progress=False)
    assert_same_weights(model, replay)
    assert replay_record["train_loss"] == record["train_loss"]


def test_test_split_never_used_for_training():
    data = make_dataset()
    poisoned = dataclasses.replace(
        data,
        x_test=np.full_like(data.x_test, np.nan),
        y_test=np.zeros_like(data.y_test),
    )
    clean, _ = train_model(data, "resnet18", FAST, seed=0, progress=False)
    with pytest.warns(UserWarning, match="test split contains NaN"):
        dirty, record = train_model(poisoned, "resnet18", FAST, seed=0, progress=False)
    assert_same_weights(clean, dirty)
    assert record["test_accuracy"] is None


def test_wall_clock_guard_is_honoured_and_says_it_fired():
    config = TrainConfig(epochs=100000, max_seconds=0.5, batch_size=8)
    with pytest.warns(RuntimeWarning, match=r"wall-clock guard max_seconds=0.5 fired after \d+ of 100000 epochs"):
        _, record = train_model(make_dataset(), "lstmfcn", config, seed=0, progress=False)
    assert record["stopped_by"] == "time"
    assert record["epochs"] < 100000
    assert record["seconds"] < 30  # at most one epoch past the cap


def test_balanced_loss_runs():
    data = make_dataset()
    skewed = dataclasses.replace(data, y_train=np.where(np.arange(21) < 17, 0, 1))
    _, record = train_model(skewed, "lstmfcn", FAST.replace(balanced=True), progress=False)
    assert record["config"]["balanced"] is True


# ---------------------------------------------------------------- bad inputs

@pytest.fixture
def no_work(monkeypatch):
    """Make any training work fail loudly, to prove errors come before it."""

    def fail(*args, **kwargs):
        raise AssertionError("training started despite invalid input")

    monkeypatch.setattr(loop_module, "_fit", fail)
    monkeypatch.setattr(trained_module, "train_model", fail)


def test_bad_inputs_raise_before_work(no_work, tmp_path):
    data = make_dataset()
    with pytest.raises(ValueError, match="valid names"):
        train_model(data, "transformer", FAST, progress=False)
    with pytest.raises(ValueError, match="seed"):
        train_model(data, "lstmfcn", FAST, seed=-1, progress=False)
    with pytest.raises(ValueError, match="TrainConfig"):
        train_model(data, "lstmfcn", {"epochs": 3}, progress=False)
    nan_train = data.x_train.copy()
    nan_train[0, 0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_model(dataclasses.replace(data, x_train=nan_train), "lstmfcn", FAST, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        get_trained_model(dataclasses.replace(data, x_train=nan_train), "lstmfcn", FAST,
                          runs_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="labels"):
        train_model(dataclasses.replace(data, y_train=data.y_train - 1), "lstmfcn", FAST,
                    progress=False)
    with pytest.raises(ValueError, match=r"\(N, C, L\)"):
        train_model(dataclasses.replace(data, x_train=data.x_train[:, 0]), "lstmfcn", FAST,
                    progress=False)
    with pytest.raises(ValueError, match="name"):
        train_model(dataclasses.replace(data, name="../evil"), "lstmfcn", FAST, progress=False)
    with pytest.raises(ValueError, match="device"):
        train_model(data, "lstmfcn", FAST, device="tpu9", progress=False)


# ---------------------------------------------------------------- checkpoints

def test_checkpoint_is_reused(tmp_path, monkeypatch):
    data = make_dataset()
    model, record = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)
    directory = run_directory(tmp_path, "Tiny", "lstmfcn", 0, FAST.hash())
    assert (directory / "model.safetensors").exists() and (directory / "record.json").exists()
    assert not list(directory.glob("*.tmp"))

    def fail(*args, **kwargs):
        raise AssertionError("retrained although a matching checkpoint exists")

    monkeypatch.setattr(trained_module, "train_model", fail)
    again, again_record = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path,
                                            progress=False)
    assert again_record == record and not again.training
    assert_same_weights(model, again)


def test_different_seed_or_config_or_data_trains_anew(tmp_path):
    data = make_dataset()
    _, first = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)
    _, other_seed = get_trained_model(data, "lstmfcn", FAST, seed=1, runs_dir=tmp_path,
                                      progress=False)
    assert other_seed["seed"] == 1
    other_config = FAST.replace(epochs=2)
    _, rec = get_trained_model(data, "lstmfcn", other_config, runs_dir=tmp_path, progress=False)
    assert rec["epochs"] == 2
    changed = make_dataset(seed=7)  # same name and shape, different values
    with pytest.warns(UserWarning, match="does not match"):
        _, rec = get_trained_model(changed, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)
    assert rec["data_fingerprint"] != first["data_fingerprint"]


@pytest.mark.parametrize("damage", ["truncate_weights", "garbage_record", "drop_record_key",
                                    "wrong_weights"])
def test_corrupt_checkpoint_is_retrained(tmp_path, damage):
    data = make_dataset()
    model, record = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)
    directory = run_directory(tmp_path, "Tiny", "lstmfcn", 0, FAST.hash())
    weights_file, record_file = directory / "model.safetensors", directory / "record.json"
    if damage == "truncate_weights":
        weights_file.write_bytes(weights_file.read_bytes()[:100])
    elif damage == "garbage_record":
        record_file.write_text("{not json")
    elif damage == "drop_record_key":
        broken = json.loads(record_file.read_text())
        del broken["config_hash"]
        record_file.write_text(json.dumps(broken))
    else:
        from safetensors.torch import save_file
        save_file({"unrelated": torch.zeros(3)}, weights_file)
    with pytest.warns(UserWarning, match="retrained"):
        again, again_record = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path,
                                                progress=False)
    assert_same_weights(model, again)  # same seed: the retrain reproduces the weights
    # The repaired checkpoint now loads silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)


def test_retrain_flag_forces_training(tmp_path):
    data = make_dataset()
    _, first = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, progress=False)
    _, second = get_trained_model(data, "lstmfcn", FAST, runs_dir=tmp_path, retrain=True,
                                  progress=False)
    assert second["train_loss"] == first["train_loss"]
    assert second["created"] >= first["created"]


def test_batchnorm_recalibration_changes_only_statistics():
    data = make_dataset()
    plain, _ = train_model(data, "resnet18", FAST.replace(recalibrate_bn=False), progress=False)
    recal, _ = train_model(data, "resnet18", FAST, progress=False)
    wp, wr = weights(plain), weights(recal)
    stats = [k for k in wp if k.endswith(("running_mean", "running_var"))]
    assert stats and any(not torch.equal(wp[k], wr[k]) for k in stats)
    for key in wp:
        if not key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.equal(wp[key], wr[key]), key
    # The stem's running mean is now the exact training-set mean of its conv output.
    with torch.no_grad():
        conv_out = recal.stem[0](torch.from_numpy(data.x_train))
    assert torch.allclose(recal.stem[1].running_mean, conv_out.mean(dim=(0, 2)), atol=1e-5)
