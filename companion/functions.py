"""Functions of one input, as graph nodes with a forward and a backward pass.

Chapters "The chain rule" and "Local derivative rules".

Every class here works on a Python number or on a numpy array of any shape
(applied elementwise). ``forward(x)`` (or calling the object, ``f(x)``)
computes ``y = f(x)`` and remembers what the derivative needs;
``backward(dout)`` receives ``dout = dL/dy`` (same shape as ``y``) and returns
``dL/dx = dout * f'(x)`` (same shape as ``x``): the upstream gradient times the
local derivative. Scalars come back as Python floats, arrays as float64 arrays.

The activations ``ReLU``, ``Sigmoid``, ``Tanh`` and ``Identity`` are also the
activation layers of the networks in later chapters.

Input checks: called on its own, every node converts its input to float64 and
rejects NaN, infinity and non-numbers. Inside a ``Sequential``, an array that
another companion layer produced is passed with ``checked=True`` and is not
scanned again (see ``Function``).
"""

import numpy as np

from ._validate import as_float_array, as_output, check_shape, require_forward


class Function:
    """Base class: the bookkeeping every one-input node shares.

    Subclasses implement ``forward(x, *, checked=False)`` and
    ``backward(dout, *, checked=False)``; they call ``self._input(x, checked)``
    first in forward and ``self._dout(dout, checked)`` first in backward, which
    convert to float64 and raise clear errors on bad input.

    ``checked=True`` is how ``Sequential`` says "this array is the output of
    another companion layer, so it is already a float64 array with finite
    entries": the conversion and the scan for NaN/infinity are skipped (the
    shape check in backward still runs). Called on its own, a node always
    checks: ``checked`` defaults to False.
    """

    _shape = None  # shape of the last forward input (None: no forward yet)

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _input(self, x, checked=False):
        if not checked:
            x = as_float_array(x, "input x", type(self).__name__)
        self._shape = x.shape
        return x

    def _dout(self, dout, checked=False):
        name = type(self).__name__
        require_forward(self._shape, name)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", name)
        check_shape(dout, self._shape, "upstream gradient dout (the shape of forward's output)", name)
        return dout


class Plus1(Function):
    """y = x + 1.  Local derivative: dy/dx = 1."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        return as_output(x + 1)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * 1)


class Square(Function):
    """y = x ** 2.  Local derivative: dy/dx = 2x."""

    def forward(self, x, *, checked=False):
        self.x = self._input(x, checked)
        return as_output(self.x ** 2)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * 2 * self.x)


class Power(Function):
    """y = x ** p for a fixed real exponent p.  Local derivative: dy/dx = p x^(p-1)."""

    def __init__(self, p):
        self.p = float(as_float_array(p, "exponent p", "Power"))

    def __repr__(self):
        return f"Power(p={self.p:g})"

    def forward(self, x, *, checked=False):
        self.x = self._input(x, checked)
        if not self.p.is_integer() and (self.x < 0).any():
            raise ValueError(
                f"Power: x ** {self.p:g} needs x >= 0 for a non-integer exponent, "
                f"got min x = {self.x.min():g}"
            )
        if self.p < 0 and (self.x == 0).any():
            raise ValueError(f"Power: x ** {self.p:g} is undefined at x = 0")
        return as_output(self.x ** self.p)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * self.p * self.x ** (self.p - 1))


class Exp(Function):
    """y = exp(x).  Local derivative: dy/dx = exp(x) = y, so we keep y."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        self.y = np.exp(x)
        return as_output(self.y)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * self.y)


class Log(Function):
    """y = ln(x) for x > 0.  Local derivative: dy/dx = 1/x."""

    def forward(self, x, *, checked=False):
        self.x = self._input(x, checked)
        if (self.x <= 0).any():
            raise ValueError(f"Log: input must be > 0, got min x = {self.x.min():g}")
        return as_output(np.log(self.x))

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout / self.x)


class Reciprocal(Function):
    """y = 1/x for x != 0.  Local derivative: dy/dx = -1/x^2 = -y^2."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        if (x == 0).any():
            raise ValueError("Reciprocal: input must be nonzero, got x = 0")
        self.y = 1 / x
        return as_output(self.y)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * -(self.y ** 2))


class Identity(Function):
    """y = x.  Local derivative: 1. The output "activation" of a regression network."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        return as_output(x)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout)


class ReLU(Function):
    """y = max(0, x).  Local derivative: 1 where x > 0, else 0 (0 at the kink x = 0)."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        self.mask = x > 0  # where the gradient passes through
        return as_output(np.where(self.mask, x, 0.0))

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * self.mask)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)).  Local derivative: dy/dx = y (1 - y).

    Computed as ``exp(-logaddexp(0, -x))``, which equals the formula but never
    overflows: sigmoid(-1000) is 0.0 with no warning.
    """

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        self.y = np.exp(-np.logaddexp(0.0, -x))
        return as_output(self.y)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * self.y * (1 - self.y))


class Tanh(Function):
    """y = tanh(x).  Local derivative: dy/dx = 1 - y^2."""

    def forward(self, x, *, checked=False):
        x = self._input(x, checked)
        self.y = np.tanh(x)
        return as_output(self.y)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        return as_output(dout * (1 - self.y ** 2))
