"""Numbers stated in book/gradient_checking.md, recomputed with companion."""

import numpy as np
import pytest

import companion


def g(x):
    return (x + 1) * (x + 1) * (x + 1)


def dg(x):
    return 3 * (x + 1) ** 2


STEPS = np.logspace(-12, 0, 49)


@pytest.fixture(scope="module")
def curves():
    points = np.random.default_rng(0).uniform(-0.5, 0.5, size=20)
    return {
        (dtype.__name__, method): np.median(
            [companion.step_size_errors(g, x, dg(x), STEPS, method, dtype) for x in points], axis=0)
        for dtype in (np.float64, np.float32) for method in ("central", "forward")
    }


def test_machine_epsilons():
    assert f"{np.finfo(np.float64).eps:.1e}" == "2.2e-16" and f"{np.finfo(np.float32).eps:.1e}" == "1.2e-07"


@pytest.mark.parametrize("h", [1e-1, 1e-2, 1e-3])
def test_truncation_errors_of_the_cube_are_exactly_as_taylor_says(h):
    fwd = companion.numerical_gradient(g, 0.5, h=h, method="forward") - dg(0.5)
    cen = companion.numerical_gradient(g, 0.5, h=h) - dg(0.5)
    assert f"{fwd:.8f}" == f"{4.5 * h + h ** 2:.8f}"
    assert f"{cen:.8f}" == f"{h ** 2:.8f}"
    assert dg(0.5) == 6.75


def test_central_difference_of_a_quadratic_is_exact_for_any_step():
    for h, shown in [(1.0, "8.000000000000"), (1e-1, "8.000000000000"), (1e-3, "7.999999999998")]:
        assert f"{companion.numerical_gradient(lambda x: (x + 1) ** 2, 3.0, h=h):.12f}" == shown


def test_best_steps_and_errors_table(curves):
    table = {key: (f"{STEPS[np.argmin(e)]:.0e}", f"{e.min():.0e}") for key, e in curves.items()}
    assert table == {
        ("float64", "central"): ("3e-06", "6e-12"),
        ("float64", "forward"): ("1e-08", "4e-09"),
        ("float32", "central"): ("3e-03", "2e-06"),
        ("float32", "forward"): ("2e-04", "2e-04"),
    }
    eps64, eps32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps
    predicted = [f"{v:.0e}" for v in (eps64 ** (1 / 3), eps64 ** (2 / 3), eps64 ** 0.5,
                                      eps32 ** (1 / 3), eps32 ** (2 / 3), eps32 ** 0.5)]
    assert predicted == ["6e-06", "4e-11", "1e-08", "5e-03", "2e-05", "3e-04"]
    # the ratios estimate / measurement: best steps "within a factor of two", errors "2 to 13 times below"
    estimates = {("float64", "central"): (eps64 ** (1 / 3), eps64 ** (2 / 3)),
                 ("float64", "forward"): (eps64 ** 0.5, eps64 ** 0.5),
                 ("float32", "central"): (eps32 ** (1 / 3), eps32 ** (2 / 3)),
                 ("float32", "forward"): (eps32 ** 0.5, eps32 ** 0.5)}
    ratios = {key: (f"{h / STEPS[np.argmin(curves[key])]:.1f}", f"{e / curves[key].min():.1f}")
              for key, (h, e) in estimates.items()}
    assert ratios == {("float64", "central"): ("1.9", "6.3"), ("float64", "forward"): ("1.5", "4.2"),
                      ("float32", "central"): ("1.6", "12.5"), ("float32", "forward"): ("1.9", "2.3")}
    assert all(1 < float(h) < 2 and 2 < float(e) < 13 for h, e in ratios.values())


