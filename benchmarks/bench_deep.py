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

import os

import numpy as np

import companion
from bench_mlp import interleaved_min_times, make_data
from companion.optim import SGD
from companion.training import fit

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
    model = make_model(sizes)
    opt = SGD(model.parameters(), lr=LR)
    rng = np.random.default_rng(0)  # one generator: every epoch draws a new order, as in the floor

    def epoch():  # blas_threads=None: main() already runs everyone on one BLAS thread
        history = fit(model, x, t, optimizer=opt, epochs=1, batch_size=batch, rng=rng, progress=False,
                      blas_threads=None)
        return history["loss"][0], history["accuracy"][0]

    epoch.model = model
    return epoch


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
    import torch

    torch.set_num_threads(1)
    layers = []
    for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(d_in, d_out, dtype=torch.float64), torch.nn.BatchNorm1d(d_out, dtype=torch.float64),
                   torch.nn.ReLU(), torch.nn.Dropout(RATE)]
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1], dtype=torch.float64))
    model = torch.nn.Sequential(*layers).train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)

    def epoch():
        order = torch.randperm(len(xt), generator=gen)
        correct = 0
        for start in range(0, len(xt), batch):
            idx = order[start:start + batch]
            if len(idx) < 2:
                continue  # BatchNorm1d refuses a batch of one in training mode, as companion does
            xb, tb = xt[idx], tt[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, tb)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(dim=1) == tb).sum())
        return correct

    return epoch


def main():
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(1)
    except ImportError:
        limits = None
    print("BatchNorm + Dropout MLP training: CPU time per epoch (min over interleaved repeats; SGD, float64, "
          f"one BLAS thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    ratios = {}
    for name, w in WORKLOADS.items():
        x, t = make_data(w["sizes"], w["n"])
        epochs = {
            "floor": numpy_epoch(w["sizes"], x, t, w["batch"]),
            "companion": companion_epoch(w["sizes"], x, t, w["batch"]),
        }
        if have_torch:
            epochs["torch"] = torch_epoch(w["sizes"], x, t, w["batch"])
        best = interleaved_min_times(epochs, w["repeats"])
        floor = best["floor"]
        ratios[name] = best["companion"] / floor
        print(f"\n  {name}")
        print(f"    numpy floor        {floor * 1e3:8.1f} ms")
        print(f"    companion          {best['companion'] * 1e3:8.1f} ms   {best['companion'] / floor:.2f}x the floor "
              f"(target <= {TARGET}x)")
        if have_torch:
            print(f"    torch (CPU)        {best['torch'] * 1e3:8.1f} ms   {best['torch'] / floor:.2f}x the floor")
        else:
            print("    torch (CPU)        skipped: PyTorch is not installed (pip install torch to compare)")
    if limits is not None:
        limits.restore_original_limits()
    failed = [name for name, ratio in ratios.items() if ratio > TARGET]
    print(f"\ndeep: {'FAIL ' + ', '.join(failed) if failed else 'PASS'} (companion within {TARGET}x the floor)")
    return ratios


if __name__ == "__main__":
    main()
