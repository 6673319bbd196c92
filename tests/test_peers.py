"""The exact [0, 1] map (always) and the peer attacks (only with the optional peers extra)."""

import math

import pandas as pd
import pytest
import torch

from aslo.peers import PEERS, UnitBox, UnitModel, peer_status, unit_box_for




def _series(n=6, length=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, length, generator=gen) * 1.7 + 0.3


def test_box_covers_the_data_and_the_attack_box_with_a_power_of_two_width():
    x = _series()
    box = unit_box_for(x, 1.0)
    assert box.lo <= float(x.min()) - 1.0 and box.hi >= float(x.max()) + 1.0
    assert math.frexp(box.scale)[0] == 0.5
    u = box.to_unit(x)
    assert float(u.min()) >= 0 and float(u.max()) <= 1


def test_map_is_exact_both_ways_for_inputs_and_distances():
    x = _series()
    box = unit_box_for(x, 0.5)
    assert torch.equal(box.from_unit(box.to_unit(x)).float(), x)
    gen = torch.Generator().manual_seed(1)
    delta = torch.randn(x.shape, generator=gen) * (torch.rand(x.shape, generator=gen) > 0.7)
    back = box.delta_from_unit(box.delta_to_unit(delta))
    assert torch.equal(back, delta)
    assert torch.equal(box.delta_to_unit(delta) != 0, delta != 0)  # L0 identical in both units
    l2 = torch.linalg.vector_norm(delta.flatten(1), dim=1)
    l2_unit = torch.linalg.vector_norm(box.delta_to_unit(delta).flatten(1), dim=1)
    assert torch.equal(l2_unit * box.scale, l2)
    assert box.eps_to_unit(box.scale) == 1.0


def test_unit_model_sees_the_original_inputs():
    x = _series()
    box = unit_box_for(x, 1.0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    assert torch.equal(UnitModel(model, box)(box.to_unit(x)), model(x))  # float64 u: exact
    assert torch.allclose(UnitModel(model, box)(box.to_unit(x).float()), model(x), atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(lo=0.0, scale=3.0), dict(lo=float("nan"), scale=2.0),
                                    dict(lo=0.0, scale=-2.0), dict(lo=1, scale=2.0)])
def test_bad_boxes_raise(kwargs):
    with pytest.raises(ValueError):
        UnitBox(**kwargs)


def test_bad_box_inputs_raise():
    with pytest.raises(ValueError, match="NaN"):
        unit_box_for(torch.tensor([[[float("nan")]]]), 1.0)
    with pytest.raises(ValueError, match="eps"):
        unit_box_for(_series(), -1.0)


def test_run_peer_rejects_bad_arguments_before_running():
    from aslo.peers import run_peer

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    with pytest.raises(ValueError, match="unknown peer"):
        run_peer(model, _series(), torch.zeros(6, dtype=torch.int64), "SIGMA_ONE", steps=5, eps=1.0)
    with pytest.raises(ValueError, match="steps"):
        run_peer(model, _series(), torch.zeros(6, dtype=torch.int64), "SIGMA_ZERO", steps=0, eps=1.0)


@pytest.mark.parametrize("name", list(PEERS))
def test_peer_runs_and_is_measured_in_original_units(name):
    if peer_status()[name]:
        pytest.skip(peer_status()[name])
    from aslo.peers import run_peer

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    x = _series()
    y = model(x).argmax(dim=1)
    res = run_peer(model, x, y, name, steps=20, eps=1.0)
    again = run_peer(model, x, y, name, steps=20, eps=1.0)
    assert torch.equal(res.delta, again.delta)  # seeded
    assert torch.equal((res.x_adv - x).ne(0) | res.delta.ne(0), res.delta.ne(0) | (res.x_adv - x).ne(0))
    nonzero = (res.delta != 0).flatten(1).sum(1).numpy()
    assert (nonzero == res.records["l0"].to_numpy()).all()
    success = res.records["success"].to_numpy()
    assert (model(res.x_adv).argmax(1).numpy() != y.numpy())[success].all()
    assert res.summary["asr"] > 0
    assert float(res.x_adv.min()) >= res.box.lo - 1e-5 and float(res.x_adv.max()) <= res.box.hi + 1e-5


class _Tally(torch.nn.Module):
    """A linear model that counts its own calls: the ground truth the hooks must match."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


def test_pass_counter_counts_forwards_and_backwards_exactly():
    from aslo.peers.passes import PassCounter

    model = _Tally()
    counter = PassCounter(model)
    x = _series()
    with torch.no_grad():
        counter(x)  # a forward without a graph: no backward can follow
    delta = torch.zeros_like(x, requires_grad=True)
    for _ in range(3):
        counter(x + delta).sum().backward()
    counter(x[:2] + delta[:2]).sum().backward(retain_graph=False)
    assert counter.forward_calls == model.calls == 5 and counter.backward_calls == 4
    assert counter.forward_series == 4 * len(x) + 2 and counter.backward_series == 3 * len(x) + 2
    assert counter.per_series(len(x)) == {"forwards_per_series": (4 * len(x) + 2) / len(x),
                                          "backwards_per_series": (3 * len(x) + 2) / len(x)}
    counter.reset()
    assert counter.forward_calls == counter.backward_series == 0


@pytest.mark.parametrize("name,forwards_at_least", [("VFGA", 20), ("SIGMA_ZERO", 10)])
def test_l0_attacks_count_their_passes(name, forwards_at_least):
    """VFGA's extra forwards show up where steps hide them; a gradient attack pays one backward per step."""
    pytest.importorskip("adv_lib")
    from aslo.peers.l0 import run_l0_attack

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    x = _series()
    peer = run_l0_attack(model, x, model(x).argmax(1), name, steps=10, pointwise=False).summary
    assert peer["forwards_per_series"] >= forwards_at_least and peer["backwards_per_series"] >= 1
    ours = run_l0_attack(model, x, model(x).argmax(1), "AS_CW_SPARSE_BOX", steps=10, pointwise=False).summary
    assert 1 <= ours["backwards_per_series"] <= ours["forwards_per_series"]


def test_median_with_failures_counted_as_infinite():
    from aslo.peers.l0 import median_l0_failures_infinite

    broken = pd.DataFrame({"success": [True, True, False], "l0": [2, 4, 24]})
    assert median_l0_failures_infinite(broken) == 4.0  # 2, 4, inf
    mostly_failed = pd.DataFrame({"success": [True, False, False], "l0": [2, 24, 24]})
    assert median_l0_failures_infinite(mostly_failed) == float("inf")
    with_best = pd.DataFrame({"success": [True, True], "l0": [9, 9], "best_l0": [1.0, 3.0]})
    assert median_l0_failures_infinite(with_best) == 2.0  # the smallest adversarial L0 found counts
