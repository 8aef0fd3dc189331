"""Layers: nodes with two inputs, layers with parameters, and a container.

- ``MulLayer``, ``AddLayer``, ``SubLayer``, ``DivLayer``: the two-input nodes
  of chapters "Computational graphs" and "Local derivative rules".
  ``forward(x, y)`` returns ``z``; ``backward(dout)`` returns ``(dx, dy)``.
  They accept numbers or arrays and follow numpy broadcasting; a gradient is
  summed back to its input's shape.
- ``Linear`` and ``Sequential``: chapter "Matrix gradients for a minibatch".
  Everything is row-major: a minibatch ``x`` has shape ``(n, features)``.
- ``mlp``: a multilayer perceptron of any depth, with BatchNorm or Dropout
  if asked; the deep networks of Part V ("Initialisation and the depth
  problem", "Normalisation", "Regularisation").

Parameterised layers expose ``W``, ``b``, ``grad_W``, ``grad_b`` and
``named_parameters()``, a list of ``(name, param, grad)``; ``parameters()``
is the same without names, the ``(param, grad)`` pairs optimizers update.
``backward`` *overwrites* the gradient arrays in place (the arrays stay the
same objects, so a list of pairs taken once stays valid).
"""

import functools
import inspect

import numpy as np

from ._validate import (as_float_array, as_output, as_rng, check_shape, is_companion_layer, positive_int,
                        require_forward, sum_to_shape)
from .functions import ReLU, Sigmoid, Tanh
from .init import get_initializer
from .normalization import BatchNorm
from .regularization import Dropout


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


class HasParameters:
    """What every layer with parameters derives from its ``named_parameters()``.

    ``parameters()``: the ``(param, grad)`` pairs an optimizer updates;
    ``zero_grad()``: every gradient set to zero, in place.
    """

    def parameters(self):
        return [(param, grad) for _, param, grad in self.named_parameters()]

    def zero_grad(self):
        for _, _, grad in self.named_parameters():
            grad[...] = 0.0


