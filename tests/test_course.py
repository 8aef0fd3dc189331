"""The course kit, end to end: generate, submit, autograde, export (course/README.md's commands).

One temporary course directory is built with `tools/course.py` (what `make course` runs). Into its
`submitted/` go, for every assignment, the reference solution, the untouched student notebook,
and realistic wrong submissions (each a small edit of the reference solution); then ONE
`nbgrader autograde "*"` grades them all and `nbgrader export` writes the grades per question.
Under pytest-xdist the two workers share that one run (a file lock; the second worker waits).
"""

import csv
import fcntl
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402  (tools/course.py)

ASSIGNMENTS = course.assignment_names()


@dataclass
class Wrong:
    """A wrong submission: ``edits`` of the reference solution's answer cells, the questions that must fail."""

    student: str
    assignment: str
    edits: dict              # answer cell grade_id -> [(old, new), ...]
    failing: dict            # test cell grade_id that must score 0 -> what its output must say (a verdict);
                             # every other question gets full marks
    why: str = field(default="", repr=False)

    def __post_init__(self):
        self.student = f"{self.assignment.split('_')[0]}-{self.student}"   # one student per wrong submission


WRONG = [
    Wrong("forgot-dout", "a1_graphs", {"q1_cube_answer": [("return dout * 3 * self.x ** 2", "return 3 * self.x ** 2")]},
          {"q1_cube": "first wrong entry dx"}, "the local derivative alone, not times dout"),
    Wrong("forgot-fan-out-sum", "a1_graphs",
          {"q3_fan_out_answer": [("return f, dx_from_add + dx_from_mul, dy", "return f, dx_from_mul, dy")]},
          {"q3_fan_out": "first wrong entry grad_f(x)[0]"}, "x feeds two nodes; only one path's share kept"),
    Wrong("forward-difference", "a2_gradient_checker",
          {"q1_central_answer": [("grad[i] = (f_plus - f_minus) / (2 * h)", "grad[i] = (f_plus - f(x)) / h")]},
          {"q1_central": "first wrong entry", "q3_check": "a right gradient failed"},
          "a one-sided difference: error of order h; the check built on it then rejects right gradients"),
    Wrong("no-floor", "a2_gradient_checker",
          {"q2_relative_error_answer": [("np.maximum(np.abs(a) + np.abs(b), floor)", "(np.abs(a) + np.abs(b))")]},
          {"q2_relative_error": "is nan, expected 0.0"}, "0/0 for entries that are both zero"),
    Wrong("transposed-grad-W", "a3_matrix_gradients",
          {"q1_linear_answer": [("self.grad_W = self.x.T @ dout", "self.grad_W = dout.T @ self.x")]},
          {"q1_linear": "it is transposed"}, "the issue's transposed matrix gradient"),
    Wrong("missing-1-over-n", "a3_matrix_gradients", {"q3_network_answer": [("dU2 = (U2 - T) / n", "dU2 = U2 - T")]},
          {"q3_network": "first wrong entry"}, "the loss averages over the minibatch; the gradient must too"),
    Wrong("softmax-without-max-shift", "a4_softmax_training",
          {"q1_softmax_answer": [("shifted = U - U.max(axis=1, keepdims=True)", "shifted = U")]},
          {"q1_softmax": "shifted by its maximum", "q2_cross_entropy": "the loss of large logits is nan"},
          "overflow for large logits, in the softmax and in the loss built on it"),
    Wrong("missing-1-over-n", "a4_softmax_training", {"q2_cross_entropy_answer": [("return dU / n", "return dU")]},
          {"q2_cross_entropy": "first wrong entry"}, "(P - T) without the 1/n of the mean loss"),
    Wrong("sign-flipped", "a5_autodiff_ops",
          {"q1_sin_answer": [("return (dout * np.cos(t.data),)", "return (-dout * np.cos(t.data),)")]},
          {"q1_sin": "the sign is flipped"}, "the derivative of cos taken for that of sin"),
    Wrong("logsumexp-without-max-shift", "a5_autodiff_ops",
          {"q3_logsumexp_answer": [("m = t.data.max(axis=1, keepdims=True)", "m = np.zeros((len(t.data), 1))")]},
          {"q3_logsumexp": "contains NaN or infinity"}, "exp(1000) overflows"),
    Wrong("variance-over-n-1", "a6_batchnorm",
          {"q1_forward_answer": [("np.mean(centred ** 2, axis=0)", "np.var(x, axis=0, ddof=1)")]},
          {"q1_forward": "the variance divides by n"}, "the unbiased variance where batch normalisation uses the minibatch's"),
    Wrong("missing-1-over-n", "a6_batchnorm",
          {"q2_backward_answer": [("return self.inv_std / n * (", "return self.inv_std * (")]},
          {"q2_backward": "first wrong entry dx"}, "the compact formula without its 1/n"),
    Wrong("overwritten-window-share", "a7_conv_backward",
          {"q1_conv1d_answer": [("dx[a:a + k] += g[a] * w", "dx[a:a + k] = g[a] * w")]},
          {"q1_conv1d": "first wrong entry"}, "a pixel in several windows keeps only the last window's share"),
    Wrong("overwritten-pixel-share", "a7_conv_backward",
          {"q2_conv2d_answer": [("dx_pad[:, :, rows, cols] += np.einsum", "dx_pad[:, :, rows, cols] = np.einsum")]},
          {"q2_conv2d": "first wrong entry dx"}, "overlapping windows: = where += is needed"),
    Wrong("missing-share-of-dx", "a8_attention",
          {"q2_attention_answer": [("return dQ @ self.W_q.T + dK @ self.W_k.T + dV @ self.W_v.T",
                                    "return dQ @ self.W_q.T + dV @ self.W_v.T")]},
          {"q2_attention": "first wrong entry dx"}, "x feeds three projections; the keys' share forgotten"),
    Wrong("unscaled-queries", "a8_attention",
          {"q2_attention_answer": [("dQ = dE @ self.K * scale", "dQ = dE @ self.K")]},
          {"q2_attention": "first wrong entry dx"}, "the 1/sqrt(d) of the scores left out of dQ"),
]


