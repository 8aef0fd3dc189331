"""companion.autodiff: every operation against finite differences, accumulation, edge cases, errors."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import companion
from companion import Linear, MSELoss, ReLU, Sequential, Sigmoid
from companion.autodiff import Tensor, topological_order

FAST = settings(max_examples=15, deadline=None, derandomize=True)
SEEDS = st.integers(0, 2**32 - 1)
PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def normal(rng, shape):
    return rng.normal(size=shape)


def away_from_zero(rng, shape, low=0.5, high=2.0):
    """Entries with |v| in [low, high]: safe divisors, and clear of ReLU's kink."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def check_gradients(f, *arrays, rng, tol=1e-6):
    """Backward of ``sum(f(*tensors) * dout)`` for a random dout vs central differences, for every input."""
    errors = companion.tensor_gradient_errors(f, *arrays, rng=rng)
    assert max(errors.values()) < tol, errors


# -------------------------------------------------------------------- operations

BINARY = {
    "add": (lambda x, y: x + y, normal),
    "sub": (lambda x, y: x - y, normal),
    "mul": (lambda x, y: x * y, normal),
    "div": (lambda x, y: x / y, away_from_zero),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(shapes=PAIRS, seed=SEEDS)
def test_binary_operations_with_broadcasting_match_finite_differences(name, shapes, seed):
    f, sample_y = BINARY[name]
    rng = np.random.default_rng(seed)
    sx, sy = shapes.input_shapes
    check_gradients(f, rng.normal(size=sx), sample_y(rng, sy), rng=rng)


UNARY = {
    "neg": (lambda x: -x, normal),
    "exp": (lambda x: x.exp(), normal),
    "log": (lambda x: x.log(), lambda rng, s: rng.uniform(0.2, 3, size=s)),
    "tanh": (lambda x: x.tanh(), normal),
    "sigmoid": (lambda x: x.sigmoid(), lambda rng, s: 3 * rng.normal(size=s)),
    "relu": (lambda x: x.relu(), away_from_zero),
    "square": (lambda x: x ** 2, normal),
    "cube": (lambda x: x ** 3, normal),
    "sqrt": (lambda x: x ** 0.5, lambda rng, s: rng.uniform(0.5, 2, size=s)),
    "reciprocal": (lambda x: x ** -1, away_from_zero),
    "one_over": (lambda x: 1 / x, away_from_zero),
    "affine_scalars": (lambda x: 3 - 2 * x + 1.5, normal),
    "sum": (lambda x: x.sum(), normal),
    "mean": (lambda x: x.mean(), normal),
    "sum_last_keepdims": (lambda x: x.sum(axis=-1, keepdims=True) if x.ndim else x.sum(), normal),
    "mean_first": (lambda x: x.mean(axis=0) if x.ndim else x.mean(), normal),
    "reshape": (lambda x: x.reshape(-1), normal),
    "transpose": (lambda x: x.T * np.arange(1.0, 1 + x.size).reshape(x.T.shape), normal),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=SHAPES, seed=SEEDS)
def test_one_input_operations_match_finite_differences(name, shape, seed):
    f, sample = UNARY[name]
    rng = np.random.default_rng(seed)
    check_gradients(f, sample(rng, shape), rng=rng)


MATMUL_SHAPES = [((3, 4), (4, 2)), ((1, 1), (1, 1)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((3,), (2, 3, 4))]


@pytest.mark.parametrize("sx, sy", MATMUL_SHAPES, ids=str)
def test_matmul_matches_finite_differences_for_vectors_matrices_and_stacks(sx, sy):
    rng = np.random.default_rng(len(sx) * 10 + len(sy))
    check_gradients(lambda x, w: x @ w, rng.normal(size=sx), rng.normal(size=sy), rng=rng)


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), (2, 0), None])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_reductions_over_any_axes(axis, keepdims, reduce):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4))
    check_gradients(lambda t: getattr(t, reduce)(axis=axis, keepdims=keepdims), x, rng=rng)
    expected = getattr(x, reduce)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(getattr(Tensor(x), reduce)(axis=axis, keepdims=keepdims).data, expected)


@pytest.mark.parametrize("index", [1, -1, (0, 2), (slice(None), 1), (Ellipsis, slice(0, 2)),
                                   ([0, 0, 1],), (np.array([[1, 1], [0, 1]]),), np.array([True, False, True])],
                         ids=repr)
def test_indexing_scatters_gradients_and_adds_repeats(index):
    rng = np.random.default_rng(4)
    check_gradients(lambda t: t[index], rng.normal(size=(3, 4)), rng=rng)


