"""Sequences: an embedding table and a recurrent (tanh) layer unrolled over time.

Chapter "Embeddings and backpropagation through time".

A sequence minibatch is row-major like every other minibatch, with the
position in the sequence as a second axis: ``(n, S, d)`` holds ``n``
sequences of ``S`` positions with ``d`` features each. Token ids are
integers of shape ``(n, S)``.

- ``Embedding(vocab_size, dim)``: ``forward(ids)`` looks up row ``ids[i, tau]``
  of the table ``W`` for every position. It is the product of the one-hot
  rows of the ids with ``W``, so its backward is that product's ``grad_W =
  onehot.T @ dout``: the ``dout`` rows of every position that used a token
  are summed into that token's row (a scatter-add, ``np.add.at``). A token
  that appears twice receives both gradients: fan-out again.
- ``RNN(input_dim, hidden_dim)``: the tanh cell
  ``H_tau = tanh(X_tau @ W_x + H_{tau-1} @ W_h + b)`` applied at every position
  with the *same* weights; its backward is backpropagation through time
  (BPTT, Werbos 1990): one backward step per position, from the last to the
  first, each weight gradient the sum of the contributions of every step.
- ``tensor_rnn(x, W_x, W_h, b, h0)``: the same RNN written with
  ``companion.autodiff.Tensor`` operations, the independent check of
  ``RNN.backward``.

Parameters follow companion's protocol (see ``companion.layers.Linear``):
``named_parameters()``, ``parameters()``, ``zero_grad()``; ``backward``
overwrites the gradient arrays in place. Input checks follow "Input checks"
in CONTRIBUTING.md: ``checked=True`` skips the float64 conversion and the
NaN/infinity scan of an array another companion layer computed; shape checks
always run. Token ids are data, never another layer's output, so
``Embedding`` always checks them (integers in ``0..vocab_size-1``).
"""

import numpy as np

from ._validate import as_float_array, as_rng, check_shape, owner_name, positive_int, require_forward
from .autodiff import Tensor, stack
from .init import xavier_normal
from .layers import HasParameters


def _token_ids(ids, vocab_size, owner):
    """``ids`` as an integer array of shape (n,) or (n, S) with values in 0..vocab_size-1, or a clear error.

    Integer arrays are used as they are; floats are accepted when they are
    whole numbers (``fit`` hands its data over as float64). Messages are
    formatted only when raising (``owner`` may be a layer's ``__repr__``).
    """
    raw = np.asarray(ids)
    kind = raw.dtype.kind
    if kind not in "iuf":
        raise TypeError(f"{owner_name(owner)}: token ids must be integers, got {type(ids).__name__} with dtype {raw.dtype}")
    if raw.ndim not in (1, 2):
        raise ValueError(f"{owner_name(owner)}: token ids have shape {raw.shape}, expected (n,) or (n, S)")
    if kind == "f":
        whole = np.isfinite(raw) & (raw == np.round(raw))
        if not whole.all():
            where = tuple(int(i) for i in np.argwhere(~whole)[0])
            raise TypeError(
                f"{owner_name(owner)}: token ids must be integers, got {float(raw[where])!r} at index {where}"
            )
        raw = raw.astype(np.intp)
    if raw.size:
        low, high = raw.min(), raw.max()
        if low < 0 or high >= vocab_size:
            where = tuple(int(i) for i in np.argwhere((raw < 0) | (raw >= vocab_size))[0])
            raise ValueError(
                f"{owner_name(owner)}: token id {raw[where]} at index {where} is out of range; expected ids in "
                f"0..{vocab_size - 1} for a vocabulary of {vocab_size}"
            )
    return raw


