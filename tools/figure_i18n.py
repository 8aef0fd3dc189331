"""Figures with translated labels, without touching a code cell.

Every chapter is executed once per ``make book``, by the English build. While it runs,
the kernel keeps a copy of each figure it displays (an IPython extension, loaded by
``tools/ipython_kernel_config.py`` only when the build sets ``BOOK_FIGURE_CAPTURE``):

- ``<key>.pickle``: the matplotlib figure itself, the rcParams in force and the
  arguments the inline backend printed it with (pickled with cloudpickle, which also
  keeps a lambda a figure may hold, such as a tick formatter's);
- ``<key>.json``: the strings the figure draws that a translator may translate;

where ``<key>`` is the SHA-256 of the PNG the English page shows (MyST-NB names the
image file by the same hash). The kernel's output is untouched: the English PNG is
printed first, exactly as without this extension.

A translated edition (``tools/book.py --lang ja``) reads the English build's executed
outputs from the jupyter cache, so its code cells and outputs are the English ones
by construction. For each figure it loads the pickle, replaces every string that
``locales/<lang>/LC_MESSAGES/figures.po`` translates, adds the edition's font as a
fallback for the glyphs the default font lacks (Latin text and numbers keep their
English look), and prints the figure again with the same arguments, so the layout
(``bbox_inches="tight"``, legends, titles) is computed with the translated text. A
glyph missing from every font is an error, never a tofu box.

Which strings count: texts with at least two consecutive Latin letters outside
``$...$`` (tick labels, numbers and symbols such as ``×`` are not translatable).
"""

import hashlib
import json
import os
import pickle
import re
import warnings
from base64 import b64decode
from pathlib import Path

CAPTURE_ENV = "BOOK_FIGURE_CAPTURE"
GLYPH_MISSING = re.compile(r"Glyph .* missing from font")
# rcParams that must not be replayed: they select a backend, not a look.
_NOT_REPLAYED = {"backend", "backend_fallback", "interactive", "webagg.port", "webagg.address",
                 "webagg.open_in_browser", "webagg.port_retries", "savefig.directory"}


# ------------------------------------------------------------------------------------------
# Which strings of a figure are translatable


def _without_math(text):
    return re.sub(r"(?<!\\)\$.*?(?<!\\)\$", " ", text)


def is_translatable(text):
    """A figure string a translator sees: at least two Latin letters in a row outside $...$."""
    return bool(re.search(r"[A-Za-z]{2}", _without_math(text)))


def figure_texts(fig):
    """Every matplotlib Text artist of ``fig`` (titles, labels, legends, annotations, tick labels)."""
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible()]


def figure_strings(fig):
    """The translatable strings ``fig`` draws, in drawing order, each once."""
    seen = {}
    for t in figure_texts(fig):
        text = t.get_text()
        if text and is_translatable(text):
            seen.setdefault(text, None)
    return list(seen)


# ------------------------------------------------------------------------------------------
# Kernel side: keep each displayed figure (an IPython extension)


def capture(fig, png, print_kwargs, folder):
    """Store ``fig`` (shown as the PNG bytes ``png``) under its key in ``folder``; return the key."""
    import matplotlib

    key = hashlib.sha256(png).hexdigest()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"strings": figure_strings(fig), "error": None}
    rc = {k: v for k, v in matplotlib.rcParams.items() if k not in _NOT_REPLAYED}
    try:  # cloudpickle: a figure may hold a lambda (a FuncFormatter's), which pickle refuses
        import cloudpickle

        blob = cloudpickle.dumps({"figure": fig, "rc": rc, "print_kwargs": print_kwargs})
    except Exception as exc:  # reported by the translated edition's build, never here
        record["error"] = f"the figure could not be pickled: {type(exc).__name__}: {exc}"
    else:
        (folder / f"{key}.pickle").write_bytes(blob)
    (folder / f"{key}.json").write_text(json.dumps(record, ensure_ascii=False))
    return key


