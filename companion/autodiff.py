"""Reverse-mode automatic differentiation: a ``Tensor`` that records its own graph.

Chapter "Automatic differentiation".

A ``Tensor`` wraps a float64 numpy array, ``.data``. Every operation on
tensors returns a new tensor that remembers its inputs (``.parents``), the name
of the operation (``.op``) and a ``local_backward`` function: given ``dout``,
the gradient of the final result with respect to the new tensor, it returns
one gradient per parent, ``dout`` times the local derivative. Calling
``loss.backward()`` visits the graph from the loss back to the leaves in
reverse topological order and **adds** every gradient a tensor receives into
its ``.grad``, so a value that feeds several operations gets the sum::

    x = Tensor(3.0)
    y = x * x + x          # x feeds three slots
    y.backward()
    x.grad                 # array(7.) = 2x + 1

Each operation's ``local_backward`` is written right next to its forward
computation, and each is one row of the summary table of chapter "Local
derivative rules" (``out`` is the operation's result)::

    table row     forward             local_backward(dout) returns
    AddLayer      x + y               dout, dout
    SubLayer      x - y               dout, -dout
    MulLayer      x * y               dout * y, dout * x
    DivLayer      x / y               dout / y, -dout * x / y**2
    Exp           x.exp()             dout * out
    Log           x.log()             dout / x
    Power(p)      x ** p              dout * p * x**(p-1)
    Reciprocal    1 / x               (DivLayer with x = 1: -dout / y**2)
    Tanh          x.tanh()            dout * (1 - out**2)
    ReLU          x.relu()            dout * (x > 0)
    Sigmoid       x.sigmoid()         dout * out * (1 - out)
    Linear        x @ W               dout @ W.T, x.T @ dout
    (new)         -x                  -dout
    (new)         x.sum(axis)         dout copied back along the summed axes
    (new)         x.mean(axis)        the same, divided by the number averaged
    (new)         x.max(axis)         dout to the arg-max, 0 elsewhere (ties: the first)
    (new)         x.reshape(shape)    dout.reshape(x.shape)
    (new)         x.T, x.transpose()  dout transposed back
    (new)         x[index]            dout scattered into zeros of x's shape
    max gate      x.maximum(y)        dout where x >= y, dout where x < y (ties: to x)
    (new)         x.var(axis)         dout * 2 * (x - x.mean(axis)) / count
    (new)         x.sqrt()            dout / (2 * out)
    Part VI       x.im2col(k, s, p)   col2im(dout): each patch entry back to its pixel, overlaps add
    Part VI       x.conv2d(W, b)      (composite: im2col, @, +, reshape, transpose)
    Part VI       x.max_pool2d(k, s)  (composite: im2col, reshape, max over each window)
    Part VII      stack(ts, axis)     input i gets slice i of dout along the new axis
    Part VII      concat(ts, axis)    dout split where the inputs were joined
    Part VII      x.softmax(axis)     out * (dout - (dout * out).sum(axis)): the Jacobian, never formed
    Part VII      x.masked_fill(m, v) dout where m is False, 0 where m is True

Broadcasting: the elementwise operations follow numpy's rules, so a bias of
shape ``(k,)`` adds to every row of an ``(n, k)`` tensor. ``local_backward``
returns gradients of the *output's* shape; ``backward()`` sums each one back
to its parent's shape (every broadcast copy of an entry contributed, so the
entry's gradient is their sum), exactly as the two-input layers do.

Numbers and numpy arrays mix in (``2 * x``, ``x + np.ones(3)``): they become
constant tensors with ``requires_grad=False``, which get no gradient.

Gradients, precisely:

- ``t.grad`` is None until a ``backward()`` reaches ``t``, then a float64
  array of ``t.data``'s shape: dL/dt for the ``L`` that ``backward`` started from.
- ``backward()`` with no argument works on a tensor holding one number (a
  loss) and starts from dL/dL = 1. A tensor of any other shape needs the seed
  gradient ``backward(grad)`` of its shape (or reduce it first: ``t.sum()``).
- Leaves (tensors you create) **accumulate**: calling ``backward()`` twice adds
  the gradients twice, as PyTorch does. Clear them with ``t.zero_grad()``
  before each training step; it zeroes ``grad`` in place, so a leaf keeps one
  gradient array for its whole life (like the layers' ``grad_W``), and a list
  of ``(t.data, t.grad)`` pairs taken after the first ``backward()`` stays
  valid. Intermediate tensors' gradients are recomputed from scratch on every
  ``backward()`` call.
- The walk through the graph is iterative, so a chain of 10,000 operations
  needs no recursion and cannot hit Python's recursion limit.
- A tensor shares memory with a float64 array passed to it: an in-place update
  of ``W.data`` (an optimizer step) changes the parameter.
"""

