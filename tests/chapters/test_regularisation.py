"""Numbers stated in book/regularisation.md, recomputed with companion."""

import numpy as np
import pytest

import companion
from companion import SGD, Adam, AdamW, Dropout, Momentum, fit, mlp
from companion.datasets import split

SIZES = [64, 256, 128, 10]


def two_weights(Optimizer, weight_decay, steps=200):
    busy_gradient = 10 * (-1.0) ** np.arange(steps)
    quiet, busy, qg, bg = np.array([1.0]), np.array([1.0]), np.zeros(1), np.zeros(1)
    opt = Optimizer([(quiet, qg), (busy, bg)], lr=0.01, weight_decay=weight_decay)
    for step in range(steps):
        bg[...] = busy_gradient[step]
        opt.step()
    return quiet[0], busy[0]


def test_adam_l2_against_adamw():
    ratios = {}
    for Optimizer in (Adam, AdamW):
        quiet, busy = two_weights(Optimizer, 0.1)
        quiet_0, busy_0 = two_weights(Optimizer, 0.0)
        ratios[Optimizer.__name__] = (round(quiet / quiet_0, 4), round(busy / busy_0, 4))
    assert ratios == {"Adam": (0.0156, 0.9803), "AdamW": (0.8186, 0.8186)}
    assert round((1 - 0.001) ** 200, 4) == 0.8186 and round((1 - 0.0001) ** 200, 4) == 0.9802
    assert [round(two_weights(Adam, lam)[0], 4) for lam in (0.01, 0.1)] == [0.0156, 0.0156]
    assert [round(two_weights(AdamW, lam)[0], 4) for lam in (0.01, 0.1)] == [0.9802, 0.8186]


def test_the_two_shares_of_a_decayed_weight():
    from companion import Tensor
    w = Tensor(0.8)
    error = w * Tensor(2.0, requires_grad=False) - Tensor(1.0, requires_grad=False)
    (0.5 * error ** 2 + Tensor(0.25, requires_grad=False) * w ** 2).backward()
    assert round(float(w.grad), 12) == 1.6 == round((2 * 0.8 - 1) * 2 + 0.5 * 0.8, 12)
    assert round(0.5 * 0.6 ** 2 + 0.25 * 0.64, 12) == 0.34


def test_dropout_examples():
    drop = Dropout(0.5, rng=0)
    y = drop.forward(np.arange(1.0, 9.0).reshape(2, 4))
    assert drop.mask.tolist() == [[2, 0, 0, 0], [2, 2, 2, 2]] and y.tolist() == [[2, 0, 0, 0], [10, 12, 14, 16]]
    drop = Dropout(0.3, rng=1)
    ones = np.ones((1000, 100))
    assert f"{np.mean(drop.forward(ones) == 0):.4f}" == "0.3003" and f"{drop.forward(ones).mean():.4f}" == "0.9999"
    assert f"{companion.check_layer(Dropout(0.5, rng=2), verbose=False).max_error:.0e}" == "3e-09"


@pytest.fixture(scope="module")
def small():
    (x_train, t_train), _ = companion.load_digits()
    (x_fit, t_fit), (x_val, t_val) = split(x_train, t_train, test_fraction=0.2, rng=1)
    return x_fit[:100], t_fit[:100], x_val, t_val


def test_the_small_subset_experiment(small):
    x_small, t_small, x_val, t_val = small
    assert np.bincount(t_small).tolist() == [12, 8, 8, 13, 12, 14, 9, 12, 4, 8] and len(x_val) == 287
    methods = {"none": {}, "dropout": dict(dropout=0.2), "decay": dict(weight_decay=2e-3)}
    accuracy, val_loss, seed0 = {}, {}, {}
    for name, method in methods.items():
        for seed in (0, 1, 2):
            model = mlp(SIZES, dropout=method.get("dropout", 0.0), rng=seed)
            opt = Momentum(model.parameters(), lr=0.05, weight_decay=method.get("weight_decay", 0.0))
            history = fit(model, x_small, t_small, optimizer=opt, epochs=200, batch_size=32, rng=seed,
                          validation=(x_val, t_val), progress=False)
            accuracy[name, seed] = history["val_accuracy"][-1]
            val_loss[name, seed] = round(history["val_loss"][-1], 3)
            if seed == 0:
                seed0[name] = history
    assert [round(accuracy["none", s], 3) for s in range(3)] == [0.882, 0.892, 0.861]
    assert [round(accuracy["dropout", s], 3) for s in range(3)] == [0.913, 0.885, 0.878]
    assert [round(accuracy["decay", s], 3) for s in range(3)] == [0.889, 0.895, 0.864]
    assert round(np.mean([accuracy["dropout", s] for s in range(3)]), 3) == 0.892
    assert [val_loss["none", s] for s in range(3)] == [0.439, 0.488, 0.573]
    assert [val_loss["decay", s] for s in range(3)] == [0.329, 0.341, 0.375]
    assert all(val_loss["decay", s] < val_loss["none", s] for s in range(3))
    changes = {m: [100 * (accuracy[m, s] - accuracy["none", s]) for s in range(3)] for m in ("dropout", "decay")}
    assert [round(c, 1) for c in changes["dropout"]] == [3.1, -0.7, 1.7]
    assert [round(c, 1) for c in changes["decay"]] == [0.7, 0.3, 0.3]
    assert round(np.mean(changes["dropout"]), 1) == 1.4 and round(np.mean(changes["decay"]), 1) == 0.5
    assert round(287 * (accuracy["dropout", 0] - accuracy["none", 0])) == 9
    assert [round(287 * c / 100) for c in changes["decay"]] == [2, 1, 1]
    none = seed0["none"]
    assert max(none["loss"][24:]) < 0.01 and min(none["accuracy"][24:]) == 1.0
    assert (round(min(none["val_loss"]), 2), int(np.argmin(none["val_loss"])) + 1) == (0.39, 14)
    assert round(none["val_loss"][-1], 2) == 0.44


def test_exercises(small):
    x_small, t_small, x_val, t_val = small
    assert companion.checks.ANSWERS["ex-reg-decay"].expected() == pytest.approx(
        {"per_step": 0.999, "after_100": 0.999 ** 100}, rel=1e-12)
    assert f"{0.999 ** 100:.6f}" == "0.904792" and f"{np.exp(-0.1):.6f}" == "0.904837"
    final = {}
    for rate in (0.0, 0.2, 0.5, 0.8):
        model = mlp(SIZES, dropout=rate, rng=0)
        history = fit(model, x_small, t_small, optimizer=Momentum(model.parameters(), lr=0.05), epochs=100,
                      batch_size=32, rng=0, validation=(x_val, t_val), progress=False)
        final[rate] = (round(history["accuracy"][-1], 3), round(history["val_accuracy"][-1], 3))
    assert final == {0.0: (1.0, 0.882), 0.2: (0.99, 0.899), 0.5: (0.82, 0.77), 0.8: (0.12, 0.098)}
