"""Numbers stated in book/chain_rule.md."""

import pytest

import companion


def test_h_of_3_is_16_and_its_derivative_8():
    plus1, square = companion.Plus1(), companion.Square()
    assert square(plus1(3)) == 16.0
    assert square.backward(1.0) == 8.0  # dy/du = 2u at u = 4
    assert plus1.backward(8.0) == 8.0
    assert companion.numerical_gradient(lambda x: (x + 1) ** 2, 3.0) == pytest.approx(8.0, abs=1e-6)


def test_three_function_chain_k():
    nodes = [companion.Plus1(), companion.Square(), companion.Reciprocal()]
    value = 3.0
    for node in nodes:
        value = node(value)
    assert value == 0.0625
    running = []
    grad = 1.0
    for node in reversed(nodes):
        grad = node.backward(grad)
        running.append(grad)
    assert running == [-0.00390625, -0.03125, -0.03125]  # -1/256, then times 8, then times 1
    assert -2 / (3 + 1) ** 3 == -0.03125
    assert companion.numerical_gradient(lambda x: 1 / (x + 1) ** 2, 3.0) == pytest.approx(-0.03125, abs=1e-9)


def test_exercises():
    assert companion.numerical_gradient(lambda x: (2 * x - 1) ** 3, 1.0) == pytest.approx(6.0, abs=1e-6)
    assert companion.numerical_gradient(lambda x: (x + 1) ** 3, -3.0) == pytest.approx(12.0, abs=1e-6)
    assert 2 * (3 + 1) ** 2 == 32  # the buggy Square's answer
