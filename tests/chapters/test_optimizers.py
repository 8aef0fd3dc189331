"""Numbers stated in book/optimizers.md, recomputed with companion."""

import numpy as np
import pytest

from companion import (SGD, AdaGrad, Adam, Linear, Momentum, ReLU, RMSProp, Sequential, SoftmaxCrossEntropy, evaluate,
                       fit, load_digits)
from companion.optim import Optimizer


def bowl(p):
    return p[0] ** 2 / 20 + p[1] ** 2


def bowl_path(make, steps=30, start=(-7.0, 2.0)):
    param, grad = np.array(start), np.zeros(2)
    opt = make([(param, grad)])
    path = [param.copy()]
    for _ in range(steps):
        grad[...] = [param[0] / 10, 2 * param[1]]
        opt.step()
        path.append(param.copy())
    return np.array(path)


def test_sgd_on_the_bowl():
    assert 2 / (1 / 10) == 20  # curvature ratio of the bowl
    path = bowl_path(lambda p: SGD(p, lr=0.95))
    assert list(path[:5, 1].round(3)) == [2.0, -1.8, 1.62, -1.458, 1.312]  # factor 1 - 2 * 0.95 = -0.9
    assert round(1 - 0.95 / 10, 3) == 0.905
    assert round(path[-1, 0], 3) == -0.35 == round(-7 * 0.905 ** 30, 3)
    assert round(1 - abs(path[-1, 0]) / 7, 2) == 0.95
    assert abs(bowl_path(lambda p: SGD(p, lr=1.01), steps=100)[-1, 1]) > 2  # diverges above lr = 1
    assert abs(bowl_path(lambda p: SGD(p, lr=0.99), steps=100)[-1, 1]) < 2


def test_momentum_amplification_and_first_steps_of_adaptive_methods():
    assert 1 / (1 - 0.9) == pytest.approx(10)
    first = np.diff(bowl_path(lambda p: AdaGrad(p, lr=1.5), steps=1), axis=0)[0]
    np.testing.assert_allclose(first, [1.5, -1.5], rtol=1e-7)
    adam = bowl_path(lambda p: Adam(p, lr=0.3), steps=1)
    np.testing.assert_allclose(adam[1], [-6.7, 1.7], rtol=1e-8)
    assert 4 / 0.7 > 5  # gradient at (-7, 2) is (-0.7, 4)


def test_five_paths_end_where_the_chapter_says():
    ends = {
        "SGD": bowl(bowl_path(lambda p: SGD(p, lr=0.95))[-1]),
        "Momentum": bowl(bowl_path(lambda p: Momentum(p, lr=0.1))[-1]),
        "AdaGrad": bowl(bowl_path(lambda p: AdaGrad(p, lr=1.5))[-1]),
        "RMSProp": bowl(bowl_path(lambda p: RMSProp(p, lr=0.3))[-1]),
        "Adam": bowl(bowl_path(lambda p: Adam(p, lr=0.3))[-1]),
    }
    assert min(ends, key=ends.get) == "AdaGrad"  # "on the bowl AdaGrad's shrinking steps happen to do no harm"
    assert all(f < 0.11 for f in ends.values())


def train_digits(opt_factory):
    (x_train, t_train), (x_test, t_test) = load_digits()
    model = Sequential(Linear(64, 100, rng=0), ReLU(), Linear(100, 10, rng=1))
    history = fit(model, x_train, t_train, optimizer=opt_factory(model.parameters()), epochs=10, batch_size=32,
                  rng=0, progress=False)
    return history["loss"][-1], evaluate(model, x_test, t_test)[1]


GRIDS = {SGD: [0.03, 0.1, 0.3, 1, 3], Momentum: [0.01, 0.03, 0.1, 0.3], AdaGrad: [0.01, 0.03, 0.1, 0.3, 1],
         RMSProp: [0.0003, 0.001, 0.003, 0.01, 0.03], Adam: [0.001, 0.003, 0.01, 0.03]}
