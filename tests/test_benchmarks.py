"""benchmarks/: the runner finds every bench_*.py, the MLP floor does the same arithmetic as companion, and the
attention benchmark's PyTorch modules compute companion's numbers."""

import sys
from pathlib import Path

import numpy as np
import pytest

import companion

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_mlp  # noqa: E402
import companion  # noqa: E402
import run  # noqa: E402


def test_runner_lists_the_benchmarks_and_rejects_unknown_names(capsys):
    assert run.main(["no-such-benchmark"]) == 2
    assert "'mlp'" in capsys.readouterr().out


def test_numpy_floor_trains_exactly_like_companion():
    """Same losses, accuracies and weights after every epoch: the floor computes the same gradients."""
    sizes = (6, 5, 4, 3)
    x, t = bench_mlp.make_data(sizes, n=23)
    pairs = [(bench_mlp.numpy_epoch(sizes, x, t, batch=4), bench_mlp.companion_epoch(sizes, x, t, batch=4)),
             (bench_mlp.numpy_epoch(sizes, x, t, batch=4, input_grad=True),
              bench_mlp.by_hand_epoch(sizes, x, t, batch=4))]
    initial = bench_mlp.make_model(sizes).layers[::2]
    for floor_epoch, companion_epoch in pairs:
        for _ in range(2):
            floor_loss, floor_acc = floor_epoch()
            loss, acc = companion_epoch()
            np.testing.assert_allclose(floor_loss, loss, rtol=1e-12)
            assert floor_acc == acc
            Ws, bs = floor_epoch.weights
            layers = companion_epoch.model.layers[::2]
            assert not np.allclose(Ws[0], initial[0].W)  # training moved the weights
            for W, b, layer in zip(Ws, bs, layers):
                np.testing.assert_allclose(W, layer.W, rtol=0, atol=1e-13)
                np.testing.assert_allclose(b, layer.b, rtol=0, atol=1e-13)


def test_deep_floor_trains_exactly_like_companion_with_batchnorm_and_dropout():
    """The same losses, accuracies, weights, gammas, betas and running statistics after every epoch."""
    import bench_deep
    sizes = (6, 5, 4, 3)
    x, t = bench_deep.make_data(sizes, n=23)
    floor_epoch = bench_deep.numpy_epoch(sizes, x, t, batch=4)
    companion_epoch = bench_deep.companion_epoch(sizes, x, t, batch=4)
    initial = companion.mlp(sizes, batchnorm=True, dropout=bench_deep.RATE, rng=0)
    for _ in range(2):
        floor_loss, floor_acc = floor_epoch()
        loss, acc = companion_epoch()
        np.testing.assert_allclose(floor_loss, loss, rtol=1e-12)
        assert floor_acc == acc
        model = companion_epoch.model
        linears = [layer for layer in model.layers if isinstance(layer, companion.Linear)]
        norms = [layer for layer in model.layers if isinstance(layer, companion.BatchNorm)]
        assert not np.allclose(linears[0].W, initial[0].W)  # training moved the weights
        state = floor_epoch.state
        for W, b, layer in zip(state["W"], state["b"], linears):
            np.testing.assert_allclose(W, layer.W, rtol=0, atol=1e-13)
            np.testing.assert_allclose(b, layer.b, rtol=0, atol=1e-13)
        for k, bn in enumerate(norms):
            for key, value in (("gamma", bn.gamma), ("beta", bn.beta), ("running_mean", bn.running_mean),
                               ("running_var", bn.running_var)):
                np.testing.assert_allclose(state[key][k], value, rtol=0, atol=1e-13)


# --- bench_conv: the contestants compute the same thing --------------------------------------------

import bench_conv  # noqa: E402


def test_conv_benchmark_loops_and_companion_compute_the_same_gradients():
    x, dout = bench_conv.layer_data()
    step, conv = bench_conv.companion_layer(x, dout, input_grad=True)
    dx = step()
    dx_loops, grad_W, grad_b = bench_conv.loops_layer(x, dout, conv)()
    images = bench_conv.LAYER["loop_images"]
    np.testing.assert_allclose(dx[:images], dx_loops, atol=1e-12)
    assert grad_W.shape == conv.grad_W.shape and grad_b.shape == conv.grad_b.shape


def test_conv_benchmark_torch_network_is_digits_cnn():
    torch = __import__("pytest").importorskip("torch")
    x = np.random.default_rng(0).uniform(size=(5, 1, 8, 8))
    ours = companion.digits_cnn(0).forward(x)
    theirs = bench_conv.torch_model(0)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-12)
    x, dout = bench_conv.layer_data()
    _, conv = bench_conv.companion_layer(x, dout, input_grad=True)
    conv.forward(x)
    dx = conv.backward(dout)
    gx, gW, gb = bench_conv.torch_layer(x, dout, conv, input_grad=True)()
    np.testing.assert_allclose(gx.numpy(), dx, atol=1e-12)
    np.testing.assert_allclose(gW.numpy(), conv.grad_W, atol=1e-10)


def test_the_attention_benchmark_compares_like_with_like():
    """bench_attention's torch modules compute companion's numbers (skipped without PyTorch)."""
    pytest.importorskip("torch")
    import bench_attention

    x, dout = np.random.default_rng(0).normal(size=(2, 2, 3, 4))
    for layer, forward in [
        (companion.SelfAttention(4, 2, causal=True, rng=0),
         lambda xt, p: bench_attention.torch_attention(xt, p["W_q"], p["W_k"], p["W_v"], p["W_o"], 2, True)),
        (companion.TransformerBlock(4, 2, hidden=5, rng=0), lambda xt, p: bench_attention.torch_block(xt, p, 2)),
    ]:
        assert bench_attention.agree(layer, x, dout, bench_attention.torch_step(layer, x, dout, forward)) < 1e-13
