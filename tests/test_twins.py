"""Each chapter's executed twin (notebooks/*.ipynb) matches its source (book/*.md) and is fully executed."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import twins  # noqa: E402

SOURCES = twins.chapter_sources()


def test_every_chapter_notebook_is_found():
    assert {p.stem for p in SOURCES} >= {"preface", "chain_rule", "computational_graphs", "local_derivatives"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_twin_is_in_sync_with_its_source(source):
    problem = twins.out_of_sync(source)
    assert problem is None, f"{problem}: run `make twins`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_twin_is_executed_without_errors(source):
    nb = nbformat.read(twins.twin_path(source), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "twin has unexecuted cells: run `make twins`"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"twin has error outputs: {errors[0]['ename']}"


def test_no_orphan_twins():
    expected = {twins.twin_path(p) for p in SOURCES}
    assert set(twins.TWINS.rglob("*.ipynb")) <= expected
