"""Sphinx extension of a translated edition; ``tools/book.py`` adds it when it builds one,
and to the gettext build that extracts the catalogs.

- The glossary keeps the English alphabetical order (its headwords read 「誤差逆伝播法（backpropagation）」):
  Sphinx would re-sort a translated glossary by code point, which orders kanji meaninglessly.
- The captions of the table of contents' parts are translated through the root page's
  catalog: sphinx-external-toc inserts them after Sphinx's own translation step has run.
- A solution's heading 「解答 練習 5.1 (打ち切り誤差を導く)」 repeats its exercise's title, which
  sphinx-exercise takes from a copy of the exercise it keeps in ``env.sphinx_exercise_registry``;
  the directive makes that copy while the page is parsed, before Sphinx translates the page, so
  the heading showed the English title. The copy is taken again from the translated page.
- A displayed formula with English words in ``\\text{...}`` is a message (``tools/book_extras.py``);
  its translation replaces the formula's LaTeX as it is (Sphinx would parse it as markup).
- Each captured figure of a page is drawn again with its labels translated through
  ``locales/<lang>/LC_MESSAGES/figures.po`` (``tools/figure_i18n.py``), and the page shows that
  drawing instead of the English one. A glyph missing from the fonts stops the build.
- The build writes ``_build/<lang>/translation-report.json``: for each page, its number of
  messages, those shown untranslated (missing, fuzzy, or changed in English since they were
  translated), and its figures' strings with whether each was translated. ``tools/i18n.py``
  and ``tests/editions/`` read it: it describes what a reader of this build sees.
- Japanese search: Sphinx segments the pages' Japanese text into words with TinySegmenter
  when it builds the search index, but splits a reader's query only at spaces and punctuation,
  so a query such as 中心差分 (indexed as 中心 + 差分) found nothing. The edition's search splits
  queries with the same TinySegmenter model, ported to JavaScript from Sphinx's own tables.
- The page furniture's words that Sphinx's and the themes' Japanese catalogs lack (tooltips such
  as "Link to this heading", "Launch on Binder") are in ``locales/<lang>/LC_MESSAGES/sphinx.po``,
  which Sphinx itself reads before its own catalog, and ``booktheme.po``, added here to
  sphinx-book-theme's catalog (the theme keeps a few words in one of its own).
- The executed notebooks offered for download are the English build's: the jupyter cache the
  edition reads its outputs from keeps no execution counts.
- The gettext build writes ``figures.pot`` beside the pages' catalogs: every string the
  figures draw, with the pages that show it.
"""

import json
import os
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.nodes import extract_messages

import figure_i18n

logger = logging.getLogger(__name__)


def edition_dir(app):
    """_build/<lang>: the edition's own working folder (its HTML is in _build/html/<lang>)."""
    return Path(app.config.translated_edition_dir)


def page_catalog(transform):
    """The translations of the page ``transform`` works on (its .po under locale_dirs)."""
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    domain = docname_to_domain(transform.env.docname, transform.config.gettext_compact)
    dirs = [os.path.join(transform.env.srcdir, d) for d in transform.config.locale_dirs]
    catalog, _ = init_locale(dirs, transform.config.language, domain)
    return catalog


def page_report(env, docname):
    reports = env.translated_edition_report
    return reports.setdefault(docname, {"messages": 0, "untranslated": [], "figure_strings": {}})


class TranslateTocCaptions(SphinxTransform):
    """Translate the part captions that sphinx-external-toc inserts (at 100, after Locale at 20)."""

    default_priority = 110

    def apply(self, **kwargs):
        if self.app.builder.name == "gettext":
            return
        catalog = page_catalog(self)
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("caption")
            if caption:
                translated = catalog.gettext(caption)
                toctree["caption"] = translated
                toctree["translated"] = translated != caption


