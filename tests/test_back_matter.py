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


def test_errata_name_a_chapter_for_every_slip():
    text = (BOOK / "errata.md").read_text()
    rows = re.findall(r"^\* - (\d{3})\n  - (.+)\n  - (.+)\n  - (.+)$", text, re.MULTILINE)
    assert len(rows) >= 19
    assert {note for note, *_ in rows} == {"000", "001", "002", "003", "004"}
    for note, said, right, chapter in rows:
        link = re.fullmatch(r"\{doc\}`(\w+)`", chapter)
        if link:
            assert (BOOK / f"{link.group(1)}.md").exists(), chapter
        else:
            assert chapter in CHAPTER_TITLES.values(), f"{chapter!r} is not a chapter title"
            name = next(k for k, v in CHAPTER_TITLES.items() if v == chapter)
            assert not (BOOK / f"{name}.md").exists(), f"{name} is in the book now: link it with {{doc}}`{name}`"


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
