"""benchmarks/: the runner finds every bench_*.py, and the MLP floor does the same arithmetic as companion."""

import sys
from pathlib import Path

import numpy as np

import companion

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_mlp  # noqa: E402
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
