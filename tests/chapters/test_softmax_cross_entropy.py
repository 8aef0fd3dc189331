"""Numbers stated in book/softmax_cross_entropy.md, recomputed with companion."""

import warnings

import numpy as np
import pytest

import companion
from companion import SoftmaxCrossEntropy, accuracy, log_softmax, softmax


def test_softmax_numbers_and_the_overflow_limit():
    assert round(np.e, 1) == 2.7
    assert round(float(np.log(np.finfo(float).max))) == 710 and np.log(np.finfo(float).max) > 709
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(np.exp(np.array([1000.0, 999.0])) / np.exp(np.array([1000.0, 999.0])).sum()).all()
    shifted = softmax(np.array([[1000.0, 999.0, 998.0]]))[0]
    np.testing.assert_allclose(shifted, softmax(np.array([[2.0, 1.0, 0.0]]))[0])
    assert list(shifted.round(4)) == [0.6652, 0.2447, 0.09]
    assert list(softmax(np.array([[2.0, 1.0, 0.1]]))[0].round(3)) == [0.659, 0.242, 0.099]


def test_cross_entropy_of_knowing_nothing_and_log_sum_exp():
    assert round(np.log(10), 3) == 2.303
    assert SoftmaxCrossEntropy().forward(np.zeros((1, 10)), [3]) == pytest.approx(np.log(10))
    assert round(10 ** (-800 / np.log(10) + 348), 1) == 3.7  # e**-800 = 3.7e-348, "about 4e-348"
    assert np.finfo(float).smallest_subnormal == 5e-324
    np.testing.assert_array_equal(log_softmax(np.array([[0.0, -800.0]])), [[0.0, -800.0]])


def test_combined_gradient_and_the_two_node_failure():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    loss = SoftmaxCrossEntropy()
    loss.forward(Z, labels)
    grad = loss.backward()
    numeric = companion.numerical_gradient(lambda v: SoftmaxCrossEntropy().forward(v, labels), Z)
    assert companion.relative_error(grad, numeric) < 1e-7
    loss.forward(np.array([[0.0, -800.0]]), [1])
    np.testing.assert_array_equal(loss.backward(), [[1.0, -1.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        y = softmax(np.array([[0.0, -800.0]]))
        dy = -np.array([[0.0, 1.0]]) / y
        two_nodes = y * (dy - np.sum(dy * y, axis=1, keepdims=True))
    assert np.isnan(two_nodes).all()


def test_the_source_notes_slips_are_caught():
    t = np.array([1.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(-np.sum(t * np.log(np.array([2.0, -1.0, 0.5]))))
    z = np.array([2.0, 1.0, 0.5])
    note_grad = z - t
    own = companion.gradient_check(lambda v: -np.sum(t * np.log(v)), z, note_grad, verbose=False)
    intended = companion.gradient_check(lambda v: SoftmaxCrossEntropy().forward(v.reshape(1, -1), [0]), z, note_grad,
                                        verbose=False)
    assert own > 0.5 and intended > 0.5
    batch = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose((np.exp(batch) / np.sum(np.exp(batch))).sum(axis=1), [0.5, 0.5])


def test_huge_logits_and_accuracy():
    loss = SoftmaxCrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]), [1, 0])
    assert round(value / 1e4) == 2 and value == pytest.approx(2e4 + np.log(2) / 2)
    assert f"{value:.4f}" == "20000.3466"
    # each sample is 2e4 off: the first's loss is 2e4, the second's 2e4 + log 2 (two classes share the top logit)
    per_sample = [companion.SoftmaxCrossEntropy().forward(np.array([row]), [label])
                  for row, label in [([1e4, -1e4, 0.0], 1), ([-1e4, 1e4, 1e4], 0)]]
    assert per_sample == [pytest.approx(2e4), pytest.approx(2e4 + np.log(2))]
    Z = np.random.default_rng(0).normal(size=(4, 3))
    assert accuracy(Z, [0, 2, 1, 2]) == 0.5


def test_exercises():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    for scale in (1, 10, 100, 1000):
        assert accuracy(scale * Z, labels) == 0.5
    losses = [SoftmaxCrossEntropy().forward(s * Z, labels) for s in (1, 10, 100, 1000)]
    assert losses == sorted(losses)
    # the find-the-bug exercise: backward without 1/n passes the check for n = 1 and fails for n = 4
    def mean_ce(v, lab):
        return -np.mean(np.log(softmax(v)[np.arange(len(v)), lab]))

    for n, should_pass in ((1, True), (4, False)):
        buggy = softmax(Z[:n]) - np.eye(3)[labels[:n]]
        err = companion.gradient_check(lambda v: mean_ce(v, labels[:n]), Z[:n], buggy, verbose=False)
        assert (err < 1e-7) == should_pass
