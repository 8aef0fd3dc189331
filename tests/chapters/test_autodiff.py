"""Numbers stated in book/autodiff.md, recomputed with companion (Tensor, the layers, viz)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import companion
from companion import Linear, MSELoss, ReLU, Sequential, Sigmoid, Tensor
from companion.autodiff import topological_order
from companion.viz import draw_graph, to_mermaid, trace


def snack_bill():
    snack, number, tax = Tensor(30.0, name="Snack"), Tensor(5.0, name="Number"), Tensor(1.2, name="Tax")
    subtotal = snack * number
    total = subtotal * tax
    total.name = "Total"
    total.backward()
    return snack, number, tax, subtotal, total


def test_snack_bill_steps_1_to_3():
    snack, number, tax, subtotal, total = snack_bill()
    assert total.item() == 180.0
    assert (float(subtotal.grad), float(tax.grad), float(snack.grad), float(number.grad)) == (1.2, 150.0, 6.0, 36.0)
    assert [t.op or t.item() for t in topological_order(total)] == [30.0, 5.0, "×", 1.2, "×"]
    assert '    n2 -->|"150; grad 1.2"| n4' in to_mermaid(total).splitlines()


def test_step_4_overwriting_gives_3_and_adding_gives_4():
    x, y = Tensor(2.0, name="x"), Tensor(3.0, name="y")
    f = x * y + x
    f.backward()
    assert (float(x.grad), float(y.grad)) == (4.0, 2.0)
    # reversed topological order visits "+" before "×": overwriting keeps the multiplication's share, y = 3
    ops = [t.op for t in reversed(topological_order(f)) if t.op]
    assert ops == ["+", "×"]
    shares = {trace(f).nodes[e.dst].label: float(e.grad) for e in trace(f).edges if e.src == "x"}
    assert shares == {"×": 3.0, "+": 1.0}


def test_step_5_a_broadcast_bias_gets_the_sum_over_rows():
    U = Tensor(np.random.default_rng(0).normal(size=(4, 3)))
    b = Tensor(np.zeros(3))
    (U + b).sum().backward()
    np.testing.assert_array_equal(b.grad, [4.0, 4.0, 4.0])


def test_every_operation_passes_the_numerical_check():
    rng = np.random.default_rng(1)
    a, w = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    errors = companion.tensor_gradient_errors(lambda x, y: (x / (y * y + 1)).sigmoid() @ np.ones(3), a, w, rng=2)
    assert max(errors.values()) < 1e-7


def two_layer():
    rng = np.random.default_rng(0)
    X_data, T_data = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    net = Sequential(Linear(3, 4, init="xavier", rng=1), Sigmoid(), Linear(4, 2, init="xavier", rng=2), Sigmoid())
    for layer in (net[0], net[2]):
        layer.b[...] = rng.normal(size=layer.b.shape)
    net.backward(2 * (net.forward(X_data) - T_data))
    params = [Tensor(p.copy(), name=n) for n, p in zip(("W1", "b1", "W2", "b2"), (net[0].W, net[0].b, net[2].W, net[2].b))]
    X, T = Tensor(X_data, requires_grad=False, name="X"), Tensor(T_data, requires_grad=False, name="T")

    def loss(W1, b1, W2, b2):
        return ((((X @ W1 + b1).sigmoid() @ W2 + b2).sigmoid() - T) ** 2).sum()

    return net, params, loss


def test_two_layer_network_gradients_equal_the_layers_and_the_numerical_ones():
    net, params, loss = two_layer()
    L = loss(*params)
    L.backward()
    for tensor, (_, grad) in zip(params, net.parameters()):
        assert companion.relative_error(tensor.grad, grad) < 1e-12
    errors = companion.tensor_gradient_errors(loss, *(p.data for p in params), rng=3)
    assert max(errors.values()) < 1e-7
    assert len(trace(L).nodes) == 16
    fig = draw_graph(L)  # continues from A on the second band and from B on the third
    connectors = sorted(t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("connector:"))
    assert connectors == ["A", "A", "B", "B"]
    plt.close(fig)


def test_the_erratum_the_gradient_to_y_is_dout_times_W2_transposed():
    net, (W1, b1, W2, b2), _ = two_layer()
    rng = np.random.default_rng(0)
    X_data, T_data = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    Z1 = (Tensor(X_data, requires_grad=False) @ W1 + b1).sigmoid()
    U2 = Z1 @ W2 + b2
    ((U2.sigmoid() - T_data) ** 2).sum().backward()
    assert np.array_equal(Z1.grad, U2.grad @ W2.data.T)

    def loss_of_Z1(z1):
        return float(np.sum((Sigmoid().forward(z1 @ W2.data + b2.data) - T_data) ** 2))

    assert companion.relative_error(Z1.grad, companion.numerical_gradient(loss_of_Z1, Z1.data)) < 1e-7


def three_layer():
    rng = np.random.default_rng(4)
    x_data = rng.uniform(-2, 2, size=(50, 1))
    t_data = np.sin(2 * x_data) + 0.1 * rng.normal(size=(50, 1))
    reg = Sequential(Linear(1, 2, rng=5), ReLU(), Linear(2, 3, rng=6), ReLU(), Linear(3, 1, rng=7))
    for layer in (reg[0], reg[2], reg[4]):
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    X3, T3 = Tensor(x_data, requires_grad=False, name="X"), Tensor(t_data, requires_grad=False, name="T")

    def loss(W1, b1, W2, b2, W3, b3):
        Z2 = ((X3 @ W1 + b1).relu() @ W2 + b2).relu()
        return ((Z2 @ W3 + b3 - T3) ** 2).sum() / (2 * len(X3))

    return x_data, t_data, reg, loss


def test_three_layer_network_gradients_and_its_22_node_graph_on_four_bands():
    x_data, t_data, reg, loss = three_layer()
    mse = MSELoss()
    mse.forward(reg.forward(x_data), t_data)
    reg.backward(mse.backward())
    Z2 = Sequential(*reg.layers[:4]).forward(x_data)
    dU3 = (reg.forward(x_data) - t_data) / len(x_data)
    assert companion.relative_error(Z2.T @ dU3, reg[4].grad_W) < 1e-12
    params = [Tensor(p.copy()) for p, _ in reg.parameters()]
    L = loss(*params)
    L.backward()
    for tensor, (_, grad) in zip(params, reg.parameters()):
        assert companion.relative_error(tensor.grad, grad) < 1e-12
    assert max(companion.tensor_gradient_errors(loss, *(p.data for p in params), rng=8).values()) < 1e-7
    assert len(trace(L).nodes) == 22
    fig = draw_graph(L)
    connectors = sorted(t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("connector:"))
    assert connectors == ["A", "A", "B", "B", "C", "C"]
    divisor = [t for t in topological_order(L) if not t.parents and not t.requires_grad and t.size == 1]
    assert [d.item() for d in divisor] == [100.0] == [2 * len(x_data)]  # "the constant 100 is 2n"
    plt.close(fig)


def test_training_both_ways_gives_the_same_numbers_and_zero_grad_matters():
    x_data, t_data, reg, loss = three_layer()
    start = [p.copy() for p, _ in reg.parameters()]
    mse = MSELoss()
    history = []
    for _ in range(300):
        history.append(mse.forward(reg.forward(x_data), t_data))
        reg.backward(mse.backward())
        for param, grad in reg.parameters():
            param -= 0.1 * grad

    def train(zero_grad):
        ps = [Tensor(p.copy()) for p in start]
        losses = []
        for _ in range(300):
            L = loss(*ps)
            losses.append(L.item())
            for p in ps:
                if zero_grad:
                    p.zero_grad()
            L.backward()
            for p in ps:
                p.data -= 0.1 * p.grad
        return losses, ps

    losses, ps = train(zero_grad=True)
    assert max(abs(a - b) for a, b in zip(history, losses)) < 1e-12
    assert max(np.max(np.abs(p.data - q)) for p, (q, _) in zip(ps, reg.parameters())) < 1e-12
    assert history[-1] < history[0]
    broken, _ = train(zero_grad=False)
    assert broken[-1] > losses[-1] + 0.05  # "a clearly higher loss"


def test_backward_on_a_non_scalar_refuses_with_a_message():
    with pytest.raises(ValueError, match="needs a single number"):
        (Tensor(np.ones((5, 2))) * 2).backward()


def test_exercises():
    x, y = Tensor(2.0, name="x"), Tensor(3.0, name="y")
    f = (x + y) * x
    f.backward()
    assert (float(x.grad), float(y.grad)) == (7.0, 2.0)
    assert sorted(float(e.grad) for e in trace(f).edges if e.src == "x") == [2.0, 5.0]

    # the eager backward: h = x + 1 = 3 feeds h * h; x gets the first share 3, then the total 6
    h = Tensor(2.0) + 1.0
    share, _ = (h * h).local_backward(np.array(1.0))
    assert float(share) == 3.0 and float(share) + 2 * float(share) == 9.0
    x = Tensor(2.0)
    (lambda h: h * h)(x + 1.0).backward()
    assert float(x.grad) == 6.0

    first = Tensor(0.0)
    t = first
    for _ in range(10_000):
        t = t + 1.0
    t.backward()
    assert (t.item(), float(first.grad)) == (10_000.0, 1.0)
