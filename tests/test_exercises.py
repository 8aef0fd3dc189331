"""Every chapter listed in _toc.yml ends with 3 to 6 exercises whose solutions are hidden, executed code.

The format is the one CONTRIBUTING.md describes: an ``{exercise}`` directive with a
``:label:``, then ``{solution-start} <label>`` with ``:class: dropdown``, at least one
``{code-cell}``, and ``{solution-end}``. The preface (the root) and the back matter are
not chapters and have no exercises.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BACK_MATTER = "Back matter"
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(exercise|solution-start|solution-end|code-cell)\}\s*(.*?)\s*$")
MIN_EXERCISES, MAX_EXERCISES = 3, 6


def toc_chapters():
    """The chapter files of _toc.yml: every part's entries except the back matter's."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []
    for part in toc.get("parts", []):
        if part.get("caption") != BACK_MATTER:
            files += [entry["file"] for entry in part.get("chapters", []) if "file" in entry]
    return [ROOT / f"{name}.md" for name in files]


def directives(text):
    """[(kind, argument, options, line number)] for the exercise-related directives, in order."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        options = {}
        for option in lines[i + 1:]:
            opt = re.match(r"^:([\w-]+):\s*(.*?)\s*$", option)
            if not opt:
                break
            options[opt.group(1)] = opt.group(2)
        found.append((match.group(2), match.group(3), options, i + 1))
    return found


def exercises(text):
    """{label: (exercise line, solution-start options, start line, end line, code cells inside)}."""
    found, order, current = {}, directives(text), None
    for kind, argument, options, line in order:
        if kind == "exercise":
            label = options.get("label")
            assert label, f"line {line}: an exercise without :label:"
            assert label not in found, f"line {line}: exercise label {label} used twice"
            found[label] = {"line": line, "start": None, "end": None, "cells": 0, "options": {}}
        elif kind == "solution-start":
            assert argument in found, f"line {line}: solution-start {argument!r} before (or without) its exercise"
            assert current is None, f"line {line}: solution-start inside the solution of {current}"
            current = argument
            found[argument].update(start=line, options=options)
        elif kind == "solution-end":
            assert current is not None, f"line {line}: solution-end without solution-start"
            found[current]["end"] = line
            current = None
        elif kind == "code-cell" and current is not None:
            found[current]["cells"] += 1
    assert current is None, f"the solution of {current} has no solution-end"
    return found


CHAPTERS = toc_chapters()


def test_toc_lists_chapters():
    assert {p.stem for p in CHAPTERS} >= {"chain_rule", "computational_graphs", "local_derivatives"}
    assert all(p.exists() for p in CHAPTERS), [str(p) for p in CHAPTERS if not p.exists()]


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_3_to_6_exercises_with_hidden_executed_solutions(source):
    text = source.read_text()
    headings = re.findall(r"^## (.+?)\s*$", text, re.MULTILINE)
    assert headings and headings[-1] == "Exercises", f"{source.name}: the last section must be '## Exercises'"
    exercises_at = text.splitlines().index("## Exercises") + 1
    found = exercises(text)
    assert MIN_EXERCISES <= len(found) <= MAX_EXERCISES, f"{source.name}: {len(found)} exercises"
    for label, ex in found.items():
        assert ex["line"] > exercises_at, f"{label} is not under '## Exercises'"
        assert ex["start"] and ex["end"], f"{label} has no solution-start/solution-end pair"
        assert ex["options"].get("class") == "dropdown", f"{label}: the solution needs ':class: dropdown'"
        assert ex["cells"] >= 1, f"{label}: the solution has no code cell (solutions are executed code)"


def test_exercise_labels_are_unique_across_the_book():
    labels = [label for source in CHAPTERS for label in exercises(source.read_text())]
    assert len(labels) == len(set(labels))


def test_the_parser_catches_a_broken_exercise():
    broken = "\n".join([
        "## Exercises", "```{exercise} A", ":label: ex-a", "", "Text.", "```",
        "```{solution-start} ex-a", "```", "No code here.", "```{solution-end}", "```",
    ])
    found = exercises(broken)
    assert found["ex-a"]["cells"] == 0 and found["ex-a"]["options"] == {}
    with pytest.raises(AssertionError, match="has no solution-end"):
        exercises(broken.replace("```{solution-end}", "```{note}"))
