"""companion.gradcheck: the numerical reference every other test relies on."""

import numpy as np
import pytest

from companion import Linear, Square
from companion.gradcheck import (gradient_check, gradient_errors, layer_gradient_errors, numerical_gradient,
                                 numerical_parameter_gradient, relative_error, step_size_errors)


def test_central_difference_of_a_quadratic_is_exact_up_to_round_off():
    assert numerical_gradient(lambda x: (x + 1) ** 2, 3.0) == pytest.approx(8.0, abs=1e-9)


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3), (2, 1, 3)], ids=str)
def test_gradient_of_sum_of_squares_for_any_shape(shape):
    x = np.random.default_rng(0).normal(size=shape)
    grad = numerical_gradient(lambda v: np.sum(v ** 2), x)
    assert np.shape(grad) == shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, atol=1e-10)


def test_scalar_input_gives_a_float():
    assert isinstance(numerical_gradient(np.sin, 0.5), float)


def test_callers_array_is_not_modified_even_by_a_function_that_writes_into_it():
    x = np.array([1.0, 2.0, 3.0])
    original = x.copy()

    def f(v):
        v *= 1.0  # writes into what it is given
        return float(np.sum(v ** 3))

    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, original)


def test_integer_and_float32_inputs_are_differentiated_in_float64():
    assert numerical_gradient(lambda v: np.sum(v ** 2), np.array([1, 2])).dtype == np.float64
    grad32 = numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.5], dtype=np.float32))
    np.testing.assert_allclose(grad32, [3.0], rtol=1e-9)


def test_forward_differences_are_first_order_and_central_second_order():
    f, exact = np.exp, np.exp(1.0)
    errors = {m: [abs(numerical_gradient(f, 1.0, h=h, method=m) - exact) for h in (1e-2, 1e-3)] for m in ("forward", "central")}
    assert errors["forward"][0] / errors["forward"][1] == pytest.approx(10, rel=0.1)  # O(h)
    assert errors["central"][0] / errors["central"][1] == pytest.approx(100, rel=0.1)  # O(h^2)


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match=r"f must return a single number .* shape \(3,\)"):
        numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"unknown method 'backward'; expected one of \('central', 'forward'\)"):
        numerical_gradient(np.sin, 1.0, method="backward")
    with pytest.raises(ValueError, match="step h must be a positive finite number"):
        numerical_gradient(np.sin, 1.0, h=0)
    with pytest.raises(ValueError, match="x contains NaN"):
        numerical_gradient(np.sin, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="the value f returned contains NaN"):
        numerical_gradient(lambda v: float("nan"), 1.0)


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0], [3.0]) == pytest.approx(0.5)
    assert relative_error([1e-12], [0.0]) == pytest.approx(1e-4)  # the floor makes tiny values absolute
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))


def test_gradient_check_prints_a_verdict(capsys):
    x = np.array([1.0, -2.0, 0.5])
    ok = gradient_check(lambda v: np.sum(v ** 2), x, 2 * x)
    assert ok < 1e-7
    assert capsys.readouterr().out.startswith("gradient check passed: max relative error")
    bad_grad = 2 * x
    bad_grad[1] = 7.0
    err = gradient_check(lambda v: np.sum(v ** 2), x, bad_grad)
    assert err > 0.1
    assert "FAILED" in (out := capsys.readouterr().out) and "worst entry (1,): analytic 7, numerical -4" in out
    with pytest.raises(ValueError, match=r"grad has shape \(2,\), expected x's shape \(3,\)"):
        gradient_check(lambda v: np.sum(v ** 2), x, np.ones(2))


def test_layer_gradient_errors_catches_a_wrong_backward():
    class WrongSquare(Square):
        def backward(self, dout):
            return dout * self.x  # forgot the 2

    assert layer_gradient_errors(WrongSquare(), np.array([1.0, 2.0]), rng=0)["x"] > 0.1
    assert layer_gradient_errors(Square(), np.array([1.0, 2.0]), rng=0)["x"] < 1e-9


