"""Optimizers: rules that move parameters against their gradients.

Chapter "Optimizers".

Every optimizer is built once from a model's ``(param, grad)`` pairs and
then called once per minibatch::

    opt = Adam(model.parameters(), lr=1e-3)
    for xb, tb in batches:
        loss.forward(model.forward(xb), tb)
        model.backward(loss.backward())   # overwrites every grad in place
        opt.step()                        # updates every param in place

``step`` reads each ``grad`` array and changes its ``param`` array in place
(the arrays stay the same objects, so the model sees the new values). Because
``backward`` overwrites the gradients, no ``zero_grad`` is needed between
steps. State such as a velocity is kept per parameter, in a list in the same
order as the pairs: ``self.v[i]`` belongs to ``parameters[i]``.

Each class is the update rule for one pair, ``update(i, param, grad)``.
"""

import math

import numpy as np


def _number(value, name, owner, low, high, closed_low=False):
    """A float in (low, high) (or [low, high) when ``closed_low``), else a clear ValueError."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    value = float(value) if ok else value
    inside = ok and math.isfinite(value) and (low <= value if closed_low else low < value) and value < high
    if not inside:
        interval = f"{'[' if closed_low else '('}{low:g}, {high:g})"
        raise ValueError(f"{owner}: {name} must be a number in {interval}, got {value!r}")
    return value


class Optimizer:
    """Base class: checks the ``(param, grad)`` pairs and the learning rate, and loops over the pairs.

    Subclasses implement ``update(i, param, grad)`` for the ``i``-th pair.
    ``self.steps`` counts calls of ``step()`` (Adam's bias correction uses it).
    """

    def __init__(self, parameters, lr):
        name = type(self).__name__
        if hasattr(parameters, "parameters") and callable(parameters.parameters):
            raise TypeError(f"{name}: got the model itself; pass model.parameters(), its (param, grad) pairs")
        try:
            pairs = [tuple(pair) for pair in parameters]
        except TypeError:
            raise TypeError(
                f"{name}: expected a list of (param, grad) pairs such as model.parameters(), "
                f"got {type(parameters).__name__}"
            ) from None
        if not pairs:
            raise ValueError(f"{name}: got no parameters; expected model.parameters(), a non-empty list of (param, grad) pairs")
        for i, pair in enumerate(pairs):
            if len(pair) != 2 or not all(isinstance(a, np.ndarray) for a in pair):
                raise TypeError(f"{name}: parameter pair {i} is not a (param, grad) pair of numpy arrays")
            param, grad = pair
            if param.dtype != np.float64 or param.shape != grad.shape:
                raise ValueError(
                    f"{name}: parameter pair {i} has param {param.dtype} {param.shape} and grad {grad.shape}; "
                    f"expected a float64 param and a grad of the same shape"
                )
        self.parameters = pairs
        self.lr = _number(lr, "learning rate lr", name, 0.0, math.inf)
        self.steps = 0

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.parameters)} parameter arrays)"

    def _zeros(self):
        """One zero array per parameter, for per-parameter state."""
        return [np.zeros_like(param) for param, _ in self.parameters]

    def step(self):
        """Update every parameter once from its current gradient."""
        self.steps += 1
        for i, (param, grad) in enumerate(self.parameters):
            self.update(i, param, grad)

    def update(self, i, param, grad):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: ``param -= lr * grad``."""

    def __init__(self, parameters, lr=0.01):
        super().__init__(parameters, lr)

    def update(self, i, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """Gradient descent with a velocity (Polyak, 1964): ``v = momentum * v - lr * grad``; ``param += v``."""

    def __init__(self, parameters, lr=0.01, momentum=0.9):
        super().__init__(parameters, lr)
        self.momentum = _number(momentum, "momentum", "Momentum", 0.0, 1.0, closed_low=True)
        self.v = self._zeros()

    def update(self, i, param, grad):
        v = self.v[i]
        v *= self.momentum
        v -= self.lr * grad
        param += v


class AdaGrad(Optimizer):
    """Per-entry step sizes that shrink with the sum of squared gradients so far (Duchi et al., 2011).

    ``r += grad**2``; ``param -= lr * grad / (sqrt(r) + eps)``.
    """

    def __init__(self, parameters, lr=0.01, eps=1e-8):
        super().__init__(parameters, lr)
        self.eps = _number(eps, "eps", "AdaGrad", 0.0, math.inf)
        self.r = self._zeros()

    def update(self, i, param, grad):
        r = self.r[i]
        r += grad * grad
        param -= self.lr * grad / (np.sqrt(r) + self.eps)


class RMSProp(Optimizer):
    """AdaGrad with a forgetting average (Tieleman and Hinton, 2012): ``r = rho * r + (1 - rho) * grad**2``.

    ``param -= lr * grad / (sqrt(r) + eps)``.
    """

    def __init__(self, parameters, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(parameters, lr)
        self.rho = _number(rho, "rho", "RMSProp", 0.0, 1.0, closed_low=True)
        self.eps = _number(eps, "eps", "RMSProp", 0.0, math.inf)
        self.r = self._zeros()

    def update(self, i, param, grad):
        r = self.r[i]
        r *= self.rho
        r += (1 - self.rho) * grad * grad
        param -= self.lr * grad / (np.sqrt(r) + self.eps)


class Adam(Optimizer):
    """Momentum and RMSProp together, with bias correction (Kingma and Ba, 2015).

    With ``s = self.steps``, the number of steps so far::

        m = beta1 * m + (1 - beta1) * grad          running mean of gradients
        v = beta2 * v + (1 - beta2) * grad**2       running mean of squares
        m_hat = m / (1 - beta1**s)                  undo the pull towards the zero start
        v_hat = v / (1 - beta2**s)
        param -= lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(parameters, lr)
        self.beta1 = _number(beta1, "beta1", "Adam", 0.0, 1.0, closed_low=True)
        self.beta2 = _number(beta2, "beta2", "Adam", 0.0, 1.0, closed_low=True)
        self.eps = _number(eps, "eps", "Adam", 0.0, math.inf)
        self.m, self.v = self._zeros(), self._zeros()

    def update(self, i, param, grad):
        m, v, s = self.m[i], self.v[i], self.steps
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1 ** s)
        v_hat = v / (1 - self.beta2 ** s)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

