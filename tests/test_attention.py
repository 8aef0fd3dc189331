"""companion.attention: scaled dot-product attention, SelfAttention and TransformerBlock.

Every backward is checked against central differences (< 1e-7 relative) and
against the same computation on the Tensor engine (< 1e-12, entry by entry), on fixed and on
random shapes (sequence length 1 included, masked and unmasked, one and
several heads); masked positions get exactly zero gradient; every error
message is tested; the input-check rules of CONTRIBUTING hold.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import companion
from companion import (LayerNorm, Linear, ReLU, SelfAttention, Sequential, Tensor, TransformerBlock,
                       scaled_dot_product_attention, scaled_dot_product_attention_backward)
from companion.attention import causal_mask
from companion.gradcheck import numerical_gradient, numerical_parameter_gradient, relative_error

FAST = settings(max_examples=15, deadline=None, derandomize=True)
NUMERIC = 1e-7   # central differences: the pass threshold of "Checking gradients numerically"
ENGINE = 1e-12   # the Tensor engine computes the same numbers in another order


def numeric_error(analytic, f, x):
    """Error of ``analytic`` against central differences of ``f`` at ``x``, relative to the gradient's largest entry.

    Central differences with h = 1e-5 are accurate to about eps * |L| / h, some 1e-11 here, in absolute
    terms; a saturated softmax makes some entries of dQ and dK as small as 1e-5, whose entrywise relative
    error (``relative_error``) is then round-off, 1e-7 to 1e-6 (the grey zone of "Checking gradients
    numerically"). Measured against the gradient's largest entry, a correct backward stays below 1e-7.
    """
    numeric = numerical_gradient(f, x.copy())
    return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-8))


def layer_numeric_error(layer, x, seed):
    """``numeric_error`` of a layer's dx and of every parameter's gradient; the loss is sum(out * dout)."""
    out = layer.forward(x)
    dout = np.random.default_rng(seed).normal(size=out.shape)
    dx = layer.backward(dout)
    grads = {name: grad.copy() for name, _, grad in layer.named_parameters()}
    errors = [numeric_error(dx, lambda value: np.sum(layer.forward(value) * dout), x)]
    for name, param, _ in layer.named_parameters():
        numeric = numerical_parameter_gradient(lambda: np.sum(layer.forward(x) * dout), param)
        errors.append(float(np.max(np.abs(grads[name] - numeric)) / max(np.max(np.abs(numeric)), 1e-8)))
    return max(errors)


def qkv(lead, S, d_key, d_v=None, seed=0, S_q=None):
    rng = np.random.default_rng(seed)
    S_q = S if S_q is None else S_q
    return (rng.normal(size=lead + (S_q, d_key)), rng.normal(size=lead + (S, d_key)),
            rng.normal(size=lead + (S, d_key if d_v is None else d_v)))


def tensor_attention(Q, K, V, causal=False):
    """The same attention on the Tensor engine: matmul, scale, mask, softmax, matmul."""
    E = (Q @ K.transpose(*range(K.ndim - 2), K.ndim - 1, K.ndim - 2)) * (1 / math.sqrt(Q.shape[-1]))
    if causal:
        E = E.masked_fill(causal_mask(E.shape[-1]), -np.inf)
    return E.softmax(axis=-1) @ V


def tensor_self_attention(x, W_q, W_k, W_v, W_o, heads, causal):
    """SelfAttention on the Tensor engine, heads split and joined with reshape and transpose."""
    n, S, d = x.shape

    def split(a):
        return a.reshape(n, S, heads, d // heads).transpose(0, 2, 1, 3)

    O = tensor_attention(split(x @ W_q), split(x @ W_k), split(x @ W_v), causal)
    return O.transpose(0, 2, 1, 3).reshape(n, S, d) @ W_o


def tensor_layer_norm(x, gamma, beta, eps=1e-5):
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred * (centred.var(axis=-1, keepdims=True) + eps) ** -0.5 * gamma + beta


def tensor_block(x, p, heads, causal):
    """TransformerBlock on the Tensor engine; ``p`` maps the block's parameter names to Tensors."""
    attn = tensor_self_attention(tensor_layer_norm(x, p["ln1.gamma"], p["ln1.beta"]), p["attn.W_q"], p["attn.W_k"],
                                 p["attn.W_v"], p["attn.W_o"], heads, causal)
    R = x + attn
    hidden = (tensor_layer_norm(R, p["ln2.gamma"], p["ln2.beta"]) @ p["fc1.W"] + p["fc1.b"]).relu()
    return R + hidden @ p["fc2.W"] + p["fc2.b"]


def randomised(layer, seed=5):
    """Every parameter redrawn (LayerNorm's gamma and beta too), so no gradient is special."""
    rng = np.random.default_rng(seed)
    for _, param, _ in layer.named_parameters():
        param[...] = rng.normal(scale=0.5, size=param.shape) + (1.0 if param.ndim == 1 else 0.0)
    return layer


def engine_errors(layer, x, dout, tensor_fn):
    """Max relative difference between the layer's backward and the Tensor engine's, for x and every parameter."""
    out = layer.forward(x)
    dx = layer.backward(dout)
    tensors = {name: Tensor(param.copy()) for name, param, _ in layer.named_parameters()}
    xt = Tensor(x)
    out_t = tensor_fn(xt, tensors)
    (out_t * dout).sum().backward()
    errors = {"out": relative_error(out, out_t.data), "x": relative_error(dx, xt.grad)}
    errors.update({name: relative_error(grad, tensors[name].grad) for name, _, grad in layer.named_parameters()})
    return errors


# --- the attention function --------------------------------------------------------------------------------


def test_attention_is_the_weighted_mean_of_the_values_written_with_loops():
    Q, K, V = qkv((2,), 4, 3, d_v=5)
    Y, P = scaled_dot_product_attention(Q, K, V)
    for i in range(2):
        for tau in range(4):
            scores = np.array([sum(Q[i, tau, c] * K[i, key, c] for c in range(3)) / math.sqrt(3) for key in range(4)])
            weights = np.exp(scores) / np.exp(scores).sum()
            np.testing.assert_allclose(P[i, tau], weights, rtol=1e-13)
            np.testing.assert_allclose(Y[i, tau], sum(weights[key] * V[i, key] for key in range(4)), rtol=1e-12)
    assert Y.shape == (2, 4, 5) and P.shape == (2, 4, 4)
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=1e-15)


