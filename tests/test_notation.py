"""The notation contract: every page of the book uses the symbols of book/notation.md.

``book/notation.md`` has a table "Reserved symbols": one row per symbol, what it means and
what it is never used for. This test reads that table and holds every page of ``_toc.yml``
(chapters, preface, glossary, errata, notation) to it with the rules below. Each rule
names the symbol whose row it enforces and a pattern that, found in a page, is a clash
the book once had or could easily have again: a target written $y$, a sum whose upper
limit is a lowercase letter (a partial sum), $\\varepsilon$ for a step, $U$ as a weight
matrix, "row sums" for an axis-0 sum, and so on. A failure names the page, the line, the
text found and the reserved meaning it clashes with.

Where the rules look:
- math (``$...$``, ``$$...$$``) after ``\\text{...}``-like contents are blanked, for
  ``where="math"`` rules; the prose of a line (code spans blanked) for ``where="prose"``;
  inline code spans for ``where="code"``. Code cells and code blocks are not read.
- ``erratum_ok`` rules do not apply inside an ``{admonition} Erratum`` box nor in the errata
  table's "what the note says" column: there the book quotes a source note in its own letters.
- ``after_part_1`` rules do not apply to the chapters of Part I, whose generic scalar
  examples ($x$, $y$, $z = f(x, y)$) keep their letters.
- the rows of the notation page's own "Reserved symbols" table, which spell out what is
  never done, are not read.

A new chapter passes by using the symbols of the notation page; a chapter that needs a new
symbol adds a row there first (and, if a misuse is easy to make, a rule here).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTATION = ROOT / "book" / "notation.md"


@dataclass(frozen=True)
class Rule:
    symbol: str        # the symbol's cell in the notation page's "Reserved symbols" table
    where: str         # "math", "prose" or "code"
    pattern: str       # a regular expression; a match is a clash
    clash: str         # what the match does wrong
    after_part_1: bool = False
    erratum_ok: bool = False


# Patterns are written against LaTeX source: \\ is one backslash in the page.
RULES = [
    # targets
    Rule("$t$, $T$", "prose", r"\btargets?\b[^.$]{0,30}\$\s*\\?(?:mathbf\{)?[yY]\b", "a target written $y$",
         erratum_ok=True),
    Rule("$t$, $T$", "math", r"(?<![\w\\])[yY]\s*(?:_|\^\s*\{?[a-z])", "an indexed $y$ (a target, probability or activation)",
         after_part_1=True, erratum_ok=True),
    Rule("$t$, $T$", "math", r"[A-Za-z})]\s*(?:_\{?[\w,]+\}?)?\s*-\s*(?:\\mathbf\{)?[yY]\b(?!\s*\^)",
         "a prediction minus $y$ (a target written $y$)", after_part_1=True, erratum_ok=True),
    Rule("$p$, $P$", "math", r"\b[yY]\s*-\s*[tT]\b", "$y - t$: probabilities are $P$, activations $Z$",
         erratum_ok=True),
    Rule("$p$, $P$", "math", r"\\log\s*[yY]\b", "$\\log y$: a probability written $y$",
         after_part_1=True, erratum_ok=True),
    Rule("$p$, $P$", "math", r"(?<![\w\\])p\s*\\leftarrow", "$p$ as a parameter being updated", erratum_ok=True),
    Rule("$p$, $P$", "prose", r"\b(?:dropout|drop|keep)\b[^.$]{0,30}probability\s*\$p\$", "$p$ as a dropout probability"),
    # classes, layer index, depth
    Rule("$C$", "math", r"\\sum_\{?\s*[a-z]\s*=\s*1\s*\}?\s*\^\s*\{?\s*(?!n\b)[a-z]\s*\}?(?![\w{])",
         "a sum whose upper limit is a lowercase letter: read literally, a partial sum (counts are $n$, $C$, $D$, $d_k$)"),
    Rule("$C$", "math", r"\bk\s*\\times\s*k\b|\\log\s*k\b|\b1\s*/\s*k\b|\\dots\s*,\s*\\?[a-zA-Z]+_\{?k\}?(?![\w{])",
         "$k$ used as the number of classes"),
    Rule("$C$", "code", r"\(\s*n\s*,\s*k\s*\)", "a shape (n, k): $k$ as the number of classes"),
    Rule("$k$", "math", r"_\{\s*(?:\d+\s*,\s*)?[a-z]*k[a-z]*\s*\}(?<=[a-z]{2}\})|_\{\s*\d+\s*,\s*k\s*\}",
         "$k$ as a unit index (units are $j$ and $l$)", erratum_ok=True),
    Rule("$D$", "math", r"(?<![\\\w])[A-Za-z]_\{?K\}?(?![\w{])|=\s*1\s*,\s*\\dots\s*,\s*K\b", "$K$ as the number of layers"),
    # indices
    Rule("$i$", "math", r"\\sum_\{?\s*s\b|_\{[^{}]*,\s*s[a-z]?\s*\}|_\{\s*s[a-z]\s*\}", "$s$ as the sample index",
         erratum_ok=True),
    # error signal, sigmoid
    Rule("$\\delta_k$", "math", r"\\delta_\{\s*[a-z]{2}\s*\}", "$\\delta$ as the Kronecker delta (write $[j = l]$)"),
    Rule("$\\sigma$", "math", r"\\sigma\s*\^\s*\{?\s*2", "$\\sigma^2$: $\\sigma$ as a standard deviation"),
    # steps and small constants
    Rule("$\\varepsilon_{\\text{mach}}$", "math", r"\\varepsilon(?!\s*_\s*\{\s*\\text\s*\{)",
         "$\\varepsilon$ without the subscript mach (a step, a delta or a constant)", erratum_ok=True),
    Rule("$h$", "math", r"(?<![\\\w])[a-z]\s*(?:[+-]|\\pm)\s*\\epsilon\b|\b2\s*\\epsilon\b|\\epsilon\s*\^|\\epsilon\s*=\s*10",
         "$\\epsilon$ as the step of a finite difference"),
    Rule("$h$", "prose", r"\b(?:within|step)\b[^.$]{0,20}\$\\epsilon\$", "$\\epsilon$ as the step of a finite difference"),
    Rule("$h$", "math", r"(?<![\w\\])h\s*\\leftarrow|\\sqrt\s*\{\s*h\s*\}|(?<![\w\\])h_\{?\s*(?:t|\\tau)\b",
         "$h$ for something other than the step (an accumulator, a hidden state)"),
    Rule("$h$", "prose", r"\b(?:hidden state|height)s?\b[^.$]{0,15}\$h\b", "$h$ as a hidden state or an image height"),
    # pre-activations and weights
    Rule("$u$, $U$", "math", r"(?<![\w\\])U\s*(?:\^\s*\{?\s*(?:\\top|[a-z])|\{\}|x\b|\\,\s*x\b)",
         "$U$ as a weight matrix (weights are $W$)", erratum_ok=True),
    Rule("$u$, $U$", "prose", r"\bweights?\b[^.$]{0,20}\$U\$", "$U$ as a weight matrix (weights are $W$)", erratum_ok=True),
    # time and sequences
    Rule("$t$, $T$", "math", r"(?<![\w\\])(?:t\s*=\s*1\s*,\s*(?:2|\\dots)|[a-zA-Z]_\{?\s*t\s*(?:[+-]\s*1\s*)?\}?(?![\w{]))",
         "$t$ as a step or time index"),
    Rule("$t$, $T$", "math", r"\\beta_?\{?\d?\}?\s*\^\s*\{?\s*t\b", "$t$ as a step count"),
    Rule("$t$, $T$", "prose", r"\b(?:sequence length|time step|timestep)s?\b\s*\$[tT]\$", "$t$ or $T$ for time"),
    Rule("$W$", "math", r"H\s*\\times\s*W\b", "$W$ as an image width"),
    Rule("$W$", "prose", r"\bwidth\s*\$W\$", "$W$ as an image width"),
    # wording
    Rule("axis 0", "prose", r"\brow[- ]sums?\b|\bcolumn[- ]sums?\b|\\sum_\{\\text\{rows\}\}",
         "'row sums' or 'column sums' (say 'the sum over the samples (axis 0)' or 'the sum of each row (axis 1)')"),
]

PROSE_DIRECTIVES = {"admonition", "note", "warning", "tip", "important", "exercise", "solution-start",
                    "solution-end", "list-table", "glossary", "figure", "math", "margin", "sidebar", "epigraph",
                    "dropdown", "prf:theorem", "prf:definition", "prf:proof", "div"}
TEXT_COMMANDS = r"(\\(?:text|mathrm|operatorname|mathtt|textrm|textit|texttt|mbox)\s*\{)([^{}]*)\}"


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    part_1 = [entry["file"] for entry in toc["parts"][0]["chapters"]]
    pages = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [p for p in pages if not p.endswith("bibliography")], set(part_1)


PAGES, PART_1 = toc_pages()


def reserved_table():
    """{symbol cell: meaning} from the notation page's "Reserved symbols" table ({} if it has none)."""
    section = NOTATION.read_text().split("## Reserved symbols", 1)
    if len(section) < 2:
        return {}
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \|$", section[1].split("\n## ", 1)[0], re.MULTILINE)
    return {symbol: meaning for symbol, meaning, _ in rows if symbol not in ("symbol", "---")}