class TranslateFormulas(SphinxTransform):
    """Before Sphinx's Locale (20): a displayed formula that is a message (tools/book_extras.py) takes its
    translation as it is. Locale would parse it as a literal block in reStructuredText (``::``), which the
    MyST parser reads as a paragraph ``::``: the formula vanished."""

    default_priority = 15

    def apply(self, **kwargs):
        if self.app.builder.name == "gettext":
            return
        catalog = page_catalog(self)
        for node in self.document.findall(nodes.math_block):
            if not node.get("translatable"):
                continue
            msg = node.rawsource or node.astext()
            translated = catalog.gettext(msg)
            if translated == msg:
                continue  # untranslated: Locale leaves it, and RecordUntranslated reports it
            node.children = [nodes.Text(translated)]
            node.rawsource = translated
            node["translatable"], node["translated"] = False, True
            page_report(self.env, self.env.docname)["messages"] += 1


class TranslatedExerciseTitles(SphinxTransform):
    """After Sphinx's Locale (20): the registry's copy of each exercise is the translated one.

    sphinx-exercise's ExerciseDirective stores ``node.deepcopy()`` in the registry when it runs,
    that is in English, and ResolveTitlesInSolutions (a post-transform, when the page is written)
    builds each solution's heading from that copy's title.
    """

    default_priority = 30

    def apply(self, **kwargs):
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node

        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if self.app.builder.name == "gettext" or not registry:
            return
        for node in self.document.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node))):
            entry = registry.get(node.get("label"))
            if entry is not None and entry["docname"] == self.env.docname:
                entry["node"] = node.deepcopy()


class KeepTheGlossaryOrder(SphinxTransform):
    """Before Sphinx's GlossarySorter (500): the source's order, which is the English alphabetical one."""

    default_priority = 490

    def apply(self, **kwargs):
        for glossary in self.document.findall(addnodes.glossary):
            glossary["sorted"] = False


class RecordUntranslated(SphinxTransform):
    """When every translation step has run: record the page's untranslated messages."""

    default_priority = 870  # before the doctree-read event (880)

    def apply(self, **kwargs):
        if self.app.builder.name == "gettext":
            return
        report = page_report(self.env, self.env.docname)
        for node, msg in extract_messages(self.document):
            report["messages"] += 1
            if not node.get("translated"):
                report["untranslated"].append(msg)


def swap_figures(app, doctree):
    """Replace each captured English figure of the page by its translated drawing (gettext: list its strings)."""
    capture_dir = Path(app.config.translated_edition_figures)
    outputs = Path(app.env.mystnb_config.output_folder).resolve()
    lang = app.config.language
    catalog = app.env.translated_edition_figure_catalog
    strings = page_report(app.env, app.env.docname)["figure_strings"]
    extracting = app.builder.name == "gettext"
    for image in doctree.findall(nodes.image):
        source = Path(app.srcdir, image["uri"].lstrip("/"))
        if source.suffix != ".png" or source.parent.resolve() != outputs:
            continue  # not a notebook output
        key = source.stem  # MyST-NB names an output image by the SHA-256 of its bytes
        record_path = capture_dir / f"{key}.json"
        if not record_path.exists():
            logger.warning(f"figure {key[:12]} was not captured when its chapter was executed (a kernel "
                           f"without {figure_i18n.CAPTURE_ENV}?): it stays in English",
                           location=image, type="translated_edition")
            continue
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if extracting:
            strings.update({msgid: False for msgid in record["strings"]})
            continue
        if record["error"]:
            logger.warning(f"figure {key[:12]}: {record['error']}; it stays in English",
                           location=image, type="translated_edition")
            continue
        try:
            png, used, missing = figure_i18n.render_translated(capture_dir / f"{key}.pickle", catalog, lang)
        except figure_i18n.MissingGlyphError as exc:
            raise ExtensionError(f"{app.env.docname}: a translated figure draws characters no font has "
                                 f"(a tofu box): {exc}") from None
        strings.update({msgid: True for msgid in used})
        strings.update({msgid: False for msgid in missing})
        target = edition_dir(app) / "figures" / f"{key}.{lang}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
        image["uri"] = "/" + os.path.relpath(target, app.srcdir)
        image.attributes.pop("candidates", None)


