"""Numbers stated in book/two_layer_network.md, recomputed with companion."""

import numpy as np
import pytest

import companion

sigmoid = companion.Sigmoid().forward


def loss(x, U, a, V, b, t):
    return np.sum((sigmoid(V @ sigmoid(U @ x + a) + b) - t) ** 2)


def gradients(x, U, a, V, b, t):
    """The chapter's hand-derived gradients, column form (eq-two-numpy-layer2 and -layer1)."""
    y = sigmoid(U @ x + a)
    z = sigmoid(V @ y + b)
    delta = 2 * (z - t) * z * (1 - z)
    eps = (V.T @ delta) * y * (1 - y)
    return {"U": np.outer(eps, x), "a": eps, "V": np.outer(delta, y), "b": delta, "x": U.T @ eps, "t": -2 * (z - t)}


def chapter_network(seed=0, I=3, J=4, K=2):
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=I), rng.uniform(size=K)
    U, a = rng.normal(size=(J, I)), rng.normal(size=J)
    V, b = rng.normal(size=(K, J)), rng.normal(size=K)
    return dict(x=x, U=U, a=a, V=V, b=b, t=t), rng


def test_forward_values():
    p, _ = chapter_network()
    z = sigmoid(p["V"] @ sigmoid(p["U"] @ p["x"] + p["a"]) + p["b"])
    assert z.round(4).tolist() == [0.7713, 0.0973] and p["t"].round(4).tolist() == [0.0165, 0.8133]
    assert round(loss(**p), 6) == 1.082247


def test_index_form_equals_numpy_form_and_companion_nodes():
    p, _ = chapter_network()
    x, U, a, V, b, t = (p[k] for k in "xUaVbt")
    I, J, K = len(x), len(a), len(b)
    y = sigmoid(U @ x + a)
    z = sigmoid(V @ y + b)
    delta = [2 * (z[k] - t[k]) * z[k] * (1 - z[k]) for k in range(K)]
    dy = [sum(delta[k] * V[k, j] for k in range(K)) for j in range(J)]
    eps = [dy[j] * y[j] * (1 - y[j]) for j in range(J)]
    index = {"b": delta, "V": [[delta[k] * y[j] for j in range(J)] for k in range(K)],
             "a": eps, "U": [[eps[j] * x[i] for i in range(I)] for j in range(J)],
             "x": [sum(eps[j] * U[j, i] for j in range(J)) for i in range(I)], "t": [-2 * (z[k] - t[k]) for k in range(K)]}
    hand = gradients(**p)
    for name, grad in index.items():
        np.testing.assert_allclose(hand[name], grad, rtol=1e-14, atol=0)
    # the same chain of companion nodes the chapter's graph uses
    add1, sig1, add2, sig2, sub, sq = (companion.AddLayer(), companion.Sigmoid(), companion.AddLayer(),
                                       companion.Sigmoid(), companion.SubLayer(), companion.Square())
    e = sub.forward(sig2.forward(add2.forward(V @ sig1.forward(add1.forward(U @ x, a)), b)), t)
    assert np.sum(sq.forward(e)) == pytest.approx(loss(**p), rel=1e-15)
    de_, dt_ = sub.backward(sq.backward(np.ones(K)))
    dVy, db_ = add2.backward(sig2.backward(de_))
    dUx, da_ = add1.backward(sig1.backward(V.T @ dVy))
    for name, grad in [("b", db_), ("a", da_), ("t", dt_), ("x", U.T @ dUx), ("U", np.outer(dUx, x))]:
        np.testing.assert_allclose(grad, hand[name], rtol=1e-12)


def test_wrong_labels_give_wrong_shapes_at_the_chapter_sizes():
    p, _ = chapter_network()
    y = sigmoid(p["U"] @ p["x"] + p["a"])
    delta = gradients(**p)["b"]
    assert (p["V"] @ y).shape == (2,) and y.shape == (4,) and (p["V"].T @ delta).shape == (4,)
    with pytest.raises(ValueError):
        p["V"] @ delta


def test_wrong_labels_fail_the_gradient_check_with_square_layers():
    rng = np.random.default_rng(1)
    x3, t3 = rng.normal(size=3), rng.uniform(size=3)
    U3, a3 = rng.normal(size=(3, 3)), rng.normal(size=3)
    V3, b3 = rng.normal(size=(3, 3)), rng.normal(size=3)
    y3 = sigmoid(U3 @ x3 + a3)
    g3 = gradients(x3, U3, a3, V3, b3, t3)
    delta3, eps3 = g3["b"], g3["a"]
    loss_of_y = lambda y_: np.sum((sigmoid(V3 @ y_ + b3) - t3) ** 2)  # noqa: E731
    loss_of_x = lambda x_: loss(x_, U3, a3, V3, b3, t3)  # noqa: E731
    check = lambda f, point, grad: f"{companion.gradient_check(f, point, grad, verbose=False):.0e}"  # noqa: E731
    assert [check(loss_of_y, y3, c) for c in (delta3 * (V3 @ y3), V3 @ delta3, V3.T @ delta3, delta3 @ V3)] == \
        ["4e-01", "4e-01", "4e-11", "4e-11"]
    assert [check(loss_of_x, x3, c) for c in (U3 @ eps3, U3.T @ eps3, eps3 @ U3)] == ["1e+00", "2e-10", "2e-10"]
    # the exercise: a transposed outer product has the right shape and wrong values
    assert check(lambda v: loss(x3, v, a3, V3, b3, t3), U3, np.outer(x3, eps3)) == "2e-01"


