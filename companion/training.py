"""The training loop: epochs of shuffled minibatches, with a progress bar and a history.

Chapter "Training a digit classifier"; ``fit_language_model`` and
``evaluate_language_model``, the loop of next-character prediction on windows
of a text: chapter "A tiny character-level language model".

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

from ._validate import as_float_array, as_labels, as_rng, is_companion_layer, number_in, positive_int
from .datasets import _id_sequence, _windows_at
from .layers import Linear, Sequential
from .losses import SoftmaxCrossEntropy


def _data(model, x, t, owner, what):
    """Check a data set once, up front: x (n, ...) finite floats, t labels for the model's k outputs.

    The loops then tell companion's models and losses so (``_checked_calls``),
    and no minibatch is scanned again.
    """
    x = as_float_array(x, f"{what} inputs x", owner)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"{owner}: {what} inputs x have shape {x.shape}, expected (n, features) with n >= 1 "
                         f"(or (n, c, height, width) images for a convolutional network)")
    with _mode(model, training=False):  # one sample through the model: no batch statistics, nothing dropped
        try:
            k = np.shape(model.forward(x[:1]))[-1]
        except (ValueError, TypeError) as err:  # the model says what it expected
            raise type(err)(f"{owner}: the model cannot take {what} inputs x of shape {x.shape}: {err}") from None
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

    Images ``(n, c, h, w)`` work too (as in ``fit``, the first axis counts the samples).

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


def _check_optimizer(model, optimizer, owner):
    """An optimizer built from this model's parameters, or a clear error."""
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"{owner}: optimizer must be an optimizer such as Adam(model.parameters()), got {optimizer!r}")
    if {id(p) for p, _ in getattr(optimizer, "parameters", [])} != {id(p) for p, _ in model.parameters()}:
        raise ValueError(f"{owner}: the optimizer does not update this model's parameters; build it from "
                         f"model.parameters()")


def fit(model, x, t, *, optimizer, loss=None, epochs=10, batch_size=32, rng=0, validation=None, progress=True,
        blas_threads=1):
    """Train ``model`` on inputs ``x`` (n, d) and targets ``t`` (labels (n,) or one-hot (n, k)).

    ``x`` may have more axes, ``(n, c, h, w)`` images for a convolutional
    network: the first axis always counts the samples.

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
    epochs, batch_size = positive_int(epochs, "epochs", "fit"), positive_int(batch_size, "batch_size", "fit")
    _check_optimizer(model, optimizer, "fit")
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


# --- Language models: next-character prediction on windows of a text --------------------------------

def _check_text(model, ids, length, owner, what):
    """Check ``ids`` against the model once, up front: long enough, and every id one of the model's C outputs."""
    ids = _id_sequence(ids, owner, f"{what} ids")
    if len(ids) < length + 1:
        raise ValueError(f"{owner}: {len(ids)} {what} ids are too few for one window of length {length}; expected at "
                         f"least {length + 1}")
    if ids.min() < 0:
        raise ValueError(f"{owner}: {what} ids contain {int(ids.min())}; expected ids >= 0")
    with _mode(model, training=False):
        try:
            logits = model.forward(ids[None, :length])
        except (ValueError, TypeError) as err:
            raise type(err)(f"{owner}: the model cannot take a window of {length} {what} ids: {err}") from None
    if np.ndim(logits) != 3 or np.shape(logits)[:2] != (1, length):
        raise ValueError(f"{owner}: the model returned shape {np.shape(logits)} for ids of shape (1, {length}); "
                         f"expected logits (1, {length}, C), one score per character at every position")
    classes = np.shape(logits)[2]
    if ids.max() >= classes:
        raise ValueError(f"{owner}: {what} ids contain {int(ids.max())}, but the model scores {classes} characters "
                         f"(ids 0..{classes - 1})")
    return ids


def _spread_windows(ids, length, windows):
    """``windows`` windows of ``length`` ids, evenly spread over ``ids``: (inputs, targets), both (windows, length)."""
    return _windows_at(ids, np.linspace(0, len(ids) - length - 1, windows).astype(np.int64), length)


def evaluate_language_model(model, ids, length, windows=64, loss=None):
    """Mean next-character loss of ``model`` on ``windows`` windows of ``length`` ids spread evenly over ``ids``.

    ``ids`` (N,) is an encoded text; the windows start at evenly spaced
    positions from the first to the last possible one (the same windows every
    call), and the loss (default ``SoftmaxCrossEntropy()``) is the mean over
    all ``windows * length`` predicted characters. Measured in evaluation mode.
    """
    length = positive_int(length, "length", "evaluate_language_model")
    windows = positive_int(windows, "windows", "evaluate_language_model")
    ids = _check_text(model, ids, length, "evaluate_language_model", "evaluation")
    loss = SoftmaxCrossEntropy() if loss is None else loss
    return _text_loss(model, loss, *_spread_windows(ids, length, windows))


