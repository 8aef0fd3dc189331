"""The back matter: notation, glossary, errata and bibliography are in the book and complete."""

import re
from pathlib import Path

import pytest
import yaml

import companion

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

# Chapter titles fixed by the project; the errata may name chapters not (yet) in this branch.
CHAPTER_TITLES = {
    "chain_rule": "The chain rule", "computational_graphs": "Computational graphs",
    "local_derivatives": "Local derivative rules", "gradient_checking": "Checking gradients numerically",
    "two_layer_network": "A two-layer network, edge by edge",
    "minibatch_gradients": "Matrix gradients for a minibatch",
    "softmax_cross_entropy": "Softmax and cross-entropy", "optimizers": "Optimizers",
    "digit_classifier": "Training a digit classifier", "autodiff": "Automatic differentiation",
    "vector_jacobian": "Backward as vector–Jacobian products", "initialisation": "Initialisation and the depth problem",
    "normalisation": "Normalisation", "regularisation": "Regularisation",
}
GLOSSARY_TERMS = [
    "backpropagation", "computational graph", "forward pass", "backward pass", "local derivative",
    "chain rule", "upstream gradient", "gradient check", "central difference", "relative error",
    "minibatch", "loss", "mean squared error", "softmax", "cross-entropy", "logit", "one-hot",
    "optimizer", "learning rate", "epoch", "automatic differentiation", "reverse mode",
    "topological order", "broadcasting",
    "batch normalisation", "dropout", "fan-in", "gradient clipping", "layer normalisation", "overfitting",
    "regularisation", "weight decay",
    "backpropagation through time", "embedding", "hidden state", "recurrent neural network", "spectral norm",
]


def test_back_matter_is_the_last_part_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    last = toc["parts"][-1]
    assert last["caption"] == "Back matter"
    assert [c["file"] for c in last["chapters"]] == ["book/notation", "book/glossary", "book/errata", "book/bibliography"]


def test_glossary_defines_every_term_the_book_promises():
    text = (BOOK / "glossary.md").read_text()
    defined = re.findall(r"^([a-z][\w -]*)\n  \S", text, re.MULTILINE)
    assert sorted(defined) == defined, "terms in alphabetical order"
    assert set(GLOSSARY_TERMS) <= set(defined), set(GLOSSARY_TERMS) - set(defined)


def test_glossary_entries_link_the_chapters_that_introduce_them():
    """Every entry ends with [{doc}`chapter`, ...]: links, not plain titles; the first is where the term is introduced."""
    text = (BOOK / "glossary.md").read_text()
    entries = dict(re.findall(r"^([a-z][\w -]*)\n  (.+)$", text, re.MULTILINE))
    for term, body in entries.items():
        where = re.search(r"\[([^\[\]]+)\]$", body)
        assert where, f"glossary: '{term}' names no chapter"
        links = [part.strip() for part in where.group(1).split(",")]
        plain = [part for part in links if not re.fullmatch(r"\{doc\}`\w+`", part)]
        assert not plain, f"glossary: '{term}' names chapters as plain text, not {{doc}} links: {plain}"
        for link in links:
            page = re.search(r"`(\w+)`", link).group(1)
            assert (BOOK / f"{page}.md").exists(), (term, link)
    assert entries["learning rate"].endswith("[{doc}`minibatch_gradients`, {doc}`optimizers`]")  # introduced there


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def erratum_boxes():
    """({box name: page}, [boxes without a name or without :class: warning]) over every page of the book."""
    boxes, bad = {}, []
    for page in toc_pages():
        text = (ROOT / f"{page}.md").read_text()
        for match in re.finditer(r"^`{3,}\{admonition\} Erratum\n((?::[\w-]+:.*\n)*)", text, re.MULTILINE):
            options = dict(re.findall(r"^:([\w-]+):\s*(.*)$", match.group(1), re.MULTILINE))
            where = f"{page}.md:{text[:match.start()].count(chr(10)) + 1}"
            if options.get("class") != "warning" or not options.get("name", "").startswith("erratum-"):
                bad.append(where)
            else:
                assert options["name"] not in boxes, f"{where}: a second box named {options['name']}"
                boxes[options["name"]] = page
    return boxes, bad


