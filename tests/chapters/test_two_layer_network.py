"""Numbers stated in book/two_layer_network.md, recomputed with companion."""

import numpy as np
import pytest

import companion

sigmoid = companion.Sigmoid().forward


def loss(x, W1, b1, W2, b2, t):
    return np.sum((sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2) - t) ** 2)


def gradients(x, W1, b1, W2, b2, t):
    """The chapter's hand-derived gradients, one sample as a row (eq-two-numpy-layer2 and -layer1)."""
    z1 = sigmoid(x @ W1 + b1)
    z2 = sigmoid(z1 @ W2 + b2)
    delta2 = 2 * (z2 - t) * z2 * (1 - z2)
    delta1 = (delta2 @ W2.T) * z1 * (1 - z1)
    return {"W1": np.outer(x, delta1), "b1": delta1, "W2": np.outer(z1, delta2), "b2": delta2,
            "x": delta1 @ W1.T, "t": -2 * (z2 - t)}


def chapter_network(seed=0, d0=3, d1=4, d2=2):
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=d0), rng.uniform(size=d2)
    W1, b1 = rng.normal(size=(d0, d1)), rng.normal(size=d1)
    W2, b2 = rng.normal(size=(d1, d2)), rng.normal(size=d2)
    return dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2, t=t), rng


def test_forward_values():
    p, _ = chapter_network()
    z2 = sigmoid(sigmoid(p["x"] @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])
    assert z2.round(4).tolist() == [0.6559, 0.1714] and p["t"].round(4).tolist() == [0.0165, 0.8133]
    assert round(loss(**p), 6) == 0.820772


def test_index_form_equals_numpy_form_and_companion_nodes():
    p, _ = chapter_network()
    x, W1, b1, W2, b2, t = (p[k] for k in ("x", "W1", "b1", "W2", "b2", "t"))
    d0, d1, d2 = len(x), len(b1), len(b2)
    z1 = sigmoid(x @ W1 + b1)
    z2 = sigmoid(z1 @ W2 + b2)
    delta2 = [2 * (z2[q] - t[q]) * z2[q] * (1 - z2[q]) for q in range(d2)]
    dz1 = [sum(delta2[q] * W2[j, q] for q in range(d2)) for j in range(d1)]
    delta1 = [dz1[j] * z1[j] * (1 - z1[j]) for j in range(d1)]
    index = {"b2": delta2, "W2": [[z1[j] * delta2[q] for q in range(d2)] for j in range(d1)],
             "b1": delta1, "W1": [[x[l] * delta1[j] for j in range(d1)] for l in range(d0)],
             "x": [sum(delta1[j] * W1[l, j] for j in range(d1)) for l in range(d0)],
             "t": [-2 * (z2[q] - t[q]) for q in range(d2)]}
    hand = gradients(**p)
    for name, grad in index.items():
        np.testing.assert_allclose(hand[name], grad, rtol=1e-14, atol=0)
    # the same chain of companion nodes the chapter's graph uses
    add1, sig1, add2, sig2, sub, sq = (companion.AddLayer(), companion.Sigmoid(), companion.AddLayer(),
                                       companion.Sigmoid(), companion.SubLayer(), companion.Square())
    e = sub.forward(sig2.forward(add2.forward(sig1.forward(add1.forward(x @ W1, b1)) @ W2, b2)), t)
    assert np.sum(sq.forward(e)) == pytest.approx(loss(**p), rel=1e-15)
    de_, dt_ = sub.backward(sq.backward(np.ones(d2)))
    dz1W2, db2_ = add2.backward(sig2.backward(de_))
    dxW1, db1_ = add1.backward(sig1.backward(dz1W2 @ W2.T))
    for name, grad in [("b2", db2_), ("b1", db1_), ("t", dt_), ("x", dxW1 @ W1.T), ("W1", np.outer(x, dxW1))]:
        np.testing.assert_allclose(grad, hand[name], rtol=1e-12)


def test_the_notes_label_gives_wrong_shapes_at_the_chapter_sizes():
    p, _ = chapter_network()
    z1 = sigmoid(p["x"] @ p["W1"] + p["b1"])
    delta2 = gradients(**p)["b2"]
    assert (z1 @ p["W2"]).shape == (2,) and z1.shape == (4,) and (delta2 @ p["W2"].T).shape == (4,)
    with pytest.raises(ValueError):
        delta2 @ p["W2"]


def test_the_notes_labels_fail_the_gradient_check_with_square_layers():
    rng = np.random.default_rng(1)
    x3, t3 = rng.normal(size=3), rng.uniform(size=3)
    W1, b1 = rng.normal(size=(3, 3)), rng.normal(size=3)
    W2, b2 = rng.normal(size=(3, 3)), rng.normal(size=3)
    z1 = sigmoid(x3 @ W1 + b1)
    g3 = gradients(x3, W1, b1, W2, b2, t3)
    delta2, delta1 = g3["b2"], g3["b1"]
    loss_of_z1 = lambda z: np.sum((sigmoid(z @ W2 + b2) - t3) ** 2)  # noqa: E731
    loss_of_x = lambda v: loss(v, W1, b1, W2, b2, t3)  # noqa: E731
    check = lambda f, point, grad: f"{companion.gradient_check(f, point, grad, verbose=False):.0e}"  # noqa: E731
    assert [check(loss_of_z1, z1, c) for c in (delta2 * (z1 @ W2), delta2 @ W2, W2 @ delta2, delta2 @ W2.T)] == \
        ["1e+00", "1e+00", "7e-11", "7e-11"]
    assert [check(loss_of_x, x3, c) for c in (W1.T @ delta1, W1 @ delta1, delta1 @ W1.T)] == \
        ["1e+00", "1e-10", "1e-10"]
    # the exercise: a transposed outer product has the right shape and wrong values
    assert check(lambda v: loss(x3, v, b1, W2, b2, t3), W1, np.outer(delta1, x3)) == "4e-01"


