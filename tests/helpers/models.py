"""Tiny fixed models for the attack tests (no tests here)."""

import torch


class Linear(torch.nn.Module):
    """A fixed linear model with ``classes`` classes on (N, 1, L) series."""

    def __init__(self, length=24, seed=0, classes=3):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(classes, length, generator=gen))

    def forward(self, x):
        return x.flatten(1) @ self.w.T


class OneDecisiveStep(torch.nn.Module):
    """Class 1 wins exactly when the value at time step ``at`` exceeds ``level``.

    Every other time step also moves the logits a little, so a dense attack spreads its
    perturbation everywhere while one component at ``at`` suffices.
    """

    def __init__(self, length=30, at=17, level=2.5):
        super().__init__()
        self.at, self.level = at, level
        gen = torch.Generator().manual_seed(3)
        self.w = torch.nn.Parameter(torch.randn(length, generator=gen) * 0.01)

    def forward(self, x):
        small = x.flatten(1) @ self.w
        decisive = x[:, 0, self.at] - self.level
        return torch.stack([-decisive + small, decisive - small], dim=1)


def series(n, length, seed=1, scale=0.3):
    """``n`` seeded Gaussian series (n, 1, length) of standard deviation ``scale``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, length, generator=gen) * scale


#: A series length at which the attacks' element-wise arithmetic is the same whatever the batch:
#: torch's CPU kernels run whole vectors of up to 2 x 16 float32 lanes and finish a tensor's last
#: elements with scalar code, whose fused multiply-adds and transcendental functions may round
#: otherwise; with a multiple of 64 steps per series every element of every batch takes the
#: vector path.
BATCH_EXACT_LENGTH = 64


class PerSeries(torch.nn.Module):
    """Runs ``inner`` on one series at a time and stacks the logits.

    A batched convolution or matrix product may pick another kernel, or sum in another order, for
    another batch size (on some CPUs a small CNN's logits differed by 6e-8 between one batch of 11
    and batches of 3). Run one series at a time, each series' logits and input gradient come from
    the same calls whatever else the batch holds, so an attack's results can be compared bit for
    bit across batch sizes on any machine (with series of :data:`BATCH_EXACT_LENGTH` steps). A test
    model only: the attacks themselves never loop over samples.
    """

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return torch.cat([self.inner(x[i:i + 1]) for i in range(x.shape[0])])