def test_prose_claims_about_the_curves(curves):
    c64, f64 = curves["float64", "central"], curves["float64", "forward"]
    c32 = curves["float32", "central"]
    default = np.argmin(np.abs(STEPS - 1e-5))
    assert STEPS[default] == pytest.approx(1e-5)
    assert (f"{c64[default]:.0e}", f"{c32[default]:.0e}") == ("2e-11", "6e-04")
    assert 300 < f64.min() / c64.min() < 3000               # "about a thousand times more accurate"
    assert STEPS[np.argmin(c32)] / STEPS[np.argmin(c64)] == pytest.approx(1000, rel=0.01)  # "a thousand times earlier"
    assert c32.min() > 1e-7 and c32[default] > 1e-4         # float32 cannot pass the threshold
    assert curves["float32", "central"][0] == 1.0           # x + h rounds back to x
    left = np.log10(c64[:8])                                 # round-off side: slope -1
    assert np.polyfit(np.log10(STEPS[:8]), left, 1)[0] == pytest.approx(-1, abs=0.3)
    right = slice(36, 49)                                    # truncation side: slopes 2 and 1
    assert np.polyfit(np.log10(STEPS[right]), np.log10(c64[right]), 1)[0] == pytest.approx(2, abs=0.1)
    assert np.polyfit(np.log10(STEPS[right]), np.log10(f64[right]), 1)[0] == pytest.approx(1, abs=0.1)


def test_relative_error_is_scale_free():
    x = np.random.default_rng(1).normal(size=(3, 4))
    shown = []
    for scale in (1.0, 1e3, 1e6):
        numeric = companion.numerical_gradient(lambda v: scale * np.sum(v ** 3), x)
        analytic = scale * 3 * x ** 2
        shown.append((f"{np.max(np.abs(analytic - numeric)):.0e}", f"{companion.relative_error(analytic, numeric):.0e}"))
    assert shown == [("1e-10", "2e-08"), ("1e-07", "2e-08"), ("1e-04", "2e-08")]


def test_gradient_check_verdicts(capsys):
    f = lambda v: np.sum(v ** 3)  # noqa: E731
    x = np.array([0.5, -1.0, 2.0])
    assert f"{companion.gradient_check(f, x, 3 * x ** 2):.0e}" == "7e-11"
    wrong = 3 * x ** 2
    wrong[2] = 3 * x[2]
    assert f"{companion.gradient_check(f, x, wrong):.1e}" == "3.3e-01"
    assert "worst entry (2,): analytic 6, numerical 12" in capsys.readouterr().out


def test_kink_false_alarm():
    x = np.array([[-1.2, 0.7, 3e-6], [0.4, -0.05, 2.0]])
    assert f"{companion.layer_gradient_errors(companion.ReLU(), x, rng=0)['x']:.2f}" == "0.21"
    assert np.argwhere(np.abs(x) < 1e-5).tolist() == [[0, 2]]
    x[0, 2] = 0.3
    assert f"{companion.layer_gradient_errors(companion.ReLU(), x, rng=0)['x']:.0e}" == "1e-11"


def test_expected_kink_counts():
    h = 1e-5
    assert (f"{5_000 * 0.8 * h:.2f}", f"{1_000_000 * 0.8 * h:.2f}") == ("0.04", "8.00")
    assert 2 * h * 0.4 == pytest.approx(2 * h / np.sqrt(2 * np.pi), rel=0.01)  # the density at 0 is 0.4
    rng = np.random.default_rng(0)
    found = [int(np.sum(np.abs(rng.standard_normal(N)) < h)) for N in (5_000, 1_000_000)]
    assert found == [0, 8]


def test_checking_a_layer_with_random_dout():
    rng = np.random.default_rng(2)
    layer = companion.Linear(3, 2, rng=rng)
    layer.b[...] = rng.normal(size=2)
    errors = companion.layer_gradient_errors(layer, rng.normal(size=(5, 3)), rng=3)
    assert {k: f"{v:.0e}" for k, v in errors.items()} == {"x": "9e-11", "W": "4e-11", "b": "2e-10"}


def test_forgetful_sigmoid_passes_with_ones_and_fails_with_random_dout():
    class ForgetfulSigmoid(companion.Sigmoid):
        def backward(self, dout):
            return self.y * (1 - self.y)

    x = np.random.default_rng(4).normal(size=(4, 3))
    layer = ForgetfulSigmoid()
    layer.forward(x)
    grad = layer.backward(np.ones((4, 3)))
    assert companion.gradient_check(lambda v: np.sum(layer.forward(v)), x, grad, verbose=False) < 1e-9
    assert f"{companion.layer_gradient_errors(layer, x, rng=5)['x']:.1f}" == "1.0"