import math

import numpy as np

from . import conv as _conv
from ._validate import as_float_array, check_shape, non_negative_int, positive_int, sum_to_shape


class Tensor:
    """A float64 array that remembers how it was computed, for ``backward()``.

    ``Tensor(data, requires_grad=True, name=None)``: ``data`` is a number or a
    (nested list or) numpy array of any shape; ``name`` labels the tensor in
    graph drawings (``companion.viz.draw_graph``). Attributes::

        data            float64 ndarray
        grad            None, or dL/d(this tensor): float64 array of data's shape
        requires_grad   False for constants (no gradient is computed for them)
        parents         the tensors this one was computed from (() for a leaf)
        op              the operation that made it ("" for a leaf)
        local_backward  dout -> one gradient per parent (None for a leaf)
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "parents", "op", "local_backward")
    __array_ufunc__ = None  # numpy defers to Tensor: np.ones(3) + t calls t.__radd__

    def __init__(self, data, requires_grad=True, name=None):
        if isinstance(data, Tensor):
            raise TypeError(
                "Tensor: data is already a Tensor; use it directly, or Tensor(t.data) "
                "for a new leaf that does not record t's graph"
            )
        self.data = as_float_array(data, "data", "Tensor")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.parents = ()
        self.op = ""
        self.local_backward = None

    @staticmethod
    def from_op(data, parents, op, local_backward):
        """The result of an operation: ``data`` computed from ``parents`` by ``op``.

        ``local_backward(dout)`` must return one gradient per parent, each of the
        result's shape (or of its parent's shape): ``dout`` itself or a new
        array that the function does not keep (a leaf may keep it as its
        ``.grad``); None is allowed for a parent with ``requires_grad=False``.
        This is how new operations are added (see the chapter's exercises)::

            def sin(x):
                return Tensor.from_op(np.sin(x.data), (x,), "sin",
                                      lambda dout: (dout * np.cos(x.data),))
        """
        parents = tuple(parents)
        for i, parent in enumerate(parents):
            if not isinstance(parent, Tensor):
                raise TypeError(f"Tensor.from_op: parent {i} is a {type(parent).__name__}, expected a Tensor")
        if not callable(local_backward):
            raise TypeError(
                f"Tensor.from_op: local_backward must be a function dout -> gradients, "
                f"got {type(local_backward).__name__}"
            )
        data = as_float_array(data, "data", lambda: f"Tensor.from_op({op!r})")  # name formatted only on error
        return _result(data, parents, str(op), local_backward)

    # ------------------------------------------------------------------ basics

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def item(self):
        """The value of a one-number tensor, as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"Tensor.item: the tensor has shape {self.shape}; expected a single number")
        return float(self.data.reshape(()))

    def __repr__(self):
        data = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        extras = [f"name={self.name!r}"] if self.name else []
        extras += [f"op={self.op!r}"] if self.op else []
        extras += [] if self.requires_grad else ["requires_grad=False"]
        return f"Tensor({', '.join([data, *extras])})"

    def zero_grad(self):
        """Set the accumulated gradient to zero, in place (the array stays the same object)."""
        if self.grad is not None:
            self.grad[...] = 0.0

    # ------------------------------------------------- elementwise, two inputs

    def __add__(self, other):
        other = _lift(other)
        x, y = self.data, other.data

        def local_backward(dout):     # z = x + y: dz/dx = 1, dz/dy = 1
            return dout, dout

        return _result(_broadcast(np.add, x, y, "+"), (self, other), "+", local_backward)

    def __sub__(self, other):
        other = _lift(other)
        x, y = self.data, other.data

        def local_backward(dout):     # z = x - y: dz/dx = 1, dz/dy = -1 (skipped for a constant y)
            return dout, (-dout if other.requires_grad else None)

        return _result(_broadcast(np.subtract, x, y, "-"), (self, other), "−", local_backward)

    def __mul__(self, other):
        other = _lift(other)
        x, y = self.data, other.data

        def local_backward(dout):     # z = x * y: dz/dx = y, dz/dy = x (swap the inputs)
            return dout * y, dout * x

        return _result(_broadcast(np.multiply, x, y, "*"), (self, other), "×", local_backward)

    def __truediv__(self, other):
        other = _lift(other)
        x, y = self.data, other.data
        if np.count_nonzero(y) < y.size:  # some entry of y is 0
            raise ValueError(f"Tensor /: the divisor has a zero entry (shape {y.shape}); expected nonzero divisors")

        def local_backward(dout):     # z = x / y: dz/dx = 1/y, dz/dy = -x/y^2 (skipped for a constant y)
            return dout / y, (-dout * x / y ** 2 if other.requires_grad else None)

        return _result(_broadcast(np.divide, x, y, "/"), (self, other), "÷", local_backward)

    def __radd__(self, other):
        return _lift(other) + self

    def __rsub__(self, other):
        return _lift(other) - self

    def __rmul__(self, other):
        return _lift(other) * self

    def __rtruediv__(self, other):
        return _lift(other) / self

    # -------------------------------------------------- elementwise, one input

    def __neg__(self):
        def local_backward(dout):     # y = -x: dy/dx = -1
            return (-dout,)

        return _result(-self.data, (self,), "neg", local_backward)

    def __pow__(self, p):
        if isinstance(p, Tensor) or isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"Tensor **: the exponent must be a number, got {type(p).__name__}; "
                f"for a tensor exponent b write (b * a.log()).exp()"
            )
        p = float(p)
        x = self.data
        if not p.is_integer() and (x < 0).any():
            raise ValueError(f"Tensor **: x ** {p:g} needs x >= 0 for a non-integer exponent, got min x = {x.min():g}")
        if p < 0 and (x == 0).any():
            raise ValueError(f"Tensor **: x ** {p:g} is undefined at x = 0")

        def local_backward(dout):     # y = x^p: dy/dx = p x^(p-1)
            return (dout * p * x ** (p - 1),)

        return _result(x ** p, (self,), f"**{p:g}", local_backward)

    def exp(self):
        out = np.exp(self.data)

        def local_backward(dout):     # y = e^x: dy/dx = e^x = y
            return (dout * out,)

        return _result(out, (self,), "exp", local_backward)

    def log(self):
        x = self.data
        if (x <= 0).any():
            raise ValueError(f"Tensor.log: input must be > 0, got min x = {x.min():g}")

        def local_backward(dout):     # y = ln x: dy/dx = 1/x
            return (dout / x,)

        return _result(np.log(x), (self,), "log", local_backward)

    def tanh(self):
        out = np.tanh(self.data)

        def local_backward(dout):     # y = tanh x: dy/dx = 1 - y^2
            return (dout * (1 - out ** 2),)

        return _result(out, (self,), "tanh", local_backward)

    def sigmoid(self):
        out = np.exp(-np.logaddexp(0.0, -self.data))  # 1/(1 + e^-x), never overflows

        def local_backward(dout):     # y = sigmoid(x): dy/dx = y (1 - y)
            return (dout * out * (1 - out),)

        return _result(out, (self,), "σ", local_backward)

    def relu(self):
        mask = self.data > 0

        def local_backward(dout):     # y = max(0, x): dy/dx = 1 where x > 0, else 0
            return (dout * mask,)

        return _result(np.where(mask, self.data, 0.0), (self,), "ReLU", local_backward)

    # ----------------------------------------------------------- matrix product

    def __matmul__(self, other):
        other = _lift(other)
        x, w = self.data, other.data
        try:
            out = x @ w
        except ValueError:
            raise ValueError(
                f"Tensor @: cannot multiply shapes {x.shape} and {w.shape}; expected "
                f"(..., n, k) @ (..., k, m) with the same inner size k"
            ) from None

        def local_backward(dout):     # like Linear: dx = dout @ W.T, dW = x.T @ dout
            if x.ndim == 2 and w.ndim == 2:  # (a product nobody needs, e.g. for the data, is skipped)
                return (dout @ w.T if self.requires_grad else None,
                        x.T @ dout if other.requires_grad else None)
            return _matmul_backward(x, w, dout)

        return _result(out, (self, other), "@", local_backward)

    def __rmatmul__(self, other):
        return _lift(other) @ self

    # -------------------------------------------------------------- reductions

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all entries; an int or a tuple of ints)."""
        x = self.data
        axes = _axes(axis, x.ndim, "sum")
        kept = _kept_shape(x.shape, axes)

        def local_backward(dout):     # every summed entry gets dout: copy it back
            return (np.full(x.shape, dout.reshape(kept)),)

        return _result(x.sum(axis=axes, keepdims=keepdims), (self,), "sum", local_backward)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``; its backward is sum's divided by the number of entries averaged."""
        x = self.data
        axes = _axes(axis, x.ndim, "mean")
        count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"Tensor.mean: no entries to average (shape {x.shape}, axis {axis}); the mean is undefined")

        kept = _kept_shape(x.shape, axes)

        def local_backward(dout):     # every averaged entry gets dout / count
            return (np.full(x.shape, dout.reshape(kept) / count),)

        return _result(x.sum(axis=axes, keepdims=keepdims) / count, (self,), "mean", local_backward)

    def max(self, axis=None, keepdims=False):
        """Largest entry over ``axis``; its backward routes ``dout`` to the arg-max (the max gate).

        Only the winning entry influenced the result, so it receives the whole
        ``dout`` and every other entry gets 0. Ties: the gradient goes to the
        *first* largest entry (the one ``np.argmax`` picks, in the order of the
        reduced entries), as max pooling does. At a tie the max has no
        derivative; any split of ``dout`` among the tied entries is an equally
        valid subgradient (central differences give each of two tied entries 1/2).
        """
        x = self.data
        axes = _axes(axis, x.ndim, "max")
        reduced = tuple(range(x.ndim)) if axes is None else axes
        if any(x.shape[a] == 0 for a in reduced) or x.size == 0:
            raise ValueError(f"Tensor.max: no entries to compare (shape {x.shape}, axis {axis}); the max is undefined")
        kept_axes = [a for a in range(x.ndim) if a not in reduced]
        moved = x.transpose(kept_axes + list(reduced))            # the reduced axes last
        flat = moved.reshape(moved.shape[:len(kept_axes)] + (-1,))
        winner = np.zeros_like(flat)
        np.put_along_axis(winner, flat.argmax(axis=-1)[..., None], 1.0, axis=-1)
        mask = winner.reshape(moved.shape).transpose(np.argsort(kept_axes + list(reduced)))
        kept = _kept_shape(x.shape, axes)

        def local_backward(dout):     # the winner gets dout, every other entry 0
            return (mask * dout.reshape(kept),)

        return _result(x.max(axis=axes, keepdims=keepdims), (self,), "max", local_backward)

    # ------------------------------------------------------------ moving entries

    def reshape(self, *shape):
        """Same entries, new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        x = self.data
        try:
            out = x.reshape(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"Tensor.reshape: cannot reshape shape {x.shape} into {tuple(shape)} ({err})") from None

        def local_backward(dout):
            return (dout.reshape(x.shape),)

        return _result(out, (self,), "reshape", local_backward)

    def transpose(self, *axes):
        """Permute the axes (default: reverse them); ``t.T`` for a matrix."""
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        x = self.data
        try:
            out = x.transpose(axes or None)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"Tensor.transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes "
                f"of shape {x.shape} ({err})"
            ) from None
        perm = [int(a) % x.ndim for a in axes] if axes else list(range(x.ndim))[::-1]
        inverse = tuple(np.argsort(perm))

        def local_backward(dout):
            return (dout.transpose(inverse),)

        return _result(out, (self,), "T", local_backward)

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        if isinstance(index, Tensor) or (isinstance(index, tuple) and any(isinstance(i, Tensor) for i in index)):
            raise TypeError("Tensor[...]: index with ints, slices or integer/boolean numpy arrays, not with a Tensor")
        x = self.data
        try:
            out = x[index]
        except IndexError as err:
            raise IndexError(f"Tensor[{index!r}]: {err} (the tensor has shape {x.shape})") from None

        def local_backward(dout):     # each selected entry gets its dout; repeats add up
            grad = np.zeros_like(x)
            np.add.at(grad, index, dout)
            return (grad,)

        return _result(np.array(out, dtype=np.float64), (self,), "[ ]", local_backward)

    # --------------------------------------------- Part V (Deep networks) operations

    def maximum(self, other):
        """The larger of two tensors, entry by entry (numpy broadcasting): the two-input max gate.

        Only the larger input influenced the result, so it receives ``dout``
        and the other input 0: the gate routes the gradient to the winner.
        Ties go to ``self``, the first input (as ``max`` sends them to the
        first entry); any split of ``dout`` between tied inputs is an equally
        valid subgradient. ``x.maximum(0.0)`` is ReLU.
        """
        other = _lift(other)
        x, y = self.data, other.data
        out = _broadcast(np.maximum, x, y, "maximum")
        first_wins = x >= y

        def local_backward(dout):     # z = max(x, y): dz/dx = 1 where x wins, dz/dy = 1 where y wins
            return dout * first_wins, dout * ~first_wins

        return _result(out, (self, other), "max", local_backward)

    def var(self, axis=None, keepdims=False):
        """Variance over ``axis``: the mean squared deviation from the mean (divided by the count, like ``np.var``).

        Its backward is ``dout * 2 * (x - mean) / count``. The mean also
        depends on every entry, but that path adds nothing: the deviations
        sum to zero.
        """
        x = self.data
        axes = _axes(axis, x.ndim, "var")
        count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"Tensor.var: no entries (shape {x.shape}, axis {axis}); the variance is undefined")
        centred = x - x.mean(axis=axes, keepdims=True)
        kept = _kept_shape(x.shape, axes)

        def local_backward(dout):     # d var / d x_i = 2 (x_i - mean) / count
            return (dout.reshape(kept) * (2.0 / count) * centred,)

        return _result(np.mean(centred * centred, axis=axes, keepdims=keepdims), (self,), "var", local_backward)

    def sqrt(self):
        """Square root of every entry (entries must be >= 0); its backward is ``dout / (2 * out)``.

        At an entry 0 the derivative is infinite: backward then returns inf there.
        """
        x = self.data
        if (x < 0).any():
            raise ValueError(f"Tensor.sqrt: input must be >= 0, got min x = {x.min():g}")
        out = np.sqrt(x)

        def local_backward(dout):     # y = sqrt(x): dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)
            with np.errstate(divide="ignore"):
                return (dout / (2.0 * out),)

        return _result(out, (self,), "√", local_backward)


    # ---------------------------------------------- Part VI (Convolution) operations

    def im2col(self, kernel_size, stride=1, padding=0):
        """Unfold images (n, c, h, w) into one row per patch, (n*oh*ow, c*k*k), as ``companion.conv.im2col``.

        Every entry of the result is a copy of one pixel (or of a zero of the
        padding), so backward sends each entry's ``dout`` back to its pixel,
        and a pixel that lies in several patches gets the sum: ``col2im``.
        """
        x = self.data
        owner = "Tensor.im2col"
        if x.ndim != 4:
            raise ValueError(f"{owner}: the tensor has shape {x.shape}, expected images (n, c, height, width)")
        k = positive_int(kernel_size, "kernel_size", owner)
        s = positive_int(stride, "stride", owner)
        p = non_negative_int(padding, "padding", owner)
        col = _conv._im2col(x, k, s, p, owner)

        def local_backward(dout):     # each copy returns its dout to its pixel; overlapping patches add
            return (_conv._col2im(dout, x.shape, k, s, p),)

        return _result(col, (self,), "im2col", local_backward)

    def conv2d(self, W, b=None, stride=1, padding=0):
        """Convolution of images (n, c_in, h, w) with kernels ``W`` (c_out, c_in, k, k) and biases ``b`` (c_out,).

        The same numbers as ``companion.conv.Conv2d``: im2col, a matrix
        product, the bias, and reshapes back to (n, c_out, oh, ow). It is built
        from operations the engine already differentiates, so it needs no
        backward of its own.
        """
        W = _lift(W)
        if W.ndim != 4 or W.shape[2] != W.shape[3] or self.ndim != 4 or W.shape[1] != self.shape[1]:
            raise ValueError(
                f"Tensor.conv2d: images of shape {self.shape} and kernels of shape {W.shape}; expected "
                f"(n, c_in, height, width) and (c_out, c_in, k, k) with the same c_in"
            )
        c_out, _, k, _ = W.shape
        oh, ow = _conv.output_shape(self.shape[2:], k, stride, padding, "Tensor.conv2d")
        col = self.im2col(k, stride, padding)                    # (n*oh*ow, c_in*k*k)
        out = col @ W.reshape(c_out, -1).T                       # (n*oh*ow, c_out)
        if b is not None:
            out = out + b
        return out.reshape(self.shape[0], oh, ow, c_out).transpose(0, 3, 1, 2)   # (n, c_out, oh, ow)

    def max_pool2d(self, kernel_size, stride=None):
        """Max pooling of images (n, c, h, w), as ``companion.conv.MaxPool2d`` without padding.

        Built from ``im2col`` and ``max``: each window's entries of one channel
        are a row, and ``max`` over the row routes ``dout`` to its arg-max (the
        max gate; ties to the first, as the layer does).
        """
        if self.ndim != 4:
            raise ValueError(f"Tensor.max_pool2d: the tensor has shape {self.shape}, expected images (n, c, height, width)")
        k = positive_int(kernel_size, "kernel_size", "Tensor.max_pool2d")
        s = k if stride is None else stride
        n, c = self.shape[:2]
        oh, ow = _conv.output_shape(self.shape[2:], k, s, 0, "Tensor.max_pool2d")
        rows = self.im2col(k, s).reshape(n * oh * ow, c, k * k)   # one window of one channel per row
        return rows.max(axis=2).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)


    # ------------------------------------ Part VII (Sequences and attention) operations

    def softmax(self, axis=-1):
        """Softmax along ``axis`` (default the last): every slice along it becomes probabilities.

        Each slice is shifted by its maximum first (no overflow), so entries
        of -inf (from ``masked_fill``) become probabilities of exactly 0; a
        slice whose entries are all -inf has no softmax and raises
        ``ValueError``. Backward is the softmax's Jacobian applied without
        forming it (chapter "Softmax and cross-entropy")::

            dx = out * (dout - (dout * out).sum(axis, keepdims=True))
        """
        x = self.data
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Tensor.softmax: axis must be an int, got {axis!r}")
        if x.ndim:
            (axis,) = _axes(axis, x.ndim, "softmax")
        if x.ndim == 0 or x.shape[axis] == 0:
            raise ValueError(f"Tensor.softmax: no entries along axis {axis} (shape {x.shape}); expected at least one")
        top = x.max(axis=axis, keepdims=True)
        if np.isneginf(top).any():
            raise ValueError("Tensor.softmax: a slice has every entry -inf (all masked); its softmax is undefined")
        e = np.exp(x - top)
        out = e / e.sum(axis=axis, keepdims=True)

        def local_backward(dout):     # dx_l = p_l (dout_l - sum_j dout_j p_j): the Jacobian never formed
            weighted = dout * out
            return (weighted - out * weighted.sum(axis=axis, keepdims=True),)

        return _result(out, (self,), "softmax", local_backward)

    def masked_fill(self, mask, value):
        """Entries where ``mask`` is True replaced by ``value`` (a number, -inf allowed); the rest kept.

        ``mask`` is a boolean array that broadcasts with the tensor (a causal
        mask ``(S, S)`` for scores ``(n, S, S)``). A replaced entry no longer
        depends on the input, so it passes no gradient back: ``dx = dout``
        where the mask is False and exactly 0 where it is True. Filling with
        -inf before a softmax gives those positions probability 0.
        """
        if isinstance(mask, Tensor):
            raise TypeError("Tensor.masked_fill: the mask must be a boolean numpy array, not a Tensor")
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"Tensor.masked_fill: the mask must be a boolean array, got dtype {mask.dtype}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or np.isnan(value):
            raise TypeError(f"Tensor.masked_fill: value must be a number (-inf allowed), got {value!r}")
        x = self.data
        out = _broadcast(lambda a, m: np.where(m, float(value), a), x, mask, "masked_fill")
        keep = ~mask

        def local_backward(dout):     # y = x where kept, value where masked: dy/dx = 1 or 0
            return (dout * keep,)

        return _result(out, (self,), "masked_fill", local_backward)


    # ---------------------------------------------------------------- backward

    def backward(self, grad=None):
        """Compute dL/dt for every tensor t this one (``L``) was computed from.

        ``grad`` is the seed dL/dL; it defaults to 1 for a one-number tensor
        and is required (an array of this tensor's shape) otherwise. Leaves add
        the result into ``.grad`` (call ``zero_grad()`` to start over).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "Tensor.backward: this tensor was computed only from tensors with requires_grad=False, "
                "so there is nothing to differentiate"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"Tensor.backward: the tensor has shape {self.shape}; backward() without a seed "
                    f"gradient needs a single number (a loss). Reduce it first (t.sum().backward()) "
                    f"or pass grad=dL/dt, an array of shape {self.shape}"
                )
            grad = np.ones(self.shape)
        else:
            grad = as_float_array(grad, "seed gradient grad", "Tensor.backward")
            check_shape(grad, self.shape, "seed gradient grad (the tensor's shape)", "Tensor.backward")
        order = topological_order(self, requires_grad_only=True)
        for t in order:
            if t.parents:
                t.grad = None  # intermediate gradients are recomputed on every call
        _accumulate(self, grad)
        for t in reversed(order):  # every consumer of t has sent its share before t passes it on
            if t.parents:
                grads = t.local_backward(t.grad)
                for parent, g in zip(t.parents, grads):
                    if parent.requires_grad:
                        _accumulate(parent, g, t.grad, grads)