def test_row_form_with_companion_linear_gives_transposed_gradients():
    p, rng = chapter_network()
    I, J, K = 3, 4, 2
    layer1, layer2 = companion.Linear(I, J, rng=0), companion.Linear(J, K, rng=0)
    layer1.W[...], layer1.b[...] = p["U"].T, p["a"]
    layer2.W[...], layer2.b[...] = p["V"].T, p["b"]
    net = companion.Sequential(layer1, companion.Sigmoid(), layer2, companion.Sigmoid())
    mse = companion.MSELoss()
    X, T = p["x"].reshape(1, I), p["t"].reshape(1, K)
    assert 2 * mse.forward(net.forward(X), T) == pytest.approx(loss(**p), rel=1e-14)
    dX = net.backward(2 * mse.backward())
    hand = gradients(**p)
    np.testing.assert_allclose(layer1.grad_W, hand["U"].T)
    np.testing.assert_allclose(layer2.grad_W, hand["V"].T)
    np.testing.assert_allclose(layer1.grad_b, hand["a"])
    np.testing.assert_allclose(layer2.grad_b, hand["b"])
    np.testing.assert_allclose(dX, hand["x"].reshape(1, I))
    np.testing.assert_allclose(hand["x"], hand["a"] @ p["U"])  # eps @ U == U.T @ eps
    # a minibatch: sum of per-sample outer products (the chapter continues the generator of the erratum cell)
    Xb, Tb = rng.normal(size=(5, I)), rng.uniform(size=(5, K))
    mse.forward(net.forward(Xb), Tb)
    net.backward(2 * len(Xb) * mse.backward())
    per_sample = [gradients(xs, p["U"], p["a"], p["V"], p["b"], ts) for xs, ts in zip(Xb, Tb)]
    np.testing.assert_allclose(layer1.grad_W, sum(g["U"] for g in per_sample).T)
    np.testing.assert_allclose(layer1.grad_b, sum(g["a"] for g in per_sample))


def checked_params(I=3, J=4, K=2):
    """The fresh random point of the chapter's section "Every gradient, checked numerically"."""
    rng = np.random.default_rng(2)
    return {"x": rng.normal(size=I), "t": rng.uniform(size=K), "U": rng.normal(size=(J, I)),
            "a": rng.normal(size=J), "V": rng.normal(size=(K, J)), "b": rng.normal(size=K)}


def test_every_gradient_matches_central_differences_below_1e_7():
    params = checked_params()
    hand = gradients(**params)
    errors = companion.gradient_errors(loss, params, hand)
    assert {k: f"{v:.0e}" for k, v in errors.items()} == \
        {"x": "4e-10", "t": "3e-12", "U": "2e-08", "a": "5e-09", "V": "9e-11", "b": "2e-10"}
    assert max(errors.values()) < 1e-7


def test_exercises():
    params = checked_params()
    hand = gradients(**params)
    # tanh in the hidden layer: only eps changes
    def tanh_loss(x, U, a, V, b, t):
        return np.sum((sigmoid(V @ np.tanh(U @ x + a) + b) - t) ** 2)

    y = np.tanh(params["U"] @ params["x"] + params["a"])
    z = sigmoid(params["V"] @ y + params["b"])
    delta = 2 * (z - params["t"]) * z * (1 - z)
    eps = (params["V"].T @ delta) * (1 - y ** 2)
    tanh_grads = {"U": np.outer(eps, params["x"]), "a": eps, "V": np.outer(delta, y), "b": delta,
                  "x": params["U"].T @ eps, "t": -2 * (z - params["t"])}
    worst = max(companion.gradient_errors(tanh_loss, params, tanh_grads).values())
    assert f"{worst:.0e}" == "2e-10"
    # total differential: the relative difference shrinks tenfold with tenfold smaller changes
    rng = np.random.default_rng(3)
    directions = {name: rng.normal(size=params[name].shape) for name in "UaVb"}
    differences = []
    for size in (1e-4, 1e-5):
        moved = {**params, **{n: params[n] + size * d for n, d in directions.items()}}
        actual = loss(**moved) - loss(**params)
        predicted = sum(np.sum(hand[n] * size * d) for n, d in directions.items())
        differences.append(abs(actual - predicted) / abs(actual))
    assert [f"{d:.0e}" for d in differences] == ["3e-03", "3e-04"]
    assert differences[0] / differences[1] == pytest.approx(10, rel=0.05)
    # nudging y^2 moves v along column 2 of V
    p, _ = chapter_network()
    y = sigmoid(p["U"] @ p["x"] + p["a"])
    nudged = y.copy()
    nudged[1] += 1e-6
    np.testing.assert_allclose((p["V"] @ nudged - p["V"] @ y) / 1e-6, p["V"][:, 1], rtol=1e-8)