class Linear(HasParameters):
    """Fully connected layer for a minibatch: ``out = x @ W + b``.

    Shapes::

        x        (n, in_features)      one sample per row
        W        (in_features, out_features)
        b        (out_features,)       added to every row (broadcast)
        out      (n, out_features)

    Any leading axes work, as in PyTorch: ``x`` of shape ``(n, S, in_features)``
    (a sequence of ``S`` vectors per sample) gives ``out`` of shape
    ``(n, S, out_features)``, the same layer applied to every vector; backward
    then treats the ``n * S`` vectors as rows of one minibatch (the gradients
    below with ``x`` and ``dout`` reshaped to ``(n * S, features)``).

    Backward, given ``dout = dL/dout`` of shape ``(n, out_features)``::

        grad_W = x.T @ dout            (in_features, out_features)
        grad_b = dout.sum(axis=0)      (out_features,)  one term per sample
        dx     = dout @ W.T            (n, in_features)

    ``init`` names the weight initialiser ("he", "xavier" or
    "standard_normal", see ``companion.init``) or is a function
    ``(fan_in, fan_out, rng) -> W``; ``rng`` is a numpy Generator or an int
    seed. Biases start at zero.

    Input checks: called on its own, ``forward`` converts ``x`` to float64 and
    rejects NaN, infinity and non-numbers, and ``backward`` does the same for
    ``dout``. ``checked=True`` (what ``Sequential`` passes for an array that
    another companion layer produced) skips that conversion and scan; the
    shape checks always run.
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

    def forward(self, x, *, checked=False):
        if not checked:  # self.__repr__, not repr(self): the name is formatted only if there is an error
            x = as_float_array(x, "input x", self.__repr__)
        if x.ndim != 2 or x.shape[1] != self.W.shape[0]:   # the 2-D path pays for this one test only
            if x.ndim < 2 or x.shape[-1] != self.W.shape[0]:
                d = self.W.shape[0]
                hint = " (one sample? use x.reshape(1, -1))" if x.ndim == 1 else ""
                expected = f"(n, {d})" if x.ndim < 3 else f"(n, ..., {d}): {d} features last"
                raise ValueError(f"{self!r}: input x has shape {x.shape}, expected {expected}{hint}")
            self.x = x                                     # (n, ..., d_in): rows of one (n*..., d_in) matrix
            out = x.reshape(-1, x.shape[-1]) @ self.W + self.b
            return out.reshape(x.shape[:-1] + (self.W.shape[1],))
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout, input_grad=True, *, checked=False):
        """Store grad_W and grad_b; return dx (None with ``input_grad=False``, when x is data)."""
        require_forward(self.x, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        x = self.x
        if x.ndim != 2:   # (n, ..., d_in): every vector is a row of one (n*..., d_in) minibatch
            check_shape(dout, x.shape[:-1] + (self.W.shape[1],), "upstream gradient dout", self.__repr__)
            x, dout = x.reshape(-1, x.shape[-1]), dout.reshape(-1, dout.shape[-1])
        else:
            check_shape(dout, (x.shape[0], self.W.shape[1]), "upstream gradient dout", self.__repr__)
        np.matmul(x.T, dout, out=self.grad_W)        # grad_W = x.T @ dout, written in place
        dout.sum(axis=0, out=self.grad_b)            # grad_b = dout.sum(axis=0)
        if not input_grad:
            return None
        dx = dout @ self.W.T
        return dx if dx.shape == self.x.shape else dx.reshape(self.x.shape)

    def named_parameters(self):
        return [("W", self.W, self.grad_W), ("b", self.b, self.grad_b)]


class Sequential(HasParameters):
    """Layers applied in order; backward runs them in reverse.

    ``Sequential(Linear(1, 2, rng=0), ReLU(), Linear(2, 1, rng=1))``.
    Parameters are named ``"<index>.<name>"``, e.g. ``"0.W"`` for the first
    layer's weights. An error raised by a layer comes out with the layer's
    index in front: ``Sequential layer 2: Linear(4, 1): input x has shape
    (5, 3), expected (n, 4)``.

    Input checks happen where data enter the model, not again between its
    layers. ``forward(x)`` lets the first layer check ``x`` fully, and
    ``backward(dout)`` lets the last layer check ``dout``; every other
    companion layer receives an array that a companion layer just computed,
    with ``checked=True``, and skips the scan for NaN/infinity (its shape
    checks still run). A layer of your own (any object with ``forward`` and
    ``backward`` whose class is not defined in companion) is called plainly as
    ``layer.forward(x)`` / ``layer.backward(dout)``, and ``Sequential`` checks
    what it returns: a numeric array of finite numbers, with ``n`` rows in
    forward and of the shape of the layer's input in backward. An error names
    the layer's index.
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
        self._input_shapes = {}  # index -> shape of the input of each layer of your own, for backward

    def __repr__(self):
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x, *, checked=False):
        for i, layer in enumerate(self.layers):
            try:
                if is_companion_layer(layer):
                    x = layer.forward(x, checked=checked)
                else:
                    self._input_shapes[i] = np.shape(x)
                    x = _checked_output(layer.forward(x), i, layer, "forward", self._input_shapes[i])
            except (ValueError, TypeError, RuntimeError) as err:
                raise _located(err, i, layer, self.layers) from err
            checked = type(x) is np.ndarray  # a companion layer's (or a checked) result: no second scan
        return x

    def backward(self, dout, input_grad=True, *, checked=False):
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
            try:
                if not is_companion_layer(layer):
                    dout = _checked_output(layer.backward(dout), i, layer, "backward", self._input_shapes.get(i))
                elif not input_grad and i == stop and _takes_input_grad(type(layer)):
                    dout = layer.backward(dout, input_grad=False, checked=checked)
                else:
                    dout = layer.backward(dout, checked=checked)
            except (ValueError, TypeError, RuntimeError) as err:
                raise _located(err, i, layer) from err
            checked = type(dout) is np.ndarray
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


