# Every target does its own set-up: a virtual environment in .venv installed from the lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements/lock.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install browser demo test quick lint format lock bench clean sample-model

## Bytecode: the lock's packages are compiled at install (uv --compile-bytecode), and our
## commands may write __pycache__ (ignored by git) even where the environment sets
## PYTHONDONTWRITEBYTECODE. Without cached bytecode every Python process (each pytest
## worker, CLI subprocess, notebook kernel, Spark worker) compiles pandas, scikit-learn,
## MLflow and the rest from source: collecting the quick loop took 37 s instead of 11 s.
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Headless Chromium (Debian's package) renders the HTML evidence file in a test;
## fonts-noto-cjk gives it real Chinese glyphs for the Chinese pages.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
		else echo "chromium or fonts-noto-cjk is missing: install Debian's chromium and fonts-noto-cjk packages for the browser tests"; fi; }

## The main job on the embedded marketplace: simulate, validate, features, train, score.
demo: install
	$(BIN)/riskscore demo --out out/demo

## The small model kept in models/ (trained on data/sample; a test fails when it is stale).
sample-model: install
	$(BIN)/python -m riskscore.scoring._sample data/sample models/seller-counterfeit-sample

## The whole test suite (unit, doctests, Spark local mode, real MLflow server).
test: install browser
	$(BIN)/python -m pytest --hypothesis-profile=fixed

## The quick loop while you work (about 80 s): no notebooks, Spark, real servers, cases
## over ~10 s or the cases listed in tests/slow_cases.txt (measured over 1 s), on both
## cores. LightGBM trains on a fixed two OpenMP threads; two workers of two spinning
## threads each on two cores made some cases 10-20x slower, so threads that wait sleep
## (OMP_WAIT_POLICY=PASSIVE).
quick: install
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -m "not slow and not spark" -n 2 -q

lint: install
	$(BIN)/ruff check riskscore tests bench
	$(BIN)/ruff format --check riskscore tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format riskscore tests bench
	$(BIN)/ruff check --fix riskscore tests bench

## Re-resolve the lock file after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 \
		--generate-hashes --quiet -o requirements/lock.txt

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
