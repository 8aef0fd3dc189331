"""companion.layers: two-input nodes, Linear, Sequential."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import companion
from companion.layers import AddLayer, DivLayer, Linear, MulLayer, Sequential, SubLayer

TWO_INPUT = [AddLayer, SubLayer, MulLayer, DivLayer]


@pytest.mark.parametrize("shapes", [((), ()), ((4,), (4,)), ((2, 3), (2, 3)), ((5, 3), (3,)), ((2, 1), (1, 4)), ((3, 2), ())],
                         ids=str)
@pytest.mark.parametrize("Node", TWO_INPUT, ids=lambda c: c.__name__)
def test_two_input_nodes_match_numerical_gradients_with_broadcasting(Node, shapes):
    rng = np.random.default_rng(7)
    x = rng.normal(size=shapes[0])
    y = rng.uniform(0.5, 2, size=shapes[1]) * rng.choice([-1, 1], size=shapes[1])
    node = Node()
    errors = companion.layer_gradient_errors(node, x, y, rng=rng)
    assert errors["x"] < 1e-7 and errors["y"] < 1e-7
    dx, dy = node.backward(np.ones(np.broadcast_shapes(np.shape(x), np.shape(y))))
    assert np.shape(dx) == np.shape(x) and np.shape(dy) == np.shape(y)


def test_mul_and_add_local_rules_on_numbers():
    mul = MulLayer()
    assert mul.forward(3.0, 4.0) == 12.0
    assert mul.backward(2.0) == (8.0, 6.0)  # swapped inputs
    add = AddLayer()
    add.forward(3.0, 4.0)
    assert add.backward(2.0) == (2.0, 2.0)
    sub = SubLayer()
    sub.forward(3.0, 4.0)
    assert sub.backward(2.0) == (2.0, -2.0)
    div = DivLayer()
    assert div.forward(3.0, 2.0) == 1.5
    assert div.backward(1.0) == (0.5, -0.75)  # -x/y**2, not -1/y**2


def test_two_input_node_errors():
    with pytest.raises(RuntimeError, match="MulLayer: backward"):
        MulLayer().backward(1.0)
    with pytest.raises(ValueError, match=r"AddLayer: inputs x \(2,\) and y \(3,\) do not broadcast"):
        AddLayer().forward(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="DivLayer: divisor y must be nonzero"):
        DivLayer().forward(1.0, 0.0)
    with pytest.raises(ValueError, match=r"MulLayer: input y contains NaN"):
        MulLayer().forward(1.0, float("nan"))
    mul = MulLayer()
    mul.forward(np.ones((2, 2)), 3.0)
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        mul.backward(np.ones(2))


@pytest.mark.parametrize("n, d_in, d_out", [(1, 1, 1), (1, 4, 3), (7, 3, 5), (50, 1, 2), (3, 13, 1)])
def test_linear_gradients_for_any_batch_size(n, d_in, d_out):
    rng = np.random.default_rng(n * 100 + d_in * 10 + d_out)
    layer = Linear(d_in, d_out, rng=rng)
    layer.b[...] = rng.normal(size=d_out)
    errors = companion.layer_gradient_errors(layer, rng.normal(size=(n, d_in)), rng=rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7


def test_linear_shapes_and_formulas():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    x = rng.normal(size=(4, 3))
    out = layer.forward(x)
    assert out.shape == (4, 2)
    np.testing.assert_allclose(out, x @ layer.W + layer.b)
    dout = rng.normal(size=(4, 2))
    dx = layer.backward(dout)
    np.testing.assert_allclose(layer.grad_W, x.T @ dout)
    np.testing.assert_allclose(layer.grad_b, dout.sum(axis=0))
    np.testing.assert_allclose(dx, dout @ layer.W.T)


def test_linear_gradients_are_written_in_place():
    layer = Linear(3, 2, rng=0)
    pairs = layer.parameters()
    layer.forward(np.ones((5, 3)))
    layer.backward(np.ones((5, 2)))
    assert pairs[0][1] is layer.grad_W and pairs[1][1] is layer.grad_b
    np.testing.assert_allclose(pairs[1][1], [5.0, 5.0])
    layer.zero_grad()
    assert not layer.grad_W.any() and not layer.grad_b.any()


def test_linear_errors_name_the_layer_and_both_shapes():
    layer = Linear(4, 3, rng=0)
    with pytest.raises(ValueError, match=r"Linear\(4, 3\): input x has shape \(5, 2\), expected \(n, 4\)"):
        layer.forward(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"use x.reshape\(1, -1\)"):
        layer.forward(np.ones(4))
    with pytest.raises(RuntimeError, match=r"Linear\(4, 3\): backward"):
        layer.backward(np.ones((5, 3)))
    layer.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"dout has shape \(5, 4\), expected \(5, 3\)"):
        layer.backward(np.ones((5, 4)))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        Linear(0, 3)
    with pytest.raises(ValueError, match=r"unknown initialiser 'glorot'; expected one of \['he', 'standard_normal', 'xavier'\] or a function"):
        Linear(2, 3, init="glorot")


def test_linear_initialisation_is_reproducible_and_scaled():
    a, b = Linear(200, 300, rng=42), Linear(200, 300, rng=42)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, Linear(200, 300, rng=43).W)
    assert a.W.std() == pytest.approx(np.sqrt(2 / 200), rel=0.02)
    assert Linear(200, 300, init="xavier", rng=0).W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert a.W.dtype == np.float64 and not a.b.any()


def test_sequential_runs_layers_in_order_and_names_parameters():
    net = Sequential(Linear(2, 3, rng=0), companion.ReLU(), Linear(3, 1, rng=1))
    assert [name for name, _, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert len(net) == 3 and isinstance(net[1], companion.ReLU)
    x = np.random.default_rng(2).normal(size=(6, 2))
    errors = companion.layer_gradient_errors(net, x, rng=3)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b"}
    assert max(errors.values()) < 1e-7  # seeded: no pre-activation lies within h of ReLU's kink
    net.zero_grad()
    assert all(not grad.any() for _, grad in net.parameters())
    assert "Linear(2, 3)" in repr(net)


def test_sequential_refuses_things_that_are_not_layers():
    with pytest.raises(TypeError, match=r"Sequential: layer 1 .* expected a layer .* \(an instance, not the class\)"):
        Sequential(Linear(2, 2, rng=0), companion.ReLU)


def test_linear_backward_without_input_gradient_stores_the_same_parameter_gradients():
    rng = np.random.default_rng(3)
    layer = Linear(4, 3, rng=rng)
    x, dout = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    grads = (layer.grad_W.copy(), layer.grad_b.copy())
    layer.grad_W[...] = 0.0
    assert layer.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(layer.grad_W, grads[0])
    np.testing.assert_array_equal(layer.grad_b, grads[1])
    np.testing.assert_allclose(dx, dout @ layer.W.T)


def test_sequential_backward_without_input_gradient_stops_at_the_first_parameterised_layer():
    rng = np.random.default_rng(4)
    model = Sequential(companion.ReLU(), Linear(3, 4, rng=rng), companion.Tanh(), Linear(4, 2, rng=rng))
    x, dout = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    model.forward(x)
    model.backward(dout)
    expected = [g.copy() for _, g in model.parameters()]
    model.zero_grad()
    assert model.backward(dout, input_grad=False) is None
    for want, (_, got) in zip(expected, model.parameters()):
        np.testing.assert_array_equal(got, want)
    assert Sequential(companion.ReLU()).backward(np.ones(2), input_grad=False) is None


# --- every layer on minibatch shapes: batch size 1, odd sizes, random shapes ---------------------

ACTIVATIONS = [companion.ReLU, companion.Sigmoid, companion.Tanh, companion.Identity]
BATCH_SHAPES = [(1, 1), (1, 5), (7, 3), (3, 13), (50, 1)]


def away_from_kink(rng, shape):
    """Normal-ish numbers with |x| >= 0.1, so a central difference never straddles ReLU's kink."""
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1, 1], size=shape)