def prepare(app):
    app.env.translated_edition_figure_catalog = figure_i18n.read_catalog(app.config.translated_edition_figure_po)
    if not hasattr(app.env, "translated_edition_report"):
        app.env.translated_edition_report = {}


def purge(app, env, docname):
    getattr(env, "translated_edition_report", {}).pop(docname, None)


def merge(app, env, docnames, other):
    for docname in docnames:
        if docname in other.translated_edition_report:
            env.translated_edition_report[docname] = other.translated_edition_report[docname]


# TinySegmenter (sphinx.search.ja.DefaultSplitter), the same model and scoring, in JavaScript:
# searchtools.js calls splitQuery(query) for a reader's query. Words the index leaves out
# (one character, or a hiragana word of one or two) are dropped, as a query term missing from
# the index would make every search that contains it find nothing.
JS_QUERY_SPLITTER = """
const tinySegmenter = %(tables)s;
const tinySegmenterTypes = %(patterns)s.map(([pattern, type]) => [new RegExp("^(?:" + pattern + ")", "u"), type]);
const tinySegmenterType = (ch) => {
  for (const [pattern, type] of tinySegmenterTypes) if (pattern.test(ch)) return type;
  return "O";
};
const tinySegmenterScore = (table, key) =>
  Object.prototype.hasOwnProperty.call(tinySegmenter[table], key) ? tinySegmenter[table][key] : 0;
const tinySegment = (input) => {
  if (!input) return [];
  const chars = Array.from(input);
  const seg = ["B3", "B2", "B1", ...chars, "E1", "E2", "E3"];
  const ctype = ["O", "O", "O", ...chars.map(tinySegmenterType), "O", "O", "O"];
  const result = [];
  let word = seg[3], p1 = "U", p2 = "U", p3 = "U";
  const s = tinySegmenterScore;
  for (let i = 4; i < seg.length - 3; i++) {
    const [w1, w2, w3, w4, w5, w6] = seg.slice(i - 3, i + 3);
    const [c1, c2, c3, c4, c5, c6] = ctype.slice(i - 3, i + 3);
    let score = tinySegmenter.BIAS__;
    score += s("UP1__", p1) + s("UP2__", p2) + s("UP3__", p3) + s("BP1__", p1 + p2) + s("BP2__", p2 + p3);
    score += s("UW1__", w1) + s("UW2__", w2) + s("UW3__", w3) + s("UW4__", w4) + s("UW5__", w5) + s("UW6__", w6);
    score += s("BW1__", w2 + w3) + s("BW2__", w3 + w4) + s("BW3__", w4 + w5);
    score += s("TW1__", w1 + w2 + w3) + s("TW2__", w2 + w3 + w4) + s("TW3__", w3 + w4 + w5) + s("TW4__", w4 + w5 + w6);
    score += s("UC1__", c1) + s("UC2__", c2) + s("UC3__", c3) + s("UC4__", c4) + s("UC5__", c5) + s("UC6__", c6);
    score += s("BC1__", c2 + c3) + s("BC2__", c3 + c4) + s("BC3__", c4 + c5);
    score += s("TC1__", c1 + c2 + c3) + s("TC2__", c2 + c3 + c4) + s("TC3__", c3 + c4 + c5) + s("TC4__", c4 + c5 + c6);
    score += s("UQ1__", p1 + c1) + s("UQ2__", p2 + c2) + s("UQ1__", p3 + c3);  // UQ1 twice, as in Sphinx
    score += s("BQ1__", p2 + c2 + c3) + s("BQ2__", p2 + c3 + c4) + s("BQ3__", p3 + c2 + c3) + s("BQ4__", p3 + c3 + c4);
    score += s("TQ1__", p2 + c1 + c2 + c3) + s("TQ2__", p2 + c2 + c3 + c4);
    score += s("TQ3__", p3 + c1 + c2 + c3) + s("TQ4__", p3 + c2 + c3 + c4);
    let p = "O";
    if (score > 0) { result.push(word.trim()); word = ""; p = "B"; }
    p1 = p2; p2 = p3; p3 = p;
    word += seg[i];
  }
  result.push(word.trim());
  return result;
};
const isIndexed = (word) => {
  const first = word.codePointAt(0);
  return Array.from(word).length > 1 && !(Array.from(word).length < 3 && first > 12353 && first < 12436);
};
var splitQuery = (query) => query.split(/\s+/u).flatMap(tinySegment).filter(isIndexed);
"""


