"""``riskscore score`` under stress: two runs at one output, resume after the data changed,
interruptions, bad paths found before any work, an as_of before all data (issue 14)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.scoring._batch import lock_path
from tests.scoring.conftest import AS_OF, score_args


def _args(model_dir, data_dir, out, *extra, as_of=AS_OF):
    return score_args(model_dir, data_dir, out, "--show", "0", *extra, as_of=as_of)


@contextlib.contextmanager
def _ctrl_c_reaches_python():
    """Python's own Ctrl-C handler in this process (and SIGINT caught, not ignored, in the
    children it starts), as in a terminal: a suite started in the background by a shell
    without job control inherits SIGINT ignored, and Python and its children keep it so."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start(args, **env):
    """Start ``python -m riskscore <args>`` with extra ``RISKSCORE_*`` settings."""
    with _ctrl_c_reaches_python():  # a caught signal is default again after exec
        return subprocess.Popen(
            [sys.executable, "-m", "riskscore", *args],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def _run(args):
    """Run ``python -m riskscore <args>`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "riskscore", *args], capture_output=True, text=True, timeout=300
    )


def _wait_for(condition, proc, what, timeout=180.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _lock_pid(out: Path) -> int | None:
    try:
        return int(json.loads(lock_path(out).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    return proc.communicate(timeout=60)


@pytest.mark.slow
def test_a_second_scorer_at_the_same_output_refuses_with_the_first_ones_pid(
    model_dir, data_dir, marketplace, tmp_path
):
    out = tmp_path / "scores.parquet"
    parts = tmp_path / "scores.parquet.parts"
    first = _start(
        _args(model_dir, data_dir, out, "--chunk-size", 20), RISKSCORE_BATCH_CHUNK_PAUSE="1"
    )
    try:
        _wait_for(lambda: _lock_pid(out) == first.pid, first, "the first run took the lock")
        second = _run(_args(model_dir, data_dir, out, "--chunk-size", 20, as_of="2024-05-31"))
        assert second.returncode == 2, second.stderr
        assert f"another riskscore run is writing '{out}': pid {first.pid} on host " in (
            second.stderr
        )
        started = json.loads(lock_path(out).read_text())["started"]
        assert f"started {started}" in second.stderr and started.startswith("20")
        assert first.poll() is None and _lock_pid(out) == first.pid  # the first run goes on
        _wait_for(lambda: any(parts.glob("scores-*.parquet")), first, "a chunk was written")
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=120)
    finally:
        _stop(first)
    assert first.returncode == 143
    assert "interrupted; run again with --resume" in err
    assert parts.is_dir() and not out.exists() and not lock_path(out).exists()

    resumed = _run(_args(model_dir, data_dir, out, "--chunk-size", 20, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    scores = pd.read_parquet(out)
    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet")
    assert set(scores["as_of"]) == {"2024-06-30T00:00:00"}  # no row of the refused run
    assert len(scores) + len(rejects) == len(marketplace["sellers"])
    assert not scores["seller_id"].duplicated().any()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, "scores.rejects.parquet"]


@pytest.mark.slow
def test_ctrl_c_then_changed_data_makes_resume_refuse_naming_the_table(
    model_dir, data_dir, tmp_path
):
    data = Path(shutil.copytree(data_dir, tmp_path / "data"))
    out = tmp_path / "scores.parquet"
    parts = tmp_path / "scores.parquet.parts"
    args = _args(model_dir, data, out, "--chunk-size", 20)
    run = _start(args, RISKSCORE_BATCH_CHUNK_PAUSE="1")
    try:
        _wait_for(lambda: len(list(parts.glob("scores-*.parquet"))) >= 2, run, "two chunks")
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        _stop(run)
    assert run.returncode == 130
    assert "interrupted; run again with --resume" in err
    manifest = json.loads((parts / "manifest.json").read_text())
    assert manifest["inputs"]["orders"].startswith("orders.parquet, ")

    orders = pd.read_parquet(data / "orders.parquet")
    orders["amount"] = orders["amount"] * 1.5  # the same rows, other amounts
    orders.to_parquet(data / "orders.parquet", index=False)
    refused = _run([*args, "--resume"])
    assert refused.returncode == 2, refused.stderr
    assert "cannot resume into" in refused.stderr
    assert "1 input(s) or argument(s) differ" in refused.stderr
    assert f"input table 'orders' changed (was {manifest['inputs']['orders']}, now" in (
        refused.stderr
    )
    assert "rerun without --resume to start over" in refused.stderr
    assert not out.exists() and parts.is_dir()  # the interrupted run's work is kept


def test_sigterm_exits_143_and_keeps_the_work_for_resume(
    model_dir, data_dir, tmp_path, capsys, monkeypatch
):
    import riskscore.scoring._batch as batch

    real = batch._score_chunk

    def terminated_in_the_second_chunk(*args, **kwargs):
        if list((tmp_path / "s.parquet.parts").glob("scores-*.parquet")):
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    class Unhandled(Exception):
        pass

    def unhandled(signum, frame):  # without the command's own handler, fail, not die
        raise Unhandled

    monkeypatch.setattr(batch, "_score_chunk", terminated_in_the_second_chunk)
    out = tmp_path / "s.parquet"
    previous = signal.signal(signal.SIGTERM, unhandled)
    try:
        assert main(_args(model_dir, data_dir, out, "--chunk-size", 50)) == 143
        assert signal.getsignal(signal.SIGTERM) is unhandled  # the handler is restored
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert capsys.readouterr().err.strip().endswith("interrupted; run again with --resume")
    assert len(list((tmp_path / "s.parquet.parts").glob("scores-*.parquet"))) == 1
    assert not lock_path(out).exists() and not out.exists()
    monkeypatch.setattr(batch, "_score_chunk", real)
    assert main(_args(model_dir, data_dir, out, "--chunk-size", 50, "--resume")) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.parquet", "s.rejects.parquet"]


def test_ctrl_c_exits_130_with_a_message(model_dir, data_dir, tmp_path, capsys, monkeypatch):
    import riskscore.scoring._batch as batch

    def ctrl_c(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # to this thread, as a terminal's Ctrl-C
        raise AssertionError("SIGINT did not interrupt the chunk")

    monkeypatch.setattr(batch, "_score_chunk", ctrl_c)
    with _ctrl_c_reaches_python():
        assert main(_args(model_dir, data_dir, tmp_path / "s.csv")) == 130
    assert capsys.readouterr().err.strip().endswith("interrupted; run again with --resume")
    assert (tmp_path / "s.csv.parts" / "manifest.json").exists()


def test_out_naming_a_folder_is_found_before_loading_anything(tmp_path, capsys):
    (tmp_path / "scores.parquet").mkdir()
    code = main(_args("no/such/model", "no/such/data", tmp_path / "scores.parquet"))
    assert code == 2
    err = capsys.readouterr().err
    assert f"'{tmp_path / 'scores.parquet'}' is a folder, not a file; give a file path" in err
    assert "no model" not in err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a place root cannot write")
def test_out_in_an_unwritable_place_exits_2_before_loading_anything(capsys):
    assert main(_args("no/such/model", "no/such/data", "/sys/scores.parquet")) == 2
    err = capsys.readouterr().err
    assert "cannot write next to --out '/sys/scores.parquet'" in err
    assert "pick a folder you can write to" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (0 bytes); write a header line naming the id column"),
        (None, "is a folder, not a file"),
    ],
)
def test_bad_ids_file_exits_2_before_loading_anything(tmp_path, capsys, content, message):
    ids = tmp_path / "ids.csv"
    if content is None:
        ids.mkdir()
    else:
        ids.write_bytes(content)
    out = tmp_path / "s.parquet"
    assert main(_args("no/such/model", "no/such/data", out, "--ids", ids)) == 2
    err = capsys.readouterr().err
    assert f"ids file '{ids}' {message}" in err and "no model" not in err


def test_latin1_ids_file_exits_2_naming_the_file(model_dir, data_dir, tmp_path, capsys):
    ids = tmp_path / "ids.csv"
    ids.write_bytes("seller_id\nS\xe9\n".encode("latin-1"))
    assert main(_args(model_dir, data_dir, tmp_path / "s.parquet", "--ids", ids)) == 2
    assert f"ids file '{ids}' is not UTF-8 text" in capsys.readouterr().err


def test_as_of_before_all_data_says_so_and_leaves_nothing_behind(
    model_dir, data_dir, marketplace, tmp_path, capsys
):
    out = tmp_path / "scores.parquet"
    assert main(_args(model_dir, data_dir, out, as_of="1999-01-01")) == 2
    err = capsys.readouterr().err
    first = marketplace["sellers"]["registered_at"].min()
    assert "no data before as_of 1999-01-01T00:00:00: no seller existed yet" in err
    orders = marketplace["orders"]["created_at"]
    span = f"orders {orders.min().date()} to {orders.max().date()}"  # the warm-up from 2021
    assert f"the data runs from {first} to " in err and span in err
    assert "missing" not in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no <out>.parts, no lock file