def test_max_routes_dout_to_the_winner_and_ties_to_the_first():
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 7.0]])
    out = x.max(axis=1)
    np.testing.assert_array_equal(out.data, [5.0, 7.0])
    out.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad, [[0, 10, 0], [20, 0, 0]])   # the tie at 7: the first gets all
    y = Tensor(np.array([[3.0, 1.0], [0.0, 3.0]]))
    y.max().backward()                                               # over all entries: first in C order
    np.testing.assert_array_equal(y.grad, [[1, 0], [0, 0]])
    z = Tensor(np.arange(24.0).reshape(2, 3, 4)[:, ::-1])            # winners at different places
    z.max(axis=(0, 2), keepdims=True).backward(np.ones((1, 3, 1)))
    np.testing.assert_array_equal(np.argwhere(z.grad), [[1, 0, 3], [1, 1, 3], [1, 2, 3]])
    assert Tensor(4.0).max().item() == 4.0


def test_indexing_with_a_repeated_index_adds_the_gradients():
    x = Tensor(np.arange(4.0))
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1, 0])


def test_transpose_with_explicit_axes_and_reshape_forms():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 4))
    check_gradients(lambda t: t.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), x, rng=rng)
    check_gradients(lambda t: t.transpose((1, -1, 0)).reshape((3, 8)) ** 2, x, rng=rng)
    assert Tensor(x).reshape(6, 4).shape == Tensor(x).reshape((6, 4)).shape == (6, 4)


def test_forward_values_equal_numpy_and_companion_functions():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 4))
    t = Tensor(x)
    np.testing.assert_array_equal(t.sigmoid().data, Sigmoid().forward(x))
    np.testing.assert_array_equal(t.relu().data, ReLU().forward(x))
    np.testing.assert_array_equal(t.tanh().data, np.tanh(x))
    np.testing.assert_array_equal((t @ t.T).data, x @ x.T)
    assert Tensor(-1000.0).sigmoid().item() == 0.0  # no overflow warning (warnings are errors in tests)


def test_local_backward_is_the_row_of_the_local_derivative_table():
    x, y, dout = Tensor(3.0), Tensor(4.0), np.array(2.0)
    assert [float(g) for g in (x * y).local_backward(dout)] == [8.0, 6.0]     # swap the inputs
    assert [float(g) for g in (x + y).local_backward(dout)] == [2.0, 2.0]     # pass through
    assert [float(g) for g in (x - y).local_backward(dout)] == [2.0, -2.0]
    assert [float(g) for g in (x / y).local_backward(dout)] == [0.5, -0.375]  # -x/y**2, not -1/y**2
    s = x.sigmoid()
    assert float(s.local_backward(dout)[0]) == float(dout * s.data * (1 - s.data))


# --------------------------------------------------------- accumulation and reuse

def test_a_value_used_twice_gets_the_sum_of_both_gradients():
    x = Tensor(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # not 3: both slots of the multiplication contribute
    a = Tensor(np.array([1.0, 2.0]))
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    x, y = Tensor(2.0), Tensor(3.0)
    (x * y + x).backward()
    assert (x.grad, y.grad) == (4.0, 2.0)


def test_an_intermediate_value_feeding_three_nodes():
    rng = np.random.default_rng(7)
    check_gradients(lambda x: (lambda h: h * h + h.tanh() - h)(x.exp()), rng.normal(size=(2, 3)), rng=rng)


def test_shared_weights_accumulate_over_both_uses():
    rng = np.random.default_rng(8)
    w, x = rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    check_gradients(lambda w, x: ((x @ w).tanh() @ w).sum(axis=1), w, x, rng=rng)


def test_a_10000_node_chain_needs_no_recursion():
    x = Tensor(0.5)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    assert len(topological_order(y)) > 20_000
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 10_000, rel=1e-9)
    del y
    gc.collect()  # freeing a long chain must not overflow the C stack either


def test_backward_twice_accumulates_in_leaves_and_recomputes_intermediates():
    x = Tensor(np.array([1.0, 2.0]))
    h = x * 3
    loss = (h * h).sum()
    loss.backward()
    first_x, first_h = x.grad.copy(), h.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * first_x)   # leaves add up, as in PyTorch
    np.testing.assert_array_equal(h.grad, first_h)       # intermediates are recomputed
    grad_array = x.grad
    x.zero_grad()
    assert x.grad is grad_array and not x.grad.any()  # zeroed in place, same array
    loss.backward()
    np.testing.assert_array_equal(x.grad, first_x)