class Embedding(HasParameters):
    """A lookup table of learned vectors, one row per token: ``out[..., :] = W[ids[...]]``.

    ``Embedding(vocab_size, dim, *, rng=None)``. Shapes::

        ids      (n, S) or (n,)    integer token ids in 0..vocab_size-1
        W        (vocab_size, dim) one row per token; starts Normal(0, 1) (as PyTorch)
        out      (n, S, dim) or (n, dim)

    The lookup is a matrix product with one-hot rows: with ``onehot`` of
    shape ``(n, S, vocab_size)`` (a single 1 per row, in column ``ids[i, tau]``),
    ``out = onehot @ W``. Backward, given ``dout`` of ``out``'s shape, is the
    product's ``grad_W = onehot.T @ dout`` (summed over every position)::

        grad_W[v] = sum of dout[i, tau] over the positions (i, tau) with ids[i, tau] == v

    computed without the one-hot matrix by ``np.add.at`` (a scatter-add:
    repeated ids add, rows of unused tokens are 0). The ids are integers,
    not something to differentiate, so ``backward`` returns None.
    """

    def __init__(self, vocab_size, dim, *, rng=None):
        vocab_size = positive_int(vocab_size, "vocab_size", "Embedding")
        dim = positive_int(dim, "dim", "Embedding")
        self.W = as_rng(rng).standard_normal((vocab_size, dim))
        self.grad_W = np.zeros_like(self.W)
        self.ids = None

    def __repr__(self):
        return f"Embedding({self.W.shape[0]}, {self.W.shape[1]})"

    def __call__(self, ids):
        return self.forward(ids)

    def named_parameters(self):
        return [("W", self.W, self.grad_W)]

    def forward(self, ids, *, checked=False):
        """Rows of ``W`` for the token ids: (n, S) -> (n, S, dim), (n,) -> (n, dim).

        The ids are always checked (integers in range), whatever ``checked``
        says: they are data, not the float output of another layer.
        """
        ids = _token_ids(ids, self.W.shape[0], self.__repr__)
        self.ids = ids
        return self.W[ids]

    def backward(self, dout, *, checked=False):
        """Scatter-add ``dout`` into ``grad_W`` (overwritten in place); return None (ids have no gradient)."""
        require_forward(self.ids, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, (*self.ids.shape, self.W.shape[1]), "upstream gradient dout", self.__repr__)
        self.grad_W[...] = 0.0
        np.add.at(self.grad_W, self.ids, dout)   # grad_W = onehot.T @ dout: repeated ids add up
        return None


