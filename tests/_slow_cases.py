"""Regenerate ``tests/slow_cases.txt``: the quick-loop cases measured over a threshold.

``pytest -m "not slow and not spark"`` is the quick loop (``make quick``). Besides the
cases marked in code (notebooks, Spark, real servers, anything over ~10 s), every case
listed in ``slow_cases.txt`` gets the ``slow`` marker at collection (``conftest.py`` at the
repository root), so that one slow parameter of a fast test, or a slow doctest, can be
moved out of the loop without touching its code. Measure and merge::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest -m "not slow and not spark" -n 2 \\
        --durations=0 -q > out/durations.txt
    .venv/bin/python tests/_slow_cases.py out/durations.txt --over 1.0

Entries already listed stay (they are not in a quick-loop run any more);
``tests/test_markers.py`` fails when an entry names a case that no longer exists.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

__all__ = ["SLOW_CASES", "durations", "read", "write"]

#: The list the root ``conftest.py`` reads.
SLOW_CASES = Path(__file__).resolve().with_name("slow_cases.txt")
_LINE = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S.*?)\s*$")
_HEADER = """\
# Cases of the quick loop that took longer than {over:g} s (setup + call + teardown) in
# `pytest -m "not slow and not spark" -n 2 --durations=0` on the 2-core CI machine. The root
# conftest.py marks each one `slow`: `make test` runs them, `make quick` does not.
# Regenerate with tests/_slow_cases.py (see its docstring). Format: seconds, node id.
"""


def durations(text: str) -> dict[str, float]:
    """Return the seconds per node id (setup + call + teardown) in ``--durations`` output.

    Examples
    --------
    >>> durations("1.50s call     tests/a.py::test_x\\n0.25s setup    tests/a.py::test_x\\n")
    {'tests/a.py::test_x': 1.75}
    """
    out: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out[m[3]] += float(m[1])
    return dict(out)


def read(path: Path = SLOW_CASES) -> dict[str, float]:
    """Return the listed node ids with their measured seconds (empty when no file).

    Examples
    --------
    >>> isinstance(read(), dict)
    True
    """
    if not path.is_file():
        return {}
    cases = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            seconds, nodeid = line.split(maxsplit=1)
            cases[nodeid.strip()] = float(seconds)
    return cases


def write(cases: dict[str, float], over: float, path: Path = SLOW_CASES) -> None:
    """Write ``cases`` (slowest first) under the header."""
    body = "".join(
        f"{seconds:6.1f}  {nodeid}\n"
        for nodeid, seconds in sorted(cases.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    path.write_text(_HEADER.format(over=over) + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Merge the cases over ``--over`` seconds of a durations file into the list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("durations", type=Path, help="output of pytest --durations=0")
    parser.add_argument("--over", type=float, default=1.0, help="seconds (default 1.0)")
    args = parser.parse_args(argv)
    measured = durations(args.durations.read_text(encoding="utf-8"))
    cases = read()
    cases.update({k: v for k, v in measured.items() if v > args.over})
    write(cases, args.over)
    print(f"{len(cases)} cases listed in {SLOW_CASES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
