"""Sphinx extension of a translated edition; ``tools/book.py`` adds it when it builds one,
and to the gettext build that extracts the catalogs.

- The captions of the table of contents' parts are translated through the root page's
  catalog: sphinx-external-toc inserts them after Sphinx's own translation step has run.
- Each captured figure of a page is drawn again with its labels translated through
  ``locales/<lang>/LC_MESSAGES/figures.po`` (``tools/figure_i18n.py``), and the page shows that
  drawing instead of the English one. A glyph missing from the fonts stops the build.
- The build writes ``_build/<lang>/translation-report.json``: for each page, its number of
  messages, those shown untranslated (missing, fuzzy, or changed in English since they were
  translated), and its figures' strings with whether each was translated. ``tools/i18n.py``
  and ``tests/editions/`` read it: it describes what a reader of this build sees.
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


def page_report(env, docname):
    reports = env.translated_edition_report
    return reports.setdefault(docname, {"messages": 0, "untranslated": [], "figure_strings": {}})


class TranslateTocCaptions(SphinxTransform):
    """Translate the part captions that sphinx-external-toc inserts (at 100, after Locale at 20)."""

    default_priority = 110

    def apply(self, **kwargs):
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        if self.app.builder.name == "gettext":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [os.path.join(self.env.srcdir, d) for d in self.config.locale_dirs]
        catalog, _ = init_locale(dirs, self.config.language, domain)
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("caption")
            if caption:
                translated = catalog.gettext(caption)
                toctree["caption"] = translated
                toctree["translated"] = translated != caption


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


def setup(app):
    app.add_config_value("translated_edition_dir", "", "env")
    app.add_config_value("translated_edition_figures", "", "env")
    app.add_config_value("translated_edition_figure_po", "", "env")
    app.add_transform(TranslateTocCaptions)
    app.add_transform(RecordUntranslated)
    app.connect("builder-inited", prepare)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-read", swap_figures, priority=400)  # before Sphinx collects the images (500)
    app.connect("build-finished", write_report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
