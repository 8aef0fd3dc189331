"""Time per epoch of companion's MLP training against bare numpy (the floor) and PyTorch (if installed).

Each contestant runs the same epoch: a seeded shuffle, then for every minibatch
the forward pass (Linear, ReLU, ..., Linear), softmax cross-entropy, the
backward pass, a plain SGD update, and a count of correct predictions.

- companion, by hand: the loop the chapters write, ``model.forward``,
  ``loss.forward``, ``model.backward(loss.backward())``, ``SGD(...).step()``.
  ``model.backward`` also returns the gradient for the input data (one more
  matrix product per batch), so its floor computes that product too.
- companion, fit: ``companion.fit(..., epochs=1, progress=False)`` with ``SGD``,
  which skips the data's gradient (``model.backward(..., input_grad=False)``).
- numpy floor: the same arithmetic written out with bare numpy arrays: no
  classes, no input checks, no copies (``tests/test_benchmarks.py`` checks that
  it ends with the same weights as companion).
- torch: ``torch.nn`` on the CPU in float64, when PyTorch is installed.

Two workloads: the chapter's digits network (64-128-128-10, batch 32 over 1,437
samples), where per-call overhead shows, and an MNIST-sized one (784-256-10,
batch 128 over 10,000 synthetic samples), where the matrix products dominate.
The contestants' epochs are interleaved, repeated, and the minimum of each is
reported, in CPU time of this process (the least disturbed by other processes
on a shared machine). BLAS runs on one thread for everyone, numpy and torch alike.
"""

import os
import time

import numpy as np

import companion
from companion.optim import SGD
from companion.training import fit

WORKLOADS = {
    "digits 64-128-128-10, batch 32, 1437 samples": dict(sizes=(64, 128, 128, 10), n=1437, batch=32, repeats=25,
                                                         target=1.2),
    "MNIST-sized 784-256-10, batch 128, 10000 samples": dict(sizes=(784, 256, 10), n=10000, batch=128, repeats=7,
                                                             target=1.1),
}
LR = 0.01


def make_data(sizes, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, sizes[0]))
    t = rng.integers(0, sizes[-1], size=n)
    return x, t


def make_model(sizes):
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [companion.Linear(d_in, d_out, rng=i), companion.ReLU()]
    return companion.Sequential(*layers[:-1])


def companion_epoch(sizes, x, t, batch, make=make_model):
    """companion's fit on ``make(sizes)`` (bench_deep passes its BatchNorm + Dropout model)."""
    model = make(sizes)
    opt = SGD(model.parameters(), lr=LR)
    rng = np.random.default_rng(0)  # one generator: every epoch draws a new order, as in the floor
    def epoch():  # blas_threads=None: main() already runs everyone on one BLAS thread
        history = fit(model, x, t, optimizer=opt, epochs=1, batch_size=batch, rng=rng, progress=False,
                      blas_threads=None)
        return history["loss"][0], history["accuracy"][0]

    epoch.model = model
    return epoch


def by_hand_epoch(sizes, x, t, batch):
    """companion as the chapters drive it: Sequential, SoftmaxCrossEntropy, SGD(...).step()."""
    model = make_model(sizes)
    loss = companion.SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=LR)
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(len(x))
        total = correct = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            tb = t[idx]
            logits = model.forward(x[idx])
            total += loss.forward(logits, tb) * len(idx)
            model.backward(loss.backward())
            opt.step()
            correct += np.count_nonzero(logits.argmax(axis=1) == tb)
        return total / len(x), correct / len(x)

    epoch.model = model
    return epoch


