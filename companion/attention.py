"""Self-attention and a transformer block, with their backward passes written out.

Chapter "Self-attention, derived by hand".

- ``scaled_dot_product_attention(Q, K, V, causal=False)`` returns ``(Y, P)``,
  and ``scaled_dot_product_attention_backward(dY, Q, K, V, P)`` returns
  ``(dQ, dK, dV)``: the attention of Vaswani et al. (2017) as two functions,
  forward and backward side by side.
- ``SelfAttention(dim, heads=1, causal=False, rng=None)``: the layer, queries,
  keys and values projected from one sequence, several heads as reshapes.
- ``TransformerBlock(dim, heads=1, hidden=None, causal=True, rng=None)``: one
  pre-LayerNorm block, attention and a two-layer MLP, each around a residual
  connection.

Shapes: a minibatch of sequences is ``(n, S, d)``: ``n`` samples, ``S``
positions, ``d`` features per position. Attention weights are ``(..., S, S)``:
row ``tau`` (a query position) holds the weights over the key positions
``tau'``, and sums to 1.

Forward and backward of the attention itself, ``d_key`` the width of a query::

    E  = Q @ K^T / sqrt(d_key)      (..., S, S)   scores
    E[tau, tau'] = -inf for tau' > tau               (causal only)
    P  = softmax(E) along the last axis              each row sums to 1
    Y  = P @ V                      (..., S, d_v)

    dV = P^T @ dY                   (..., S, d_v)
    dP = dY @ V^T                   (..., S, S)
    dE = P * (dP - (dP * P).sum(-1))               the softmax's Jacobian, never formed
    dQ = dE @ K / sqrt(d_key)       (..., S, d_key)
    dK = dE^T @ Q / sqrt(d_key)     (..., S, d_key)

A masked weight is exactly 0, so its entry of ``dE`` is exactly 0: no
gradient flows through a position a query may not see.

Input checks as everywhere in companion (CONTRIBUTING, "Input checks"): called
on their own, the functions and layers convert to float64 and reject NaN,
infinity and non-numbers; ``checked=True`` (arrays another companion layer
computed) skips that scan; shape checks always run.
"""

import math

import numpy as np

from ._validate import as_float_array, as_rng, check_shape, positive_int, require_forward
from .functions import ReLU
from .init import xavier_normal
from .layers import HasParameters, Linear
from .losses import softmax_backward
from .normalization import LayerNorm


def causal_mask(length):
    """Boolean (S, S) mask, True above the diagonal: position ``tau`` may not look at ``tau' > tau``."""
    return np.triu(np.ones((length, length), dtype=bool), k=1)


def _check_qkv(Q, K, V, owner, checked):
    """Q, K, V as float64 arrays (unless ``checked``) whose shapes fit together, or a clear error."""
    if not checked:
        Q = as_float_array(Q, "queries Q", owner)
        K = as_float_array(K, "keys K", owner)
        V = as_float_array(V, "values V", owner)
    if Q.ndim < 2 or K.ndim != Q.ndim or V.ndim != Q.ndim:
        raise ValueError(f"{owner}: Q, K, V have shapes {Q.shape}, {K.shape}, {V.shape}; expected arrays "
                         f"(..., S, d_key), (..., S, d_key), (..., S, d_v) with the same number of axes (at least 2)")
    if Q.shape[:-2] != K.shape[:-2] or Q.shape[:-2] != V.shape[:-2]:
        raise ValueError(f"{owner}: Q, K, V have shapes {Q.shape}, {K.shape}, {V.shape}; expected the same "
                         f"leading axes (samples, heads) in all three")
    if Q.shape[-1] != K.shape[-1] or Q.shape[-1] == 0:
        raise ValueError(f"{owner}: queries Q have shape {Q.shape} and keys K {K.shape}; expected the same "
                         f"width d_key >= 1 (the last axis): a score is a dot product of a query and a key")
    if K.shape[-2] != V.shape[-2] or K.shape[-2] == 0:
        raise ValueError(f"{owner}: keys K have shape {K.shape} and values V {V.shape}; expected the same "
                         f"number of positions S >= 1 (one value per key)")
    return Q, K, V


