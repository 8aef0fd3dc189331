"""companion.conv: Conv2d, MaxPool2d, AvgPool2d, Flatten, im2col/col2im, and the Tensor operations of part VI."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import companion
from companion import Sequential, Tensor, layer_gradient_errors, relative_error
from companion.conv import (AvgPool2d, Conv2d, Flatten, MaxPool2d, col2im, conv2d_loops, conv2d_loops_backward,
                            im2col, output_shape)
from companion.gradcheck import numerical_gradient, numerical_parameter_gradient

# (n, c_in, c_out, height, width, kernel, stride, padding): 1x1 kernels, a kernel as large as the
# padded input, stride > kernel, batch 1, rectangular images
CONFIGS = [
    (2, 3, 4, 5, 7, 3, 1, 0),
    (1, 2, 3, 7, 7, 3, 2, 1),
    (2, 1, 2, 4, 4, 1, 1, 0),
    (1, 2, 2, 3, 3, 5, 1, 1),   # kernel = padded input: one output pixel
    (3, 2, 3, 8, 5, 2, 3, 0),   # stride 3 > kernel 2: pixels no window sees
    (1, 1, 1, 1, 1, 1, 1, 0),
    (2, 2, 1, 6, 6, 2, 2, 2),
]


def layer_and_input(n, c_in, c_out, h, w, k, s, p, seed=0):
    rng = np.random.default_rng(seed)
    layer = Conv2d(c_in, c_out, k, s, p, rng=rng)
    layer.b[...] = rng.normal(size=c_out)
    return layer, rng.normal(size=(n, c_in, h, w)), rng


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_conv2d_computes_the_definition_forward_and_backward(config):
    layer, x, rng = layer_and_input(*config)
    out = layer.forward(x)
    np.testing.assert_allclose(out, conv2d_loops(x, layer.W, layer.b, layer.stride, layer.padding), atol=1e-13)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    dx_loops, grad_W, grad_b = conv2d_loops_backward(x, layer.W, dout, layer.stride, layer.padding)
    np.testing.assert_allclose(dx, dx_loops, atol=1e-13)
    np.testing.assert_allclose(layer.grad_W, grad_W, atol=1e-12)
    np.testing.assert_allclose(layer.grad_b, grad_b, atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_conv2d_gradients_match_central_differences(config):
    layer, x, rng = layer_and_input(*config)
    errors = layer_gradient_errors(layer, x, rng=rng, h=1e-4)
    assert max(errors.values()) < 1e-7, errors


def test_the_output_size_formula_and_the_refusals():
    assert output_shape((8, 8), 3, 1, 1) == (8, 8)
    assert output_shape((8, 6), 2, 2, 0) == (4, 3)
    assert output_shape((7, 7), 7, 1, 0) == (1, 1)
    with pytest.raises(ValueError, match=r"input 8×8 with kernel 5, stride 2, padding 0 gives a non-integer output "
                                         r"size: \(8 \+ 2·0 - 5\)/2 \+ 1 = 2\.5;.*for example kernel_size=4"):
        Conv2d(1, 4, 5, stride=2, rng=0).forward(np.zeros((3, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2d\(1, 4, kernel_size=5, padding=1\): input 2×3 with kernel 5, stride 1, padding 1 "
                                         r"is smaller than the kernel \(2 \+ 2·1 < 5\); expected a height and width of "
                                         r"at least kernel_size - 2·padding = 3"):
        Conv2d(1, 4, 5, padding=1, rng=0).forward(np.zeros((3, 1, 2, 3)))
    with pytest.raises(ValueError, match=r"MaxPool2d\(2\): input 5×4 with kernel 2, stride 2, padding 0 gives a "
                                         r"non-integer output size: \(5 \+ 2·0 - 2\)/2 \+ 1 = 2\.5"):
        MaxPool2d(2).forward(np.zeros((1, 1, 5, 4)))


def test_conv2d_names_the_shape_it_expected():
    conv = Conv2d(1, 16, 3, padding=1, rng=0)
    with pytest.raises(ValueError, match=r"Conv2d\(1, 16, kernel_size=3, padding=1\): input x has shape \(5, 64\), "
                                         r"expected \(n, 1, height, width\) \(rows of 64 pixels\? make them images: "
                                         r"x.reshape\(-1, 1, 8, 8\)\)"):
        conv.forward(np.zeros((5, 64)))
    with pytest.raises(ValueError, match=r"shape \(5, 8, 8\), expected \(n, 1, height, width\) \(one channel\? add "
                                         r"the channel axis: x\[:, None\]\)"):
        conv.forward(np.zeros((5, 8, 8)))
    with pytest.raises(ValueError, match=r"shape \(5, 8, 8, 1\), expected \(n, 1, height, width\) \(channels last\? "
                                         r"put them second: x.transpose\(0, 3, 1, 2\)\)"):
        conv.forward(np.zeros((5, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 2, kernel_size=1\): input x has shape \(5, 2, 4, 4\), "
                                         r"expected \(n, 3, height, width\)$"):
        Conv2d(3, 2, 1, rng=0).forward(np.zeros((5, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2d\(1, 16, kernel_size=3, padding=1\): input x contains NaN"):
        conv.forward(np.full((1, 1, 3, 3), np.nan))
    with pytest.raises(TypeError, match=r"input x must be real numbers"):
        conv.forward("image")


@pytest.mark.parametrize("layer", [Conv2d(2, 3, 3, rng=0), MaxPool2d(2), AvgPool2d(2), Flatten()], ids=repr)
def test_backward_before_forward_and_a_wrong_dout(layer):
    with pytest.raises(RuntimeError, match=rf"{type(layer).__name__}.*: backward\(\) called before forward\(\)"):
        layer.backward(np.zeros((1, 3, 2, 2)))
    layer.forward(np.ones((2, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"upstream gradient dout \(the shape of forward's output\) has shape \(1, 1\)"):
        layer.backward(np.zeros((1, 1)))


def test_constructor_errors():
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be a positive integer"):
            Conv2d(1, 1, bad)
    with pytest.raises(ValueError, match=r"Conv2d: in_channels must be a positive integer, got 0"):
        Conv2d(0, 1, 3)
    with pytest.raises(ValueError, match=r"Conv2d: stride must be a positive integer, got 0"):
        Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match=r"Conv2d: padding must be a non-negative integer, got -1"):
        Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match=r"Conv2d: unknown initialiser 'lecun'; expected one of \['he', 'xavier'\]"):
        Conv2d(1, 1, 3, init="lecun")
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        Conv2d(1, 1, 3, rng="seed")
    with pytest.raises(ValueError, match=r"MaxPool2d: padding 2 is more than half the kernel size 3; expected "
                                         r"padding <= kernel_size // 2 = 1"):
        MaxPool2d(3, padding=2)
    with pytest.raises(ValueError, match=r"AvgPool2d: stride must be a positive integer, got 0"):
        AvgPool2d(2, stride=0)
    with pytest.raises(ValueError, match=r"Flatten: input x has shape \(3,\), expected \(n, \.\.\.\)"):
        Flatten().forward(np.zeros(3))


def test_he_and_xavier_initialisation_from_the_seeded_generator():
    conv = Conv2d(8, 64, 5, rng=0)
    assert conv.W.shape == (64, 8, 5, 5) and not conv.b.any()
    assert conv.W.std() == pytest.approx(np.sqrt(2 / (8 * 25)), rel=0.03)          # fan_in = c_in k k
    xavier = Conv2d(8, 64, 5, init="xavier", rng=0)
    assert xavier.W.std() == pytest.approx(np.sqrt(2 / (8 * 25 + 64 * 25)), rel=0.03)  # fan_out = c_out k k
    np.testing.assert_array_equal(Conv2d(2, 3, 3, rng=5).W, Conv2d(2, 3, 3, rng=np.random.default_rng(5)).W)
    assert not np.array_equal(Conv2d(2, 3, 3, rng=5).W, Conv2d(2, 3, 3, rng=6).W)


def test_layer_protocol_grads_are_overwritten_in_place_and_input_grad_false_skips_dx():
    layer, x, rng = layer_and_input(2, 2, 3, 5, 5, 3, 1, 1)
    grads = [grad for _, grad in layer.parameters()]
    assert [name for name, _, _ in layer.named_parameters()] == ["W", "b"]
    dout = rng.normal(size=layer.forward(x).shape)
    dx = layer.backward(dout)
    first = [g.copy() for g in grads]
    assert layer.backward(dout, input_grad=False) is None
    for g, before, (_, now) in zip(grads, first, layer.parameters()):
        assert g is now
        np.testing.assert_array_equal(g, before)  # overwritten with the same values, not added
    layer.zero_grad()
    assert not any(g.any() for g in grads)
    assert dx.shape == x.shape


def test_sequential_skips_the_first_convolutions_dx_when_training():
    net = companion.digits_cnn(0)
    x = np.random.default_rng(1).uniform(size=(3, 1, 8, 8))
    out = net.forward(x)
    calls = []
    first = net[0]
    original = first.backward
    first.backward = lambda dout, input_grad=True, **kw: calls.append(input_grad) or original(dout, input_grad, **kw)
    try:
        assert net.backward(np.ones_like(out), input_grad=False) is None
    finally:
        del first.backward
    assert calls == [False]


def test_reprs():
    assert repr(Conv2d(1, 16, 3, padding=1, rng=0)) == "Conv2d(1, 16, kernel_size=3, padding=1)"
    assert repr(Conv2d(2, 4, 5, stride=2, rng=0)) == "Conv2d(2, 4, kernel_size=5, stride=2)"
    assert repr(MaxPool2d(2)) == "MaxPool2d(2)"
    assert repr(AvgPool2d(3, stride=1, padding=1)) == "AvgPool2d(3, stride=1, padding=1)"
    assert repr(Flatten()) == "Flatten()"


# --- im2col and col2im -----------------------------------------------------------------------------


def im2col_loops(x, k, s, p):
    n, c, h, w = x.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = output_shape((h, w), k, s, p)
    return np.array([xpad[i, :, s * a:s * a + k, s * b:s * b + k].reshape(-1)
                     for i in range(n) for a in range(oh) for b in range(ow)])


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_im2col_rows_are_the_patches_and_col2im_is_its_transpose(config):
    n, c, _, h, w, k, s, p = config
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, c, h, w))
    col = im2col(x, k, s, p)
    np.testing.assert_array_equal(col, im2col_loops(x, k, s, p))
    other = rng.normal(size=col.shape)
    back = col2im(other, x.shape, k, s, p)
    assert back.shape == x.shape
    # <im2col(x), C> = <x, col2im(C)>: col2im is the transpose of the linear map im2col
    assert np.sum(col * other) == pytest.approx(np.sum(x * back), rel=1e-12)
    counts = col2im(np.ones_like(col), x.shape, k, s, p)       # how many patches hold each pixel
    np.testing.assert_allclose(col2im(col, x.shape, k, s, p), x * counts, rtol=1e-12)


def test_im2col_and_col2im_errors():
    with pytest.raises(ValueError, match=r"im2col: input x has shape \(3, 4\), expected \(n, c, height, width\)"):
        im2col(np.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match=r"im2col: input 5×5 with kernel 2, stride 2, padding 0 gives a non-integer"):
        im2col(np.zeros((1, 1, 5, 5)), 2, 2)
    with pytest.raises(ValueError, match=r"col2im: col \(the shape im2col gives\) has shape \(4, 4\), expected \(18, 4\)"):
        col2im(np.zeros((4, 4)), (2, 1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"col2im: x_shape is \(4, 4\), expected the images' shape"):
        col2im(np.zeros((4, 4)), (4, 4), 2)


# --- pooling -----------------------------------------------------------------------------------------


def pool_loops(x, k, s, p, reduce, pad_value):
    n, c, h, w = x.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh, ow = output_shape((h, w), k, s, p)
    return np.array([[[[reduce(xpad[i, l, s * a:s * a + k, s * b:s * b + k]) for b in range(ow)] for a in range(oh)]
                      for l in range(c)] for i in range(n)])


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 3, 0), (1, 1, 0), (2, 1, 1)], ids=str)
def test_pooling_computes_the_max_and_the_mean_of_every_window(k, s, p):
    rng = np.random.default_rng(k * 10 + s)
    h = (3 - 1) * s + k - 2 * p
    x = rng.normal(size=(2, 3, h, h + s))
    np.testing.assert_array_equal(MaxPool2d(k, s, p).forward(x), pool_loops(x, k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(AvgPool2d(k, s, p).forward(x), pool_loops(x, k, s, p, np.mean, 0.0), rtol=1e-13)


def test_max_pooling_routes_dout_to_the_first_winner_and_adds_where_windows_overlap():
    pool = MaxPool2d(2)
    x = np.array([[[[1.0, 5.0, 2.0, 2.0],
                    [3.0, 0.0, 2.0, 1.0]]]])
    assert pool.forward(x).tolist() == [[[[5.0, 2.0]]]]
    dx = pool.backward(np.array([[[[10.0, 20.0]]]]))
    assert dx.tolist() == [[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]   # the tie 2, 2, 2: the first wins
    overlapping = MaxPool2d(2, stride=1)
    y = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    overlapping.forward(y)
    assert overlapping.backward(np.array([[[[1.0, 2.0]]]])).tolist() == [[[[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]]]


def test_average_pooling_spreads_dout_evenly():
    pool = AvgPool2d(2)
    pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    dx = pool.backward(np.array([[[[4.0, 8.0], [12.0, 16.0]]]]))
    assert dx[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_flatten_keeps_the_row_major_order():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    flat = Flatten()
    np.testing.assert_array_equal(flat.forward(x), x.reshape(2, 12))
    np.testing.assert_array_equal(flat.backward(np.arange(24.0).reshape(2, 12)), x)


# --- property tests: backward against central differences, across shapes ------------------------------


@st.composite
def image_configs(draw, pooling=False):
    """(n, c, h, w, kernel, stride, padding) with a whole number of output positions.

    Includes 1x1 kernels, kernels as large as the padded input, stride > kernel, batch 1.
    """
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2 if pooling else k))
    sizes = []
    for out in (draw(st.integers(1, 3)), draw(st.integers(1, 3))):   # output positions per axis
        size = (out - 1) * s + k - 2 * p
        while size < 1:                                               # one more position, one more stride
            size += s
        sizes.append(size)
    h, w = sizes
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w, k, s, p


def central_difference_errors(layer, x, rng, h, positive_dout=False):
    """Max relative error of layer.backward (x and parameters) against central differences of step ``h``.

    The loss is ``sum(layer.forward(x) * dout)``. Convolution and average pooling are linear in the
    input and in each parameter, so a central difference has no truncation error for any step, and a
    large one (h = 0.5) keeps the round-off, about eps * |L| / h, far below 1e-7 of any entry. Max pooling
    is linear between ties: its inputs are at least 1 apart (``distinct_values``), so a step of 0.25
    crosses none, and a positive ``dout`` keeps the sums that overlapping windows send to a pixel away
    from 0, where a relative error would measure round-off.
    """
    out = layer.forward(x)
    dout = rng.uniform(0.5, 1.5, size=out.shape) if positive_dout else rng.normal(size=out.shape)
    dx = layer.backward(dout)
    grads = {name: grad.copy() for name, _, grad in getattr(layer, "named_parameters", list)()}

    def loss():
        return float(np.sum(layer.forward(x) * dout))

    def loss_of_x(value):
        return float(np.sum(layer.forward(value) * dout))

    errors = [relative_error(dx, numerical_gradient(loss_of_x, x, h=h))]
    for name, param, _ in getattr(layer, "named_parameters", list)():
        errors.append(relative_error(grads[name], numerical_parameter_gradient(loss, param, h=h)))
    return max(errors)


def distinct_values(rng, shape):
    """Values at least 1 apart, in random order: no tie within a step of 0.25, for max pooling."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * rng.uniform(1, 2)


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(config=image_configs(), c_out=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_conv2d_backward_matches_central_differences_for_any_shape(config, c_out, seed):
    n, c, h, w, k, s, p = config
    rng = np.random.default_rng(seed)
    layer = Conv2d(c, c_out, k, s, p, rng=rng)
    layer.b[...] = rng.normal(size=c_out)
    assert central_difference_errors(layer, rng.normal(size=(n, c, h, w)), rng, h=0.5) < 1e-7


@PROPERTY
@given(config=image_configs(pooling=True), seed=st.integers(0, 2 ** 16))
def test_max_pool_backward_matches_central_differences_for_any_shape(config, seed):
    n, c, h, w, k, s, p = config
    rng = np.random.default_rng(seed)
    x = distinct_values(rng, (n, c, h, w))
    assert central_difference_errors(MaxPool2d(k, s, p), x, rng, h=0.25, positive_dout=True) < 1e-7


@PROPERTY
@given(config=image_configs(pooling=True), seed=st.integers(0, 2 ** 16))
def test_avg_pool_backward_matches_central_differences_for_any_shape(config, seed):
    n, c, h, w, k, s, p = config
    rng = np.random.default_rng(seed)
    assert central_difference_errors(AvgPool2d(k, s, p), rng.normal(size=(n, c, h, w)), rng, h=0.5) < 1e-7


def test_the_property_configurations_reach_the_edge_cases():
    """The strategy can produce each case the issue names (hypothesis finds them by searching)."""
    from hypothesis import find
    find(image_configs(), lambda c: c[4] == 1)                                  # 1x1 kernels
    find(image_configs(), lambda c: c[4] == c[2] + 2 * c[6] == c[3] + 2 * c[6])  # kernel = padded input
    find(image_configs(), lambda c: c[5] > c[4])                                # stride > kernel
    find(image_configs(), lambda c: c[0] == 1)                                  # batch 1


# --- the Tensor operations of part VI ---------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_tensor_conv2d_gives_the_layers_numbers_to_round_off(config):
    layer, x, rng = layer_and_input(*config)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    X, W, b = Tensor(x), Tensor(layer.W), Tensor(layer.b)
    y = X.conv2d(W, b, layer.stride, layer.padding)
    (y * dout).sum().backward()
    np.testing.assert_allclose(y.data, out, atol=1e-14)
    np.testing.assert_allclose(X.grad, dx, atol=1e-14)
    np.testing.assert_allclose(W.grad, layer.grad_W, atol=1e-12)
    np.testing.assert_allclose(b.grad, layer.grad_b, atol=1e-12)


@pytest.mark.parametrize("k, s", [(2, 2), (3, 1), (2, 3), (1, 1)])
def test_tensor_max_pool2d_gives_the_layers_numbers(k, s):
    rng = np.random.default_rng(k + s)
    x = rng.normal(size=(2, 3, (3 - 1) * s + k, (2 - 1) * s + k))
    x[0, 0, :k, :k] = 1.0  # a tie: both route dout to the first entry
    pool = MaxPool2d(k, s)
    out = pool.forward(x)
    dout = rng.normal(size=out.shape)
    X = Tensor(x)
    y = X.max_pool2d(k, s)
    (y * dout).sum().backward()
    np.testing.assert_array_equal(y.data, out)
    np.testing.assert_allclose(X.grad, pool.backward(dout), atol=1e-15)


def test_tensor_im2col_and_its_backward():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 2, 5, 5))
    X = Tensor(x)
    col = X.im2col(3, 2, 1)
    np.testing.assert_array_equal(col.data, im2col(x, 3, 2, 1))
    dcol = rng.normal(size=col.shape)
    col.backward(dcol)
    np.testing.assert_allclose(X.grad, col2im(dcol, x.shape, 3, 2, 1), atol=1e-15)
    errors = companion.tensor_gradient_errors(lambda t: t.im2col(2, 1, 1), x, rng=1)
    assert errors["x"] < 1e-7


