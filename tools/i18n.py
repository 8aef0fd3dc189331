"""The translation catalogs of the book: extract, merge, status, and the checks of a translation.

    python tools/i18n.py update [--lang ja]            # make i18n-update
    python tools/i18n.py status [--lang ja] [-v] [PAGE ...]   # make i18n-status
    python tools/i18n.py check [--lang ja]             # make i18n-check: translations keep their markup

``update`` re-extracts every message of the English book (``_build/gettext/pot/``: one .pot per
page, Sphinx's gettext builder, reading the executed chapters from the cache of the last build)
and the strings its figures draw (``figures.pot``), then merges them into
``locales/<lang>/LC_MESSAGES/`` with sphinx-intl's catalog functions: a new message arrives
untranslated, a message whose English changed keeps its old translation marked *fuzzy* with
the old English beside it (``#| msgid``), a message that disappeared becomes obsolete (``#~``).

``status`` extracts again (without touching ``locales/``) and prints, per page, how many
messages are translated, fuzzy (stale: the English changed), untranslated, or new (not yet
merged: run ``update``). ``-v`` or page names list those messages.

``check`` holds every translated message to the markup of its English (``markup_problems``):
the same roles with the same targets, the same inline math and code, every number; a display
formula (a message only when its ``\\text{...}`` holds English words) keeps all but those words.
"""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book  # noqa: E402

ROOT, BUILD, LOCALES = book.ROOT, book.BUILD, book.LOCALES
POT = BUILD / "gettext" / "pot"
FIGURES_DOMAIN = "figures"  # figures.po: the strings the figures draw, every page's
# The words of the pages' furniture that Sphinx's and the themes' own catalogs lack (tools/translated_edition.py).
INTERFACE_DOMAINS = ("sphinx", "booktheme")


# ------------------------------------------------------------------------------------------
# Pages and catalogs


def toc_pages():
    """The pages of _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]


def po_path(lang, domain):
    return LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"


def read(path):
    """A .po/.pot file as a babel Catalog (an empty one when the file does not exist).

    Babel writes a fuzzy message's previous English (``#| msgid``) but does not read it back;
    here it is read, so that an update keeps it and ``status`` can show it.
    """
    from babel.messages.catalog import Catalog
    from sphinx_intl.catalog import load_po

    if not Path(path).exists():
        return Catalog()
    catalog = load_po(str(path))
    for msgid, previous in previous_ids(path).items():
        message = catalog.get(msgid)
        if message is not None and message.fuzzy:
            message.previous_id = [previous]
    return catalog


def previous_ids(path):
    """msgid -> the previous msgid of each ``#| msgid`` comment in a .po file."""
    from babel.messages.pofile import unescape

    found, comment, lines = {}, [], Path(path).read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#| "):
            comment.append(line[3:])
        elif line.startswith("msgid ") and comment:
            text = " ".join(comment)  # babel wraps the comment like prose, at spaces
            current = [line[6:]]
            while i + 1 < len(lines) and lines[i + 1].startswith('"'):
                i += 1
                current.append(lines[i])
            if text.startswith("msgid "):
                previous = "".join(unescape(q) for q in re.findall(r'"(?:[^"\\]|\\.)*"', text[6:]))
                found["".join(unescape(q) for q in current)] = previous
            comment = []
        elif not line.startswith("#"):
            comment = []
        i += 1
    return found


def entries(catalog):
    """msgid -> Message, without the header."""
    return {m.id: m for m in catalog if m.id}


def is_done(message):
    return bool(message is not None and message.string and not message.fuzzy)


# ------------------------------------------------------------------------------------------
# Extraction


def extract():
    """Write _build/gettext/pot/: one .pot per page, and figures.pot (tools/translated_edition.py)."""
    if book.build("en", builder="gettext", quiet=True):  # Sphinx's warnings still show
        raise SystemExit("extracting the messages failed (see the Sphinx output above)")


def pot_files():
    return sorted(POT.rglob("*.pot"))


def domain_of(pot):
    return pot.relative_to(POT).with_suffix("").as_posix()


# ------------------------------------------------------------------------------------------
# What a built edition shows untranslated (tools/translated_edition.py writes the report)


def report_path(lang):
    return BUILD / lang / "translation-report.json"


def read_report(lang):
    import json

    return json.loads(report_path(lang).read_text(encoding="utf-8"))


def why_untranslated(message):
    if message is None:
        return "not in the catalog yet (run `make i18n-update`)"
    if message.fuzzy:
        return "fuzzy: the English changed since it was translated"
    return "untranslated"


