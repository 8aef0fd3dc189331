"""Layers: nodes with two inputs, layers with parameters, and a container.

- ``MulLayer``, ``AddLayer``, ``SubLayer``, ``DivLayer``: the two-input nodes
  of chapters "Computational graphs" and "Local derivative rules".
  ``forward(x, y)`` returns ``z``; ``backward(dout)`` returns ``(dx, dy)``.
  They accept numbers or arrays and follow numpy broadcasting; a gradient is
  summed back to its input's shape.
- ``Linear`` and ``Sequential``: chapter "Matrix gradients for a minibatch".
  Everything is row-major: a minibatch ``x`` has shape ``(n, features)``.

Parameterised layers expose ``W``, ``b``, ``grad_W``, ``grad_b`` and
``named_parameters()``, a list of ``(name, param, grad)``; ``parameters()``
is the same without names, the ``(param, grad)`` pairs optimizers update.
``backward`` *overwrites* the gradient arrays in place (the arrays stay the
same objects, so a list of pairs taken once stays valid).
"""

import numpy as np

from ._validate import as_float_array, as_output, check_shape, positive_int, require_forward, sum_to_shape
from .init import get_initializer


class _TwoInputNode:
    """Bookkeeping shared by the two-input nodes (input conversion, dout checks)."""

    x = y = None

    def __call__(self, x, y):
        return self.forward(x, y)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _inputs(self, x, y):
        name = type(self).__name__
        self.x = as_float_array(x, "input x", name)
        self.y = as_float_array(y, "input y", name)
        try:
            self._out_shape = np.broadcast_shapes(self.x.shape, self.y.shape)
        except ValueError:
            raise ValueError(
                f"{name}: inputs x {self.x.shape} and y {self.y.shape} do not broadcast "
                f"together; expected equal shapes or numpy-broadcastable ones"
            ) from None
        return self.x, self.y

    def _dout(self, dout):
        name = type(self).__name__
        require_forward(self.x, name)
        dout = as_float_array(dout, "upstream gradient dout", name)
        check_shape(dout, self._out_shape, "upstream gradient dout (the shape of forward's output)", name)
        return dout

    def _grads(self, dx, dy):
        """Sum broadcast copies back to each input's shape; floats for scalars."""
        return (as_output(sum_to_shape(dx, self.x.shape)),
                as_output(sum_to_shape(dy, self.y.shape)))


class MulLayer(_TwoInputNode):
    """z = x * y.  Local derivatives: dz/dx = y, dz/dy = x (each input gets the *other* one)."""

    def forward(self, x, y):
        x, y = self._inputs(x, y)
        return as_output(x * y)

    def backward(self, dout):
        dout = self._dout(dout)
        dx = dout * self.y  # swap: x's gradient uses y
        dy = dout * self.x
        return self._grads(dx, dy)


class AddLayer(_TwoInputNode):
    """z = x + y.  Local derivatives: dz/dx = 1, dz/dy = 1 (dout passes through unchanged)."""

    def forward(self, x, y):
        x, y = self._inputs(x, y)
        return as_output(x + y)

    def backward(self, dout):
        dout = self._dout(dout)
        return self._grads(dout * 1, dout * 1)


class SubLayer(_TwoInputNode):
    """z = x - y.  Local derivatives: dz/dx = 1, dz/dy = -1."""

    def forward(self, x, y):
        x, y = self._inputs(x, y)
        return as_output(x - y)

    def backward(self, dout):
        dout = self._dout(dout)
        return self._grads(dout * 1, dout * -1)


class DivLayer(_TwoInputNode):
    """z = x / y.  Local derivatives: dz/dx = 1/y, dz/dy = -x/y^2."""

    def forward(self, x, y):
        x, y = self._inputs(x, y)
        if (y == 0).any():
            raise ValueError("DivLayer: divisor y must be nonzero, got y = 0")
        return as_output(x / y)

    def backward(self, dout):
        dout = self._dout(dout)
        dx = dout / self.y
        dy = dout * -self.x / self.y ** 2
        return self._grads(dx, dy)


