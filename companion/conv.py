"""Convolution and pooling on images of shape ``(n, c, h, w)``, built on im2col.

Chapters "Convolution backward by hand" (the formulas), "im2col: convolution
as a matrix product" (how this module computes them) and "A CNN on the digits".

An image minibatch is a float64 array ``(n, c, h, w)``: ``n`` images of ``c``
channels (1 for grey, 3 for colour, or the feature maps of a previous layer),
each ``h`` pixels high and ``w`` wide. Along each spatial axis, a kernel of
size ``k`` moved in steps of ``stride`` over the input padded with ``padding``
zeros on both sides gives::

    out = (size + 2 * padding - kernel_size) / stride + 1

positions. Sizes for which this is not a whole number are **refused** with a
``ValueError`` that says so (PyTorch instead rounds down and silently ignores
the last rows and columns of the input).

- ``im2col(x, kernel_size, stride, padding)``: every ``k x k`` patch of every
  channel as one row, ``(n * oh * ow, c * k * k)``; ``col2im`` is its
  transpose: it adds each row's entries back onto the pixels they came from,
  so a pixel that lies in several patches receives the sum.
- ``Conv2d``: ``out = im2col(x) @ W_col + b`` reshaped to ``(n, c_out, oh, ow)``;
  backward is ``Linear``'s backward followed by ``col2im``.
- ``MaxPool2d``, ``AvgPool2d``: the max or the mean of each window, per
  channel; backward routes ``dout`` to the window's arg-max (the first one at
  a tie), or spreads it evenly over the window.
- ``Flatten``: ``(n, c, h, w)`` to ``(n, c * h * w)``, for a ``Linear`` on top.

All layers follow ``Linear``'s protocol: ``forward`` caches what ``backward``
needs; ``backward(dout)`` returns the gradient for the input; ``Conv2d``
overwrites ``grad_W``, ``grad_b`` in place and has ``named_parameters()``,
``parameters()``, ``zero_grad()`` (the pooling layers and ``Flatten`` have no
parameters). Input checks follow CONTRIBUTING.md, "Input checks": full when a
layer is called on its own, ``checked=True`` inside a ``Sequential``.
"""

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._validate import (as_float_array, as_rng, check_shape, non_negative_int, owner_name, positive_int,
                        require_forward)
from .layers import HasParameters

INIT_NAMES = ("he", "xavier")


# ------------------------------------------------------------------------- sizes


def output_shape(input_hw, kernel_size, stride=1, padding=0, owner="conv"):
    """``(oh, ow)``, the output's spatial size for an input of ``input_hw = (h, w)`` pixels.

    Along each axis ``(size + 2 * padding - kernel_size) / stride + 1``. Raises
    ``ValueError`` (naming ``owner``, a string or a function returning one) when
    the padded input is smaller than the kernel, or when the kernel's last step
    would not end exactly at the padded input's edge (a non-integer output size).
    """
    h, w = (int(v) for v in input_hw)
    k, s, p = kernel_size, stride, padding
    if min(h, w) + 2 * p < k:
        where = f"input {h}×{w} with kernel {k}, stride {s}, padding {p}"
        raise ValueError(
            f"{owner_name(owner)}: {where} is smaller than the kernel ({min(h, w)} + 2·{p} < {k}); expected a "
            f"height and width of at least kernel_size - 2·padding = {k - 2 * p}"
        )
    bad = [size for size in (h, w) if (size + 2 * p - k) % s]
    if bad:
        where = f"input {h}×{w} with kernel {k}, stride {s}, padding {p}"
        size = bad[0]
        kernels = [kk for kk in range(1, min(h, w) + 2 * p + 1) if all((v + 2 * p - kk) % s == 0 for v in (h, w))]
        nearest = min(kernels, key=lambda kk: (abs(kk - k), kk), default=None)
        fix = f"for example kernel_size={nearest}, or stride=1" if nearest else "for example stride=1"
        raise ValueError(
            f"{owner_name(owner)}: {where} gives a non-integer output size: ({size} + 2·{p} - {k})/{s} + 1 = "
            f"{(size + 2 * p - k) / s + 1:g}; expected size + 2·padding - kernel_size to be a multiple "
            f"of the stride ({fix})"
        )
    return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1


