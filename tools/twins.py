"""Regenerate the executed notebook twins of the book's chapters.

Every chapter is a MyST-markdown notebook ``book/<name>.md`` (the source of
truth). Its executed twin ``notebooks/<name>.ipynb`` is committed so that
nbval can check, cell by cell, that the chapter's outputs still reproduce.

    python tools/twins.py                 # regenerate every twin
    python tools/twins.py book/foo.md     # regenerate one
    python tools/twins.py --check         # list twins that differ from their source

Run through ``make twins``. ``tests/test_twins.py`` fails when a twin's cells
differ from its source.
"""

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TWINS = ROOT / "notebooks"
TIMEOUT = 300  # seconds per cell


def chapter_sources():
    """Every chapter that is a notebook: a .md under book/ with a jupytext kernelspec header."""
    return sorted(p for p in BOOK.rglob("*.md") if "kernelspec" in jupytext.read(p).metadata)


def twin_path(source):
    return TWINS / source.relative_to(BOOK).with_suffix(".ipynb")


def cells(nb):
    """What must agree between a source and its twin: each cell's type and text."""
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def out_of_sync(source):
    """Why the twin of ``source`` is stale, or None when it is in sync."""
    twin = twin_path(source)
    if not twin.exists():
        return f"{twin.relative_to(ROOT)} is missing"
    if cells(jupytext.read(source)) != cells(nbformat.read(twin, as_version=4)):
        return f"{twin.relative_to(ROOT)} differs from {source.relative_to(ROOT)}"
    return None


def regenerate(source):
    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)
    client = NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute()
    twin = twin_path(source)
    twin.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, twin)
    print(f"wrote {twin.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*", type=Path, help="chapters to regenerate (default: all)")
    parser.add_argument("--check", action="store_true", help="only report twins that are out of sync")
    args = parser.parse_args(argv)
    sources = [p.resolve() for p in args.sources] or chapter_sources()
    if args.check:
        problems = [msg for msg in map(out_of_sync, sources) if msg]
        print("\n".join(problems) or "all twins in sync")
        return 1 if problems else 0
    for source in sources:
        regenerate(source)
    orphans = {twin_path(p) for p in chapter_sources()} ^ set(TWINS.rglob("*.ipynb"))
    for orphan in sorted(orphans):
        if orphan.exists():
            orphan.unlink()
            print(f"removed {orphan.relative_to(ROOT)} (no chapter source)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
