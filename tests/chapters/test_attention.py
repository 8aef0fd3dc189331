"""Numbers and claims stated in book/attention.md, recomputed with companion."""

import math

import numpy as np

from companion import (SelfAttention, Tensor, TransformerBlock, scaled_dot_product_attention,
                       scaled_dot_product_attention_backward, softmax_backward)
from companion.attention import causal_mask
from companion.gradcheck import numerical_gradient, relative_error


def chapter_example():
    """The chapter's sequence: S = 4 positions, d = 3 features, d_key = 2, and its dL/dO."""
    rng = np.random.default_rng(0)
    S, d, d_key = 4, 3, 2
    X = rng.normal(size=(S, d))
    Wq, Wk, Wv = (rng.normal(size=(d, d_key)) for _ in range(3))
    dO = rng.normal(size=(S, d_key))
    return X, Wq, Wk, Wv, dO


def scaling_statistics(width, seed=4, sequences=200, length=32):
    """The chapter's experiment: statistics of the weights and of dL/dE, unscaled and scaled."""
    rng = np.random.default_rng(seed)
    Qw, Kw = rng.normal(size=(2, sequences, length, width))
    dP = rng.normal(size=(sequences, length, length))
    scores = Qw @ Kw.transpose(0, 2, 1)
    stats = {"variance": scores.var()}
    for name, scale in (("unscaled", 1.0), ("scaled", 1 / math.sqrt(width))):
        _, weights = scaled_dot_product_attention(Qw * scale, Kw * math.sqrt(width), np.zeros((sequences, length, 1)))
        largest = weights.max(axis=-1)
        stats[name] = (largest.mean(), np.mean(largest > 0.99),
                       np.median(np.linalg.norm(softmax_backward(weights, dP), axis=-1)))
    return stats


def test_the_example_weights_are_probabilities_and_the_loops_agree():
    X, Wq, Wk, Wv, _ = chapter_example()
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    O, P = scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    E = np.array([[sum(Q[a, l] * K[b, l] for l in range(2)) / math.sqrt(2) for b in range(4)] for a in range(4)])
    np.testing.assert_allclose(P, np.exp(E) / np.exp(E).sum(axis=1, keepdims=True), rtol=1e-14)


def test_each_step_of_the_backward_and_the_slip_of_the_transpose():
    X, Wq, Wk, Wv, dO = chapter_example()
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    O, P = scaled_dot_product_attention(Q, K, V)
    dP = dO @ V.T
    dE = softmax_backward(P, dP)
    np.testing.assert_allclose(dE.sum(axis=1), 0.0, atol=1e-16)    # "each row of dL/dE sums to zero"
    tensors = [Tensor(a) for a in (Q, K, V)]
    E = (tensors[0] @ tensors[1].T) * (1 / math.sqrt(2))
    (E.softmax(axis=-1) @ tensors[2]).backward(dO)
    assert relative_error(dE, E.grad) < 1e-14
    dQ, dK, dV = scaled_dot_product_attention_backward(dO, Q, K, V, P)
    assert relative_error(dK, tensors[1].grad) < 1e-14 and relative_error(dQ, tensors[0].grad) < 1e-14
    slip = dE @ Q / math.sqrt(2)                                    # "the right shape, and the wrong numbers"
    assert slip.shape == dK.shape and relative_error(slip, dK) > 0.5
    # the S x S Jacobian of every row, formed, gives the same numbers: S^3 entries per sample against S^2
    formed = np.stack([(np.diag(p) - np.outer(p, p)).T @ g for p, g in zip(P, dP)])
    np.testing.assert_allclose(formed, dE, rtol=1e-12, atol=1e-17)


def test_the_layers_agree_with_central_differences_and_the_engine():
    """The chapter prints these errors; the prose says central differences are round-off limited near 1e-11."""
    x = np.random.default_rng(2).normal(size=(3, 5, 4))
    dout = np.random.default_rng(3).normal(size=x.shape)
    for layer in (SelfAttention(4, rng=1), SelfAttention(4, causal=True, rng=1), SelfAttention(4, heads=2, rng=7)):
        layer.forward(x)
        dx = layer.backward(dout)
        numeric = numerical_gradient(lambda v: np.sum(layer.forward(v) * dout), x.copy())
        assert np.abs(dx - numeric).max() < 1e-9
        assert np.abs(dx - numeric).max() / np.abs(dx).max() < 1e-7
    assert len(TransformerBlock(4, heads=2, rng=8).named_parameters()) == 12     # "twelve parameter arrays"
    block = TransformerBlock(4, rng=0)
    assert block.fc1.W.shape == (4, 16) and block.fc2.W.shape == (16, 4)      # (d, 4d) and (4d, d)


def test_dividing_by_sqrt_d_key_keeps_the_weights_spread_and_the_gradient_alive():
    for width in (4, 16, 64, 256):
        stats = scaling_statistics(width)
        assert abs(stats["variance"] / width - 1) < 0.05                      # "the variance of the scores is d_key"
        largest, one_hot, _ = stats["scaled"]
        assert round(largest, 2) in (0.16, 0.17) and one_hot == 0.0         # "about 0.16", "no row is one-hot"
    stats = scaling_statistics(256)
    largest, one_hot, grad_unscaled = stats["unscaled"]
    assert round(largest, 2) == 0.91                                        # "averages 0.91"
    assert 0.45 < one_hot < 0.55                                            # "half of the rows are one-hot"
    assert 25 < stats["scaled"][2] / grad_unscaled < 35                     # "some thirty times shorter"


