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

Weight decay (chapter "Regularisation"): every optimizer takes
``weight_decay=lam`` (default 0) and then updates with ``grad + lam * param``
in place of ``grad``, the gradient of the loss plus ``(lam / 2) * ||param||^2``
(L2 regularisation of every parameter it is given; the model's ``grad``
arrays are not changed). ``AdamW`` decays *decoupled* from Adam's averages
instead. ``clip_grad_norm`` caps the length of all gradients together
(chapter "Initialisation and the depth problem").
"""

import math

import numpy as np

from ._validate import number_in as _number


def _pairs(parameters, owner):
    """``parameters`` as a non-empty list of (param, grad) float64 array pairs of equal shapes, or a clear error."""
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        raise TypeError(f"{owner}: got the model itself; pass model.parameters(), its (param, grad) pairs")
    try:
        pairs = [tuple(pair) for pair in parameters]
    except TypeError:
        raise TypeError(
            f"{owner}: expected a list of (param, grad) pairs such as model.parameters(), "
            f"got {type(parameters).__name__}"
        ) from None
    if not pairs:
        raise ValueError(f"{owner}: got no parameters; expected model.parameters(), a non-empty list of (param, grad) pairs")
    for i, pair in enumerate(pairs):
        if len(pair) != 2 or not all(isinstance(a, np.ndarray) for a in pair):
            raise TypeError(f"{owner}: parameter pair {i} is not a (param, grad) pair of numpy arrays")
        param, grad = pair
        if param.dtype != np.float64 or param.shape != grad.shape:
            raise ValueError(
                f"{owner}: parameter pair {i} has param {param.dtype} {param.shape} and grad {grad.shape}; "
                f"expected a float64 param and a grad of the same shape"
            )
    return pairs


class Optimizer:
    """Base class: checks the ``(param, grad)`` pairs, the learning rate and the weight decay; loops over the pairs.

    Subclasses implement ``update(i, param, grad)`` for the ``i``-th pair.
    ``self.steps`` counts calls of ``step()`` (Adam's bias correction uses it).
    With ``weight_decay=lam``, ``step`` passes ``grad + lam * param`` to
    ``update`` (L2 regularisation); a subclass with ``decoupled = True``
    (AdamW) applies its decay itself instead.
    """

    decoupled = False

    def __init__(self, parameters, lr, weight_decay=0.0):
        name = type(self).__name__
        self.parameters = _pairs(parameters, name)
        self.lr = _number(lr, "learning rate lr", name, 0.0, math.inf)
        self.weight_decay = _number(weight_decay, "weight_decay", name, 0.0, math.inf, closed_low=True)
        self.steps = 0

    def __repr__(self):
        decay = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"{type(self).__name__}(lr={self.lr:g}{decay}, {len(self.parameters)} parameter arrays)"

    def _zeros(self):
        """One zero array per parameter, for per-parameter state."""
        return [np.zeros_like(param) for param, _ in self.parameters]

    def step(self):
        """Update every parameter once from its current gradient (plus ``weight_decay * param``)."""
        self.steps += 1
        lam = 0.0 if self.decoupled else self.weight_decay
        for i, (param, grad) in enumerate(self.parameters):
            self.update(i, param, grad + lam * param if lam else grad)

    def update(self, i, param, grad):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: ``param -= lr * grad``."""

    def __init__(self, parameters, lr=0.01, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)

    def update(self, i, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """Gradient descent with a velocity (Polyak, 1964): ``v = momentum * v - lr * grad``; ``param += v``."""

    def __init__(self, parameters, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
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

    def __init__(self, parameters, lr=0.01, eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
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

    def __init__(self, parameters, lr=0.001, rho=0.9, eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
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

    def __init__(self, parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        name = type(self).__name__
        self.beta1 = _number(beta1, "beta1", name, 0.0, 1.0, closed_low=True)
        self.beta2 = _number(beta2, "beta2", name, 0.0, 1.0, closed_low=True)
        self.eps = _number(eps, "eps", name, 0.0, math.inf)
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


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Every step first shrinks each parameter by the same factor, then takes
    Adam's step computed from the loss gradient alone::

        param *= 1 - lr * weight_decay           decay, outside m and v
        (then Adam's update of m, v and param with grad)

    ``Adam(..., weight_decay=lam)`` adds ``lam * param`` to the gradient
    instead; that term then passes through ``m`` and is divided by
    ``sqrt(v_hat)``, so parameters with large gradients are decayed less
    (chapter "Regularisation"). Default ``weight_decay=0.01``, as in PyTorch.
    """

    decoupled = True

    def __init__(self, parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(parameters, lr, beta1, beta2, eps, weight_decay)

    def update(self, i, param, grad):
        if self.weight_decay:
            param *= 1 - self.lr * self.weight_decay
        super().update(i, param, grad)


def clip_grad_norm(parameters, max_norm):
    """Scale all gradients together so that their global norm is at most ``max_norm``; return the norm before.

    ``parameters`` are ``(param, grad)`` pairs, ``model.parameters()``. The
    global norm is the length of all gradients taken as one long vector::

        norm = sqrt(sum over every grad of (grad ** 2).sum())

    When ``norm > max_norm``, every ``grad`` is multiplied in place by
    ``max_norm / norm``: the direction of the whole gradient is kept and only
    its length is capped (Pascanu et al., 2013). Call it between the backward
    pass and the optimizer's step::

        model.backward(loss.backward())
        clip_grad_norm(model.parameters(), max_norm=1.0)
        opt.step()
    """
    pairs = _pairs(parameters, "clip_grad_norm")
    max_norm = _number(max_norm, "max_norm", "clip_grad_norm", 0.0, math.inf)
    norm = math.sqrt(sum(float(np.vdot(grad, grad)) for _, grad in pairs))
    if norm > max_norm:
        scale = max_norm / norm
        for _, grad in pairs:
            grad *= scale
    return norm
