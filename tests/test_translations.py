"""The machinery of the translated editions, without a build: catalogs keep their markup, figures
are captured and replayed exactly, and a translated figure never draws a missing glyph."""

import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402
import book_extras  # noqa: E402
import figure_i18n  # noqa: E402
import i18n  # noqa: E402


def teardown_function():
    plt.close("all")


# ------------------------------------------------------------------------------------------
# A translation keeps the markup of its English


@pytest.mark.parametrize("msgid, msgstr", [
    ("The **{term}`chain rule`** says", "**{term}`連鎖律 <chain rule>`** によれば"),
    ("see {doc}`the preface <preface>`", "{doc}`はじめに <preface>` を参照"),
    ("equation {eq}`eq-chain` at $x=3$: `square.backward` gave 8", "$x=3$ での式 {eq}`eq-chain` では `square.backward` は 8 を返した"),
    ("two pieces, 2 apples at 100 yen", "2つの部分、100円のりんご2個"),
    ("run {{ pip_install_companion }} first", "最初に {{ pip_install_companion }} を実行する"),
    ("the note says $x_l \\times y_m$", "ノートは $x_l \\times y_m$ とする（原文「それは$x_l \\times y_m$」）"),
    ("0 & \\text{otherwise,} \\end{cases}", "0 & \\text{それ以外のとき} \\end{cases}"),  # a display formula
])
def test_a_faithful_translation_has_no_markup_problem(msgid, msgstr):
    assert i18n.markup_problems(msgid, msgstr) == []


@pytest.mark.parametrize("msgid, msgstr, problem", [
    ("the {term}`chain rule`", "{term}`連鎖律`", "roles: lost ('term', 'chain rule'), added ('term', '連鎖律')"),
    ("{eq}`eq-chain`", "{eq}`eq-chian`", "roles: lost ('eq', 'eq-chain'), added ('eq', 'eq-chian')"),
    ("{cite}`saitoh2016`", "{cite}`斎藤 <saitoh2016>`", "roles: lost ('cite', 'saitoh2016')"),
    ("at $x = 3$", "$x=3$ において", "math: lost 'x = 3'"),
    ("calls `backward`", "`backword` を呼ぶ", "code: lost 'backward'"),
    ("2 apples at 100 yen", "りんご2個", "numbers: lost '100'"),
    ("{doc}`notation`", "記法", "roles: lost ('doc', 'notation')"),
    ("\nh(x)\n", "h(x)", "leading/trailing newlines differ"),
    ("0 & \\text{otherwise,} \\end{cases}", "1 & \\text{それ以外のとき} \\end{cases}", "formula: the math outside"),
])
def test_a_translation_that_breaks_markup_is_reported(msgid, msgstr, problem):
    assert any(p.startswith(problem) for p in i18n.markup_problems(msgid, msgstr)), \
        i18n.markup_problems(msgid, msgstr)


@pytest.mark.parametrize("path", [p for lang in book.TRANSLATIONS for p in i18n.catalogs(lang)],
                         ids=lambda p: p.relative_to(book.LOCALES).as_posix())
def test_every_translation_keeps_its_markup(path):
    """Roles, their targets, inline math and code, substitutions, links and numbers survive translation.

    Fuzzy messages are left out: their msgstr translates an older English text (the completeness
    test of tests/editions lists them as not translated), so it cannot match the new markup yet.
    """
    problems = [f"{p}\n    msgid:  {i18n.shorten(m.id)}\n    msgstr: {i18n.shorten(m.string)}"
                for m in i18n.entries(i18n.read(path)).values() if i18n.is_done(m)
                for p in i18n.markup_problems(m.id, m.string)]
    assert not problems, "\n".join(problems)


def test_only_formulas_with_words_are_messages():
    """A display formula is a message when its \\text{...} holds English words, not symbol names."""
    assert book_extras.formula_words(r"\underbrace{x}_{\text{round-off}} + \text{if } i = j") == ["round", "off", "if"]
    assert book_extras.formula_words(r"d_{\text{key}} \varepsilon_{\text{mach}} \operatorname{softmax}(U)") == []


def test_only_prose_is_a_message():
    """Display math and markup-only text never reach a catalog; prose does."""
    pattern = book_extras.MARKUP
    bare = ["{doc}`chain_rule`", "`dout`", "$n$", "$(n, d_k)$", "{{ pip_install_companion }}"]
    prose = ["scalar", "`dx` (`dy` for a second input)", "the loss"]
    import re
    assert not any(re.search(r"[^\W\d_]{2}", pattern.sub(" ", s)) for s in bare)
    assert all(re.search(r"[^\W\d_]{2}", pattern.sub(" ", s)) for s in prose)


