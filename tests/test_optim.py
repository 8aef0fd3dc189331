"""companion.optim: each update rule against its formula, convergence on a bowl, and errors."""

import numpy as np
import pytest

import companion
from companion import SGD, AdaGrad, Adam, Momentum, RMSProp


def bowl_pair(start=(-7.0, 2.0)):
    """A parameter for f(x, y) = x**2/20 + y**2 and a function that refreshes its gradient."""
    param = np.array(start)
    grad = np.zeros(2)

    def refresh():
        grad[...] = [param[0] / 10, 2 * param[1]]
        return param[0] ** 2 / 20 + param[1] ** 2

    return param, grad, refresh


def test_each_rule_matches_its_formula_over_three_steps():
    g_seq = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    cases = {
        "SGD": (lambda p: SGD(p, lr=0.1), None),
        "Momentum": (lambda p: Momentum(p, lr=0.1, momentum=0.9), None),
        "AdaGrad": (lambda p: AdaGrad(p, lr=0.1), None),
        "RMSProp": (lambda p: RMSProp(p, lr=0.1, rho=0.9), None),
        "Adam": (lambda p: Adam(p, lr=0.1), None),
    }
    for name, (make, _) in cases.items():
        param, grad = np.array([1.0, 1.0]), np.zeros(2)
        opt = make([(param, grad)])
        expected = np.array([1.0, 1.0])
        v = np.zeros(2)
        h = np.zeros(2)
        m = np.zeros(2)
        for t, g in enumerate(g_seq, start=1):
            grad[...] = g
            opt.step()
            if name == "SGD":
                expected = expected - 0.1 * g
            elif name == "Momentum":
                v = 0.9 * v - 0.1 * g
                expected = expected + v
            elif name == "AdaGrad":
                h = h + g * g
                expected = expected - 0.1 * g / (np.sqrt(h) + 1e-8)
            elif name == "RMSProp":
                h = 0.9 * h + 0.1 * g * g
                expected = expected - 0.1 * g / (np.sqrt(h) + 1e-8)
            else:
                m = 0.9 * m + 0.1 * g
                h = 0.999 * h + 0.001 * g * g
                expected = expected - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(h / (1 - 0.999 ** t)) + 1e-8)
            np.testing.assert_allclose(param, expected, rtol=1e-12, err_msg=name)


def test_adams_first_step_moves_every_entry_by_lr_thanks_to_bias_correction():
    param, grad = np.zeros(3), np.array([1e-3, -5.0, 200.0])
    Adam([(param, grad)], lr=0.01).step()
    np.testing.assert_allclose(param, [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("make, steps", [
    (lambda p: SGD(p, lr=0.95), 200), (lambda p: Momentum(p, lr=0.1), 200), (lambda p: AdaGrad(p, lr=1.5), 200),
    (lambda p: RMSProp(p, lr=0.1), 400), (lambda p: Adam(p, lr=0.3), 300),
], ids=["SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"])
def test_every_optimizer_finds_the_bottom_of_the_bowl(make, steps):
    param, grad, refresh = bowl_pair()
    opt = make([(param, grad)])
    for _ in range(steps):
        refresh()
        opt.step()
    assert refresh() < 1e-2


def test_state_is_kept_per_parameter_and_params_change_in_place():
    model = companion.Sequential(companion.Linear(3, 4, rng=0), companion.ReLU(), companion.Linear(4, 2, rng=1))
    W0 = model[0].W
    opt = Momentum(model.parameters(), lr=0.1)
    assert [v.shape for v in opt.v] == [(3, 4), (4,), (4, 2), (2,)]
    model[0].grad_W[...] = 1.0
    opt.step()
    assert model[0].W is W0 and opt.steps == 1
    np.testing.assert_allclose(opt.v[0], -0.1)
    np.testing.assert_allclose(opt.v[2], 0.0)
    assert repr(opt) == "Momentum(lr=0.1, 4 parameter arrays)"


def test_errors():
    model = companion.Sequential(companion.Linear(2, 2, rng=0))
    with pytest.raises(TypeError, match="SGD: got the model itself; pass model.parameters()"):
        SGD(model)
    with pytest.raises(ValueError, match="Adam: got no parameters"):
        Adam([])
    with pytest.raises(TypeError, match="SGD: expected a list of \\(param, grad\\) pairs"):
        SGD(3)
    with pytest.raises(TypeError, match="parameter pair 0 is not a \\(param, grad\\) pair of numpy arrays"):
        SGD([(np.zeros(2),)])
    with pytest.raises(ValueError, match=r"parameter pair 0 has param float64 \(2,\) and grad \(3,\)"):
        SGD([(np.zeros(2), np.zeros(3))])
    with pytest.raises(ValueError, match="expected a float64 param"):
        SGD([(np.zeros(2, dtype=int), np.zeros(2, dtype=int))])
    with pytest.raises(ValueError, match=r"SGD: learning rate lr must be a number in \(0, inf\), got -0.1"):
        SGD(model.parameters(), lr=-0.1)
    with pytest.raises(ValueError, match="learning rate lr must be a number.*got 'fast'"):
        SGD(model.parameters(), lr="fast")
    with pytest.raises(ValueError, match=r"Momentum: momentum must be a number in \[0, 1\), got 1.0"):
        Momentum(model.parameters(), momentum=1.0)
    with pytest.raises(ValueError, match=r"Adam: beta2 must be a number in \[0, 1\)"):
        Adam(model.parameters(), beta2=1.5)
    with pytest.raises(ValueError, match=r"RMSProp: eps must be a number in \(0, inf\)"):
        RMSProp(model.parameters(), eps=0)
    with pytest.raises(ValueError, match=r"AdaGrad: eps must be a number"):
        AdaGrad(model.parameters(), eps=float("nan"))
    with pytest.raises(NotImplementedError):
        companion.Optimizer(model.parameters(), lr=0.1).step()