def test_layer_gradient_errors_catches_a_wrong_parameter_gradient_and_restores_parameters():
    class NoBiasGrad(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grad_b[...] = 0.0
            return dx

    layer = NoBiasGrad(3, 2, rng=0)
    W_before = layer.W.copy()
    errors = layer_gradient_errors(layer, np.ones((4, 3)), rng=1)
    assert errors["b"] == pytest.approx(1.0) and errors["W"] < 1e-7
    np.testing.assert_array_equal(layer.W, W_before)


def cube(x):
    return (x + 1) * (x + 1) * (x + 1)  # only + and *: exactly rounded, so identical on every machine


def test_step_size_errors_show_truncation_then_round_off():
    steps = [1e-1, 1e-2, 1e-3]
    central = step_size_errors(cube, 0.5, 6.75, steps)
    forward = step_size_errors(cube, 0.5, 6.75, steps, method="forward")
    assert central.shape == forward.shape == (3,) and central.dtype == np.float64
    # (x+1)^3 at 0.5: central error is h^2 exactly, forward error 4.5 h + h^2 (relative: over |a| + |b|)
    np.testing.assert_allclose(central, [0.01 / (2 * 6.75 + 0.01), 1e-4 / (2 * 6.75 + 1e-4), 1e-6 / (2 * 6.75 + 1e-6)], rtol=1e-6)
    np.testing.assert_allclose(forward, [(0.45 + 0.01) / (2 * 6.75 + 0.46), 0.0451 / 13.5451, 0.004501 / 13.504501], rtol=1e-6)
    tiny = step_size_errors(cube, 0.5, 6.75, [1e-13])
    assert tiny[0] > 1e-4  # round-off wins when h is tiny


def test_step_size_errors_in_float32_are_dominated_by_round_off_much_earlier():
    steps = [1e-8, 1e-5, 1e-1]
    err64 = step_size_errors(cube, 0.5, 6.75, steps)
    err32 = step_size_errors(cube, 0.5, 6.75, steps, dtype=np.float32)
    assert err64[1] < 1e-10 and err32[1] > 1e-4  # h = 1e-5, the float64 sweet spot, is far too small in float32
    assert err32[0] == 1.0  # 0.5 + 1e-8 rounds to 0.5 in float32: both sides equal, the estimate is 0
    assert err32[2] == pytest.approx(err64[2], rel=1e-3)  # at large h truncation dominates both
    seen = []
    step_size_errors(lambda v: seen.append(np.asarray(v).dtype) or float(cube(v)), 0.5, 6.75, [1e-3], dtype=np.float32)
    assert set(seen) == {np.dtype(np.float32)}


def test_step_size_errors_on_arrays():
    x = np.array([[0.5, -0.25], [1.0, 0.0]])
    errors = step_size_errors(lambda v: np.sum(cube(v)), x, 3 * (x + 1) ** 2, [1e-3, 1e-5])
    assert errors[1] < errors[0] < 1e-6


def test_step_size_errors_bad_arguments():
    with pytest.raises(ValueError, match="step_size_errors: dtype must be a floating-point type"):
        step_size_errors(cube, 0.5, 6.75, [1e-3], dtype=np.int32)
    with pytest.raises(ValueError, match=r"steps must be a 1-D sequence of positive numbers, got shape \(2,\) with min -0.001"):
        step_size_errors(cube, 0.5, 6.75, [1e-3, -1e-3])
    with pytest.raises(ValueError, match=r"steps must be a 1-D sequence of positive numbers, got shape \(0,\)"):
        step_size_errors(cube, 0.5, 6.75, [])
    with pytest.raises(ValueError, match=r"grad has shape \(2,\), expected x's shape \(\)"):
        step_size_errors(cube, 0.5, [1.0, 2.0], [1e-3])
    with pytest.raises(ValueError, match="unknown method 'backward'"):
        step_size_errors(cube, 0.5, 6.75, [1e-3], method="backward")


def test_gradient_errors_checks_each_named_argument():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "scale": 1.5}
    before = {k: np.copy(v) for k, v in params.items()}

    def f(W, b, scale):
        return scale * 0.5 * np.sum((x @ W + b) ** 2)

    r = x @ params["W"] + params["b"]
    grads = {"W": 1.5 * x.T @ r, "b": 1.5 * r.sum(axis=0), "scale": 0.5 * np.sum(r ** 2)}
    errors = gradient_errors(f, params, grads)
    assert list(errors) == ["W", "b", "scale"] and max(errors.values()) < 1e-8
    assert list(gradient_errors(f, params, {"b": grads["b"]})) == ["b"]  # a subset is fine
    wrong = {**grads, "b": r.sum(axis=0)}  # forgot the factor 1.5
    assert gradient_errors(f, params, wrong)["b"] == pytest.approx(0.2)
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])


