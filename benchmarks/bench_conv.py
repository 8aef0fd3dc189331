"""Convolution: companion's im2col layers against the definition as loops and against PyTorch (if installed).

Two workloads, from chapter "A CNN on the digits":

- the first convolution of ``digits_cnn``: ``Conv2d(1, 16, 3, padding=1)`` on a
  minibatch of 128 images of 8x8, forward and backward. As in training, the
  input is data and needs no gradient: companion's ``backward(dout,
  input_grad=False)`` and PyTorch's autograd for the weights and bias only.
  A second line adds the input's gradient for both.
- one training epoch of ``digits_cnn`` on the 1,438 training digits
  (minibatches of 32, Adam): ``companion.fit(..., epochs=1)`` against the
  same network, initial weights and optimizer written with ``torch.nn``.

The reference is ``companion.conv.conv2d_loops`` and
``conv2d_loops_backward``: the definition, one Python step per product. It is
timed on a slice of the minibatch (its time grows linearly with the number
of images) and scaled up; for the epoch, its two convolutions alone are
timed on one image and scaled to the 1,438 images of an epoch, a lower bound.

Everything runs in float64 on one thread (numpy's BLAS and PyTorch alike).
The contestants are interleaved and repeated, and the minimum CPU time of
this process is reported: the least disturbed measure on a shared machine.
The last line says PASS or FAIL against the targets: companion within 1.5x
of PyTorch for the layer (as training runs it) and for the epoch, and the
loops at least 100 times slower than companion; ``main()`` returns the ratios.
"""

import os
import time

import numpy as np

import companion
from bench_mlp import interleaved_min_times, one_thread, torch_training_epoch
from companion.conv import Conv2d, conv2d_loops, conv2d_loops_backward

LAYER = dict(n=128, c_in=1, c_out=16, size=8, kernel=3, padding=1, repeats=40, loop_images=2)
EPOCH = dict(batch=32, repeats=6, lr=0.001)


def layer_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(LAYER["n"], LAYER["c_in"], LAYER["size"], LAYER["size"]))
    dout = rng.normal(size=(LAYER["n"], LAYER["c_out"], LAYER["size"], LAYER["size"]))
    return x, dout


def companion_layer(x, dout, input_grad):
    conv = Conv2d(LAYER["c_in"], LAYER["c_out"], LAYER["kernel"], padding=LAYER["padding"], rng=0)

    def step():
        conv.forward(x)
        return conv.backward(dout, input_grad=input_grad)

    return step, conv


def loops_layer(x, dout, conv):
    """The definition on the first ``loop_images`` images; the caller scales the time to the minibatch."""
    xs, ds = x[:LAYER["loop_images"]], dout[:LAYER["loop_images"]]

    def step():
        conv2d_loops(xs, conv.W, conv.b, 1, LAYER["padding"])
        return conv2d_loops_backward(xs, conv.W, ds, 1, LAYER["padding"])

    return step


def torch_layer(x, dout, conv, input_grad):
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x).requires_grad_(input_grad)
    W = torch.from_numpy(conv.W.copy()).requires_grad_(True)
    b = torch.from_numpy(conv.b.copy()).requires_grad_(True)
    dt = torch.from_numpy(dout)
    wanted = (xt, W, b) if input_grad else (W, b)

    def step():
        out = F.conv2d(xt, W, b, padding=LAYER["padding"])
        return torch.autograd.grad(out, wanted, dt)

    return step


def companion_epoch(x, t):
    model = companion.digits_cnn(0)
    opt = companion.Adam(model.parameters(), lr=EPOCH["lr"])
    rng = np.random.default_rng(0)
    # blas_threads=None: main() already runs everyone on one BLAS thread
    return lambda: companion.fit(model, x, t, optimizer=opt, epochs=1, batch_size=EPOCH["batch"], rng=rng,
                                 progress=False, blas_threads=None)


