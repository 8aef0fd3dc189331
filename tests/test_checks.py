"""companion.checks: homework checkers, tried on correct and on deliberately wrong student code."""

import re
from pathlib import Path

import numpy as np
import pytest

import companion
from companion.checks import ANSWERS, WIDTH, CheckResult, check_answer, check_gradient, check_layer, register_answer

BOOK = Path(__file__).resolve().parent.parent / "book"


def flat(text):
    """A verdict with its line wrapping undone, for substring checks."""
    return " ".join(text.split())


# --- students' layers: one correct version and many wrong ones ------------------------------------


class StudentLinear:
    """A correct minibatch Linear, written the way a student would."""

    def __init__(self, in_features, out_features):
        self.W = np.random.randn(in_features, out_features)
        self.b = np.random.randn(out_features)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.grad_W = self.x.T @ dout
        self.grad_b = dout.sum(axis=0)
        return dout @ self.W.T


class StudentTanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y ** 2)


class Cube:
    """The chapter 'The chain rule' writes forward as __call__."""

    def __call__(self, x):
        self.x = x
        return x ** 3

    def backward(self, dout):
        return dout * 3 * self.x ** 2


class StudentMul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class TanhOfInput(StudentTanh):  # the find-the-bug exercise of 'Local derivative rules'
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1 - self.x ** 2)


class FlippedSign(StudentTanh):
    def backward(self, dout):
        return -super().backward(dout)


class Doubled(StudentTanh):
    def backward(self, dout):
        return 2 * super().backward(dout)


class AllZeros(StudentTanh):
    def backward(self, dout):
        return np.zeros_like(dout)


class TransposedDx(StudentLinear):
    def backward(self, dout):
        return super().backward(dout).T