def test_minibatch_with_companion_linear_gives_the_same_gradients():
    p, _ = chapter_network()
    d0, d1, d2 = 3, 4, 2
    layer1, layer2 = companion.Linear(d0, d1, rng=0), companion.Linear(d1, d2, rng=0)
    layer1.W[...], layer1.b[...] = p["W1"], p["b1"]
    layer2.W[...], layer2.b[...] = p["W2"], p["b2"]
    net = companion.Sequential(layer1, companion.Sigmoid(), layer2, companion.Sigmoid())
    mse = companion.MSELoss()
    X, T = p["x"].reshape(1, d0), p["t"].reshape(1, d2)
    assert 2 * mse.forward(net.forward(X), T) == pytest.approx(loss(**p), rel=1e-14)
    dX = net.backward(2 * mse.backward())
    hand = gradients(**p)
    for layer, k in ((layer1, "1"), (layer2, "2")):
        np.testing.assert_allclose(layer.grad_W, hand["W" + k])
        np.testing.assert_allclose(layer.grad_b, hand["b" + k])
    np.testing.assert_allclose(dX, hand["x"].reshape(1, d0))
    # the note's column form: its U is W1.T, and U.T @ delta == delta @ U.T.T
    U = p["W1"].T
    np.testing.assert_allclose(U.T @ hand["b1"], hand["x"])
    # a minibatch: the chapter continues the generator of the square-layer cell (seed 1)
    rng = np.random.default_rng(1)
    rng.normal(size=3), rng.uniform(size=3), rng.normal(size=(3, 3)), rng.normal(size=3)
    rng.normal(size=(3, 3)), rng.normal(size=3)
    Xb, Tb = rng.normal(size=(5, d0)), rng.uniform(size=(5, d2))
    mse.forward(net.forward(Xb), Tb)
    net.backward(2 * len(Xb) * mse.backward())
    per_sample = [gradients(xs, p["W1"], p["b1"], p["W2"], p["b2"], ts) for xs, ts in zip(Xb, Tb)]
    np.testing.assert_allclose(layer1.grad_W, sum(g["W1"] for g in per_sample))
    np.testing.assert_allclose(layer1.grad_b, sum(g["b1"] for g in per_sample))


def checked_params(d0=3, d1=4, d2=2):
    """The fresh random point of the chapter's section "Every gradient, checked numerically"."""
    rng = np.random.default_rng(2)
    return {"x": rng.normal(size=d0), "t": rng.uniform(size=d2), "W1": rng.normal(size=(d0, d1)),
            "b1": rng.normal(size=d1), "W2": rng.normal(size=(d1, d2)), "b2": rng.normal(size=d2)}


def test_every_gradient_matches_central_differences_below_1e_7():
    params = checked_params()
    errors = companion.gradient_errors(loss, params, gradients(**params))
    assert {k: f"{v:.0e}" for k, v in errors.items()} == \
        {"W1": "3e-10", "b1": "9e-11", "W2": "6e-11", "b2": "1e-10", "x": "4e-11", "t": "2e-12"}
    assert max(errors.values()) < 1e-7


def test_exercises():
    params = checked_params()
    hand = gradients(**params)

    # tanh in the hidden layer: only delta1 changes
    def tanh_loss(x, W1, b1, W2, b2, t):
        return np.sum((sigmoid(np.tanh(x @ W1 + b1) @ W2 + b2) - t) ** 2)

    z1 = np.tanh(params["x"] @ params["W1"] + params["b1"])
    z2 = sigmoid(z1 @ params["W2"] + params["b2"])
    delta2 = 2 * (z2 - params["t"]) * z2 * (1 - z2)
    delta1 = (delta2 @ params["W2"].T) * (1 - z1 ** 2)
    tanh_grads = {"W1": np.outer(params["x"], delta1), "b1": delta1, "W2": np.outer(z1, delta2), "b2": delta2,
                  "x": delta1 @ params["W1"].T, "t": -2 * (z2 - params["t"])}
    worst = max(companion.gradient_errors(tanh_loss, params, tanh_grads).values())
    assert f"{worst:.0e}" == "3e-10"
    # total differential: the relative difference shrinks tenfold with tenfold smaller changes
    rng = np.random.default_rng(3)
    directions = {name: rng.normal(size=params[name].shape) for name in ("W1", "b1", "W2", "b2")}
    differences = []
    for size in (1e-4, 1e-5):
        moved = {**params, **{n: params[n] + size * d for n, d in directions.items()}}
        actual = loss(**moved) - loss(**params)
        predicted = sum(np.sum(hand[n] * size * d) for n, d in directions.items())
        differences.append(abs(actual - predicted) / abs(actual))
    assert [f"{d:.0e}" for d in differences] == ["4e-04", "4e-05"]
    assert differences[0] / differences[1] == pytest.approx(10, rel=0.05)
    # nudging z1[1] moves u2 along row 1 of W2
    p, _ = chapter_network()
    z1 = sigmoid(p["x"] @ p["W1"] + p["b1"])
    nudged = z1.copy()
    nudged[1] += 1e-6
    np.testing.assert_allclose((nudged @ p["W2"] - z1 @ p["W2"]) / 1e-6, p["W2"][1], rtol=1e-8)