@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("Activation", ACTIVATIONS, ids=lambda c: c.__name__)
def test_activation_layers_on_minibatches(Activation, shape):
    rng = np.random.default_rng(sum(shape) * 31 + len(Activation.__name__))
    layer = Activation()
    x = away_from_kink(rng, shape)
    assert layer.forward(x).shape == shape
    assert layer.backward(np.ones(shape)).shape == shape
    assert companion.layer_gradient_errors(layer, x, rng=rng)["x"] < 1e-7


@settings(max_examples=40, derandomize=True, deadline=None)
@given(n=st.integers(1, 9), d_in=st.integers(1, 9), d_out=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_linear_gradients_on_random_shapes(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(d_in, d_out, init="xavier", rng=rng)
    layer.b[...] = rng.normal(size=d_out)
    x = rng.normal(size=(n, d_in))
    errors = companion.layer_gradient_errors(layer, x, rng=rng)
    assert max(errors.values()) < 1e-7
    dx = layer.backward(np.ones((n, d_out)))
    assert dx.shape == x.shape and layer.grad_W.shape == layer.W.shape and layer.grad_b.shape == layer.b.shape


@settings(max_examples=40, derandomize=True, deadline=None)
@given(n=st.integers(1, 7), sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       activation=st.sampled_from(ACTIVATIONS), seed=st.integers(0, 2**32 - 1))
def test_sequential_gradients_on_random_networks(n, sizes, activation, seed):
    """Linear, activation, Linear, activation, ... with random widths: every gradient checked."""
    rng = np.random.default_rng(seed)
    layers = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        layer = Linear(d_in, d_out, rng=rng)
        layer.b[...] = 0.5 * rng.normal(size=d_out)
        layers += [layer, activation()]
    net = Sequential(*layers)
    x = rng.normal(size=(n, sizes[0]))
    pre_activations, z = [], x
    for layer in net:
        if isinstance(layer, Linear):
            pre_activations.append(z @ layer.W + layer.b)
        z = layer.forward(z)
    assume(min(np.abs(u).min() for u in pre_activations) > 1e-3)  # no ReLU kink within reach of h
    errors = companion.layer_gradient_errors(net, x, rng=rng)
    assert set(errors) == {"x"} | {name for name, _, _ in net.named_parameters()}
    assert max(errors.values()) < 1e-6  # a few entries of sigmoid nets are tiny: 1e-7 is too tight


@pytest.mark.parametrize("Activation", [companion.Sigmoid, companion.Tanh, companion.Identity], ids=lambda c: c.__name__)
@pytest.mark.parametrize("n", [1, 5])
def test_sequential_with_each_activation_and_mse_loss(Activation, n):
    rng = np.random.default_rng(n)
    net = Sequential(Linear(3, 4, init="xavier", rng=rng), Activation(), Linear(4, 2, init="xavier", rng=rng), Activation())
    x, target = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    loss = companion.MSELoss()

    def total_loss():
        return loss.forward(net.forward(x), target)

    total_loss()
    net.backward(loss.backward())
    for name, param, grad in net.named_parameters():
        def f(value, param=param):
            saved = param.copy()
            param[...] = value
            try:
                return total_loss()
            finally:
                param[...] = saved
        # 1e-6, not 1e-7: entries of size 1e-5 (saturated sigmoids) carry round-off of about 1e-11
        assert companion.gradient_check(f, param, grad, verbose=False) < 1e-6, name


def test_sequential_errors_say_which_layer_failed():
    net = Sequential(Linear(2, 3, rng=0), companion.ReLU(), Linear(3, 3, rng=1), companion.ReLU(), Linear(4, 1, rng=2))
    with pytest.raises(ValueError, match=r"^Sequential layer 4: Linear\(4, 1\): input x has shape \(5, 3\), expected \(n, 4\)"):
        net.forward(np.ones((5, 2)))
    with pytest.raises(RuntimeError, match=r"^Sequential layer 4: Linear\(4, 1\): backward\(\) called before forward"):
        net.backward(np.ones((5, 1)))
    ok = Sequential(Linear(2, 3, rng=0), companion.Tanh())
    ok.forward(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"^Sequential layer 1: Tanh: upstream gradient dout .* has shape \(5, 2\), expected \(5, 3\)"):
        ok.backward(np.ones((5, 2)))
    with pytest.raises(TypeError, match=r"^Sequential layer 0: Linear\(2, 3\): input x must be real numbers"):
        ok.forward("data")

    class Silent:
        def forward(self, x):
            raise ValueError("no name in this message")

        def backward(self, dout):
            return dout

    with pytest.raises(ValueError, match=r"^Sequential layer 1 \(.*Silent object.*\): no name in this message"):
        Sequential(companion.Identity(), Silent()).forward(np.ones((2, 2)))


def test_sequential_train_and_eval_switch_every_layer_that_has_modes_and_return_the_model():
    inner = Sequential(companion.Dropout(0.5, rng=0), Linear(3, 3, rng=1))
    model = Sequential(Linear(2, 3, rng=0), companion.BatchNorm(3), companion.ReLU(), inner, companion.LayerNorm(3))
    assert model.training and model[1].training and inner[0].training
    assert model.eval() is model
    assert not model.training and not model[1].training and not inner.training and not inner[0].training
    assert model.train() is model and model[1].training and inner[0].training
    model.train(False)
    assert not model[1].training
    x = np.random.default_rng(2).normal(size=(1, 2))
    np.testing.assert_array_equal(model.forward(x), model.forward(x))  # eval: deterministic, batch of one


def test_mlp_builds_the_layers_in_order_from_one_generator():
    model = companion.mlp([5, 4, 3, 2], "tanh", init="xavier", batchnorm=True, dropout=0.5, rng=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "BatchNorm", "Tanh", "Dropout", "Linear", "BatchNorm", "Tanh", "Dropout", "Linear"]
    assert [layer.W.shape for layer in model if isinstance(layer, Linear)] == [(5, 4), (4, 3), (3, 2)]
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(model[0].W, companion.xavier_normal(5, 4, rng))
    np.testing.assert_array_equal(model[4].W, companion.xavier_normal(4, 3, rng))
    plain = companion.mlp([5, 4, 2], rng=1)
    assert [type(layer).__name__ for layer in plain] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(ValueError, match=r"mlp: sizes must list at least two sizes"):
        companion.mlp([5])
    with pytest.raises(ValueError, match=r"mlp: unknown activation 'gelu'; expected one of \['relu', 'sigmoid', 'tanh'\]"):
        companion.mlp([5, 2], "gelu")
    with pytest.raises(ValueError, match=r"mlp: every size must be a positive integer, got 0"):
        companion.mlp([5, 0, 2])


# --- Linear on sequences (..., in_features): Part VII ------------------------------------------------------


def test_linear_on_a_sequence_is_the_2d_layer_on_every_vector():
    layer = Linear(3, 2, rng=0)
    layer.b[...] = [0.5, -1.0]
    x = np.random.default_rng(1).normal(size=(4, 5, 3))
    dout = np.random.default_rng(2).normal(size=(4, 5, 2))
    out = layer.forward(x)
    dx = layer.backward(dout)
    grad_W, grad_b = layer.grad_W.copy(), layer.grad_b.copy()
    flat = Linear(3, 2, rng=0)
    flat.b[...] = layer.b
    np.testing.assert_array_equal(out, flat.forward(x.reshape(20, 3)).reshape(4, 5, 2))
    np.testing.assert_array_equal(dx, flat.backward(dout.reshape(20, 2)).reshape(4, 5, 3))
    np.testing.assert_array_equal(grad_W, flat.grad_W)
    np.testing.assert_array_equal(grad_b, flat.grad_b)
    assert layer.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(layer.grad_W, grad_W)
    errors = companion.layer_gradient_errors(layer, x, rng=3)
    assert max(errors.values()) < 1e-7, errors
    x4 = np.random.default_rng(4).normal(size=(2, 3, 1, 3))   # any number of leading axes
    assert layer.forward(x4).shape == (2, 3, 1, 2) and layer.backward(np.ones((2, 3, 1, 2))).shape == x4.shape


def test_linear_on_a_sequence_errors():
    layer = Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"^Linear\(3, 2\): input x has shape \(4, 5, 2\), expected "
                                         r"\(n, \.\.\., 3\): 3 features last$"):
        layer.forward(np.ones((4, 5, 2)))
    with pytest.raises(ValueError, match=r"^Linear\(3, 2\): input x has shape \(3,\), expected \(n, 3\) \(one sample\? "
                                         r"use x\.reshape\(1, -1\)\)"):
        layer.forward(np.ones(3))
    layer.forward(np.ones((4, 5, 3)))
    with pytest.raises(ValueError, match=r"^Linear\(3, 2\): upstream gradient dout has shape \(4, 2\), expected "
                                         r"\(4, 5, 2\)"):
        layer.backward(np.ones((4, 2)))
