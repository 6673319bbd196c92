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