# ---------------------------------------------------------------------- helpers

def _result(data, parents, op, local_backward):
    """A new tensor made by ``op`` (no input checks: this is the hot path)."""
    out = object.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data, dtype=np.float64)
    out.grad = None
    out.requires_grad = False
    for p in parents:
        if p.requires_grad:
            out.requires_grad = True
            break
    out.name = None
    out.parents = parents
    out.op = op
    out.local_backward = local_backward
    return out


def _lift(value):
    """Numbers and arrays become constant tensors (no gradient)."""
    if isinstance(value, Tensor):
        return value
    if type(value) in (float, int) and math.isfinite(value):  # fast path for plain numbers
        return _result(np.array(float(value)), (), "", None)
    return Tensor(value, requires_grad=False)


def _broadcast(fn, x, y, op):
    """``fn(x, y)`` for an elementwise operation, with a clear error when the shapes do not broadcast."""
    try:
        return fn(x, y)
    except ValueError:
        raise ValueError(
            f"Tensor {op}: shapes {x.shape} and {y.shape} do not broadcast together; expected "
            f"equal shapes or numpy-broadcastable ones such as (n, k) and (k,)"
        ) from None


def _accumulate(t, g, dout=None, grads=()):
    """Add gradient ``g`` into ``t.grad``, summing broadcast copies back to ``t``'s shape.

    ``g`` came from ``local_backward(dout)``, which returned ``grads``. An
    intermediate tensor may share ``g``'s array; a leaf, whose gradient is
    later added to in place, keeps ``g`` only if nothing else can refer to it
    (a new array, not ``dout``, not a view, returned once), else a copy.
    """
    if g.shape != t.data.shape:
        g = sum_to_shape(g, t.data.shape)
    if t.grad is None:
        if t.parents:
            t.grad = g if type(g) is np.ndarray else np.asarray(g, dtype=np.float64)
        elif (type(g) is np.ndarray and g.base is None and g is not dout
              and (len(grads) == 1 or (len(grads) == 2 and grads[0] is not grads[1]))):
            t.grad = g
        else:
            t.grad = np.array(g, dtype=np.float64)
    elif t.parents:
        t.grad = t.grad + g
    else:
        t.grad += g


