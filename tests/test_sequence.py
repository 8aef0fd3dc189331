"""companion.sequence: Embedding, RNN and tensor_rnn; the Tensor operations stack and concat (part VII)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import companion
from companion import RNN, Embedding, Sequential, Tensor, check_layer, concat, relative_error, stack, tensor_rnn
from companion.gradcheck import numerical_gradient, numerical_parameter_gradient, tensor_gradient_errors

FAST = settings(max_examples=25, deadline=None, derandomize=True)


def onehot(ids, vocab_size):
    """The one-hot rows of the ids: shape ids.shape + (vocab_size,)."""
    return (np.asarray(ids)[..., None] == np.arange(vocab_size)).astype(float)


def rnn_and_input(n, S, d_in, d_h, seed=0, with_bias=True):
    rng = np.random.default_rng(seed)
    rnn = RNN(d_in, d_h, rng=rng)
    if with_bias:
        rnn.b[...] = rng.normal(scale=0.5, size=d_h)   # not zero, so that its gradient is not special
    return rnn, rng.normal(size=(n, S, d_in)), rng.normal(size=(n, d_h)), rng


def rnn_by_definition(x, W_x, W_h, b, h0):
    """H_s = tanh(X_s W_x + H_{s-1} W_h + b), one position and one sample at a time."""
    n, S, _ = x.shape
    out = np.zeros((n, S, W_h.shape[0]))
    for i in range(n):
        h = h0[i]
        for s in range(S):
            h = np.tanh(x[i, s] @ W_x + h @ W_h + b)
            out[i, s] = h
    return out


# --- Embedding -------------------------------------------------------------------------------------


def test_embedding_forward_is_the_one_hot_product():
    emb = Embedding(6, 3, rng=0)
    ids = np.array([[0, 5, 2, 5], [3, 3, 1, 0]])
    out = emb.forward(ids)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out, onehot(ids, 6) @ emb.W)
    np.testing.assert_array_equal(out[1, 2], emb.W[1])
    np.testing.assert_array_equal(emb.forward(np.array([4, 0])), emb.W[[4, 0]])        # (n,) -> (n, d)
    np.testing.assert_array_equal(emb.forward(ids.astype(float)), out)                # whole floats: as fit passes
    np.testing.assert_array_equal(emb.forward(ids.astype(np.uint8)), out)


def test_embedding_backward_is_a_scatter_add_and_repeated_tokens_sum():
    emb = Embedding(5, 2, rng=0)
    ids = np.array([[1, 3, 1], [1, 0, 3]])      # token 1 three times, 3 twice, 0 once, 2 and 4 never
    dout = np.arange(12.0).reshape(2, 3, 2)
    emb.forward(ids)
    assert emb.backward(dout) is None           # ids have no gradient
    expected = np.array([[8, 9],                # token 0: position (1, 1)
                         [0 + 4 + 6, 1 + 5 + 7],   # token 1: (0, 0), (0, 2), (1, 0)
                         [0, 0],
                         [2 + 10, 3 + 11],      # token 3: (0, 1), (1, 2)
                         [0, 0]], dtype=float)
    np.testing.assert_array_equal(emb.grad_W, expected)
    np.testing.assert_array_equal(emb.grad_W, onehot(ids, 5).reshape(-1, 5).T @ dout.reshape(-1, 2))


def test_embedding_gradient_matches_central_differences_and_the_tensor_engine():
    emb = Embedding(7, 4, rng=1)
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 7, size=(3, 5))
    dout = rng.normal(size=(3, 5, 4))
    emb.forward(ids)
    emb.backward(dout)
    numeric = numerical_parameter_gradient(lambda: np.sum(emb.forward(ids) * dout), emb.W)
    assert relative_error(emb.grad_W, numeric) < 1e-7
    W = Tensor(emb.W.copy())
    (W[ids] * dout).sum().backward()            # Tensor indexing with an integer array: the same scatter-add
    assert relative_error(emb.grad_W, W.grad) < 1e-12


@FAST
@given(n=st.integers(1, 4), S=st.integers(1, 5), vocab=st.integers(1, 6), d=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_embedding_property_random_shapes(n, S, vocab, d, seed):
    rng = np.random.default_rng(seed)
    emb = Embedding(vocab, d, rng=rng)
    ids = rng.integers(0, vocab, size=(n, S))
    dout = rng.normal(size=(n, S, d))
    np.testing.assert_array_equal(emb.forward(ids), onehot(ids, vocab) @ emb.W)
    emb.backward(dout)
    W = Tensor(emb.W.copy())
    (W[ids] * dout).sum().backward()
    assert relative_error(emb.grad_W, W.grad) < 1e-12
    counts = np.bincount(ids.ravel(), minlength=vocab)
    np.testing.assert_allclose(emb.grad_W.sum(axis=1), onehot(ids, vocab).reshape(-1, vocab).T
                               @ dout.sum(axis=2).ravel(), atol=1e-12)
    assert not emb.grad_W[counts == 0].any()     # a token no position used gets exactly zero


def test_embedding_parameters_protocol_and_in_place_gradients():
    emb = Embedding(4, 3, rng=5)
    assert repr(emb) == "Embedding(4, 3)"
    assert [name for name, _, _ in emb.named_parameters()] == ["W"]
    assert emb.parameters()[0][0] is emb.W and emb.parameters()[0][1] is emb.grad_W
    np.testing.assert_array_equal(emb.W, np.random.default_rng(5).standard_normal((4, 3)))   # Normal(0, 1)
    grad = emb.grad_W
    emb.forward(np.array([[1, 1]]))
    emb.backward(np.ones((1, 2, 3)))
    emb.backward(np.ones((1, 2, 3)))
    assert emb.grad_W is grad
    np.testing.assert_array_equal(emb.grad_W[1], [2, 2, 2])   # overwritten, not added: still 2 uses of token 1
    emb.zero_grad()
    assert not emb.grad_W.any()
    assert emb(np.array([0])).shape == (1, 3)


def test_embedding_errors():
    emb = Embedding(4, 3)
    with pytest.raises(TypeError, match=r"^Embedding\(4, 3\): token ids must be integers, got ndarray with "
                                        r"dtype <U1$"):
        emb.forward(np.array([["a"]]))
    with pytest.raises(TypeError, match=r"^Embedding\(4, 3\): token ids must be integers, got ndarray with "
                                        r"dtype bool$"):
        emb.forward(np.array([True, False]))
    with pytest.raises(TypeError, match=r"^Embedding\(4, 3\): token ids must be integers, got 1.5 at index "
                                        r"\(0, 1\)$"):
        emb.forward(np.array([[1.0, 1.5]]))
    with pytest.raises(TypeError, match=r"^Embedding\(4, 3\): token ids must be integers, got nan at index \(1,\)$"):
        emb.forward(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): token id 4 at index \(1, 0\) is out of range; "
                                         r"expected ids in 0..3 for a vocabulary of 4$"):
        emb.forward(np.array([[0, 3], [4, 1]]))
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): token id -1 at index \(2,\) is out of range"):
        emb.forward(np.array([0, 1, -1]))      # numpy would wrap -1 around to the last row: refused
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): token ids have shape \(2, 2, 2\), expected "
                                         r"\(n,\) or \(n, S\)$"):
        emb.forward(np.zeros((2, 2, 2), dtype=int))
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): token ids have shape \(\), expected"):
        emb.forward(2)
    with pytest.raises(RuntimeError, match=r"^Embedding\(4, 3\): backward\(\) called before forward\(\)"):
        emb.backward(np.ones((1, 3)))
    emb.forward(np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): upstream gradient dout has shape \(2, 3\), "
                                         r"expected \(1, 2, 3\)$"):
        emb.backward(np.ones((2, 3)))
    bad = np.ones((1, 2, 3))
    bad[0, 1, 2] = np.inf
    with pytest.raises(ValueError, match=r"^Embedding\(4, 3\): upstream gradient dout contains NaN or infinity "
                                         r"\(first at index \(0, 1, 2\)"):
        emb.backward(bad)
    with pytest.raises(ValueError, match=r"^Embedding: vocab_size must be a positive integer, got 0$"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match=r"^Embedding: dim must be a positive integer, got 2.0$"):
        Embedding(4, 2.0)
    with pytest.raises(TypeError, match=r"^rng must be a numpy.random.Generator"):
        Embedding(4, 2, rng="seed")


# --- RNN -------------------------------------------------------------------------------------------


def test_rnn_forward_is_the_recurrence_of_its_definition():
    rnn, x, h0, _ = rnn_and_input(3, 4, 2, 5)
    out = rnn.forward(x, h0)
    assert out.shape == (3, 4, 5) and out.flags.c_contiguous
    np.testing.assert_allclose(out, rnn_by_definition(x, rnn.W_x, rnn.W_h, rnn.b, h0), rtol=1e-13, atol=1e-15)
    zero = rnn_by_definition(x, rnn.W_x, rnn.W_h, rnn.b, np.zeros((3, 5)))
    np.testing.assert_allclose(rnn.forward(x), zero, rtol=1e-13, atol=1e-15)   # no h0: zeros
    np.testing.assert_array_equal(rnn(x, h0), out)


def test_a_sequence_of_length_one_is_one_tanh_layer():
    rnn, x, h0, _ = rnn_and_input(4, 1, 3, 2)
    np.testing.assert_allclose(rnn.forward(x, h0)[:, 0], np.tanh(x[:, 0] @ rnn.W_x + h0 @ rnn.W_h + rnn.b),
                               rtol=1e-14)


def test_running_in_two_pieces_with_the_last_state_as_h0_gives_the_whole_run():
    rnn, x, h0, _ = rnn_and_input(2, 6, 3, 4)
    whole = rnn.forward(x, h0)
    first = rnn.forward(x[:, :2], h0)
    second = rnn.forward(x[:, 2:], first[:, -1])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-14)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 3, 2), (1, 5, 2, 3), (3, 1, 2, 2), (2, 4, 3, 4)], ids=str)
def test_rnn_gradients_match_central_differences(shape):
    rnn, x, h0, rng = rnn_and_input(*shape)
    errors = companion.layer_gradient_errors(rnn, x, rng=rng)
    assert max(errors.values()) < 1e-7, errors
    dout = rng.normal(size=(shape[0], shape[1], shape[3]))
    rnn.forward(x, h0)
    rnn.backward(dout)
    numeric = numerical_gradient(lambda h: np.sum(rnn.forward(x, h) * dout), h0)
    assert relative_error(rnn.grad_h0, numeric) < 1e-7


def test_the_weight_gradients_are_sums_over_the_positions():
    """BPTT: grad_W_h = sum over s of H_{s-1}.T delta_s, and so on, with delta_s from the backward recursion."""
    rnn, x, h0, rng = rnn_and_input(2, 4, 3, 3)
    out = rnn.forward(x, h0)
    dout = rng.normal(size=out.shape)
    dx = rnn.backward(dout)
    H = np.concatenate([h0[:, None], out], axis=1)      # H_0 .. H_S
    deltas, carry = {}, np.zeros((2, 3))
    for s in range(4, 0, -1):
        deltas[s] = (dout[:, s - 1] + carry) * (1 - H[:, s] ** 2)
        carry = deltas[s] @ rnn.W_h.T
    np.testing.assert_allclose(rnn.grad_W_h, sum(H[:, s - 1].T @ deltas[s] for s in range(1, 5)), rtol=1e-13)
    np.testing.assert_allclose(rnn.grad_W_x, sum(x[:, s - 1].T @ deltas[s] for s in range(1, 5)), rtol=1e-13)
    np.testing.assert_allclose(rnn.grad_b, sum(deltas[s].sum(axis=0) for s in range(1, 5)), rtol=1e-13)
    np.testing.assert_allclose(dx, np.stack([deltas[s] @ rnn.W_x.T for s in range(1, 5)], axis=1), rtol=1e-13)
    np.testing.assert_allclose(rnn.grad_h0, carry, rtol=1e-13)


@FAST
@given(n=st.integers(1, 3), S=st.integers(1, 6), d_in=st.integers(1, 3), d_h=st.integers(1, 4),
       given_h0=st.booleans(), seed=st.integers(0, 1000))
def test_rnn_backward_equals_the_tensor_engine_for_random_shapes(n, S, d_in, d_h, given_h0, seed):
    rnn, x, h0, rng = rnn_and_input(n, S, d_in, d_h, seed)
    dout = rng.normal(size=(n, S, d_h))
    out = rnn.forward(x, h0 if given_h0 else None)
    dx = rnn.backward(dout)
    xt, W_x, W_h, b = Tensor(x), Tensor(rnn.W_x.copy()), Tensor(rnn.W_h.copy()), Tensor(rnn.b.copy())
    h0t = Tensor(h0 if given_h0 else np.zeros((n, d_h)))
    states = tensor_rnn(xt, W_x, W_h, b, h0t)
    assert relative_error(out, states.data) < 1e-12
    states.backward(dout)
    for mine, auto in [(dx, xt.grad), (rnn.grad_W_x, W_x.grad), (rnn.grad_W_h, W_h.grad), (rnn.grad_b, b.grad),
                       (rnn.grad_h0, h0t.grad)]:
        assert relative_error(mine, auto) < 1e-12


@FAST
@given(n=st.integers(1, 2), S=st.integers(1, 4), d_in=st.integers(1, 2), d_h=st.integers(1, 3),
       seed=st.integers(0, 1000))
def test_rnn_backward_matches_central_differences_for_random_shapes(n, S, d_in, d_h, seed):
    rnn, x, _, rng = rnn_and_input(n, S, d_in, d_h, seed)
    errors = companion.layer_gradient_errors(rnn, x, rng=rng)
    assert max(errors.values()) < 1e-7, errors


def test_tensor_rnn_gradients_match_central_differences_and_constants_get_none():
    rnn, x, h0, rng = rnn_and_input(2, 3, 2, 3)
    errors = tensor_gradient_errors(lambda x, W_x, W_h, b, h0: tensor_rnn(x, W_x, W_h, b, h0),
                                    x, rng=rng, W_x=rnn.W_x, W_h=rnn.W_h, b=rnn.b, h0=h0)
    assert max(errors.values()) < 1e-7, errors
    W_x, W_h, b = Tensor(rnn.W_x), Tensor(rnn.W_h), Tensor(rnn.b)
    states = tensor_rnn(x, W_x, W_h, b)             # x an array and h0 omitted: constants
    np.testing.assert_allclose(states.data, rnn.forward(x), rtol=1e-14)
    states.sum().backward()
    assert W_h.grad.shape == (3, 3)
    with pytest.raises(ValueError, match=r"^tensor_rnn: input x has shape \(2, 3\), expected \(n, S, input_dim\)$"):
        tensor_rnn(np.ones((2, 3)), W_x, W_h, b)


def test_rnn_parameters_protocol_init_and_input_grad():
    rnn = RNN(3, 4, rng=7)
    assert repr(rnn) == "RNN(3, 4)"
    assert [name for name, _, _ in rnn.named_parameters()] == ["W_x", "W_h", "b"]
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(rnn.W_x, companion.xavier_normal(3, 4, rng))   # Xavier, W_x drawn first
    np.testing.assert_array_equal(rnn.W_h, companion.xavier_normal(4, 4, rng))
    np.testing.assert_array_equal(rnn.b, np.zeros(4))
    grads = [grad for _, grad in rnn.parameters()]
    x = np.random.default_rng(0).normal(size=(2, 3, 3))
    out = rnn.forward(x)
    dx = rnn.backward(np.ones(out.shape))
    first = [g.copy() for g in grads]
    assert rnn.backward(np.ones(out.shape), input_grad=False) is None
    for grad, (_, now), before in zip(grads, rnn.parameters(), first):
        assert now is grad                                   # the same arrays, overwritten
        np.testing.assert_array_equal(now, before)           # not added to
    assert dx.shape == x.shape and dx.flags.c_contiguous
    rnn.zero_grad()
    assert not any(g.any() for g in grads)


def test_rnn_passes_check_layer():
    assert check_layer(RNN(3, 4, rng=0), [(1, 1, 3), (2, 5, 3), (3, 2, 3)], verbose=False)


def test_rnn_errors():
    rnn = RNN(3, 2)
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): input x has shape \(4, 3\), expected \(n, S, 3\) "
                                         r"\(one sequence\? use x\[None\]\)$"):
        rnn.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): input x has shape \(2, 4, 2\), expected \(n, S, 3\)$"):
        rnn.forward(np.ones((2, 4, 2)))
    x = np.ones((2, 4, 3))
    x[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): input x contains NaN or infinity \(first at index "
                                         r"\(1, 2, 0\)"):
        rnn.forward(x)
    with pytest.raises(TypeError, match=r"^RNN\(3, 2\): input x must be real numbers"):
        rnn.forward([[["a", "b", "c"]]])
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): initial state h0 has shape \(2,\), expected \(2, 2\)$"):
        rnn.forward(np.ones((2, 4, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): initial state h0 contains NaN or infinity"):
        rnn.forward(np.ones((2, 4, 3)), np.full((2, 2), np.inf))
    with pytest.raises(RuntimeError, match=r"^RNN\(3, 2\): backward\(\) called before forward\(\)"):
        RNN(3, 2).backward(np.ones((2, 4, 2)))
    rnn.forward(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): upstream gradient dout has shape \(2, 2\), "
                                         r"expected \(2, 4, 2\)$"):
        rnn.backward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^RNN\(3, 2\): upstream gradient dout contains NaN"):
        rnn.backward(np.full((2, 4, 2), np.nan))
    with pytest.raises(ValueError, match=r"^RNN: input_dim must be a positive integer, got 0$"):
        RNN(0, 2)
    with pytest.raises(ValueError, match=r"^RNN: hidden_dim must be a positive integer, got -1$"):
        RNN(2, -1)


# --- input checks: full on their own, not again inside a Sequential (CONTRIBUTING.md, "Input checks") ---


def test_inside_a_sequential_nothing_is_scanned_twice_and_the_gradients_are_the_layers_own(monkeypatch):
    ids = np.random.default_rng(0).integers(0, 6, size=(3, 5))
    dout = np.random.default_rng(1).normal(size=(3, 5, 4))
    alone = [Embedding(6, 2, rng=0), RNN(2, 4, rng=1)]
    out = alone[1].forward(alone[0].forward(ids))
    alone[0].backward(alone[1].backward(dout))
    net = Sequential(Embedding(6, 2, rng=0), RNN(2, 4, rng=1))
    scans = []
    original = companion._validate.as_float_array
    monkeypatch.setattr("companion.sequence.as_float_array",
                        lambda *args, **kw: scans.append(args[1]) or original(*args, **kw))
    np.testing.assert_array_equal(net.forward(ids), out)
    assert scans == []                               # the ids are checked as ids; the RNN trusts the embedding
    assert net.backward(dout) is None                # the Embedding has no input gradient
    assert scans == ["upstream gradient dout"]       # dout at the last layer only
    for (name, _, mine), (_, theirs) in zip(net.named_parameters(), alone[0].parameters() + alone[1].parameters()):
        np.testing.assert_array_equal(mine, theirs, err_msg=name)
    net.backward(dout, input_grad=False)
    np.testing.assert_array_equal(net[0].grad_W, alone[0].grad_W)
    with pytest.raises(ValueError, match=r"^Sequential layer 0: Embedding\(6, 2\): token id 6 at index"):
        net.forward(np.array([[6]]))


def test_the_ids_are_checked_even_when_the_caller_says_checked():
    with pytest.raises(ValueError, match=r"token id 9 at index \(0,\) is out of range"):
        Embedding(4, 2).forward(np.array([9.0]), checked=True)   # fit passes ids as checked float64


@pytest.mark.parametrize("make", [lambda: Embedding(5, 3, rng=0), lambda: RNN(3, 2, rng=0)], ids=["Embedding", "RNN"])
def test_no_sequence_layer_formats_its_name_on_the_success_path(make):
    calls = []
    layer = make()
    name = repr(layer)
    layer.__class__ = type(f"Counting{type(layer).__name__}", (type(layer),),
                           {"__repr__": lambda self: calls.append(1) or name,
                            "__module__": type(layer).__module__})   # still a companion layer
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(2, 4)) if isinstance(layer, Embedding) else rng.normal(size=(2, 4, 3))
    out = layer.forward(x)
    layer.backward(np.ones(out.shape))
    net = Sequential(layer, RNN(out.shape[2], 2, rng=1)) if isinstance(layer, Embedding) else \
        Sequential(RNN(3, 3, rng=1), layer)
    net.backward(np.ones(net.forward(x).shape))
    assert calls == []
    with pytest.raises((ValueError, TypeError)):
        layer.forward(np.full((2, 4, 3), np.nan))
    assert calls                                     # the name is formatted now, when raising


# --- Tensor: stack, concat, integer-array indexing -------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_is_np_stack_and_hands_each_input_its_slice(axis):
    rng = np.random.default_rng(axis + 5)
    parts = [Tensor(rng.normal(size=(2, 3))) for _ in range(4)]
    out = stack(parts, axis=axis)
    np.testing.assert_array_equal(out.data, np.stack([p.data for p in parts], axis=axis))
    dout = rng.normal(size=out.shape)
    out.backward(dout)
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.grad, np.take(dout, i, axis=axis))
    errors = tensor_gradient_errors(lambda x, y: stack([x, y * y, x], axis=axis), parts[0].data, parts[1].data,
                                    rng=1)
    assert max(errors.values()) < 1e-7, errors     # x used twice: its two slices add


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_is_np_concatenate_and_splits_dout_back(axis):
    rng = np.random.default_rng(3)
    shapes = [(2, 3), (2, 1), (2, 2)] if axis != 0 else [(1, 3), (3, 3), (2, 3)]
    parts = [Tensor(rng.normal(size=s)) for s in shapes]
    out = concat(parts, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate([p.data for p in parts], axis=axis))
    dout = rng.normal(size=out.shape)
    out.backward(dout)
    np.testing.assert_array_equal(np.concatenate([p.grad for p in parts], axis=axis), dout)
    errors = tensor_gradient_errors(lambda x, y: concat([x.tanh(), y, x], axis=axis) * 2,
                                    parts[0].data, parts[0].data * 3, rng=2)
    assert max(errors.values()) < 1e-7, errors


def test_stack_and_concat_mix_in_constants_and_draw_in_graphs():
    x = Tensor([1.0, 2.0], name="x")
    out = stack([x, np.array([5.0, 6.0])])
    assert out.op == "stack" and not out.parents[1].requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1])
    assert "concat" in companion.to_mermaid(concat([x, x * 2]).sum())


def test_stack_and_concat_errors():
    x, y = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 3)))
    with pytest.raises(TypeError, match=r"^stack: expected a non-empty list or tuple of tensors, got list$"):
        stack([])
    with pytest.raises(TypeError, match=r"^concat: expected a non-empty list or tuple of tensors, got Tensor$"):
        concat(x)
    with pytest.raises(TypeError, match=r"^stack: axis must be an int, got 1.0$"):
        stack([x, x], axis=1.0)
    with pytest.raises(ValueError, match=re.escape("stack: the tensors have shapes [(2, 3), (3, 3)]; expected "
                                                   "one shape for all of them")):
        stack([x, y])
    with pytest.raises(ValueError, match=r"^stack: axis 3 is out of range for the 3-D result; expected "
                                         r"-3 <= axis < 3$"):
        stack([x, x], axis=3)
    with pytest.raises(ValueError, match=re.escape("concat: the tensors have shapes [(2, 3), (3, 3)]; expected "
                                                   "the same sizes on every axis except axis 1")):
        concat([x, y], axis=1)
    with pytest.raises(ValueError, match=re.escape("concat: the tensors have shapes [(2, 3), (3,)]; expected")):
        concat([x, Tensor(np.ones(3))])
    with pytest.raises(ValueError, match=r"^concat: axis -3 is out of range for tensors of shape \(2, 3\); "
                                         r"expected -2 <= axis < 2"):
        concat([x, x], axis=-3)
    with pytest.raises(ValueError, match=r"^concat: axis 0 is out of range for tensors of shape \(\); .*use stack\)$"):
        concat([Tensor(1.0), Tensor(2.0)])


def test_tensor_indexing_with_an_id_array_is_the_embedding_lookup():
    W = Tensor(np.arange(8.0).reshape(4, 2))
    ids = np.array([[3, 3], [0, 3]])
    out = W[ids]
    np.testing.assert_array_equal(out.data, W.data[ids])
    out.backward(np.ones((2, 2, 2)))
    np.testing.assert_array_equal(W.grad, [[1, 1], [0, 0], [0, 0], [3, 3]])   # token 3 used three times
    with pytest.raises(IndexError, match=r"the tensor has shape \(4, 2\)"):
        W[np.array([4])]
