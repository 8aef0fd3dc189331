"""Benchmark: the same MLP trained with ``companion.autodiff.Tensor`` and with companion's layers.

    python benchmarks/bench_autodiff.py        (or `make bench`, which runs every bench_*.py main())

Two networks, each trained twice from the same initial weights on the same
minibatches: once with ``Sequential(Linear, ReLU, Linear)`` + ``MSELoss`` and
their hand-written backward passes, once with ``Tensor`` operations and
``backward()``. The script first checks that both runs end with the same
weights (the arithmetic is the same, so they agree to round-off), then times
them: CPU time of this process, BLAS limited to one thread, the runs
interleaved, median over repeats. It prints the ratio Tensor / layers,
measured in this run, against the target 1.2, for two ways of using Tensor:

- as one would: the data ``x`` is a constant (``requires_grad=False``), so
  the engine skips the product ``dout @ W1.T`` that nobody needs, which the
  first ``Linear`` layer computes anyway (it always returns ``dx``);
- "same arithmetic": ``x`` requires a gradient, so both compute exactly the
  same products and the ratio measures the engine's own overhead.

The target applies to both.

- ``digits``: 64-100-10 on scikit-learn's 8x8 digits (1797 images, shipped
  with scikit-learn), batch 64, 3 epochs, learning rate 0.2: small matrices, so the per-operation
  overhead of the engine shows.
- ``MNIST-sized``: 784-100-10 on 2000 random 28x28 "images", batch 100,
  2 epochs, learning rate 0.05: the matrix products dominate.
"""

import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from companion import Linear, MSELoss, ReLU, Sequential
from companion.autodiff import Tensor

TARGET = 1.2
REPEATS = 15


def digits_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, np.eye(10)[digits.target]


def mnist_sized_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), np.eye(10)[rng.integers(0, 10, n)]


def minibatches(n, batch, epochs, seed=0):
    """The same shuffled minibatch indices for both trainers."""
    rng = np.random.default_rng(seed)
    return [order[s:s + batch] for _ in range(epochs)
            for order in [rng.permutation(n)] for s in range(0, n - batch + 1, batch)]


def initial_net(d_in, hidden, d_out):
    return Sequential(Linear(d_in, hidden, rng=1), ReLU(), Linear(hidden, d_out, rng=2))


def train_layers(X, T, batches, sizes, lr):
    net, loss = initial_net(*sizes), MSELoss()
    for idx in batches:
        out = net.forward(X[idx])
        L = loss.forward(out, T[idx])
        net.backward(loss.backward())
        for param, grad in net.parameters():
            param -= lr * grad
    return [param for param, _ in net.parameters()], L


def train_tensor(X, T, batches, sizes, lr, data_grad=False):
    params = [Tensor(param.copy()) for param, _ in initial_net(*sizes).parameters()]
    W1, b1, W2, b2 = params
    for idx in batches:
        x = Tensor(X[idx], requires_grad=data_grad)
        t = Tensor(T[idx], requires_grad=False)
        out = (x @ W1 + b1).relu() @ W2 + b2
        L = ((out - t) ** 2).sum() / (2 * len(idx))   # the MSELoss of the layers: 1/(2n) sum
        for p in params:
            p.zero_grad()
        L.backward()
        for p in params:
            p.data -= lr * p.grad
    return [p.data for p in params], L.item()


def median_times(runs, repeats=REPEATS):
    """Median CPU time of each run; runs interleaved (ABBA) so drifts hit both equally."""
    times = [[] for _ in runs]
    for r in range(repeats):
        order = list(enumerate(runs))
        for i, run in (order if r % 2 == 0 else order[::-1]):
            start = time.process_time()
            run()
            times[i].append(time.process_time() - start)
    return [statistics.median(t) for t in times]


def measure(name, X, T, sizes, batch, epochs, lr):
    """Time both trainers; return {variant: ratio Tensor / layers}."""
    batches = minibatches(len(X), batch, epochs)
    weights_layers, loss_layers = train_layers(X, T, batches, sizes, lr)
    for data_grad in (False, True):
        weights_tensor, loss_tensor = train_tensor(X, T, batches, sizes, lr, data_grad)
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(weights_layers, weights_tensor))
        if diff > 1e-10 or abs(loss_layers - loss_tensor) > 1e-12:
            raise AssertionError(f"{name}: Tensor and layers ended with different weights (max difference {diff:.1e})")
    t_layers, t_tensor, t_same = median_times([
        lambda: train_layers(X, T, batches, sizes, lr),
        lambda: train_tensor(X, T, batches, sizes, lr),
        lambda: train_tensor(X, T, batches, sizes, lr, data_grad=True),
    ])
    print(f"{name:<12} {'-'.join(map(str, sizes)):<11} {len(batches):>3} steps  layers {t_layers * 1e3:6.1f} ms  "
          f"Tensor {t_tensor * 1e3:6.1f} ms  ratio {t_tensor / t_layers:.2f}  |  same arithmetic "
          f"{t_same * 1e3:6.1f} ms  ratio {t_same / t_layers:.2f}  (final loss {loss_layers:.4f} both; "
          f"weights differ by {diff:.0e})")
    return {name: t_tensor / t_layers, f"{name}, same arithmetic": t_same / t_layers}


def main():
    print(f"autodiff: the same MLP trained with Tensor vs companion layers "
          f"(median CPU time of {REPEATS} interleaved repeats, BLAS on one thread; target ratio <= {TARGET})")
    with threadpool_limits(limits=1):
        ratios = {**measure("digits", *digits_data(), sizes=(64, 100, 10), batch=64, epochs=3, lr=0.2),
                  **measure("MNIST-sized", *mnist_sized_data(), sizes=(784, 100, 10), batch=100, epochs=2,
                            lr=0.05)}
    worst = max(ratios, key=ratios.get)
    verdict = "PASS" if ratios[worst] <= TARGET else "FAIL"
    print(f"autodiff: worst ratio {ratios[worst]:.2f} ({worst}) -> {verdict} (target <= {TARGET})")
    return ratios


if __name__ == "__main__":
    sys.exit(0 if max(main().values()) <= TARGET else 1)