def edition_gaps(lang, page, report):
    """[(why, msgid)] for each message the built edition shows in English on ``page``, figures included."""
    if page not in report["pages"]:
        return [("the page is not in the built edition", page)]
    catalog = entries(read(po_path(lang, page)))
    figures = entries(read(po_path(lang, FIGURES_DOMAIN)))
    built = report["pages"][page]
    gaps = []
    for msgid in built["untranslated"]:
        message = catalog.get(msgid)
        if not (is_done(message) and message.string == msgid):  # translated as itself: nothing to do
            gaps.append((why_untranslated(message), msgid))
    for msgid, translated in built["figure_strings"].items():
        if not translated:
            gaps.append((f"{why_untranslated(figures.get(msgid))}, in a figure (figures.po)", msgid))
    return gaps


# ------------------------------------------------------------------------------------------
# update: merge the fresh .pot into the .po of a language


def update(lang):
    from sphinx_intl.catalog import dump_po, update_with_fuzzy

    for pot in pot_files():
        domain = domain_of(pot)
        template, path = read(pot), po_path(lang, domain)
        if path.exists():
            catalog = read(path)
            before = {m.id: (m.string, m.fuzzy) for m in catalog if m.id}
            update_with_fuzzy(catalog, template)  # babel: changed English -> fuzzy, with the previous msgid
            after = {m.id: (m.string, m.fuzzy) for m in catalog if m.id}
            if before == after and not catalog.obsolete:
                continue
            verb = "updated"
        else:
            catalog, verb = template, "created"
            catalog.locale = lang
        dump_po(str(path), catalog, width=0, include_previous=True)
        print(f"{verb} {path.relative_to(ROOT)}")


# ------------------------------------------------------------------------------------------
# status


def page_status(lang, domain):
    """Counts and messages of one catalog, the fresh .pot against the language's .po."""
    template, current = entries(read(POT / f"{domain}.pot")), entries(read(po_path(lang, domain)))
    rows = {"translated": [], "fuzzy": [], "untranslated": [], "new": []}
    for msgid in template:
        message = current.get(msgid)
        if message is None:
            rows["new"].append(msgid)
        elif message.fuzzy:
            rows["fuzzy"].append(msgid)
        elif message.string:
            rows["translated"].append(msgid)
        else:
            rows["untranslated"].append(msgid)
    return rows


def status(lang, pages=(), verbose=False):
    domains = [d for d in (domain_of(p) for p in pot_files()) if not pages or d in pages]
    order = {page: i for i, page in enumerate([*toc_pages(), FIGURES_DOMAIN])}
    domains.sort(key=lambda d: order.get(d, len(order)))
    print(f"{'catalog (' + lang + ')':34} {'messages':>8} {'translated':>10} {'fuzzy':>6} "
          f"{'untranslated':>12} {'new':>5}")
    totals = Counter()
    for domain in domains:
        rows = page_status(lang, domain)
        counts = {k: len(v) for k, v in rows.items()}
        total = sum(counts.values())
        totals.update(counts)
        totals["messages"] += total
        mark = "" if counts["translated"] == total else "  <-"
        print(f"{domain:34} {total:8} {counts['translated']:10} {counts['fuzzy']:6} "
              f"{counts['untranslated']:12} {counts['new']:5}{mark}")
        if verbose or pages:
            current = entries(read(po_path(lang, domain)))
            for kind in ("fuzzy", "untranslated", "new"):
                for msgid in rows[kind]:
                    print(f"    {kind}: {shorten(msgid)}")
                    previous = getattr(current.get(msgid), "previous_id", None)
                    if kind == "fuzzy" and previous:
                        print(f"      was: {shorten(previous if isinstance(previous, str) else previous[0])}")
    print(f"{'all':34} {totals['messages']:8} {totals['translated']:10} {totals['fuzzy']:6} "
          f"{totals['untranslated']:12} {totals['new']:5}")
    if totals["new"]:
        print("\n'new' messages are not in the catalogs yet: run `make i18n-update`.")
    return 0


def shorten(text, width=110):
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# ------------------------------------------------------------------------------------------
# check: a translation keeps the markup of its English

ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
CODE = re.compile(r"``([^`]+)``|`([^`]+)`")
MATH = re.compile(r"(?<![\\$])\$([^$]+)\$")
TEXT_IN_MATH = re.compile(r"\\text\{[^{}]*\}")  # words inside a formula may be translated
SUBSTITUTION = re.compile(r"\{\{\s*([\w-]+)\s*\}\}")
LINK = re.compile(r"\]\(([^)\s]+)\)")
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[0-9]+(?:[.,][0-9]+)*%?")  # 2 in "りんご2個" too
# Roles whose text a translation may change as long as the target stays: {term}`text <target>`.
RETITLED = {"term", "doc", "ref", "numref"}