def test_causal_weights_are_exactly_zero_above_the_diagonal_and_rows_renormalise():
    Q, K, V = qkv((3,), 5, 2)
    _, P = scaled_dot_product_attention(Q, K, V, causal=True)
    assert np.all(P[:, causal_mask(5)] == 0.0)
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(P[:, 0, 0], 1.0)   # the first position sees only itself
    _, P_free = scaled_dot_product_attention(Q, K, V)
    for tau in range(5):   # the visible weights are the unmasked ones renormalised over tau' <= tau
        visible = P_free[:, tau, :tau + 1]
        np.testing.assert_allclose(P[:, tau, :tau + 1], visible / visible.sum(axis=-1, keepdims=True), rtol=1e-13)


def test_one_position_returns_its_value():
    Q, K, V = qkv((2, 3), 1, 4)
    for causal in (False, True):
        Y, P = scaled_dot_product_attention(Q, K, V, causal=causal)
        np.testing.assert_array_equal(P, 1.0)
        np.testing.assert_array_equal(Y, V)


def test_huge_scores_do_not_overflow():
    Q, K, V = qkv((), 3, 2)
    Y, P = scaled_dot_product_attention(Q * 1e4, K * 1e4, V)
    assert np.isfinite(Y).all() and np.isfinite(P).all()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lead", [(), (2,), (2, 3)])
def test_attention_backward_matches_central_differences_and_the_engine(lead, causal):
    Q, K, V = qkv(lead, 4, 3, d_v=2, seed=1)
    dY = np.random.default_rng(2).normal(size=lead + (4, 2))
    Y, P = scaled_dot_product_attention(Q, K, V, causal=causal)
    grads = scaled_dot_product_attention_backward(dY, Q, K, V, P)
    for k, name in enumerate("QKV"):
        def loss(value, k=k):
            args = [Q, K, V]
            args[k] = value
            return np.sum(scaled_dot_product_attention(*args, causal=causal)[0] * dY)
        assert numeric_error(grads[k], loss, [Q, K, V][k]) < NUMERIC, name
    tensors = [Tensor(a) for a in (Q, K, V)]
    Y_t = tensor_attention(*tensors, causal=causal)
    assert relative_error(Y, Y_t.data) < ENGINE
    (Y_t * dY).sum().backward()
    for grad, t in zip(grads, tensors):
        assert relative_error(grad, t.grad) < ENGINE