@dataclass
class Line:
    number: int
    text: str        # the line, code spans blanked
    code: list       # the line's inline code spans
    math: list       # math found on this line (inline, or a line of a display)
    erratum: bool    # inside an Erratum box or the errata table's quote column


def _blank(match):
    return " " * len(match.group(0))


def read_page(path):
    """The prose lines of a page, with their math and code spans, skipping code."""
    lines = path.read_text().split("\n")
    out, fences, in_display, erratum_depth = [], [], False, None
    start = 0
    if lines and lines[0] == "---":  # front matter
        start = lines.index("---", 1) + 1
    in_reserved_table = False
    for number, raw in enumerate(lines[start:], start=start + 1):
        fence = re.match(r"^\s*(`{3,}|~{3,})\s*(\{([\w:-]+)\}|[\w-]*)?(.*)$", raw)
        if fence and not in_display:
            marker, directive = fence.group(1), fence.group(3)
            if fences and fences[-1][0][0] == marker[0] and len(marker) >= len(fences[-1][0]) and not fence.group(2):
                _, prose = fences.pop()
                if erratum_depth is not None and len(fences) < erratum_depth:
                    erratum_depth = None
                continue
            prose = directive in PROSE_DIRECTIVES
            if fences and not fences[-1][1]:
                continue  # an opening fence inside code: it is code too
            fences.append((marker, prose))
            if directive == "admonition" and fence.group(4).strip() == "Erratum":
                erratum_depth = len(fences)
            continue
        if fences and not fences[-1][1]:
            continue  # inside a code cell or code block
        if raw.startswith(":") and fences:
            continue  # a directive's option line
        if path == NOTATION:
            if raw.startswith("## "):
                in_reserved_table = raw.strip() == "## Reserved symbols"
            if in_reserved_table and raw.startswith("|"):
                continue
        code = re.findall(r"`([^`]*)`", raw)
        text = re.sub(r"`[^`]*`", _blank, raw)
        math = []
        if in_display:
            body = text.split("$$")[0]
            math.append(body)
            if "$$" in text:
                in_display = False
        else:
            for block in re.findall(r"\$\$(.*?)\$\$", text):
                math.append(block)
            rest = re.sub(r"\$\$.*?\$\$", _blank, text)
            if "$$" in rest:
                math.append(rest.split("$$", 1)[1])
                in_display = True
                rest = rest.split("$$", 1)[0]
            math += re.findall(r"(?<![\\$])\$([^$]+?)\$", rest)
        erratum = erratum_depth is not None
        if path.name == "errata.md" and re.match(r"^  - ", raw) and _errata_column(lines, number - 1) == 2:
            erratum = True
        math = [re.sub(TEXT_COMMANDS, lambda m: m.group(1) + " " * len(m.group(2)) + "}", m) for m in math]
        out.append(Line(number, text, code, math, erratum))
    return out


