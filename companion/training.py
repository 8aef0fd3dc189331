"""The training loop: epochs of shuffled minibatches, with a progress bar and a history.

Chapter "Training a digit classifier".

``fit`` runs, for every minibatch, the four lines every chapter before wrote
by hand::

    logits = model.forward(xb)            # (b, k)
    loss.forward(logits, tb)              # mean loss of the batch
    model.backward(loss.backward())       # every grad overwritten
    optimizer.step()                      # every param updated

and returns a ``history`` dict of per-epoch lists: ``loss`` and ``accuracy``
(averaged over the epoch's minibatches, as they were seen while training)
and, with ``validation=(x_val, t_val)``, ``val_loss`` and ``val_accuracy``
(measured after the epoch). ``evaluate`` measures a model on a data set.

Models with layers that behave differently in training and in evaluation
(``BatchNorm``, ``Dropout``) have ``train()`` and ``eval()``: ``fit`` runs
the minibatches in training mode and measures in evaluation mode, and
``evaluate`` always measures in evaluation mode.
"""

import contextlib
import functools

import numpy as np

from ._validate import as_float_array, as_labels, as_rng, is_companion_layer
from .layers import Linear, Sequential
from .losses import SoftmaxCrossEntropy


def _data(model, x, t, owner, what):
    """Check a data set once, up front: x (n, d) finite floats, t labels for the model's k outputs.

    The loops then tell companion's models and losses so (``_checked_calls``),
    and no minibatch is scanned again.
    """
    x = as_float_array(x, f"{what} inputs x", owner)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{owner}: {what} inputs x have shape {x.shape}, expected (n, features) with n >= 1")
    with _mode(model, training=False):  # one sample through the model: no batch statistics, nothing dropped
        k = np.shape(model.forward(x[:1]))[-1]
    return x, as_labels(t, len(x), k, f"{owner} ({what} targets)")


def _set_mode(model, training):
    """``model.train()`` or ``model.eval()`` if the model has them; return the mode it was in (None: no modes)."""
    if not (callable(getattr(model, "train", None)) and callable(getattr(model, "eval", None))):
        return None
    was = getattr(model, "training", None)
    model.train() if training else model.eval()
    return was


@contextlib.contextmanager
def _mode(model, training):
    """Run a block with the model in training or evaluation mode, then put back the mode it was in."""
    was = _set_mode(model, training)
    try:
        yield
    finally:
        if was is not None and was != training:
            _set_mode(model, was)


def evaluate(model, x, t, loss=None, batch_size=1000):
    """Mean loss and accuracy of ``model`` on inputs ``x`` (n, d) and targets ``t``: ``(loss, accuracy)``.

    ``loss`` defaults to ``SoftmaxCrossEntropy()``; the data go through the
    model in chunks of ``batch_size`` rows, which bounds memory. A model with
    ``train()``/``eval()`` is measured in evaluation mode (no dropout,
    BatchNorm with its running statistics) and then put back in the mode it
    was in.
    """
    loss = SoftmaxCrossEntropy() if loss is None else loss
    x, labels = _data(model, x, t, "evaluate", "evaluation")
    forward, loss_forward = _checked_calls(model, loss)
    total = correct = 0.0
    with _mode(model, training=False):
        for start in range(0, len(x), batch_size):
            logits = forward(x[start:start + batch_size])
            tb = labels[start:start + batch_size]
            total += loss_forward(logits, tb) * len(tb)
            correct += np.count_nonzero(logits.argmax(axis=1) == tb)
    return total / len(x), correct / len(x)


def _checked_calls(model, loss):
    """``model.forward`` and ``loss.forward``, told that the data are checked when companion defines them.

    ``fit`` and ``evaluate`` checked the inputs and targets once, up front
    (``_data``), so a minibatch need not be scanned again: companion's models
    get ``checked=True`` and its losses ``targets_checked=True`` (the loss still
    scans the logits). A model or loss of your own is called without them.
    """
    forward, loss_forward = model.forward, loss.forward
    if is_companion_layer(model):
        forward = functools.partial(model.forward, checked=True)
    if is_companion_layer(loss):
        loss_forward = functools.partial(loss.forward, targets_checked=True)
    return forward, loss_forward


