"""Numbers stated in book/initialisation.md, recomputed with companion."""

import numpy as np
import pytest

import companion
from companion import SGD, clip_grad_norm, fit, layer_statistics, mlp
from companion.datasets import split
from companion.init import he_normal

SIZES = [64] + [64] * 14 + [10]
CONFIGS = {"sigmoid + N(0, 1)": ("sigmoid", "standard_normal", 64.0), "sigmoid + Xavier": ("sigmoid", "xavier", 1.0),
           "tanh + Xavier": ("tanh", "xavier", 1.0), "ReLU + He": ("relu", "he", 2.0)}
DERIVATIVE = {"sigmoid": lambda z: z * (1 - z), "tanh": lambda z: 1 - z ** 2, "relu": lambda z: (z > 0) * 1.0}


@pytest.fixture(scope="module")
def data():
    (x_train, t_train), _ = companion.load_digits()
    return split(x_train, t_train, test_fraction=0.2, rng=1)


def pre_activations(model, x):
    out, found = x, []
    for layer in model.layers[:-1]:
        out = layer.forward(out)
        if isinstance(layer, companion.Linear):
            found.append(out)
    return found


def larger_he(fan_in, fan_out, rng):
    return 1.5 * he_normal(fan_in, fan_out, rng)


def test_variance_of_a_pre_activation():
    rng = np.random.default_rng(0)
    Z = np.maximum(rng.normal(size=(5000, 64)), 0.0)
    W = rng.normal(scale=np.sqrt(0.05), size=(64, 2000))
    assert f"{np.mean(Z ** 2):.3f}" == "0.502"
    assert (f"{64 * 0.05 * np.mean(Z ** 2):.3f}", f"{np.var(Z @ W):.3f}") == ("1.605", "1.604")
    shown = [(f"{init(64, 64, rng=1).std():.3f}", f"{64 * init(64, 64, rng=1).var():.2f}")
             for init in (companion.standard_normal, companion.xavier_normal, he_normal)]
    assert shown == [("1.003", "64.37"), ("0.125", "1.01"), ("0.177", "2.01")]


def test_variance_through_14_relu_layers(data):
    (x_fit, _), _ = data
    table = {}
    for init in ("standard_normal", "xavier", "he"):
        variances = [u.var() for u in pre_activations(mlp(SIZES, "relu", init=init, rng=0), x_fit[:256])]
        table[init] = variances
        assert len(variances) == 14
    shown = {k: [f"{v[i - 1]:.2g}" for i in (1, 2, 5, 10, 14)] for k, v in table.items()}
    assert shown == {"standard_normal": ["15", "4.6e+02", "1.4e+07", "1.2e+14", "8.2e+19"],
                     "xavier": ["0.24", "0.11", "0.013", "0.0001", "4.2e-06"],
                     "he": ["0.48", "0.45", "0.42", "0.1", "0.07"]}
    per_layer = {k: (v[-1] / v[0]) ** (1 / 13) for k, v in table.items()}
    assert round(per_layer["standard_normal"]) == 28 and round(per_layer["xavier"], 2) == 0.43
    assert round(table["he"][0] / table["he"][-1]) == 7
    assert 1e18 < table["standard_normal"][-1] / table["standard_normal"][0] < 1e19
    assert 1e-5 < table["xavier"][-1] / table["xavier"][0] < 1e-4


def test_the_sigmoid_derivative_is_at_most_a_quarter():
    u = np.linspace(-8, 8, 16001)
    s = companion.Sigmoid().forward(u)
    assert np.max(s * (1 - s)) == 0.25 and u[np.argmax(s * (1 - s))] == 0.0
    sig = companion.Sigmoid().forward
    assert (f"{sig(2.0) * (1 - sig(2.0)):.4f}", f"{sig(5.0) * (1 - sig(5.0)):.4f}") == ("0.1050", "0.0066")
    assert 4.0 ** -14 == pytest.approx(3.7e-9, rel=0.01)


def test_fifteen_layer_statistics(data):
    (x_fit, t_fit), _ = data
    xb, tb = x_fit[:256], t_fit[:256]
    rows = {}
    for name, (activation, init, scale) in CONFIGS.items():
        s = layer_statistics(mlp(SIZES, activation, init=init, rng=0), xb, tb)
        g = s["grad_norms"]
        factors = [np.sqrt(scale * np.mean(DERIVATIVE[activation](z) ** 2)) for z in s["activations"]]
        rows[name] = (f"{s['loss']:.2f}", f"{g[0]:.1e}", f"{g[-1]:.1e}", f"{g[0] / g[-1]:.1e}",
                      f"{max(g) / min(g):.1e}", f"{np.prod(factors):.1e}")
    assert rows == {
        "sigmoid + N(0, 1)": ("7.80", "2.7e-01", "4.8e+00", "5.6e-02", "1.8e+01", "1.4e-01"),
        "sigmoid + Xavier": ("2.39", "1.5e-09", "6.3e-01", "2.3e-09", "4.3e+08", "1.7e-09"),
        "tanh + Xavier": ("2.38", "3.5e-01", "2.4e-01", "1.5e+00", "1.5e+00", "3.7e-01"),
        "ReLU + He": ("2.32", "3.9e-01", "1.5e-01", "2.6e+00", "3.3e+00", "9.2e-01"),
    }
    spread = [u.std() for u in pre_activations(mlp(SIZES, "sigmoid", init="standard_normal", rng=0), xb)]
    assert (f"{min(spread):.1f}", f"{max(spread):.1f}") == ("3.9", "6.0")


