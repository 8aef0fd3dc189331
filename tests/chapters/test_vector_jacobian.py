"""Numbers stated in book/vector_jacobian.md, recomputed with companion."""

import numpy as np
import pytest

import companion
from companion import Linear, ReLU, Sequential, SoftmaxCrossEntropy, Tensor, numerical_jacobian


def test_tanh_jacobian_is_diagonal_and_its_vjp_is_the_backward():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    J = numerical_jacobian(np.tanh, x)
    tanh = companion.Tanh()
    tanh.forward(x)
    assert f"{companion.relative_error(dout.ravel() @ J, tanh.backward(dout).ravel()):.0e}" == "2e-11"
    np.testing.assert_allclose(J - np.diag(np.diag(J)), 0, atol=1e-10)
    assert np.diag(J).round(3).tolist() == [0.984, 0.983, 0.681, 0.989, 0.76, 0.88]


def test_the_jacobians_of_a_matrix_product_and_their_size():
    n, d_in, d_out = 128, 784, 256
    size_U = n * d_out
    assert (size_U, n * d_in, d_in * d_out) == (32_768, 100_352, 200_704)
    assert size_U * n * d_in == 3_288_334_336 and round(size_U * n * d_in * 8 / 1e9, 1) == 26.3
    assert size_U * d_in * d_out == 6_576_668_672 and round(size_U * d_in * d_out * 8 / 1e9, 1) == 52.6
    assert (size_U * n * d_in) // (size_U * d_in) == 128 and (size_U * d_in * d_out) // (size_U * d_in) == 256
    assert n * d_out * d_in == 25_690_112 and round(n * d_in * 8 / 1e6, 1) == 0.8
    rng = np.random.default_rng(5)
    X, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(numerical_jacobian(lambda v: v @ W, X), np.kron(np.eye(2), W.T), atol=1e-9)


def small_mlp_and_batch():
    (x_train, t_train), _ = companion.load_digits()
    return Sequential(Linear(64, 16, rng=1), ReLU(), Linear(16, 10, rng=2)), x_train[:32], t_train[:32]


def test_forward_mode_gives_backpropagations_gradient_with_one_sweep_per_parameter():
    model, xb, tb = small_mlp_and_batch()
    assert sum(p.size for p, _ in model.parameters()) == 1210
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(xb), tb)
    model.backward(loss.backward())
    reverse = np.concatenate([g.ravel() for _, g in model.parameters()])
    forward = []
    for k, (p, _) in enumerate(model.parameters()):   # directional derivatives by central differences
        for index in list(np.ndindex(p.shape))[::97]:
            def f(v, p=p, index=index):
                saved = p[index]
                p[index] = v
                value = loss.forward(model.forward(xb), tb)
                p[index] = saved
                return value
            forward.append((sum(q.size for q, _ in model.parameters()[:k]) + np.ravel_multi_index(index, p.shape),
                            companion.numerical_gradient(f, p[index])))
    for i, value in forward:
        assert value == pytest.approx(reverse[i], rel=1e-6, abs=1e-9)
    digits = Sequential(Linear(64, 256, rng=0), ReLU(), Linear(256, 128, rng=0), ReLU(), Linear(128, 10, rng=0))
    assert sum(p.size for p, _ in digits.parameters()) == 50_826


def test_patterns_of_backward_flow_with_dout_2():
    x, y = Tensor(3.0), Tensor(-4.0)
    (x + y).backward(2.0)
    assert (x.grad, y.grad) == (2.0, 2.0)
    x, y = Tensor(3.0), Tensor(-4.0)
    (x * y).backward(2.0)
    assert (x.grad, y.grad) == (-8.0, 6.0)
    z, w = Tensor(2.0), Tensor(-1.0)
    z.maximum(w).backward(2.0)
    assert (z.grad, w.grad) == (2.0, 0.0)
    x, y = Tensor(3.0), Tensor(-4.0)
    (x + x * y).backward(2.0)
    assert x.grad == -6.0


def test_max_gate_against_central_differences_and_at_a_tie():
    assert companion.numerical_gradient(lambda v: max(v, -1.0), 2.0) == pytest.approx(1.0, abs=1e-10)
    assert companion.numerical_gradient(lambda v: max(2.0, v), -1.0) == 0.0
    assert round(companion.numerical_gradient(lambda v: max(v, 1.0), 1.0), 10) == 0.5
    a, b = Tensor(1.0), Tensor(1.0)
    a.maximum(b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)


def test_input_scale_scales_the_weight_gradient():
    _, xb, _ = small_mlp_and_batch()
    rng = np.random.default_rng(7)
    layer, dout = Linear(64, 10, rng=3), rng.normal(size=(32, 10)) / 32
    layer.forward(xb)
    layer.backward(dout)
    small = layer.grad_W.copy()
    layer.forward(16 * xb)
    layer.backward(dout)
    used = small != 0
    np.testing.assert_allclose(layer.grad_W[used] / small[used], 16.0, rtol=1e-12)


def test_exercise_numbers():
    assert companion.checks.ANSWERS["ex-vjp-count"].expected() == {"entries": 204_800.0, "nonzero": 20_480.0}
    assert companion.checks.ANSWERS["ex-vjp-tie"].expected() == {"buggy": 2.0, "right": 1.0}
    (x_train, t_train), _ = companion.load_digits()
    (x_fit, t_fit), (x_val, t_val) = companion.datasets.split(x_train, t_train, test_fraction=0.2, rng=1)
    results = {}
    for scale in (1, 16):
        model = Sequential(Linear(64, 10, rng=0))
        history = companion.fit(model, scale * x_fit, t_fit, optimizer=companion.SGD(model.parameters(), lr=2.0),
                                epochs=10, rng=0, validation=(scale * x_val, t_val), progress=False)
        last = history["val_accuracy"][-5:]
        results[scale] = (round(history["loss"][-1], 3), round(min(last), 3), round(max(last), 3))
    assert results == {1: (0.103, 0.958, 0.972), 16: (3.75, 0.923, 0.951)}