def japanese_search():
    """Sphinx's Japanese search, with queries split as the index was (JS_QUERY_SPLITTER)."""
    from sphinx.search.ja import DefaultSplitter, SearchJapanese

    tables = {name: getattr(DefaultSplitter, name) for name in dir(DefaultSplitter)
              if name.endswith("__") and not name.startswith("__")}
    patterns = [[pattern.pattern, kind] for pattern, kind in DefaultSplitter.patterns_.items()]

    class SearchJapaneseQueries(SearchJapanese):
        js_splitter_code = JS_QUERY_SPLITTER % {
            "tables": json.dumps(tables, ensure_ascii=False), "patterns": json.dumps(patterns, ensure_ascii=False)}

    return SearchJapaneseQueries


def english_notebooks(app, env):
    """Offer the English build's executed notebooks (same code and outputs, with execution counts)."""
    import shutil

    ours = Path(env.mystnb_config.output_folder)
    english = Path(app.config.translated_edition_english_outputs)
    for notebook in ours.rglob("*.ipynb"):
        source = english / notebook.relative_to(ours)
        if source.exists() and code_of(source) == code_of(notebook):
            shutil.copyfile(source, notebook)


def code_of(path):
    import nbformat

    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def write_figures_pot(app):
    """figures.pot: each string the figures draw, once, with the pages that show it."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project=app.config.project, header_comment="")
    for docname, report in sorted(app.env.translated_edition_report.items()):
        for text in report["figure_strings"]:
            message = catalog.get(text) or catalog.add(text)
            message.auto_comments.append(f"figure on {docname}")
    with open(Path(app.outdir) / "figures.pot", "wb") as f:
        write_po(f, catalog, width=0)


def write_report(app, exception):
    if exception is not None:
        return
    if app.builder.name == "gettext":
        write_figures_pot(app)
        return
    path = edition_dir(app) / "translation-report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"language": app.config.language, "pages": dict(sorted(app.env.translated_edition_report.items()))}
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def theme_catalog(app):
    """sphinx-book-theme's words missing from its catalog: locales/<lang>/LC_MESSAGES/booktheme.po."""
    from sphinx.util.i18n import CatalogInfo

    for locale_dir in app.config.locale_dirs:
        messages = Path(app.srcdir, locale_dir, app.config.language, "LC_MESSAGES")
        catalog = CatalogInfo(str(messages), "booktheme", "utf-8")
        if Path(catalog.po_path).exists():
            if catalog.is_outdated():
                catalog.write_mo(app.config.language)
            app.add_message_catalog("booktheme", str(Path(app.srcdir, locale_dir)))


def setup(app):
    app.add_config_value("translated_edition_dir", "", "env")
    app.add_config_value("translated_edition_figures", "", "env")
    app.add_config_value("translated_edition_figure_po", "", "env")
    app.add_config_value("translated_edition_english_outputs", "", "env")
    if app.config.language == "ja":
        app.add_search_language(japanese_search())
    if app.config.language not in (None, "en"):
        theme_catalog(app)
    app.connect("env-updated", english_notebooks)
    app.add_transform(TranslateFormulas)
    app.add_transform(TranslateTocCaptions)
    app.add_transform(TranslatedExerciseTitles)
    app.add_transform(KeepTheGlossaryOrder)
    app.add_transform(RecordUntranslated)
    app.connect("builder-inited", prepare)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-read", swap_figures, priority=400)  # before Sphinx collects the images (500)
    app.connect("build-finished", write_report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
