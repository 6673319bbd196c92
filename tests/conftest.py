"""Shared test set-up."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: the tests use tiny tensors on a small, often shared CPU, where
    OpenMP's wake-up and oversubscription costs dominate (seen here: 5-20x slower with two)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