CHOSEN = {SGD: 1, Momentum: 0.1, AdaGrad: 0.3, RMSProp: 0.01, Adam: 0.01}


def test_every_chosen_learning_rate_is_an_interior_optimum_of_its_grid():
    for optimizer, rates in GRIDS.items():
        assert all(b / a == pytest.approx(10 ** 0.5, rel=0.11) for a, b in zip(rates, rates[1:]))  # "about 3 apart"
        final = [train_digits(lambda p: optimizer(p, lr=lr))[0] for lr in rates]
        best = int(np.argmin(final))
        assert rates[best] == CHOSEN[optimizer], (optimizer.__name__, final)
        assert 0 < best < len(rates) - 1, f"{optimizer.__name__}: the best rate is at the edge of its grid"
    assert f"{train_digits(lambda p: AdaGrad(p, lr=0.3))[0]:.3f}" == "0.026"   # beats the old choice 0.1 ...
    assert f"{train_digits(lambda p: AdaGrad(p, lr=0.1))[0]:.3f}" == "0.027"   # ... and 1 does worse
    assert f"{train_digits(lambda p: AdaGrad(p, lr=1.0))[0]:.3f}" == "0.059"


def test_tuned_optimizers_on_digits():
    train = train_digits
    tuned = [train(lambda p: SGD(p, lr=1.0)), train(lambda p: Momentum(p, lr=0.1)), train(lambda p: AdaGrad(p, lr=0.3)),
             train(lambda p: RMSProp(p, lr=0.01)), train(lambda p: Adam(p, lr=0.01))]
    losses = [loss for loss, _ in tuned]
    accuracies = [acc for _, acc in tuned]
    assert max(losses) / min(losses) < 2.5  # "within a factor of about two"
    assert 0.005 < max(accuracies) - min(accuracies) <= 0.012  # "about one percentage point"
    slow_loss, _ = train(lambda p: SGD(p, lr=0.03))
    assert round(slow_loss / losses[0]) == 25  # SGD at lr 0.03 vs lr 1: "25 times larger"


def test_exercises():
    class Nesterov(Optimizer):
        def __init__(self, parameters, lr=0.01, momentum=0.9):
            super().__init__(parameters, lr)
            self.momentum = momentum
            self.v = self._zeros()

        def update(self, i, param, grad):
            v = self.v[i]
            v *= self.momentum
            v -= self.lr * grad
            param += self.momentum * v - self.lr * grad

    assert bowl(bowl_path(lambda p: Nesterov(p, lr=0.1))[-1]) < bowl(bowl_path(lambda p: Momentum(p, lr=0.1))[-1])
    assert round(0.1 / np.sqrt(0.001), 2) == 3.16

    (x_train, t_train), _ = load_digits()
    model = Sequential(Linear(64, 100, rng=0), ReLU(), Linear(100, 10, rng=1))
    history = fit(model, x_train, t_train, optimizer=SGD(model.parameters(), lr=10.0), epochs=5, batch_size=32, rng=0,
                  progress=False)
    assert history["loss"][0] > 5 and np.log(10) < history["loss"][-1] < np.log(10) + 0.3
    assert f"{history['loss'][-1]:.2f}" == "2.49"  # "settles near 2.49"
    assert not (model[1].forward(model[0].forward(x_train)) > 0).any()  # every hidden unit dead
    frequencies = np.bincount(t_train) / len(t_train)
    assert f"{-np.sum(frequencies * np.log(frequencies)):.4f}" == "2.3025"  # the best constant prediction
    loss_fn, changes = SoftmaxCrossEntropy(), []
    opt = SGD(model.parameters(), lr=10.0)  # plain SGD keeps no state: a new one continues the same run
    for start in range(0, 320, 32):
        before = model[2].b.copy()
        loss_fn.forward(model.forward(x_train[start:start + 32]), t_train[start:start + 32])
        model.backward(loss_fn.backward())
        opt.step()
        changes.append(np.abs(model[2].b - before).mean())
    assert f"{np.mean(changes):.2f}" == "0.68"  # "about 0.7 per entry"
