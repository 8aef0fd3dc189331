"""The answers of the book's exercises, registered for ``companion.check_answer``.

Every chapter whose exercises ask for numbers or for a layer registers the
expected answer here with ``register_answer``, in book order, one section per
part. Each value is *computed* with companion (a small function, never a
typed-in number); ``tests/test_checks.py`` recomputes it independently
(numerical derivatives, closed forms). The checking machinery itself is in
``companion.checks``.
"""

import numpy as np

from .autodiff import Tensor
from .checks import register_answer
from .conv import col2im, conv2d_loops, im2col
from .functions import Plus1, Power, ReLU, Square, Tanh
from .gradcheck import numerical_gradient, numerical_jacobian
from .layers import AddLayer, MulLayer, SubLayer
from .normalization import BatchNorm
from .optim import SGD
from .models import digits_cnn
from .sequence import RNN, Embedding, tensor_rnn
from .attention import scaled_dot_product_attention

# --- Parts I-IV: Derivatives on graphs, Networks in matrix form, Learning, Automation -------------

def _chain_hand():  # p(x) = (2x - 1)^3 at x = 1: u = 2x - 1, p = u^3
    cube = Power(3)
    return cube(2 * 1.0 - 1), cube.backward(1.0) * 2  # du/dx = 2


def _chain_cube():  # (x + 1)^3 at x = -3
    plus1, cube = Plus1(), Power(3)
    value = cube(plus1(-3.0))
    return value, plus1.backward(cube.backward(1.0))


def _chain_bug():  # the buggy Square multiplies dout by 2y (its output) instead of 2u
    y = Square()(Plus1()(3.0))
    return (2 * y * 1.0,)


def _fruit_bill(discount=0.0):
    """The fruit bill of 'Computational graphs', with an optional discount; returns the graph's numbers."""
    mul_apple, mul_orange, add, sub, mul_tax = MulLayer(), MulLayer(), AddLayer(), SubLayer(), MulLayer()
    all_price = add.forward(mul_apple.forward(100, 2), mul_orange.forward(150, 3))
    bill = mul_tax.forward(sub.forward(all_price, discount), 1.1)
    dbefore_tax, _ = mul_tax.backward(1.0)
    dall_price, ddiscount = sub.backward(dbefore_tax)
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, _ = mul_orange.backward(dorange_price)
    return dict(bill=bill, dall_price=dall_price, dapple_price=dapple_price, ddiscount=ddiscount, dorange=dorange)


def _local_tanh():
    tanh = Tanh()
    tanh(0.5)
    return (tanh.backward(1.0),)


def _local_kink():
    relu = ReLU()
    central = numerical_gradient(relu.forward, 0.0)
    relu.forward(0.0)
    return central, relu.backward(1.0)


def _autodiff_shares():  # f(x, y) = (x + y) x at x = 2, y = 3
    x, y = Tensor(2.0), Tensor(3.0)
    ((x + y) * x).backward()
    return float(x.grad), float(y.grad)


register_answer("ex-chain-hand", "chain_rule", names=("p(1)", "p'(1)"), compute=_chain_hand,
                hint="with u = 2x - 1, p'(x) = dp/du * du/dx; do not forget du/dx")
register_answer("ex-chain-cube", "chain_rule", names=("value", "derivative"), compute=_chain_cube,
                hint="at x = -3, u = x + 1 is negative; the local derivative of u**3 is 3u**2")
register_answer("ex-chain-bug", "chain_rule", names=("h'(3)",), compute=_chain_bug,
                hint="the buggy backward multiplies by 2 * self.y, and self.y is the output of the square")
register_answer("ex-graph-hand", "computational_graphs", names=("d/d apple_price", "d/d all_price"),
                compute=lambda: (_fruit_bill()["dapple_price"], _fruit_bill()["dall_price"]),
                hint="a multiplication node passes the other input; an addition node passes dout unchanged")
register_answer("ex-graph-sub", "computational_graphs", names=("bill", "d/d discount"),
                compute=lambda: (_fruit_bill(50.0)["bill"], _fruit_bill(50.0)["ddiscount"]),
                hint="the local derivatives of x - y are 1 and -1; the discount is subtracted before the tax")
