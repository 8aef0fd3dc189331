"""Numbers stated in book/minibatch_gradients.md, recomputed with companion."""

import numpy as np
import pytest

import companion

relu = companion.ReLU().forward
NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 1))
    return X, X ** 2 + 0.05 * rng.normal(size=(50, 1))


def make_network(seed, bias=0.1):
    init = np.random.default_rng(seed)
    layers = [companion.Linear(1, 2, rng=init), companion.Linear(2, 3, rng=init), companion.Linear(3, 1, rng=init)]
    for layer in layers:
        layer.b[...] = bias
    return companion.Sequential(layers[0], companion.ReLU(), layers[1], companion.ReLU(), layers[2], companion.Identity())


def params_of(net):
    return dict(zip(NAMES, (param.copy() for param, _ in net.parameters())))


def loss(X, y, W1, b1, W2, b2, W3, b3):
    Z3 = relu(relu(X @ W1 + b1) @ W2 + b2) @ W3 + b3
    return np.sum((Z3 - y) ** 2) / (2 * len(X))


def hand_gradients(X, y, W1, b1, W2, b2, W3, b3, relu_prime_of_U3=False):
    """The chapter's twelve backward lines; with the flag, the source's slip ReLU'(U3) for ReLU'(U2)."""
    n = len(X)
    U1 = X @ W1 + b1
    Z1 = relu(U1)
    U2 = Z1 @ W2 + b2
    Z2 = relu(U2)
    U3 = Z2 @ W3 + b3
    dU3 = (U3 - y) / n
    dZ2 = dU3 @ W3.T
    dU2 = dZ2 * ((U3 if relu_prime_of_U3 else U2) > 0)
    dU1 = (dU2 @ W2.T) * (U1 > 0)
    return {"W1": X.T @ dU1, "b1": dU1.sum(axis=0), "W2": Z1.T @ dU2, "b2": dU2.sum(axis=0),
            "W3": Z2.T @ dU3, "b3": dU3.sum(axis=0)}, {"U1": U1, "U2": U2, "U3": U3, "dU3": dU3, "dU1": dU1}


def errors_against_numerical(X, y, params, grads):
    return companion.gradient_errors(lambda **p: loss(X, y, **p), params, grads)


def test_initialisations_have_the_variances_the_chapter_states():
    he = companion.init.he_normal(400, 300, rng=0)
    xavier = companion.init.xavier_normal(400, 300, rng=0)
    assert he.var() == pytest.approx(2 / 400, rel=0.02)
    assert xavier.var() == pytest.approx(2 / (400 + 300), rel=0.02)


def test_data_and_initial_loss():
    X, y = data()
    assert X.shape == y.shape == (50, 1)
    assert X[:3, 0].round(3).tolist() == [0.274, -0.46, -0.918] and y[:3, 0].round(3).tolist() == [0.093, 0.152, 0.843]
    net = make_network(seed=2)
    assert round(companion.MSELoss().forward(net.forward(X), y), 6) == 0.047358
    assert round(loss(X, y, **params_of(net)), 6) == 0.047358
    assert companion.MSELoss().forward(np.array([[5.0], [4.0], [2.0]]), np.array([[10.0], [2.0], [3.0]])) == 5.0


def test_shapes_of_every_quantity():
    X, y = data()
    grads, inner = hand_gradients(X, y, **params_of(make_network(seed=2)))
    assert {k: v.shape for k, v in grads.items()} == {"W1": (1, 2), "b1": (2,), "W2": (2, 3), "b2": (3,), "W3": (3, 1),
                                                      "b3": (1,)}
    assert (inner["U1"].shape, inner["U2"].shape, inner["U3"].shape) == ((50, 2), (50, 3), (50, 1))


def test_hand_gradients_pass_and_equal_companions():
    X, y = data()
    net = make_network(seed=2)
    params = params_of(net)
    grads, inner = hand_gradients(X, y, **params)
    assert (f"{np.abs(inner['U1']).min():.4f}", f"{np.abs(inner['U2']).min():.4f}") == ("0.0015", "0.0080")
    errors = errors_against_numerical(X, y, params, grads)
    assert {k: f"{v:.0e}" for k, v in errors.items()} == \
        {"W1": "1e-11", "b1": "1e-12", "W2": "4e-11", "b2": "4e-12", "W3": "7e-12", "b3": "2e-12"}
    mse = companion.MSELoss()
    mse.forward(net.forward(X), y)
    net.backward(mse.backward())
    for name, (_, grad) in zip(NAMES, net.parameters()):
        np.testing.assert_allclose(grad, grads[name], rtol=1e-12, atol=1e-15)
    # index form with loops == matrix form, for the third layer
    Z2 = relu(inner["U2"])
    dU3 = inner["dU3"]
    loops = np.array([[sum(Z2[s, j] * dU3[s, 0] for s in range(50))] for j in range(3)])
    np.testing.assert_allclose(loops, grads["W3"])


def test_the_sources_slips_fail_the_check():
    X, y = data()
    params = params_of(make_network(seed=2))
    slip, inner = hand_gradients(X, y, **params, relu_prime_of_U3=True)
    errors = errors_against_numerical(X, y, params, slip)
    assert {k: f"{v:.0e}" for k, v in errors.items()} == \
        {"W1": "3e-01", "b1": "3e-01", "W2": "1e+00", "b2": "1e+00", "W3": "7e-12", "b3": "2e-12"}
    loss_of_b3 = lambda v: loss(X, y, **{**params, "b3": v})  # noqa: E731
    with pytest.raises(ValueError, match=r"^gradient_check: grad has shape \(50, 3\), expected x's shape \(1,\)$"):
        companion.gradient_check(loss_of_b3, params["b3"], inner["dU3"] @ params["W3"].T)
    assert f"{companion.gradient_check(loss_of_b3, params['b3'], inner['dU3'].sum(axis=0), verbose=False):.0e}" == "2e-12"