def torch_model(seed=0):
    """digits_cnn in torch.nn, float64, with companion's initial weights."""
    import torch

    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, dtype=torch.float64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, dtype=torch.float64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64, dtype=torch.float64), nn.ReLU(), nn.Linear(64, 10, dtype=torch.float64))
    ours = [layer for layer in companion.digits_cnn(seed).layers if hasattr(layer, "parameters")]
    theirs = [layer for layer in model if isinstance(layer, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for mine, layer in zip(ours, theirs):
            weight = mine.W if mine.W.ndim == 4 else mine.W.T          # Linear: torch stores (out, in)
            layer.weight.copy_(torch.from_numpy(weight.copy()))
            layer.bias.copy_(torch.from_numpy(mine.b.copy()))
    return model


def torch_epoch(x, t):
    import torch

    model = torch_model()
    return torch_training_epoch(model, torch.optim.Adam(model.parameters(), lr=EPOCH["lr"]), x, t, EPOCH["batch"])


def loops_epoch_estimate(x):
    """Seconds for the two convolutions of digits_cnn, forward and backward, as loops, for a whole epoch.

    Timed on one image and multiplied by the number of images: a lower bound (it leaves out everything
    else the network computes).
    """
    net = companion.digits_cnn(0)
    conv1, pool1, conv2 = net[0], net[2], net[3]
    image = x[:1]
    hidden = pool1.forward(np.maximum(conv1.forward(image), 0))       # conv2's input, (1, 16, 4, 4)
    start = time.process_time()
    for conv, inp in ((conv1, image), (conv2, hidden)):
        out = conv2d_loops(inp, conv.W, conv.b, 1, 1)
        conv2d_loops_backward(inp, conv.W, np.ones_like(out), 1, 1)
    return (time.process_time() - start) * len(x)


TARGET_TORCH = 1.5    # companion / torch, for the layer as training runs it and for the epoch
TARGET_LOOPS = 100    # loops / companion: "orders of magnitude"


def main():
    have_torch, limits = one_thread()
    ratios = {}  # name: (ratio, target, True if the ratio must stay below the target)

    x, dout = layer_data()
    print("Conv2d(1, 16, 3, padding=1), batch 128 of 8x8, forward + backward (CPU time, min over interleaved "
          f"repeats; float64, one thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    steps = {}
    steps["companion"], conv = companion_layer(x, dout, input_grad=False)
    steps["companion + dx"], _ = companion_layer(x, dout, input_grad=True)
    if have_torch:
        steps["torch"] = torch_layer(x, dout, conv, input_grad=False)
        steps["torch + dx"] = torch_layer(x, dout, conv, input_grad=True)
    best = interleaved_min_times(steps, LAYER["repeats"])
    loops = interleaved_min_times({"loops": loops_layer(x, dout, conv)}, 2)["loops"]
    loops *= LAYER["n"] / LAYER["loop_images"]
    print(f"    loops (the definition) {loops * 1e3:10.1f} ms   timed on {LAYER['loop_images']} images, "
          f"scaled to {LAYER['n']}; with dx")
    ratios["layer: loops / companion"] = (loops / best["companion"], TARGET_LOOPS, False)
    for name in ("companion", "companion + dx"):
        line = f"    {name:<22} {best[name] * 1e3:10.3f} ms   loops / companion: {loops / best[name]:,.0f}x"
        if have_torch:
            ratio = best[name] / best[name.replace("companion", "torch")]
            if name == "companion":   # the first layer as training runs it: its input is data
                ratios["layer: companion / torch"] = (ratio, TARGET_TORCH, True)
                line += f";  companion / torch: {ratio:.2f}x (target <= {TARGET_TORCH}x)"
            else:
                line += f";  companion / torch: {ratio:.2f}x (dx is not needed for data)"
        print(line)
    if have_torch:
        for name in ("torch", "torch + dx"):
            print(f"    {name:<22} {best[name] * 1e3:10.3f} ms")
    else:
        print("    torch                  skipped: PyTorch is not installed (pip install torch to compare)")

    (x_train, t_train), _ = companion.load_digits()
    images = x_train.reshape(-1, 1, 8, 8)
    print(f"\nOne epoch of digits_cnn: {len(images)} digits, batch {EPOCH['batch']}, Adam")
    steps = {"companion": companion_epoch(images, t_train)}
    if have_torch:
        steps["torch"] = torch_epoch(images, t_train)
    best = interleaved_min_times(steps, EPOCH["repeats"])
    loops = loops_epoch_estimate(images)
    ratios["epoch: loops / companion"] = (loops / best["companion"], TARGET_LOOPS, False)
    print(f"    loops (the definition) {loops:10.1f} s    estimate: the two convolutions only, "
          f"timed on 1 image")
    line = f"    companion              {best['companion'] * 1e3:10.1f} ms   loops / companion: " \
           f"{loops / best['companion']:,.0f}x"
    if have_torch:
        ratio = best["companion"] / best["torch"]
        ratios["epoch: companion / torch"] = (ratio, TARGET_TORCH, True)
        print(line + f";  companion / torch: {ratio:.2f}x (target <= {TARGET_TORCH}x)")
        print(f"    torch                  {best['torch'] * 1e3:10.1f} ms")
    else:
        print(line)
        print("    torch                  skipped: PyTorch is not installed (pip install torch to compare)")
    if limits is not None:
        limits.restore_original_limits()
    failed = [name for name, (ratio, target, below) in ratios.items() if (ratio > target if below else ratio < target)]
    print(f"\nconv: {'FAIL ' + ', '.join(failed) if failed else 'PASS'} (every ratio against its target)")
    return ratios


if __name__ == "__main__":
    main()