# The commands course/README.md gives a teacher, run as given (in the course directory).
GRADING = [
    'nbgrader autograde "*"',                                                      # every submission
    "nbgrader export --exporter=grade_export.PerQuestionCsv --to=grades_per_question.csv",
    "nbgrader export --to=grades.csv",                                             # a total per submission
]


def grader(name):
    return course.grader_notebook(name)


def questions(name):
    """{test cell grade_id: points} of an assignment."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
            for cell in grader(name).cells if cell.metadata.get("nbgrader", {}).get("grade")}


def reference_answers(name):
    """{answer cell grade_id: the reference solution, markers removed}."""
    return {cell.metadata["nbgrader"]["grade_id"]:
            "\n".join(line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                      and "### END SOLUTION" not in line)
            for cell in grader(name).cells if cell.metadata.get("nbgrader", {}).get("solution")}


def submission(release, name, edits=None):
    """The student version with every answer cell filled in with the reference solution, then edited."""
    nb = nbformat.read(release, as_version=4)
    answers = reference_answers(name)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            source = answers[grade_id]
            for old, new in (edits or {}).get(grade_id, []):
                assert old in source, f"{name}: the wrong submission's edit no longer applies: {old!r} not in {grade_id}"
                source = source.replace(old, new)
            cell.source = source
    return nb


def nbgrader(root, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                          env=course.venv_env())
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


def grade_everything(root):
    course.build(root)
    for name in ASSIGNMENTS:
        release = root / "release" / name / f"{name}.ipynb"
        students = {"reference": submission(release, name), "untouched": nbformat.read(release, as_version=4)}
        students.update({w.student: submission(release, name, w.edits) for w in WRONG if w.assignment == name})
        for student, nb in students.items():
            target = root / "submitted" / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    for command in GRADING:
        nbgrader(root, *shlex.split(command)[1:])
    (root / "done").write_text("ok")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The graded course directory; built once per test run, shared by the xdist workers."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.getbasetemp().parent / "course-kit"   # the run's directory, shared by the workers
    else:
        root = tmp_path_factory.mktemp("course-kit")
    with open(str(root) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            grade_everything(root)
    return root


@pytest.fixture(scope="module")
def scores(graded):
    """{(assignment, student): {question: (points, max_points)}} from the per-question export."""
    table = {}
    with open(graded / "grades_per_question.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["assignment"], row["student_id"])
            table.setdefault(key, {})[row["question"]] = (float(row["points"]), float(row["max_points"]))
    return table


def test_the_readme_gives_the_commands_these_tests_run():
    readme = (ROOT / "course" / "README.md").read_text()
    for command in GRADING + ["make course", "source .venv/bin/activate"]:
        assert command in readme, command


def test_the_kit_has_an_assignment_for_each_part():
    assert len(ASSIGNMENTS) >= 7
    assert [name[:3] for name in ASSIGNMENTS] == [f"a{k}_" for k in range(1, len(ASSIGNMENTS) + 1)]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_question_has_points_a_solution_and_a_hidden_test(name):
    nb = grader(name)
    graded = questions(name)
    assert graded and all(points > 0 for points in graded.values())
    answers = reference_answers(name)
    assert {q + "_answer" for q in graded} == set(answers), "each question qN_x has one answer cell qN_x_answer"
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden test"
            assert cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].strip()
    imports = {line.split()[1] for cell in nb.cells if cell.cell_type == "code"
               for line in cell.source.splitlines() if re.match(r"(import|from) ", line)}
    assert imports <= {"numpy", "companion"}, f"{name}: students would need {imports - {'numpy', 'companion'}}"
    hidden = "\n".join(course.hidden_lines(nb))   # gradients are graded by companion.checks: verdicts, not tracebacks
    assert re.search(r"check_(layer|gradient|answer)\(|check_\w+\(", hidden), f"{name}: no companion.checks call"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_versions_hold_no_solution_and_no_hidden_test(graded, name):
    student = (graded / "release" / name / f"{name}.ipynb").read_text()
    for marker in course.MARKERS:
        assert marker not in student
    nb = nbformat.read(graded / "release" / name / f"{name}.ipynb", as_version=4)
    assert course.leaks(grader(name), nb) == []
    cells = "\n".join(cell.source for cell in nb.cells)
    for line in course.hidden_lines(grader(name)):
        assert line not in cells, f"hidden test line shown to students: {line!r}"
    stubs = sum(cell.source.count("### BEGIN SOLUTION") for cell in grader(name).cells)
    assert cells.count("# YOUR CODE HERE\nraise NotImplementedError()") + \
        len(re.findall(r"# YOUR CODE HERE\n\s+raise NotImplementedError\(\)", cells)) >= stubs


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_reference_solution_scores_full_marks(scores, name):
    got = scores[(name, "reference")]
    assert {q: p for q, (p, _) in got.items() if q != "total"} == questions(name)
    assert got["total"][0] == got["total"][1] == sum(questions(name).values())


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_untouched_student_notebook_scores_zero_and_grading_goes_on(graded, scores, name):
    got = scores[(name, "untouched")]
    assert got["total"] == (0.0, sum(questions(name).values()))
    nb = nbformat.read(graded / "autograded" / "untouched" / name / f"{name}.ipynb", as_version=4)
    outputs = "\n".join(str(out) for cell in nb.cells for out in cell.get("outputs", []))
    assert "NotImplementedError" in outputs   # the stub ran, was reported, and every test cell still ran


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: f"{w.assignment}-{w.student}")
def test_a_wrong_submission_loses_exactly_the_questions_it_gets_wrong(graded, scores, wrong):
    got = scores[(wrong.assignment, wrong.student)]
    expected = {q: (0.0 if q in wrong.failing else points) for q, points in questions(wrong.assignment).items()}
    assert {q: p for q, (p, _) in got.items() if q != "total"} == expected
    assert 0 < got["total"][0] < got["total"][1]   # partial marks
    nb = nbformat.read(graded / "autograded" / wrong.student / wrong.assignment / f"{wrong.assignment}.ipynb",
                       as_version=4)
    for cell in nb.cells:
        question = cell.metadata.get("nbgrader", {}).get("grade_id")
        if question in wrong.failing:   # the grader's feedback says what is wrong, in words
            shown = "\n".join(out.get("text", "") + out.get("evalue", "") for out in cell.outputs)
            assert wrong.failing[question] in shown, f"{question}: {shown[-1500:]}"


def test_the_grade_export_lists_every_submission_with_its_points_per_question(graded, scores):
    submitted = {(p.parent.name, p.parent.parent.name) for p in graded.glob("submitted/*/*/*.ipynb")}
    assert set(scores) == submitted
    assert len(submitted) == len(ASSIGNMENTS) * 2 + len(WRONG)
    for (name, student), got in scores.items():
        assert set(got) == set(questions(name)) | {"total"}
        assert got["total"][0] == pytest.approx(sum(p for q, (p, _) in got.items() if q != "total"))
    with open(graded / "grades.csv", newline="") as fh:   # nbgrader's own export: a total per submission
        totals = {(row["assignment"], row["student_id"]): float(row["raw_score"] or 0) for row in csv.DictReader(fh)}
    for key, got in scores.items():
        assert totals[key] == got["total"][0]


def test_every_chapter_with_an_assignment_names_it_in_its_exercises():
    """The one sentence each chapter's Exercises section has, naming an assignment that exists."""
    named = {}
    for page in (ROOT / "book").glob("*.md"):
        text = page.read_text()
        if "## Exercises" in text:
            found = re.findall(r"[Aa]ssignment (\d+) of the course kit", text.split("## Exercises", 1)[1])
            if found:
                named[page.stem] = found
    assert named, "no chapter names an assignment of the course kit"
    numbers = {name[1:name.index("_")] for name in ASSIGNMENTS}
    for page, found in named.items():
        assert len(found) == 1 and found[0] in numbers, (page, found)
    missing = numbers - {n for found in named.values() for n in found}
    assert not missing, (f"no chapter names assignment(s) {sorted(missing)}: add the sentence 'Assignment N of the "
                         f"course kit for teachers (`course/README.md`) covers this chapter.' to the top of its Exercises")

