"""The Japanese edition as ``make strict-book`` built it (``_build/ja``, ``_build/html/ja``).

- Every page of _toc.yml is fully translated: no message shown in English, none fuzzy (stale
  since its English changed), no figure label left in English. Each failure lists the page's
  messages and why each is not translated.
- Code cells and their outputs are the English ones, character for character, and each
  translated figure is the English figure redrawn with only its text changed.

Run after ``make strict-book`` (``make test`` does): ``make translations``.
"""

import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402
import book_extras  # noqa: E402
import figure_i18n  # noqa: E402
import i18n  # noqa: E402

LANG = "ja"

PAGES = i18n.toc_pages()


@pytest.fixture(scope="module")
def report():
    path = i18n.report_path(LANG)
    if not path.exists():
        pytest.fail(f"no {path.relative_to(ROOT)}: build the editions first (`make strict-book`)")
    return i18n.read_report(LANG)


def test_the_built_edition_is_current(report):
    """The report describes the current sources and catalogs (else rebuild before trusting it)."""
    built = i18n.report_path(LANG).stat().st_mtime
    inputs = [ROOT / "_toc.yml", *(ROOT / "book").glob("*.md"), *i18n.catalogs(LANG)]
    newer = [p.relative_to(ROOT).as_posix() for p in inputs if p.stat().st_mtime > built]
    assert not newer, f"changed since the last build: {newer}; run `make strict-book`"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_translated(report, page):
    gaps = i18n.edition_gaps(LANG, page, report)
    listing = "\n".join(f"  - {why}: {i18n.shorten(msgid)}" for why, msgid in gaps)
    assert not gaps, (f"{page}: {len(gaps)} message(s) shown in English in the Japanese edition "
                      f"(`make i18n-status` lists them; locales/ja/TRANSLATING.md says how):\n{listing}")


def test_every_catalog_belongs_to_a_page():
    """A page removed from the book leaves no catalog behind (delete its .po)."""
    domains = {p.relative_to(book.LOCALES / LANG / "LC_MESSAGES").with_suffix("").as_posix()
               for p in i18n.catalogs(LANG)}
    known = {*PAGES, i18n.FIGURES_DOMAIN, *i18n.INTERFACE_DOMAINS}
    assert domains <= known, domains - known


def cells(html_path):
    """(code, [output texts], number of output images) of each code cell; figure captions are prose."""
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    for caption in soup.select("div.cell_output figcaption"):
        caption.decompose()
    found = []
    for cell in soup.select("div.cell"):
        code = cell.select_one("div.cell_input")
        outputs = cell.select("div.cell_output")
        found.append((code.get_text() if code else None,
                      [o.get_text() for o in outputs],
                      sum(len(o.find_all("img")) for o in outputs)))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_code_and_outputs_are_the_english_ones(page):
    english = cells(book.html_dir("en") / f"{page}.html")
    japanese = cells(book.html_dir(LANG) / f"{page}.html")
    assert len(japanese) == len(english)
    for i, (en, ja) in enumerate(zip(english, japanese)):
        assert ja == en, f"cell {i + 1} of {page} differs between the editions"


def test_each_figure_is_redrawn_exactly_but_for_its_text():
    """Replayed untranslated, every captured figure gives the PNG the English edition shows."""
    captures = sorted(book.FIGURES.glob("*.pickle"))
    assert captures, "no captured figure: build the editions first (`make strict-book`)"
    shown = {p.name for p in (book.html_dir("en") / "_images").glob("*.png")}
    differ = [p.stem[:12] for p in captures if f"{p.stem}.png" in shown
              and i18n_hash(figure_i18n.render_original(p)) != p.stem]
    assert not differ, f"figures that do not replay exactly: {differ}"


def i18n_hash(png):
    import hashlib

    return hashlib.sha256(png).hexdigest()


def test_the_glossary_keeps_the_english_order():
    """Headwords 「誤差逆伝播法（backpropagation）」 stay in English alphabetical order, as the page says."""
    def term_ids(path):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        return [dt.get("id") for dt in soup.select("dl.glossary dt")]

    english = term_ids(book.html_dir("en") / "book/glossary.html")
    assert english and term_ids(book.html_dir(LANG) / "book/glossary.html") == english


def exercise_titles(html_path):
    """Exercise id -> its own title (the heading without 「練習 4.1」), on one page."""
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    titles = {}
    for exercise in soup.select("div.exercise"):
        heading = exercise.select_one("p.admonition-title")
        for number in heading.select("span.caption-number"):
            number.decompose()
        titles[exercise["id"]] = heading.get_text().strip().removeprefix("(").removesuffix(")").strip()
    return titles


