"""Numbers stated in book/im2col.md, recomputed with companion."""

import numpy as np
import pytest

import companion
from companion import AvgPool2d, Conv2d, MaxPool2d, col2im, im2col
from companion.conv import output_shape


def test_the_small_example_and_the_shapes():
    col = im2col(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), 2)
    assert col.tolist() == [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
    assert (col == 5).sum() == 4 and (col == 1).sum() == 1            # the centre in all four, a corner in one
    assert im2col(np.zeros((2, 3, 7, 7)), 3, 2, 1).shape == (32, 27) == (2 * 4 * 4, 3 * 3 * 3)
    assert output_shape((7, 7), 3, 2, 1) == (4, 4)
    assert im2col(np.zeros((1, 1, 8, 8)), 3, 1, 1).shape == (64, 9)
    assert (2 * 8 + 2, 5 * 8 + 4) == (18, 44)                         # the figure's rows


def test_what_im2col_costs():
    n, c_in, c_out, size, k = 128, 1, 16, 8, 3
    assert n * c_out * size * size * c_in * k * k == 1_179_648 > 1_000_000   # "over a million steps"
    col = im2col(np.zeros((n, c_in, size, size)), k, 1, 1)
    assert col.shape == (8192, 9) and col.size == 73_728 == 9 * 8_192
    assert Conv2d(1, 16, 3, padding=1, rng=0).W.reshape(16, -1).T.shape == (9, 16)


def test_col2im_is_the_transpose_and_pooling_routes_dout():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 3, 7, 7))
    C = rng.normal(size=(32, 27))
    assert np.sum(im2col(X, 3, 2, 1) * C) == pytest.approx(np.sum(X * col2im(C, X.shape, 3, 2, 1)), rel=1e-13)
    window = np.array([[[[0.2, 0.9], [-0.4, 0.5]]]])
    pool = MaxPool2d(2)
    assert pool.forward(window).item() == 0.9
    assert pool.backward(np.ones((1, 1, 1, 1)))[0, 0].tolist() == [[0, 1], [0, 0]]
    avg = AvgPool2d(2)
    assert avg.forward(window).item() == pytest.approx(0.3)
    assert avg.backward(np.ones((1, 1, 1, 1)))[0, 0].tolist() == [[0.25, 0.25], [0.25, 0.25]]
    images = rng.normal(size=(2, 3, 6, 6))
    for layer in (MaxPool2d(3, stride=1, padding=1), AvgPool2d(3, stride=1, padding=1)):
        assert layer.forward(images).shape == (2, 3, 6, 6)
        assert companion.layer_gradient_errors(layer, images, rng=1)["x"] < 1e-7


def test_exercise_numbers():
    col = im2col(np.zeros((32, 16, 4, 4)), 3, 1, 1)
    assert col.shape == (512, 144) and 512 * 144 * 32 == 2_359_296
    counts = col2im(np.ones((64, 9)), (1, 1, 8, 8), 3, 1, 1)[0, 0]
    assert (counts[0, 0], counts[0, 4], counts[4, 4]) == (4, 6, 9)
    tie = np.full((1, 1, 2, 2), 0.5)
    numeric = companion.numerical_gradient(lambda v: MaxPool2d(2).forward(v).sum(), tie)
    np.testing.assert_allclose(numeric, 0.5)                         # 1/2 for every tied entry
    assert numeric.sum() == pytest.approx(2.0)
    pool = MaxPool2d(2)
    pool.forward(tie)
    assert pool.backward(np.ones((1, 1, 1, 1)))[0, 0].tolist() == [[1, 0], [0, 0]]