class RNN(HasParameters):
    """A tanh recurrent layer over whole sequences (an Elman network), with backpropagation through time.

    ``RNN(input_dim, hidden_dim, *, rng=None)``. At every position
    ``tau = 1..S`` of the sequence, with the *same* parameters::

        U_tau = X_tau @ W_x + H_{tau-1} @ W_h + b      (n, hidden_dim)  pre-activation
        H_tau = tanh(U_tau)                           (n, hidden_dim)  hidden state

    Shapes::

        x        (n, S, input_dim)       X_tau = x[:, tau - 1]
        h0       (n, hidden_dim)         H_0, zeros when not given
        W_x      (input_dim, hidden_dim) Xavier-normal from ``rng``
        W_h      (hidden_dim, hidden_dim) Xavier-normal from ``rng`` (drawn after W_x)
        b        (hidden_dim,)           zeros
        out      (n, S, hidden_dim)      H_1, ..., H_S

    Backward (BPTT), given ``dout`` (n, S, hidden_dim), the gradient of the
    loss with respect to every hidden state it read. From the last position
    to the first, with ``dH_{S+1} @ ...`` taken as zero::

        dH_tau    = dout[:, tau - 1] + delta_{tau+1} @ W_h.T   H_tau feeds the output and the next step
        delta_tau = dH_tau * (1 - H_tau ** 2)                  through the tanh
        grad_W_x = sum over tau of X_tau.T @ delta_tau
        grad_W_h = sum over tau of H_{tau-1}.T @ delta_tau
        grad_b   = sum over tau of delta_tau.sum(axis=0)
        dx[:, tau - 1] = delta_tau @ W_x.T;   grad_h0 = delta_1 @ W_h.T

    ``backward`` returns ``dx`` (None with ``input_grad=False``) and stores
    ``grad_h0``; the parameter gradients are overwritten in place.
    """

    def __init__(self, input_dim, hidden_dim, *, rng=None):
        input_dim = positive_int(input_dim, "input_dim", "RNN")
        hidden_dim = positive_int(hidden_dim, "hidden_dim", "RNN")
        rng = as_rng(rng)
        self.W_x = xavier_normal(input_dim, hidden_dim, rng)
        self.W_h = xavier_normal(hidden_dim, hidden_dim, rng)
        self.b = np.zeros(hidden_dim)
        self.grad_W_x = np.zeros_like(self.W_x)
        self.grad_W_h = np.zeros_like(self.W_h)
        self.grad_b = np.zeros_like(self.b)
        self.grad_h0 = None
        self.x = None
        self.H = None     # (S + 1, n, hidden_dim): H_0, ..., H_S, position first (contiguous steps)

    def __repr__(self):
        return f"RNN({self.W_x.shape[0]}, {self.W_x.shape[1]})"

    def __call__(self, x, h0=None):
        return self.forward(x, h0)

    def named_parameters(self):
        return [("W_x", self.W_x, self.grad_W_x), ("W_h", self.W_h, self.grad_W_h), ("b", self.b, self.grad_b)]

    def forward(self, x, h0=None, *, checked=False):
        """Run the cell over the sequence: x (n, S, input_dim) -> H_1..H_S (n, S, hidden_dim)."""
        d_in, d_h = self.W_x.shape
        if not checked:  # self.__repr__, not repr(self): the name is formatted only if there is an error
            x = as_float_array(x, "input x", self.__repr__)
        if x.ndim != 3 or x.shape[2] != d_in:
            hint = " (one sequence? use x[None])" if x.ndim == 2 and x.shape[1] == d_in else ""
            raise ValueError(f"{self!r}: input x has shape {x.shape}, expected (n, S, {d_in}){hint}")
        n, S = x.shape[:2]
        H = np.empty((S + 1, n, d_h))
        if h0 is None:
            H[0] = 0.0
        else:
            if not checked:
                h0 = as_float_array(h0, "initial state h0", self.__repr__)
            check_shape(h0, (n, d_h), "initial state h0", self.__repr__)
            H[0] = h0
        XW = x.swapaxes(0, 1) @ self.W_x + self.b       # (S, n, d_h): the input's share, all positions at once
        for tau in range(1, S + 1):                     # H[tau] is H_tau; XW[tau - 1] belongs to X_tau
            np.tanh(XW[tau - 1] + H[tau - 1] @ self.W_h, out=H[tau])
        self.x, self.H = x, H
        return np.ascontiguousarray(H[1:].swapaxes(0, 1))   # (n, S, d_h)

    def backward(self, dout, input_grad=True, *, checked=False):
        """BPTT: store grad_W_x, grad_W_h, grad_b and grad_h0; return dx (n, S, input_dim)."""
        require_forward(self.x, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        x, H = self.x, self.H
        S, n, d_h = H.shape[0] - 1, H.shape[1], H.shape[2]
        check_shape(dout, (n, S, d_h), "upstream gradient dout", self.__repr__)
        delta = np.empty((S, n, d_h))                    # delta[tau - 1] = delta_tau = dL/dU_tau
        dH_next = np.zeros((n, d_h))                     # what H_tau receives from step tau + 1 (none for tau = S)
        W_h_T = self.W_h.T
        for tau in range(S, 0, -1):
            dH = dout[:, tau - 1] + dH_next              # fan-out: H_tau feeds the output and the next step
            np.multiply(dH, 1.0 - H[tau] ** 2, out=delta[tau - 1])   # tanh: dH/dU = 1 - H^2
            dH_next = delta[tau - 1] @ W_h_T             # to H_{tau-1}, through U_tau = ... + H_{tau-1} W_h
        self.grad_h0 = dH_next
        flat_delta = delta.reshape(S * n, d_h)
        np.matmul(H[:-1].reshape(S * n, d_h).T, flat_delta, out=self.grad_W_h)   # sum over tau of H_{tau-1}.T delta_tau
        np.matmul(x.swapaxes(0, 1).reshape(S * n, -1).T, flat_delta, out=self.grad_W_x)   # sum of X_tau.T delta_tau
        flat_delta.sum(axis=0, out=self.grad_b)
        if not input_grad:
            return None
        return np.ascontiguousarray((delta @ self.W_x.T).swapaxes(0, 1))   # (n, S, input_dim)


def tensor_rnn(x, W_x, W_h, b, h0=None):
    """The RNN with ``companion.autodiff.Tensor`` operations: H_1..H_S as a Tensor (n, S, hidden_dim).

    ``x`` (n, S, input_dim), ``W_x``, ``W_h``, ``b`` and ``h0`` (n, hidden_dim)
    are Tensors (or arrays, used as constants). The loop is the forward of
    ``RNN``, written once; ``backward()`` on anything computed from the result
    is BPTT done by the engine: the graph holds one copy of the cell per
    position, all reading the same ``W_x``, ``W_h`` and ``b``, whose gradients
    therefore add up over the positions.
    """
    x = x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)
    if x.ndim != 3:
        raise ValueError(f"tensor_rnn: input x has shape {x.shape}, expected (n, S, input_dim)")
    n, S = x.shape[:2]
    d_h = W_h.shape[0]
    h = h0 if h0 is not None else Tensor(np.zeros((n, d_h)), requires_grad=False)
    states = []
    for tau in range(1, S + 1):
        h = (x[:, tau - 1] @ W_x + h @ W_h + b).tanh()      # H_tau from X_tau and H_{tau-1}
        states.append(h)
    return stack(states, axis=1)