@pytest.mark.parametrize("page, here, there, url", [
    ("book/chain_rule", "en", "ja", "../ja/book/chain_rule.html"),
    ("book/chain_rule", "ja", "en", "../../book/chain_rule.html"),
    ("search", "en", "ja", "ja/search.html"),
    ("genindex", "ja", "en", "../genindex.html"),
])
def test_the_language_switch_links_the_same_page(page, here, there, url):
    assert book_extras.switch_url(page, here, there) == url


# ------------------------------------------------------------------------------------------
# Figures: which strings translate, capture and replay, glyphs


def test_translatable_figure_strings():
    assert [s for s in ["loss", "step $h$", "$10^{-5}$", "×", "W1", "0.5", "grad_W"]
            if figure_i18n.is_translatable(s)] == ["loss", "step $h$", "grad_W"]


def example_figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [3, 1, 2], label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss $L$")
    ax.set_title("Learning curve")
    ax.legend()
    return fig


def test_a_captured_figure_replays_to_the_same_png(tmp_path):
    """The translated edition redraws the pickled figure; untranslated, it gives the English bytes."""
    from IPython.core.pylabtools import print_figure

    fig = example_figure()
    png = print_figure(fig, "png", bbox_inches="tight")
    key = figure_i18n.capture(fig, png, {"bbox_inches": "tight"}, tmp_path)
    record = json.loads((tmp_path / f"{key}.json").read_text())
    assert record == {"strings": ["epoch", "loss $L$", "Learning curve", "training loss"], "error": None}
    assert figure_i18n.render_original(tmp_path / f"{key}.pickle") == png


def test_the_kernel_extension_captures_what_the_inline_backend_prints(tmp_path, monkeypatch):
    from IPython.core import pylabtools

    monkeypatch.setattr(pylabtools, "print_figure", pylabtools.print_figure)  # restored after the test
    monkeypatch.setenv(figure_i18n.CAPTURE_ENV, str(tmp_path))
    figure_i18n.load_ipython_extension(None)
    data = pylabtools.print_figure(example_figure(), "png", base64=True)  # as the inline backend calls it
    assert isinstance(data, str) and len(list(tmp_path.glob("*.pickle"))) == 1


def test_the_kernel_extension_does_nothing_outside_the_book_build(monkeypatch):
    from IPython.core import pylabtools

    original = pylabtools.print_figure
    monkeypatch.delenv(figure_i18n.CAPTURE_ENV, raising=False)
    figure_i18n.load_ipython_extension(None)
    assert pylabtools.print_figure is original


def test_a_japanese_figure_draws_every_glyph(tmp_path):
    """Japanese labels with the edition's font: no missing glyph (an error, never a tofu box)."""
    from IPython.core.pylabtools import print_figure

    fig = example_figure()
    key = figure_i18n.capture(fig, print_figure(fig, "png", bbox_inches="tight"), {"bbox_inches": "tight"}, tmp_path)
    translations = {"training loss": "訓練データの損失", "epoch": "エポック", "loss $L$": "損失 $L$",
                    "Learning curve": "学習曲線（交差エントロピー誤差・勾配降下法）"}
    png, used, missing = figure_i18n.render_translated(tmp_path / f"{key}.pickle", translations, "ja")
    assert png.startswith(b"\x89PNG") and sorted(used) == sorted(translations) and missing == []


def test_a_glyph_no_font_has_is_an_error(tmp_path):
    from IPython.core.pylabtools import print_figure

    fig = example_figure()
    key = figure_i18n.capture(fig, print_figure(fig, "png", bbox_inches="tight"), {"bbox_inches": "tight"}, tmp_path)
    with pytest.raises(figure_i18n.MissingGlyphError, match="missing from font"):
        figure_i18n.render_translated(tmp_path / f"{key}.pickle", {"epoch": "エポック \U0001F9EA"}, "ja")


def test_a_figure_with_a_lambda_is_captured_and_replayed(tmp_path):
    """companion.plots formats ticks with lambdas: the capture must keep them (cloudpickle)."""
    from IPython.core.pylabtools import print_figure
    from matplotlib.ticker import FuncFormatter

    fig = example_figure()
    fig.axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} units"))
    png = print_figure(fig, "png", bbox_inches="tight")
    key = figure_i18n.capture(fig, png, {"bbox_inches": "tight"}, tmp_path)
    assert json.loads((tmp_path / f"{key}.json").read_text())["error"] is None
    assert figure_i18n.render_original(tmp_path / f"{key}.pickle") == png
