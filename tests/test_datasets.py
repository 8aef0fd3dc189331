"""companion.datasets: digits split, IDX reading, MNIST checks and the offline download error.

Every MNIST test writes its own tiny IDX files: no test touches the network
or needs the real files.
"""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from companion import datasets
from companion.datasets import MNIST_FILES, download_mnist, load_digits, load_mnist, read_idx, split


def idx_bytes(array, type_byte=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(directory, n_train=5, n_test=3, rows=4, cols=4, seed=0):
    """Four small MNIST-like files; returns the arrays written and the dict of their SHA-256."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, size=(n_train, rows, cols), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, size=(n_test, rows, cols), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    hashes = {}
    for name, array in arrays.items():
        data = gzip.compress(idx_bytes(array), mtime=0)
        (directory / name).write_bytes(data)
        hashes[name] = hashlib.sha256(data).hexdigest()
    return arrays, hashes


def test_load_digits_is_normalised_seeded_and_stratified():
    (x_train, t_train), (x_test, t_test) = load_digits()
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert x_train.dtype == np.float64 and t_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert np.array_equal(np.unique(t_test), np.arange(10))
    assert all(abs(np.mean(t_test == c) - np.mean(t_train == c)) < 0.01 for c in range(10))
    (x_again, _), _ = load_digits()
    np.testing.assert_array_equal(x_again, x_train)
    (x_other, _), _ = load_digits(rng=1)
    assert not np.array_equal(x_other, x_train)


def test_split_keeps_every_sample_exactly_once():
    x = np.arange(40.0).reshape(20, 2)
    t = np.repeat([0, 1], 10)
    (xa, ta), (xb, tb) = split(x, t, 0.3, rng=0)
    assert len(xa) == 14 and len(xb) == 6 and np.sum(tb == 0) == 3
    assert sorted(np.concatenate([xa[:, 0], xb[:, 0]])) == list(x[:, 0])
    np.testing.assert_array_equal(np.concatenate([xa, xb])[:, 0] // 2 >= 10, np.concatenate([ta, tb]) == 1)
    with pytest.raises(ValueError, match="split: test_fraction must be between 0 and 1, got 1.5"):
        split(x, t, 1.5)
    with pytest.raises(ValueError, match=r"split: labels t have shape \(3,\), expected \(20,\)"):
        split(x, t[:3])
    with pytest.raises(ValueError, match="split: inputs x contains NaN"):
        split(np.array([[np.nan]]), [0])


@pytest.mark.parametrize("type_byte, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                              (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_read_idx_round_trips_every_type(tmp_path, type_byte, dtype, gz):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = idx_bytes(array, type_byte)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if gz else data)
    got = read_idx(path)
    assert got.dtype == dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_read_idx_rejects_truncated_padded_corrupt_and_foreign_files(tmp_path):
    data = idx_bytes(np.zeros((3, 4, 4), dtype=np.uint8))
    cases = {
        "truncated.idx": (data[:-5], r"truncated: its header promises shape \(3, 4, 4\), 48 bytes of data, but 43"),
        "padded.idx": (data + b"\x00", "longer than its header says"),
        "header.idx": (data[:9], "truncated inside its header"),
        "foreign.idx": (b"PK\x03\x04rest", "is not an IDX file: it starts with bytes 504b0304"),
        "cut.gz": (gzip.compress(data)[:-12], "corrupt or truncated gzip file"),
        "flipped.gz": (gzip.compress(data)[:-8] + b"\xff" * 8, "corrupt or truncated gzip file"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message):
            read_idx(tmp_path / name)


def test_load_mnist_reads_checks_hashes_and_converts(tmp_path, monkeypatch):
    arrays, hashes = write_mnist(tmp_path)
    monkeypatch.setattr(datasets, "MNIST_FILES", hashes)
    (x_train, t_train), (x_test, t_test) = load_mnist(tmp_path)
    assert x_train.shape == (5, 16) and x_test.shape == (3, 16) and t_train.dtype == np.int64
    np.testing.assert_allclose(x_train, arrays["train-images-idx3-ubyte.gz"].reshape(5, 16) / 255)
    np.testing.assert_array_equal(t_test, arrays["t10k-labels-idx1-ubyte.gz"])
    (raw, _), _ = load_mnist(tmp_path, normalize=False, flatten=False)
    assert raw.dtype == np.uint8 and raw.shape == (5, 4, 4)


def test_load_mnist_rejects_files_that_are_not_the_official_ones(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz has SHA-256 .*expected 440fcabf73cc546f.*verify=False"):
        load_mnist(tmp_path)
    (x_train, _), _ = load_mnist(tmp_path, verify=False)
    assert x_train.shape == (5, 16)


def test_load_mnist_rejects_inconsistent_files(tmp_path):
    write_mnist(tmp_path, n_train=5)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4, dtype=np.uint8))))
    with pytest.raises(ValueError, match=r"train labels have shape \(4,\), expected \(5,\), one label per image"):
        load_mnist(tmp_path, verify=False)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(5, 11, dtype=np.uint8))))
    with pytest.raises(ValueError, match="train labels contain 11, expected digits 0..9"):
        load_mnist(tmp_path, verify=False)
    write_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((3, 16), dtype=np.uint8))))
    with pytest.raises(ValueError, match=r"t10k images have shape \(3, 16\) and dtype uint8, expected \(n, rows, cols\)"):
        load_mnist(tmp_path, verify=False)


def test_load_mnist_says_which_files_to_put_where(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of the 4 MNIST files are missing in .*: t10k-labels-idx1-ubyte.gz\. "
                                                r"Put the official files there.*download_mnist"):
        load_mnist(tmp_path)


def test_default_directory_is_the_cache_and_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    assert datasets.cache_dir() == tmp_path / "mnist"
    with pytest.raises(FileNotFoundError, match=f"4 of the 4 MNIST files are missing in {tmp_path / 'mnist'}"):
        load_mnist()
    monkeypatch.delenv("COMPANION_DATA")
    assert str(datasets.cache_dir()).endswith(".cache/companion/mnist")


def test_download_without_network_fails_with_instructions(tmp_path):
    unreachable = ("http://127.0.0.1:9/", "not-a-url/")
    with pytest.raises(ConnectionError, match=r"could not download train-images-idx3-ubyte.gz \(http://127.0.0.1:9/: .*; "
                                              r"not-a-url/: .*\)\. Without network access, get the four files"):
        download_mnist(tmp_path / "mnist", mirrors=unreachable, timeout=2)
    assert not list((tmp_path / "mnist").iterdir())  # nothing half-written


def test_download_keeps_files_that_are_already_verified(tmp_path, monkeypatch):
    _, hashes = write_mnist(tmp_path)
    monkeypatch.setattr(datasets, "MNIST_FILES", hashes)
    assert download_mnist(tmp_path, mirrors=()) == tmp_path  # no mirror is needed


def test_download_rejects_a_mirror_serving_the_wrong_bytes(tmp_path):
    source = tmp_path / "mirror"
    source.mkdir()
    for name in MNIST_FILES:
        (source / name).write_bytes(b"not mnist")
    with pytest.raises(ConnectionError, match="SHA-256 mismatch"):
        download_mnist(tmp_path / "out", mirrors=(source.as_uri() + "/",))
    assert not list((tmp_path / "out").iterdir())


# --- text: The Devil's Dictionary, CharVocab, text_windows -----------------------------------------

from companion.datasets import CharVocab, load_devils_dictionary, text_windows  # noqa: E402


def test_the_shipped_text_is_the_trimmed_devils_dictionary():
    text = load_devils_dictionary()
    assert len(text) == 299_526 and text.isascii()
    assert text.startswith("ABASEMENT, n. A decent and customary mental attitude")
    assert text.endswith("Poor Charlotte Smith's a smithareen!\nJohn William Yope\n")
    assert "{" not in text and "  " not in text and "\n\n\n" not in text
    assert hashlib.sha256(text.encode()).hexdigest() == datasets.DEVILS_DICTIONARY_SHA256


def test_the_shipped_text_is_package_data():
    import tomllib
    from pathlib import Path
    pyproject = tomllib.loads((Path(datasets.__file__).parent.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["companion"]
    assert "data/*.txt" in patterns and (datasets.DATA_DIR / datasets.DEVILS_DICTIONARY).is_file()


def test_load_devils_dictionary_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_devils_dictionary: .*nothing.txt does not exist\. The text ships "
                                                r"with companion.*tools/make_corpus.py"):
        load_devils_dictionary(tmp_path / "nothing.txt")
    other = tmp_path / "other.txt"
    other.write_text("hello\n")
    with pytest.raises(ValueError, match=r"load_devils_dictionary: .*other.txt has SHA-256 5891b5b522d5df08\.\.\., "
                                         r"expected fa8f91f4c94b63d4\.\.\. .*verify=False"):
        load_devils_dictionary(other)
    assert load_devils_dictionary(other, verify=False) == "hello\n"


def test_char_vocab_round_trips_in_sorted_order():
    vocab = CharVocab("hello, world\n")
    assert vocab.chars == ["\n", " ", ",", "d", "e", "h", "l", "o", "r", "w"]
    assert vocab.size == len(vocab) == 10 and repr(vocab) == "CharVocab(10 characters)"
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [5, 4, 6, 6, 7]
    assert vocab.decode(ids) == "hello" and vocab.decode([]) == "" and vocab.encode("").shape == (0,)
    assert vocab.decode(np.array([9, 7], dtype=np.uint8)) == "wo"
    text = load_devils_dictionary()
    big = CharVocab(text)
    assert big.size == 81 and big.decode(big.encode(text)) == text


def test_char_vocab_errors():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match="CharVocab.encode: character 'z' at position 2 is not in the vocabulary of 3"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="CharVocab.encode: character 'é' at position 0 is not in the vocabulary"):
        vocab.encode("é")
    with pytest.raises(ValueError, match="CharVocab.encode: character '\\\\x00' at position 1"):
        CharVocab("\x01\x02").encode("\x01\x00")
    with pytest.raises(TypeError, match="CharVocab.encode: expected a str, got list"):
        vocab.encode(["a"])
    with pytest.raises(ValueError, match=r"CharVocab.decode: id 3 at position 1 is out of range; expected ids in 0..2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"CharVocab.decode: id -1 at position 0 is out of range"):
        vocab.decode([-1])
    with pytest.raises(ValueError, match=r"CharVocab.decode: expected a 1-D sequence of integer ids, got shape \(2,\) "
                                         r"and dtype float64"):
        vocab.decode([0.0, 1.0])
    with pytest.raises(ValueError, match=r"CharVocab.decode: expected a 1-D sequence of integer ids, got shape \(1, 1\)"):
        vocab.decode([[0]])
    with pytest.raises(TypeError, match="CharVocab: expected the text as a str, got bytes"):
        CharVocab(b"abc")
    with pytest.raises(ValueError, match="CharVocab: the text is empty"):
        CharVocab("")


def test_text_windows_shift_the_targets_by_one():
    ids = np.arange(10)
    x, t = text_windows(ids, 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and t.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert x.dtype == t.dtype == np.int64
    x, t = text_windows(ids, 4, stride=2)
    assert x[:, 0].tolist() == [0, 2, 4] and t[-1].tolist() == [5, 6, 7, 8]
    x, t = text_windows(ids, 9)
    assert x.shape == (1, 9) and t[0, -1] == 9
    x, t = text_windows(np.array([4, 2], dtype=np.uint8), 1)
    assert x.tolist() == [[4]] and t.tolist() == [[2]]


def test_text_windows_errors():
    with pytest.raises(ValueError, match=r"text_windows: 10 ids are too few for one window of length 10; expected at "
                                         r"least 11"):
        text_windows(np.arange(10), 10)
    with pytest.raises(ValueError, match=r"text_windows: ids have shape \(2, 5\) and dtype int64; expected a 1-D array"):
        text_windows(np.zeros((2, 5), dtype=np.int64), 2)
    with pytest.raises(ValueError, match=r"text_windows: ids have shape \(3,\) and dtype float64"):
        text_windows(np.zeros(3), 1)
    with pytest.raises(ValueError, match="text_windows: length must be a positive integer, got 0"):
        text_windows(np.arange(5), 0)
    with pytest.raises(ValueError, match="text_windows: stride must be a positive integer, got 1.5"):
        text_windows(np.arange(5), 2, stride=1.5)
