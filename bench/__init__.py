"""Named, measured benchmarks for riskscore (run with ``python -m bench.run``)."""