def test_the_experiment_is_the_one_the_chapter_prints():
    """The chapter computes the weights with its own softmax; the same numbers as scaling_statistics."""
    rng = np.random.default_rng(4)
    Qw, Kw = rng.normal(size=(2, 200, 32, 64))
    scores = Qw @ Kw.transpose(0, 2, 1)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    assert abs(weights.max(axis=-1).mean() - scaling_statistics(64)["unscaled"][0]) < 1e-12


def test_masked_positions_get_exactly_zero_gradient():
    X, Wq, Wk, Wv, dO = chapter_example()
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    _, P = scaled_dot_product_attention(Q, K, V, causal=True)
    assert np.all(P[causal_mask(4)] == 0.0)
    dO_one = np.zeros_like(dO)
    dO_one[1] = dO[1]
    dQ, dK, dV = scaled_dot_product_attention_backward(dO_one, Q, K, V, P)
    assert np.all(dK[2:] == 0.0) and np.all(dV[2:] == 0.0) and np.all(dK[:2] != 0.0)
    assert np.count_nonzero(softmax_backward(P, dO_one @ V.T)[causal_mask(4)]) == 0
    layer = SelfAttention(4, causal=True, rng=1)
    x = np.random.default_rng(2).normal(size=(3, 5, 4))[:1]
    dout = np.zeros_like(x)
    dout[0, 2] = 1.0
    layer.forward(x)
    dx = layer.backward(dout)
    assert [tau for tau in range(5) if np.all(dx[0, tau] == 0.0)] == [3, 4]
    changed = x.copy()
    changed[0, 3:] += 10.0
    assert np.array_equal(layer.forward(changed)[0, :3], layer.forward(x)[0, :3])


def test_the_two_heads_are_two_single_head_attentions_and_the_weights_figure():
    layer = SelfAttention(4, heads=2, rng=7)
    x = np.random.default_rng(2).normal(size=(3, 5, 4))
    out = layer.forward(x)
    parts = [scaled_dot_product_attention(x @ layer.W_q[:, f], x @ layer.W_k[:, f], x @ layer.W_v[:, f])[0]
             for f in (slice(0, 2), slice(2, 4))]
    np.testing.assert_array_equal(out, np.concatenate(parts, axis=-1) @ layer.W_o)
    figure = SelfAttention(8, heads=2, causal=True, rng=5)
    figure.forward(np.random.default_rng(6).normal(size=(1, 8, 8)))
    assert np.all(figure.P[0, :, 0, 0] == 1.0)                        # "row 0 all on its own position"
    assert not np.allclose(figure.P[0, 0], figure.P[0, 1])            # "each head with weights of its own"


def test_the_residual_path_passes_dout_unchanged():
    block = TransformerBlock(4, rng=0)
    block.attn.W_o[...] = 0.0
    block.fc2.W[...] = 0.0
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    block.forward(x)
    dout = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_array_equal(block.backward(dout), dout)


def test_exercise_zero_queries_and_one_position():
    X, Wq, Wk, Wv, dO = chapter_example()
    K, V = X @ Wk, X @ Wv
    zero = np.zeros((4, 2))
    for causal, row in ((False, [0.25] * 4), (True, [1 / 3] * 3 + [0.0])):   # 1/S, and 1/(tau + 1) in row tau = 2
        _, P = scaled_dot_product_attention(zero, K, V, causal=causal)
        np.testing.assert_allclose(P[2], row, rtol=1e-15)
        dQ, dK, _ = scaled_dot_product_attention_backward(dO, zero, K, V, P)
        assert np.all(dK == 0.0) and np.abs(dQ).max() > 0.1
    Q = X @ Wq
    O, P = scaled_dot_product_attention(Q[:1], K[:1], V[:1])
    dQ, dK, _ = scaled_dot_product_attention_backward(dO[:1], Q[:1], K[:1], V[:1], P)
    assert P.tolist() == [[1.0]] and np.array_equal(O, V[:1]) and np.all(dQ == 0.0) and np.all(dK == 0.0)


def test_exercise_the_missing_sum():
    X, Wq, Wk, Wv, dO = chapter_example()
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    _, P = scaled_dot_product_attention(Q, K, V)
    dP = dO @ V.T
    assert np.abs((P * dP).sum(axis=1)).min() > 1e-3                  # the buggy rows do not sum to zero
    orthogonal = dP - (dP * P).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P * orthogonal, softmax_backward(P, orthogonal), atol=1e-16)


def test_exercise_masking_with_a_finite_number():
    assert np.exp(-746.0) == 0.0 and np.exp(-744.0) > 0.0               # "anything below about -745" underflows
    assert 1e-14 < math.exp(-30) < 1e-12                                # "about e^-30, 1e-13"
    X, Wq, Wk, Wv, dO = chapter_example()
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    leaks = []
    for value in (-1e9, -30.0, -5.0):
        Qt, Kt, Vt = Tensor(Q), Tensor(K), Tensor(V)
        weights = ((Qt @ Kt.T) * (1 / math.sqrt(2))).masked_fill(causal_mask(4), value).softmax(axis=-1)
        first = np.zeros((4, 2))
        first[0] = dO[0]
        (weights @ Vt).backward(first)
        assert np.all(Kt.grad[1:] == 0.0)                               # the keys: exactly zero whatever the value
        leaks.append(np.abs(Vt.grad[1:]).max())
    assert leaks[0] == 0.0 and 1e-14 < leaks[1] < 1e-12 and leaks[2] > 1e-3


def test_xavier_projections_give_queries_and_keys_of_unit_variance():
    """"each entry of a query or a key has variance d * (1/d) * 1 = 1" for inputs of mean square 1."""
    layer = SelfAttention(64, rng=0)
    x = np.random.default_rng(1).normal(size=(20, 32, 64))
    for W in (layer.W_q, layer.W_k):
        assert abs((x @ W).var() - 1) < 0.1
