"""A small Sphinx extension for this book, loaded from _config.yml (``sphinx: local_extensions``).

- Launch buttons open the chapter's executed twin, ``notebooks/<chapter>.ipynb``,
  instead of its source ``book/<chapter>.md``: Colab cannot open MyST markdown,
  and on Binder a ``.ipynb`` opens as a notebook whatever the Jupyter setup.
  (sphinx-book-theme builds the links; this rewrites their path, after it.)
- The repository's URL, written once in _config.yml (``repository: url``), is
  available to pages as the MyST substitution ``{{ pip_install_companion }}``:
  the ``%pip install git+<url>`` line that installs companion on Colab.

- Each inline script appears once per page. Some extensions' configuration
  scripts (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
  selector) end up registered twice, and a second ``const`` declaration is a
  JavaScript error in the reader's console.
- Search works from ``file://`` too: there the result list shows no page
  summaries, which the browser would refuse to fetch from disk (CORS).
- The theme's colour mode defaults to light, where the figures were drawn
  (the theme's unset default makes it log an error on a reader's first visit).

- Every page links to the same page in the other editions (the Japanese edition is
  built by ``tools/book.py`` into ``_build/html/ja/``; the editions are the languages
  with a ``locales/<lang>/edition.yml``): a language switch in the page header.
- Only prose is translatable: display math, and text that is nothing but markup
  (a ``{doc}`` link alone in a table cell, inline code, inline math), never becomes a
  message of the translation catalogs, except a formula with English words in ``\\text{...}``
  ("otherwise", an underbrace's label; ``formula_words``), whose translation changes only
  those words (``tools/i18n.py check``), and a role's own title, which is prose (the errata's
  {ref}`Computational graphs <erratum-cg-int>`, else the Japanese table links in English), and an exercise's title (sphinx-exercise
  keeps no source text for it, so the catalogs would miss it).

The download button's ``.ipynb`` needs nothing here: with launch buttons
configured, sphinx-book-theme copies each chapter's executed notebook from
the build into ``_sources/`` and offers it next to the ``.md``.
"""

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.transforms import SphinxTransform

BOOK = "book"
TWINS = "notebooks"


def twin_of(srcdir, pagename):
    """The committed executed twin of a chapter page, relative to the repository, or None."""
    if not pagename.startswith(f"{BOOK}/"):
        return None
    twin = Path(TWINS, pagename[len(BOOK) + 1:]).with_suffix(".ipynb")
    return twin.as_posix() if (Path(srcdir) / twin).exists() else None


def launch_twins(app, pagename, templatename, context, doctree):
    twin = twin_of(app.srcdir, pagename)
    if twin is None:
        return
    source = Path(app.env.doc2path(pagename, False)).as_posix()  # e.g. book/chain_rule.md
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = button["url"].replace(source, twin)


def dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script) or ""  # an inline script's is None or "", by origin
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def theme_defaults(app, config):
    config.html_context.setdefault("default_mode", "light")  # pydata-sphinx-theme reads it from the context


def add_substitutions(app, config):
    url = config.html_theme_options.get("repository_url", "").strip("/")
    if url:
        config.myst_substitutions = {
            **config.myst_substitutions,
            "pip_install_companion": f"`%pip install git+{url}`",
        }


OFFLINE_SEARCH = (
    "if (location.protocol === 'file:' && typeof DOCUMENTATION_OPTIONS !== 'undefined') "
    "{ DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false; }"
)


def editions(srcdir):
    """lang -> the name of the language in that language, English first, then each translation."""
    found = {"en": "English"}
    for settings in sorted(Path(srcdir, "locales").glob("*/edition.yml")):
        found[settings.parent.name] = yaml.safe_load(settings.read_text(encoding="utf-8"))["native_name"]
    return found


def edition_of(config):
    return config.language if config.language and config.language != "en" else "en"


def switch_url(pagename, here, there):
    """Relative URL from page ``pagename`` of edition ``here`` to the same page of edition ``there``."""
    up = "../" * (pagename.count("/") + (here != "en"))  # translations live in <lang>/ under the English root
    return f"{up}{'' if there == 'en' else there + '/'}{pagename}.html"


def language_switch(app, pagename, templatename, context, doctree):
    """A header button per other edition: the same page in that language (a link, opened in place)."""
    here = edition_of(app.config)
    buttons = [
        {"type": "link", "url": switch_url(pagename, here, lang), "text": name, "icon": "fas fa-language",
         "tooltip": name, "label": f"language-switch-{lang}"}
        for lang, name in editions(app.srcdir).items() if lang != here
    ]
    context.setdefault("header_buttons", [])[:0] = buttons


# The theme opens header links in a new tab; a language switch stays in the reader's tab.
SAME_TAB_SWITCH = (
    "document.addEventListener('DOMContentLoaded', () => document.querySelectorAll("
    "'a[class*=\"btn-language-switch\"]').forEach((a) => a.removeAttribute('target')));"
)