register_answer("ex-graph-experiment", "computational_graphs", names=("change",),
                compute=lambda: (_fruit_bill()["dorange"],),
                hint="the predicted change is the derivative with respect to the orange price, times 1 yen")
register_answer("ex-local-tanh", "local_derivatives", names=("derivative",), compute=_local_tanh,
                hint="the derivative of tanh at x is 1 - tanh(x)**2; evaluate it at x = 0.5")
register_answer("ex-local-softplus", "local_derivatives", reference=lambda x: np.logaddexp(0.0, x),
                hint="softplus is y = ln(1 + exp(x)); its derivative is an old friend from the sigmoid section")
register_answer("ex-local-kink", "local_derivatives", names=("central difference", "backward"),
                compute=_local_kink,
                hint="the central difference at 0 averages the slopes on both sides; backward uses a convention")
register_answer("ex-autodiff-shares", "autodiff", names=("df/dx", "df/dy"), compute=_autodiff_shares,
                hint="x feeds both the addition and the multiplication: add the two paths' shares")

# --- Part V: Deep networks ------------------------------------------------------------------------

def _vjp_count(n=32, d_in=64, d_out=10):  # the Jacobian dU/dW of U = X W, counted on a numerical one
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out))
    J = numerical_jacobian(lambda v: X @ v, W)
    return J.size, np.count_nonzero(np.abs(J) > 1e-9)


def _vjp_tie():  # max(x, x) at x = 1: a gate that sends dout to both tied inputs, and Tensor.maximum
    x = Tensor(1.0)
    x.maximum(x).backward()
    both = np.sum([1.0 >= 1.0, 1.0 >= 1.0])  # the buggy gate's two shares
    return float(both), float(x.grad)


def _init_factor(width=64):
    """Per ReLU layer, Var(u) is multiplied by d Var(w) / 2: for N(0, 1), Xavier (2 / (d + d)) and He (2 / d)."""
    return tuple(width * var_w / 2 for var_w in (1.0, 2 / (width + width), 2 / width))


def _init_leaky(slope=0.1, fan_in=64):  # E[z^2] = (1 + a^2) / 2 Var(u): Var(w) = 2 / ((1 + a^2) d)
    return (np.sqrt(2 / ((1 + slope ** 2) * fan_in)),)


def _norm_pair():  # BatchNorm of the batch (1, 3), one feature, with dout = (1, 0)
    layer = BatchNorm(1)
    y = layer.forward(np.array([[1.0], [3.0]]))
    dx = layer.backward(np.array([[1.0], [0.0]]))
    return y[0, 0], dx[0, 0]


def _batchnorm_reference(x, eps=1e-5):  # training-mode BatchNorm with gamma = 1, beta = 0
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)


def _reg_decay(lr=0.1, lam=0.01):  # a weight with zero loss gradient under SGD with weight decay
    param, zero = np.array([1.0]), np.zeros(1)
    opt = SGD([(param, zero)], lr=lr, weight_decay=lam)
    opt.step()
    per_step = float(param[0])
    for _ in range(99):
        opt.step()
    return per_step, float(param[0])


DROPOUT_RATE = 0.5


def _verify_dropout(make, rate=DROPOUT_RATE):
    """Inverted dropout's behaviour: kept entries scaled by 1/(1 - rate), about rate dropped, new masks, eval identity."""
    x = np.random.default_rng(5).normal(size=(200, 50))
    layer = make()
    missing = [m for m in ("train", "eval") if not callable(getattr(layer, m, None))]
    if missing:
        return [f"the layer has no {missing[0]}() method",
                "hint: give it train() and eval() methods that set self.training to True and False"]
    layer.train()
    out = np.asarray(layer.forward(x.copy()), dtype=np.float64)
    kept = out != 0
    if not np.allclose(out[kept], x[kept] / (1 - rate), rtol=1e-12):
        i = np.argwhere(kept & ~np.isclose(out, x / (1 - rate), rtol=1e-12))[0]
        return [f"in training mode, a kept entry must be x / (1 - rate): at {tuple(int(k) for k in i)} "
                f"x = {x[tuple(i)]:.6g} gave {out[tuple(i)]:.6g}, expected {x[tuple(i)] / (1 - rate):.6g}"]
    dropped = 1 - kept.mean()
    if abs(dropped - rate) > 4 * np.sqrt(rate * (1 - rate) / x.size):
        return [f"in training mode, {dropped:.1%} of the entries were dropped; with rate {rate} expected about "
                f"{rate:.0%}"]
    if np.array_equal(np.asarray(layer.forward(x.copy())), out):
        return ["two training-mode forward passes dropped the same entries: each forward must draw a new mask"]
    layer.eval()
    if not np.allclose(np.asarray(layer.forward(x.copy()), dtype=np.float64), x, rtol=0, atol=0):
        return ["in evaluation mode the layer must return its input unchanged (no mask, no scaling)"]
    return []