def test_solution_headings_repeat_the_translated_exercise_title():
    """「解答 練習 4.1 (打ち切り誤差を導く)」, not 「解答 練習 4.1 (Derive the truncation errors)」.

    sphinx-exercise builds a solution's heading from a copy of its exercise made before Sphinx
    translates the page; tools/translated_edition.py (TranslatedExerciseTitles) renews the copy.
    """
    english, japanese = {}, {}
    for page in PAGES:
        english.update(exercise_titles(book.html_dir("en") / f"{page}.html"))
        japanese.update(exercise_titles(book.html_dir(LANG) / f"{page}.html"))
    assert japanese.keys() == english.keys()
    wrong, checked = [], 0
    for page in PAGES:
        soup = BeautifulSoup((book.html_dir(LANG) / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        for solution in soup.select("div.solution"):
            heading = solution.select_one("p.admonition-title").get_text()
            target = solution.select_one("p.admonition-title a")["href"].rpartition("#")[2]
            en, ja = english[target], japanese[target]
            checked += en != ja
            if (en != ja and en in heading) or ja not in heading:
                wrong.append(f"{page}: {heading!r} (its exercise: {ja!r})")
    assert checked, "no solution of a translated exercise found"
    assert not wrong, "solution headings that do not repeat their exercise's translated title:\n" + "\n".join(wrong)


def displayed_formulas(html_path):
    """(label or opening, LaTeX) of each displayed formula of a built page."""
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    for block in soup.select("div.math"):
        for number in block.select("span.eqno"):
            number.decompose()
        latex = block.get_text()
        yield block.get("id") or " ".join(latex.split())[:60], latex


@pytest.mark.parametrize("page", PAGES)
def test_displayed_formulas_have_no_english_words(page):
    """Words inside a displayed formula's \\text{...} ("otherwise", an underbrace's label) read in
    Japanese: tools/book_extras.py makes such a formula a message of the page's catalog. Names that
    are symbols (d_{\\text{key}}, \\varepsilon_{\\text{mach}}: book_extras.SYMBOL_NAMES) stay, and outside
    \\text{...} each formula is the English edition's (a translation shown as markup, ``::``, fails)."""
    japanese = list(displayed_formulas(book.html_dir(LANG) / f"{page}.html"))
    english = [f"{page}: {label}: {', '.join(words)}"
               for label, latex in japanese if (words := book_extras.formula_words(latex))]
    assert not english, ("English words in displayed formulas of the Japanese edition (translate the "
                         "formula's message in its catalog, or move the words into the prose):\n"
                         + "\n".join(english))
    # and the formulas are the English ones but for those words
    outside = [(label, book_extras.TEXT_IN_FORMULA.sub(r"\\text{}", latex).split()) for label, latex in japanese]
    original = [(label, book_extras.TEXT_IN_FORMULA.sub(r"\\text{}", latex).split())
                for label, latex in displayed_formulas(book.html_dir("en") / f"{page}.html")]
    changed = [f"{page}: {en[0]}" for en, ja in zip(original, outside) if en != ja]
    assert len(outside) == len(original) and not changed, (
        f"displayed formulas that differ from the English edition outside \\text{{...}}: {changed}")


def test_an_english_word_in_a_formula_is_found():
    """The guard above can fail: it sees words, and passes symbols."""
    assert book_extras.formula_words(r"0 & \text{otherwise,} \quad d_{\text{key}}, \varepsilon_{\text{mach}}") == ["otherwise"]
    assert book_extras.formula_words(r"\underbrace{x}_{\text{打ち切り誤差}} + W_{\text{emb}}") == []


ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_links_to_translated_pages_read_in_japanese():
    """A link to a translated page shows its Japanese text: the sidebar, previous/next, the page's
    contents, {ref}/{doc}/{numref} references, and a role's own title (the errata's
    {ref}`Computational graphs <erratum-cg-int>`, which tools/book_extras.py must leave translatable).
    """
    translated = set(PAGES)
    english = []
    for page in sorted(translated):
        soup = BeautifulSoup((book.html_dir(LANG) / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        for link in soup.select("a.reference.internal[href]"):
            target = urljoin(f"/{page}.html", link["href"]).partition("#")[0].lstrip("/").removesuffix(".html")
            text = " ".join(link.get_text().split())
            if target in translated and ENGLISH_PHRASE.search(text) and not JAPANESE.search(text):
                english.append(f"{page}: {text!r} -> {link['href']}")
    assert not english, f"{len(english)} link(s) to translated pages in English:\n" + "\n".join(sorted(set(english)))


# Words the theme writes into every page without passing them through a catalog (so no catalog can
# translate them; a template override would): sphinx-book-theme's toggle-*-sidebar.html.
THEME_HARDCODED = {"Toggle primary sidebar", "Toggle secondary sidebar"}
INTERFACE_ATTRIBUTES = ("title", "aria-label", "data-bs-title", "alt", "placeholder")


@pytest.mark.parametrize("page", sorted(PAGES) + ["search"])
def test_the_page_furniture_speaks_japanese(page):
    """Tooltips and labels ("Link to this heading", "Launch on Binder", "Color mode", ...): Sphinx's
    and the themes' Japanese catalogs lack some; locales/ja/LC_MESSAGES/sphinx.po and booktheme.po add them."""
    soup = BeautifulSoup((book.html_dir(LANG) / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    for content in soup.select("div.cell_input, div.cell_output, a.reference, link"):
        content.decompose()  # code, and links to pages (their text: test_links_to_translated_pages_...)
    english = {value for tag in soup.find_all(True) for name in INTERFACE_ATTRIBUTES
               if isinstance(value := tag.get(name), str)
               and ENGLISH_PHRASE.search(value) and not JAPANESE.search(value)}
    assert not english - THEME_HARDCODED, sorted(english - THEME_HARDCODED)