def _text_loss(model, loss, inputs, targets):
    forward, loss_forward = _checked_calls(model, loss)
    with _mode(model, training=False):
        return loss_forward(forward(inputs), targets)


def fit_language_model(model, ids, *, optimizer, steps, length, batch_size=32, validation=None, eval_every=None,
                       eval_windows=64, max_norm=None, rng=0, blas_threads=1):
    """Train ``model`` to predict the next character at every position of windows of the encoded text ``ids``.

    ``model`` maps ids (b, S) to logits (b, S, C), as ``char_rnn`` and
    ``char_transformer`` do. Each of the ``steps`` steps draws ``batch_size``
    windows of ``length + 1`` ids at random starts (from ``rng``, an int seed
    or a Generator), and runs::

        logits = model.forward(inputs)              # (b, S, C)
        loss.forward(logits, targets)               # mean over the b * S positions
        model.backward(loss.backward())
        clip_grad_norm(model.parameters(), max_norm)  # if max_norm is given
        optimizer.step()

    Returns a history dict of lists: ``step``, and ``loss``, the mean loss on
    ``eval_windows`` fixed windows of the training text (spread evenly over it,
    as ``evaluate_language_model`` takes them), measured before the first step
    and every ``eval_every`` steps (default: 10 measurements) and after the last;
    with ``validation`` (the held-out ids), ``val_loss`` on held-out windows
    measured at the same steps. ``batch_loss`` holds every step's minibatch loss.

    The ids are checked once, up front (1-D integers, each one of the model's
    C outputs). ``blas_threads`` as in ``fit``. Raises ``FloatingPointError``
    when a number overflows (diverging training: lower the learning rate).
    """
    owner = "fit_language_model"
    steps, length = positive_int(steps, "steps", owner), positive_int(length, "length", owner)
    batch_size = positive_int(batch_size, "batch_size", owner)
    eval_windows = positive_int(eval_windows, "eval_windows", owner)
    eval_every = max(1, steps // 10) if eval_every is None else positive_int(eval_every, "eval_every", owner)
    if max_norm is not None:
        max_norm = number_in(max_norm, "max_norm", owner, 0.0, np.inf)
    _check_optimizer(model, optimizer, owner)
    ids = _check_text(model, ids, length, owner, "training")
    monitors = {"loss": _spread_windows(ids, length, eval_windows)}
    if validation is not None:
        monitors["val_loss"] = _spread_windows(_check_text(model, validation, length, owner, "validation"),
                                               length, eval_windows)
    rng = as_rng(rng)
    with _blas_threads(blas_threads), np.errstate(over="raise", invalid="raise", divide="raise"):
        return _train_language_model(model, ids, optimizer, steps, length, batch_size, eval_every, monitors,
                                     max_norm, rng)


def _train_language_model(model, ids, optimizer, steps, length, batch_size, eval_every, monitors, max_norm, rng):
    """The loop of ``fit_language_model``, on checked ids."""
    from .optim import clip_grad_norm

    loss = SoftmaxCrossEntropy()
    forward, loss_forward = _checked_calls(model, loss)
    parameters = model.parameters()
    history = {"step": [], **{key: [] for key in monitors}, "batch_loss": []}

    def measure(step):
        history["step"].append(step)
        for key, windows in monitors.items():
            history[key].append(_text_loss(model, loss, *windows))

    measure(0)
    for step in range(1, steps + 1):
        _set_mode(model, training=True)
        inputs, targets = _windows_at(ids, rng.integers(0, len(ids) - length, size=batch_size), length)  # (b, S)
        try:
            batch_loss = loss_forward(forward(inputs), targets)
            dlogits = loss.backward()                                                  # (b, S, C)
            if isinstance(model, (Linear, Sequential)):  # the ids' gradient is never used
                model.backward(dlogits, input_grad=False, checked=True)
            else:
                model.backward(dlogits)
            if max_norm is not None:
                clip_grad_norm(parameters, max_norm)
            optimizer.step()
        except FloatingPointError as err:
            raise FloatingPointError(f"fit_language_model: numbers overflowed ({err}) in step {step}: training "
                                     f"diverged; lower the learning rate") from None
        history["batch_loss"].append(batch_loss)
        if step % eval_every == 0 or step == steps:
            measure(step)
    _set_mode(model, training=False)
    return history
