"""companion.training: fit learns, is reproducible, reports progress only when asked; evaluate; errors."""

import numpy as np
import pytest

import companion
from companion import SGD, Adam, Linear, ReLU, Sequential, evaluate, fit


def blobs(n=120, seed=0):
    """Three well-separated clusters in 2-D: any working classifier gets them right."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return centers[t] + rng.normal(scale=0.5, size=(n, 2)), t


def mlp(seed=0):
    return Sequential(Linear(2, 16, rng=seed), ReLU(), Linear(16, 3, rng=seed + 1))


def test_fit_learns_and_returns_a_history():
    x, t = blobs()
    xv, tv = blobs(60, seed=1)
    model = mlp()
    history = fit(model, x, t, optimizer=Adam(model.parameters(), lr=0.01), epochs=15, batch_size=16,
                  validation=(xv, tv), progress=False)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in history.values())
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] == 1.0
    assert evaluate(model, xv, tv) == pytest.approx((history["val_loss"][-1], history["val_accuracy"][-1]))


def test_fit_is_reproducible_with_a_seed_and_accepts_one_hot_targets():
    x, t = blobs()
    runs = []
    for target in (t, np.eye(3)[t]):
        model = mlp()
        runs.append(fit(model, x, t if target is t else target, optimizer=SGD(model.parameters(), lr=0.1),
                        epochs=3, batch_size=7, rng=5, progress=False))
        runs[-1]["W"] = model[0].W.copy()
    assert runs[0]["loss"] == runs[1]["loss"]
    np.testing.assert_array_equal(runs[0]["W"], runs[1]["W"])


def test_training_loss_is_the_mean_over_the_epochs_batches():
    x, t = blobs(10)
    model = mlp()
    opt = SGD(model.parameters(), lr=1e-12)  # parameters stay put (to 1e-12)
    history = fit(model, x, t, optimizer=opt, epochs=1, batch_size=4, progress=False)
    loss, acc = evaluate(model, x, t)
    assert history["loss"][0] == pytest.approx(loss, rel=1e-9)
    assert history["accuracy"][0] == pytest.approx(acc)


def test_fit_skips_the_input_gradient_but_gets_the_same_parameter_gradients():
    x, t = blobs(8)
    model = mlp()
    loss = companion.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), t)
    dlogits = loss.backward()
    model.backward(dlogits)
    full = [g.copy() for _, g in model.parameters()]
    assert model.backward(dlogits, input_grad=False) is None
    for a, (_, b) in zip(full, model.parameters()):
        np.testing.assert_array_equal(a, b)


def test_progress_bar_goes_to_stderr_only_when_asked(capsys):
    x, t = blobs(40)
    model = mlp()
    fit(model, x, t, optimizer=SGD(model.parameters()), epochs=2, progress=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    fit(model, x, t, optimizer=SGD(model.parameters()), epochs=2, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "epoch 2/2" in err and "loss=" in err and "acc=" in err


def test_fit_stops_with_a_clear_message_when_training_diverges():
    x, t = blobs()
    model = mlp()
    with pytest.raises(FloatingPointError, match=r"fit: numbers overflowed \(overflow encountered in .*\) in epoch \d, batch at sample \d+: training diverged; lower the learning rate"):
        fit(model, x * 1e3, t, optimizer=SGD(model.parameters(), lr=1e6), epochs=5, progress=False)


def test_errors():
    x, t = blobs(10)
    model = mlp()
    opt = SGD(model.parameters())
    with pytest.raises(ValueError, match="fit: training inputs x contains NaN or infinity .*index \\(3, 1\\)"):
        bad = x.copy()
        bad[3, 1] = np.nan
        fit(model, bad, t, optimizer=opt, progress=False)
    with pytest.raises(ValueError, match=r"fit \(training targets\): label 3 at index 0 is out of range; expected labels in 0..2"):
        fit(model, x, np.r_[3, t[1:]], optimizer=opt, progress=False)
    with pytest.raises(ValueError, match=r"fit \(training targets\): targets have shape \(9,\), expected labels of shape \(10,\)"):
        fit(model, x, t[:9], optimizer=opt, progress=False)
    with pytest.raises(ValueError, match=r"Linear\(2, 16\): input x has shape \(1, 3\), expected \(n, 2\)"):
        fit(model, np.ones((10, 3)), t, optimizer=opt, progress=False)
    with pytest.raises(ValueError, match=r"fit: training inputs x have shape \(10,\), expected \(n, features\)"):
        fit(model, x[:, 0], t, optimizer=opt, progress=False)
    with pytest.raises(ValueError, match="fit: batch_size must be a positive integer, got 0"):
        fit(model, x, t, optimizer=opt, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="fit: epochs must be a positive integer, got 2.5"):
        fit(model, x, t, optimizer=opt, epochs=2.5, progress=False)
    with pytest.raises(TypeError, match="fit: optimizer must be an optimizer such as Adam"):
        fit(model, x, t, optimizer="adam", progress=False)
    with pytest.raises(ValueError, match="fit: the optimizer does not update this model's parameters"):
        fit(model, x, t, optimizer=SGD(mlp(1).parameters()), progress=False)
    with pytest.raises(TypeError, match=r"fit: validation must be a pair \(x_val, t_val\)"):
        fit(model, x, t, optimizer=opt, validation=x, progress=False)
    with pytest.raises(ValueError, match=r"fit \(validation targets\): label 7"):
        fit(model, x, t, optimizer=opt, validation=(x, np.full(10, 7)), progress=False)
    with pytest.raises(ValueError, match="evaluate: evaluation inputs x contains NaN"):
        evaluate(model, np.full((2, 2), np.nan), [0, 1])


def test_fit_limits_blas_threads_only_while_training():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    seen = []

    class Spy(SGD):
        def step(self):
            seen.append([p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"])
            super().step()

    x, t = blobs(8)
    model = mlp()
    fit(model, x, t, optimizer=Spy(model.parameters()), epochs=1, batch_size=8, progress=False)
    assert seen and all(n == 1 for n in seen[0])
    assert [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"] == before


class ModeSpy:
    """A layer that records the mode of every forward call."""

    def __init__(self):
        self.training, self.seen = True, []

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def forward(self, x):
        self.seen.append((len(x), self.training))
        return x

    def backward(self, dout):
        return dout


def test_fit_trains_in_training_mode_measures_in_evaluation_mode_and_ends_in_evaluation_mode():
    x, t = blobs(40)
    spy = ModeSpy()
    model = Sequential(Linear(2, 3, rng=0), spy)
    fit(model, x, t, optimizer=SGD(model.parameters(), lr=0.1), epochs=2, batch_size=16,
        validation=(x[:10], t[:10]), progress=False)
    training_batches = [len_ for len_, mode in spy.seen if mode]
    assert training_batches == [16, 16, 8] * 2                      # every minibatch in training mode
    assert all(not mode for len_, mode in spy.seen if len_ in (1, 10))  # data probes and validation: evaluation
    assert not model.training and not spy.training                  # ready to predict
    model.train()
    evaluate(model, x, t)
    assert spy.seen[-1] == (40, False) and model.training and spy.training  # evaluate restores the mode


def test_fit_with_batchnorm_and_dropout_learns_and_reproduces():
    x, t = blobs()
    runs = []
    for _ in range(2):
        model = Sequential(Linear(2, 16, rng=0), companion.BatchNorm(16), ReLU(), companion.Dropout(0.2, rng=1),
                           Linear(16, 3, rng=2))
        history = fit(model, x, t, optimizer=Adam(model.parameters(), lr=0.01), epochs=5, batch_size=16,
                      validation=(x, t), progress=False)
        runs.append(history)
        assert history["val_accuracy"][-1] == 1.0
        assert not np.allclose(model[1].running_mean, 0)   # the running statistics were learned
    assert runs[0] == runs[1]