register_answer("ex-vjp-count", "vector_jacobian", names=("entries", "nonzero"), compute=_vjp_count,
                hint="U has n * d_out entries and W has d_in * d_out; U_ij depends on column j of W only")
register_answer("ex-vjp-tie", "vector_jacobian", names=("buggy", "right"), compute=_vjp_tie,
                hint="at a tie both comparisons are true; x feeds both inputs, so its two shares add up")
register_answer("ex-init-factor", "initialisation", names=("normal", "xavier", "he"), compute=_init_factor,
                hint="a ReLU halves the mean square of its input: the factor is d * Var(w) / 2 with d = 64")
register_answer("ex-init-leaky", "initialisation", names=("std",), compute=_init_leaky,
                hint="E[z^2] has a part from u > 0 and a part from u <= 0, each half of the mass; std = sqrt(Var(w))")

register_answer("ex-norm-pair", "normalisation", names=("A1", "dU1"), compute=_norm_pair,
                hint="with two samples the centred values are -1 and 1 and v = 1; put them into the compact formula")
register_answer("ex-norm-batchnorm", "normalisation", reference=_batchnorm_reference, args=(4,),
                input_shapes=((3, 4), (8, 4), (5, 4)),
                hint="normalise with the batch's mean and its variance divided by n, eps = 1e-5; the backward is "
                     "s / n * (n * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)), sums over the batch")

register_answer("ex-reg-decay", "regularisation", names=("per_step", "after_100"), compute=_reg_decay,
                hint="each step multiplies the weight by 1 - lr * lambda; after 100 steps, by that factor to the 100th")
register_answer("ex-reg-dropout", "regularisation", verify=_verify_dropout, args=(DROPOUT_RATE,),
                hint="keep each entry with probability 1 - rate and scale it by 1 / (1 - rate); store that mask "
                     "and multiply dout by it; in evaluation mode return x unchanged")


# --- Part VI: Convolution -------------------------------------------------------------------------

def _conv_hand():  # the 1-D example: u_a = x_a w_0 + x_(a+1) w_1, L = sum_a g_a u_a
    x, w = Tensor([1.0, 2.0, -1.0, 3.0]), Tensor([2.0, -1.0])
    g = [1.0, 0.0, -2.0]
    loss = sum(g[a] * (x[a] * w[0] + x[a + 1] * w[1]) for a in range(3))
    loss.backward()
    return (*w.grad, *x.grad)


def _patch_counts():  # how many 3x3 patches (padding 1, stride 1) of an 8x8 image hold a pixel
    counts = col2im(np.ones((64, 9)), (1, 1, 8, 8), 3, 1, 1)[0, 0]
    return counts[0, 0], counts[0, 4], counts[4, 4]


def _im2col_shapes():  # Conv2d(16, 32, 3, padding=1) on 32 images of 4x4
    col = im2col(np.zeros((32, 16, 4, 4)), 3, 1, 1)
    c_out = 32
    return col.shape[0], col.shape[1], col.shape[0] * col.shape[1] * c_out


def _cnn_params():
    net = digits_cnn(0)
    sizes = [sum(param.size for _, param, _ in layer.named_parameters())
             for layer in net.layers if hasattr(layer, "named_parameters")]
    return tuple(sizes)