def scaled_dot_product_attention(Q, K, V, *, causal=False, checked=False):
    """Attention ``softmax(Q K^T / sqrt(d_key)) V``; returns ``(Y, P)``.

    Shapes::

        Q   (..., S_q, d_key)   queries, one per row
        K   (..., S, d_key)     keys
        V   (..., S, d_v)       values, one per key
        P   (..., S_q, S)       attention weights: row tau is a softmax over the keys
        Y   (..., S_q, d_v)     each row the P-weighted mean of the values

    ``...`` are any leading axes (samples, heads), the same for Q, K and V.
    ``causal=True`` (self-attention, ``S_q = S``) lets position ``tau`` attend
    only to positions ``tau' <= tau``: the scores above the diagonal are set
    to -inf, so their weights are exactly 0.
    """
    owner = "scaled_dot_product_attention"
    Q, K, V = _check_qkv(Q, K, V, owner, checked)
    if causal and Q.shape[-2] != K.shape[-2]:
        raise ValueError(f"{owner}: causal=True needs as many queries as keys (self-attention), got "
                         f"Q {Q.shape} and K {K.shape}")
    E = np.matmul(Q, np.swapaxes(K, -1, -2))              # (..., S_q, S) dot products
    E *= 1.0 / math.sqrt(Q.shape[-1])                     # scores, variance ~1 (see the chapter)
    if causal:
        np.copyto(E, -np.inf, where=causal_mask(E.shape[-1]))
    E -= E.max(axis=-1, keepdims=True)                    # the softmax, in place: shift by the row max,
    P = np.exp(E, out=E)                                  # exp(-inf) = 0 exactly,
    P /= P.sum(axis=-1, keepdims=True)                    # normalise each row
    return P @ V, P


def scaled_dot_product_attention_backward(dY, Q, K, V, P, *, checked=False):
    """Gradients ``(dQ, dK, dV)`` of ``Y = softmax(Q K^T / sqrt(d_key)) V`` from ``dY = dL/dY``.

    ``P`` is the second result of ``scaled_dot_product_attention`` (the mask, if
    any, is in its zeros); shapes as there, ``dY`` of ``Y``'s shape::

        dV = P^T @ dY                          (..., S, d_v)
        dP = dY @ V^T                          (..., S_q, S)
        dE = P * (dP - (dP * P).sum(-1))       (..., S_q, S)   softmax_backward
        dQ = dE @ K / sqrt(d_key)              (..., S_q, d_key)
        dK = dE^T @ Q / sqrt(d_key)            (..., S, d_key)
    """
    owner = "scaled_dot_product_attention_backward"
    Q, K, V = _check_qkv(Q, K, V, owner, checked)
    if not checked:
        dY = as_float_array(dY, "upstream gradient dY", owner)
        P = as_float_array(P, "attention weights P", owner)
    check_shape(P, Q.shape[:-1] + (K.shape[-2],), "attention weights P", owner)
    check_shape(dY, Q.shape[:-1] + (V.shape[-1],), "upstream gradient dY (the shape of Y)", owner)
    dV = np.matmul(np.swapaxes(P, -1, -2), dY)            # Y = P V: V's gradient is P^T dY
    dP = np.matmul(dY, np.swapaxes(V, -1, -2))            #          P's gradient is dY V^T
    dE = softmax_backward(P, dP, checked=True, overwrite_dout=True)   # through every row's softmax
    dE *= 1.0 / math.sqrt(Q.shape[-1])                    # through the scale
    dQ = np.matmul(dE, K)                                 # E = Q K^T: Q's gradient is dE K,
    dK = np.matmul(np.swapaxes(dE, -1, -2), Q)            #            K's gradient is dE^T Q
    return dQ, dK, dV