def _errata_column(lines, index):
    """Which column (1-based) of a list-table row the line at ``index`` is."""
    column = 1
    for k in range(index, -1, -1):
        if lines[k].startswith("* - "):
            return column
        if lines[k].startswith("  - "):
            column += 1
    return 0


def clashes(page_name):
    path = ROOT / f"{page_name}.md"
    found = []
    for line in read_page(path):
        for rule in RULES:
            if rule.after_part_1 and page_name in PART_1:
                continue
            if rule.erratum_ok and line.erratum:
                continue
            haystacks = {"math": line.math, "prose": [line.text], "code": line.code}[rule.where]
            for haystack in haystacks:
                for match in re.finditer(rule.pattern, haystack):
                    found.append((line.number, match.group(0).strip(), rule))
    return found


def test_the_notation_page_reserves_every_symbol_the_rules_enforce():
    table = reserved_table()
    assert table, "book/notation.md has no table under '## Reserved symbols'"
    missing = sorted({rule.symbol for rule in RULES} - set(table))
    assert not missing, f"book/notation.md, table 'Reserved symbols': no row for {missing}"


def test_the_notation_page_states_the_contract():
    text = NOTATION.read_text()
    for phrase in ("$D$ layers", "$k = 1, \\dots, D$", "$i$", "$j$", "$l$", "$h$", "$\\varepsilon_{\\text{mach}}$",
                   "$(P - T)/n$"):
        assert phrase in text, f"book/notation.md does not say {phrase}"


