"""companion.losses.MSELoss: the 1/(2n) convention, its gradient, and shape errors."""

import numpy as np
import pytest

import companion
from companion import MSELoss


def test_value_and_gradient_follow_the_one_over_2n_convention():
    pred = np.array([[5.0], [4.0], [2.0]])
    target = np.array([[10.0], [2.0], [3.0]])
    loss = MSELoss()
    assert loss.forward(pred, target) == pytest.approx((25 + 4 + 1) / 6)
    np.testing.assert_allclose(loss.backward(), (pred - target) / 3)


def test_gradient_matches_numerical_gradient():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(7, 2)), rng.normal(size=(7, 2))
    loss = MSELoss()
    loss.forward(pred, target)
    assert companion.gradient_check(lambda p: MSELoss().forward(p, target), pred, loss.backward(), verbose=False) < 1e-8


def test_errors():
    with pytest.raises(RuntimeError, match="MSELoss: backward"):
        MSELoss().backward()
    with pytest.raises(ValueError, match=r"predictions have shape \(3, 1\) and targets \(3,\); .*reshape\(-1, 1\)"):
        MSELoss().forward(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match="targets target contains NaN"):
        MSELoss().forward(np.ones((2, 1)), np.array([[1.0], [np.nan]]))


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (7, 1), (5, 3)], ids=str)
def test_gradient_on_minibatch_shapes_including_batch_size_1(shape):
    rng = np.random.default_rng(sum(shape))
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    loss = MSELoss()
    value = loss.forward(pred, target)
    assert value == pytest.approx(np.sum((pred - target) ** 2) / (2 * shape[0]))
    grad = loss.backward()
    assert grad.shape == shape
    assert companion.gradient_check(lambda p: MSELoss().forward(p, target), pred, grad, verbose=False) < 1e-8
    np.testing.assert_allclose(loss.backward(3.0), 3.0 * grad)  # the chain rule through dout


def test_the_source_notes_example():
    # seed 002: y = [10, 2, 3], y_hat = [5, 4, 2] gives (25 + 4 + 1) / (2 * 3) = 5
    assert MSELoss().forward(np.array([[5.0], [4.0], [2.0]]), np.array([[10.0], [2.0], [3.0]])) == 5.0


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match=r"MSELoss: predictions have shape \(0, 1\); expected at least one sample"):
        MSELoss().forward(np.ones((0, 1)), np.ones((0, 1)))