def test_gradient_errors_bad_arguments():
    f = lambda W, b: np.sum(W) + np.sum(b)  # noqa: E731
    params = {"W": np.ones((2, 3)), "b": np.ones(3)}
    with pytest.raises(ValueError, match=r"gradient_errors: grads has \['c'\], which are not in params; expected names among \['W', 'b'\]"):
        gradient_errors(f, params, {"c": np.ones(3)})
    with pytest.raises(ValueError, match=r"gradient 'W' has shape \(3, 2\), expected the shape of params\['W'\], \(2, 3\)"):
        gradient_errors(f, params, {"W": np.ones((3, 2))})
    with pytest.raises(TypeError, match=r"gradient_errors: gradient 'b' must be real numbers"):
        gradient_errors(f, params, {"b": "ones"})


def test_numerical_parameter_gradient_perturbs_in_place_and_restores():
    layer = Linear(3, 2, rng=0)
    x = np.random.default_rng(1).normal(size=(4, 3))
    W_before = layer.W.copy()
    grad = numerical_parameter_gradient(lambda: np.sum(layer.forward(x)), layer.W)
    np.testing.assert_allclose(grad, x.T @ np.ones((4, 2)), rtol=1e-8)  # d sum(xW + b) / dW
    np.testing.assert_array_equal(layer.W, W_before)


def test_numerical_parameter_gradient_restores_the_parameter_when_loss_raises():
    param = np.array([1.0, 2.0])

    def loss():
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        numerical_parameter_gradient(loss, param)
    np.testing.assert_array_equal(param, [1.0, 2.0])


def test_numerical_parameter_gradient_needs_an_array():
    with pytest.raises(TypeError, match="numerical_parameter_gradient: param must be a numpy array .* got list"):
        numerical_parameter_gradient(lambda: 0.0, [1.0, 2.0])


def test_tensor_gradient_errors_checks_every_input_and_catches_a_wrong_backward():
    from companion import Tensor, tensor_gradient_errors

    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    errors = tensor_gradient_errors(lambda a, b: (a * b).tanh(), x, w, rng=1)
    assert set(errors) == {"x", "y"} and max(errors.values()) < 1e-8

    def wrong_sin(t):  # backward says sin' = sin
        return Tensor.from_op(np.sin(t.data), (t,), "sin", lambda dout: (dout * np.sin(t.data),))

    assert tensor_gradient_errors(wrong_sin, x, rng=2)["x"] > 1e-2
    errors = tensor_gradient_errors(lambda a, b, c, d: a * 0 + d, 1.0, 2.0, 3.0, 4.0, rng=3)
    assert list(errors) == ["x", "y", "z", "input 3"] and errors["y"] == 0.0  # y is unused: zero gradient
    errors = tensor_gradient_errors(lambda W, b, x: x @ W + b, W=np.ones((3, 2)), b=np.zeros(2), x=x, rng=4)
    assert list(errors) == ["W", "b", "x"] and max(errors.values()) < 1e-8


def test_tensor_gradient_errors_refuses_what_is_not_a_tensor_function():
    from companion import tensor_gradient_errors

    with pytest.raises(TypeError, match="f must be a function of Tensors"):
        tensor_gradient_errors("sin", 1.0)
    with pytest.raises(TypeError, match="f must return a Tensor"):
        tensor_gradient_errors(lambda t: np.sin(t.data), 1.0)


def test_numerical_jacobian_is_the_matrix_of_every_partial_derivative():
    from companion import numerical_jacobian
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    J = numerical_jacobian(lambda v: v @ W, x)
    assert J.shape == (8, 6)
    np.testing.assert_allclose(J, np.kron(np.eye(2), W.T), atol=1e-9)   # U = X W: I_n (x) W^T, row-major
    dout = rng.normal(size=(2, 4))
    np.testing.assert_allclose(dout.ravel() @ J, (dout @ W.T).ravel(), atol=1e-9)
    np.testing.assert_allclose(numerical_jacobian(np.tanh, np.array(0.5)), [[1 - np.tanh(0.5) ** 2]], rtol=1e-9)
    with pytest.raises(ValueError, match="numerical_jacobian: step h must be a positive finite number"):
        numerical_jacobian(np.tanh, x, h=0)
    with pytest.raises(ValueError, match="numerical_jacobian: the value f returned contains NaN"):
        numerical_jacobian(lambda v: v * np.nan, x)
