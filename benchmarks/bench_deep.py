"""Time per epoch of a BatchNorm + Dropout MLP in companion against bare numpy (the floor) and PyTorch (if installed).

Each contestant runs the same epoch: a seeded shuffle, then for every minibatch
the forward pass (Linear, BatchNorm, ReLU, Dropout, ..., Linear) in training
mode, softmax cross-entropy, the backward pass, a plain SGD update of every
parameter (weights, biases, gamma, beta), and a count of correct predictions.

- companion: ``companion.fit(..., epochs=1, progress=False)`` with ``SGD`` on
  ``companion.mlp(sizes, batchnorm=True, dropout=RATE)``.
- numpy floor: the same arithmetic written out with bare numpy arrays (the
  batch statistics, the running averages, the compact BatchNorm backward,
  dropout masks from the same generator), with no classes, no input checks
  and no copies. Neither computes a gradient for the input data.
- torch: ``torch.nn`` on the CPU in float64 (Linear, BatchNorm1d, ReLU, Dropout),
  when PyTorch is installed.

Two workloads, as in ``bench_mlp``: the digits size (64-128-128-10, batch 32
over 1,437 samples) and an MNIST size (784-256-10, batch 128 over 10,000
synthetic samples). Epochs are interleaved and repeated; the minimum of each
contestant's CPU time is reported, and the ratios come from the same run. The
target for both: companion within 1.5x the floor. ``tests/test_benchmarks.py``
checks that the floor ends every epoch with companion's weights, gammas,
betas and running statistics.
"""

import contextlib
import importlib.util
import os

import numpy as np

import companion
import bench_mlp
from bench_mlp import interleaved_min_times, make_data

WORKLOADS = {
    "digits 64-128-128-10, batch 32, 1437 samples": dict(sizes=(64, 128, 128, 10), n=1437, batch=32, repeats=25),
    "MNIST-sized 784-256-10, batch 128, 10000 samples": dict(sizes=(784, 256, 10), n=10000, batch=128, repeats=7),
}
LR, RATE, EPS, MOMENTUM = 0.01, 0.2, 1e-5, 0.1
TARGET = 1.5


def make_model(sizes):
    """Linear -> BatchNorm -> ReLU -> Dropout per hidden layer, then Linear; weights and masks from seed 0."""
    return companion.mlp(sizes, "relu", batchnorm=True, dropout=RATE, rng=0)


def companion_epoch(sizes, x, t, batch):
    return bench_mlp.companion_epoch(sizes, x, t, batch, make=make_model)


def numpy_epoch(sizes, x, t, batch):
    """The floor: the same epoch as plain numpy on plain arrays."""
    model = make_model(sizes)  # the same initial weights, and the same dropout generator state
    linears = [layer for layer in model.layers if isinstance(layer, companion.Linear)]
    norms = [layer for layer in model.layers if isinstance(layer, companion.BatchNorm)]
    Ws, bs = [layer.W.copy() for layer in linears], [layer.b.copy() for layer in linears]
    gammas, betas = [bn.gamma.copy() for bn in norms], [bn.beta.copy() for bn in norms]
    run_means, run_vars = [bn.running_mean.copy() for bn in norms], [bn.running_var.copy() for bn in norms]
    drop_rng = np.random.Generator(type(model[3].rng.bit_generator)())
    drop_rng.bit_generator.state = model[3].rng.bit_generator.state
    order_rng = np.random.default_rng(0)
    scale = 1.0 / (1.0 - RATE)
    hidden = len(Ws) - 1

    def epoch():
        order = order_rng.permutation(len(x))
        correct = 0
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            xb, tb = x[idx], t[idx]
            m = len(idx)
            rows = np.arange(m)
            inputs, caches = [xb], []
            h = xb
            for k in range(hidden):
                u = h @ Ws[k] + bs[k]
                mean = u.mean(axis=0)
                centred = u - mean
                var = np.mean(centred * centred, axis=0)
                run_means[k] *= 1 - MOMENTUM
                run_means[k] += MOMENTUM * mean
                run_vars[k] *= 1 - MOMENTUM
                run_vars[k] += (MOMENTUM * m / (m - 1)) * var
                inv_std = 1.0 / np.sqrt(var + EPS)
                x_hat = centred * inv_std
                y = gammas[k] * x_hat + betas[k]
                relu = y > 0
                drop = (drop_rng.random(y.shape) >= RATE) * scale
                h = np.where(relu, y, 0.0) * drop
                inputs.append(h)
                caches.append((x_hat, inv_std, relu, drop))
            logits = h @ Ws[-1] + bs[-1]
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            total += np.mean(np.log(s[:, 0]) - shifted[rows, tb]) * m
            dout = e / s
            dout[rows, tb] -= 1.0
            dout *= 1.0 / m
            correct += np.count_nonzero(logits.argmax(axis=1) == tb)
            for k in range(hidden, -1, -1):
                gW = inputs[k].T @ dout
                gb = dout.sum(axis=0)
                if k > 0:
                    x_hat, inv_std, relu, drop = caches[k - 1]
                    dy = (dout @ Ws[k].T) * drop * relu
                    g_gamma = np.sum(dy * x_hat, axis=0)
                    g_beta = dy.sum(axis=0)
                    dx_hat = dy * gammas[k - 1]
                    dout = (inv_std / m) * (m * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0))
                    gammas[k - 1] -= LR * g_gamma
                    betas[k - 1] -= LR * g_beta
                Ws[k] -= LR * gW
                bs[k] -= LR * gb
        return total / len(x), correct / len(x)

    epoch.state = dict(W=Ws, b=bs, gamma=gammas, beta=betas, running_mean=run_means, running_var=run_vars)
    return epoch


def torch_epoch(sizes, x, t, batch):
    return bench_mlp.torch_epoch(sizes, x, t, batch, hidden=lambda torch, d: [
        torch.nn.BatchNorm1d(d, dtype=torch.float64), torch.nn.ReLU(), torch.nn.Dropout(RATE)])


def main():
    have_torch = importlib.util.find_spec("torch") is not None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    print("BatchNorm + Dropout MLP training: CPU time per epoch (min over interleaved repeats; SGD, float64, "
          f"one BLAS thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    ratios = {}
    with threadpool_limits(1) if threadpool_limits else contextlib.nullcontext():
        for name, w in WORKLOADS.items():
            data = make_data(w["sizes"], w["n"])
            contestants = {"floor": numpy_epoch, "companion": companion_epoch} | (
                {"torch": torch_epoch} if have_torch else {})
            best = interleaved_min_times({who: make(w["sizes"], *data, w["batch"]) for who, make in contestants.items()},
                                         w["repeats"])
            ratios[name] = best["companion"] / best["floor"]
            print(f"\n  {name}\n    numpy floor        {best['floor'] * 1e3:8.1f} ms")
            print(f"    companion          {best['companion'] * 1e3:8.1f} ms   {ratios[name]:.2f}x the floor "
                  f"(target <= {TARGET}x)")
            print(f"    torch (CPU)        {best['torch'] * 1e3:8.1f} ms   {best['torch'] / best['floor']:.2f}x the floor"
                  if have_torch else "    torch (CPU)        skipped: PyTorch is not installed (pip install torch to compare)")
    failed = [name for name, ratio in ratios.items() if ratio > TARGET]
    print(f"\ndeep: {'FAIL ' + ', '.join(failed) if failed else 'PASS'} (companion within {TARGET}x the floor)")
    return ratios


if __name__ == "__main__":
    main()