def load_ipython_extension(ip):
    """Wrap the inline backend's PNG printer so that each figure it prints is also captured."""
    folder = os.environ.get(CAPTURE_ENV)
    if not folder:
        return
    from IPython.core import pylabtools

    original = pylabtools.print_figure
    if getattr(original, "book_capture", False):
        return

    def print_figure(fig, fmt="png", bbox_inches="tight", base64=False, **kwargs):  # noqa: A002 (IPython's name)
        data = original(fig, fmt, bbox_inches, base64, **kwargs)
        if fmt == "png" and data:
            png = b64decode(data) if base64 else data
            try:
                capture(fig, png, {"bbox_inches": bbox_inches, **kwargs}, folder)
            except Exception as exc:  # never break the English output; the translated build reports it
                key = hashlib.sha256(png).hexdigest()
                Path(folder, f"{key}.json").write_text(json.dumps(
                    {"strings": [], "error": f"capture failed: {type(exc).__name__}: {exc}"}))
        return data

    print_figure.book_capture = True
    pylabtools.print_figure = print_figure


# ------------------------------------------------------------------------------------------
# Translated edition: render a captured figure with translated strings


def font_family_for(lang):
    """The fallback font family an edition's figures need, registered with matplotlib; None for English."""
    if lang != "ja":
        return None
    import importlib.util

    from matplotlib import font_manager

    spec = importlib.util.find_spec("matplotlib_fontja")  # found, not imported: importing it changes rcParams
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Japanese figures need the font package matplotlib-fontja (in requirements.txt)")
    ttf = Path(next(iter(spec.submodule_search_locations)), "fonts", "ipaexg.ttf")
    if not ttf.exists():
        raise RuntimeError(f"matplotlib-fontja's font is missing: {ttf}")
    font_manager.fontManager.addfont(str(ttf))
    return font_manager.FontProperties(fname=str(ttf)).get_name()  # "IPAexGothic"


class MissingGlyphError(RuntimeError):
    """A translated figure drew a character that no font of its family chain has."""


def render_png(fig, rc, print_kwargs):
    """Print ``fig`` as PNG bytes the way the inline backend did; a missing glyph raises."""
    import io

    import matplotlib

    with matplotlib.rc_context(rc), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        buffer = io.BytesIO()
        fig.canvas.print_figure(buffer, format="png", **print_kwargs)
    missing = [str(w.message) for w in caught if GLYPH_MISSING.search(str(w.message))]
    if missing:
        raise MissingGlyphError("; ".join(dict.fromkeys(missing)))
    for w in caught:  # anything else a renderer says is shown, not swallowed
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return buffer.getvalue()


def load_capture(path):
    """The captured figure at ``path`` (a .pickle): (figure, rc, print_kwargs)."""
    import matplotlib

    matplotlib.use("Agg")
    state = pickle.loads(Path(path).read_bytes())
    return state["figure"], state["rc"], state["print_kwargs"]


def translate_figure(fig, translations, family):
    """Replace each string of ``fig`` found in ``translations``; return (used, missing) msgids."""
    used, missing = {}, {}
    for t in figure_texts(fig):
        text = t.get_text()
        if not text or not is_translatable(text):
            continue
        if translations.get(text):
            used[text] = translations[text]
            t.set_text(translations[text])
            if family:
                t.set_fontfamily([*t.get_fontfamily(), family])
        else:
            missing[text] = None
    return list(used), list(missing)


def render_translated(path, translations, lang):
    """Render the capture at ``path`` with ``translations``: (png bytes, translated, untranslated)."""
    import matplotlib.pyplot as plt

    fig, rc, print_kwargs = load_capture(path)
    try:
        used, missing = translate_figure(fig, translations, font_family_for(lang))
        return render_png(fig, rc, print_kwargs), used, missing
    finally:
        plt.close(fig)


def render_original(path):
    """Render the capture at ``path`` untranslated: the bytes should equal the English PNG."""
    import matplotlib.pyplot as plt

    fig, rc, print_kwargs = load_capture(path)
    try:
        return render_png(fig, rc, print_kwargs)
    finally:
        plt.close(fig)


def read_catalog(po_path):
    """msgid -> msgstr of a .po file, translated and not fuzzy entries only."""
    from babel.messages.pofile import read_po

    if not po_path or not Path(po_path).is_file():
        return {}
    with open(po_path, "rb") as f:
        catalog = read_po(f)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