@functools.lru_cache(maxsize=None)
def _takes_input_grad(cls):
    """Whether ``cls.backward`` accepts ``input_grad`` (Linear, Sequential, Conv2d: layers whose dx costs a product)."""
    try:
        return "input_grad" in inspect.signature(cls.backward).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _checked_output(out, i, layer, method, input_shape):
    """The result of your own layer's ``forward``/``backward``, as a float64 array, or a clear error.

    ``out`` must be numbers without NaN or infinity; forward must keep the
    ``n`` rows of its input (axis 0), backward must return ``dx`` of the
    shape of forward's input ``x`` (``input_shape``).
    """
    def owner():  # the name for a message, formatted only when there is an error
        return f"{type(layer).__name__}.{method}"

    if method == "backward" and input_shape is None:
        raise RuntimeError(f"{owner()}: backward() called before forward(); run the model's forward first")
    if not isinstance(out, (np.ndarray, float, int, np.number)) or isinstance(out, bool):
        what = "forward's output" if method == "forward" else "the gradient dx it returns"
        raise TypeError(f"{owner()}: {what} is a {type(out).__name__}; expected a numpy array of floats")
    name = "its output" if method == "forward" else "the gradient dx it returns"
    out = as_float_array(out, name, owner)
    if method == "backward":
        check_shape(out, input_shape, "the gradient dx it returns (the shape of forward's input x)", owner)
    elif len(input_shape) and (out.ndim == 0 or out.shape[0] != input_shape[0]):
        raise ValueError(
            f"{owner()}: its output has shape {out.shape} for an input of shape {input_shape}; "
            f"expected {input_shape[0]} rows, one per sample (axis 0 holds the samples)"
        )
    return out


def _name(layer):
    """A layer's repr, or its class name when the repr spans lines (a nested Sequential)."""
    text = repr(layer)
    return text if "\n" not in text else type(layer).__name__


def _located(err, i, layer, layers=None):
    """The same kind of error, its message prefixed with the layer's position in a Sequential.

    Two ``Linear(3, 3)`` layers have the same name; the index says which one
    failed. In forward (``layers`` given), when the failing layer's input is
    the output of a layer of your own, the message says so: that layer may be
    the one at fault.
    """
    name = _name(layer)
    where = f"Sequential layer {i}" if str(err).startswith((name, type(layer).__name__)) else f"Sequential layer {i} ({name})"
    source = ""
    if layers is not None and i > 0 and is_companion_layer(layer) and not is_companion_layer(layers[i - 1]):
        source = f" (its input is the output of layer {i - 1}, {type(layers[i - 1]).__name__}, a layer of your own)"
    kind = next(k for k in (ValueError, TypeError, RuntimeError) if isinstance(err, k))
    return kind(f"{where}: {err}{source}")


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def mlp(sizes, activation="relu", *, init="he", batchnorm=False, dropout=0.0, rng=None):
    """A multilayer perceptron: a ``Sequential`` of ``Linear`` layers of the given sizes.

    ``sizes = (d_0, d_1, ..., d_D)`` gives ``D`` Linear layers, layer ``k``
    mapping ``d_{k-1}`` features to ``d_k``. Every layer but the last is
    followed by its activation; the last one outputs the logits::

        Linear -> [BatchNorm] -> activation -> [Dropout]     layers 1 .. D-1
        Linear                                               layer D

    ``activation``: "relu", "sigmoid" or "tanh"; ``init``: an initialiser name
    or function (see ``Linear``); ``batchnorm=True`` puts a ``BatchNorm``
    between each hidden Linear and its activation (Ioffe and Szegedy's
    place); ``dropout=rate`` puts a ``Dropout(rate)`` after each hidden
    activation. Weights and dropout masks come from one generator ``rng``
    (a Generator or an int seed), so a seed gives the same network and run.
    """
    sizes = [positive_int(size, "every size", "mlp") for size in sizes]
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list at least two sizes (inputs and outputs), got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}")
    rng = as_rng(rng)
    layers = []
    for k, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append(Linear(d_in, d_out, init=init, rng=rng))
        if k < len(sizes) - 1:
            layers += [BatchNorm(d_out)] if batchnorm else []
            layers.append(ACTIVATIONS[activation]())
            layers += [Dropout(dropout, rng=rng)] if dropout else []
    return Sequential(*layers)
