"""The built book in a real browser: headless Chromium, network blocked, every page of _toc.yml,
in both editions: English (_build/html) and Japanese (_build/html/ja).

Uses the HTML that ``make strict-book`` writes (``make test`` runs that first; ``make browser``
runs only these tests). On each page: MathJax typeset every formula and no raw TeX is left
in the text, every image loaded, the console shows no error, no request left the machine
(each is blocked and reported) and no local file is missing, and every solution opens when
its toggle is clicked. Notebook pages offer their executed ``.ipynb`` and ``.md`` for
download and launch buttons that open the committed twin notebook. The language switch of
every page links to the same page in the other edition, and clicking it lands there.

Skipped, with a message naming what is missing, when the playwright package, Chromium
(``$CHROMIUM``, default /usr/bin/chromium; ``tools/ensure_browser.sh`` installs it) or the
built book is not there.
"""

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
EDITIONS = {"en": HTML, "ja": HTML / "ja"}  # tools/book.py builds the Japanese edition into html/ja
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000  # generous: the machine may be busy


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", []) for entry in part.get("chapters", [])]
    return files


def is_notebook(page_name):
    """A page whose source is a notebook: a jupytext front matter with a kernelspec."""
    text = (ROOT / f"{page_name}.md").read_text()
    return text.startswith("---\n") and "kernelspec:" in text.split("\n---\n", 1)[0]


PAGES = toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if is_notebook(p)]
# (edition, page) pairs, with ids such as "ja:book/chain_rule"
EDITION_PAGES = [pytest.param(lang, page, id=f"{lang}:{page}") for lang in EDITIONS for page in PAGES]
EDITION_NOTEBOOK_PAGES = [pytest.param(lang, page, id=f"{lang}:{page}") for lang in EDITIONS for page in NOTEBOOK_PAGES]

