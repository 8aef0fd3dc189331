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
