"""companion.optim: each update rule against its formula, convergence on a bowl, and errors."""

import numpy as np
import pytest

import companion
from companion import SGD, AdaGrad, Adam, AdamW, Momentum, RMSProp, clip_grad_norm


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


# --- weight decay, AdamW, clipping (chapter "Regularisation" and "Initialisation and the depth problem") ---


@pytest.mark.parametrize("Opt", [SGD, Momentum, AdaGrad, RMSProp, Adam], ids=lambda c: c.__name__)
def test_weight_decay_is_the_gradient_of_an_l2_term_and_leaves_the_models_grad_alone(Opt):
    g_seq = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    decayed_param, decayed_grad = np.array([1.0, -1.0]), np.zeros(2)
    plain_param, plain_grad = decayed_param.copy(), np.zeros(2)
    decayed = Opt([(decayed_param, decayed_grad)], lr=0.1, weight_decay=0.3)
    plain = Opt([(plain_param, plain_grad)], lr=0.1)
    for g in g_seq:
        decayed_grad[...] = g
        plain_grad[...] = g + 0.3 * plain_param      # the L2 term's gradient, added by hand
        decayed.step()
        plain.step()
        np.testing.assert_array_equal(decayed_grad, g)  # the model's gradient is not changed
        np.testing.assert_allclose(decayed_param, plain_param, rtol=1e-14)
    assert repr(decayed).endswith("weight_decay=0.3, 1 parameter arrays)")


def test_adamw_shrinks_then_takes_adams_step_on_the_loss_gradient_alone():
    g_seq = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    param, grad = np.array([1.0, -1.0]), np.zeros(2)
    opt = AdamW([(param, grad)], lr=0.1, weight_decay=0.5)
    expected, m, v = param.copy(), np.zeros(2), np.zeros(2)
    for t, g in enumerate(g_seq, start=1):
        grad[...] = g
        opt.step()
        expected = expected * (1 - 0.1 * 0.5)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected = expected - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        np.testing.assert_allclose(param, expected, rtol=1e-14)
    assert AdamW([(np.zeros(1), np.zeros(1))]).weight_decay == 0.01


def test_adamw_without_decay_is_adam_and_with_a_zero_gradient_decays_geometrically():
    a, b, grad = np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.3, -0.2])
    adamw, adam = AdamW([(a, grad)], lr=0.01, weight_decay=0.0), Adam([(b, grad)], lr=0.01)
    for _ in range(5):
        adamw.step()
        adam.step()
    np.testing.assert_array_equal(a, b)
    p, zero = np.array([1.0]), np.zeros(1)
    AdamW([(p, zero)], lr=0.1, weight_decay=0.2).step()
    np.testing.assert_allclose(p, [0.98], rtol=1e-15)


def test_clip_grad_norm_caps_the_global_norm_and_keeps_the_direction():
    g1, g2 = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])
    pairs = [(np.zeros(2), g1), (np.zeros((2, 1)), g2)]
    assert clip_grad_norm(pairs, max_norm=10.0) == 5.0
    np.testing.assert_array_equal(g1, [3.0, 0.0])            # below the cap: unchanged
    assert clip_grad_norm(pairs, max_norm=1.0) == 5.0        # the norm before clipping
    np.testing.assert_allclose(g1, [0.6, 0.0], rtol=1e-15)   # scaled in place by 1/5
    np.testing.assert_allclose(g2, [[0.0], [0.8]], rtol=1e-15)
    assert clip_grad_norm(pairs, max_norm=1.0) == pytest.approx(1.0, rel=1e-15)


def test_weight_decay_and_clipping_errors():
    model = companion.Sequential(companion.Linear(2, 2, rng=0))
    with pytest.raises(ValueError, match=r"^SGD: weight_decay must be a number in \[0, inf\), got -1.0$"):
        SGD(model.parameters(), weight_decay=-1.0)
    with pytest.raises(ValueError, match=r"^AdamW: beta1 must be a number in \[0, 1\), got 1.0$"):
        AdamW(model.parameters(), beta1=1.0)
    with pytest.raises(ValueError, match=r"^clip_grad_norm: max_norm must be a number in \(0, inf\), got 0.0$"):
        clip_grad_norm(model.parameters(), max_norm=0)
    with pytest.raises(TypeError, match="^clip_grad_norm: got the model itself; pass model.parameters()"):
        clip_grad_norm(model, max_norm=1.0)
