"""nbgrader configuration of the course kit (read by every `nbgrader` command run in this folder).

The course folder is nbgrader's course directory: `source/` (grader versions, made by `make course`
from `assignments/*.md`), `release/` (student versions), `submitted/`, `autograded/`, `feedback/`,
and `gradebook.db`. See README.md.
"""
import os
import sys

c = get_config()  # noqa: F821 (nbgrader defines get_config)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # so that `nbgrader export --exporter=grade_export.PerQuestionCsv` finds the exporter

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "backprop"

# A student's solution cell starts as this stub: running it fails, so the untouched notebook scores 0.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading runs every notebook from the top; a notebook that hangs is stopped after 60 s per cell.
c.Execute.timeout = 60
c.Execute.kernel_name = "python3"