def test_leaf_gradients_are_their_own_writable_arrays():
    a, b = Tensor(np.ones(3)), Tensor(np.ones(3))
    s = a + b
    s.sum().backward()
    a.grad *= 0  # e.g. gradient clipping in place
    np.testing.assert_array_equal(b.grad, np.ones(3))
    np.testing.assert_array_equal(s.grad, np.ones(3))


def test_constants_get_no_gradient_and_numpy_arrays_mix_in_from_either_side():
    x = Tensor(np.array([1.0, 2.0]))
    c = np.array([10.0, 20.0])
    out = c * x + c - x / 2 + 1
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, c - 0.5)
    data = Tensor(c, requires_grad=False)
    (data * x).sum().backward()
    assert data.grad is None


# ------------------------------------------------------------ edge cases

def test_zero_size_tensors():
    x = Tensor(np.zeros((0, 3)))
    w = Tensor(np.ones((3, 2)))
    loss = (x @ w).sum()
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(w.grad, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no entries to average"):
        x.mean()


def test_scalar_tensors():
    x = Tensor(2.0)
    y = (x ** 3).exp().log() - x
    assert y.shape == () and y.item() == pytest.approx(6.0)
    y.backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == ()
    assert float(x.grad) == pytest.approx(11.0)


def test_seed_gradient_for_a_non_scalar_result():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    y = x * x
    y.backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 12.0])


def test_repr_is_short_and_has_no_address():
    assert repr(Tensor([1.0, 2.0], name="w")) == "Tensor([1., 2.], name='w')"
    assert repr(Tensor(2.0) * 3) == "Tensor(6., op='×')"
    assert "requires_grad=False" in repr(Tensor(1.0, requires_grad=False))


def test_from_op_adds_a_new_operation():
    x = Tensor(np.array([0.1, 0.7]))

    def sin(t):
        return Tensor.from_op(np.sin(t.data), (t,), "sin", lambda dout: (dout * np.cos(t.data),))

    sin(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.cos([0.1, 0.7]))


# ------------------------------------------------- agreement with the layers

def test_a_linear_relu_network_matches_companion_layers_to_1e_12():
    rng = np.random.default_rng(9)
    net = Sequential(Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng))
    for layer in (net[0], net[2]):
        layer.b[...] = rng.normal(size=layer.b.shape)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    loss = MSELoss()
    loss.forward(net.forward(X), Y)
    net.backward(loss.backward())
    params = [Tensor(p.copy()) for p, _ in net.parameters()]
    W1, b1, W2, b2 = params
    L = (((Tensor(X) @ W1 + b1).relu() @ W2 + b2 - Y) ** 2).sum() / (2 * len(X))
    L.backward()
    for t, (_, grad) in zip(params, net.parameters()):
        assert companion.relative_error(t.grad, grad) < 1e-12


# ---------------------------------------------------------------------- errors

