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


# --- softmax, log_softmax, SoftmaxCrossEntropy -------------------------------------------

from companion import SoftmaxCrossEntropy, log_softmax, softmax  # noqa: E402


def test_softmax_rows_are_probabilities_and_shift_invariant():
    z = np.random.default_rng(1).normal(size=(5, 4))
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(softmax(z + 100.0), p)
    np.testing.assert_allclose(log_softmax(z), np.log(p))


def test_cross_entropy_value_and_gradient_with_labels_and_one_hot():
    rng = np.random.default_rng(2)
    z, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    loss = SoftmaxCrossEntropy()
    value = loss.forward(z, labels)
    assert value == pytest.approx(-np.mean(np.log(softmax(z)[np.arange(6), labels])))
    grad = loss.backward()
    np.testing.assert_allclose(grad, (softmax(z) - onehot) / 6)
    assert SoftmaxCrossEntropy().forward(z, onehot) == pytest.approx(value)
    assert SoftmaxCrossEntropy().forward(z, labels.astype(float)) == pytest.approx(value)
    numeric = companion.numerical_gradient(lambda v: SoftmaxCrossEntropy().forward(v, labels), z)
    assert companion.relative_error(grad, numeric) < 1e-7
    np.testing.assert_allclose(loss.backward(2.0), 2 * grad)


def test_cross_entropy_is_stable_for_huge_logits_without_warnings():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 1e4, -1e4]])
    labels = np.array([1, 2, 1])
    loss = SoftmaxCrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(z, labels)
        grad = loss.backward()
        probs = softmax(z)
        logp = log_softmax(z)
    assert np.isfinite(value) and np.isfinite(grad).all() and np.isfinite(logp).all()
    assert value == pytest.approx((2e4 + np.log(3) + 0.0) / 3)
    np.testing.assert_allclose(probs[0], [1, 0, 0])
    np.testing.assert_allclose(grad[0], [1 / 3, -1 / 3, 0])


def test_cross_entropy_errors():
    z = np.zeros((3, 4))
    with pytest.raises(RuntimeError, match="SoftmaxCrossEntropy: backward"):
        SoftmaxCrossEntropy().backward()
    with pytest.raises(ValueError, match=r"label 4 at index 2 is out of range; expected labels in 0..3"):
        SoftmaxCrossEntropy().forward(z, [0, 1, 4])
    with pytest.raises(ValueError, match=r"label -1 at index 0 is out of range"):
        SoftmaxCrossEntropy().forward(z, [-1, 1, 2])
    with pytest.raises(ValueError, match=r"targets have shape \(2,\), expected labels of shape \(3,\) or one-hot rows of shape \(3, 4\)"):
        SoftmaxCrossEntropy().forward(z, [0, 1])
    with pytest.raises(ValueError, match=r"logits z have shape \(4,\), expected \(n, k\).*reshape\(1, -1\)"):
        SoftmaxCrossEntropy().forward(np.zeros(4), [1])
    with pytest.raises(ValueError, match="logits z contains NaN"):
        SoftmaxCrossEntropy().forward(np.array([[0.0, np.nan]]), [0])
    with pytest.raises(ValueError, match=r"one-hot targets must have a single 1 in each row and 0 elsewhere; row 1 is \[0.5, 0.5"):
        SoftmaxCrossEntropy().forward(z, np.array([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0, 1]]))
    with pytest.raises(ValueError, match="labels must be whole numbers, got 1.5 at index 1"):
        SoftmaxCrossEntropy().forward(z, [0.0, 1.5, 2.0])
    with pytest.raises(TypeError, match="targets must be integer labels or one-hot rows"):
        SoftmaxCrossEntropy().forward(z, ["a", "b", "c"])
    with pytest.raises(ValueError, match="softmax: logits z have shape"):
        softmax(np.zeros((2, 2, 2)))


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


# --- sequence logits (n, S, C) --------------------------------------------------------------------

def test_cross_entropy_over_sequences_is_the_mean_over_every_position():
    rng = np.random.default_rng(5)
    z, labels = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, size=(3, 4))
    loss = SoftmaxCrossEntropy()
    value = loss.forward(z, labels)
    flat = SoftmaxCrossEntropy()
    assert value == pytest.approx(flat.forward(z.reshape(12, 5), labels.reshape(12)), rel=1e-15)
    by_hand = -np.mean([np.log(softmax(z[i])[s, labels[i, s]]) for i in range(3) for s in range(4)])
    assert value == pytest.approx(by_hand, rel=1e-14)
    grad = loss.backward()
    assert grad.shape == (3, 4, 5)
    np.testing.assert_allclose(grad, flat.backward().reshape(3, 4, 5), rtol=1e-15)
    numeric = companion.numerical_gradient(lambda v: SoftmaxCrossEntropy().forward(v, labels), z)
    assert companion.relative_error(grad, numeric) < 1e-7
    assert loss.forward(z, labels, targets_checked=True) == value
    assert loss.forward(z[:, :1], labels[:, :1]) == pytest.approx(flat.forward(z[:, 0], labels[:, 0]))  # S = 1
    assert loss.backward().shape == (3, 1, 5)
    loss.forward(z[0], labels[0])                         # back to (n, C): backward has the 2-D shape again
    assert loss.backward().shape == (4, 5)


