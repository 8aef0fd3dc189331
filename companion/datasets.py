"""Data sets: 8x8 digits (offline) and MNIST (from its IDX files); a text for a language model.

Chapters "Training a digit classifier" and "A tiny character-level language model".

Both loaders return ``(x_train, t_train), (x_test, t_test)``: ``x`` float64
of shape ``(n, pixels)`` scaled to [0, 1], ``t`` int64 labels of shape ``(n,)``.

- ``load_digits()``: scikit-learn's bundled 1,797 digits of 8x8 pixels. It
  ships inside the scikit-learn package, so it works without network.
- ``load_mnist(path)``: the 70,000 MNIST digits of 28x28 pixels, read from the
  four official ``.gz`` IDX files in ``path`` (default: the cache directory,
  ``$COMPANION_DATA/mnist`` or ``~/.cache/companion/mnist``). Each file is
  checked against the SHA-256 of the official file before it is read.
- ``download_mnist(path)``: fetches the four files from the mirrors in
  ``MNIST_MIRRORS``; without network it says which files to put where.
- ``read_idx(path)``: one IDX file (gzipped or not) as an array. A truncated or
  corrupt file raises ``ValueError``; it never returns a silently wrong array.

Text, for next-character prediction:

- ``load_devils_dictionary()``: Ambrose Bierce's *The Devil's Dictionary*
  (1911, public domain), 299,526 ASCII characters shipped with companion in
  ``companion/data/`` (source, licence and how it was trimmed: the README there).
- ``split_text(text, fraction)``: training and held-out parts, cut where an entry ends.
- ``CharVocab(text)``: the characters of a text, numbered; ``encode`` and ``decode``.
- ``text_windows(ids, length)``: windows of a sequence of character ids, as
  ``(inputs, targets)`` of shape (n, length), each target the next character.
"""

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ._validate import as_float_array, as_rng, number_in, positive_int

# The official files, with the SHA-256 of each (as published by torchvision and others).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# IDX type byte -> numpy dtype (big-endian, as the format stores them)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def cache_dir():
    """Where MNIST is looked for and downloaded to by default: ``$COMPANION_DATA/mnist``
    if the environment variable is set, else ``~/.cache/companion/mnist``."""
    root = os.environ.get("COMPANION_DATA") or Path.home() / ".cache" / "companion"
    return Path(root) / "mnist"


def split(x, t, test_fraction=0.2, rng=0):
    """Seeded, stratified split into ``(x_train, t_train), (x_test, t_test)``.

    From each class, ``round(test_fraction * count)`` samples go to the test
    set, so both sets keep the class proportions. Both sets come out in a
    random order (drawn from ``rng``, an int seed or a Generator).
    """
    x = as_float_array(x, "inputs x", "split")
    t = np.asarray(t)
    if t.ndim != 1 or len(t) != len(x):
        raise ValueError(f"split: labels t have shape {t.shape}, expected ({len(x)},), one label per row of x")
    if not 0 < test_fraction < 1:
        raise ValueError(f"split: test_fraction must be between 0 and 1, got {test_fraction!r}")
    rng = as_rng(rng)
    test = np.concatenate([
        rng.permutation(members)[: round(test_fraction * len(members))]
        for members in (np.flatnonzero(t == c) for c in np.unique(t))
    ])
    train = rng.permutation(np.setdiff1d(np.arange(len(t)), test))
    test = rng.permutation(test)
    return (x[train], t[train]), (x[test], t[test])