def train(net, X, y, steps, lr=0.2, scale=1.0):
    mse, history = companion.MSELoss(), []
    for _ in range(steps):
        history.append(mse.forward(net.forward(X), y))
        if not history[-1] < 1e12:
            break
        net.backward(mse.backward(scale))
        for param, grad in net.parameters():
            param -= lr * grad
    return history, mse.forward(net.forward(X), y)


def test_training_reaches_the_pinned_final_loss():
    X, y = data()
    history, final = train(make_network(seed=2), X, y, steps=2000)
    assert (f"{history[0]:.4f}", f"{final:.5f}") == ("0.0474", "0.00110")
    constant = np.sum((y - y.mean()) ** 2) / (2 * len(X))
    truth = np.sum((y - X ** 2) ** 2) / (2 * len(X))
    assert (f"{constant:.4f}", f"{truth:.5f}") == ("0.0522", "0.00127")
    assert final < truth  # "slightly below the loss of the true function"
    assert history[0] - history[100] > history[100] - final  # falls quickly in the first hundred steps, then slowly


def test_exercises():
    X, y = data()
    params = params_of(make_network(seed=2))
    grads, inner = hand_gradients(X, y, **params)
    dX = inner["dU1"] @ params["W1"].T
    numeric = companion.numerical_gradient(lambda v: loss(v, y, **params), X)
    assert f"{companion.relative_error(dX, numeric):.0e}" == "2e-07"
    assert f"{np.abs(dX - numeric).max() / np.abs(numeric).max():.0e}" == "1e-10"
    assert (f"{np.abs(dX).min():.0e}", f"{np.abs(dX).max():.0e}") == ("6e-07", "6e-03")
    # the source's one-sample Linear: meshgrid gives the transposed gradient
    rng = np.random.default_rng(4)
    rng.normal(size=(3, 2)), rng.normal(size=2)
    x1, d1 = rng.normal(size=3), rng.normal(size=2)
    grad_w = np.multiply(*np.meshgrid(x1, d1))
    assert grad_w.shape == (2, 3) and np.allclose(grad_w, np.outer(x1, d1).T)
    assert np.multiply(*np.meshgrid(np.ones((5, 3)), np.ones((5, 2)))).shape == (10, 15)
    # zero biases at seed 7: U2 sits exactly on the kink and b2's check fails
    net = make_network(seed=7, bias=0.0)
    zero = params_of(net)
    U2 = relu(X @ zero["W1"]) @ zero["W2"]
    assert zero["W1"].round(3).tolist() == [[0.002, 0.422]] and int(np.sum(U2 == 0)) == 63 and U2.size == 150
    mse = companion.MSELoss()
    mse.forward(net.forward(X), y)
    net.backward(mse.backward())
    errors = errors_against_numerical(X, y, zero, dict(zip(NAMES, (g for _, g in net.parameters()))))
    assert f"{errors['b2']:.0e}" == "1e+00" and max(v for k, v in errors.items() if k != "b2") < 1e-7


def test_seed_survey_and_learning_rate_conventions():
    X, y = data()
    constant = np.sum((y - y.mean()) ** 2) / (2 * len(X))
    finals = [train(make_network(seed), X, y, steps=1000)[1] for seed in range(10)]
    assert [f"{f:.4f}" for f in finals] == ["0.0521", "0.0019", "0.0012", "0.0522", "0.0021", "0.0015", "0.0023",
                                            "0.0021", "0.0522", "0.0023"]
    assert sum(abs(f - constant) < 1e-3 for f in finals) == 3
    # two ways to get stuck: seeds 3 and 8 have no active unit in layer 2; seed 0 keeps one unit per layer,
    # active on every sample, so the network is affine in x and the best line through x**2 is nearly flat
    for seed, some, every in [(0, [1, 1], [1, 1]), (3, [2, 0], [0, 0]), (8, [2, 0], [0, 0])]:
        net = make_network(seed)
        train(net, X, y, steps=1000)
        Z1 = net[1].forward(net[0].forward(X))
        Z2 = net[3].forward(net[2].forward(Z1))
        assert [int((Z > 0).any(axis=0).sum()) for Z in (Z1, Z2)] == some
        assert [int((Z > 0).all(axis=0).sum()) for Z in (Z1, Z2)] == every
    design = np.hstack([X, np.ones_like(X)])
    line = np.linalg.lstsq(design, y, rcond=None)[0]
    affine = np.sum((design @ line - y) ** 2) / (2 * len(X))
    assert (f"{line[0, 0]:.2f}", f"{affine:.4f}", f"{constant:.4f}") == ("-0.02", "0.0521", "0.0522")
    assert f"{finals[0]:.4f}" == f"{affine:.4f}"  # seed 0 ends at the best affine fit
    net_a, net_b = make_network(seed=2), make_network(seed=2)
    _, final_a = train(net_a, X, y, steps=100)
    _, final_b = train(net_b, X, y, steps=100, lr=0.2 / 50, scale=50)
    assert f"{final_a:.5f}" == f"{final_b:.5f}" == "0.00291"
    assert all(np.allclose(p, q, rtol=1e-12) for (p, _), (q, _) in zip(net_a.parameters(), net_b.parameters()))
    history, _ = train(make_network(seed=2), X, y, steps=100, scale=50)
    assert len(history) - 1 == 8  # diverged at step 8