def test_cross_attention_with_fewer_queries_than_keys():
    Q, K, V = qkv((2,), 5, 3, S_q=2, seed=3)
    dY = np.random.default_rng(4).normal(size=(2, 2, 3))
    Y, P = scaled_dot_product_attention(Q, K, V)
    assert Y.shape == (2, 2, 3) and P.shape == (2, 2, 5)
    dQ, dK, dV = scaled_dot_product_attention_backward(dY, Q, K, V, P)
    assert dQ.shape == Q.shape and dK.shape == K.shape and dV.shape == V.shape
    tensors = [Tensor(a) for a in (Q, K, V)]
    (tensor_attention(*tensors) * dY).sum().backward()
    for grad, t in zip((dQ, dK, dV), tensors):
        assert relative_error(grad, t.grad) < ENGINE


def test_masked_positions_get_exactly_zero_gradient():
    """A query never sees a later key: the scores' gradient is 0 above the diagonal, to the last bit."""
    Q, K, V = qkv((2,), 4, 3, seed=6)
    Y, P = scaled_dot_product_attention(Q, K, V, causal=True)
    dY = np.random.default_rng(7).normal(size=Y.shape)
    dP = dY @ np.swapaxes(V, -1, -2)
    dE = companion.softmax_backward(P, dP)
    assert np.all(dE[:, causal_mask(4)] == 0.0)
    # the engine agrees: the scores' tensor gets exactly 0 where masked
    Qt, Kt, Vt = Tensor(Q), Tensor(K), Tensor(V)
    E = (Qt @ Kt.transpose(0, 2, 1)) * (1 / math.sqrt(3))
    masked = E.masked_fill(causal_mask(4), -np.inf)
    ((masked.softmax(axis=-1) @ Vt) * dY).sum().backward()
    assert np.all(E.grad[:, causal_mask(4)] == 0.0)
    # only the first output row gets a gradient: the keys and values after position 0 get exactly 0
    first_only = np.zeros_like(dY)
    first_only[:, 0] = dY[:, 0]
    dQ, dK, dV = scaled_dot_product_attention_backward(first_only, Q, K, V, P)
    assert np.all(dK[:, 1:] == 0.0) and np.all(dV[:, 1:] == 0.0) and np.all(dQ[:, 1:] == 0.0)
    # and changing a later key or value leaves the earlier outputs bit for bit the same
    K2, V2 = K.copy(), V.copy()
    K2[:, 3] += 5.0
    V2[:, 3] -= 7.0
    Y2, _ = scaled_dot_product_attention(Q, K2, V2, causal=True)
    np.testing.assert_array_equal(Y2[:, :3], Y[:, :3])


@FAST
@given(n=st.integers(1, 3), S=st.integers(1, 5), d_key=st.integers(1, 4), d_v=st.integers(1, 3),
       causal=st.booleans(), seed=st.integers(0, 1000))
def test_attention_backward_on_random_shapes(n, S, d_key, d_v, causal, seed):
    Q, K, V = qkv((n,), S, d_key, d_v=d_v, seed=seed)
    dY = np.random.default_rng(seed + 1).normal(size=(n, S, d_v))
    Y, P = scaled_dot_product_attention(Q, K, V, causal=causal)
    grads = scaled_dot_product_attention_backward(dY, Q, K, V, P)
    tensors = [Tensor(a) for a in (Q, K, V)]
    (tensor_attention(*tensors, causal=causal) * dY).sum().backward()
    for k in range(3):
        def loss(value, k=k):
            args = [Q, K, V]
            args[k] = value
            return np.sum(scaled_dot_product_attention(*args, causal=causal)[0] * dY)
        assert numeric_error(grads[k], loss, [Q, K, V][k]) < NUMERIC
        assert relative_error(grads[k], tensors[k].grad) < ENGINE


# --- SelfAttention -----------------------------------------------------------------------------------------