def load_digits(test_fraction=0.2, rng=0):
    """The 8x8 handwritten digits bundled with scikit-learn, split into train and test sets.

    Returns ``(x_train, t_train), (x_test, t_test)``: ``x`` float64 (n, 64),
    pixels scaled from 0..16 to [0, 1]; ``t`` int64 labels 0..9. With the
    defaults: 1,438 training and 359 test images (a stratified split), the same every run.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the 8x8 digits: pip install scikit-learn"
        ) from None
    data = sklearn_digits()
    return split(data.data / 16.0, data.target.astype(np.int64), test_fraction, rng)


def read_idx(path):
    """Read one IDX file (the format of the MNIST files), gzipped or not, as a numpy array.

    The header is two zero bytes, a type byte (0x08 = unsigned byte, ...), the
    number of dimensions, then each dimension as a big-endian int32; the data
    follow. Returns an array of that shape (native byte order). Raises
    ``ValueError`` when the file is not IDX, is truncated, or has extra bytes.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"read_idx: {path.name} is a corrupt or truncated gzip file ({err})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path.name} is not an IDX file: it starts with bytes {raw[:4].hex()}, "
            f"expected 0000 then a type byte (08 for unsigned bytes) and the number of dimensions"
        )
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path.name} is truncated inside its header ({len(raw)} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        problem = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise ValueError(
            f"read_idx: {path.name} is {problem}: its header promises shape {shape}, "
            f"{expected} bytes of data, but {len(raw) - header} bytes follow the header"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_mnist(path=None, *, normalize=True, flatten=True, verify=True):
    """MNIST from the four official IDX ``.gz`` files in directory ``path``.

    Returns ``(x_train, t_train), (x_test, t_test)``: 60,000 and 10,000
    images, ``x`` float64 of shape (n, 784) in [0, 1] (``flatten=False``:
    (n, 28, 28); ``normalize=False``: the raw bytes 0..255, as uint8), ``t``
    int64 labels 0..9. ``path`` defaults to ``cache_dir()``.

    With ``verify=True`` each file's SHA-256 must match the official file's
    (``MNIST_FILES``); pass ``verify=False`` to read IDX files of your own.
    Missing files raise ``FileNotFoundError`` saying what to put where.
    """
    directory = cache_dir() if path is None else Path(path)
    missing = [name for name in MNIST_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"load_mnist: {len(missing)} of the 4 MNIST files are missing in {directory}: "
            f"{', '.join(missing)}. Put the official files there, gzipped and with these names, "
            f"or run companion.datasets.download_mnist({str(directory)!r}) where there is network access."
        )
    arrays = {}
    for name, sha in MNIST_FILES.items():
        if verify and (got := _sha256(directory / name)) != sha:
            raise ValueError(
                f"load_mnist: {directory / name} has SHA-256 {got[:16]}..., expected {sha[:16]}... "
                f"(the official file); it is corrupt or a different file: delete it and download it "
                f"again, or pass verify=False for IDX files of your own"
            )
        arrays[name] = read_idx(directory / name)
    return _mnist_pair(arrays, "train", normalize, flatten), _mnist_pair(arrays, "t10k", normalize, flatten)


def _mnist_pair(arrays, prefix, normalize, flatten):
    """Check one images/labels pair of IDX arrays and convert it to (x, t)."""
    images = arrays[f"{prefix}-images-idx3-ubyte.gz"]
    labels = arrays[f"{prefix}-labels-idx1-ubyte.gz"]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"load_mnist: {prefix} images have shape {images.shape} and dtype {images.dtype}, "
                         f"expected (n, rows, cols) unsigned bytes")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"load_mnist: {prefix} labels have shape {labels.shape}, expected ({len(images)},), "
                         f"one label per image")
    if labels.size and labels.max() > 9:
        raise ValueError(f"load_mnist: {prefix} labels contain {int(labels.max())}, expected digits 0..9")
    x = images.reshape(len(images), -1) if flatten else images
    return (x / 255.0 if normalize else x), labels.astype(np.int64)


def download_mnist(path=None, mirrors=MNIST_MIRRORS, timeout=30):
    """Download the four MNIST files into ``path`` (default ``cache_dir()``) and return the directory.

    Files already there with the right SHA-256 are kept. Each file is tried on
    every mirror in turn and only written once its SHA-256 matches. When no
    mirror answers (no network), raises ``ConnectionError`` naming the files
    and the directory to put them in by hand.
    """
    directory = cache_dir() if path is None else Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for name, sha in MNIST_FILES.items():
        target = directory / name
        if target.is_file() and _sha256(target) == sha:
            continue
        failures = []
        for mirror in mirrors:
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as response:
                    data = response.read()
            except (urllib.error.URLError, OSError, ValueError) as err:
                failures.append(f"{mirror}: {getattr(err, 'reason', err)}")
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                failures.append(f"{mirror}: SHA-256 mismatch")
                continue
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)
            break
        else:
            raise ConnectionError(
                f"download_mnist: could not download {name} ({'; '.join(failures) or 'no mirrors given'}). "
                f"Without network access, get the four files {', '.join(MNIST_FILES)} elsewhere and put "
                f"them, still gzipped, in {directory}; then call load_mnist({str(directory)!r})."
            )
    return directory


# --- Text: The Devil's Dictionary, characters as integers, windows --------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"
DEVILS_DICTIONARY = "devils_dictionary.txt"
DEVILS_DICTIONARY_SHA256 = "fa8f91f4c94b63d48152a7bf4e064467e4cb08c3f91a981780ab0ac4cf776d26"


def load_devils_dictionary(path=None, *, verify=True):
    """Ambrose Bierce's *The Devil's Dictionary* (1911, public domain) as one string.

    The file ships with companion (``companion/data/devils_dictionary.txt``,
    299,526 ASCII characters: the entries ABASEMENT to SMITHAREEN, built from
    Debian's ``dict-devil`` package by ``tools/make_corpus.py``). ``path``
    reads another copy; with ``verify=True`` its SHA-256 must be the shipped
    file's (``verify=False`` reads any text file). A missing file raises
    ``FileNotFoundError`` saying how to get it back.
    """
    file = DATA_DIR / DEVILS_DICTIONARY if path is None else Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"load_devils_dictionary: {file} does not exist. The text ships with companion in "
            f"companion/data/{DEVILS_DICTIONARY}: reinstall companion, or rebuild the file with "
            f"'python tools/make_corpus.py dict-devil_1.0-13.1_all.deb' (after 'apt-get download dict-devil')"
        )
    raw = file.read_bytes()
    if verify and (got := hashlib.sha256(raw).hexdigest()) != DEVILS_DICTIONARY_SHA256:
        raise ValueError(
            f"load_devils_dictionary: {file} has SHA-256 {got[:16]}..., expected "
            f"{DEVILS_DICTIONARY_SHA256[:16]}... (the shipped text); it was changed or is another file: "
            f"pass verify=False to read a text of your own"
        )
    return raw.decode("utf-8")


