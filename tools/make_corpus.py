"""Build ``companion/data/devils_dictionary.txt`` from Debian's ``dict-devil`` package.

The language-model chapter trains on Ambrose Bierce's *The Devil's Dictionary*
(1911, public domain). This script makes the shipped file from the Debian
package, deterministically, so anyone can check that the file is what it says:

    apt-get download dict-devil                       # dict-devil_1.0-13.1_all.deb
    python tools/make_corpus.py dict-devil_1.0-13.1_all.deb

Steps (also listed in ``companion/data/README.md``):

1. Check the package's SHA-256 (the one Debian's archive publishes), read the
   ``.deb`` (an ``ar`` archive) with the standard library, and decompress
   ``usr/share/dictd/devil.dict.dz`` (dictzip is gzip) from its ``data.tar.xz``.
2. Keep the dictionary's entries, from ``ABASEMENT, n.`` up to the ``dictfmt``
   alphabet line at the end (the ``dictfmt`` header, the Wiretap notice and the
   author's preface are left out).
3. In every line, collapse runs of spaces to one and strip both ends (the
   source indents verse and attributions with up to 60 spaces); drop the
   braces ``{...}`` that ``dictfmt`` puts around cross-references; collapse
   runs of blank lines to one.
4. Keep whole entries, in order, while the text stays within 300,000
   characters (the last entry kept is SMITHAREEN). The text is ASCII, so
   characters are bytes.

Needs only the Python standard library.
"""

import gzip
import hashlib
import io
import lzma
import re
import sys
import tarfile
from pathlib import Path

DEB_SHA256 = "6a535684def2a1f70cd42da16d12d43f0e9dc3e54e4a329178eebab3170e3154"  # dict-devil_1.0-13.1_all.deb
MEMBER = "./usr/share/dictd/devil.dict.dz"
LIMIT = 300_000
OUT = Path(__file__).resolve().parent.parent / "companion" / "data" / "devils_dictionary.txt"


def ar_members(data):
    """The members of an ``ar`` archive (the container of a .deb): {name: bytes}."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive (a .deb file starts with '!<arch>')")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + size % 2  # members are aligned to even offsets
    return members


def dictionary_text(deb_bytes):
    """The raw ``devil.dict`` text from the bytes of the .deb."""
    got = hashlib.sha256(deb_bytes).hexdigest()
    if got != DEB_SHA256:
        raise ValueError(f"the package has SHA-256 {got}, expected {DEB_SHA256} (dict-devil 1.0-13.1)")
    data_tar = lzma.decompress(ar_members(deb_bytes)["data.tar.xz"])
    with tarfile.open(fileobj=io.BytesIO(data_tar)) as tar:
        compressed = tar.extractfile(MEMBER).read()
    return gzip.decompress(compressed).decode("ascii")


def trim(raw):
    """Steps 2 to 4 of the module docstring: the entries, whitespace normalised, at most LIMIT characters."""
    body = raw[raw.index("ABASEMENT, n."):raw.rindex(" abcdefghijklmnopqrstuvwxyz")]
    lines = [re.sub(" +", " ", line).strip() for line in body.split("\n")]
    text = "\n".join(lines).strip().replace("{", "").replace("}", "")
    text = re.sub("\n\n\n+", "\n\n", text)
    entries = re.split(r"\n\n(?=[A-Z][A-Z'\- ]+, [a-z])", text)   # a blank line, then "HEADWORD, n."
    kept, size = [], 0
    for entry in entries:
        if size + len(entry) + 2 > LIMIT:
            break
        kept.append(entry)
        size += len(entry) + 2
    return "\n\n".join(kept) + "\n"


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: python tools/make_corpus.py dict-devil_1.0-13.1_all.deb")
    text = trim(dictionary_text(Path(argv[1]).read_bytes()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="ascii", newline="\n")
    print(f"{OUT}: {len(text):,} characters, SHA-256 {hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv)