def _receptive_field():
    """Side of the input square one interior unit sees, after conv2 and after pool2 (digits_cnn's geometry).

    One channel, all weights 1, a 2x2 pool as a stride-2 convolution of weights 1/4: every path from a
    pixel to the unit then carries a positive gradient, so the nonzero entries of dunit/dx are its field.
    """
    three, pool = np.ones((1, 1, 3, 3)), np.full((1, 1, 2, 2), 0.25)
    stages = [(three, 1, 1), (pool, 2, 0), (three, 1, 1), (pool, 2, 0)]
    sides = []
    for depth in (3, 4):                                      # after conv2, after the second pool
        x = Tensor(np.ones((1, 1, 24, 24)))
        out = x
        for kernel, stride, padding in stages[:depth]:
            out = out.conv2d(kernel, stride=stride, padding=padding)
        middle = out.shape[2] // 2
        out[0, 0, middle, middle].backward()
        rows = np.flatnonzero(x.grad[0, 0].sum(axis=1))
        sides.append(rows[-1] - rows[0] + 1)
    return tuple(sides)


register_answer("ex-conv-hand", "conv_backward",
                names=("dL/dw0", "dL/dw1", "dL/dx0", "dL/dx1", "dL/dx2", "dL/dx3"), compute=_conv_hand,
                hint="dL/dw_alpha adds g_a x_(a+alpha) over the outputs a; dL/dx_phi adds g_a w_alpha over the "
                     "pairs with a + alpha = phi (an end pixel is in one window only)")
register_answer("ex-conv-backward", "conv_backward",
                reference=lambda x, layer: conv2d_loops(x, layer.W, layer.b, layer.stride, layer.padding),
                layer_args=((2, 3, 3), (2, 3, 3, 2, 1), (3, 2, 2, 2, 0)),
                hint="grad_W correlates the (padded) input with dout; dx sends dout back through every weight "
                     "that touched the pixel: a full correlation with the kernel turned by 180 degrees, and a "
                     "pixel in several windows adds every window's share")
register_answer("ex-im2col-shapes", "im2col", names=("rows of col", "columns of col", "multiplications"),
                compute=_im2col_shapes,
                hint="one row per output pixel of every image; one column per kernel entry of every input channel")
register_answer("ex-im2col-count", "im2col", names=("corner", "edge middle", "centre"), compute=_patch_counts,
                hint="count the 3x3 windows of the padded image that contain the pixel, or run col2im on ones")
register_answer("ex-cnn-params", "cnn_digits", names=("conv1", "conv2", "linear1", "linear2"),
                compute=_cnn_params,
                hint="a Conv2d has c_out * c_in * k * k weights and c_out biases; a Linear d_in * d_out and d_out")
register_answer("ex-cnn-receptive", "cnn_digits", names=("after conv2", "after pool2"),
                compute=_receptive_field,
                hint="each 3x3 convolution widens the field by 2 steps of its input; a 2x2 pool widens it by one "
                     "step and doubles the size of a step")


# --- Part VII: Sequences and attention ------------------------------------------------------------

# Part VII — embeddings and BPTT (chapter embeddings_bptt)

def _bptt_hand():  # W_X = 1, W_H = 1/2, b = 0, H_0 = 0, inputs (1, -1/2), L = H_2: the RNN layer's gradients
    rnn = RNN(1, 1, rng=0)
    rnn.W_x[...], rnn.W_h[...], rnn.b[...] = 1.0, 0.5, 0.0
    out = rnn.forward(np.array([[[1.0], [-0.5]]]))
    dout = np.zeros_like(out)
    dout[0, 1, 0] = 1.0
    rnn.backward(dout)
    return rnn.grad_W_x.item(), rnn.grad_W_h.item(), rnn.grad_b.item()


def _scatter_bug():  # "aaba" with dout 1, 2, 3, 4: the row of "a" under grad_W[ids] += dout, and under np.add.at
    ids, dout = np.array([[0, 0, 1, 0]]), np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    buggy = np.zeros((2, 1))
    buggy[ids] += dout
    emb = Embedding(2, 1, rng=0)
    emb.forward(ids)
    emb.backward(dout)
    return buggy[0, 0], emb.grad_W[0, 0]


def _bptt_nonnormal(k_max=100):  # W_H = [[0.9, 1], [0, 0.9]]: its spectral norm, the largest norm of a power, the 100th
    W = np.array([[0.9, 1.0], [0.0, 0.9]])
    powers = [np.linalg.norm(np.linalg.matrix_power(W.T, k), 2) for k in range(1, k_max + 1)]
    return np.linalg.norm(W, 2), max(powers), powers[-1]