class CharVocab:
    """The distinct characters of a text, numbered 0..size-1 in sorted order (so ``"\\n"`` and ``" "`` come first).

    ``encode(text)`` turns a string into an int64 array of ids (len(text),);
    ``decode(ids)`` turns ids back into the string. A character the vocabulary
    does not have, or an id outside 0..size-1, raises ``ValueError`` naming it.
    """

    def __init__(self, text):
        if not isinstance(text, str):
            raise TypeError(f"CharVocab: expected the text as a str, got {type(text).__name__}")
        if not text:
            raise ValueError("CharVocab: the text is empty; expected at least one character")
        self.chars = sorted(set(text))
        self.index = {char: i for i, char in enumerate(self.chars)}
        codes = np.array([ord(char) for char in self.chars])
        self._lookup = np.full(codes.max() + 1, -1, dtype=np.int64)   # code point -> id, -1: not in the vocabulary
        self._lookup[codes] = np.arange(len(codes))

    def __repr__(self):
        return f"CharVocab({self.size} characters)"

    def __len__(self):
        return self.size

    @property
    def size(self):
        """The number of distinct characters, C."""
        return len(self.chars)

    def encode(self, text):
        """The ids of the characters of ``text``: an int64 array of shape (len(text),)."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: expected a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = self._lookup[np.minimum(codes, len(self._lookup) - 1)]
        ids[codes >= len(self._lookup)] = -1
        if len(ids) and ids.min() < 0:
            i = int(np.argmax(ids < 0))
            raise ValueError(f"CharVocab.encode: character {text[i]!r} at position {i} is not in the vocabulary "
                             f"of {self.size} characters")
        return ids

    def decode(self, ids):
        """The string of the ids ``ids`` (a 1-D sequence of integers in 0..size-1)."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError(f"CharVocab.decode: expected a 1-D sequence of integer ids, got shape {ids.shape} "
                             f"and dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            i = int(np.argmax((ids < 0) | (ids >= self.size)))
            raise ValueError(f"CharVocab.decode: id {ids[i]} at position {i} is out of range; expected ids in "
                             f"0..{self.size - 1}")
        return "".join(self.chars[i] for i in ids)


def split_text(text, fraction=0.9):
    """``(train, held_out)``: the text cut at the first blank line after ``fraction`` of its characters.

    In *The Devil's Dictionary* a blank line ends an entry, so the held-out
    part starts with a whole entry (the training part keeps the blank line).
    A text with no blank line after that point raises ``ValueError``.
    """
    if not isinstance(text, str):
        raise TypeError(f"split_text: expected the text as a str, got {type(text).__name__}")
    fraction = number_in(fraction, "fraction", "split_text", 0.0, 1.0)
    cut = text.find("\n\n", int(fraction * len(text)))
    if cut < 0:
        raise ValueError(f"split_text: no blank line after {fraction:.0%} of the text ({len(text)} characters); "
                         f"expected one to cut at")
    return text[:cut + 2], text[cut + 2:]


def text_windows(ids, length, *, stride=None):
    """Windows of a sequence of ids for next-character prediction: ``(inputs, targets)``, both (n, length).

    Window ``i`` starts at ``i * stride`` (default ``stride = length``: the
    windows do not overlap): ``inputs[i] = ids[start:start + length]`` and
    ``targets[i] = ids[start + 1:start + length + 1]``, the same characters
    shifted by one, so ``targets[i, tau]`` is the character that follows
    ``inputs[i, tau]``. Every window that fits is returned (the last
    characters may be left over).
    """
    ids = _id_sequence(ids, "text_windows")
    length = positive_int(length, "length", "text_windows")
    stride = length if stride is None else positive_int(stride, "stride", "text_windows")
    if len(ids) < length + 1:
        raise ValueError(f"text_windows: {len(ids)} ids are too few for one window of length {length}; "
                         f"expected at least {length + 1} (the targets reach one character further)")
    return _windows_at(ids, np.arange(0, len(ids) - length, stride), length)


def _id_sequence(ids, owner, what="ids"):
    """``ids`` as a 1-D int64 array (an encoded text), or a ValueError naming ``owner`` and ``what``."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"{owner}: {what} have shape {ids.shape} and dtype {ids.dtype}; expected a 1-D array "
                         f"of integer ids (CharVocab.encode gives one)")
    return ids.astype(np.int64, copy=False)


def _windows_at(ids, starts, length):
    """The windows of ``length`` ids that begin at ``starts``: ``(inputs, targets)``, both (len(starts), length)."""
    rows = starts[:, None] + np.arange(length)       # (windows, length) positions in ids
    return ids[rows], ids[rows + 1]