def test_cross_entropy_over_sequences_errors():
    z = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: targets have shape \(2,\), expected labels of shape "
                                         r"\(2, 3\): one class per position of the logits \(2, 3, 4\)"):
        SoftmaxCrossEntropy().forward(z, [0, 1])
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: label 4 at index \(1, 2\) is out of range; expected "
                                         r"labels in 0..3 for 4 classes"):
        SoftmaxCrossEntropy().forward(z, [[0, 1, 2], [3, 0, 4]])
    with pytest.raises(ValueError, match=r"label -1 at index \(0, 0\) is out of range"):
        SoftmaxCrossEntropy().forward(z, [[-1, 1, 2], [3, 0, 1]])
    with pytest.raises(TypeError, match=r"SoftmaxCrossEntropy: targets for logits of shape \(2, 3, 4\) must be integer "
                                        r"labels of shape \(2, 3\), got ndarray with dtype float64"):
        SoftmaxCrossEntropy().forward(z, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="logits z contains NaN"):
        SoftmaxCrossEntropy().forward(np.full((1, 1, 2), np.nan), [[0]])
    with pytest.raises(ValueError, match=r"logits z have shape \(1, 1, 1, 2\), expected \(n, k\): one row of k scores "
                                         r"per sample or \(n, S, C\) for a sequence model"):
        SoftmaxCrossEntropy().forward(np.zeros((1, 1, 1, 2)), [0])


def test_the_two_dimensional_path_is_not_slowed_by_the_sequence_case():
    """Counted, not timed: a (n, C) forward converts and scans the logits once, as before."""
    from companion import losses
    calls = []
    original = losses.as_float_array

    def counting(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    losses.as_float_array = counting
    try:
        SoftmaxCrossEntropy().forward(np.zeros((4, 3)), [0, 1, 2, 0], targets_checked=True)
        SoftmaxCrossEntropy().forward(np.zeros((2, 2, 3)), [[0, 1], [2, 0]])
    finally:
        losses.as_float_array = original
    assert calls == ["logits z", "logits z"]


# --- softmax_backward: the Jacobian applied without forming it (Part VII reuses it) -----------------------

from companion import softmax_backward  # noqa: E402


def test_softmax_backward_is_the_jacobian_product_along_any_axis():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4))
    p = softmax(z)
    dout = rng.normal(size=(3, 4))
    for i in range(3):   # J_jl = p_j ([j = l] - p_l), and dz = J^T dout (J is symmetric)
        jacobian = np.diag(p[i]) - np.outer(p[i], p[i])
        np.testing.assert_allclose(softmax_backward(p, dout)[i], jacobian.T @ dout[i], rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(softmax_backward(p.T, dout.T, axis=0), softmax_backward(p, dout).T, rtol=1e-15)
    z4 = rng.normal(size=(2, 3, 4, 5))   # attention weights (n, heads, S, S): softmax along the last axis
    p4 = np.exp(z4) / np.exp(z4).sum(axis=-1, keepdims=True)
    d4 = rng.normal(size=z4.shape)
    numeric = companion.numerical_gradient(
        lambda v: np.sum(np.exp(v) / np.exp(v).sum(axis=-1, keepdims=True) * d4), z4.copy())
    assert companion.relative_error(softmax_backward(p4, d4), numeric) < 1e-7


def test_softmax_backward_gives_exactly_zero_where_p_is_zero():
    p = np.array([[0.25, 0.0, 0.75], [1.0, 0.0, 0.0]])
    dz = softmax_backward(p, np.array([[1.0, 5.0, -2.0], [3.0, -1.0, 4.0]]))
    assert dz[0, 1] == 0.0 and np.all(dz[1] == 0.0)
    np.testing.assert_allclose(dz.sum(axis=1), 0.0, atol=1e-15)   # the row sums of the shares cancel


def test_softmax_backward_errors():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"^softmax_backward: probabilities p have shape \(2, 3\) and dout \(3, 2\); "
                                         r"expected equal shapes"):
        softmax_backward(p, np.ones((3, 2)))
    for axis in (2, -3, 1.0, True):
        with pytest.raises(ValueError, match=rf"^softmax_backward: axis must be an integer in \[-2, 2\) for p of "
                                             rf"shape \(2, 3\), got {axis!r}"):
            softmax_backward(p, p, axis=axis)
    with pytest.raises(ValueError, match=r"^softmax_backward: p is a single number"):
        softmax_backward(0.5, 1.0)
    with pytest.raises(ValueError, match=r"^softmax_backward: upstream gradient dout contains NaN"):
        softmax_backward(p, np.full((2, 3), np.nan))
    with pytest.raises(TypeError, match=r"^softmax_backward: probabilities p must be real numbers"):
        softmax_backward("p", p)
    with pytest.raises(ValueError, match=r"^softmax_backward: probabilities p have shape \(2, 3\) and dout \(3,\)"):
        softmax_backward(p, np.ones(3), checked=True)   # checked skips the scan, never the shape check


def test_softmax_backward_can_write_into_dout():
    rng = np.random.default_rng(3)
    p = softmax(rng.normal(size=(4, 5)))
    dout = rng.normal(size=(4, 5))
    expected = softmax_backward(p, dout)
    kept = dout.copy()
    np.testing.assert_array_equal(dout, kept)                  # by default dout is left alone
    result = softmax_backward(p, dout, overwrite_dout=True)
    assert result is dout
    np.testing.assert_array_equal(result, expected)
