"""Attention: companion's SelfAttention and TransformerBlock against PyTorch (if installed).

The workloads of chapter "Self-attention, derived by hand", at the size of a
small character-level language model: a minibatch of 32 sequences of 64
positions, 64 features, 4 heads, causal mask.

- ``SelfAttention(64, heads=4, causal=True)``: forward and backward, the
  input's gradient included (inside a model, attention's input is the output
  of another layer).
- ``TransformerBlock(64, heads=4)`` (hidden 256): forward and backward.

The PyTorch contestants compute the same numbers with the same weights:
the same operations written with ``torch`` tensors (projections, reshapes,
``softmax`` with a causal mask, the residual connections, ``layer_norm``),
differentiated by autograd. (``torch.nn.MultiheadAttention`` adds biases and
its own fused kernels; the hand-written module is the like-for-like
comparison.) Both results are checked to agree before timing.

Everything runs in float64 on one thread (numpy's BLAS and PyTorch alike).
The contestants are interleaved and repeated, and the minimum CPU time of
this process is reported: the least disturbed measure on a shared machine.
The last line says PASS or FAIL against the target, companion within 1.5x of
PyTorch for each workload; ``main()`` returns the ratios.
"""

import math
import os

import numpy as np

from bench_mlp import interleaved_min_times, one_thread
from companion import SelfAttention, TransformerBlock

SIZES = dict(n=32, S=64, d=64, heads=4, hidden=256, repeats=15)
TARGET_TORCH = 1.5    # companion / torch


def data(seed=0):
    rng = np.random.default_rng(seed)
    shape = (SIZES["n"], SIZES["S"], SIZES["d"])
    return rng.normal(size=shape), rng.normal(size=shape)


def companion_step(layer, x, dout):
    def step():
        layer.forward(x)
        return layer.backward(dout)

    return step


def torch_attention(x, W_q, W_k, W_v, W_o, heads, causal):
    """SelfAttention's forward written with torch operations (autograd differentiates it)."""
    import torch

    n, S, d = x.shape

    def split(a):
        return a.reshape(n, S, heads, d // heads).transpose(1, 2)

    Q, K, V = split(x @ W_q), split(x @ W_k), split(x @ W_v)
    E = Q @ K.transpose(-1, -2) / math.sqrt(d // heads)
    if causal:
        E = E.masked_fill(torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1), float("-inf"))
    O = torch.softmax(E, dim=-1) @ V
    return O.transpose(1, 2).reshape(n, S, d) @ W_o


def torch_block(x, p, heads):
    """TransformerBlock's forward with torch operations; ``p`` maps the block's parameter names to tensors."""
    import torch.nn.functional as F

    d = x.shape[-1]
    a = F.layer_norm(x, (d,), p["ln1.gamma"], p["ln1.beta"], eps=1e-5)
    R = x + torch_attention(a, p["attn.W_q"], p["attn.W_k"], p["attn.W_v"], p["attn.W_o"], heads, True)
    b = F.layer_norm(R, (d,), p["ln2.gamma"], p["ln2.beta"], eps=1e-5)
    return R + F.relu(b @ p["fc1.W"] + p["fc1.b"]) @ p["fc2.W"] + p["fc2.b"]


def torch_step(layer, x, dout, forward):
    """(step, gradients of one step): autograd of ``forward(x, params)`` with the layer's weights as leaves."""
    import torch

    xt = torch.from_numpy(x).requires_grad_(True)
    params = {name: torch.from_numpy(param.copy()).requires_grad_(True) for name, param, _ in layer.named_parameters()}
    dt = torch.from_numpy(dout)
    wanted = (xt, *params.values())

    def step():
        return torch.autograd.grad(forward(xt, params), wanted, dt)

    return step


def agree(layer, x, dout, step):
    """Largest relative difference between companion's gradients (x, then parameters) and torch's."""
    dx = companion_step(layer, x, dout)()
    mine = [dx] + [grad for _, _, grad in layer.named_parameters()]
    theirs = [g.numpy() for g in step()]
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(mine, theirs))


def main():
    have_torch, limits = one_thread()
    x, dout = data()
    n, S, d, heads = SIZES["n"], SIZES["S"], SIZES["d"], SIZES["heads"]
    print(f"Attention on a batch of {n} sequences of {S} positions, d = {d}, {heads} heads, causal; forward + "
          f"backward with dx\n(CPU time, min over interleaved repeats; float64, one thread; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    workloads = {
        f"SelfAttention({d}, heads={heads})": (
            SelfAttention(d, heads, causal=True, rng=0),
            lambda xt, p: torch_attention(xt, p["W_q"], p["W_k"], p["W_v"], p["W_o"], heads, True)),
        f"TransformerBlock({d}, heads={heads}, hidden={SIZES['hidden']})": (
            TransformerBlock(d, heads, hidden=SIZES["hidden"], rng=0), lambda xt, p: torch_block(xt, p, heads)),
    }
    ratios = {}
    for name, (layer, forward) in workloads.items():
        steps = {"companion": companion_step(layer, x, dout)}
        if have_torch:
            steps["torch"] = torch_step(layer, x, dout, forward)
            difference = agree(layer, x, dout, steps["torch"])
            if difference > 1e-10:
                raise AssertionError(f"{name}: companion and torch disagree by {difference:.1e}")
        best = interleaved_min_times(steps, SIZES["repeats"])
        print(f"  {name}")
        line = f"    companion {best['companion'] * 1e3:8.2f} ms"
        if have_torch:
            ratio = best["companion"] / best["torch"]
            ratios[name] = ratio
            print(line + f";  companion / torch: {ratio:.2f}x (target <= {TARGET_TORCH}x; gradients agree to "
                         f"{difference:.0e})")
            print(f"    torch     {best['torch'] * 1e3:8.2f} ms")
        else:
            print(line)
            print("    torch     skipped: PyTorch is not installed (pip install torch to compare)")
    if limits is not None:
        limits.restore_original_limits()
    if not have_torch:
        print("\nattention: SKIP (no PyTorch to compare with)")
        return ratios
    failed = [name for name, ratio in ratios.items() if ratio > TARGET_TORCH]
    print(f"\nattention: {'FAIL ' + ', '.join(failed) if failed else 'PASS'} (companion / torch <= {TARGET_TORCH}x)")
    return ratios


if __name__ == "__main__":
    main()