class UnsummedBias(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grad_b = dout
        return dx


class AveragedGradW(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grad_W = self.grad_W / len(dout)
        return dx


class TransposedGradW(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grad_W = self.grad_W.T
        return dx


class WrongGradWValues(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grad_W = self.grad_W + 0.5
        return dx


class MissingGradW(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        del self.grad_W
        return dx


class LowercaseGradW(StudentLinear):
    """Seed 004's slip: the gradient is stored as grad_w, the update reads grad_W."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grad_w = self.__dict__.pop("grad_W")
        return dx


class SaitohNames(StudentLinear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.__dict__.pop("grad_W")
        return dx


class AccumulatingGrads(StudentLinear):
    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features)
        self.grad_W, self.grad_b = np.zeros_like(self.W), np.zeros_like(self.b)

    def backward(self, dout):
        self.grad_W += self.x.T @ dout
        self.grad_b += dout.sum(axis=0)
        return dout @ self.W.T


class Seed004Linear:
    """The Linear of seed 004, verbatim apart from names: not minibatch-aware, grad_w transposed."""

    def __init__(self, n_input, n_output):
        self.w = np.random.randn(n_input, n_output)
        self.b = np.random.randn(n_output)

    def __call__(self, x):
        self.x = x
        return np.dot(x, self.w) + self.b

    def backward(self, d):
        self.grad_w = np.multiply(*np.meshgrid(self.x, d))
        self.grad_b = d
        return np.dot(d, self.w.T)


class RaisingForward(StudentTanh):
    def forward(self, x):
        raise ValueError("my forward is not finished")


class ForgetsToStore:
    def forward(self, x):
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1 - self.y ** 2)


class NaNForward(StudentTanh):
    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.y = np.log(x)
        return self.y


class NoReturnInBackward(StudentTanh):
    def backward(self, dout):
        dout * (1 - self.y ** 2)


class NotAnArray(StudentTanh):
    def backward(self, dout):
        return "the gradient"


class InPlaceForward(StudentTanh):
    def forward(self, x):
        x *= 2
        return super().forward(x)


class MulReturnsOne(StudentMul):
    def backward(self, dout):
        return dout * self.y


class MatmulShapes(StudentLinear):
    def backward(self, dout):
        self.grad_W = self.x @ dout
        self.grad_b = dout.sum(axis=0)
        return dout @ self.W.T


class NeedsThreeArgs(StudentTanh):
    def __init__(self, a, b, c):
        pass


WRONG = [
    (TanhOfInput, ["dx is wrong", "first wrong entry dx[", "yours", "numerical", "Local derivative rules"]),
    (FlippedSign, ["dx is wrong", "the sign is flipped"]),
    (Doubled, ["dx is wrong", "factor of 2"]),
    (AllZeros, ["all zeros"]),
    (TransposedDx, ["backward returned a gradient of shape (3, 1) for x of shape (1, 3)", "transposed"]),
    (UnsummedBias, ["grad_b has shape (1, 2), but b has shape (2,)", "dout.sum(axis=0)"]),
    (AveragedGradW, ["FAILED on input shape (4, 5)", "grad_W is wrong", "factor of 4, the batch size"]),
    (TransposedGradW, ["grad_W has shape (2, 3), but W has shape (3, 2)", "transposed"]),
    (WrongGradWValues, ["grad_W is wrong", "first wrong entry grad_W[0, 0]"]),
    (MissingGradW, ["backward did not set grad_W", "self.grad_W"]),
    (LowercaseGradW, ["backward did not set grad_W", "it set grad_w"]),
    (SaitohNames, ["backward did not set grad_W", "it set dW"]),
    (AccumulatingGrads, ["grad_W doubled when backward ran a second time", "grad_W +="]),
    (Seed004Linear, ["grad_w has shape (2, 3), but w has shape (3, 2)", "transposed"]),
    (RaisingForward, ["forward(x of shape (1, 3)) raised ValueError: my forward is not finished",
                      'raise ValueError("my forward is not finished")']),
    (ForgetsToStore, ["backward(dout of shape (1, 3)) raised AttributeError", "self.y", "forward must keep"]),
    (NaNForward, ["forward's output contains nan", "log of 0 or of a negative number"]),
    (NoReturnInBackward, ["the gradient backward returned for x is None", "return"]),
    (NotAnArray, ["is not an array of numbers: got str"]),
    (InPlaceForward, ["forward changed its input array in place"]),
    (MulReturnsOne, ["expected a pair (dx, dy)"]),
    (MatmulShapes, ["raised ValueError", "matmul", "usually a transpose is missing"]),
    (NeedsThreeArgs, ["its constructor needs 3 arguments", "args=(...)"]),
]


@pytest.mark.parametrize("layer, expected", WRONG, ids=[c.__name__ for c, _ in WRONG])
def test_wrong_layers_get_a_readable_verdict_and_no_traceback(layer, expected, capsys):
    result = check_layer(layer)
    printed = capsys.readouterr().out
    assert isinstance(result, CheckResult) and not result and result.passed is False
    assert printed.strip() == result.message
    assert printed.startswith(f"check_layer({layer.__name__}): FAILED")
    assert "Traceback" not in printed and "hint:" in printed
    assert max(map(len, printed.splitlines())) <= WIDTH  # fits a notebook output area
    for text in expected:
        assert flat(text) in flat(printed), f"{text!r} not in:\n{printed}"


CORRECT = [
    (StudentLinear, {}, ["x, W, b", "(1, 3), (4, 5), (3, 2)"]),
    (StudentTanh, {}, ["for x on input shapes (1, 3), (4, 5), (3, 2)"]),
    (Cube, {}, ["for x on"]),
    (StudentMul, {}, ["for x, y on"]),
    (companion.Linear, {}, ["x, W, b"]),
    (companion.Linear(4, 2, rng=0), {}, ["on input shapes (1, 4), (4, 4), (3, 4)"]),
    (companion.Sequential(companion.Linear(3, 4, rng=0), companion.Tanh(), companion.Linear(4, 2, rng=1)), {},
     ["x, 0.W, 0.b, 2.W, 2.b", "(1, 3)"]),
    (companion.ReLU, {}, []),
    (companion.Sigmoid(), {}, []),
    (companion.DivLayer, {"domain": (0.5, 2.0)}, ["for x, y"]),
    (companion.Log, {"domain": (0.5, 2.0)}, []),
    (companion.Exp, {"input_shapes": [(2,), (1, 1), (2, 3, 4)]}, ["(2,), (1, 1), (2, 3, 4)"]),
    (companion.AddLayer, {"input_shapes": [((4, 3), (3,)), ((2, 1), (1, 5))]}, ["(4, 3) and (3,)"]),
    (NeedsThreeArgs, {"args": (1, 2, 3)}, []),
]


@pytest.mark.parametrize("layer, kwargs, expected", CORRECT, ids=lambda v: getattr(v, "__name__", None) or repr(v)[:12])
def test_correct_layers_pass(layer, kwargs, expected, capsys):
    result = check_layer(layer, **kwargs)
    printed = flat(capsys.readouterr().out)
    assert result and result.passed and result.max_error < 1e-7, printed
    assert re.search(r"^check_layer\(\w+\): passed\. backward agrees with numerical gradients for ", printed)
    for text in expected:
        assert text in printed


def test_batch_size_one_is_always_tried_first():
    assert flat(check_layer(StudentLinear, verbose=False).message).split("input shapes ")[1].startswith("(1, ")


def test_a_log_layer_outside_its_domain_gets_a_hint_about_domain():
    result = check_layer(companion.Log, verbose=False)
    assert not result and "pass domain=(low, high)" in flat(result.message)


def test_verdicts_reproduce_and_numpy_global_state_is_restored():
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    first = check_layer(WrongGradWValues, verbose=False)
    assert np.random.rand() == expected_next  # the check seeded np.random for the layer, then put it back
    assert check_layer(WrongGradWValues, verbose=False).message == first.message


def test_quiet_mode_prints_nothing(capsys):
    assert check_layer(StudentTanh, verbose=False)
    assert capsys.readouterr().out == ""


def test_result_object():
    result = check_layer(StudentTanh, verbose=False)
    assert bool(result) is True and repr(result) == "CheckResult(passed=True)"
    assert str(result) == result.message


def test_a_notebook_shows_the_verdict_exactly_once(capsys):
    printed = check_layer(StudentTanh)  # printed by the checker: displaying the result adds nothing
    printed._ipython_display_()
    quiet = check_layer(StudentTanh, verbose=False)  # not printed yet: displaying the result shows it
    quiet._ipython_display_()
    assert capsys.readouterr().out == printed.message + "\n" + quiet.message + "\n"


def test_mistakes_in_calling_the_checker_raise_clear_errors():
    with pytest.raises(ValueError, match="check_layer: rtol must be a non-negative number, got -1"):
        check_layer(StudentTanh, rtol=-1)
    with pytest.raises(ValueError, match=r"check_layer: domain must be \(low, high\) with low < high"):
        check_layer(StudentTanh, domain=(2.0, 1.0))
    with pytest.raises(ValueError, match="check_gradient: atol must be a non-negative number"):
        check_gradient(np.sin, np.cos, 1.0, atol=float("nan"))
    with pytest.raises(ValueError, match="check_gradient: x contains NaN"):
        check_gradient(np.sin, np.cos, float("nan"))


# --- check_gradient -------------------------------------------------------------------------------


def sum_of_cubes(x):
    return np.sum(x ** 3)


def test_check_gradient_passes_a_correct_gradient(capsys):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert check_gradient(sum_of_cubes, lambda v: 3 * v ** 2, x)
    assert "passed. It agrees with the numerical gradient at all 4 entries of x" in flat(capsys.readouterr().out)
    result = check_gradient(np.sin, np.cos, 1.0, verbose=False)
    assert f"at x; max relative error {result.max_error:.0e}, below the tolerance 1e-07," in flat(result.message)


WRONG_GRADIENTS = [
    (lambda v: 3 * v, ["is wrong", "first wrong entry", "chain rule"]),
    (lambda v: -3 * v ** 2, ["the sign is flipped"]),
    (lambda v: 3 * v.T ** 2, ["is wrong", "transpose"]),
    (lambda v: (3 * v ** 2).ravel(), ["has shape (4,), expected x's shape (2, 2)"]),
    (lambda v: v / 0.0, ["contains inf"]),
    (lambda v: undefined_helper(v), ["raised NameError", "a name is not defined"]),  # noqa: F821
    (lambda v: None, ["is None"]),
]


@pytest.mark.parametrize("grad_f, expected", WRONG_GRADIENTS)
def test_check_gradient_reports_wrong_gradients(grad_f, expected, capsys):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    with np.errstate(divide="ignore"):
        result = check_gradient(sum_of_cubes, grad_f, x)
    printed = flat(capsys.readouterr().out)
    assert not result and printed.startswith("check_gradient(<lambda>): FAILED.") and "Traceback" not in printed
    for text in expected:
        assert text in printed, printed


def test_check_gradient_reports_a_function_that_is_not_scalar(capsys):
    assert not check_gradient(lambda v: v ** 2, lambda v: 2 * v, np.ones(3))
    assert "returned an array of shape (3,), expected one number" in flat(capsys.readouterr().out)


# --- check_answer ---------------------------------------------------------------------------------


def test_check_answer_accepts_every_form_of_a_right_answer(capsys):
    assert check_answer("ex-chain-hand", (1, 6))
    assert check_answer("ex-chain-hand", [1.0, 6.0004])  # right to 3 significant digits
    assert check_answer("ex-chain-hand", {"p'(1)": 6, "p(1)": 1})
    assert check_answer("ex-chain-hand", np.array([1, 6]))
    assert check_answer("ex-local-tanh", 0.7864)
    assert check_answer("ex-local-tanh", np.float64(0.78645))
    assert capsys.readouterr().out.splitlines()[:2] == ["check_answer('ex-chain-hand'): correct.", "  p(1) = 1, p'(1) = 6."]


def test_check_answer_says_which_value_is_wrong_without_giving_it_away(capsys):
    assert not check_answer("ex-chain-hand", (1, 12))
    printed = flat(capsys.readouterr().out)
    assert printed.startswith("check_answer('ex-chain-hand'): not yet.")
    assert "p'(1) is not right (p(1) is)" in printed and "hint: " in printed
    assert "6" not in printed.replace("p'(1) = 12", "")  # the expected 6 is never shown


@pytest.mark.parametrize("answer, expected", [
    (6, "the exercise asks for 2 values, got 1"),
    ((1, 6, 0), "the exercise asks for 2 values, got 3"),
    ({"p": 1, "dp": 6}, "do not match the exercise's ['p(1)', \"p'(1)\"]"),
    (("one", 6), "p(1) must be a number, got 'one'"),
    ((1, float("inf")), "p'(1) is inf, expected a finite number"),
    ("six", "the exercise asks for 2 values, got 1"),
])
def test_check_answer_explains_the_expected_form(answer, expected, capsys):
    assert not check_answer("ex-chain-hand", answer)
    printed = flat(capsys.readouterr().out)
    assert printed.startswith("check_answer('ex-chain-hand'): not checked.") and expected in printed
    assert "give 2 numbers in this order: (p(1), p'(1))" in printed


def test_check_answer_unknown_label_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"check_answer: no exercise 'ex-nope'; expected one of \[.*'ex-chain-bug'"):
        check_answer("ex-nope", 1)


class Softplus:  # the solution of ex-local-softplus
    def forward(self, x):
        self.x = np.asarray(x, dtype=float)
        return np.logaddexp(0.0, self.x)

    def backward(self, dout):
        return dout * companion.Sigmoid().forward(self.x)


class SoftplusWrongBackward(Softplus):
    def backward(self, dout):
        return dout / (1 + np.exp(self.x))


class SoftplusPlusOne(Softplus):
    def forward(self, x):
        return super().forward(x) + 1


def test_check_answer_for_an_implement_a_backward_exercise(capsys):
    assert check_answer("ex-local-softplus", Softplus)
    assert check_answer("ex-local-softplus", Softplus())
    assert flat(capsys.readouterr().out).startswith("check_answer('ex-local-softplus'): correct. forward computes")
    assert not check_answer("ex-local-softplus", SoftplusWrongBackward)
    printed = flat(capsys.readouterr().out)
    assert "not yet. check_layer(SoftplusWrongBackward): FAILED" in printed and "exercise hint:" in printed
    assert not check_answer("ex-local-softplus", SoftplusPlusOne)
    assert "forward computes the wrong function" in flat(capsys.readouterr().out)


def test_register_answer_refuses_duplicates_and_incomplete_entries():
    with pytest.raises(ValueError, match="already registered"):
        register_answer("ex-chain-hand", "chain_rule", names=("x",), compute=lambda: (1,), hint="")
    with pytest.raises(ValueError, match="exactly one of compute"):
        register_answer("ex-new", "chain_rule", hint="")
    with pytest.raises(ValueError, match="has compute but no names"):
        register_answer("ex-new", "chain_rule", compute=lambda: (1,), hint="")
    assert "ex-new" not in ANSWERS


# --- the registry: every expected value recomputed independently ----------------------------------


def fruit_bill(apple_price=200.0, all_price=None, orange=150.0, discount=0.0):
    all_price = apple_price + orange * 3 if all_price is None else all_price
    return (all_price - discount) * 1.1


def kink_central_difference():
    return companion.numerical_gradient(lambda v: max(v, 0.0), 0.0)


PINNED = {
    "ex-chain-hand": {"p(1)": (2 * 1 - 1) ** 3,
                      "p'(1)": companion.numerical_gradient(lambda x: (2 * x - 1) ** 3, 1.0)},
    "ex-chain-cube": {"value": (-3 + 1) ** 3, "derivative": companion.numerical_gradient(lambda x: (x + 1) ** 3, -3.0)},
    "ex-chain-bug": {"h'(3)": 2 * (3 + 1) ** 2},  # 2y with y = h(3) = 16
    "ex-graph-hand": {"d/d apple_price": companion.numerical_gradient(lambda a: fruit_bill(apple_price=a), 200.0),
                      "d/d all_price": companion.numerical_gradient(lambda a: fruit_bill(all_price=a), 650.0)},
    "ex-graph-sub": {"bill": fruit_bill(discount=50.0),
                     "d/d discount": companion.numerical_gradient(lambda d: fruit_bill(discount=d), 50.0)},
    "ex-graph-experiment": {"change": fruit_bill(orange=151.0) - fruit_bill(orange=150.0)},
    "ex-local-tanh": {"derivative": companion.numerical_gradient(np.tanh, 0.5)},
    "ex-local-kink": {"central difference": kink_central_difference(), "backward": 0.0},
    "ex-autodiff-shares": {"df/dx": companion.numerical_gradient(lambda x: (x + 3.0) * x, 2.0),
                           "df/dy": companion.numerical_gradient(lambda y: (2.0 + y) * 2.0, 3.0)},
    # Part V: counted, derived or simulated without the registry's code
    "ex-vjp-count": {"entries": (32 * 10) * (64 * 10), "nonzero": (32 * 10) * 64},
    "ex-vjp-tie": {"buggy": 2.0, "right": companion.numerical_gradient(lambda x: max(x, x), 1.0)},
    "ex-init-factor": {  # Var(u_k) / Var(u_{k-1}) = Var(u_k) for u_{k-1} ~ N(0, 1), over 40 random 64 x 64 layers
        name: np.mean([np.var(np.maximum(np.random.default_rng(1).normal(size=(1000, 64)), 0) @ init(64, 64, rng=seed))
                       for seed in range(40)])
        for name, init in (("normal", companion.standard_normal), ("xavier", companion.xavier_normal),
                           ("he", companion.he_normal))},
    "ex-init-leaky": {"std": 1 / np.sqrt(np.mean(np.where(np.random.default_rng(3).normal(size=400_000) > 0, 1.0, 0.01))
                                         * 64 / 2 * 2)},
    "ex-norm-pair": {"A1": -1 / np.sqrt(1 + 1e-5),
                     "dU1": companion.numerical_gradient(
                         lambda u: (u - (u + 3.0) / 2) / np.sqrt(((u - 3.0) / 2) ** 2 + 1e-5), 1.0)},
    "ex-reg-decay": {"per_step": 1 - 0.1 * 0.01, "after_100": np.exp(100 * np.log1p(-0.1 * 0.01))},
    # Part VII: central differences of the two-position scalar RNN; closed forms for [[a, 1], [0, a]]
    "ex-bptt-hand": {
        "dL/dW_X": companion.numerical_gradient(lambda w: np.tanh(-0.5 * w + 0.5 * np.tanh(w)), 1.0),
        "dL/dW_H": companion.numerical_gradient(lambda w: np.tanh(-0.5 + w * np.tanh(1.0)), 0.5),
        "dL/db": companion.numerical_gradient(lambda b: np.tanh(-0.5 + b + 0.5 * np.tanh(1.0 + b)), 0.0)},
    "ex-bptt-scatter-bug": {"buggy": 4.0, "right": 1.0 + 2.0 + 4.0},   # the last write of row "a"; every share
    "ex-bptt-nonnormal": {  # [[p, q], [0, p]] has largest singular value (|q| + sqrt(q^2 + 4 p^2)) / 2
        name: (abs(q) + np.sqrt(q ** 2 + 4 * p ** 2)) / 2
        for name, (p, q) in [("spectral norm", (0.9, 1.0)),
                             ("largest", max(((0.9 ** k, k * 0.9 ** (k - 1)) for k in range(1, 101)),
                                             key=lambda pq: pq[1] + np.sqrt(pq[1] ** 2 + 4 * pq[0] ** 2))),
                             ("at k = 100", (0.9 ** 100, 100 * 0.9 ** 99))]},
}
TOLERANCES = {"ex-init-factor": 0.03, "ex-init-leaky": 0.01}  # simulated, not exact


def test_every_numeric_answer_is_pinned_by_an_independent_computation():
    numeric = {label for label, entry in ANSWERS.items() if entry.compute is not None}
    assert numeric >= set(PINNED)
    for label, values in PINNED.items():
        expected = ANSWERS[label].expected()
        assert list(expected) == list(values), label
        for name, value in values.items():
            assert expected[name] == pytest.approx(value, rel=TOLERANCES.get(label, 1e-6), abs=1e-9), (label, name)
    assert PINNED["ex-chain-hand"] == pytest.approx({"p(1)": 1.0, "p'(1)": 6.0})
    assert PINNED["ex-graph-sub"]["bill"] == pytest.approx(660.0)


def test_the_layer_answers_reference_functions():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(ANSWERS["ex-local-softplus"].reference(x), np.log(1 + np.exp(x)), rtol=1e-12)


@pytest.mark.parametrize("label", sorted(ANSWERS))
def test_every_registered_answer_belongs_to_an_exercise_of_its_chapter(label):
    source = BOOK / f"{ANSWERS[label].chapter}.md"
    if not source.exists():
        pytest.skip(f"chapter {source.name} is not in this branch")
    assert re.search(rf"^:label: {re.escape(label)}$", source.read_text(), re.MULTILINE), f"{label} not in {source.name}"


# --- the tolerance: the chapter's pass threshold -----------------------------------------------


class GreyZoneDouble:
    """y = 2x with a local derivative 2 * (1 + 1e-6): relative error 5e-7, the chapter's grey zone."""

    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return dout * 2 * (1 + 1e-6)


def test_the_default_tolerance_is_the_chapters_pass_threshold():
    from companion import checks
    assert checks.RTOL == 1e-7
    assert companion.gradient_check.__defaults__[1] == checks.RTOL  # gradient_check(f, x, grad, h, tol): the same 1e-7


def test_a_layer_in_the_grey_zone_fails_and_the_verdict_says_why(capsys):
    result = check_layer(GreyZoneDouble)
    printed = flat(capsys.readouterr().out)
    assert not result
    assert "dx is wrong: max relative error 5.0e-07 (tolerance 1e-07, the pass threshold of the chapter " \
           "'Checking gradients numerically')" in printed
    assert "hint: the error is in the grey zone (1e-7 to 1e-4)" in printed
    assert "first wrong entry dx[0, 0]: yours 0.2098004, numerical 0.2098002" in printed  # digits enough to differ
    # with the old default of 1e-6 it would have passed; a looser rtol says it is not the chapter's
    looser = check_layer(GreyZoneDouble, rtol=1e-5)
    printed = flat(capsys.readouterr().out)
    assert looser and "below the tolerance 1e-05, the rtol you passed; the chapter 'Checking gradients numerically' " \
                      "passes below 1e-07" in printed


def test_a_passing_verdict_names_the_tolerance(capsys):
    assert check_layer(companion.Sigmoid)
    printed = flat(capsys.readouterr().out)
    assert re.search(r"max relative error \de-\d\d, below the tolerance 1e-07, the pass threshold of the chapter "
                     r"'Checking gradients numerically' \(entries closer than 1e-08 count as round-off\)\.$", printed)


# --- layers that draw random numbers, and layers with per-feature parameters ----------------------


class GlobalDropout:
    """Dropout drawing its mask from numpy's global generator, as many students write it."""

    def __init__(self, rate=0.5):
        self.rate = rate

    def forward(self, x):
        self.mask = (np.random.rand(*x.shape) >= self.rate) / (1 - self.rate)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class GeneratorDropout(GlobalDropout):
    """The same with its own generator, kept as self.rng (as companion.Dropout does)."""

    def __init__(self, rate=0.5):
        super().__init__(rate)
        self.rng = np.random.default_rng()

    def forward(self, x):
        self.mask = (self.rng.random(x.shape) >= self.rate) / (1 - self.rate)
        return x * self.mask


class DropoutForgotTheMask(GeneratorDropout):
    def backward(self, dout):
        return dout / (1 - self.rate)


class Scale:
    """y = gamma * x with one gamma per feature: no weight matrix to read the width from."""

    def __init__(self):
        self.gamma = np.array([1.0, 2.0, 3.0])

    def forward(self, x):
        self.x = x
        return self.gamma * x

    def backward(self, dout):
        self.grad_gamma = (dout * self.x).sum(axis=0)
        return dout * self.gamma


def test_random_layers_are_checked_with_their_random_numbers_replayed(capsys):
    assert check_layer(GlobalDropout) and check_layer(GeneratorDropout)
    assert not check_layer(DropoutForgotTheMask)
    assert "dx is wrong" in flat(capsys.readouterr().out)


def test_the_width_of_a_layer_with_per_feature_parameters_comes_from_them(capsys):
    assert check_layer(Scale)
    assert "on input shapes (1, 3), (4, 3), (3, 3)" in flat(capsys.readouterr().out)


# --- Part V's layer exercises: a student's BatchNorm and Dropout ---------------------------------


class StudentBatchNorm:
    ddof = 0  # the batch variance is divided by n - ddof

    def __init__(self, num_features, eps=1e-5):
        self.gamma, self.beta, self.eps = np.ones(num_features), np.zeros(num_features), eps

    def forward(self, x):
        centred = x - x.mean(axis=0)
        self.inv_std = 1 / np.sqrt(centred.var(axis=0, ddof=self.ddof) + self.eps)
        self.x_hat = centred * self.inv_std
        return self.gamma * self.x_hat + self.beta

    def backward(self, dout):
        n = len(dout)
        self.grad_gamma = np.sum(dout * self.x_hat, axis=0)
        self.grad_beta = dout.sum(axis=0)
        dx_hat = dout * self.gamma
        return self.inv_std / n * (n * dx_hat - dx_hat.sum(axis=0)
                                   - n / (n - self.ddof) * self.x_hat * np.sum(dx_hat * self.x_hat, axis=0))


class BatchNormNoStatistics(StudentBatchNorm):
    def backward(self, dout):
        super().backward(dout)
        return dout * self.gamma * self.inv_std


class BatchNormUnbiased(StudentBatchNorm):  # a consistent backward for another function: variance over n - 1
    ddof = 1


def test_check_answer_for_the_batchnorm_exercise(capsys):
    assert check_answer("ex-norm-batchnorm", StudentBatchNorm)
    assert "correct. forward computes the right function" in flat(capsys.readouterr().out)
    assert not check_answer("ex-norm-batchnorm", BatchNormNoStatistics)
    assert "dx is wrong" in flat(capsys.readouterr().out)
    assert not check_answer("ex-norm-batchnorm", BatchNormUnbiased)   # consistent backward, other function
    assert "forward computes the wrong function" in flat(capsys.readouterr().out)


class StudentDropout:
    def __init__(self, rate, rng=None):
        self.rate, self.rng, self.training = rate, np.random.default_rng(rng), True

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        if not self.training:
            self.mask = np.ones_like(x)
            return x
        self.mask = (self.rng.random(x.shape) >= self.rate) / (1 - self.rate)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class DropoutUnscaled(StudentDropout):
    def forward(self, x):
        out = super().forward(x)
        return out * (1 - self.rate) if self.training else out

    def backward(self, dout):
        return dout * self.mask * (1 - self.rate)


class DropoutOneMask(StudentDropout):
    def forward(self, x):
        if self.training and getattr(self, "fixed", None) is None:
            self.fixed = (np.random.default_rng(0).random(x.shape) >= self.rate) / (1 - self.rate)
        self.mask = self.fixed if self.training else np.ones_like(x)
        return x * self.mask


class DropoutAlsoInEval(StudentDropout):
    def eval(self):
        return self  # never leaves training mode


class DropoutDropsTooMuch(StudentDropout):
    def forward(self, x):
        if not self.training:
            self.mask = np.ones_like(x)
            return x
        self.mask = (self.rng.random(x.shape) >= 0.9) / (1 - self.rate)
        return x * self.mask


class DropoutWithoutModes:
    def __init__(self, rate):
        self.rate = rate

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


@pytest.mark.parametrize("layer, expected", [
    (DropoutUnscaled, "a kept entry must be x / (1 - rate)"),
    (DropoutOneMask, "each forward must draw a new mask"),
    (DropoutAlsoInEval, "in evaluation mode the layer must return its input unchanged"),
    (DropoutDropsTooMuch, "of the entries were dropped; with rate 0.5 expected about 50%"),
    (DropoutWithoutModes, "the layer has no train() method"),
], ids=lambda v: getattr(v, "__name__", "msg"))
def test_check_answer_for_the_dropout_exercise_explains_wrong_behaviour(layer, expected, capsys):
    assert not check_answer("ex-reg-dropout", layer)
    printed = flat(capsys.readouterr().out)
    assert "the layer does not behave as the exercise asks" in printed and expected in printed
    assert "exercise hint:" in printed


def test_check_answer_for_the_dropout_exercise_accepts_a_correct_layer(capsys):
    assert check_answer("ex-reg-dropout", StudentDropout)
    assert "correct. forward behaves as the exercise asks" in flat(capsys.readouterr().out)
    assert check_answer("ex-reg-dropout", companion.Dropout)   # companion's own passes too


def test_a_layer_answer_needs_compute_or_a_layer_check():
    with pytest.raises(ValueError, match="exactly one of compute \\(with names\\) or a layer answer"):
        register_answer("ex-new", "chain_rule", compute=lambda: (1,), names=("x",), verify=lambda make: [], hint="")
    assert "ex-new" not in ANSWERS


def test_a_constructor_that_takes_rng_is_seeded_so_verdicts_reproduce():
    first = check_answer("ex-reg-dropout", StudentDropout, verbose=False).message
    assert check_answer("ex-reg-dropout", StudentDropout, verbose=False).message == first
    assert check_layer(StudentDropout, args=(0.5, 7), verbose=False)           # rng given positionally: kept
    assert check_layer(StudentDropout, args=(0.5,), verbose=False).max_error == \
        check_layer(StudentDropout, args=(0.5,), verbose=False).max_error


# --- part VI: check_layer on image layers, and the exercise ex-conv-backward -------------------------


class StudentConv(companion.Conv2d):
    """A correct Conv2d.backward, the way chapter "Convolution backward by hand" derives it (offset by offset)."""

    def backward(self, dout):
        x, W, s, a = self.x, self.W, self.stride, self.padding
        n, c_in, h, w = x.shape
        _, _, oh, ow = dout.shape
        k = W.shape[2]
        xpad = np.pad(x, ((0, 0), (0, 0), (a, a), (a, a)))
        dxpad = np.zeros_like(xpad)
        for alpha in range(k):
            for beta in range(k):
                rows, cols = slice(alpha, alpha + s * (oh - 1) + 1, s), slice(beta, beta + s * (ow - 1) + 1, s)
                self.grad_W[:, :, alpha, beta] = np.einsum("ijpq,ilpq->jl", dout, xpad[:, :, rows, cols])
                dxpad[:, :, rows, cols] += np.einsum("ijpq,jl->ilpq", dout, W[:, :, alpha, beta])
        self.grad_b[...] = dout.sum(axis=(0, 2, 3))
        return dxpad[:, :, a:a + h, a:a + w]


class StudentConvFullConvolution(companion.Conv2d):
    """Correct too: dx as the full convolution of the dilated dout with the kernel turned by 180 degrees."""

    flip = True

    def backward(self, dout):
        x, W, s, a = self.x, self.W, self.stride, self.padding
        n, c_in, h, w = x.shape
        _, c_out, oh, ow = dout.shape
        k = W.shape[2]
        dilated = np.zeros((n, c_out, s * (oh - 1) + 1, s * (ow - 1) + 1))   # s - 1 zeros between entries
        dilated[:, :, ::s, ::s] = dout
        kernel = W[:, :, ::-1, ::-1] if self.flip else W                   # turned by 180 degrees
        around = np.pad(dilated, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        rows, cols = dilated.shape[2] + k - 1, dilated.shape[3] + k - 1     # the full correlation's size
        full = np.zeros((n, c_in, rows, cols))
        for alpha in range(k):
            for beta in range(k):
                full += np.einsum("ijpq,jl->ilpq", around[:, :, alpha:alpha + rows, beta:beta + cols],
                                  kernel[:, :, alpha, beta])
        dxpad = np.zeros((n, c_in, h + 2 * a, w + 2 * a))
        dxpad[:, :, :rows, :cols] = full            # pixels after the last window get no gradient
        xpad = np.pad(x, ((0, 0), (0, 0), (a, a), (a, a)))
        for alpha in range(k):
            for beta in range(k):
                self.grad_W[:, :, alpha, beta] = np.einsum(
                    "ijpq,ilpq->jl", dilated, xpad[:, :, alpha:alpha + dilated.shape[2], beta:beta + dilated.shape[3]])
        self.grad_b[...] = dout.sum(axis=(0, 2, 3))
        return dxpad[:, :, a:a + h, a:a + w]


class StudentConvForgotToFlip(StudentConvFullConvolution):
    flip = False


class StudentConvIm2col(companion.Conv2d):
    """im2col style: Linear's backward, then col2im; ``assign`` (=) instead of adding is the classic slip."""

    assign = False
    transpose_grad = True

    def backward(self, dout):
        c_out, c_in, k, _ = self.W.shape
        s, a = self.stride, self.padding
        n, _, h, w = self.x.shape
        _, _, oh, ow = dout.shape
        dout_col = dout.transpose(0, 2, 3, 1).reshape(-1, c_out)
        grad_W_col = self.col.T @ dout_col                      # (c_in*k*k, c_out)
        self.grad_W[...] = (grad_W_col.T if self.transpose_grad else grad_W_col).reshape(self.W.shape)
        self.grad_b[...] = dout_col.sum(axis=0)
        dcol = (dout_col @ self.W.reshape(c_out, -1)).reshape(n, oh, ow, c_in, k, k)
        dxpad = np.zeros((n, c_in, h + 2 * a, w + 2 * a))
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    window = dxpad[i, :, s * p:s * p + k, s * q:s * q + k]
                    if self.assign:
                        window[...] = dcol[i, p, q]
                    else:
                        window += dcol[i, p, q]
        return dxpad[:, :, a:a + h, a:a + w]


class StudentConvForgotTheSum(StudentConvIm2col):
    assign = True


class StudentConvTransposedWeightGradient(StudentConvIm2col):
    transpose_grad = False


@pytest.mark.parametrize("student", [StudentConv, StudentConvFullConvolution, StudentConvIm2col], ids=lambda c: c.__name__)
def test_correct_conv_backwards_pass_the_exercise(student, capsys):
    assert check_answer("ex-conv-backward", student)
    printed = flat(capsys.readouterr().out)
    assert printed.startswith("check_answer('ex-conv-backward'): correct. forward computes the right function, and "
                              "backward agrees with numerical gradients in 3 configurations; max relative error")


@pytest.mark.parametrize("student, expected", [
    (StudentConvForgotToFlip, "not yet. check_layer(StudentConvForgotToFlip): FAILED on input shape (1, 2, 4, 5). "
                              "(the layer was created as StudentConvForgotToFlip(2, 3, 3)) dx is wrong"),
    (StudentConvForgotTheSum, "not yet. check_layer(StudentConvForgotTheSum): FAILED on input shape (1, 2, 4, 5). "
                              "(the layer was created as StudentConvForgotTheSum(2, 3, 3)) dx is wrong"),
    (StudentConvTransposedWeightGradient, "grad_W is wrong: max relative error"),
], ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_wrong_conv_backwards_get_a_verdict_and_the_exercise_hint(student, expected, capsys):
    assert not check_answer("ex-conv-backward", student)
    printed = flat(capsys.readouterr().out)
    assert expected in printed, printed
    assert "exercise hint: grad_W correlates the (padded) input with dout" in printed
    if student is StudentConvTransposedWeightGradient:
        assert ("hint: the right numbers in the wrong places: the (c_in*k*k, c_out) matrix col.T @ dout_col was "
                "reshaped to (c_out, c_in, k, k) without being transposed first") in printed


def test_the_forgotten_sum_passes_where_windows_do_not_overlap(capsys):
    """Assigning instead of adding is only wrong where windows overlap: kernel 2, stride 2 hides it."""
    assert check_layer(StudentConvForgotTheSum(2, 3, 2, stride=2, rng=0))
    assert not check_layer(StudentConvForgotTheSum(2, 3, 2, stride=1, rng=0))


@pytest.mark.parametrize("layer, shapes", [
    (companion.Conv2d, "(1, 1, 4, 5), (3, 2, 4, 3), (2, 3, 1, 2)"),
    (companion.Conv2d(2, 3, 3, stride=2, padding=1, rng=0), "(1, 2, 3, 5), (3, 2, 5, 3), (2, 2, 1, 3)"),
    (companion.Conv2d(1, 2, 1, padding=1, rng=0), "(1, 1, 1, 1), (3, 1, 1, 1), (2, 1, 1, 1)"),
    (companion.MaxPool2d(2), "(1, 2, 4, 6), (3, 2, 6, 4), (2, 2, 2, 4)"),
    (companion.AvgPool2d(3, stride=1, padding=1), "(1, 2, 2, 3), (3, 2, 3, 2), (2, 2, 1, 2)"),
    (companion.Flatten, "(1, 3), (4, 5), (3, 2)"),
], ids=str)
def test_check_layer_picks_input_shapes_that_fit_image_layers(layer, shapes, capsys):
    result = check_layer(layer)
    assert result, result.message
    assert f"on input shapes {shapes};" in flat(capsys.readouterr().out)


def test_check_layer_names_swapped_channel_axes_of_grad_w(capsys):
    class SwappedAxes(companion.Conv2d):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grad_W = self.grad_W.transpose(1, 0, 2, 3)
            return dx

    assert not check_layer(SwappedAxes(2, 3, 3, rng=0))
    assert ("hint: its first two axes are swapped: W has shape (c_out, c_in, k, k), and so has grad_W"
            in flat(capsys.readouterr().out))


def test_check_layer_seeds_a_class_created_from_args():
    first = check_layer(companion.Conv2d, args=(2, 3, 3, 2, 1), verbose=False)
    assert first and first.message == check_layer(companion.Conv2d, args=(2, 3, 3, 2, 1), verbose=False).message


PINNED_PART_VI = {
    # u_a = x_a w_0 + x_(a+1) w_1 with x = (1, 2, -1, 3), w = (2, -1), L = u_0 - 2 u_2
    "ex-conv-hand": {"dL/dw0": 1 * 1 - 2 * -1, "dL/dw1": 1 * 2 - 2 * 3,
                     "dL/dx0": 1 * 2, "dL/dx1": 1 * -1, "dL/dx2": -2 * 2, "dL/dx3": -2 * -1},
    "ex-im2col-shapes": {"rows of col": 32 * 4 * 4, "columns of col": 16 * 3 * 3,
                         "multiplications": 32 * 4 * 4 * 16 * 3 * 3 * 32},
    "ex-im2col-count": {"corner": 2 * 2, "edge middle": 2 * 3, "centre": 3 * 3},
    "ex-cnn-params": {"conv1": 16 * 1 * 9 + 16, "conv2": 32 * 16 * 9 + 32, "linear1": 128 * 64 + 64,
                      "linear2": 64 * 10 + 10},
    "ex-cnn-receptive": {"after conv2": 3 + (2 - 1) + (3 - 1) * 2, "after pool2": 3 + 1 + 2 * 2 + (2 - 1) * 2},
}


def test_every_part_vi_numeric_answer_is_pinned_by_an_independent_computation():
    for label, values in PINNED_PART_VI.items():
        expected = ANSWERS[label].expected()
        assert expected == pytest.approx(values, abs=1e-12), label
    dw = companion.numerical_gradient(lambda w: (w[0] * 1 + w[1] * 2) - 2 * (w[0] * -1 + w[1] * 3), np.array([2.0, -1.0]))
    assert dw == pytest.approx([3.0, -4.0])


# --- part VII: the exercise ex-attention-backward ------------------------------------------------------------


class StudentAttention:
    """A correct single-head self-attention layer, written the way chapter "Self-attention, derived by hand" derives it."""

    row_sum, transpose_key, scale_keys, all_shares = True, True, True, True

    def __init__(self, dim, causal=False, rng=None):
        rng = np.random.default_rng(rng)
        self.W_q, self.W_k, self.W_v, self.W_o = (rng.normal(scale=dim ** -0.5, size=(dim, dim)) for _ in range(4))
        self.causal = causal

    def forward(self, x):
        self.x = x
        self.Q, self.K, self.V = x @ self.W_q, x @ self.W_k, x @ self.W_v
        E = self.Q @ self.K.transpose(0, 2, 1) / np.sqrt(x.shape[-1])
        if self.causal:
            E = np.where(np.triu(np.ones(E.shape[-2:], dtype=bool), k=1), -np.inf, E)
        E = np.exp(E - E.max(axis=-1, keepdims=True))
        self.P = E / E.sum(axis=-1, keepdims=True)
        self.O = self.P @ self.V
        return self.O @ self.W_o

    def backward(self, dout):
        x, P, scale = self.x, self.P, 1 / np.sqrt(self.x.shape[-1])
        self.grad_W_o = np.einsum("isl,isj->lj", self.O, dout)
        dO = dout @ self.W_o.T
        dV = P.transpose(0, 2, 1) @ dO
        dP = dO @ self.V.transpose(0, 2, 1)
        dE = P * (dP - (dP * P).sum(axis=-1, keepdims=True)) if self.row_sum else P * dP
        dQ = dE @ self.K * scale
        dK = (dE.transpose(0, 2, 1) if self.transpose_key else dE) @ self.Q * (scale if self.scale_keys else 1)
        self.grad_W_q = np.einsum("isl,isj->lj", x, dQ)
        self.grad_W_k = np.einsum("isl,isj->lj", x, dK)
        self.grad_W_v = np.einsum("isl,isj->lj", x, dV)
        dx = dQ @ self.W_q.T + dK @ self.W_k.T
        return dx + dV @ self.W_v.T if self.all_shares else dx


class StudentAttentionNoRowSum(StudentAttention):
    row_sum = False       # dE = P * dP: the softmax's Jacobian without its -p p^T part


class StudentAttentionUntransposedKeys(StudentAttention):
    transpose_key = False     # dK = dE Q instead of dE^T Q: a key's gradient taken along the queries' axis


class StudentAttentionUnscaledKeys(StudentAttention):
    scale_keys = False


class StudentAttentionOneShareMissing(StudentAttention):
    all_shares = False    # x feeds Q, K and V; the values' share of dx forgotten


class StudentAttentionNoMask(StudentAttention):
    """A consistent backward of the wrong function: the causal mask is ignored."""

    def __init__(self, dim, causal=False, rng=None):
        super().__init__(dim, False, rng)


def test_a_correct_attention_backward_passes_the_exercise(capsys):
    assert check_answer("ex-attention-backward", StudentAttention)
    printed = flat(capsys.readouterr().out)
    assert printed.startswith("check_answer('ex-attention-backward'): correct. forward computes the right function, "
                              "and backward agrees with numerical gradients in 2 configurations; max relative error")


def test_the_companion_layer_passes_the_exercise_too():
    """SelfAttention with one head is the exercise's layer (its constructor takes causal as a keyword)."""
    class OneHead(companion.SelfAttention):
        def __init__(self, dim, causal=False, rng=None):
            super().__init__(dim, 1, causal=causal, rng=rng)

    assert check_answer("ex-attention-backward", OneHead, verbose=False)


@pytest.mark.parametrize("student, expected", [
    (StudentAttentionNoRowSum, "not yet. check_layer(StudentAttentionNoRowSum): FAILED on input shape (2, 3, 4). "
                               "(the layer was created as StudentAttentionNoRowSum(4, True)) dx is wrong"),
    (StudentAttentionUntransposedKeys, "not yet. check_layer(StudentAttentionUntransposedKeys): FAILED on input "
                                       "shape (2, 3, 4). (the layer was created as "
                                       "StudentAttentionUntransposedKeys(4, True)) dx is wrong"),
    (StudentAttentionUnscaledKeys, "dx is wrong"),
    (StudentAttentionOneShareMissing, "dx is wrong"),
], ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_wrong_attention_backwards_get_a_verdict_naming_the_first_wrong_entry(student, expected, capsys):
    assert not check_answer("ex-attention-backward", student)
    printed = flat(capsys.readouterr().out)
    assert expected in printed, printed
    assert re.search(r"first wrong entry dx\[\d+, \d+, \d+\]: yours -?[\d.e+-]+, numerical", printed), printed
    assert "exercise hint: each row of P is a softmax, so dE needs the softmax chapter's sum over the row" in printed


def test_an_attention_without_its_mask_computes_the_wrong_function(capsys):
    assert not check_answer("ex-attention-backward", StudentAttentionNoMask)
    printed = flat(capsys.readouterr().out)
    assert "not yet. backward is consistent with forward, but forward computes the wrong function." in printed, printed


def test_the_attention_answer_is_computed_by_companion():
    """The reference agrees with the attention written out with loops, position by position."""
    layer = StudentAttention(4, causal=True, rng=0)
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    expected = ANSWERS["ex-attention-backward"].reference(x, layer)
    Q, K, V = x @ layer.W_q, x @ layer.W_k, x @ layer.W_v
    for i in range(2):
        for tau in range(3):
            scores = np.array([Q[i, tau] @ K[i, key] / 2.0 for key in range(tau + 1)])   # sqrt(4) = 2
            weights = np.exp(scores) / np.exp(scores).sum()
            row = sum(weights[key] * V[i, key] for key in range(tau + 1)) @ layer.W_o
            np.testing.assert_allclose(expected[i, tau], row, rtol=1e-12)


# --- Part VII — language model: the answers recomputed from the text's characters -------------------------

def bigram_loss_from_strings():
    """The add-one bigram's held-out loss with Counters over the characters themselves (no CharVocab, no ids)."""
    from collections import Counter
    text = companion.load_devils_dictionary()
    cut = text.find("\n\n", int(0.9 * len(text))) + 2
    train, held = text[:cut], text[cut:]
    alphabet = set(text)
    pairs, firsts = Counter(zip(train, train[1:])), Counter(train[:-1])
    return -sum(np.log((pairs[a, b] + 1) / (firsts[a] + len(alphabet))) for a, b in zip(held, held[1:])) / (len(held) - 1)


def test_every_part_vii_language_model_answer_is_pinned_by_an_independent_computation():
    pinned = {"ex-lm-bigram": {"held-out loss": bigram_loss_from_strings()},
              "ex-lm-count": {"per step": 32 * 32, "in 800 steps": 32 * 32 * 800,
                              "per training character": 32 * 32 * 800 / 269_826}}
    for label, values in pinned.items():
        expected = ANSWERS[label].expected()
        assert list(expected) == list(values), label
        assert expected == pytest.approx(values, rel=1e-10), label
