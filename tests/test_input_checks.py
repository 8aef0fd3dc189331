"""Input checks: full at the boundary a user calls, not again between companion's layers of a model.

The rules (CONTRIBUTING.md, "Input checks"): a layer or loss called on its
own checks everything; a ``Sequential`` lets its first layer check ``x`` and
its last layer check ``dout`` and passes ``checked=True`` in between; a layer
of your own inside a ``Sequential`` has its output checked and located;
``fit`` checks its data once. Error messages are formatted only when raised.
"""

import re

import numpy as np
import pytest

import companion
from companion import Linear, ReLU, Sequential, SoftmaxCrossEntropy, fit
from companion.optim import SGD

BAD_VALUES = [(np.nan, ValueError, "contains NaN or infinity"), (np.inf, ValueError, "contains NaN or infinity")]


def mlp(seed=0):
    return Sequential(Linear(4, 8, rng=seed), companion.BatchNorm(8), ReLU(), companion.Dropout(0.2, rng=seed),
                      Linear(8, 8, rng=seed + 1), companion.LayerNorm(8), companion.Tanh(), Linear(8, 3, rng=seed + 2))


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


class Halve:
    """A layer of your own: y = x / 2, with a bug switch for each kind of wrong output."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.shape = x.shape
        if self.bug == "nan forward":
            return np.full(x.shape, np.nan)
        if self.bug == "list forward":
            return (x / 2).tolist()
        if self.bug == "rows":
            return (x / 2)[:-1]
        if self.bug == "columns":
            return (x / 2)[:, :-1]
        return x / 2

    def backward(self, dout):
        if self.bug == "inf backward":
            return np.full(dout.shape, np.inf)
        if self.bug == "shape backward":
            return dout[:, :-1] / 2
        if self.bug == "none backward":
            return None
        return dout / 2


# ------------------------------------------------------------ a layer on its own checks everything

ALONE = {"Linear(3, 2)": lambda: Linear(3, 2, rng=0), "ReLU": ReLU, "Sigmoid": companion.Sigmoid,
         "Tanh": companion.Tanh, "Identity": companion.Identity, "BatchNorm(3)": lambda: companion.BatchNorm(3),
         "LayerNorm(3)": lambda: companion.LayerNorm(3), "Dropout(rate=0.5)": lambda: companion.Dropout(0.5, rng=0)}


@pytest.mark.parametrize("name", ALONE)
def test_a_layer_called_on_its_own_rejects_nan_inf_non_numbers_and_bad_shapes(name):
    layer = ALONE[name]()
    name = re.escape(name)
    for value, kind, message in BAD_VALUES:
        x = np.ones((4, 3))
        x[2, 1] = value
        with pytest.raises(kind, match=rf"^{name}: input x {message} \(first at index \(2, 1\)"):
            layer.forward(x)
    with pytest.raises(TypeError, match=rf"^{name}: input x must be real numbers .* dtype <U1"):
        layer.forward(np.array([["a", "b", "c"]]))
    out = layer.forward(np.ones((4, 3)))
    bad_dout = np.ones(out.shape)
    bad_dout[0, 0] = np.nan
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout contains NaN or infinity"):
        layer.backward(bad_dout)
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout.* has shape \(4, 7\)"):
        layer.backward(np.ones((4, 7)))


# ------------------------------------------------------- a Sequential checks where data enter it

def test_sequential_checks_the_input_at_its_first_layer_and_dout_at_its_last():
    net = mlp()
    x, _ = data()
    x[3, 2] = np.inf
    with pytest.raises(ValueError, match=r"^Sequential layer 0: Linear\(4, 8\): input x contains NaN or infinity "
                                         r"\(first at index \(3, 2\), value inf\)"):
        net.forward(x)
    with pytest.raises(TypeError, match=r"^Sequential layer 0: Linear\(4, 8\): input x must be real numbers"):
        net.forward([["a"] * 4])
    net.forward(data()[0])
    dout = np.ones((10, 3))
    dout[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"^Sequential layer 7: Linear\(8, 3\): upstream gradient dout contains NaN"):
        net.backward(dout)
    with pytest.raises(ValueError, match=r"^Sequential layer 7: Linear\(8, 3\): upstream gradient dout has shape "
                                         r"\(10, 2\), expected \(10, 3\)"):
        net.backward(np.ones((10, 2)))


def count_scans(monkeypatch):
    """Count the calls of as_float_array made by the layers, activations and losses."""
    calls = {"layers": 0, "functions": 0, "normalization": 0, "regularization": 0, "losses": 0}
    original = companion._validate.as_float_array
    for module in calls:
        def counting(*args, module=module, **kwargs):
            calls[module] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(f"companion.{module}.as_float_array", counting)
    return calls


def test_inside_a_sequential_no_array_the_model_computed_is_scanned_again(monkeypatch):
    net = mlp()
    calls = count_scans(monkeypatch)
    net.forward(data()[0])
    assert calls == {"layers": 1, "functions": 0, "normalization": 0, "regularization": 0, "losses": 0}   # x, at the first layer only
    net.backward(np.ones((10, 3)))
    assert calls == {"layers": 2, "functions": 0, "normalization": 0, "regularization": 0, "losses": 0}   # dout, at the last layer only
    nested = Sequential(Sequential(Linear(4, 8, rng=0), ReLU()), Linear(8, 3, rng=1))
    nested.forward(data()[0])
    nested.backward(np.ones((10, 3)))
    assert calls == {"layers": 4, "functions": 0, "normalization": 0, "regularization": 0, "losses": 0}


def test_a_nan_made_inside_a_model_is_caught_by_the_loss():
    net = mlp()
    net[4].W[0, 0] = np.nan  # a broken weight: every array after it is NaN
    x, t = data()
    with pytest.raises(ValueError, match=r"^SoftmaxCrossEntropy: logits z contains NaN or infinity"):
        SoftmaxCrossEntropy().forward(net.forward(x), t)


# ------------------------------------------------------------- a layer of your own in a Sequential

def test_a_layer_of_your_own_that_works_trains_inside_a_sequential():
    x, t = data()
    net = Sequential(Linear(4, 8, rng=0), Halve(), ReLU(), Linear(8, 3, rng=1))
    errors = companion.layer_gradient_errors(net, x, rng=2)
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("bug, kind, message", [
    ("nan forward", ValueError,
     r"^Sequential layer 1: Halve.forward: its output contains NaN or infinity \(first at index \(0, 0\), value nan\)"),
    ("list forward", TypeError,
     r"^Sequential layer 1: Halve.forward: forward's output is a list; expected a numpy array of floats"),
    ("rows", ValueError,
     r"^Sequential layer 1: Halve.forward: its output has shape \(9, 8\) for an input of shape \(10, 8\); "
     r"expected 10 rows, one per sample"),
    ("columns", ValueError,
     r"^Sequential layer 2: Linear\(8, 3\): input x has shape \(10, 7\), expected \(n, 8\) "
     r"\(its input is the output of layer 1, Halve, a layer of your own\)"),
])
def test_a_wrong_forward_of_your_own_layer_is_located(bug, kind, message):
    net = Sequential(Linear(4, 8, rng=0), Halve(bug), Linear(8, 3, rng=1))
    with pytest.raises(kind, match=message):
        net.forward(data()[0])


@pytest.mark.parametrize("bug, kind, message", [
    ("inf backward", ValueError,
     r"^Sequential layer 1: Halve.backward: the gradient dx it returns contains NaN or infinity"),
    ("shape backward", ValueError,
     r"^Sequential layer 1: Halve.backward: the gradient dx it returns \(the shape of forward's input x\) "
     r"has shape \(10, 7\), expected \(10, 8\)"),
    ("none backward", TypeError,
     r"^Sequential layer 1: Halve.backward: the gradient dx it returns is a NoneType; expected a numpy array"),
])
def test_a_wrong_backward_of_your_own_layer_is_located(bug, kind, message):
    net = Sequential(Linear(4, 8, rng=0), Halve(bug), Linear(8, 3, rng=1))
    net.forward(data()[0])
    with pytest.raises(kind, match=message):
        net.backward(np.ones((10, 3)))


def test_your_subclass_of_a_companion_layer_is_called_without_checked():
    class MeanBiasLinear(Linear):  # as in chapter "Gradient checking": backward(self, dout) only
        def forward(self, x):
            return super().forward(x)

        def backward(self, dout):
            dx = super().backward(dout)
            self.grad_b[...] = dout.mean(axis=0)
            return dx

    net = Sequential(Linear(4, 8, rng=0), ReLU(), MeanBiasLinear(8, 3, rng=1))
    x, t = data()
    history = fit(net, x, t, optimizer=SGD(net.parameters()), epochs=1, batch_size=4, progress=False)
    assert np.isfinite(history["loss"][0])


# ----------------------------------------------------------------------------- fit checks once

def test_fit_checks_its_data_once_and_not_every_minibatch(monkeypatch):
    x, t = data(n=12)
    net = mlp()
    calls = count_scans(monkeypatch)
    fit(net, x, t, optimizer=SGD(net.parameters()), epochs=2, batch_size=4, progress=False)
    # the first layer scans one row, fit's probe for the number of classes; then no layer scans a
    # minibatch or a gradient, and the loss scans the logits of each of the 6 minibatches (not the labels)
    assert calls == {"layers": 1, "functions": 0, "normalization": 0, "regularization": 0, "losses": 6}


def test_fit_rejects_bad_data_before_training():
    x, t = data()
    net = mlp()
    before = [param.copy() for param, _ in net.parameters()]
    x[7, 0] = np.nan
    with pytest.raises(ValueError, match=r"^fit: training inputs x contains NaN or infinity \(first at index \(7, 0\)"):
        fit(net, x, t, optimizer=SGD(net.parameters()), progress=False)
    with pytest.raises(ValueError, match=r"^fit \(training targets\): label 5 at index 0 is out of range"):
        fit(net, data()[0], np.r_[5, t[1:]], optimizer=SGD(net.parameters()), progress=False)
    assert all(np.array_equal(a, param) for a, (param, _) in zip(before, net.parameters()))


# ------------------------------------------------------ messages are formatted only when raising

class CountingLinear(Linear):
    reprs = 0

    def __repr__(self):
        CountingLinear.reprs += 1
        return super().__repr__()


class CountingReLU(ReLU):
    reprs = 0

    def __repr__(self):
        CountingReLU.reprs += 1
        return super().__repr__()


class CountingHalve(Halve):
    reprs = 0

    def __repr__(self):
        CountingHalve.reprs += 1
        return "CountingHalve()"


def test_the_success_path_never_formats_a_layer_name():
    x, t = data()
    alone = CountingLinear(4, 3, rng=0)
    alone.forward(x)
    alone.backward(np.ones((10, 3)))
    relu = CountingReLU()
    relu.backward(relu.forward(x))
    net = Sequential(CountingLinear(4, 8, rng=0), CountingReLU(), CountingHalve(), CountingLinear(8, 3, rng=1))
    net.backward(net.forward(x))
    fit(net, x, t, optimizer=SGD(net.parameters()), epochs=2, batch_size=4, progress=False)
    companion.evaluate(net, x, t)
    assert (CountingLinear.reprs, CountingReLU.reprs, CountingHalve.reprs) == (0, 0, 0)
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): input x has shape \(10, 2\), expected \(n, 4\)"):
        alone.forward(np.ones((10, 2)))
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): input x contains NaN"):
        alone.forward(np.full((10, 4), np.nan))
    assert CountingLinear.reprs >= 2  # the name is still in the message: formatted when raising


@pytest.mark.parametrize("name", ALONE)
def test_no_companion_layer_formats_its_name_on_the_success_path(name):
    calls = []
    layer = ALONE[name]()
    counting = type(f"Counting{type(layer).__name__}", (type(layer),),
                    {"__repr__": lambda self: calls.append(1) or name})
    layer.__class__ = counting  # the same layer, with a __repr__ that counts its calls
    x = np.random.default_rng(0).normal(size=(5, 3))
    out = layer.forward(x)
    layer.backward(out)
    net = Sequential(Linear(3, 3, rng=0), layer, Linear(out.shape[1], 2, rng=1))
    net.backward(net.forward(x))
    assert calls == []
    with pytest.raises(ValueError, match=r"input x contains NaN"):
        layer.forward(np.full((5, 3), np.nan))
    if "(" in name:  # a name with arguments is the layer's repr, formatted only now, when raising
        assert calls