@pytest.mark.parametrize("page_name", PAGES)
def test_page_follows_the_notation(page_name):
    found = clashes(page_name)
    table = reserved_table()
    report = [f"{page_name}.md:{number}: {text!r} is {rule.clash}; the notation page reserves "
              f"{rule.symbol} for: {table.get(rule.symbol, '(no row)')}" for number, text, rule in found]
    assert not report, "\n" + "\n".join(report)


def test_the_rules_catch_the_clashes_they_name():
    """Each rule against a line with the clash and a line without: a rule that cannot fail is no guard."""
    bad_and_good = [
        ("targets $y$ of shape (50, 1)", "targets $T$ of shape (50, 1)"),
        ("$y_k = e^{z_k}$", "$p_j = e^{u_j}$"),
        ("$(Z_3 - y)/n$", "$(Z_3 - T)/n$"),
        ("$(y - t)/n$", "$(P - T)/n$"),
        ("$\\log y_k$", "$\\log p_j$"),
        ("$p \\leftarrow p - \\eta g$", "$\\theta \\leftarrow \\theta - \\eta g$"),
        ("$\\sum_{j=1}^{k} e^{z_j}$", "$\\sum_{l=1}^{C} e^{u_l}$"),
        ("a $k \\times k$ Jacobian", "a $C \\times C$ Jacobian"),
        ("$U_{3,sk}$", "$(U_3)_{ij}$"),
        ("$k = 1, \\dots, K$", "$k = 1, \\dots, D$"),
        ("$\\sum_s Z_{2,sj}$", "$\\sum_i (Z_2)_{il}$"),
        ("$\\delta_{km}$", "$\\delta_2$"),
        ("$\\sigma^2$", "$\\operatorname{Var}$"),
        ("$\\varepsilon^j$", "$\\varepsilon_{\\text{mach}}$"),
        ("$h(x + \\epsilon)$", "$g(x + h)$"),
        ("$f(x - \\epsilon)$", "$g / (\\sqrt{r} + \\epsilon)$"),
        ("$h \\leftarrow h + g \\odot g$", "$r \\leftarrow r + g \\odot g$"),
        ("$U^\\top \\delta$", "$\\delta W^\\top$"),
        ("$p_{t+1}$", "$\\theta_{s+1}$"),
        ("$\\beta_1^t$", "$\\beta_1^s$"),
        ("the row sums of $U$", "the sum over the samples (axis 0)"),
    ]
    page = ROOT / "tests" / "_notation_probe.md"
    try:
        for bad, good in bad_and_good:
            page.write_text(f"# probe\n\n{bad}\n\n{good}\n")
            hits = [number for line in read_page(page) for rule in RULES
                    for hay in {"math": line.math, "prose": [line.text], "code": line.code}[rule.where]
                    if re.search(rule.pattern, hay) for number in [line.number]]
            assert 3 in hits, f"no rule catches {bad!r}"
            assert 5 not in hits, f"a rule flags the correct {good!r}"
    finally:
        page.unlink(missing_ok=True)
