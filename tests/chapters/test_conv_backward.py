"""Numbers stated in book/conv_backward.md, recomputed with companion (independently of the chapter's code)."""

import numpy as np
import pytest

import companion
from companion import Conv2d, Tensor
from companion.conv import conv2d_loops, conv2d_loops_backward, output_shape


def test_one_output_pixel_sends_the_patch_to_the_weights_and_the_kernel_to_the_pixels():
    X = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, 1.25], [1.5, 1.75, 2.0]])
    W = np.array([[1.0, -1.0], [0.5, 2.0]])
    assert output_shape((3, 3), 2) == (2, 2)                          # "a 2x2 output"
    layer = Conv2d(1, 1, 2, rng=0)
    layer.W[0, 0], layer.b[0] = W, 0.1
    out = layer.forward(X.reshape(1, 1, 3, 3))
    dout = np.zeros_like(out)
    dout[0, 0, 0, 0] = 1.0                                             # dL/dU00 = 1, the other pixels 0
    dx = layer.backward(dout)
    np.testing.assert_array_equal(layer.grad_W[0, 0], X[:2, :2])       # the patch
    np.testing.assert_array_equal(dx[0, 0, :2, :2], W)                 # the kernel
    assert not dx[0, 0, 2].any() and not dx[0, 0, :, 2].any()
    assert out[0, 0, 0, 0] == pytest.approx(2.225)                      # the figure's output value


def test_the_1d_fanout_example():
    x, w, delta = np.array([1.0, 2.0, -1.0]), np.array([2.0, -1.0]), np.array([1.0, 3.0])
    shares_x1 = (delta[0] * w[1], delta[1] * w[0])                     # x1 feeds u0 (via w1) and u1 (via w0)
    assert shares_x1 == (-1.0, 6.0) and sum(shares_x1) == 5.0
    dx = companion.numerical_gradient(lambda v: v[0] * w[0] + v[1] * w[1] + 3 * (v[1] * w[0] + v[2] * w[1]), x)
    dw = companion.numerical_gradient(lambda v: x[0] * v[0] + x[1] * v[1] + 3 * (x[1] * v[0] + x[2] * v[1]), w)
    np.testing.assert_allclose(dx, [2.0, 5.0, -3.0], atol=1e-9)
    np.testing.assert_allclose(dw, [7.0, -1.0], atol=1e-9)


def test_output_sizes_the_chapter_states():
    assert output_shape((8, 8), 3, 1, 1) == (8, 8)          # (8 + 2 - 3)/1 + 1 = 8
    assert output_shape((8, 8), 2, 2, 0) == (4, 4)
    assert output_shape((7, 7), 3, 2, 1) == (4, 4)          # (7 + 2 - 3)/2 + 1 = 4
    with pytest.raises(ValueError, match=r"input 8×8 with kernel 5, stride 2, padding 0 gives a non-integer output "
                                         r"size: \(8 \+ 2·0 - 5\)/2 \+ 1 = 2\.5"):
        Conv2d(1, 1, 5, stride=2, rng=0).forward(np.zeros((1, 1, 8, 8)))


@pytest.mark.parametrize("stride, padding, size", [(1, 0, 5), (2, 1, 7)])
def test_the_gradient_formulas_pass_the_check_with_a_step_of_1e_3(stride, padding, size):
    """The loss is linear in X, W and b separately: h = 1e-3 has no truncation error; all below 1e-7."""
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(2, 2, size, size)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    delta = rng.normal(size=conv2d_loops(X, W, b, stride, padding).shape)
    dX, dW, db = conv2d_loops_backward(X, W, delta, stride, padding)
    errors = companion.gradient_errors(lambda X, W, b: np.sum(conv2d_loops(X, W, b, stride, padding) * delta),
                                       {"X": X, "W": W, "b": b}, {"X": dX, "W": dW, "b": db}, h=1e-3)
    assert max(errors.values()) < 1e-7


def test_the_input_gradient_is_a_full_convolution_with_the_turned_kernel():
    rng = np.random.default_rng(1)
    X, W = rng.normal(size=(2, 2, 7, 7)), rng.normal(size=(3, 2, 3, 3))
    delta = rng.normal(size=(2, 3, 4, 4))
    dX, _, _ = conv2d_loops_backward(X, W, delta, stride=2, padding=1)
    dilated = np.zeros((2, 3, 7, 7))
    dilated[:, :, ::2, ::2] = delta
    turned = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    full = conv2d_loops(dilated, turned, np.zeros(2), 1, 2)           # the padded image's gradient, 9x9
    np.testing.assert_allclose(full[:, :, 1:8, 1:8], dX, atol=1e-12)


def test_exercise_numbers():
    x, w = Tensor([1.0, 2.0, -1.0, 3.0]), Tensor([2.0, -1.0])
    delta = [1.0, 0.0, -2.0]
    sum(delta[a] * (x[a] * w[0] + x[a + 1] * w[1]) for a in range(3)).backward()
    assert w.grad.tolist() == [3.0, -4.0] and x.grad.tolist() == [2.0, -1.0, -4.0, 2.0]
    assert companion.check_answer("ex-conv-hand", (3, -4, 2, -1, -4, 2), verbose=False)
    assert 2 * 5 * 5 == 50                                            # the 1x1 exercise's terms


def test_a_kernel_symmetric_under_the_turn_hides_the_missing_flip():
    class NotTurned(Conv2d):
        def backward(self, dout):
            dx_turned = super().backward(dout)
            _, dW, db = conv2d_loops_backward(self.x, self.W, dout)
            k = self.W.shape[2]
            dx = conv2d_loops(dout, self.W.transpose(1, 0, 2, 3), np.zeros(self.W.shape[1]), 1, k - 1)
            assert dx.shape == dx_turned.shape
            self.grad_W[...], self.grad_b[...] = dW, db
            return dx

    assert not companion.check_layer(NotTurned(2, 3, 3, rng=0), verbose=False)
    symmetric = NotTurned(2, 3, 3, rng=0)
    symmetric.W[...] = 1.0
    assert companion.check_layer(symmetric, verbose=False)


def test_he_initialisation_fan_in_is_c_in_k_squared():
    conv = Conv2d(16, 64, 3, rng=0)
    assert conv.W.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
