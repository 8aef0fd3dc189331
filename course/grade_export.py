"""Grades per question, as CSV: `nbgrader export --exporter=grade_export.PerQuestionCsv --to=FILE`.

nbgrader's own CSV export (`nbgrader export`) gives one total per student and assignment. This
exporter gives one row per submission and question, so a teacher sees which questions a class
found hard:

    assignment,student_id,timestamp,question,points,max_points
    a1_graphs,alice,2025-01-01 10:00:00,q1_cube,0,2
    ...
    a1_graphs,alice,2025-01-01 10:00:00,total,5,7

`question` is the grade id of a test cell (the name in the notebook's cell metadata; the kit
names them q1_..., q2_..., so they sort in order); the last row of each submission is its
total. Only submitted notebooks are listed (nbgrader's own export also lists the students who
did not submit, with a score of 0).
"""
import csv

from nbgrader.plugins import ExportPlugin

COLUMNS = ["assignment", "student_id", "timestamp", "question", "points", "max_points"]


class PerQuestionCsv(ExportPlugin):
    """One row per (submission, question), then the submission's total."""

    def export(self, gradebook):
        dest = self.to or "grades_per_question.csv"
        self.log.info("Exporting grades per question to %s", dest)
        with open(dest, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                    if self.student and submission.student.id not in self.student:
                        continue
                    head = [assignment.name, submission.student.id, submission.timestamp or ""]
                    for notebook in submission.notebooks:
                        for grade in sorted(notebook.grades, key=lambda g: g.name):
                            writer.writerow(head + [grade.name, _points(grade.score), _points(grade.max_score)])
                    writer.writerow(head + ["total", _points(submission.score), _points(submission.max_score)])


def _points(value):
    return f"{float(value or 0):g}"