def _pad(x, padding, value=0.0):
    """``x`` (n, c, h, w) with ``padding`` rows and columns of ``value`` added on every side."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * padding, w + 2 * padding), value)
    out[:, :, padding:padding + h, padding:padding + w] = x
    return out


# ------------------------------------------------------------------- im2col, col2im


def windows(x, kernel_size, stride=1, padding=0, pad_value=0.0, owner="windows"):
    """Every ``k x k`` window of ``x`` (n, c, h, w), as a view ``(n, c, oh, ow, k, k)`` of the padded input.

    ``windows(x, ...)[i, l, a, b]`` is the patch of channel ``l`` of image
    ``i`` whose top-left corner is at ``(stride * a, stride * b)`` of the padded
    image. No copy is made: the view steps ``stride`` pixels from one window
    to the next and one pixel within a window (read-only, as numpy's
    ``sliding_window_view``). ``x`` is not checked (the callers have checked it).
    """
    k, s = kernel_size, stride
    oh, ow = output_shape(x.shape[2:], k, s, padding, owner)
    xpad = _pad(x, padding, pad_value)
    n, c = xpad.shape[:2]
    step_n, step_c, step_row, step_col = xpad.strides
    return as_strided(xpad, shape=(n, c, oh, ow, k, k), writeable=False,
                      strides=(step_n, step_c, s * step_row, s * step_col, step_row, step_col))


def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold the patches of ``x`` (n, c, h, w) into the rows of a matrix ``(n * oh * ow, c * k * k)``.

    Row ``(i * oh + a) * ow + b`` holds the patch under output pixel ``(a, b)``
    of image ``i``; within a row, the entries run over channel ``l``, then
    kernel row, then kernel column (the order of ``W[j].reshape(-1)`` for a
    weight array ``W`` of shape ``(c_out, c, k, k)``).
    """
    x = as_float_array(x, "input x", "im2col")
    _check_images(x, "im2col")
    return _im2col(x, kernel_size, stride, padding, "im2col")


def _im2col(x, kernel_size, stride, padding, owner):
    """``im2col`` without the input checks (the layers check once, in forward).

    The matrix is stored column by column (Fortran order): one entry of every
    patch after another. It is the same matrix, but the copy out of the
    windows runs along image rows, and the matrix products are faster.
    """
    patches = windows(x, kernel_size, stride, padding, owner=owner)   # (n, c, oh, ow, k, k), a view
    n, c, oh, ow, k, _ = patches.shape
    by_entry = patches.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * oh * ow)   # the one copy
    return by_entry.T                                                 # (n*oh*ow, c*k*k)