def _matmul_backward(x, w, dout):
    """Gradients of ``x @ w`` for 1-D operands and stacks of matrices (numpy's matmul rules)."""
    x2 = x[None, :] if x.ndim == 1 else x        # a vector is a one-row matrix on the left,
    w2 = w[:, None] if w.ndim == 1 else w        # a one-column matrix on the right
    d2 = dout[..., None] if w.ndim == 1 else dout   # put back the axes numpy dropped
    d2 = d2[..., None, :] if x.ndim == 1 else d2
    dx = sum_to_shape(d2 @ np.swapaxes(w2, -1, -2), x2.shape).reshape(x.shape)
    dw = sum_to_shape(np.swapaxes(x2, -1, -2) @ d2, w2.shape).reshape(w.shape)
    return dx, dw


def _kept_shape(shape, axes):
    """The shape of a sum over ``axes`` with keepdims: 1 along the summed axes."""
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def _axes(axis, ndim, owner):
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of nonnegative axes, or None."""
    if axis is None:
        return None
    items = axis if isinstance(axis, tuple) else (axis,)
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"Tensor.{owner}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(
                f"Tensor.{owner}: axis {a} is out of range for a {ndim}-D tensor; expected -{ndim} <= axis < {ndim}"
            )
    axes = tuple(sorted(int(a) % ndim for a in items))
    if len(set(axes)) != len(axes):
        raise ValueError(f"Tensor.{owner}: axis {axis!r} repeats an axis")
    return axes


def topological_order(root, requires_grad_only=False):
    """Every tensor ``root`` depends on, each listed after all of its parents; ``root`` last.

    Iterative depth-first search (no recursion, so no depth limit). Reversed,
    it is the order ``backward`` visits the tensors in: a tensor passes its
    gradient on only after every tensor that consumed it has sent its share.
    With ``requires_grad_only``, constants (and what only they depend on) are left out.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"topological_order: expected a Tensor, got {type(root).__name__}")
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        t, parents_done = stack.pop()
        if parents_done:
            order.append(t)
        elif t not in visited:
            visited.add(t)
            stack.append((t, True))
            for p in reversed(t.parents):
                if p not in visited and (p.requires_grad or not requires_grad_only):
                    stack.append((p, False))
    return order


