"""companion.functions: values, local derivatives against central differences, and errors."""

import zlib

import numpy as np
import pytest

import companion
from companion import functions as F

SHAPES = [(), (1,), (5,), (2, 3), (1, 4, 3)]

# (node factory, input sampler): samplers keep inputs inside each function's domain
# and away from ReLU's kink, where no derivative exists.
CASES = {
    "Plus1": (F.Plus1, lambda rng, s: rng.normal(size=s)),
    "Square": (F.Square, lambda rng, s: rng.normal(size=s)),
    "Power3": (lambda: F.Power(3), lambda rng, s: rng.normal(size=s)),
    "PowerHalf": (lambda: F.Power(0.5), lambda rng, s: rng.uniform(0.5, 2, size=s)),
    "PowerMinus2": (lambda: F.Power(-2), lambda rng, s: rng.uniform(0.5, 2, size=s)),
    "Exp": (F.Exp, lambda rng, s: rng.normal(size=s)),
    "Log": (F.Log, lambda rng, s: rng.uniform(0.2, 3, size=s)),
    "Reciprocal": (F.Reciprocal, lambda rng, s: rng.uniform(0.5, 2, size=s) * rng.choice([-1, 1], size=s)),
    "Identity": (F.Identity, lambda rng, s: rng.normal(size=s)),
    "ReLU": (F.ReLU, lambda rng, s: rng.uniform(0.1, 2, size=s) * rng.choice([-1, 1], size=s)),
    "Sigmoid": (F.Sigmoid, lambda rng, s: 3 * rng.normal(size=s)),
    "Tanh": (F.Tanh, lambda rng, s: rng.normal(size=s)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_matches_numerical_gradient(name, shape):
    make, sample = CASES[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}{shape}".encode()))
    errors = companion.layer_gradient_errors(make(), sample(rng, shape), rng=rng)
    assert errors["x"] < 1e-7


@pytest.mark.parametrize(
    "node, x, y, dy",
    [
        (F.Plus1(), 3.0, 4.0, 1.0),
        (F.Square(), 4.0, 16.0, 8.0),
        (F.Power(3), 2.0, 8.0, 12.0),
        (F.Exp(), 0.0, 1.0, 1.0),
        (F.Log(), 1.0, 0.0, 1.0),
        (F.Reciprocal(), 4.0, 0.25, -0.0625),
        (F.Identity(), -2.5, -2.5, 1.0),
        (F.ReLU(), -1.0, 0.0, 0.0),
        (F.ReLU(), 2.0, 2.0, 1.0),
        (F.ReLU(), 0.0, 0.0, 0.0),  # the convention at the kink
        (F.Sigmoid(), 0.0, 0.5, 0.25),
        (F.Tanh(), 0.0, 0.0, 1.0),
    ],
    ids=repr,
)
def test_known_values_and_local_derivatives(node, x, y, dy):
    assert node(x) == pytest.approx(y)
    grad = node.backward(1.0)
    assert isinstance(grad, float)
    assert grad == pytest.approx(dy)


def test_sigmoid_derivative_is_y_times_one_minus_y():
    x = np.linspace(-6, 6, 25)
    sig = F.Sigmoid()
    y = sig.forward(x)
    np.testing.assert_allclose(sig.backward(np.ones_like(x)), y * (1 - y), rtol=1e-15)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-15)


def test_sigmoid_is_stable_for_huge_inputs():
    # pytest turns numpy warnings into errors here, so overflow would fail the test
    y = F.Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


def test_arrays_keep_their_shape_and_scalars_come_back_as_floats():
    sq = F.Square()
    out = sq(np.arange(6.0).reshape(2, 3))
    assert out.shape == (2, 3) and out.dtype == np.float64
    assert sq.backward(np.ones((2, 3))).shape == (2, 3)
    assert isinstance(F.Square()(3), float)


def test_backward_before_forward_is_a_runtime_error():
    with pytest.raises(RuntimeError, match=r"Square: backward\(\) called before forward\(\)"):
        F.Square().backward(1.0)


def test_dout_of_the_wrong_shape_names_both_shapes():
    sq = F.Square()
    sq.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Square: upstream gradient dout .* has shape \(3, 2\), expected \(2, 3\)"):
        sq.backward(np.ones((3, 2)))


@pytest.mark.parametrize("bad", [np.nan, [1.0, np.inf], np.array([[0.0, -np.inf]])])
def test_nan_and_infinity_are_refused(bad):
    with pytest.raises(ValueError, match=r"Tanh: input x contains NaN or infinity"):
        F.Tanh().forward(bad)


@pytest.mark.parametrize("bad", ["3", None, [1, "a"], {"x": 1}])
def test_non_numbers_are_refused(bad):
    with pytest.raises(TypeError, match=r"Exp: input x must be real numbers"):
        F.Exp().forward(bad)


@pytest.mark.parametrize(
    "node, x, message",
    [
        (F.Log(), [1.0, 0.0], r"Log: input must be > 0, got min x = 0"),
        (F.Reciprocal(), 0.0, r"Reciprocal: input must be nonzero"),
        (F.Power(0.5), -1.0, r"Power: x \*\* 0.5 needs x >= 0"),
        (F.Power(-1), 0.0, r"Power: x \*\* -1 is undefined at x = 0"),
    ],
    ids=repr,
)
def test_inputs_outside_the_domain_are_refused(node, x, message):
    with pytest.raises(ValueError, match=message):
        node.forward(x)


def test_forward_does_not_modify_the_callers_array():
    x = np.array([-1.0, 2.0])
    relu = F.ReLU()
    relu.forward(x)
    relu.backward(np.array([5.0, 5.0]))
    np.testing.assert_array_equal(x, [-1.0, 2.0])
