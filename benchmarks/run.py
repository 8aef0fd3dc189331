"""Run every benchmark: each ``benchmarks/bench_*.py`` module's ``main()``, in one process.

    python benchmarks/run.py          # or: make bench
    python benchmarks/run.py mlp      # only bench_mlp.py

Each benchmark prints its own numbers and the ratios measured in the same run.
A new ``bench_<name>.py`` exposing ``main()`` is picked up automatically.
"""

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(HERE))
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names]
    unknown = set(names) - {m.removeprefix("bench_") for m in modules}
    if unknown:
        print(f"unknown benchmark(s) {sorted(unknown)}; available: {[m.removeprefix('bench_') for m in modules]}")
        return 2
    for name in chosen:
        print(f"=== {name} " + "=" * max(0, 66 - len(name)))
        start = time.perf_counter()
        importlib.import_module(name).main()
        print(f"({name} took {time.perf_counter() - start:.0f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