def test_training_the_four_networks(data):
    (x_fit, t_fit), (x_val, t_val) = data
    final = {}
    for name, (activation, init, _) in CONFIGS.items():
        model = mlp(SIZES, activation, init=init, rng=0)
        history = fit(model, x_fit, t_fit, optimizer=SGD(model.parameters(), lr=0.02), epochs=15, rng=0,
                      validation=(x_val, t_val), progress=False)
        final[name] = round(history["val_accuracy"][-1], 3)
    assert final == {"sigmoid + N(0, 1)": 0.627, "sigmoid + Xavier": 0.101, "tanh + Xavier": 0.948,
                     "ReLU + He": 0.944}


class Clipped:
    def __init__(self, optimizer, max_norm):
        self.optimizer, self.max_norm, self.norms = optimizer, max_norm, []
        self.parameters = optimizer.parameters

    def step(self):
        self.norms.append(clip_grad_norm(self.parameters, self.max_norm))
        self.optimizer.step()


def test_exploding_gradients_and_clipping(data):
    (x_fit, t_fit), (x_val, t_val) = data
    xb, tb = x_fit[:256], t_fit[:256]
    he = layer_statistics(mlp(SIZES, "relu", init="he", rng=0), xb, tb)
    big = layer_statistics(mlp(SIZES, "relu", init=larger_he, rng=0), xb, tb)
    deviation = max(np.max(np.abs(zb - 1.5 ** k * zh)) / np.max(np.abs(zb))
                    for k, (zb, zh) in enumerate(zip(big["activations"], he["activations"]), start=1))
    assert f"{deviation:.0e}" == "3e-15"
    growth = np.array(big["grad_norms"]) / np.array(he["grad_norms"])
    logit_grads = [np.linalg.norm(companion.softmax(mlp(SIZES, "relu", init=init, rng=0).forward(xb))
                                  - np.eye(10)[tb]) for init in ("he", larger_he)]
    assert f"{logit_grads[1] / logit_grads[0]:.2f}" == "1.35"
    assert round(big["loss"], 1) == 117.1 and round(1.5 ** 14) == 292 and round(1.5 ** 15) == 438
    assert (round(min(big["grad_norms"])), round(max(big["grad_norms"]))) == (199, 320)
    assert (round(min(growth)), round(max(growth))) == (610, 1516)
    model = mlp(SIZES, "relu", init=larger_he, rng=0)
    with pytest.raises(FloatingPointError, match="in epoch 1, batch at sample 96"):
        fit(model, x_fit, t_fit, optimizer=SGD(model.parameters(), lr=0.02), epochs=15, rng=0, progress=False)
    model = mlp(SIZES, "relu", init=larger_he, rng=0)
    clipped = Clipped(SGD(model.parameters(), lr=0.02), max_norm=5.0)
    history = fit(model, x_fit, t_fit, optimizer=clipped, epochs=15, rng=0, validation=(x_val, t_val),
                  progress=False)
    steps = len(clipped.norms) // 15
    assert round(history["val_accuracy"][-1], 3) == 0.798
    assert (round(max(clipped.norms[:steps])), round(max(clipped.norms[-steps:]))) == (1047, 51)
    assert min(clipped.norms) > 5.0                                     # every step clipped


def test_exercises(data):
    (x_fit, t_fit), _ = data
    xb, tb = x_fit[:256], t_fit[:256]
    assert companion.checks.ANSWERS["ex-init-factor"].expected() == {"normal": 32.0, "xavier": 0.5, "he": 1.0}
    assert companion.checks.ANSWERS["ex-init-leaky"].expected()["std"] == pytest.approx(0.175899, abs=1e-6)
    std, out, init_rng, leaky = np.sqrt(2 / (1.01 * 64)), np.random.default_rng(2).normal(size=(2000, 64)), \
        np.random.default_rng(3), {}
    for k in range(1, 15):
        u = out @ init_rng.normal(scale=std, size=(64, 64))
        out = np.where(u > 0, u, 0.1 * u)
        leaky[k] = f"{u.var():.2f}"
    assert (leaky[1], leaky[7], leaky[14]) == ("1.99", "1.69", "1.86")
    variances = np.array([u.var() for u in pre_activations(
        mlp(SIZES, "relu", init=lambda i, o, rng: rng.normal(size=(i, o)) * 2 / i, rng=0), xb)])
    assert np.round(variances[1:] / variances[:-1], 3)[:5].tolist() == [0.029, 0.035, 0.042, 0.019, 0.02]
    assert f"{variances[-1]:.1e}" == "5.9e-23"
    s = layer_statistics(mlp(SIZES, "sigmoid", init=lambda i, o, rng: 0.01 * companion.standard_normal(i, o, rng),
                             rng=0), xb, tb)
    assert (f"{s['activations'][-1].mean():.6f}", f"{s['activations'][-1].std():.1e}") == ("0.500204", "1.1e-02")
    assert f"{s['grad_norms'][0] / s['grad_norms'][-1]:.0e}" == "4e-24"
    model = mlp(SIZES, "relu", init=larger_he, rng=0)
    layer_statistics(model, xb, tb)
    original = np.concatenate([g.ravel() for _, g in model.parameters()])
    by_value = np.clip(original, -0.01, 0.01)
    clip_grad_norm(model.parameters(), 5.0)
    by_norm = np.concatenate([g.ravel() for _, g in model.parameters()])
    cosine = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))  # noqa: E731
    assert cosine(by_norm, original) == pytest.approx(1.0, abs=1e-12)
    assert round(cosine(by_value, original), 3) == 0.464
