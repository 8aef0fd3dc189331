"""Numbers stated in book/local_derivatives.md."""

import numpy as np
import pytest

import companion


def test_division_rule_and_the_sources_slip():
    div = companion.DivLayer()
    div.forward(3.0, 2.0)
    _, dy = div.backward(1.0)
    assert dy == -0.75 == pytest.approx(companion.numerical_gradient(lambda v: 3.0 / v, 2.0))
    assert -1 / 2.0 ** 2 == -0.25  # what -1/y**2 would give


def test_sigmoid_through_its_own_graph_at_1():
    neg, exp, add, recip = companion.MulLayer(), companion.Exp(), companion.AddLayer(), companion.Reciprocal()
    a = neg.forward(1.0, -1.0)
    b = exp.forward(a)
    s = add.forward(b, 1.0)
    y = recip.forward(s)
    assert (round(a, 6), round(b, 6), round(s, 6), round(y, 6)) == (-1.0, 0.367879, 1.367879, 0.731059)
    ds = recip.backward(1.0)
    db, _ = add.backward(ds)
    da = exp.backward(db)
    dx, _ = neg.backward(da)
    assert (round(ds, 6), round(db, 6), round(da, 6), round(dx, 6)) == (-0.534447, -0.534447, -0.196612, 0.196612)
    assert round(dx, 12) == round(y * (1 - y), 12) == round(y ** 2 * np.exp(-1.0), 12) == 0.196611933241
    sig = companion.Sigmoid()
    sig.forward(1.0)
    assert sig.backward(1.0) == pytest.approx(dx, rel=1e-15)


@pytest.mark.parametrize(
    "node, inputs",
    [
        (companion.Exp(), "x"), (companion.Log(), "positive"), (companion.Power(3), "x"),
        (companion.Power(0.5), "positive"), (companion.Reciprocal(), "away"), (companion.Tanh(), "x"),
        (companion.ReLU(), "away"), (companion.Sigmoid(), "x"),
    ],
    ids=repr,
)
def test_every_rule_in_the_summary_table_passes_the_chapters_check(node, inputs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    positive = rng.uniform(0.5, 2.0, size=(3, 4))
    away = positive * rng.choice([-1, 1], size=(3, 4))
    data = {"x": x, "positive": positive, "away": away}[inputs]
    assert companion.layer_gradient_errors(node, data, rng=2)["x"] < 1e-7


def test_exercise_numbers():
    assert round(1 - np.tanh(0.5) ** 2, 9) == 0.786447733
    relu = companion.ReLU()
    relu.forward(0.0)
    assert relu.backward(1.0) == 0.0
    assert companion.numerical_gradient(relu.forward, 0.0) == 0.5
