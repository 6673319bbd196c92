"""Tests of the four classifiers (aslo.models)."""

from __future__ import annotations

import pytest
import torch

from aslo.models import MODEL_NAMES, build_model, count_parameters
from aslo.models._layers import SameConv1d
from aslo.models.macnn import SqueezeExcitation
from aslo.models.published import published_accuracies, published_accuracy

# Reference parameter counts (univariate input, 2 classes) from the architecture specs.
REFERENCE_PARAMS = {"inception": 0.42e6, "resnet18": 4.2e6, "macnn": 8.2e6, "lstmfcn": 0.27e6}




def _forward_backward(model, x):
    model.train()
    out = model(x)
    out.sum().backward()
    return out


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("length,n_classes", [(24, 2), (150, 60)])
def test_forward_backward_shapes(name, length, n_classes):
    torch.manual_seed(0)
    model = build_model(name, 1, n_classes, length)
    out = _forward_backward(model, torch.randn(3, 1, length))
    assert out.shape == (3, n_classes)
    assert torch.isfinite(out).all()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_long_series_forward_backward(name):
    torch.manual_seed(0)
    model = build_model(name, 1, 2, 3000)
    out = _forward_backward(model, torch.randn(1, 1, 3000))
    assert out.shape == (1, 2)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_multichannel_input(name):
    model = build_model(name, 3, 4, 40).eval()
    assert model(torch.randn(2, 3, 40)).shape == (2, 4)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_returns_logits_not_probabilities(name):
    torch.manual_seed(0)
    model = build_model(name, 1, 5, 64).eval()
    with torch.no_grad():
        out = model(torch.randn(4, 1, 64) * 3)
    # Softmax outputs would be non-negative rows summing to one.
    assert not torch.allclose(out.sum(dim=1), torch.ones(4), atol=1e-3) or (out < 0).any()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_counts_close_to_reference(name):
    # LSTMFCN's LSTM grows with the length (input size L); 24 is the shortest series we support.
    n = count_parameters(build_model(name, 1, 2, 24))
    assert abs(n - REFERENCE_PARAMS[name]) / REFERENCE_PARAMS[name] < 0.15, n


def test_resnet18_variants():
    group = build_model("resnet18", 1, 2, 150)
    textbook = build_model("resnet18", 1, 2, 150, variant="torchvision")
    assert abs(count_parameters(textbook) - 3.8e6) / 3.8e6 < 0.05
    assert count_parameters(group) != count_parameters(textbook)
    assert textbook(torch.randn(2, 1, 150)).shape == (2, 2)
    with pytest.raises(ValueError, match="variant"):
        build_model("resnet18", 1, 2, 150, variant="resnet50")


def test_lstmfcn_parameter_formula():
    # FCN + head are length independent; the LSTM adds 4 * hidden * (L + hidden + 2).
    a = count_parameters(build_model("lstmfcn", 1, 2, 100))
    b = count_parameters(build_model("lstmfcn", 1, 2, 200))
    assert b - a == 4 * 64 * 100


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_input_gradients_in_eval_mode(name):
    torch.manual_seed(0)
    model = build_model(name, 1, 3, 50).eval()
    x = torch.randn(4, 1, 50, requires_grad=True)
    model(x)[:, 0].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_lstmfcn_dropout_is_real():
    torch.manual_seed(0)
    model = build_model("lstmfcn", 1, 2, 30)
    assert isinstance(model.dropout, torch.nn.Dropout) and model.dropout.p == 0.8
    x = torch.randn(8, 1, 30)
    model.train()
    assert not torch.equal(model(x), model(x))  # dropout active in training
    model.eval()
    assert torch.equal(model(x), model(x))  # and off in eval mode


def test_lstmfcn_rejects_wrong_length():
    model = build_model("lstmfcn", 1, 2, 30)
    with pytest.raises(ValueError, match="length 30"):
        model(torch.randn(2, 1, 31))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_lstmfcn_input_gradients_eval_mode_on_cuda():
    model = build_model("lstmfcn", 1, 3, 50).cuda().eval()
    x = torch.randn(4, 1, 50, device="cuda", requires_grad=True)
    model(x)[:, 0].sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_macnn_gate_is_trained_sigmoid():
    torch.manual_seed(0)
    model = build_model("macnn", 1, 2, 40)
    gates = [m for m in model.modules() if isinstance(m, SqueezeExcitation)]
    assert len(gates) == 6
    # The gate's weights are registered parameters and receive gradients.
    _forward_backward(model, torch.randn(3, 1, 40))
    for gate in gates:
        for p in (gate.fc1.weight, gate.fc2.weight):
            assert p.grad is not None and p.grad.abs().sum() > 0
    # Sigmoid gate: scaling lies in (0, 1), so |gate(x)| <= |x| element-wise.
    x = torch.randn(2, 192, 10)
    y = gates[1](x)
    assert (y.abs() <= x.abs() + 1e-6).all() and not torch.equal(x, y)


@pytest.mark.parametrize("kernel", [3, 6, 8, 12, 40])
def test_same_conv_keeps_length(kernel):
    conv = SameConv1d(1, 2, kernel)
    assert conv(torch.randn(1, 1, 24)).shape == (1, 2, 24)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="inception, resnet18, macnn, lstmfcn"):
        build_model("transformer", 1, 2, 100)


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("sizes,field", [
    ((0, 2, 100), "in_channels"),
    ((1, 1, 100), "n_classes"),
    ((1, 2, 0), "length"),
    ((1, 2.5, 100), "n_classes"),
    ((True, 2, 100), "in_channels"),
])
def test_invalid_sizes_raise(name, sizes, field):
    with pytest.raises(ValueError, match=field):
        build_model(name, *sizes)


def test_published_accuracy_table():
    table = published_accuracies()
    assert len(table) == 72 and table.dataset.nunique() == 18
    assert set(table.model) == {"resnet", "inception", "lstmfcn", "macnn"}
    values = table.accuracy.dropna()
    assert len(values) == 71 and ((values > 0.5) & (values <= 1)).all()
    assert published_accuracy("Trace", "lstmfcn") is None
    assert published_accuracy("ArrowHead", "resnet18") == pytest.approx(0.838)
    assert published_accuracy("GunPoint", "macnn") == pytest.approx(0.998)
    with pytest.raises(ValueError, match="unknown model"):
        published_accuracy("GunPoint", "fcn")