def test_mean_instead_of_sum_passes_at_batch_size_1_only():
    class MeanBiasLinear(companion.Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grad_b[...] = dout.mean(axis=0)
            return dx

    shown = []
    for n in (1, 5):
        rng = np.random.default_rng(6)
        layer = MeanBiasLinear(3, 2, rng=rng)
        shown.append(f"{companion.layer_gradient_errors(layer, rng.normal(size=(n, 3)), rng=rng)['b']:.0e}")
    assert shown == ["6e-12", "7e-01"]


def test_small_relu_network_check():
    rng = np.random.default_rng(7)
    net = companion.Sequential(companion.Linear(3, 4, rng=rng), companion.ReLU(), companion.Linear(4, 2, rng=rng))
    x = rng.normal(size=(7, 3))
    assert f"{np.abs(x @ net[0].W + net[0].b).min():.3f}" == "0.004"
    errors = companion.layer_gradient_errors(net, x, rng=8)
    assert f"{max(errors.values()):.0e}" == "7e-10" and list(errors) == ["x", "0.W", "0.b", "2.W", "2.b"]


def test_gradient_errors_example():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(5, 3))
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    R = x @ params["W"] + params["b"]
    errors = companion.gradient_errors(lambda W, b: 0.5 * np.sum((x @ W + b) ** 2), params,
                                       {"W": x.T @ R, "b": R.sum(axis=0)})
    assert {k: f"{v:.0e}" for k, v in errors.items()} == {"W": "3e-11", "b": "2e-11"}


def test_exercises(curves):
    ratios = [(companion.numerical_gradient(np.exp, 0.0, h=h, method="forward") - 1) / h for h in (1e-1, 1e-2, 1e-3)]
    assert [f"{r:.4f}" for r in ratios] == ["0.5171", "0.5017", "0.5002"]
    # the best step, predicted at the curves' 20 points (median) and measured: "within a factor of two"
    points = np.random.default_rng(0).uniform(-0.5, 0.5, size=20)
    for dtype, shown in [(np.float64, ("5.2e-06", "3.2e-06", "1.6")), (np.float32, ("4.2e-03", "3.2e-03", "1.3"))]:
        predicted = np.median((3 * np.finfo(dtype).eps * np.abs(g(points)) / 6) ** (1 / 3))
        measured = STEPS[np.argmin(curves[dtype.__name__, "central"])]
        assert (f"{predicted:.1e}", f"{measured:.1e}", f"{predicted / measured:.1f}") == shown
        assert 1 < predicted / measured < 2
        at_half = (3 * np.finfo(dtype).eps * g(0.5) / 6) ** (1 / 3)
        assert f"{at_half / predicted:.1f}" == "1.4"  # "at x = 0.5 alone ... larger by a factor 1.4"
    assert STEPS[1] / STEPS[0] == pytest.approx(10 ** 0.25) and f"{10 ** 0.25:.1f}" == "1.8"
    complex_step = g(0.5 + 1e-20j).imag / 1e-20
    assert f"{companion.relative_error(complex_step, 6.75):.0e}" == "7e-17"
    assert repr(complex_step) == "6.749999999999999" and complex_step == np.nextafter(6.75, 0)  # one ulp below
    assert f"{np.spacing(6.75):.1e}" == "8.9e-16"

    class DoubledLinear(companion.Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grad_W *= 2
            return dx

    zeros = companion.layer_gradient_errors(DoubledLinear(3, 2, rng=0), np.zeros((4, 3)), rng=1)["W"]
    random = companion.layer_gradient_errors(DoubledLinear(3, 2, rng=0), np.random.default_rng(2).normal(size=(4, 3)), rng=1)["W"]
    assert (f"{zeros:.2f}", f"{random:.2f}") == ("0.00", "0.33")


def test_kink_count_exercise():
    rng = np.random.default_rng(0)
    layer = companion.Linear(20, 500, rng=rng)
    companion.Linear(500, 1, rng=rng)
    hidden = rng.normal(size=(1000, 20)) @ layer.W + layer.b
    assert round(float(hidden.std()), 2) == 1.41
    assert round(hidden.size * 0.8e-5 / np.sqrt(2), 2) == 2.83
    assert int(np.sum(np.abs(hidden) < 1e-5)) == 1
