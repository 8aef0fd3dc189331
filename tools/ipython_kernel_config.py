# Installed into .venv/etc/ipython/ by `make`: kernels started by the book build, the twin
# regeneration and nbval log only errors (ipykernel 7 otherwise prints a warning about its
# local TCP transport at every start, which would clutter the build log).
c.IPKernelApp.log_level = "ERROR"  # noqa: F821

# Kernels started by the book build (tools/book.py sets BOOK_FIGURE_CAPTURE) keep a copy of
# every figure they display, from which the translated editions draw their figures with
# translated labels (tools/figure_i18n.py). Other kernels (nbval, twins, Jupyter) are unchanged.
import importlib.util as _util  # noqa: E402
import os as _os  # noqa: E402
import sys as _sys  # noqa: E402

if _os.environ.get("BOOK_FIGURE_CAPTURE") and _os.environ.get("BOOK_TOOLS"):
    _spec = _util.spec_from_file_location("_book_figure_i18n", _os.path.join(_os.environ["BOOK_TOOLS"], "figure_i18n.py"))
    _sys.modules["_book_figure_i18n"] = _module = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    c.InteractiveShellApp.extensions = ["_book_figure_i18n"]  # noqa: F821