register_answer("ex-bptt-hand", "embeddings_bptt", names=("dL/dW_X", "dL/dW_H", "dL/db"), compute=_bptt_hand,
                hint="delta_2 = 1 - H_2^2 (the loss reads H_2), delta_1 = delta_2 W_H (1 - H_1^2); each weight "
                     "collects one share per position: X_tau delta_tau, H_(tau-1) delta_tau, delta_tau")
register_answer("ex-bptt-scatter-bug", "embeddings_bptt", names=("buggy", "right"), compute=_scatter_bug,
                hint="the buffered version computes every right-hand side first and then writes the rows in order, "
                     "so a repeated row keeps its last write; the right gradient adds every position's share")
register_answer("ex-bptt-backward", "embeddings_bptt",
                reference=lambda x, layer: tensor_rnn(x, layer.W_x, layer.W_h, layer.b).data,
                layer_args=((3, 4),), args=(3, 4), input_shapes=((1, 1, 3), (2, 5, 3), (3, 2, 3)),
                hint="sweep from the last position to the first: dH = dout[:, tau-1] + (what came back from "
                     "position tau + 1), delta = dH * (1 - H_tau^2); every position adds X_tau.T @ delta, "
                     "H_(tau-1).T @ delta and delta.sum(axis=0) to the weight gradients, and sends delta @ W_h.T back")
register_answer("ex-bptt-nonnormal", "embeddings_bptt", names=("spectral norm", "largest", "at k = 100"),
                compute=_bptt_nonnormal,
                hint="np.linalg.norm(A, 2) is the spectral norm; np.linalg.matrix_power(W_H.T, k) the k-th power")


# Part VII — attention (chapter attention)

# The student's class: SingleHeadAttention(dim, causal=False, rng=None) with parameters W_q, W_k, W_v, W_o (dim, dim),
# forward(x) for x (n, S, dim) and backward(dout) -> dx, storing grad_W_q, ... It is created causal first (the
# forward's value is checked on that configuration), then without the mask.
ATTENTION_CONFIGS = ((4, True), (4, False))
ATTENTION_SHAPES = ((2, 3, 4), (1, 1, 4), (3, 5, 4))   # the first is the one the forward is checked on; S = 1 too


def _single_head_attention(x, layer):
    """The output a causal single-head self-attention layer must compute from x (n, S, d) and its own weights."""
    Y, _ = scaled_dot_product_attention(x @ layer.W_q, x @ layer.W_k, x @ layer.W_v, causal=True)
    return Y @ layer.W_o


register_answer("ex-attention-backward", "attention", reference=_single_head_attention,
                layer_args=ATTENTION_CONFIGS, input_shapes=ATTENTION_SHAPES,
                hint="each row of P is a softmax, so dE needs the softmax chapter's sum over the row; E = Q K^T / sqrt(d) "
                     "sends dE K to Q and dE^T Q to K, each divided by sqrt(d); x feeds three projections, so its "
                     "gradient is the sum of three terms")


# Part VII — language model ("A tiny character-level language model")

def _devils_dictionary_ids():
    """The language-model chapter's data: (training ids, held-out ids, C)."""
    from .datasets import CharVocab, load_devils_dictionary, split_text
    text = load_devils_dictionary()
    vocab = CharVocab(text)
    train, held = split_text(text, 0.9)
    return vocab.encode(train), vocab.encode(held), vocab.size


def _lm_bigram():
    """Held-out loss of the add-one bigram model counted on the training text."""
    train, held, classes = _devils_dictionary_ids()
    counts = np.ones((classes, classes))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    probs = counts / counts.sum(axis=1, keepdims=True)
    return (float(-np.mean(np.log(probs[held[:-1], held[1:]]))),)


def _lm_count(length=32, batch_size=32, steps=800):
    train, _, _ = _devils_dictionary_ids()
    per_step = length * batch_size
    return per_step, per_step * steps, per_step * steps / len(train)


register_answer("ex-lm-bigram", "language_model", names=("held-out loss",), compute=_lm_bigram, rtol=1e-4,
                hint="count the pairs (previous, next) of the training text on top of a table of ones, divide each row "
                     "by its sum, and average -log of the probability of every held-out character given the one before")
register_answer("ex-lm-count", "language_model", names=("per step", "in 800 steps", "per training character"),
                compute=_lm_count, rtol=1e-3,
                hint="every window predicts one character per position; divide the total by the number of training "
                     "characters")