class SelfAttention(HasParameters):
    """Multi-head self-attention over a sequence: ``(n, S, d)`` in, ``(n, S, d)`` out.

    ``SelfAttention(dim, heads=1, *, causal=False, rng=None)``. Parameters
    (no biases), each ``(d, d)`` with a gradient of the same name and ``grad_``::

        W_q, W_k, W_v    project x to queries, keys and values
        W_o              projects the heads' joined outputs back

    Forward, with ``d_key = d / heads``::

        Q = x @ W_q, K = x @ W_k, V = x @ W_v          (n, S, d)
        split each into heads                          (n, heads, S, d_key)
        O, P = scaled_dot_product_attention(Q, K, V)   (n, heads, S, d_key), (n, heads, S, S)
        join the heads of O                            (n, S, d)
        out = O @ W_o                                  (n, S, d)

    Splitting and joining are reshapes and a transpose of axes: head ``g``
    holds features ``g * d_key`` to ``(g + 1) * d_key - 1``. Backward runs
    the same steps in reverse; ``x`` feeds three products, so ``dx`` is the
    sum of three terms. ``.P`` keeps the last attention weights,
    ``(n, heads, S, S)``. Weights are drawn with ``xavier_normal`` (variance
    ``1/d``) from ``rng``, a Generator or an int seed.
    """

    def __init__(self, dim, heads=1, *, causal=False, rng=None):
        dim = positive_int(dim, "dim", "SelfAttention")
        heads = positive_int(heads, "heads", "SelfAttention")
        if dim % heads:
            raise ValueError(f"SelfAttention: dim {dim} is not divisible by heads {heads}; expected dim = "
                             f"heads * d_key, each head of the same width d_key")
        if not isinstance(causal, (bool, np.bool_)):
            raise TypeError(f"SelfAttention: causal must be True or False, got {causal!r}")
        rng = as_rng(rng)
        self.heads, self.causal = heads, bool(causal)
        self.W_q, self.W_k, self.W_v, self.W_o = (xavier_normal(dim, dim, rng) for _ in range(4))
        self.grad_W_q, self.grad_W_k, self.grad_W_v, self.grad_W_o = (np.zeros((dim, dim)) for _ in range(4))
        self.x = self.P = None

    def __repr__(self):
        return f"SelfAttention({self.W_q.shape[0]}, heads={self.heads}, causal={self.causal})"

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self):
        return [("W_q", self.W_q, self.grad_W_q), ("W_k", self.W_k, self.grad_W_k),
                ("W_v", self.W_v, self.grad_W_v), ("W_o", self.W_o, self.grad_W_o)]

    def _split(self, a, n, S):
        """(n*S, d) -> (n, heads, S, d_key): one sequence per sample and head."""
        return a.reshape(n, S, self.heads, -1).transpose(0, 2, 1, 3)

    def _join(self, a):
        """(n, heads, S, d_key) -> (n*S, d): the heads side by side again (a copy)."""
        return a.transpose(0, 2, 1, 3).reshape(-1, self.W_q.shape[0])

    def forward(self, x, *, checked=False):
        if not checked:  # the name is formatted only on an error (self.__repr__, not repr(self))
            x = as_float_array(x, "input x", self.__repr__)
        d = self.W_q.shape[0]
        if x.ndim != 3 or x.shape[2] != d or x.shape[1] == 0:
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (n, S, {d}): n sequences of "
                             f"S >= 1 positions with {d} features each")
        n, S, _ = x.shape
        rows = x.reshape(n * S, d)                               # every position is a row
        Q = self._split(rows @ self.W_q, n, S)                   # (n, heads, S, d_key)
        K = self._split(rows @ self.W_k, n, S)
        V = self._split(rows @ self.W_v, n, S)
        O, self.P = scaled_dot_product_attention(Q, K, V, causal=self.causal, checked=True)
        joined = self._join(O)                                   # (n*S, d)
        self.x, self._cache = x, (rows, Q, K, V, joined)
        return (joined @ self.W_o).reshape(n, S, d)

    def backward(self, dout, *, checked=False):
        require_forward(self.x, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self.x.shape, "upstream gradient dout", self.__repr__)
        n, S, d = self.x.shape
        rows, Q, K, V, joined = self._cache
        dout_rows = dout.reshape(n * S, d)
        np.matmul(joined.T, dout_rows, out=self.grad_W_o)        # out = O W_o
        dO = self._split(dout_rows @ self.W_o.T, n, S)           # (n, heads, S, d_key)
        dQ, dK, dV = scaled_dot_product_attention_backward(dO, Q, K, V, self.P, checked=True)
        dQ, dK, dV = self._join(dQ), self._join(dK), self._join(dV)   # (n*S, d) each
        np.matmul(rows.T, dQ, out=self.grad_W_q)                 # Q = x W_q, and so on
        np.matmul(rows.T, dK, out=self.grad_W_k)
        np.matmul(rows.T, dV, out=self.grad_W_v)
        dx = dQ @ self.W_q.T + dK @ self.W_k.T + dV @ self.W_v.T   # x fed three products: the shares add
        return dx.reshape(n, S, d)


