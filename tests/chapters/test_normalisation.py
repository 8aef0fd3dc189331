"""Numbers stated in book/normalisation.md, recomputed with companion."""

import numpy as np
import pytest

import companion
from companion import SGD, BatchNorm, LayerNorm, Tensor, fit, layer_statistics, mlp, numerical_jacobian
from companion.datasets import split

SIZES = [64] + [64] * 14 + [10]


def chapter_batch():
    rng = np.random.default_rng(0)
    U = rng.normal(loc=[2.0, -1.0, 5.0], scale=[3.0, 0.5, 1.0], size=(4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    return U, gamma, beta, rng.normal(size=(4, 3))


@pytest.fixture(scope="module")
def data():
    (x_train, t_train), _ = companion.load_digits()
    return split(x_train, t_train, test_fraction=0.2, rng=1)


def test_forward_standardises_and_the_staged_backward_matches_tensor_and_the_compact_formula():
    U_data, gamma_data, beta_data, dout = chapter_batch()
    bn = BatchNorm(3)
    bn.gamma[...], bn.beta[...] = gamma_data, beta_data
    U_hat = (bn.forward(U_data) - beta_data) / gamma_data
    v = U_data.var(axis=0)
    assert U_hat.var(axis=0).round(8).tolist() == [0.99999866, 0.99989746, 0.99996036]
    np.testing.assert_allclose(U_hat.var(axis=0), v / (v + 1e-5), rtol=1e-12)
    U, gamma, beta = Tensor(U_data), Tensor(gamma_data), Tensor(beta_data)
    mean = U.mean(axis=0)
    centred = U - mean
    var = (centred ** 2).mean(axis=0)
    inv_std = (var + 1e-5) ** -0.5
    normalised = centred * inv_std
    (normalised * gamma + beta).backward(dout)
    n = 4
    c = U_data - U_data.mean(axis=0)
    s = (np.mean(c ** 2, axis=0) + 1e-5) ** -0.5
    xh = c * s
    dnorm = dout * gamma_data
    dinv = np.sum(dnorm * c, axis=0)
    dvar = -0.5 * s ** 3 * dinv
    dc = dnorm * s + 2 / n * c * dvar
    dmean = -dc.sum(axis=0)
    dU = dc + dmean / n
    for mine, node in [(dnorm, normalised), (dinv, inv_std), (dvar, var), (dc, centred), (dmean, mean), (dU, U)]:
        assert companion.relative_error(mine, node.grad) < 1e-12
    compact = s / n * (n * dnorm - dnorm.sum(axis=0) - xh * np.sum(dnorm * xh, axis=0))
    assert companion.relative_error(compact, dU) < 1e-12
    assert companion.relative_error(compact, bn.backward(dout)) < 1e-12
    assert np.abs(compact.sum(axis=0)).max() < 1e-14
    sums = np.sum(compact * xh, axis=0)
    assert sums.round(8).tolist() == [-3.04e-06, -6.833e-05, -1.1798e-04]
    np.testing.assert_allclose(sums, s * 1e-5 / (v + 1e-5) * np.sum(dnorm * xh, axis=0), rtol=1e-6)


def tensor_normalisation(U, gamma, beta, axis, mean=None, var=None, eps=1e-5):
    mean = U.mean(axis=axis, keepdims=True) if mean is None else Tensor(mean, requires_grad=False)
    var = U.var(axis=axis, keepdims=True) if var is None else Tensor(var, requires_grad=False)
    return (U - mean) / (var + eps).sqrt() * gamma + beta


@pytest.mark.parametrize("kind, shape, axis, evaluation, numeric_shown", [
    ("bn", (4, 3), 0, False, "9e-10"), ("bn", (16, 3), 0, False, "2e-08"), ("bn", (1, 3), 0, True, "4e-11"),
    ("bn", (4, 3), 0, True, "1e-10"), ("ln", (1, 3), -1, False, "8e-11"), ("ln", (4, 3), -1, False, "4e-10"),
    ("ln", (2, 5, 3), -1, False, "8e-08")])
def test_three_checks(kind, shape, axis, evaluation, numeric_shown):
    layer = BatchNorm(3) if kind == "bn" else LayerNorm(3)
    if evaluation:
        layer.eval()
        layer.running_mean[...], layer.running_var[...] = [0.5, -1.0, 2.0], [2.0, 0.5, 3.0]
    seed = len(shape) * 10 + shape[0]
    rng = np.random.default_rng(seed)
    layer.gamma[...], layer.beta[...] = rng.normal(size=3), rng.normal(size=3)
    x, dout = rng.normal(loc=1.0, scale=2.0, size=shape), rng.normal(size=shape)
    numeric = max(companion.layer_gradient_errors(layer, x, rng=seed).values())
    assert f"{numeric:.0e}" == numeric_shown and numeric < 1e-7
    layer.forward(x)
    grads = [layer.backward(dout), layer.grad_gamma.copy(), layer.grad_beta.copy()]
    tensors = [Tensor(x), Tensor(layer.gamma.copy()), Tensor(layer.beta.copy())]
    stats = dict(mean=layer.running_mean, var=layer.running_var) if evaluation else {}
    tensor_normalisation(*tensors, axis=axis, **stats).backward(dout)
    assert max(companion.relative_error(g, t.grad) for g, t in zip(grads, tensors)) < 1e-12


def test_check_layer_verdicts():
    assert f"{companion.check_layer(BatchNorm(3), [(3, 3), (5, 3), (8, 3)], verbose=False).max_error:.0e}" == "2e-09"
    assert f"{companion.check_layer(LayerNorm(3), verbose=False).max_error:.0e}" == "3e-09"


def test_running_statistics_and_modes():
    batches = np.random.default_rng(1).normal(loc=3.0, scale=2.0, size=(2000, 4, 1))
    layer = BatchNorm(1, momentum=0.01)
    for batch in batches:
        layer.forward(batch)
    assert f"{batches.var(axis=1).mean():.3f}" == "2.965" and f"{batches.var(axis=1, ddof=1).mean():.3f}" == "3.953"
    assert (f"{layer.running_mean[0]:.2f}", f"{layer.running_var[0]:.2f}") == ("2.88", "4.12")
    x = np.random.default_rng(2).normal(loc=3.0, scale=2.0, size=(5, 1))
    layer.eval()
    assert np.allclose(layer.forward(x[:1]), layer.forward(x)[:1])
    layer.train()
    assert not np.allclose(layer.forward(x[:2]), layer.forward(x)[:2])
    with pytest.raises(ValueError, match="needs at least 2 samples, got input x of shape \\(1, 1\\)"):
        layer.forward(x[:1])


def test_jacobian_patterns():
    x = np.random.default_rng(3).normal(size=(3, 2))
    bn = (np.abs(numerical_jacobian(BatchNorm(2).forward, x)) > 1e-8).astype(int)
    ln = (np.abs(numerical_jacobian(LayerNorm(2).forward, x)) > 1e-8).astype(int)
    np.testing.assert_array_equal(bn, np.tile(np.eye(2, dtype=int), (3, 3)))
    np.testing.assert_array_equal(ln, np.kron(np.eye(3, dtype=int), np.ones((2, 2), dtype=int)))


def test_batchnorm_in_the_deep_sigmoid_networks(data):
    (x_fit, t_fit), (x_val, t_val) = data
    xb, tb = x_fit[:256], t_fit[:256]
    shown, final = {}, {}
    for init in ("standard_normal", "xavier"):
        for batchnorm in (False, True):
            norms = layer_statistics(mlp(SIZES, "sigmoid", init=init, batchnorm=batchnorm, rng=0), xb, tb)["grad_norms"]
            shown[init, batchnorm] = (f"{norms[0] / norms[-1]:.1e}", f"{max(norms) / min(norms):.1e}")
            model = mlp(SIZES, "sigmoid", init=init, batchnorm=batchnorm, rng=0)
            history = fit(model, x_fit, t_fit, optimizer=SGD(model.parameters(), lr=0.02), epochs=15, rng=0,
                          validation=(x_val, t_val), progress=False)
            final[init, batchnorm] = round(history["val_accuracy"][-1], 3)
    assert shown == {("standard_normal", False): ("5.6e-02", "1.8e+01"), ("standard_normal", True): ("1.9e-01", "6.1e+00"),
                     ("xavier", False): ("2.3e-09", "4.3e+08"), ("xavier", True): ("7.6e-01", "1.7e+00")}
    assert final == {("standard_normal", False): 0.627, ("standard_normal", True): 0.878,
                     ("xavier", False): 0.101, ("xavier", True): 0.986}


def test_exercises(data):
    (x_fit, t_fit), (x_val, t_val) = data
    expected = companion.checks.ANSWERS["ex-norm-pair"].expected()
    s = (1 + 1e-5) ** -0.5
    assert expected["A1"] == pytest.approx(-s, rel=1e-12)
    assert expected["dU1"] == pytest.approx(s / 2 * (1 - s * s), rel=1e-6)
    assert (f"{expected['A1']:.6f}", f"{expected['dU1']:.6e}") == ("-0.999995", "4.999925e-06")
    model = mlp(SIZES, "sigmoid", init="xavier", batchnorm=True, rng=0)
    layer_statistics(model, x_fit[:256], t_fit[:256])
    linears = [layer for layer in model.layers[:-1] if isinstance(layer, companion.Linear)]
    assert f"{max(np.abs(layer.grad_b).max() for layer in linears):.0e}" == "4e-16"
    assert f"{max(np.abs(layer.grad_W).max() for layer in linears):.0e}" == "5e-02"
    model = mlp(SIZES, "sigmoid", init="xavier", batchnorm=True, rng=0)
    optimizer, loss = SGD(model.parameters(), lr=0.02), companion.SoftmaxCrossEntropy()
    order_rng = np.random.default_rng(0)
    for _ in range(2):
        order = order_rng.permutation(len(x_fit))
        for start in range(0, len(x_fit), 32):
            batch = order[start:start + 32]
            loss.forward(model.forward(x_fit[batch]), t_fit[batch])
            model.backward(loss.backward())
            optimizer.step()

    def measure(size):
        return round(float(np.mean(np.concatenate([model.forward(x_val[i:i + size]).argmax(axis=1)
                                                   for i in range(0, len(x_val), size)]) == t_val)), 3)

    assert (measure(100), measure(30)) == (0.808, 0.749) and len(x_val) % 100 == 87
    model.eval()
    assert (measure(100), measure(30)) == (0.833, 0.833)
    assert model.forward(x_val[:1]).argmax() == t_val[0] == 5