# Text with no prose outside markup: roles, inline code, inline math, substitutions.
MARKUP = re.compile(r"\{[\w:-]+\}`[^`]*`|``[^`]*``|`[^`]*`|\$[^$]*\$|\{\{[^}]*\}\}")
# A role's explicit title is prose: {ref}`Computational graphs <erratum-cg-int>` reads "Computational graphs".
ROLE_TITLE = re.compile(r"\{[\w:-]+\}`([^`<]*)<[^`]*>`")


# Words inside \text{...} of a formula that are names, not English: kept as they are in every edition.
SYMBOL_NAMES = frozenset({
    "key", "in", "out", "dout", "mach", "fwd", "cen", "rel", "floor", "emb", "id", "col", "pad", "dil",
    "uniform", "freq", "label", "pos", "run", "price", "attn",
    "Xavier", "He",  # the scales named after their authors, eq-init-xavier and eq-init-he
})
TEXT_IN_FORMULA = re.compile(r"\\text\{([^{}]*)\}")


def formula_words(latex):
    """The English words inside ``\\text{...}`` of a formula (names in SYMBOL_NAMES are symbols, not words)."""
    return [word for text in TEXT_IN_FORMULA.findall(latex)
            for word in re.findall(r"[A-Za-z][A-Za-z']*", text) if word not in SYMBOL_NAMES]


class OnlyProseIsTranslatable(SphinxTransform):
    """Keep formulas and markup-only text out of the translation catalogs (runs before Locale, 20)."""

    default_priority = 10

    def apply(self, **kwargs):
        from sphinx_exercise.nodes import exercise_title, solution_title

        for node in self.document.findall(nodes.math_block):
            # A formula with words ("otherwise", an underbrace's label) is a message: its translation
            # changes only the words in \text{...} (tools/i18n.py check holds the rest to the English).
            node["translatable"] = bool(formula_words(node.astext()))
        for front_matter in self.document.children:  # jupytext's header: a field list, docinfo only at 340
            if isinstance(front_matter, (nodes.field_list, nodes.docinfo)):
                for node in front_matter.findall(nodes.TextElement):
                    node["translatable"] = False
        for node in self.document.findall(lambda n: isinstance(n, (exercise_title, solution_title))):
            node["translatable"] = False  # "Exercise", "Solution to": sphinx-exercise's own catalog
        for node in self.document.findall(nodes.paragraph):
            source = getattr(node, "rawsource", "") or ""
            if source and not re.search(r"[^\W\d_]{2}", MARKUP.sub(" ", ROLE_TITLE.sub(r" \1 ", source))):
                node["translatable"] = False


def translatable_exercise_titles(app):
    """An exercise's own title is a message of the catalogs: give it its source text and location.

    sphinx-exercise keeps none, and joins it to the word "Exercise" (translated by its own
    catalog) in a post-transform, which the gettext builder would see instead: for that
    builder the titles stay as written.
    """
    from sphinx_exercise import post_transforms
    from sphinx_exercise.directive import ExerciseDirective
    from sphinx_exercise.nodes import exercise_subtitle

    class Exercise(ExerciseDirective):
        def run(self):
            result = super().run()
            source, line = self.get_source_info()
            for node in result:
                for subtitle in node.findall(exercise_subtitle):
                    subtitle.rawsource, subtitle.source, subtitle.line = self.arguments[0], source, line
            return result

    app.add_directive("exercise", Exercise, override=True)
    if app.builder.name == "gettext":
        resolvers = (post_transforms.ResolveTitlesInExercises, post_transforms.ResolveTitlesInSolutions)
        app.registry.post_transforms = [t for t in app.registry.post_transforms if t not in resolvers]


# Extensions that declare nothing about parallel reading, so Sphinx would read serially (with a
# warning, an error under -W). Each was read and found safe: sphinx-multitoc-numbering only
# replaces TocTreeCollector.assign_section_numbers, which runs in the main process after
# reading; sphinx-mathjax-offline only copies MathJax at build-finished; sphinx-jupyterbook-latex's
# read-time transforms only annotate the page's own doctree (its other work is for LaTeX builds).
PARALLEL_READ_SAFE = ("sphinx_multitoc_numbering", "sphinx-mathjax-offline", "sphinx_jupyterbook_latex")


def declare_parallel_read_safe(app, env, docnames):
    """Let ``tools/book.py -j 2`` read pages in parallel."""
    for name in PARALLEL_READ_SAFE:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True


def setup(app):
    app.add_js_file(None, body=OFFLINE_SEARCH, priority=201)  # right after documentation_options.js (200)
    app.connect("config-inited", add_substitutions)
    app.connect("config-inited", theme_defaults)
    app.connect("env-before-read-docs", declare_parallel_read_safe)
    app.connect("builder-inited", translatable_exercise_titles)
    app.add_transform(OnlyProseIsTranslatable)
    app.connect("html-page-context", language_switch, priority=600)  # after the theme's buttons (501)
    app.add_js_file(None, body=SAME_TAB_SWITCH)
    app.connect("html-page-context", dedupe_scripts, priority=600)
    app.connect("html-page-context", launch_twins, priority=600)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
