"""The quick loop's markers stay honest: ``tests/slow_cases.txt`` names real cases, and the
root conftest marks them ``slow`` at collection.

``pytest -m "not slow and not spark"`` (``make quick``) leaves out notebooks, Spark, real
servers, cases over ~10 s (marked in code) and every case listed in ``slow_cases.txt``
(measured over 1 s, see ``tests/_slow_cases.py``). A renamed test would silently drop
back into the quick loop; these tests catch a stale entry instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import _slow_cases  # noqa: E402

sys.path.pop(0)

CASES = _slow_cases.read()


def test_the_list_is_read_the_same_by_the_conftest_and_the_tool() -> None:
    spec = importlib.util.spec_from_file_location("_root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    assert conftest._slow_cases() == frozenset(CASES)
    assert len(CASES) > 100  # the measured list is there


@pytest.mark.parametrize("nodeid", sorted(CASES))
def test_every_listed_case_exists(nodeid: str) -> None:
    path, _, rest = nodeid.partition("::")
    source = ROOT / path
    assert source.is_file(), f"{nodeid}: no file {path}"
    text = source.read_text(encoding="utf-8")
    name = re.sub(r"\[.*\]$", "", rest).split("::")[-1]
    if path.startswith("riskscore/"):  # a doctest: the dotted object in that module
        module_name = path[: -len(".py")].replace("/", ".").removesuffix(".__init__")
        assert name.startswith(module_name), nodeid
        obj: object = importlib.import_module(module_name)
        for part in name[len(module_name) :].strip(".").split("."):
            if part:
                assert hasattr(obj, part), f"{nodeid}: {part!r} is gone"
                obj = getattr(obj, part)
    else:
        assert re.search(rf"^\s*(async )?def {re.escape(name)}\(", text, re.M), (
            f"{nodeid}: no test {name!r} in {path}; regenerate tests/slow_cases.txt"
        )


@pytest.mark.slow
def test_listed_cases_are_left_out_of_the_quick_loop() -> None:
    module = "riskscore/modeling/_recipe.py"
    listed = {n for n in CASES if n.startswith(module + "::")}
    assert listed, "pick another module with a listed doctest"
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    everything = subprocess.run(
        [*collect, module], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout
    quick = subprocess.run(
        [*collect, "-m", "not slow", module], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout
    assert all(n in everything for n in listed), everything  # collected at all
    assert not any(n in quick for n in listed), quick
