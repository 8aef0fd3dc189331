"""Generate the course kit: every assignment's grader and student versions (`make course`).

    python tools/course.py                 # all assignments, into course/
    python tools/course.py a1_graphs       # one assignment
    python tools/course.py --root DIR      # into another course directory (the tests use a temporary one)

The one source of an assignment is `course/assignments/<name>.md`, a MyST-markdown notebook
(jupytext, the format of the book's chapters) whose cells carry nbgrader's metadata: solution cells
(`### BEGIN SOLUTION` ... `### END SOLUTION` inside) and test cells with points (hidden tests
between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`). For each assignment this writes

    <root>/source/<name>/<name>.ipynb    the grader version: solutions and hidden tests (nbgrader's source)
    <root>/release/<name>/<name>.ipynb   the student version: solutions replaced by a stub, hidden tests removed

(the second by `nbgrader generate_assignment`, which also records the assignment, its questions,
their points and the hidden tests in <root>/gradebook.db, for `nbgrader autograde`). It then checks
that no student version contains a solution marker or a line of a hidden test.

In the sources, a cell's metadata names only what differs from nbgrader's defaults, e.g.
`:nbgrader: {grade_id: q1_cube, solution: true}` or `{grade_id: q1_cube, grade: true, points: 2}`;
this tool fills in the rest (`locked`, `schema_version`), as nbgrader's "Create Assignment"
toolbar would.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
SOURCES = COURSE / "assignments"
CONFIG_FILES = ("nbgrader_config.py", "grade_export.py")  # what a course directory needs besides the notebooks
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def assignment_names():
    return sorted(path.stem for path in SOURCES.glob("*.md"))


def grader_notebook(name):
    """The grader version of assignment ``name``: its MyST source as a notebook with full nbgrader metadata."""
    nb = jupytext.read(SOURCES / f"{name}.md")
    nb.metadata.pop("jupytext", None)
    seen = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id")
        if not grade_id or grade_id in seen:
            raise ValueError(f"{name}: every nbgrader cell needs a unique grade_id, got {grade_id!r}")
        seen.add(grade_id)
        meta.setdefault("solution", False)
        meta.setdefault("grade", False)
        meta.setdefault("locked", not meta["solution"])
        meta.setdefault("schema_version", 3)
        if meta["grade"] and "points" not in meta:
            raise ValueError(f"{name}: test cell {grade_id!r} has no points")
        if meta["solution"] and "### BEGIN SOLUTION" not in cell.source:
            raise ValueError(f"{name}: solution cell {grade_id!r} has no ### BEGIN SOLUTION marker")
        cell.metadata["nbgrader"] = dict(sorted(meta.items()))
    return nb


def marked_lines(nb, begin, end):
    """The non-blank lines between the markers ``begin`` and ``end`` in the cells of a grader notebook."""
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def hidden_lines(nb):
    """The non-blank lines of every hidden test of a grader notebook."""
    return marked_lines(nb, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def solution_lines(nb):
    """The non-blank lines between the solution markers of a grader notebook."""
    return marked_lines(nb, "### BEGIN SOLUTION", "### END SOLUTION")


def leaks(grader, student):
    """What of the grader version shows in the student version: markers, hidden-test and solution lines.

    A line of a solution that also appears outside the solutions (a visible test calls the function
    the solution defines, say) is not a leak; such lines are left out of the comparison.
    """
    text = "\n".join(cell.source for cell in student.cells)
    found = [f"marker {marker!r}" for marker in MARKERS if marker in text]
    outside = set()
    for cell in grader.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN" in line:
                inside = True
            elif "### END" in line:
                inside = False
            elif not inside:
                outside.add(line.strip())
    student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    for kind, lines in (("hidden test", hidden_lines(grader)), ("solution", solution_lines(grader))):
        found += [f"{kind} line {line!r}" for line in lines if line in student_lines and line not in outside]
    return found


def venv_env():
    """The environment with this interpreter's bin/ first on PATH: nbgrader runs `alembic` from PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(root, *args):
    """Run `nbgrader ARGS` in the course directory ``root`` (its nbgrader_config.py applies)."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                          env=venv_env())
    if done.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def build(root=COURSE, names=None):
    """Write the grader and student versions of ``names`` (default: every assignment) under ``root``."""
    root = Path(root).resolve()
    names = names or assignment_names()
    unknown = sorted(set(names) - set(assignment_names()))
    if unknown:
        raise SystemExit(f"no source course/assignments/<name>.md for {unknown}; expected some of {assignment_names()}")
    root.mkdir(parents=True, exist_ok=True)
    if root != COURSE.resolve():
        for name in CONFIG_FILES:
            shutil.copy(COURSE / name, root / name)
    graders = {}
    for name in names:
        graders[name] = grader_notebook(name)
        target = root / "source" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(graders[name], target)
    # nbgrader records each assignment, its questions, points and hidden tests in the gradebook. Its
    # assignment id is a glob, so one run ("*") generates every assignment of source/ (a few seconds).
    for pattern in (["*"] if set(names) == set(assignment_names()) else names):
        nbgrader(root, "generate_assignment", pattern, "--force")
    for name in names:
        student = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        problems = leaks(graders[name], student)
        if problems:
            raise SystemExit(f"{name}: the student version shows what only the grader may see: {problems[:5]}")
        points = sum(cell.metadata["nbgrader"].get("points", 0) for cell in graders[name].cells
                     if cell.metadata.get("nbgrader", {}).get("grade"))
        print(f"{name}: source/{name}/{name}.ipynb (grader), release/{name}/{name}.ipynb (student), "
              f"{points:g} points")
    return graders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    parser.add_argument("--root", default=str(COURSE), help="course directory to write into (default: course/)")
    args = parser.parse_args(argv)
    build(args.root, args.names)


if __name__ == "__main__":
    main()
