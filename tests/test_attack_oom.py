"""run_attack halves a batch that runs out of memory and gives the same results as unsplit.

The model runs one series at a time (``PerSeries``) on series of ``BATCH_EXACT_LENGTH`` steps, so
the model's and the attack's arithmetic is the same for every batch size on any CPU and the
results can be compared bit for bit: any difference is the halving's doing (another seed, another
sample order, a lost or repeated sample).
"""

import pandas as pd
import pytest
import torch

from aslo.attacks import run_attack
from helpers.models import BATCH_EXACT_LENGTH, PerSeries


def small_cnn(n_classes=3, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv1d(1, 4, 5, padding=2), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(4, n_classes))


class MemoryLimited(torch.nn.Module):
    """Wraps a model and raises an out-of-memory error for batches larger than ``limit``."""

    def __init__(self, inner, limit, error, *, only_with_grad=False):
        super().__init__()
        self.inner, self.limit, self.error, self.only_with_grad = inner, limit, error, only_with_grad
        self.sizes: list[int] = []

    def forward(self, x):
        self.sizes.append(x.shape[0])
        if x.shape[0] > self.limit and (torch.is_grad_enabled() or not self.only_with_grad):
            raise self.error
        return self.inner(x)


ERRORS = {
    "OutOfMemoryError": torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    "RuntimeError": RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0)"),
}


@pytest.mark.parametrize("error", list(ERRORS))
@pytest.mark.parametrize("attack", ["AS_CW", "AS_GM_PGD", "AS_CW_SPARSE"])
def test_out_of_memory_halves_the_batch_with_identical_results(attack, error):
    x = torch.randn(11, 1, BATCH_EXACT_LENGTH, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(11, dtype=torch.int64)
    net = PerSeries(small_cnn())
    kw = dict(steps=6, lr=0.05, progress=False, trace=True)
    whole = run_attack(net, x, y, attack, **kw)
    limited = MemoryLimited(net, limit=3, error=ERRORS[error])
    split = run_attack(limited, x, y, attack, **kw)
    # 11 -> 6 + 5 -> 3 + 3 + 3 + 2: every attempted batch above 3 failed, nothing larger ran
    assert max(s for s in limited.sizes if s <= 3) == 3 and 11 in limited.sizes
    pd.testing.assert_frame_equal(whole.records, split.records)
    pd.testing.assert_frame_equal(whole.trace, split.trace)
    assert torch.equal(whole.delta, split.delta)


def test_errors_other_than_out_of_memory_propagate():
    net = MemoryLimited(small_cnn(), limit=0, error=RuntimeError("shape mismatch"))
    with pytest.raises(ValueError, match="shape mismatch"):  # raised by the model check up front
        run_attack(net, torch.randn(1, 1, 20), [0], steps=2, progress=False)
    net.limit = 1
    with pytest.raises(RuntimeError, match="shape mismatch"):
        run_attack(net, torch.randn(4, 1, 20), [0] * 4, steps=2, progress=False)


def test_batch_coupled_regulariser_is_not_split():
    net = MemoryLimited(small_cnn(), limit=3, error=ERRORS["RuntimeError"])
    with pytest.raises(RuntimeError, match="l2_batch cannot be split"):
        run_attack(net, torch.randn(8, 1, 20), [0] * 8, "CW_L2", regulariser="l2_batch", steps=2,
                   progress=False)


def test_a_single_sample_that_does_not_fit_reraises():
    # the attack's forward with gradients fails even for one sample (the checks without pass)
    net = MemoryLimited(small_cnn(), limit=0, error=ERRORS["OutOfMemoryError"], only_with_grad=True)
    with pytest.raises(torch.OutOfMemoryError):
        run_attack(net, torch.randn(2, 1, 20), [0, 0], steps=2, progress=False)
    assert net.sizes.count(1) >= 2  # it did halve down to single samples first