def role_target(role, content):
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, re.S)
    if role in RETITLED and match:
        return match.group(2).strip()
    return content.strip()


def markup(text):
    """What a translation must keep: roles (with targets), inline code, math, substitutions, links, numbers."""
    roles = Counter((role, role_target(role, content)) for role, content in ROLE.findall(text))
    rest = ROLE.sub(" ", text)
    code = Counter(a or b for a, b in CODE.findall(rest))
    rest = CODE.sub(" ", rest)
    subs = Counter(SUBSTITUTION.findall(rest))
    rest = SUBSTITUTION.sub(" ", rest)
    maths = Counter(TEXT_IN_MATH.sub(r"\\text{…}", m.strip()) for m in MATH.findall(rest))
    rest = MATH.sub(" ", rest)
    links = Counter(LINK.findall(rest))
    numbers = Counter(NUMBER.findall(rest))
    return {"roles": roles, "code": code, "math": maths, "substitutions": subs, "links": links,
            "numbers": numbers}


def is_formula(msgid):
    """A display formula that is a message (tools/book_extras.py): LaTeX, not prose with inline math."""
    latex = CODE.sub(" ", ROLE.sub(" ", msgid))  # prose may quote LaTeX as inline code
    return "$" not in msgid and bool(re.search(r"\\[A-Za-z]+", latex)) and bool(TEXT_IN_MATH.search(latex))


def formula_problems(msgid, msgstr):
    """A formula's translation changes only the words inside its ``\\text{...}``."""
    outside = TEXT_IN_MATH.sub(r"\\text{…}", msgid)
    if TEXT_IN_MATH.sub(r"\\text{…}", msgstr) != outside:
        return ["formula: the math outside \\text{...} must be copied character for character"]
    return []


def markup_problems(msgid, msgstr):
    """Why ``msgstr`` does not keep the markup of ``msgid`` (empty: it does).

    Roles, substitutions and links must be the same, each as many times ({term}, {doc}, {ref}
    and {numref} may show a translated text, ``{term}`連鎖律 <chain rule>```, but keep the
    target). Every formula, inline code and number of the English appears in the translation
    (a formula may translate the words of its ``\\text{...}``); a translation may add some, to
    quote a source note or to write "five" as 5. A display formula (``is_formula``) keeps
    everything outside its ``\\text{...}`` character for character.
    """
    if is_formula(msgid):
        return formula_problems(msgid, msgstr)
    source, target = markup(msgid), markup(msgstr)
    problems = []
    for kind in ("roles", "substitutions", "links"):
        lost, added = source[kind] - target[kind], target[kind] - source[kind]
        if lost or added:
            problems.append(f"{kind}: lost {fmt(lost)}, added {fmt(added)}" if added and lost
                            else f"{kind}: lost {fmt(lost)}" if lost else f"{kind}: added {fmt(added)}")
    for kind in ("math", "code", "numbers"):
        lost = source[kind] - target[kind]
        if lost:
            problems.append(f"{kind}: lost {fmt(lost)}")
    if msgid.startswith("\n") != msgstr.startswith("\n") or msgid.endswith("\n") != msgstr.endswith("\n"):
        problems.append("leading/trailing newlines differ")
    return problems


def fmt(counter):
    return ", ".join(f"{k!r}" + (f" x{n}" if n > 1 else "") for k, n in counter.items())


def catalogs(lang):
    return sorted((LOCALES / lang / "LC_MESSAGES").rglob("*.po"))


def check(lang):
    problems = 0
    for path in catalogs(lang):
        for message in entries(read(path)).values():
            if not message.string:
                continue
            for problem in markup_problems(message.id, message.string):
                problems += 1
                print(f"{path.relative_to(ROOT)}: {problem}\n    msgid:  {shorten(message.id)}\n"
                      f"    msgstr: {shorten(message.string)}")
    print(f"{problems} problem(s) in {len(catalogs(lang))} catalogs of {lang}")
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["update", "status", "check"])
    parser.add_argument("pages", nargs="*", help="status: only these catalogs (book/chain_rule, figures)")
    parser.add_argument("--lang", default="ja", choices=book.TRANSLATIONS)
    parser.add_argument("-v", "--verbose", action="store_true", help="status: list every message not done")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.lang)
    extract()
    if args.command == "update":
        update(args.lang)
    return status(args.lang, args.pages, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