def test_self_attention_shapes_parameters_and_weights():
    layer = SelfAttention(6, heads=3, causal=True, rng=0)
    assert repr(layer) == "SelfAttention(6, heads=3, causal=True)"
    assert [name for name, _, _ in layer.named_parameters()] == ["W_q", "W_k", "W_v", "W_o"]
    assert all(p.shape == (6, 6) and g.shape == (6, 6) for _, p, g in layer.named_parameters())
    x = np.random.default_rng(1).normal(size=(2, 4, 6))
    out = layer.forward(x)
    assert out.shape == (2, 4, 6) and layer.P.shape == (2, 3, 4, 4)
    assert np.all(layer.P[:, :, causal_mask(4)] == 0.0)
    assert layer(x).shape == out.shape


def test_self_attention_weights_are_seeded_and_xavier_scaled():
    a, b = SelfAttention(64, rng=3), SelfAttention(64, rng=3)
    for (_, pa, _), (_, pb, _) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a.W_q, a.W_k)   # four different draws from one generator
    assert abs(a.W_q.var() * 64 - 1) < 0.1    # Var(w) = 2 / (d + d) = 1 / d


def test_heads_are_reshapes_of_single_head_attention():
    """Head g of a 2-head layer is single-head attention on features g*d_key .. (g+1)*d_key - 1."""
    layer = SelfAttention(4, heads=2, rng=0)
    x = np.random.default_rng(1).normal(size=(3, 5, 4))
    out = layer.forward(x)
    joined = []
    for g in range(2):
        cols = slice(2 * g, 2 * g + 2)
        O, P = scaled_dot_product_attention(x @ layer.W_q[:, cols], x @ layer.W_k[:, cols], x @ layer.W_v[:, cols])
        np.testing.assert_allclose(layer.P[:, g], P, rtol=1e-12)
        joined.append(O)
    np.testing.assert_allclose(out, np.concatenate(joined, axis=-1) @ layer.W_o, rtol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_self_attention_backward_matches_central_differences_and_the_engine(heads, causal):
    layer = SelfAttention(4, heads=heads, causal=causal, rng=0)
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    assert layer_numeric_error(layer, x, 2) < NUMERIC
    dout = np.random.default_rng(3).normal(size=x.shape)
    errors = engine_errors(layer, x, dout, lambda xt, p: tensor_self_attention(
        xt, p["W_q"], p["W_k"], p["W_v"], p["W_o"], heads, causal))
    assert max(errors.values()) < ENGINE, errors


@FAST
@given(n=st.integers(1, 3), S=st.integers(1, 5), heads=st.sampled_from([1, 2, 3]), d_key=st.integers(1, 3),
       causal=st.booleans(), seed=st.integers(0, 1000))
def test_self_attention_on_random_shapes(n, S, heads, d_key, causal, seed):
    d = heads * d_key
    layer = SelfAttention(d, heads=heads, causal=causal, rng=seed)
    x = np.random.default_rng(seed + 1).normal(size=(n, S, d))
    assert layer_numeric_error(layer, x, seed + 2) < NUMERIC
    dout = np.random.default_rng(seed + 3).normal(size=x.shape)
    errors = engine_errors(layer, x, dout, lambda xt, p: tensor_self_attention(
        xt, p["W_q"], p["W_k"], p["W_v"], p["W_o"], heads, causal))
    assert max(errors.values()) < ENGINE, errors


def test_causal_self_attention_gives_later_positions_no_say_in_earlier_outputs():
    layer = SelfAttention(4, heads=2, causal=True, rng=0)
    x = np.random.default_rng(1).normal(size=(1, 4, 4))
    dout = np.zeros_like(x)
    dout[0, 1] = 1.0                    # the loss reads output position 1 only
    layer.forward(x)
    dx = layer.backward(dout)
    assert np.all(dx[0, 2:] == 0.0)     # positions 2 and 3 are masked for it: exactly 0
    assert np.all(dx[0, :2] != 0.0)


def test_backward_overwrites_the_gradients_in_place():
    layer = SelfAttention(4, heads=2, rng=0)
    arrays = [grad for _, _, grad in layer.named_parameters()]
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    for _ in range(2):
        layer.forward(x)
        layer.backward(np.ones(x.shape))
    once = SelfAttention(4, heads=2, rng=0)
    once.forward(x)
    once.backward(np.ones(x.shape))
    for grad, (_, _, expected) in zip(arrays, once.named_parameters()):
        np.testing.assert_array_equal(grad, expected)
    assert [grad for _, _, grad in layer.named_parameters()] == arrays
    layer.zero_grad()
    assert all(np.all(grad == 0) for grad in arrays)


# --- TransformerBlock --------------------------------------------------------------------------------------


def test_block_is_the_composition_of_its_sublayers():
    block = randomised(TransformerBlock(4, heads=2, hidden=6, rng=0))
    assert repr(block) == "TransformerBlock(4, heads=2, hidden=6, causal=True)"
    assert [name for name, _, _ in block.named_parameters()] == [
        "ln1.gamma", "ln1.beta", "attn.W_q", "attn.W_k", "attn.W_v", "attn.W_o",
        "ln2.gamma", "ln2.beta", "fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    assert TransformerBlock(8, rng=0).fc1.W.shape == (8, 32)   # hidden = 4 * dim by default
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    R = x + block.attn.forward(block.ln1.forward(x))
    expected = R + block.fc2.forward(np.maximum(block.fc1.forward(block.ln2.forward(R)), 0))
    np.testing.assert_allclose(block.forward(x), expected, rtol=1e-13)
    assert block.attn.causal and not TransformerBlock(4, causal=False, rng=0).attn.causal


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads", [1, 2])
def test_block_backward_matches_central_differences_and_the_engine(heads, causal):
    block = randomised(TransformerBlock(4, heads=heads, hidden=5, causal=causal, rng=0))
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    assert layer_numeric_error(block, x, 2) < NUMERIC
    dout = np.random.default_rng(3).normal(size=x.shape)
    errors = engine_errors(block, x, dout, lambda xt, p: tensor_block(xt, p, heads, causal))
    assert max(errors.values()) < ENGINE, errors


@FAST
@given(n=st.integers(1, 2), S=st.integers(1, 4), heads_and_width=st.sampled_from([(1, 3), (1, 4), (2, 2), (3, 1)]),
       hidden=st.integers(1, 4), causal=st.booleans(), seed=st.integers(0, 1000))
def test_block_on_random_shapes(n, S, heads_and_width, hidden, causal, seed):
    """d >= 3: with two features LayerNorm's x_hat is +-1 up to eps whatever x, so its dx is round-off."""
    heads, d_key = heads_and_width
    d = heads * d_key
    block = randomised(TransformerBlock(d, heads=heads, hidden=hidden, causal=causal, rng=seed), seed=seed)
    x = np.random.default_rng(seed + 1).normal(size=(n, S, d))
    dout = np.random.default_rng(seed + 3).normal(size=x.shape)
    errors = engine_errors(block, x, dout, lambda xt, p: tensor_block(xt, p, heads, causal))
    assert max(errors.values()) < ENGINE, errors
    assert layer_numeric_error(block, x, seed + 2) < NUMERIC


def test_residual_connection_adds_dout_to_the_branch_gradient():
    """With the attention and MLP branches switched off, the block is the identity and dx = dout."""
    block = TransformerBlock(4, rng=0)
    block.attn.W_o[...] = 0.0
    block.fc2.W[...] = 0.0
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    np.testing.assert_array_equal(block.forward(x), x)
    dout = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_array_equal(block.backward(dout), dout)


# --- errors ------------------------------------------------------------------------------------------------


def test_attention_function_errors():
    Q, K, V = qkv((2,), 3, 4)
    f = scaled_dot_product_attention
    with pytest.raises(TypeError, match=r"^scaled_dot_product_attention: queries Q must be real numbers"):
        f("abc", K, V)
    bad = K.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention: keys K contains NaN or infinity "
                                         r"\(first at index \(1, 2, 0\)"):
        f(Q, bad, V)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention: values V contains NaN"):
        f(Q, K, np.full(V.shape, np.inf))
    with pytest.raises(ValueError, match=r"Q, K, V have shapes \(4,\), \(4,\), \(4,\); expected arrays "
                                         r"\(\.\.\., S, d_key\)"):
        f(Q[0, 0], K[0, 0], V[0, 0])
    with pytest.raises(ValueError, match=r"the same number of axes"):
        f(Q, K[0], V)
    with pytest.raises(ValueError, match=r"expected the same leading axes \(samples, heads\)"):
        f(Q, np.concatenate([K, K]), np.concatenate([V, V]))
    with pytest.raises(ValueError, match=r"queries Q have shape \(2, 3, 4\) and keys K \(2, 3, 2\); expected the "
                                         r"same width d_key >= 1"):
        f(Q, K[..., :2], V)
    with pytest.raises(ValueError, match=r"same width d_key >= 1"):
        f(Q[..., :0], K[..., :0], V)
    with pytest.raises(ValueError, match=r"keys K have shape \(2, 3, 4\) and values V \(2, 2, 4\); expected the "
                                         r"same number of positions S >= 1"):
        f(Q, K, V[:, :2])
    with pytest.raises(ValueError, match=r"same number of positions S >= 1"):
        f(Q, K[:, :0], V[:, :0])
    with pytest.raises(ValueError, match=r"causal=True needs as many queries as keys \(self-attention\), got "
                                         r"Q \(2, 2, 4\) and K \(2, 3, 4\)"):
        f(Q[:, :2], K, V, causal=True)


def test_attention_backward_errors():
    Q, K, V = qkv((2,), 3, 4)
    Y, P = scaled_dot_product_attention(Q, K, V)
    g = scaled_dot_product_attention_backward
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention_backward: attention weights P has shape "
                                         r"\(2, 3, 2\), expected \(2, 3, 3\)"):
        g(Y, Q, K, V, P[..., :2])
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention_backward: upstream gradient dY \(the shape "
                                         r"of Y\) has shape \(2, 3, 1\), expected \(2, 3, 4\)"):
        g(Y[..., :1], Q, K, V, P)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention_backward: upstream gradient dY contains NaN"):
        g(np.full(Y.shape, np.nan), Q, K, V, P)
    with pytest.raises(TypeError, match=r"^scaled_dot_product_attention_backward: attention weights P must be real"):
        g(Y, Q, K, V, None)
    with pytest.raises(ValueError, match=r"^scaled_dot_product_attention_backward: keys K have shape"):
        g(Y, Q, K, V[:, :2], P)


