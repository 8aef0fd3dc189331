"""Build the book: the English edition, then each translated edition, from one configuration.

    python tools/book.py                     # every edition (make book)
    python tools/book.py --strict            # warnings are errors, all of them listed (make strict-book)
    python tools/book.py --lang ja           # the Japanese edition only, reusing the English execution
    python tools/book.py --builder gettext   # the message catalogs, _build/gettext/pot/ (tools/i18n.py)
    python tools/book.py -j auto             # read (and execute) pages in parallel, one process per core

Every edition is the same Jupyter Book: this asks Jupyter Book for the Sphinx configuration
it derives from ``_config.yml`` and ``_toc.yml`` and runs Sphinx with a few overrides (the
``jupyter-book`` command cannot pass overrides; jupyter-book issue 1791). A translated edition
overrides only ``language``, ``locale_dirs`` (the catalogs in ``locales/``), its title, and
adds ``translated_edition`` (figures with translated labels, a report of what is untranslated).

Layout of ``_build/``:

    html/            the English edition, and html/ja/ the Japanese one (a copy of ja/html/)
    .jupyter_cache/  the executed chapters        figures/     each figure the chapters displayed
    ja/              the Japanese edition's own build: html/, doctrees, outputs, translated figures,
                     translation-report.json (what the edition shows untranslated)
    gettext/pot/     the .pot catalogs that ``make i18n-update`` merges into locales/

(Sphinx extensions expect a build's notebook outputs beside its HTML folder, in
``<html>/../jupyter_execute``; so each translation is built in ``_build/<lang>/html`` and then
copied to ``_build/html/<lang>``, the address readers use.)

The chapters are executed once per build, by the English edition (the cache is emptied
first, so every build runs every chapter). The translated editions read the same executed
notebooks from the cache: their code cells and outputs are the English ones, byte for byte.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
LOCALES = ROOT / "locales"
CACHE = BUILD / ".jupyter_cache"
FIGURES = BUILD / "figures"
TRANSLATIONS = ("ja",)  # every edition besides English; each has locales/<lang>/edition.yml


def html_dir(lang):
    """Where readers find an edition."""
    return BUILD / "html" if lang == "en" else BUILD / "html" / lang


def build_dir(lang):
    """Where Sphinx builds an edition."""
    return BUILD / "html" if lang == "en" else BUILD / lang / "html"


def edition(lang):
    """The settings of a translated edition that are not page translations (locales/<lang>/edition.yml)."""
    return yaml.safe_load((LOCALES / lang / "edition.yml").read_text(encoding="utf-8"))


def overrides(lang, builder="html"):
    """The Sphinx configuration values that differ from what Jupyter Book derives from _config.yml."""
    from jupyter_book.config import get_final_config

    base, _ = get_final_config(user_yaml=ROOT / "_config.yml", cli_config={"latex_individualpages": False},
                               sourcedir=ROOT)
    values = {
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nb_execution_mode": "cache",          # executed once (English build), read by the other editions
        "nb_execution_cache_path": str(CACHE),
        "gettext_compact": False,              # one catalog per page: locales/<lang>/LC_MESSAGES/book/<page>.po
        "gettext_location": False,             # no line numbers: an edit elsewhere does not touch a catalog
        "gettext_uuid": False,
        "locale_dirs": [str(LOCALES)],
    }
    if builder == "gettext":  # the figures' strings: figures.pot
        values.update({
            "extensions": [*base["extensions"], "translated_edition"],
            "translated_edition_figures": str(FIGURES),
        })
    if lang != "en":
        settings = edition(lang)
        values.update({
            "language": lang,
            "html_title": settings["title"],
            "html_theme_options": {"search_bar_text": settings["search_bar_text"]},
            "extensions": [*base["extensions"], "translated_edition"],
            "translated_edition_dir": str(BUILD / lang),
            "translated_edition_figures": str(FIGURES),
            "translated_edition_figure_po": str(LOCALES / lang / "LC_MESSAGES" / "figures.po"),
            "translated_edition_english_outputs": str(BUILD / "jupyter_execute"),
        })
    return values


def build(lang="en", *, strict=False, builder="html", jobs=1, quiet=False):
    """Build one edition (or the catalogs, builder="gettext"); return Sphinx's status (0: success)."""
    from jupyter_book.sphinx import build_sphinx

    if builder == "gettext":
        outdir, doctrees = BUILD / "gettext" / "pot", BUILD / "gettext" / ".doctrees"
    elif lang == "en":
        outdir, doctrees = html_dir("en"), BUILD / ".doctrees"
    else:
        outdir, doctrees = build_dir(lang), BUILD / lang / ".doctrees"
    if builder == "html" and lang == "en":  # run every chapter: an empty cache, and no figure left over
        shutil.rmtree(CACHE, ignore_errors=True)
        shutil.rmtree(FIGURES, ignore_errors=True)
        from jupyter_cache import get_cache  # create the cache's database now: pages read in parallel (-j)
        get_cache(str(CACHE)).db             # would race to create it ("table nbproject already exists")
    os.environ["BOOK_FIGURE_CAPTURE"] = str(FIGURES)  # read by the kernels (tools/ipython_kernel_config.py)
    os.environ["BOOK_TOOLS"] = str(ROOT / "tools")
    print(f"\n=== {'catalogs (gettext)' if builder == 'gettext' else f'{lang} edition'} -> "
          f"{outdir.relative_to(ROOT)}", flush=True)
    started = time.perf_counter()
    result = build_sphinx(
        ROOT, outdir, noconfig=True, path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides(lang, builder), doctreedir=doctrees, builder=builder,
        freshenv=True, force_all=True, warningiserror=strict, keep_going=strict, jobs=jobs, quiet=quiet,
    )
    status = 1 if isinstance(result, Exception) else result
    if status == 0 and builder == "html" and lang != "en":
        shutil.rmtree(html_dir(lang), ignore_errors=True)
        shutil.copytree(build_dir(lang), html_dir(lang))
    print(f"=== {lang if builder == 'html' else builder}: {'ok' if status == 0 else 'FAILED'} "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=["all", "en", *TRANSLATIONS], default="all",
                        help="which edition to build (default: all; a translation alone reuses the last execution)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors, and report them all")
    parser.add_argument("--builder", choices=["html", "gettext"], default="html")
    parser.add_argument("-j", "--jobs", default="1",
                        help="Sphinx processes reading (and so executing) pages: a number, or auto (one per core)")
    args = parser.parse_args(argv)
    args.jobs = (os.cpu_count() or 1) if args.jobs == "auto" else int(args.jobs)
    if args.builder == "gettext":
        return build("en", builder="gettext", strict=args.strict, jobs=args.jobs)
    langs = ["en", *TRANSLATIONS] if args.lang == "all" else [args.lang]
    for lang in langs:
        if build(lang, strict=args.strict, jobs=args.jobs):
            return 1
    print()
    for lang in langs:
        print(f"The {'English' if lang == 'en' else edition(lang)['name']} edition is at: "
              f"file://{html_dir(lang) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