def test_tensor_part_vi_errors():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Tensor.im2col: the tensor has shape \(2, 3\), expected images"):
        t.im2col(2)
    with pytest.raises(ValueError, match=r"Tensor.max_pool2d: the tensor has shape \(2, 3\), expected images"):
        t.max_pool2d(2)
    with pytest.raises(ValueError, match=r"Tensor.conv2d: images of shape \(1, 2, 4, 4\) and kernels of shape "
                                         r"\(3, 1, 2, 2\); expected \(n, c_in, height, width\) and \(c_out, c_in, k, k\)"):
        Tensor(np.zeros((1, 2, 4, 4))).conv2d(np.zeros((3, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"Tensor.conv2d: input 4×4 with kernel 3, stride 2, padding 0 gives a "
                                         r"non-integer output size"):
        Tensor(np.zeros((1, 1, 4, 4))).conv2d(np.zeros((1, 1, 3, 3)), stride=2)
    with pytest.raises(ValueError, match=r"Tensor.im2col: stride must be a positive integer, got 0"):
        Tensor(np.zeros((1, 1, 4, 4))).im2col(2, 0)


# --- input checks: full on their own, not again inside a Sequential (CONTRIBUTING.md, "Input checks") ---

IMAGE_LAYERS = {"Conv2d(2, 3, kernel_size=3)": lambda: Conv2d(2, 3, 3, rng=0), "MaxPool2d(2)": lambda: MaxPool2d(2),
                "AvgPool2d(2)": lambda: AvgPool2d(2), "Flatten()": Flatten}


@pytest.mark.parametrize("name", IMAGE_LAYERS)
def test_an_image_layer_on_its_own_rejects_nan_inf_and_non_numbers(name):
    layer = IMAGE_LAYERS[name]()
    owner = "Flatten" if name == "Flatten()" else re.escape(name)
    for value in (np.nan, np.inf):
        x = np.ones((2, 2, 4, 4))
        x[1, 0, 2, 3] = value
        with pytest.raises(ValueError, match=rf"^{owner}: input x contains NaN or infinity \(first at index "
                                             rf"\(1, 0, 2, 3\)"):
            layer.forward(x)
    with pytest.raises(TypeError, match=rf"^{owner}: input x must be real numbers"):
        layer.forward(np.full((2, 2, 4, 4), "a"))
    out = layer.forward(np.ones((2, 2, 4, 4)))
    bad = np.ones(out.shape)
    bad.flat[0] = np.nan
    with pytest.raises(ValueError, match=rf"^{re.escape(name)}: upstream gradient dout contains NaN"):
        layer.backward(bad)


@pytest.mark.parametrize("name", IMAGE_LAYERS)
def test_no_image_layer_formats_its_name_on_the_success_path(name):
    calls = []
    layer = IMAGE_LAYERS[name]()
    layer.__class__ = type(f"Counting{type(layer).__name__}", (type(layer),),
                           {"__repr__": lambda self: calls.append(1) or name,
                            "__module__": type(layer).__module__})   # still a companion layer
    x = np.random.default_rng(0).normal(size=(3, 2, 4, 4))
    layer.backward(layer.forward(x))
    net = Sequential(Conv2d(2, 2, 3, padding=1, rng=0), layer, Flatten(), companion.Linear(
        int(np.prod(layer.forward(x).shape[1:])) if name != "Flatten()" else 32, 2, rng=1))
    net.backward(net.forward(x))
    assert calls == []
    with pytest.raises(ValueError, match=r"input x contains NaN"):
        layer.forward(np.full((3, 2, 4, 4), np.nan))
    assert calls or name == "Flatten()"          # the name is formatted now, when raising


def test_inside_a_sequential_the_image_layers_scan_nothing_twice_and_give_their_own_gradients(monkeypatch):
    net = companion.digits_cnn(0)
    x = np.random.default_rng(0).uniform(size=(4, 1, 8, 8))
    dout = np.random.default_rng(1).normal(size=(4, 10))
    alone = companion.digits_cnn(0)
    out = x
    for layer in alone.layers:
        out = layer.forward(out)
    d = dout
    for layer in reversed(alone.layers):
        d = layer.backward(d)
    scans = []
    original = companion._validate.as_float_array
    for module in ("conv", "layers", "functions"):
        monkeypatch.setattr(f"companion.{module}.as_float_array",
                            lambda *args, module=module, **kw: scans.append(module) or original(*args, **kw))
    np.testing.assert_array_equal(net.forward(x), out)
    np.testing.assert_array_equal(net.backward(dout), d)
    assert scans == ["conv", "layers"]            # x at the first layer, dout at the last: nothing in between
    for (_, mine, _), (_, theirs, _) in zip(net.named_parameters(), alone.named_parameters()):
        np.testing.assert_array_equal(mine, theirs)
    for (_, _, mine), (_, _, theirs) in zip(net.named_parameters(), alone.named_parameters()):
        np.testing.assert_array_equal(mine, theirs)