def test_errors_name_the_operation_and_what_was_expected():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"Tensor @: cannot multiply shapes \(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"Tensor @: cannot multiply shapes \(\) and \(2, 3\)"):
        Tensor(1.0) @ a
    with pytest.raises(ValueError, match=r"Tensor \+: shapes \(2, 3\) and \(4, 5\) do not broadcast"):
        a + b
    with pytest.raises(ValueError, match="Tensor: data contains NaN"):
        Tensor([1.0, float("nan")])
    with pytest.raises(ValueError, match="contains NaN"):
        a * np.array([np.inf, 1.0, 1.0])
    with pytest.raises(TypeError, match="Tensor: data must be real numbers"):
        Tensor("3")
    with pytest.raises(TypeError, match="already a Tensor"):
        Tensor(a)
    with pytest.raises(ValueError, match=r"shape \(2, 3\); backward\(\) without a seed"):
        a.backward()
    with pytest.raises(ValueError, match=r"Tensor.backward: seed gradient grad .* has shape \(3,\), expected \(2, 3\)"):
        (a * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="nothing to differentiate"):
        (Tensor(1.0, requires_grad=False) * 2).backward()
    with pytest.raises(TypeError, match="exponent must be a number"):
        a ** a
    with pytest.raises(ValueError, match="needs x >= 0"):
        Tensor(-1.0) ** 0.5
    with pytest.raises(ValueError, match="undefined at x = 0"):
        Tensor(0.0) ** -1
    with pytest.raises(ValueError, match="Tensor.log: input must be > 0"):
        Tensor(0.0).log()
    with pytest.raises(ValueError, match="divisor has a zero entry"):
        a / np.zeros(3)
    with pytest.raises(ValueError, match="axis 2 is out of range for a 2-D tensor"):
        a.sum(axis=2)
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple"):
        a.mean(axis=1.0)
    with pytest.raises(ValueError, match=r"Tensor.max: no entries to compare \(shape \(0, 3\)"):
        Tensor(np.ones((0, 3))).max(axis=0)
    with pytest.raises(ValueError, match="repeats an axis"):
        a.sum(axis=(0, -2))
    with pytest.raises(ValueError, match=r"Tensor.reshape: cannot reshape shape \(2, 3\) into \(4,\)"):
        a.reshape(4)
    with pytest.raises(ValueError, match="Tensor.transpose: axes"):
        a.transpose(0, 0)
    with pytest.raises(IndexError, match=r"Tensor\[5\].*shape \(2, 3\)"):
        a[5]
    with pytest.raises(TypeError, match="not with a Tensor"):
        a[Tensor(0.0)]
    with pytest.raises(ValueError, match=r"Tensor.item: the tensor has shape \(2, 3\)"):
        a.item()
    with pytest.raises(TypeError, match="parent 0 is a ndarray, expected a Tensor"):
        Tensor.from_op(np.ones(2), (np.ones(2),), "f", lambda dout: (dout,))
    with pytest.raises(TypeError, match="local_backward must be a function"):
        Tensor.from_op(np.ones(2), (a,), "f", None)
    with pytest.raises(TypeError, match="topological_order: expected a Tensor"):
        topological_order(np.ones(2))


# --- Part V operations: maximum (the max gate), var, sqrt -----------------------------------------


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1), (1, 3)), ((), ())], ids=str)
def test_part5_operations_match_central_differences(shapes):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    errors = companion.tensor_gradient_errors(lambda a, b: a.maximum(b), x, y, rng=1)
    assert max(errors.values()) < 1e-7, errors
    positive = rng.uniform(0.5, 2.0, size=shapes[0])
    assert companion.tensor_gradient_errors(lambda a: a.sqrt(), positive, rng=2)["x"] < 1e-7
    for axis in [None, 0, -1, (0, 1)][: 1 + len(shapes[0])]:
        for keepdims in (False, True):
            err = companion.tensor_gradient_errors(lambda a: a.var(axis=axis, keepdims=keepdims), x, rng=3)["x"]
            assert err < 1e-7, (axis, keepdims)


def test_part5_operations_values():
    x = Tensor([[1.0, -2.0], [3.0, 0.5]])
    np.testing.assert_array_equal(x.maximum(0.0).data, [[1.0, 0.0], [3.0, 0.5]])
    np.testing.assert_array_equal(x.var(axis=0).data, np.var(x.data, axis=0))
    np.testing.assert_array_equal(x.var().data, np.var(x.data))
    assert x.var(axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_array_equal(Tensor([4.0, 9.0]).sqrt().data, [2.0, 3.0])


def test_maximum_routes_dout_to_the_winner_and_ties_to_the_first_input():
    x, y = Tensor([1.0, 5.0, 2.0]), Tensor([3.0, 4.0, 2.0])
    (x.maximum(y) * Tensor([10.0, 20.0, 30.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 20.0, 30.0])
    np.testing.assert_array_equal(y.grad, [10.0, 0.0, 0.0])
    b = Tensor(0.0)
    Tensor([-1.0, 2.0, 3.0]).maximum(b).sum().backward()
    assert b.grad == 1.0                                 # the constant wins once: its gradient sums over the row


def test_var_backward_is_two_deviations_over_the_count():
    x = Tensor(np.array([[1.0, 2.0], [4.0, 8.0], [7.0, 2.0]]))
    x.var(axis=0).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (x.data - x.data.mean(axis=0)) / 3, rtol=1e-15)


def test_part5_errors():
    with pytest.raises(ValueError, match=r"Tensor.sqrt: input must be >= 0, got min x = -1"):
        Tensor([-1.0, 4.0]).sqrt()
    with pytest.raises(ValueError, match=r"Tensor maximum: shapes \(2,\) and \(3,\) do not broadcast"):
        Tensor(np.ones(2)).maximum(np.ones(3))
    with pytest.raises(ValueError, match=r"Tensor.var: no entries \(shape \(0, 3\), axis 0\)"):
        Tensor(np.ones((0, 3))).var(axis=0)
    with pytest.raises(ValueError, match=r"Tensor.var: axis 2 is out of range for a 2-D tensor"):
        Tensor(np.ones((2, 3))).var(axis=2)
    zero = Tensor([0.0, 4.0])
    zero.sqrt().sum().backward()
    assert zero.grad[0] == np.inf and zero.grad[1] == 0.25


# --- Part VII: softmax along an axis, masked_fill -----------------------------------------------------------


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 100))
def test_softmax_along_each_axis_matches_finite_differences(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape)
    for axis in range(-len(shape), len(shape)):
        out = Tensor(x).softmax(axis=axis).data
        np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-14)
        np.testing.assert_allclose(out, np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True), rtol=1e-13)
        errors = companion.tensor_gradient_errors(lambda t: t.softmax(axis=axis), x, rng=seed)
        assert max(errors.values()) < 1e-7, errors