# Text outside code that would mean a formula was not typeset: $$, \( \), \[ \], \begin{...}.
RAW_TEX = r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{"
FIND_RAW_TEX = """(pattern) => {
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "MJX-CONTAINER"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let parent = node.parentElement, inside = false;
    for (; parent; parent = parent.parentElement) { if (skip.has(parent.tagName)) { inside = true; break; } }
    if (!inside && new RegExp(pattern).test(node.textContent)) found.push(node.textContent.trim().slice(0, 80));
  }
  return found;
}"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (make test installs requirements.txt)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM}: run tools/ensure_browser.sh (installs Debian's chromium "
                    f"as root), or set CHROMIUM=/path/to/chromium")
    for lang, html in EDITIONS.items():
        if not (html / "index.html").exists():
            pytest.skip(f"no built {lang} edition in {html.relative_to(ROOT)}: run `make strict-book` first")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page opened with the network blocked, and everything the checks need from it."""

    def __init__(self, browser, page_name, lang="en"):
        self.page_name, self.lang = page_name, lang
        self.path = EDITIONS[lang] / f"{page_name}.html"
        assert self.path.exists(), f"{self.path.relative_to(ROOT)} was not built"
        self.console_errors, self.blocked, self.missing = [], [], []
        self.context = browser.new_context(viewport={"width": 1300, "height": 1000})
        self.page = page = self.context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.route("**/*", self._route)
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.goto(self.path.as_uri(), wait_until="commit")  # ready() waits for the rest
        self.mathjax_error = None
        self._ready = False

    def ready(self):
        """Wait until the page has loaded and MathJax has typeset it; return self."""
        if self._ready:
            return self
        self._ready = True
        page = self.page
        page.wait_for_load_state("load")
        if not page.locator("script[src*='mathjax']").count():
            return self  # Sphinx loads MathJax only on pages with formulas
        try:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        except Exception as exc:  # reported by test_math_is_typeset
            self.mathjax_error = f"MathJax did not start: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        return self

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _failed(self, request):
        if request.url.startswith("file://"):
            self.missing.append(unquote(urlparse(request.url).path))

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def visits(browser):
    """``visits(lang, page_name)``: the page of that edition, loaded and typeset, opened once for all the checks."""
    opened = {}

    def visit(lang, page_name):
        if (lang, page_name) not in opened:
            opened[lang, page_name] = Visit(browser, page_name, lang)
        return opened[lang, page_name].ready()

    yield visit
    for v in opened.values():
        v.close()


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_math_is_typeset(visits, lang, page_name):
    v = visits(lang, page_name)
    assert v.mathjax_error is None, v.mathjax_error
    counts = v.page.evaluate("""() => ({
        math: document.querySelectorAll('.math').length,
        untypeset: Array.from(document.querySelectorAll('.math'))
            .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60)),
        containers: document.querySelectorAll('mjx-container').length,
        errors: Array.from(document.querySelectorAll('mjx-merror')).map(el => el.textContent.slice(0, 60)),
    })""")
    if counts["math"]:
        assert v.page.locator("script[src*='mathjax']").count(), "a page with formulas does not load MathJax"
    assert not counts["untypeset"], f"formulas MathJax did not typeset: {counts['untypeset'][:5]}"
    assert counts["containers"] >= counts["math"], counts
    assert not counts["errors"], f"TeX errors: {counts['errors']}"
    raw = v.page.evaluate(FIND_RAW_TEX, RAW_TEX)
    assert not raw, f"raw TeX left in the text: {raw[:5]}"


# MathJax's own record of every formula it typeset, serialized as MathML. A backslash in the text of the
# MathML means that TeX was shown literally instead of read (\text{a\_b} shows "a\_b" unless MathJax's
# textmacros package is loaded; the book writes code names in math as \mathtt{a\_b}); <merror> is a TeX error.
FIND_BAD_FORMULAS = r"""(elements) => {
  const items = elements ? MathJax.startup.document.getMathItemsWithin(elements) : MathJax.startup.document.math;
  const found = [];
  for (const item of items) {
    const mml = MathJax.startup.toMML(item.root);
    const text = mml.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    if (text.includes("\\") || mml.includes("<merror")) found.push(item.math.trim().slice(0, 70) + "  shows  " + text.slice(0, 70));
  }
  return found;
}"""


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_no_formula_shows_a_backslash_or_a_tex_error(visits, lang, page_name):
    v = visits(lang, page_name)
    if not v.page.locator("script[src*='mathjax']").count():
        return  # no formulas on this page
    assert v.mathjax_error is None, v.mathjax_error
    bad = v.page.evaluate(FIND_BAD_FORMULAS, None)
    assert not bad, f"formulas whose typeset text shows a backslash or a TeX error: {bad[:5]}"


def test_the_formula_check_catches_a_literal_backslash_and_a_tex_error(browser):
    r"""The check above against what it guards: \text{..\_..} (as the book once had), undefined commands, TeX errors."""
    v = Visit(browser, "book/computational_graphs").ready()
    try:
        def check(tex):
            paragraph = v.page.evaluate_handle(r"""async (tex) => {
                const p = document.createElement("p");
                p.textContent = "\\(" + tex + "\\)";
                document.body.appendChild(p);
                await MathJax.typesetPromise([p]);
                return p;
            }""", tex)
            return v.page.evaluate(FIND_BAD_FORMULAS, paragraph)

        assert check(r"\partial\,\text{price}/\partial\,\text{orange\_num}"), "\\text{orange\\_num} not caught"
        assert check(r"\undefinedcommand x"), "an undefined command not caught"
        assert check(r"x^2^3"), "a TeX error (merror) not caught"
        assert not check(r"\partial\,\text{price}/\partial\,\mathtt{orange\_num}")
    finally:
        v.close()


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_displayed_formulas_fit_the_text_column(visits, lang, page_name):
    """A display wider than the column is cut off at its right edge (or runs under its equation number)."""
    v = visits(lang, page_name)
    if not v.page.locator("script[src*='mathjax']").count():
        return
    wide = v.page.evaluate("""() => Array.from(MathJax.startup.document.math).filter(item => item.display).map(item => {
        const root = item.typesetRoot, math = root.querySelector('mjx-math');
        const column = (root.closest('div.math') || root.parentElement).clientWidth;
        return [Math.round(math.getBoundingClientRect().width), column, item.math.trim().slice(0, 60)];
    }).filter(([width, column]) => width > column - 40)""")
    assert not wide, f"displayed formulas wider than the text column less 40px for the number: {wide}"


def test_chapters_have_math():
    """The check above is only meaningful if pages with formulas are among those checked."""
    assert any("$$" in (ROOT / f"{p}.md").read_text() for p in PAGES)


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_every_image_loads(visits, lang, page_name):
    v = visits(lang, page_name)
    broken = v.page.evaluate("""() => Array.from(document.images)
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute('src'))""")
    assert not broken, f"images that did not load: {broken}"


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_tables_fit_the_text_column(visits, lang, page_name):
    widths = visits(lang, page_name).page.evaluate("""() => Array.from(
        document.querySelectorAll('.pst-scrollable-table-container'), c => [c.scrollWidth, c.clientWidth])""")
    assert all(scroll <= client for scroll, client in widths), f"a table is wider than the text: {widths}"


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_no_console_errors(visits, lang, page_name):
    assert visits(lang, page_name).console_errors == []


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_nothing_needed_from_the_network_and_no_missing_file(visits, lang, page_name):
    v = visits(lang, page_name)
    assert v.blocked == [], f"the page requested these from the network (blocked): {v.blocked}"
    assert v.missing == [], f"local files that failed to load: {v.missing}"


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_solutions_are_hidden_and_open_on_click(visits, lang, page_name):
    v = visits(lang, page_name)
    solutions = v.page.locator("div.solution.dropdown")
    count = solutions.count()
    if page_name in NOTEBOOK_PAGES and re.search(r"^## Exercises$", (ROOT / f"{page_name}.md").read_text(), re.M):
        assert count >= 3, f"expected the chapter's solutions, found {count}"
    for i in range(count):
        solution = solutions.nth(i)
        body = solution.locator("section").first
        assert not body.is_visible(), f"solution {i + 1} is visible before its toggle is clicked"
        solution.locator("button.toggle-button").click()
        body.wait_for(state="visible")
        box = body.bounding_box()
        assert box and box["height"] > 0, f"solution {i + 1} did not open"
        code = solution.locator("div.cell")
        assert code.count() >= 1 and code.first.is_visible(), f"solution {i + 1} shows no executed code"


@pytest.mark.parametrize("lang, page_name", EDITION_NOTEBOOK_PAGES)
def test_download_buttons_offer_the_executed_notebook_and_the_source(visits, lang, page_name):
    v = visits(lang, page_name)
    links = v.page.eval_on_selector_all(".dropdown-download-buttons a[href]", "els => els.map(a => a.href)")
    files = {Path(unquote(urlparse(href).path)).suffix: Path(unquote(urlparse(href).path)) for href in links}
    assert {".ipynb", ".md"} <= set(files), f"download links: {links}"
    assert files[".md"].read_text() == (ROOT / f"{page_name}.md").read_text()
    notebook = json.loads(files[".ipynb"].read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "the .ipynb download is not executed"


@pytest.mark.parametrize("lang, page_name", EDITION_NOTEBOOK_PAGES)
def test_launch_buttons_open_the_twin_notebook(visits, lang, page_name):
    v = visits(lang, page_name)
    links = v.page.eval_on_selector_all(".dropdown-launch-buttons a[href]", "els => els.map(a => a.href)")
    twin = Path("notebooks", *Path(page_name).parts[1:]).with_suffix(".ipynb").as_posix()
    binder = [u for u in links if "mybinder.org" in u]
    colab = [u for u in links if "colab.research.google.com" in u]
    assert binder and binder[0].endswith(f"urlpath=lab/tree/{twin}"), links
    assert colab and colab[0].endswith(f"/blob/main/{twin}"), links
    assert (ROOT / twin).exists()


@pytest.mark.parametrize("lang, page_name", EDITION_NOTEBOOK_PAGES)
def test_code_cells_have_copy_buttons(visits, lang, page_name):
    v = visits(lang, page_name)
    cells = v.page.locator("div.cell_input div.highlight").count()
    assert cells > 0
    assert v.page.locator("div.cell_input button.copybtn").count() == cells


@pytest.mark.parametrize("lang, query, expected", [
    ("en", "backpropagation", "book/chain_rule.html"),
    ("ja", "連鎖律", "book/chain_rule.html"),
    ("ja", "中心差分", "book/gradient_checking.html"),   # one query word, two indexed words (中心 差分)
    ("ja", "計算グラフの逆伝播", "book/computational_graphs.html"),
])
def test_search_works_offline(browser, lang, query, expected):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # installed: the browser fixture checked

    v = Visit(browser, "search", lang).ready()
    try:
        v.page.goto(v.path.as_uri() + f"?q={query}", wait_until="load")
        v.page.locator("#search-results li").first.wait_for()
        # Sphinx adds the results to the list one by one: wait (a while) for the expected page to be listed
        try:
            v.page.wait_for_function(
                "expected => [...document.querySelectorAll('#search-results li a')]"
                ".some(a => a.href.split('?')[0].endsWith(expected))", arg=expected, timeout=15_000)
        except PlaywrightTimeout:
            pass  # the assertion below lists what was found
        links = v.page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.href)")
        assert any(link.split("?")[0].endswith(expected) for link in links), links
        assert v.blocked == [] and v.console_errors == []
    finally:
        v.close()


def test_japanese_queries_are_split_like_the_index(browser):
    """The Japanese edition splits a query with the TinySegmenter model Sphinx indexed the pages with."""
    from sphinx.search.ja import DefaultSplitter

    def indexed(word):  # the words Sphinx's index keeps (IndexBuilder's filter, SearchJapanese.word_filter)
        return len(word) > 1 and not (len(word) < 3 and 12353 < ord(word[0]) < 12436)

    samples = ["中心差分", "前進差分と中心差分", "誤差逆伝播法を基礎から学ぶ", "数値勾配を確かめる",
               "ミニバッチの行列勾配", "companion の check_layer で勾配確認", "学習率 η と損失関数"]
    v = Visit(browser, "search", "ja").ready()
    try:
        split = DefaultSplitter({}).split
        for text in samples:
            expected = [w for part in text.split() for w in split(part) if indexed(w)]
            assert v.page.evaluate("(q) => splitQuery(q)", text) == expected, text
    finally:
        v.close()


def other_edition(lang):
    return "ja" if lang == "en" else "en"


@pytest.mark.parametrize("lang, page_name", EDITION_PAGES)
def test_language_switch_links_the_same_page_in_the_other_edition(visits, lang, page_name):
    v = visits(lang, page_name)
    there = other_edition(lang)
    assert v.page.evaluate("document.documentElement.lang") == lang
    switch = v.page.locator(f"a.btn-language-switch-{there}")
    assert switch.count() == 1, "no language switch in the page header"
    href = switch.get_attribute("href")
    assert href and not href.startswith(("http:", "https:", "/")), href  # relative: works on file:// and on the web
    target = (v.path.parent / href).resolve()
    assert target == (EDITIONS[there] / f"{page_name}.html").resolve(), target
    assert switch.get_attribute("target") is None, "the switch must not open a new tab"


@pytest.mark.parametrize("lang, page_name", [("en", "book/chain_rule"), ("ja", "book/chain_rule"),
                                             ("ja", "book/glossary"), ("en", "book/preface")])
def test_clicking_the_language_switch_lands_on_the_matching_page(browser, lang, page_name):
    v = Visit(browser, page_name, lang).ready()
    try:
        there = other_edition(lang)
        v.page.locator(f"a.btn-language-switch-{there}").click()
        v.page.wait_for_load_state("load")
        assert Path(unquote(urlparse(v.page.url).path)) == (EDITIONS[there] / f"{page_name}.html").resolve()
        assert v.page.evaluate("document.documentElement.lang") == there
        assert v.page.locator(f"a.btn-language-switch-{lang}").count() == 1  # and back again
        assert v.blocked == [] and v.console_errors == []
    finally:
        v.close()
