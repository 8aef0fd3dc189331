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

The download button's ``.ipynb`` needs nothing here: with launch buttons
configured, sphinx-book-theme copies each chapter's executed notebook from
the build into ``_sources/`` and offers it next to the ``.md``.
"""

from pathlib import Path

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


def setup(app):
    app.add_js_file(None, body=OFFLINE_SEARCH, priority=201)  # right after documentation_options.js (200)
    app.connect("config-inited", add_substitutions)
    app.connect("config-inited", theme_defaults)
    app.connect("html-page-context", dedupe_scripts, priority=600)
    app.connect("html-page-context", launch_twins, priority=600)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