# ---------------------------------------- Part VII (Sequences): joining tensors

def _join_inputs(tensors, axis, owner):
    """The tensors to join (numbers and arrays become constants) and ``axis`` checked as an int."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{owner}: expected a non-empty list or tuple of tensors, got {type(tensors).__name__}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{owner}: axis must be an int, got {axis!r}")
    return tuple(_lift(t) for t in tensors)


def stack(tensors, axis=0):
    """Join tensors of one shape along a **new** axis: ``k`` tensors (a, b) -> (k, a, b) for ``axis=0``.

    Like ``np.stack``. Each input is one slice of the result, so backward
    hands each input its own slice of ``dout``: ``dout`` indexed at position
    ``i`` along ``axis``. (The RNN chapter stacks the hidden states of the
    positions of a sequence, ``stack(states, axis=1)``.)
    """
    owner = "stack"
    tensors = _join_inputs(tensors, axis, owner)
    shapes = [t.shape for t in tensors]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"{owner}: the tensors have shapes {shapes}; expected one shape for all of them")
    ndim = len(shapes[0]) + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"{owner}: axis {axis} is out of range for the {ndim}-D result; expected "
                         f"-{ndim} <= axis < {ndim}")
    axis = int(axis) % ndim
    out = np.stack([t.data for t in tensors], axis=axis)

    def local_backward(dout):     # input i is slice i of the result: it gets slice i of dout
        return tuple(np.moveaxis(dout, axis, 0))

    return _result(out, tensors, "stack", local_backward)


def concat(tensors, axis=0):
    """Join tensors end to end along an **existing** axis: (a, b1) and (a, b2) -> (a, b1 + b2) for ``axis=1``.

    Like ``np.concatenate``. The shapes must agree on every other axis.
    Backward splits ``dout`` at the same places: each input gets the block
    of ``dout`` where its entries landed.
    """
    owner = "concat"
    tensors = _join_inputs(tensors, axis, owner)
    shapes = [t.shape for t in tensors]
    ndim = len(shapes[0])
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"{owner}: axis {axis} is out of range for tensors of shape {shapes[0]}; expected "
                         f"-{ndim} <= axis < {ndim} (a number cannot be concatenated: use stack)")
    axis = int(axis) % ndim
    rest = [shape[:axis] + shape[axis + 1:] for shape in shapes]
    if any(len(shape) != ndim for shape in shapes) or any(r != rest[0] for r in rest):
        raise ValueError(f"{owner}: the tensors have shapes {shapes}; expected the same sizes on every axis "
                         f"except axis {axis}")
    out = np.concatenate([t.data for t in tensors], axis=axis)
    ends = np.cumsum([shape[axis] for shape in shapes])[:-1]

    def local_backward(dout):     # each input gets back the block of dout where its entries went
        return tuple(np.split(dout, ends, axis=axis))

    return _result(out, tensors, "concat", local_backward)
