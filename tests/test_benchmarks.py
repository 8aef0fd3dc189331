"""benchmarks/: the runner finds every bench_*.py, and the MLP floor does the same arithmetic as companion."""

import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_mlp  # noqa: E402
import run  # noqa: E402


def test_runner_lists_the_benchmarks_and_rejects_unknown_names(capsys):
    assert run.main(["no-such-benchmark"]) == 2
    assert "'mlp'" in capsys.readouterr().out


def test_numpy_floor_trains_exactly_like_companion():
    sizes = (6, 5, 4, 3)
    x, t = bench_mlp.make_data(sizes, n=23)
    floor_epoch = bench_mlp.numpy_epoch(sizes, x, t, batch=4)
    companion_epoch = bench_mlp.companion_epoch(sizes, x, t, batch=4)
    for _ in range(2):
        floor_loss, floor_acc = floor_epoch()
        history = companion_epoch()
        np.testing.assert_allclose(floor_loss, history["loss"][-1], rtol=1e-12)
        assert floor_acc == history["accuracy"][-1]


def test_deep_floor_trains_exactly_like_companion_with_batchnorm_and_dropout():
    import bench_deep
    sizes = (6, 5, 4, 3)
    x, t = bench_deep.make_data(sizes, n=23)
    floor_epoch = bench_deep.numpy_epoch(sizes, x, t, batch=4)
    companion_epoch = bench_deep.companion_epoch(sizes, x, t, batch=4)
    for _ in range(2):
        floor_loss, floor_acc = floor_epoch()
        history = companion_epoch()
        np.testing.assert_allclose(floor_loss, history["loss"][-1], rtol=1e-12)
        assert floor_acc == history["accuracy"][-1]