def errata_rows():
    text = (BOOK / "errata.md").read_text()
    return re.findall(r"^\* - (\d{3})\n  - (.+)\n  - (.+)\n  - (.+)$", text, re.MULTILINE)


def test_every_erratum_box_is_named_and_a_warning():
    boxes, bad = erratum_boxes()
    assert not bad, f"Erratum boxes need ':class: warning' and ':name: erratum-...' (the errata page links to it): {bad}"
    assert len(boxes) >= 10


def test_errata_rows_link_to_boxes_and_every_box_has_a_row():
    """Each row of the errata table links to the Erratum box that corrects the slip; each box has a row."""
    boxes, _ = erratum_boxes()
    rows = errata_rows()
    assert len(rows) >= 27
    assert {note for note, *_ in rows} == {"000", "001", "002", "003", "004"}
    linked = set()
    for note, said, right, where in rows:
        link = re.fullmatch(r"\{ref\}`(.+) <(erratum-[\w-]+)>`", where)
        assert link, f"errata row for note {note} ({said[:40]}...): 'corrected in' must be {{ref}}`Chapter title <erratum-...>`"
        title, name = link.groups()
        assert name in boxes, f"errata row for note {note} links to {name}, which is no Erratum box"
        page = boxes[name]
        heading = re.search(r"^# (.+)$", (ROOT / f"{page}.md").read_text(), re.MULTILINE).group(1)
        assert title == heading == CHAPTER_TITLES.get(Path(page).name, heading), (title, heading)
        linked.add(name)
    assert not set(boxes) - linked, f"Erratum boxes with no row on the errata page: {sorted(set(boxes) - linked)}"


def test_slips_of_the_notes_are_errata_not_notes():
    """A correction of a source note is an Erratum box (with a row on the errata page), never a plain note box."""
    for page in toc_pages():
        text = (ROOT / f"{page}.md").read_text()
        for match in re.finditer(r"^```\{(note|tip|important|warning)\}\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
            assert "source note" not in match.group(2), f"{page}.md: a {{{match.group(1)}}} box corrects a source note"


def test_bibliography_cites_the_backpropagation_paper_and_every_entry_is_cited():
    bib = (BOOK / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{(\w+),", bib, re.MULTILINE)
    assert "rumelhart1986" in keys
    cited = set()
    for page in BOOK.glob("*.md"):
        for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", page.read_text()):
            cited.update(k.strip() for k in group.split(","))
    assert set(keys) <= cited, f"entries no page cites (they would not be listed): {set(keys) - cited}"


def test_numbers_the_errata_state():
    mul_snack, mul_tax = companion.MulLayer(), companion.MulLayer()
    mul_tax.forward(mul_snack.forward(30, 5), 1.2)
    dsubtotal, dtax = mul_tax.backward(1.0)
    dsnack, dnumber = mul_snack.backward(dsubtotal)
    assert (dsubtotal, dsnack, dnumber, dtax) == pytest.approx((1.2, 6.0, 36.0, 150.0))
    assert int(30 * 5 * 1.2) == 180 and int(179.99999999999997) == 179 and round(179.99999999999997) == 180
    mul_apple, mul_fruit_tax = companion.MulLayer(), companion.MulLayer()
    mul_fruit_tax.forward(mul_apple.forward(100, 2), 1.1)
    dapple, dapple_num = mul_apple.backward(mul_fruit_tax.backward(1.0)[0])
    assert (dapple, dapple_num) == pytest.approx((2.2, 110.0))
    div = companion.DivLayer()
    for x, y in [(1.0, 1.7), (3.0, 2.0)]:
        div.forward(x, y)
        assert (div.backward(1.0)[1] == pytest.approx(-1 / y ** 2)) == (x == 1.0)  # the note's rule: right only at x = 1
