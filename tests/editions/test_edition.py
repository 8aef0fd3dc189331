"""The Japanese edition as ``make strict-book`` built it (``_build/ja``, ``_build/html/ja``).

- Every page of _toc.yml is fully translated: no message shown in English, none fuzzy (stale
  since its English changed), no figure label left in English. Each failure lists the page's
  messages and why each is not translated.
- Code cells and their outputs are the English ones, character for character, and each
  translated figure is the English figure redrawn with only its text changed.

Run after ``make strict-book`` (``make test`` does): ``make translations``.
"""

import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402
import figure_i18n  # noqa: E402
import i18n  # noqa: E402

LANG = "ja"

# Pages whose Japanese translation is still to be written. A translator who finishes a page
# removes it from this set (the test of a listed page that passes fails as XPASS: strict), and
# when the set is empty the lead deletes it. A page added to _toc.yml without a translation
# fails until it is translated or listed here.
NOT_YET_TRANSLATED = {
    "book/notation",                 # Part VII section
    "book/glossary",                 # Part VII terms
}

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


def not_yet(page):
    return pytest.param(page, marks=pytest.mark.xfail(
        strict=True, reason="listed in NOT_YET_TRANSLATED: its translation is still to be written"))


@pytest.mark.parametrize("page", [not_yet(p) if p in NOT_YET_TRANSLATED else p for p in PAGES])
def test_page_is_translated(report, page):
    gaps = i18n.edition_gaps(LANG, page, report)
    listing = "\n".join(f"  - {why}: {i18n.shorten(msgid)}" for why, msgid in gaps)
    assert not gaps, (f"{page}: {len(gaps)} message(s) shown in English in the Japanese edition "
                      f"(`make i18n-status` lists them; locales/ja/TRANSLATING.md says how):\n{listing}")


def test_the_not_yet_translated_list_names_pages_of_the_book():
    assert NOT_YET_TRANSLATED <= set(PAGES), NOT_YET_TRANSLATED - set(PAGES)


def test_every_catalog_belongs_to_a_page():
    """A page removed from the book leaves no catalog behind (delete its .po)."""
    domains = {p.relative_to(book.LOCALES / LANG / "LC_MESSAGES").with_suffix("").as_posix()
               for p in i18n.catalogs(LANG)}
    assert domains <= {*PAGES, i18n.FIGURES_DOMAIN}, domains - {*PAGES, i18n.FIGURES_DOMAIN}


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