class Linear:
    """Fully connected layer for a minibatch: ``out = x @ W + b``.

    Shapes::

        x        (n, in_features)      one sample per row
        W        (in_features, out_features)
        b        (out_features,)       added to every row (broadcast)
        out      (n, out_features)

    Backward, given ``dout = dL/dout`` of shape ``(n, out_features)``::

        grad_W = x.T @ dout            (in_features, out_features)
        grad_b = dout.sum(axis=0)      (out_features,)  one term per sample
        dx     = dout @ W.T            (n, in_features)

    ``init`` names the weight initialiser ("he" or "xavier", see
    ``companion.init``); ``rng`` is a numpy Generator or an int seed. Biases
    start at zero.
    """

    def __init__(self, in_features, out_features, *, init="he", rng=None):
        in_features = positive_int(in_features, "in_features", "Linear")
        out_features = positive_int(out_features, "out_features", "Linear")
        self.W = get_initializer(init)(in_features, out_features, rng)
        self.b = np.zeros(out_features)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        self.x = None

    def __repr__(self):
        return f"Linear({self.W.shape[0]}, {self.W.shape[1]})"

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        x = as_float_array(x, "input x", repr(self))
        if x.ndim != 2 or x.shape[1] != self.W.shape[0]:
            hint = " (one sample? use x.reshape(1, -1))" if x.ndim == 1 else ""
            raise ValueError(
                f"{self!r}: input x has shape {x.shape}, expected (n, {self.W.shape[0]}){hint}"
            )
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout, input_grad=True):
        """Store grad_W and grad_b; return dx (None with ``input_grad=False``, when x is data)."""
        require_forward(self.x, repr(self))
        dout = as_float_array(dout, "upstream gradient dout", repr(self))
        check_shape(dout, (self.x.shape[0], self.W.shape[1]), "upstream gradient dout", repr(self))
        np.matmul(self.x.T, dout, out=self.grad_W)   # grad_W = x.T @ dout, written in place
        np.sum(dout, axis=0, out=self.grad_b)        # grad_b = dout.sum(axis=0)
        return dout @ self.W.T if input_grad else None

    def named_parameters(self):
        return [("W", self.W, self.grad_W), ("b", self.b, self.grad_b)]

    def parameters(self):
        return [(param, grad) for _, param, grad in self.named_parameters()]

    def zero_grad(self):
        for _, _, grad in self.named_parameters():
            grad[...] = 0.0


class Sequential:
    """Layers applied in order; backward runs them in reverse.

    ``Sequential(Linear(1, 2, rng=0), ReLU(), Linear(2, 1, rng=1))``.
    Parameters are named ``"<index>.<name>"``, e.g. ``"0.W"`` for the first
    layer's weights. An error raised by a layer comes out with the layer's
    index in front: ``Sequential layer 2: Linear(4, 1): input x has shape
    (5, 3), expected (n, 4)``.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            is_layer = callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))
            if isinstance(layer, type) or not is_layer:
                raise TypeError(
                    f"Sequential: layer {i} ({layer!r}) has no forward/backward methods; "
                    f"expected a layer such as Linear or ReLU (an instance, not the class)"
                )
        self.layers = list(layers)
        self.training = True

    def __repr__(self):
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except (ValueError, TypeError, RuntimeError) as err:
                raise _located(err, i, layer) from err
        return x

    def backward(self, dout, input_grad=True):
        """Run every layer's backward in reverse order and return dL/dx.

        Training needs only the parameters' gradients, not the gradient for the
        input data: with ``input_grad=False`` the pass stops at the first layer
        that has parameters, tells it to skip its ``dx`` (a whole matmul), and
        returns None. The parameter gradients are the same either way.
        """
        stop = 0
        if not input_grad:
            with_params = [i for i, layer in enumerate(self.layers) if hasattr(layer, "named_parameters")]
            if not with_params:
                return None
            stop = with_params[0]
        for i in reversed(range(stop, len(self.layers))):
            layer = self.layers[i]
            skip_dx = not input_grad and i == stop and isinstance(layer, (Linear, Sequential))
            try:
                dout = layer.backward(dout, input_grad=False) if skip_dx else layer.backward(dout)
            except (ValueError, TypeError, RuntimeError) as err:
                raise _located(err, i, layer) from err
        return dout if input_grad else None

    def train(self, mode=True):
        """Put every layer that has a ``train`` method in training mode (``mode=False``: evaluation). Returns self."""
        for layer in self.layers:
            if callable(getattr(layer, "train", None)):
                layer.train(mode)
        self.training = bool(mode)
        return self

    def eval(self):
        """Put every layer that has one in evaluation mode: ``train(False)``. Returns self."""
        return self.train(False)

    def named_parameters(self):
        return [
            (f"{i}.{name}", param, grad)
            for i, layer in enumerate(self.layers)
            if hasattr(layer, "named_parameters")
            for name, param, grad in layer.named_parameters()
        ]

    def parameters(self):
        return [(param, grad) for _, param, grad in self.named_parameters()]

    def zero_grad(self):
        for _, _, grad in self.named_parameters():
            grad[...] = 0.0


def _located(err, i, layer):
    """The same kind of error, its message prefixed with the layer's position in a Sequential.

    Two ``Linear(3, 3)`` layers have the same name; the index says which one failed.
    """
    name = repr(layer) if "\n" not in repr(layer) else type(layer).__name__
    where = f"Sequential layer {i}" if str(err).startswith((name, type(layer).__name__)) else f"Sequential layer {i} ({name})"
    kind = next(k for k in (ValueError, TypeError, RuntimeError) if isinstance(err, k))
    return kind(f"{where}: {err}")