def numpy_epoch(sizes, x, t, batch, input_grad=False):
    """The floor: the same epoch as plain numpy on plain arrays.

    ``input_grad=True`` also computes the gradient for the input data, as
    ``model.backward(dout)`` does (the product ``dout @ W.T`` of the first layer).
    """
    model = make_model(sizes)  # same initial weights
    Ws = [layer.W.copy() for layer in model.layers[::2]]
    bs = [layer.b.copy() for layer in model.layers[::2]]
    rng_box = [np.random.default_rng(0)]

    def epoch():
        rng = rng_box[0]
        order = rng.permutation(len(x))
        correct = 0
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            xb, tb = x[idx], t[idx]
            m = len(idx)
            rows = np.arange(m)
            acts, masks = [xb], []
            h = xb
            for W, b in zip(Ws[:-1], bs[:-1]):
                u = h @ W + b
                mask = u > 0
                h = np.where(mask, u, 0.0)
                acts.append(h)
                masks.append(mask)
            logits = h @ Ws[-1] + bs[-1]
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            total += np.mean(np.log(s[:, 0]) - shifted[rows, tb]) * m
            dout = e / s
            dout[rows, tb] -= 1.0
            dout *= 1.0 / m
            correct += np.count_nonzero(logits.argmax(axis=1) == tb)
            for k in range(len(Ws) - 1, -1, -1):
                gW = acts[k].T @ dout
                gb = dout.sum(axis=0)
                if k > 0:
                    dout = (dout @ Ws[k].T) * masks[k - 1]
                elif input_grad:
                    dout = dout @ Ws[0].T  # dL/dx, which nobody uses
                Ws[k] -= LR * gW
                bs[k] -= LR * gb
        return total / len(x), correct / len(x)

    epoch.weights = Ws, bs
    return epoch


def torch_epoch(sizes, x, t, batch, hidden=None):
    """torch.nn on the CPU; ``hidden(torch, d)`` lists the modules after each hidden Linear (default: a ReLU)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    hidden = hidden or (lambda torch, d: [torch.nn.ReLU()])
    layers = []
    for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(d_in, d_out, dtype=torch.float64), *hidden(torch, d_out)]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-2], sizes[-1], dtype=torch.float64)).train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(len(xt), generator=gen)
        correct = 0
        for start in range(0, len(xt), batch):
            idx = order[start:start + batch]
            xb, tb = xt[idx], tt[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, tb)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(dim=1) == tb).sum())
        return correct

    return epoch


def interleaved_min_times(epochs, repeats):
    """Run the epochs in turn, ``repeats`` rounds; return each one's fastest time in seconds."""
    for epoch in epochs.values():
        epoch()  # warm up: first-touch allocations, lazy imports
    times = {name: [] for name in epochs}
    for _ in range(repeats):
        for name, epoch in epochs.items():
            start = time.process_time()
            epoch()
            times[name].append(time.process_time() - start)
    return {name: min(ts) for name, ts in times.items()}


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
    print("MLP training: CPU time per epoch (min over interleaved repeats; SGD, float64, one BLAS thread; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    ratios = {}
    for name, w in WORKLOADS.items():
        x, t = make_data(w["sizes"], w["n"])
        epochs = {
            "floor": numpy_epoch(w["sizes"], x, t, w["batch"]),
            "companion": companion_epoch(w["sizes"], x, t, w["batch"]),
            "floor with dx": numpy_epoch(w["sizes"], x, t, w["batch"], input_grad=True),
            "by hand": by_hand_epoch(w["sizes"], x, t, w["batch"]),
        }
        if have_torch:
            epochs["torch"] = torch_epoch(w["sizes"], x, t, w["batch"])
        best = interleaved_min_times(epochs, w["repeats"])
        floor = best["floor"]
        print(f"\n  {name}")
        floor_dx = best["floor with dx"]
        ratios[f"{name}: fit"] = (best["companion"] / floor, w["target"])
        ratios[f"{name}: by hand"] = (best["by hand"] / floor_dx, w["target"])
        print(f"    numpy floor        {floor * 1e3:8.1f} ms")
        print(f"    companion, fit     {best['companion'] * 1e3:8.1f} ms   {best['companion'] / floor:.2f}x the floor "
              f"(target <= {w['target']}x)")
        print(f"    floor with dx      {floor_dx * 1e3:8.1f} ms")
        print(f"    companion, by hand {best['by hand'] * 1e3:8.1f} ms   {best['by hand'] / floor_dx:.2f}x the floor "
              f"with dx (target <= {w['target']}x; Sequential + SoftmaxCrossEntropy + SGD.step())")
        if have_torch:
            print(f"    torch (CPU)        {best['torch'] * 1e3:8.1f} ms   {best['torch'] / floor:.2f}x the floor")
        else:
            print("    torch (CPU)        skipped: PyTorch is not installed (pip install torch to compare)")
    if limits is not None:
        limits.restore_original_limits()
    failed = [name for name, (ratio, target) in ratios.items() if ratio > target]
    print(f"\nmlp: {'FAIL ' + ', '.join(failed) if failed else 'PASS'} (every ratio against its target)")
    return ratios


if __name__ == "__main__":
    main()