def test_self_attention_errors():
    with pytest.raises(ValueError, match=r"^SelfAttention: dim 6 is not divisible by heads 4; expected dim = heads \* "
                                         r"d_key"):
        SelfAttention(6, heads=4)
    with pytest.raises(ValueError, match=r"^SelfAttention: heads must be a positive integer, got 0"):
        SelfAttention(6, heads=0)
    with pytest.raises(ValueError, match=r"^SelfAttention: dim must be a positive integer, got 2.5"):
        SelfAttention(2.5)
    with pytest.raises(TypeError, match=r"^SelfAttention: causal must be True or False, got 'yes'"):
        SelfAttention(4, causal="yes")
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        SelfAttention(4, rng="seed")
    layer = SelfAttention(4, heads=2, rng=0)
    name = re.escape("SelfAttention(4, heads=2, causal=False)")
    with pytest.raises(RuntimeError, match=rf"^{name}: backward\(\) called before forward\(\)"):
        layer.backward(np.ones((1, 2, 4)))
    for shape in [(2, 4), (2, 3, 5), (2, 0, 4), (1, 2, 3, 4)]:
        with pytest.raises(ValueError, match=rf"^{name}: input x has shape {re.escape(str(shape))}, expected "
                                             rf"\(n, S, 4\): n sequences of S >= 1 positions with 4 features each"):
            layer.forward(np.ones(shape))
    x = np.ones((2, 3, 4))
    x[1, 2, 3] = np.inf
    with pytest.raises(ValueError, match=rf"^{name}: input x contains NaN or infinity \(first at index \(1, 2, 3\)"):
        layer.forward(x)
    with pytest.raises(TypeError, match=rf"^{name}: input x must be real numbers"):
        layer.forward([["a"]])
    layer.forward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout has shape \(2, 3, 3\), expected "
                                         rf"\(2, 3, 4\)"):
        layer.backward(np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout contains NaN"):
        layer.backward(np.full((2, 3, 4), np.nan))


def test_transformer_block_errors():
    with pytest.raises(ValueError, match=r"^TransformerBlock: hidden must be a positive integer, got 0"):
        TransformerBlock(4, hidden=0)
    with pytest.raises(ValueError, match=r"^TransformerBlock: dim must be a positive integer, got -1"):
        TransformerBlock(-1)
    with pytest.raises(ValueError, match=r"^SelfAttention: dim 4 is not divisible by heads 3"):
        TransformerBlock(4, heads=3)
    block = TransformerBlock(4, hidden=8, rng=0)
    name = re.escape("TransformerBlock(4, heads=1, hidden=8, causal=True)")
    with pytest.raises(RuntimeError, match=rf"^{name}: backward\(\) called before forward\(\)"):
        block.backward(np.ones((1, 2, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: input x has shape \(3, 4\), expected \(n, S, 4\)"):
        block.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: input x contains NaN"):
        block.forward(np.full((1, 2, 4), np.nan))
    block.forward(np.ones((1, 2, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout has shape \(1, 3, 4\), expected "
                                         rf"\(1, 2, 4\)"):
        block.backward(np.ones((1, 3, 4)))
    with pytest.raises(ValueError, match=rf"^{name}: upstream gradient dout contains NaN"):
        block.backward(np.full((1, 2, 4), np.nan))


# --- input checks (CONTRIBUTING, "Input checks") ----------------------------------------------------------


def counting_scans(monkeypatch):
    calls = []
    original = companion._validate.as_float_array
    for module in ("attention", "layers", "normalization", "functions", "losses"):
        monkeypatch.setattr(f"companion.{module}.as_float_array",
                            lambda *args, module=module, **kw: calls.append(module) or original(*args, **kw))
    return calls


@pytest.mark.parametrize("make", [lambda: SelfAttention(4, heads=2, rng=0), lambda: TransformerBlock(4, rng=0)])
def test_checked_arrays_are_not_scanned_again(monkeypatch, make):
    layer = make()
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    calls = counting_scans(monkeypatch)
    layer.forward(x)
    layer.backward(np.ones(x.shape))
    assert calls == ["attention", "attention"]          # x and dout, once each, at the layer's door
    layer.forward(x, checked=True)
    layer.backward(np.ones(x.shape), checked=True)
    assert calls == ["attention", "attention"]          # nothing more
    Q, K, V = qkv((2,), 3, 4)
    Y, P = scaled_dot_product_attention(Q, K, V, checked=True)
    scaled_dot_product_attention_backward(Y, Q, K, V, P, checked=True)
    assert calls == ["attention", "attention"]


def test_checked_true_still_checks_shapes():
    layer = SelfAttention(4, rng=0)
    with pytest.raises(ValueError, match=r"input x has shape \(2, 3\)"):
        layer.forward(np.ones((2, 3)), checked=True)
    layer.forward(np.ones((2, 3, 4)), checked=True)
    with pytest.raises(ValueError, match=r"upstream gradient dout has shape"):
        layer.backward(np.ones((2, 3, 5)), checked=True)
    with pytest.raises(ValueError, match=r"expected the same width d_key"):
        scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 2)), np.ones((2, 3)), checked=True)


@pytest.mark.parametrize("make", [lambda: SelfAttention(4, heads=2, causal=True, rng=0),
                                  lambda: TransformerBlock(4, heads=2, rng=0)])
def test_the_success_path_never_formats_the_layer_name(make):
    calls = []
    layer = make()
    layer.__class__ = type("Counting", (type(layer),), {"__repr__": lambda self: calls.append(1) or "name"})
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    layer.backward(layer.forward(x))
    net = Sequential(Linear(4, 4, rng=0), layer, Linear(4, 2, rng=1))
    net.backward(net.forward(x))
    assert calls == []
    with pytest.raises(ValueError, match=r"input x contains NaN"):
        layer.forward(np.full((2, 3, 4), np.nan))
    assert calls


def test_inside_a_sequential_the_gradients_are_the_same_as_on_their_own():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    dout = np.random.default_rng(1).normal(size=(2, 3, 2))
    net = Sequential(Linear(4, 4, rng=0), TransformerBlock(4, heads=2, rng=1), SelfAttention(4, rng=2),
                     LayerNorm(4), ReLU(), Linear(4, 2, rng=3))
    dx = net.backward(net.forward(x) * 0 + dout)
    grads = [grad.copy() for _, _, grad in net.named_parameters()]
    h = x
    for layer in net.layers:
        h = layer.forward(h)
    g = dout
    for layer in reversed(net.layers):
        g = layer.backward(g)
    np.testing.assert_array_equal(g, dx)
    for before, (_, _, grad) in zip(grads, net.named_parameters()):
        np.testing.assert_array_equal(before, grad)
    assert layer_numeric_error(net, x, 4) < NUMERIC