class TransformerBlock(HasParameters):
    """One pre-LayerNorm transformer block: ``(n, S, d)`` in, ``(n, S, d)`` out.

    ``TransformerBlock(dim, heads=1, *, hidden=None, causal=True, rng=None)``::

        R   = x + attn(ln1(x))                       attention, around a residual connection
        out = R + fc2(relu(fc1(ln2(R))))             an MLP on every position, around another one

    ``ln1``, ``ln2``: ``LayerNorm(dim)``; ``attn``: ``SelfAttention(dim, heads,
    causal=causal)``; ``fc1``: ``Linear(dim, hidden)``, ``fc2``: ``Linear(hidden,
    dim)``, ``hidden`` 4 * dim unless given. Backward: a residual connection is
    a fan-out, ``x`` feeds both the sum and the branch, so its gradient is
    ``dout`` plus the branch's gradient. ``named_parameters()`` prefixes each
    sublayer's names: ``"ln1.gamma"``, ``"attn.W_q"``, ``"fc1.W"``, ...
    """

    def __init__(self, dim, heads=1, *, hidden=None, causal=True, rng=None):
        dim = positive_int(dim, "dim", "TransformerBlock")
        hidden = 4 * dim if hidden is None else positive_int(hidden, "hidden", "TransformerBlock")
        rng = as_rng(rng)
        self.ln1 = LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, causal=causal, rng=rng)
        self.ln2 = LayerNorm(dim)
        self.fc1 = Linear(dim, hidden, rng=rng)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, dim, rng=rng)
        self.x = None

    def __repr__(self):
        d, hidden = self.fc1.W.shape
        return f"TransformerBlock({d}, heads={self.attn.heads}, hidden={hidden}, causal={self.attn.causal})"

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self):
        return [(f"{prefix}.{name}", param, grad)
                for prefix in ("ln1", "attn", "ln2", "fc1", "fc2")
                for name, param, grad in getattr(self, prefix).named_parameters()]

    def forward(self, x, *, checked=False):
        if not checked:
            x = as_float_array(x, "input x", self.__repr__)
        d = self.fc1.W.shape[0]
        if x.ndim != 3 or x.shape[2] != d or x.shape[1] == 0:
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (n, S, {d}): n sequences of "
                             f"S >= 1 positions with {d} features each")
        R = x + self.attn.forward(self.ln1.forward(x, checked=True), checked=True)
        mlp = self.fc2.forward(self.relu.forward(self.fc1.forward(self.ln2.forward(R, checked=True),
                                                                  checked=True), checked=True), checked=True)
        self.x = x
        return R + mlp

    def backward(self, dout, *, checked=False):
        require_forward(self.x, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self.x.shape, "upstream gradient dout", self.__repr__)
        d_branch = self.fc1.backward(self.relu.backward(self.fc2.backward(dout, checked=True), checked=True),
                                     checked=True)
        dR = dout + self.ln2.backward(d_branch, checked=True)           # R feeds the sum and the MLP
        d_branch = self.attn.backward(dR, checked=True)
        return dR + self.ln1.backward(d_branch, checked=True)           # x feeds the sum and attention
