"""Run named benchmarks and write results.

Usage: ``python -m bench.run [NAME ...] [--list]``. Results go to ``bench/results/``:
one JSON file per benchmark and a regenerated Markdown table of all stored results.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from bench._harness import REGISTRY

RESULTS = Path(__file__).parent / "results"


def _load_all() -> None:
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        importlib.import_module(f"bench.{path.stem}")


def _write_markdown() -> None:
    rows = []
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        metrics = ", ".join(f"{k}={v}" for k, v in data["metrics"].items())
        rows.append(f"| {data['name']} | {data['date']} | {metrics} |")
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            "Measured on the project's 2-core machine; compare ratios within one run.",
            "",
            "| benchmark | date | metrics |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )
    (RESULTS / "README.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in ``argv`` (all when none) and store the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    _load_all()
    if args.list:
        print("\n".join(sorted(REGISTRY)))
        return 0
    names = args.names or sorted(REGISTRY)
    unknown = sorted(set(names) - set(REGISTRY))
    if unknown:
        print(f"unknown benchmark(s): {unknown}; known: {sorted(REGISTRY)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        print(f"running {name} ...", flush=True)
        metrics = REGISTRY[name]()
        record = {
            "name": name,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()} {platform.python_version()}",
            "metrics": metrics,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, default=str))
        print(json.dumps(record, indent=2, default=str), flush=True)
    _write_markdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