def test_softmax_backward_is_companions_softmax_backward():
    x = np.random.default_rng(0).normal(size=(3, 5))
    dout = np.random.default_rng(1).normal(size=(3, 5))
    t = Tensor(x)
    out = t.softmax()
    out.backward(dout)
    np.testing.assert_array_equal(out.data, companion.softmax(x))
    np.testing.assert_allclose(t.grad, companion.softmax_backward(companion.softmax(x), dout), rtol=1e-14, atol=1e-16)


def test_masked_fill_passes_no_gradient_where_masked():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    mask = np.array([False, True, False])          # broadcast to every row
    out = x.masked_fill(mask, -7.0)
    np.testing.assert_array_equal(out.data, [[0, -7, 2], [3, -7, 5]])
    out.backward(np.full((2, 3), 2.0))
    np.testing.assert_array_equal(x.grad, [[2, 0, 2], [2, 0, 2]])
    errors = companion.tensor_gradient_errors(lambda t: t.masked_fill(mask, 0.5) * t, np.ones((2, 3)) * 1.5, rng=0)
    assert max(errors.values()) < 1e-9


def test_masked_fill_with_minus_infinity_before_a_softmax_gives_zero_weights_and_zero_gradients():
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 3)))
    causal = np.triu(np.ones((3, 3), dtype=bool), k=1)
    p = x.masked_fill(causal, -np.inf).softmax(axis=-1)
    assert np.all(p.data[:, causal] == 0.0) and np.all(np.isfinite(p.data))
    np.testing.assert_allclose(p.data.sum(axis=-1), 1.0, rtol=1e-15)
    (p * np.random.default_rng(1).normal(size=(2, 3, 3))).sum().backward()
    assert np.all(x.grad[:, causal] == 0.0)
    assert np.all(x.grad[:, 0, 0] == 0.0)           # row 0 sees one position: its weight is 1 whatever x
    assert np.all(x.grad[:, 1:][:, ~causal[1:]] != 0.0)


def test_softmax_and_masked_fill_errors():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"^Tensor.softmax: axis must be an int, got None"):
        t.softmax(axis=None)
    with pytest.raises(ValueError, match=r"^Tensor.softmax: axis 2 is out of range for a 2-D tensor"):
        t.softmax(axis=2)
    with pytest.raises(ValueError, match=r"^Tensor.softmax: no entries along axis -1 \(shape \(\)\)"):
        Tensor(1.0).softmax()
    with pytest.raises(ValueError, match=r"^Tensor.softmax: no entries along axis 1 \(shape \(2, 0\)\)"):
        Tensor(np.zeros((2, 0))).softmax()
    with pytest.raises(ValueError, match=r"^Tensor.softmax: a slice has every entry -inf \(all masked\)"):
        t.masked_fill(np.array([[True] * 3, [False] * 3]), -np.inf).softmax()
    with pytest.raises(TypeError, match=r"^Tensor.masked_fill: the mask must be a boolean numpy array, not a Tensor"):
        t.masked_fill(Tensor(np.ones(3)), 0.0)
    with pytest.raises(TypeError, match=r"^Tensor.masked_fill: the mask must be a boolean array, got dtype int64"):
        t.masked_fill(np.ones(3, dtype=np.int64), 0.0)
    for value in (None, np.nan, True, "0"):
        with pytest.raises(TypeError, match=r"^Tensor.masked_fill: value must be a number \(-inf allowed\)"):
            t.masked_fill(np.ones(3, dtype=bool), value)
    with pytest.raises(ValueError, match=r"^Tensor masked_fill: shapes \(2, 3\) and \(2,\) do not broadcast"):
        t.masked_fill(np.ones(2, dtype=bool), 0.0)