def col2im(col, x_shape, kernel_size, stride=1, padding=0):
    """The transpose of ``im2col``: add the rows of ``col`` (n * oh * ow, c * k * k) back into images ``x_shape``.

    Every entry of ``col`` is a copy of one pixel, so its gradient goes back to
    that pixel; a pixel that appears in several patches gets the **sum** of
    their gradients (the fan-out rule). Returns an array of ``x_shape``.
    """
    x_shape = tuple(int(v) for v in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape is {x_shape}, expected the images' shape (n, c, height, width)")
    n, c, h, w = x_shape
    oh, ow = output_shape((h, w), kernel_size, stride, padding, "col2im")
    col = as_float_array(col, "col", "col2im")
    check_shape(col, (n * oh * ow, c * kernel_size * kernel_size), "col (the shape im2col gives)", "col2im")
    return _col2im(col, x_shape, kernel_size, stride, padding)


def _col2im(col, x_shape, kernel_size, stride, padding):
    """``col2im`` without the checks: one scatter-add, ``np.bincount`` of the entries by pixel.

    Measured against the two other ways to add the patches back (one
    vectorised ``+=`` per kernel offset, and ``np.add.at``): ``np.add.at`` is
    several times slower than both; the offset loop wins by about a fifth
    when there is one input channel (the first layer's dx, which training
    never needs), bincount by almost half with 16 channels (the second
    layer's dx, needed at every step of the digits network).
    """
    pixels = _pixel_numbers(x_shape, kernel_size, stride, padding)
    return _add_by_pixel(pixels.col, col.ravel(order="F"), x_shape, padding)


def _add_by_pixel(pixels, values, x_shape, padding):
    """Images of ``x_shape`` whose pixel ``q`` (numbered in the padded input) is the sum of ``values[pixels == q]``.

    ``np.bincount`` does the whole scatter-add in one pass, adding in the
    order of ``values``; the border of padding is then cut off.
    """
    n, c, h, w = x_shape
    p = padding
    sums = np.bincount(pixels, weights=values, minlength=n * c * (h + 2 * p) * (w + 2 * p))
    return sums.reshape(n, c, h + 2 * p, w + 2 * p)[:, :, p:p + h, p:p + w]


class _PixelNumbers:
    """Where every window entry comes from: its pixel's number in the padded input (read-only int arrays).

    ``windows`` (n, c, oh, ow, k*k): the numbers under every window, in the
    order of ``windows()``; ``col``: the same numbers in the order of
    ``im2col``'s matrix read column by column, flattened. They are ``im2col``
    of an image whose pixels hold their own numbers: backward passes use them
    to send each entry's gradient home.
    """

    def __init__(self, x_shape, kernel_size, stride, padding):
        n, c, h, w = x_shape
        k, p = kernel_size, padding
        numbers = np.arange(n * c * (h + 2 * p) * (w + 2 * p)).reshape(n, c, h + 2 * p, w + 2 * p)
        view = windows(numbers, k, stride, 0)                    # (n, c, oh, ow, k, k)
        _, _, oh, ow, _, _ = view.shape
        self.windows = view.reshape(n, c, oh, ow, k * k)          # a copy
        self.col = view.transpose(1, 4, 5, 0, 2, 3).reshape(-1)  # (c, k, k, n, oh, ow): im2col's columns
        self.windows.flags.writeable = self.col.flags.writeable = False


@functools.lru_cache(maxsize=16)
def _pixel_numbers(x_shape, kernel_size, stride, padding):
    """The ``_PixelNumbers`` of one configuration, built once (a training run meets few shapes)."""
    return _PixelNumbers(x_shape, kernel_size, stride, padding)


def _check_images(x, owner, channels=None):
    """Raise unless ``x`` is a minibatch of images (n, c, h, w), with ``channels`` channels if given."""
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        wanted = "(n, c, height, width)" if channels is None else f"(n, {channels}, height, width)"
        hint = ""
        if x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 == x.shape[1] and channels in (None, 1):
            side = math.isqrt(x.shape[1])
            hint = f" (rows of {x.shape[1]} pixels? make them images: x.reshape(-1, 1, {side}, {side}))"
        elif x.ndim == 3:
            hint = " (one channel? add the channel axis: x[:, None])"
        elif x.ndim == 4 and channels is not None and x.shape[3] == channels:
            hint = " (channels last? put them second: x.transpose(0, 3, 1, 2))"
        raise ValueError(f"{owner_name(owner)}: input x has shape {x.shape}, expected {wanted}{hint}")


# -------------------------------------------------------------------------- layers


class _Layer:
    """Bookkeeping the image layers share: calling, checks of x and dout.

    Input checks as everywhere in companion (CONTRIBUTING.md, "Input
    checks"): called on its own, a layer converts ``x`` and ``dout`` to
    float64 and rejects NaN, infinity and non-numbers; ``checked=True`` (what
    ``Sequential`` passes for an array another companion layer computed)
    skips that scan. The shape checks always run. The layer's name is
    formatted only when an error is raised (``self.__repr__``, not ``repr(self)``).
    """

    x_shape = None  # shape of the last forward input (None: no forward yet)

    def __call__(self, x):
        return self.forward(x)

    def _input(self, x, checked, channels=None):
        if not checked:
            x = as_float_array(x, "input x", self.__repr__)
        _check_images(x, self.__repr__, channels)
        return x

    def _dout(self, dout, checked):
        require_forward(self.x_shape, self.__repr__)
        if not checked:
            dout = as_float_array(dout, "upstream gradient dout", self.__repr__)
        check_shape(dout, self.out_shape, "upstream gradient dout (the shape of forward's output)", self.__repr__)
        return dout


def _extras(stride, padding, default_stride):
    text = f", stride={stride}" if stride != default_stride else ""
    return text + (f", padding={padding}" if padding else "")


class Conv2d(_Layer, HasParameters):
    """2-D convolution of a minibatch of images: ``c_in`` channels in, ``c_out`` channels out.

    Shapes::

        x        (n, c_in, h, w)
        W        (c_out, c_in, k, k)   one k x k kernel per pair of channels
        b        (c_out,)              one bias per output channel
        out      (n, c_out, oh, ow)    oh = (h + 2 padding - k) / stride + 1, ow alike

    ``out[i, j, phi, phi2] = b[j] + sum over l, psi, psi2 of
    W[j, l, psi, psi2] * xpad[i, l, stride*phi + psi, stride*phi2 + psi2]``
    (a cross-correlation, as in every deep-learning framework), where
    ``xpad`` is ``x`` with ``padding`` zeros around it. Computed as one matrix
    product of ``col = im2col(x)`` (n*oh*ow, c_in*k*k) with ``W_col =
    W.reshape(c_out, -1).T`` (c_in*k*k, c_out). Backward, given ``dout`` of
    the output's shape, with ``dout_col`` its (n*oh*ow, c_out) matrix::

        grad_W = (col.T @ dout_col).T reshaped to (c_out, c_in, k, k)
        grad_b = dout_col.sum(axis=0)                       (c_out,)
        dx     = col2im(dout_col @ W_col.T)                 (n, c_in, h, w)

    Input sizes that do not give a whole number of output positions are
    refused with a ``ValueError`` (PyTorch would silently drop the input's
    last rows and columns).

    ``init``: "he" draws ``W`` from Normal(0, 2 / fan_in), "xavier" from
    Normal(0, 2 / (fan_in + fan_out)), with ``fan_in = c_in * k * k`` and
    ``fan_out = c_out * k * k`` (the inputs of one output pixel, and the
    outputs one input pixel feeds). ``rng``: a numpy Generator or an int seed.
    Biases start at zero.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, init="he", rng=None):
        owner = "Conv2d"
        c_in = positive_int(in_channels, "in_channels", owner)
        c_out = positive_int(out_channels, "out_channels", owner)
        k = positive_int(kernel_size, "kernel_size", owner)
        self.stride = positive_int(stride, "stride", owner)
        self.padding = non_negative_int(padding, "padding", owner)
        self.kernel_size = k
        if init not in INIT_NAMES:
            raise ValueError(f"{owner}: unknown initialiser {init!r}; expected one of {list(INIT_NAMES)}")
        fan_in, fan_out = c_in * k * k, c_out * k * k
        std = math.sqrt(2.0 / fan_in) if init == "he" else math.sqrt(2.0 / (fan_in + fan_out))
        self.W = as_rng(rng).normal(0.0, std, size=(c_out, c_in, k, k))
        self.b = np.zeros(c_out)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)

    def __repr__(self):
        c_out, c_in, k, _ = self.W.shape
        return f"Conv2d({c_in}, {c_out}, kernel_size={k}{_extras(self.stride, self.padding, 1)})"

    def forward(self, x, *, checked=False):
        c_out, c_in, k, _ = self.W.shape
        x = self._input(x, checked, channels=c_in)
        n = len(x)
        oh, ow = output_shape(x.shape[2:], k, self.stride, self.padding, self.__repr__)
        self.col = _im2col(x, k, self.stride, self.padding, self.__repr__)  # (n*oh*ow, c_in*k*k)
        W_col = self.W.reshape(c_out, -1).T                              # (c_in*k*k, c_out)
        out = np.matmul(self.col, W_col, out=_by_column(len(self.col), c_out))   # (n*oh*ow, c_out)
        out += self.b
        self.x, self.x_shape, self.out_shape = x, x.shape, (n, c_out, oh, ow)
        return out.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)      # (n, c_out, oh, ow)

    def backward(self, dout, input_grad=True, *, checked=False):
        """Store grad_W and grad_b; return dx (None with ``input_grad=False``, when x is data)."""
        dout = self._dout(dout, checked)
        c_out = self.W.shape[0]
        dout_col = dout.transpose(0, 2, 3, 1).reshape(-1, c_out)        # (n*oh*ow, c_out)
        np.matmul(dout_col.T, self.col, out=self.grad_W.reshape(c_out, -1))  # = (col.T @ dout_col).T
        np.sum(dout_col, axis=0, out=self.grad_b)
        if not input_grad:
            return None
        dcol = np.matmul(dout_col, self.W.reshape(c_out, -1), out=_by_column(*self.col.shape))  # = dout_col @ W_col.T
        return _col2im(dcol, self.x_shape, self.kernel_size, self.stride, self.padding)

    def named_parameters(self):
        return [("W", self.W, self.grad_W), ("b", self.b, self.grad_b)]


def _by_column(rows, cols):
    """An empty (rows, cols) matrix stored column by column, for a product's result.

    A convolution's output ``(n*oh*ow, c_out)`` stored this way is, in
    memory, one whole feature map after another: reshaped to
    ``(n, c_out, oh, ow)`` it needs no copy, and each map is contiguous.
    """
    return np.empty((rows, cols), order="F")


class _Pool(_Layer):
    """Shared by the pooling layers: window sizes, checks, the repr."""

    pad_value = 0.0

    def __init__(self, kernel_size, stride=None, padding=0):
        owner = type(self).__name__
        self.kernel_size = positive_int(kernel_size, "kernel_size", owner)
        self.stride = self.kernel_size if stride is None else positive_int(stride, "stride", owner)
        self.padding = non_negative_int(padding, "padding", owner)
        if 2 * self.padding > self.kernel_size:
            raise ValueError(
                f"{owner}: padding {self.padding} is more than half the kernel size {self.kernel_size}; "
                f"expected padding <= kernel_size // 2 = {self.kernel_size // 2} (a wider border would "
                f"make windows of padding only)"
            )

    def __repr__(self):
        return f"{type(self).__name__}({self.kernel_size}{_extras(self.stride, self.padding, self.kernel_size)})"

    def _windows(self, x):
        """(n, c, oh, ow, k*k): the entries of every window, copied into the last axis."""
        n, c = x.shape[:2]
        oh, ow = output_shape(x.shape[2:], self.kernel_size, self.stride, self.padding, self.__repr__)
        self.x_shape, self.out_shape = x.shape, (n, c, oh, ow)
        patches = windows(x, self.kernel_size, self.stride, self.padding, self.pad_value, self.__repr__)
        return patches.reshape(n, c, oh, ow, -1)

    def _pixels(self):
        """(n, c, oh, ow, k*k): the number of the padded-input pixel under every window entry."""
        return _pixel_numbers(self.x_shape, self.kernel_size, self.stride, self.padding).windows

    def _add_by_pixel(self, pixels, values):
        """dx: every value added onto the pixel it belongs to (overlapping windows add up)."""
        return _add_by_pixel(pixels.reshape(-1), values.reshape(-1), self.x_shape, self.padding)


class MaxPool2d(_Pool):
    """Max pooling: the largest entry of each ``k x k`` window, channel by channel.

    Shapes: ``x`` (n, c, h, w) -> ``out`` (n, c, oh, ow), with ``stride``
    defaulting to ``kernel_size`` (windows side by side) and ``oh``, ``ow`` as
    for ``Conv2d``. ``padding`` adds a border of -inf (at most half the kernel
    wide), which never wins a window.

    Backward is the max gate, window by window: only the winning entry
    influenced the output, so it receives the whole ``dout`` of its window and
    every other entry gets 0. At a tie the first largest entry (in row-major
    order within the window) wins, like ``Tensor.max``. A pixel that wins in
    several overlapping windows (stride < kernel) receives the sum of their
    ``dout``.
    """

    pad_value = -np.inf

    def forward(self, x, *, checked=False):
        patches = self._windows(self._input(x, checked))            # (n, c, oh, ow, k*k)
        self.argmax = patches.argmax(axis=-1)                       # (n, c, oh, ow): the winner's place
        return patches.max(axis=-1)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        k, width = self.kernel_size, self.x_shape[3] + 2 * self.padding
        corners = self._pixels()[..., 0]                            # each window's top-left pixel
        winners = corners + (self.argmax // k) * width + self.argmax % k   # row and column inside the window
        return self._add_by_pixel(winners, dout)                    # dout to the winner only


class AvgPool2d(_Pool):
    """Average pooling: the mean of each ``k x k`` window, channel by channel.

    Shapes as for ``MaxPool2d``. ``padding`` adds a border of zeros that
    counts in the mean (every window divides by ``k * k``, PyTorch's default
    ``count_include_pad=True``).

    Backward: every entry of a window contributed ``1 / (k * k)`` of the
    output, so each gets ``dout / (k * k)``; overlapping windows add.
    """

    def forward(self, x, *, checked=False):
        return self._windows(self._input(x, checked)).mean(axis=-1)

    def backward(self, dout, *, checked=False):
        dout = self._dout(dout, checked)
        share = dout / self.kernel_size ** 2                           # (n, c, oh, ow)
        pixels = self._pixels()                                        # (n, c, oh, ow, k*k)
        return self._add_by_pixel(pixels, np.broadcast_to(share[..., None], pixels.shape))


class Flatten(_Layer):
    """``(n, c, h, w)`` (or any ``(n, ...)``) to ``(n, c * h * w)``, one row per sample, for a ``Linear``.

    The entries keep numpy's (row-major) order: channel, then row, then
    column. Backward reshapes ``dout`` back to the input's shape.
    """

    def __repr__(self):
        return "Flatten()"

    def forward(self, x, *, checked=False):
        if not checked:
            x = as_float_array(x, "input x", "Flatten")
        if x.ndim < 2:
            raise ValueError(f"Flatten: input x has shape {x.shape}, expected (n, ...): one sample per row")
        self.x_shape, self.out_shape = x.shape, (len(x), int(np.prod(x.shape[1:])))
        return x.reshape(self.out_shape)

    def backward(self, dout, *, checked=False):
        return self._dout(dout, checked).reshape(self.x_shape)


# -------------------------------------------------------- the definition, as loops


def conv2d_loops(x, W, b, stride=1, padding=0):
    """``Conv2d``'s forward written as the definition, one output entry at a time (slow; for checks).

    ``out[i, j, phi, phi2] = b[j] + sum over l, psi, psi2 of
    W[j, l, psi, psi2] * xpad[i, l, stride*phi + psi, stride*phi2 + psi2]``;
    shapes as for ``Conv2d``. Independent of im2col, so tests, the checker
    and the benchmark hold the fast layer to it.
    """
    x, W, b = (as_float_array(v, name, "conv2d_loops") for v, name in ((x, "x"), (W, "W"), (b, "b")))
    n, c_in, h, w = x.shape
    c_out, _, k, _ = W.shape
    oh, ow = output_shape((h, w), k, stride, padding, "conv2d_loops")
    xpad = _pad(x, padding)
    out = np.zeros((n, c_out, oh, ow))
    for i in range(n):
        for j in range(c_out):
            for phi in range(oh):
                for phi2 in range(ow):
                    total = b[j]
                    for l in range(c_in):
                        for psi in range(k):
                            for psi2 in range(k):
                                pixel = xpad[i, l, stride * phi + psi, stride * phi2 + psi2]
                                total += W[j, l, psi, psi2] * pixel
                    out[i, j, phi, phi2] = total
    return out


def conv2d_loops_backward(x, W, dout, stride=1, padding=0):
    """``(dx, grad_W, grad_b)`` of ``conv2d_loops``, by the chain rule applied to every product (slow; for checks).

    Each product ``W[j, l, psi, psi2] * xpad[i, l, r, c]`` in output entry
    ``[i, j, phi, phi2]`` sends ``dout[i, j, phi, phi2]`` times the other factor to each
    of its two factors (the multiplication node's swap), and every share is
    added (a weight and a pixel feed many products). The bias gets every
    ``dout`` of its channel.
    """
    x, W, dout = (as_float_array(v, name, "conv2d_loops_backward") for v, name in ((x, "x"), (W, "W"), (dout, "dout")))
    n, c_in, h, w = x.shape
    c_out, _, k, _ = W.shape
    oh, ow = output_shape((h, w), k, stride, padding, "conv2d_loops_backward")
    xpad = _pad(x, padding)
    dxpad, grad_W, grad_b = np.zeros_like(xpad), np.zeros_like(W), np.zeros(c_out)
    for i in range(n):
        for j in range(c_out):
            for phi in range(oh):
                for phi2 in range(ow):
                    d = dout[i, j, phi, phi2]
                    grad_b[j] += d
                    for l in range(c_in):
                        for psi in range(k):
                            for psi2 in range(k):
                                r, c = stride * phi + psi, stride * phi2 + psi2   # the pixel
                                grad_W[j, l, psi, psi2] += d * xpad[i, l, r, c]
                                dxpad[i, l, r, c] += d * W[j, l, psi, psi2]
    return dxpad[:, :, padding:padding + h, padding:padding + w], grad_W, grad_b