def fit(model, x, t, *, optimizer, loss=None, epochs=10, batch_size=32, rng=0, validation=None, progress=True,
        blas_threads=1):
    """Train ``model`` on inputs ``x`` (n, d) and targets ``t`` (labels (n,) or one-hot (n, k)).

    Every epoch visits the samples in a new random order drawn from ``rng``
    (an int seed or a Generator: the same seed gives the same run) in
    minibatches of ``batch_size`` (the last one may be smaller). ``optimizer``
    must have been built from this model's ``parameters()``. ``loss``
    defaults to ``SoftmaxCrossEntropy()``.

    A model with ``train()``/``eval()`` (a ``Sequential`` always has them)
    runs every minibatch in training mode and is measured on the validation
    set in evaluation mode; ``fit`` returns with the model in evaluation mode,
    ready to predict (call ``model.train()`` to go on training by hand).

    ``progress=True`` shows a tqdm bar per epoch with the running loss and
    accuracy (on stderr); pass ``progress=False`` in notebooks that must
    produce the same output every run.

    ``blas_threads=1`` runs numpy's matrix products on one thread while
    training (``None`` leaves the setting alone): for the small matrices of
    a minibatch, extra threads cost more than they bring, many times more on
    a busy machine.

    Returns the history dict described in the module docstring. Raises
    ``FloatingPointError`` when a number overflows (diverging training:
    lower the learning rate).
    """
    loss = SoftmaxCrossEntropy() if loss is None else loss
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"fit: {label} must be a positive integer, got {value!r}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"fit: optimizer must be an optimizer such as Adam(model.parameters()), got {optimizer!r}")
    model_ids = {id(param) for param, _ in model.parameters()}
    if {id(param) for param, _ in getattr(optimizer, "parameters", [])} != model_ids:
        raise ValueError("fit: the optimizer does not update this model's parameters; build it from model.parameters()")
    x, labels = _data(model, x, t, "fit", "training")
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise TypeError("fit: validation must be a pair (x_val, t_val)")
        x_val, t_val = _data(model, *validation, "fit", "validation")
        validation = (x_val, t_val)
    rng = as_rng(rng)
    # Overflow or NaN anywhere in training raises FloatingPointError (caught and explained in _train).
    with _blas_threads(blas_threads), np.errstate(over="raise", invalid="raise", divide="raise"):
        return _train(model, x, labels, optimizer, loss, epochs, batch_size, rng, validation, progress)


def _train(model, x, labels, optimizer, loss, epochs, batch_size, rng, validation, progress):
    """The loop of ``fit``, on checked data."""
    bar = _progress_bar(progress)
    history = {"loss": [], "accuracy": []} | ({"val_loss": [], "val_accuracy": []} if validation is not None else {})
    n = len(x)
    forward, loss_forward = _checked_calls(model, loss)
    loss_checked = is_companion_layer(loss)  # then loss.backward() is a finite float64 array
    for epoch in range(1, epochs + 1):
        _set_mode(model, training=True)
        order = rng.permutation(n)
        total = correct = seen = 0.0
        with bar(total=n, desc=f"epoch {epoch}/{epochs}", unit="sample", leave=epoch == epochs) as pbar:
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                tb = labels[batch]
                try:
                    logits = forward(x[batch])
                    batch_loss = loss_forward(logits, tb)
                    dlogits = loss.backward()
                    if isinstance(model, (Linear, Sequential)):  # the data's gradient is never used
                        model.backward(dlogits, input_grad=False, checked=loss_checked)
                    else:
                        model.backward(dlogits)
                    optimizer.step()
                except FloatingPointError as err:
                    raise FloatingPointError(
                        f"fit: numbers overflowed ({err}) in epoch {epoch}, batch at sample {start}: "
                        f"training diverged; lower the learning rate"
                    ) from None
                total += batch_loss * len(batch)
                correct += np.count_nonzero(logits.argmax(axis=1) == tb)
                seen += len(batch)
                if progress:
                    pbar.update(len(batch))
                    pbar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
        history["loss"].append(total / n)
        history["accuracy"].append(correct / n)
        if validation is not None:
            val_loss, val_acc = evaluate(model, *validation, loss)
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_acc)
    _set_mode(model, training=False)
    return history


class _NoBar:
    """Stands in for a tqdm bar when progress is off: accepts the same calls, shows nothing."""

    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass

    def set_postfix(self, **kwargs):
        pass


def _blas_threads(count):
    """A context that limits numpy's BLAS to ``count`` threads (a no-op for None or without threadpoolctl)."""
    if count is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


def _progress_bar(progress):
    if not progress:
        return _NoBar
    try:
        from tqdm import tqdm
    except ImportError:
        raise ImportError("fit(progress=True) needs tqdm (pip install tqdm); or pass progress=False") from None
    return tqdm
