"""The batch runner: every id accounted for, atomic output, identical after resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore import ScoringError
from riskscore.scoring._batch import (
    BatchSummary,
    OutputLockedError,
    ResumeMismatchError,
    lock_path,
    output_lock,
    read_ids,
    rejects_path,
    run_batch,
    score_batch,
    write_frame,
)
from riskscore.scoring._entities import rejects_frame
from tests.scoring.conftest import AS_OF, SCORED_AT


def fake_features(scorer, n_known: int = 200, seed: int = 0):
    """A feature function over ids S0..S{n_known-1}: other ids are unknown; S7 has an inf."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(n_known, 5)) * 2, columns=scorer.feature_names)
    table.insert(0, "seller_id", [f"S{i}" for i in range(n_known)])
    table.loc[7, "account__listing_count"] = np.inf
    calls = []

    def features(ids):
        calls.append(len(ids))
        known = table.set_index("seller_id")
        unknown = [i for i in ids if i not in known.index]
        rows = known.reindex([i for i in ids if i in known.index]).reset_index()
        return rows, rejects_frame(
            "seller_id", unknown, ["unknown id"] * len(unknown), ["-"] * len(unknown)
        )

    features.calls = calls  # type: ignore[attr-defined]
    return features


def _run(scorer, ids, features, out, **kw):
    args = dict(
        as_of="2024-06-30T00:00:00",
        explain="flagged",
        chunk_size=37,
        resume=False,
        scored_at=SCORED_AT,
        progress=False,
    )
    args.update(kw)
    return run_batch(scorer, ids, features, out, **args)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_every_id_is_scored_or_rejected_with_a_reason(scorer, tmp_path, suffix):
    ids = [f"S{i}" for i in range(0, 230, 1)]  # S200..S229 are unknown
    out = tmp_path / f"scores{suffix}"
    summary = _run(scorer, ids, fake_features(scorer), out)
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    scores, rejects = read(out), read(rejects_path(out))
    assert summary.n_scored == len(scores) == 199
    assert summary.rejected == {"unknown id": 30, "no activity before as_of": 0, "invalid value": 1}
    assert summary.n_scored + summary.n_rejected == len(ids)
    assert sorted(map(str, scores["seller_id"])) + sorted(map(str, rejects["seller_id"])) != []
    assert set(map(str, scores["seller_id"])) | set(map(str, rejects["seller_id"])) == set(ids)
    assert not set(map(str, scores["seller_id"])) & set(map(str, rejects["seller_id"]))
    bad = rejects.loc[rejects["reason"] == "invalid value"]
    assert bad["seller_id"].tolist() == ["S7"] and "account__listing_count" in bad["detail"].item()
    assert (scores["model_version"].astype(str) == scorer.model_version).all()
    assert (scores["as_of"] == "2024-06-30T00:00:00").all()
    assert (rejects["as_of"] == "2024-06-30T00:00:00").all()
    assert summary.line().endswith(f"= {len(ids)} input ids")
    assert not (tmp_path / f"scores{suffix}.parts").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, rejects_path(out).name])


def test_output_keeps_input_order_and_equals_score_many(scorer, tmp_path):
    ids = [f"S{i}" for i in (5, 3, 150, 0, 99, 42)]
    out = tmp_path / "s.parquet"
    features = fake_features(scorer)
    _run(scorer, ids, features, out, chunk_size=4, explain="all")
    got = pd.read_parquet(out)
    frame, _ = features(ids)
    expected = scorer.score_many(frame, explain="all", as_of="2024-06-30", scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_resume_after_a_crash_gives_an_identical_file(scorer, tmp_path, monkeypatch):
    ids = [f"S{i}" for i in range(200)]
    full = tmp_path / "full.parquet"
    _run(scorer, ids, fake_features(scorer), full, explain="all")

    out = tmp_path / "resumed.parquet"
    import riskscore.scoring._batch as batch

    real = batch._score_chunk
    n_calls = {"n": 0}

    def crash_after_two(*args, **kwargs):
        if n_calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")
        n_calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "_score_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        _run(scorer, ids, fake_features(scorer), out, explain="all", scored_at="2030-01-01")
    assert not out.exists()
    assert len(list((tmp_path / "resumed.parquet.parts").glob("scores-*.parquet"))) == 2
    monkeypatch.setattr(batch, "_score_chunk", real)
    features = fake_features(scorer)
    summary = _run(scorer, ids, features, out, explain="all", resume=True, scored_at="2031-01-01")
    assert features.calls == []  # features came from the work folder
    assert summary.n_resumed == 2
    # scored_at was fixed by the interrupted run's manifest, so compare with it
    a = pd.read_parquet(full).drop(columns="scored_at")
    b = pd.read_parquet(out)
    assert (b["scored_at"] == "2030-01-01T00:00:00").all()
    pd.testing.assert_frame_equal(a, b.drop(columns="scored_at"))


def test_resume_refuses_changed_arguments(scorer, tmp_path, monkeypatch):
    import riskscore.scoring._batch as batch

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_score_chunk", crash)
    out = tmp_path / "s.parquet"
    with pytest.raises(KeyboardInterrupt):
        _run(scorer, [f"S{i}" for i in range(50)], fake_features(scorer), out)
    with pytest.raises(ScoringError, match=r"cannot resume.*chunk_size: was 37, now 10"):
        _run(
            scorer,
            [f"S{i}" for i in range(50)],
            fake_features(scorer),
            out,
            resume=True,
            chunk_size=10,
        )


def test_all_rejected_still_writes_an_empty_scores_file(scorer, tmp_path):
    out = tmp_path / "s.parquet"
    summary = _run(scorer, ["X1", "X2"], fake_features(scorer), out)
    assert summary.n_scored == 0 and summary.rejected["unknown id"] == 2
    assert list(pd.read_parquet(out).columns) == scorer.columns


def test_bad_arguments_are_scoring_errors(scorer, tmp_path):
    with pytest.raises(ScoringError, match=r"must end in \.parquet or \.csv"):
        _run(scorer, ["S1"], fake_features(scorer), tmp_path / "s.json")
    with pytest.raises(ScoringError, match="does not exist; create it first"):
        _run(scorer, ["S1"], fake_features(scorer), tmp_path / "nope" / "s.parquet")
    with pytest.raises(ScoringError, match="chunk size must be a positive whole number"):
        _run(scorer, ["S1"], fake_features(scorer), tmp_path / "s.parquet", chunk_size=0)


def test_read_ids(tmp_path):
    (tmp_path / "a.csv").write_text("seller_id,other\n007,x\nS2,y\n")
    assert read_ids(tmp_path / "a.csv", "seller_id") == ["007", "S2"]
    (tmp_path / "b.csv").write_text("id\nS1\nS1\n")
    with pytest.raises(ScoringError, match="1 duplicated id"):
        read_ids(tmp_path / "b.csv", "seller_id")
    (tmp_path / "c.csv").write_text("id\nS1\n\nS3\n")
    pd.DataFrame({"id": ["S1", None, "S3"]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ScoringError, match=r"1 empty id\(s\)"):
        read_ids(tmp_path / "c.csv", "seller_id")
    pd.DataFrame({"a": ["S1"], "b": ["x"]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(ScoringError, match="has no 'seller_id' column"):
        read_ids(tmp_path / "d.parquet", "seller_id")
    with pytest.raises(ScoringError, match="does not exist"):
        read_ids(tmp_path / "none.csv", "seller_id")


def test_summary_line_adds_up():
    s = BatchSummary(5, 3, {"unknown id": 1, "invalid value": 1}, "o", "r")
    assert s.n_rejected == 2
    assert s.line() == (
        "scored 3 + rejected 2 (unknown id 1, no activity before as_of 0, invalid value 1)"
        " = 5 input ids"
    )


# -- issue 14: one run per output, resume only onto the same inputs, the pair together ----


def _hold_lock_in_another_process(out):
    """Start a process that holds the lock of ``out``; return it once the lock is held."""
    code = (
        "import sys, time\n"
        "from riskscore.scoring._batch import output_lock\n"
        "with output_lock(sys.argv[1]):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_at_a_locked_output_refuses_naming_the_first(scorer, tmp_path):
    out = tmp_path / "s.parquet"
    holder = _hold_lock_in_another_process(out)
    try:
        with pytest.raises(OutputLockedError, match=rf"pid {holder.pid} on host .*, started 20"):
            _run(scorer, ["S1", "S2"], fake_features(scorer), out)
        assert not out.exists() and not (tmp_path / "s.parquet.parts").exists()
    finally:
        holder.kill()
        holder.wait()
    # the kernel dropped the dead holder's lock: the leftover lock file is taken over
    assert lock_path(out).exists()
    summary = _run(scorer, ["S1", "S2"], fake_features(scorer), out)
    assert summary.n_scored == 2 and not lock_path(out).exists()


def test_the_lock_is_reentrant_in_one_thread_and_removed_after(scorer, tmp_path):
    out = tmp_path / "s.parquet"
    with output_lock(out):
        assert json.loads(lock_path(out).read_text())["pid"] == os.getpid()
        _run(scorer, ["S1"], fake_features(scorer), out)  # takes it again
        assert lock_path(out).exists()
    assert not lock_path(out).exists()


def test_a_run_without_resume_never_reuses_parts_it_finds(scorer, tmp_path):
    """A part that appears in the work folder (another run, a stale folder) is not used."""
    ids = [f"S{i}" for i in range(100)]
    out = tmp_path / "s.parquet"
    real = fake_features(scorer)

    def features_and_a_foreign_part(chunk):
        other = _run(scorer, ["S150"], fake_features(scorer), tmp_path / "x.parquet")
        work = tmp_path / "s.parquet.parts"
        write_frame(pd.read_parquet(other.out), work / "scores-000000.parquet")
        write_frame(pd.read_parquet(other.rejects_out), work / "rejects-000000.parquet")
        return real(chunk)

    _run(scorer, ids, features_and_a_foreign_part, out)
    got = pd.read_parquet(out)
    assert got["seller_id"].tolist() == [i for i in ids if i != "S7"]  # S7 has an inf


def _crash_after(monkeypatch, n_chunks):
    import riskscore.scoring._batch as batch

    real = batch._score_chunk
    calls = {"n": 0}

    def crash(*args, **kwargs):
        if calls["n"] == n_chunks:
            raise KeyboardInterrupt("simulated crash")
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "_score_chunk", crash)
    return real


def test_resume_refuses_a_changed_input_table_and_names_it(scorer, tmp_path, monkeypatch):
    import riskscore.scoring._batch as batch

    ids = [f"S{i}" for i in range(100)]
    out = tmp_path / "s.parquet"
    inputs = {"orders": "orders.parquet, 100 bytes, sha256 aa", "sellers": "sellers.csv, 9 bytes"}
    real = _crash_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        _run(scorer, ids, fake_features(scorer), out, inputs=inputs)
    monkeypatch.setattr(batch, "_score_chunk", real)
    changed = {**inputs, "orders": "orders.parquet, 100 bytes, sha256 bb"}
    with pytest.raises(
        ResumeMismatchError,
        match=r"cannot resume .*1 input\(s\) or argument\(s\) differ.*input table 'orders' "
        r"changed \(was orders.parquet, 100 bytes, sha256 aa, now orders.parquet, 100 bytes, "
        r"sha256 bb\).*rerun without --resume",
    ):
        _run(scorer, ids, fake_features(scorer), out, inputs=changed, resume=True)
    added = {**inputs, "labels": "labels.parquet, 5 bytes"}
    with pytest.raises(ResumeMismatchError, match=r"'labels' changed \(was absent, now labels"):
        _run(scorer, ids, fake_features(scorer), out, inputs=added, resume=True)
    with pytest.raises(ResumeMismatchError, match=r"as_of: was '2024-06-30T00:00:00', now '2024"):
        _run(
            scorer, ids, fake_features(scorer), out, inputs=inputs, resume=True, as_of="2024-05-01"
        )
    # the refusals kept the interrupted run's work: the right inputs still resume it
    features = fake_features(scorer)
    summary = _run(scorer, ids, features, out, inputs=inputs, resume=True)
    assert summary.n_resumed == 1 and features.calls == [] and summary.n_input == 100


def test_score_batch_fingerprints_frames_and_refuses_changed_data(
    seller_scorer, marketplace, tmp_path, monkeypatch
):
    """Without file fingerprints, the frames' content is hashed: one changed amount counts."""
    import riskscore.scoring._batch as batch

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    out = tmp_path / "s.parquet"
    kw = dict(as_of=AS_OF, chunk_size=50, scored_at=SCORED_AT, progress=False)
    real = _crash_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        score_batch(seller_scorer, tables, out, **kw)
    manifest = json.loads((tmp_path / "s.parquet.parts" / "manifest.json").read_text())
    assert sorted(manifest["inputs"]) == sorted(tables)
    assert manifest["config"]["model_sha256"] and manifest["joined"] is None
    monkeypatch.setattr(batch, "_score_chunk", real)
    orders = tables["orders"].copy()
    orders.loc[orders.index[10], "amount"] += 1.0
    with pytest.raises(ResumeMismatchError, match=r"1 input\(s\).*input table 'orders' changed"):
        score_batch(seller_scorer, {**tables, "orders": orders}, out, resume=True, **kw)
    summary = score_batch(seller_scorer, tables, out, resume=True, **kw)
    assert summary.n_resumed == 2
    fresh = tmp_path / "fresh.parquet"
    score_batch(seller_scorer, tables, fresh, **kw)
    assert out.read_bytes() == fresh.read_bytes()


def test_a_kill_between_the_two_renames_is_finished_by_resume(scorer, tmp_path, monkeypatch):
    """The new output never sits next to old rejects; resume publishes the joined pair."""
    import riskscore.scoring._batch as batch

    ids = [f"S{i}" for i in range(60)]
    out = tmp_path / "s.parquet"
    _run(scorer, ["S150", "GHOST"], fake_features(scorer), out)  # an older output pair
    real = batch._publish

    def killed_after_the_rejects(work, target):
        _, rejects_tmp = batch._joined_paths(work, target)
        target.unlink()
        os.replace(rejects_tmp, rejects_path(target))
        raise KeyboardInterrupt("killed between the renames")

    monkeypatch.setattr(batch, "_publish", killed_after_the_rejects)
    with pytest.raises(KeyboardInterrupt):
        _run(scorer, ids, fake_features(scorer), out)
    assert not out.exists()  # the old output is gone, not left next to new rejects
    manifest = json.loads((tmp_path / "s.parquet.parts" / "manifest.json").read_text())
    assert manifest["joined"]["n_scored"] == 59  # the pair was complete in the work folder
    monkeypatch.setattr(batch, "_publish", real)
    (tmp_path / f".{out.name}.tmp-4242").write_text("orphan of a killed join")
    (tmp_path / f".{rejects_path(out).name}.tmp-4242").write_text("orphan")
    features = fake_features(scorer)
    summary = _run(scorer, ids, features, out, resume=True)
    assert features.calls == [] and summary.n_scored == 59 and summary.n_resumed == 2
    full = tmp_path / "full" / "s.parquet"
    full.parent.mkdir()
    _run(scorer, ids, fake_features(scorer), full)
    assert out.read_bytes() == full.read_bytes()
    assert rejects_path(out).read_bytes() == rejects_path(full).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "s.parquet", "s.rejects.parquet"]


def test_an_error_leaves_no_work_folder_and_no_lock(scorer, tmp_path):
    def broken(chunk):
        raise ScoringError("the features cannot be built")

    out = tmp_path / "s.parquet"
    with pytest.raises(ScoringError, match="cannot be built"):
        _run(scorer, ["S1", "S2"], broken, out)
    assert list(tmp_path.iterdir()) == []


def test_as_of_before_all_data_names_the_data_range(seller_scorer, marketplace, tmp_path):
    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    first = tables["sellers"]["registered_at"].min()
    first_order = tables["orders"]["created_at"].min().date()  # in the warm-up, 2021
    with pytest.raises(
        ScoringError,
        match=rf"no data before as_of 1999-01-01T00:00:00: no seller existed yet \(the first "
        rf"sellers.registered_at is {first}\); the data runs from {first} to 2024-12-30.*"
        rf"orders {first_order} to 2024-12-30.*Pass an --as-of after {first}",
    ):
        score_batch(seller_scorer, tables, tmp_path / "s.parquet", as_of="1999-01-01")
    assert list(tmp_path.iterdir()) == []


def test_ids_that_all_predate_their_registration_are_rejects_not_a_crash(
    seller_scorer, marketplace, tmp_path
):
    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    late = tables["sellers"].sort_values("registered_at")["seller_id"].tail(3).tolist()
    as_of = str(tables["sellers"]["registered_at"].sort_values().iloc[-3])
    summary = score_batch(
        seller_scorer, tables, tmp_path / "s.parquet", as_of=as_of, ids=late, progress=False
    )
    assert summary.n_scored == 0 and summary.rejected["no activity before as_of"] == 3
    assert list(pd.read_parquet(tmp_path / "s.parquet").columns) == seller_scorer.columns


def test_out_that_is_a_folder_or_unwritable_is_refused_before_any_work(scorer, tmp_path):
    (tmp_path / "s.parquet").mkdir()
    features = fake_features(scorer)
    with pytest.raises(ScoringError, match=r"'.*s.parquet' is a folder, not a file; give a file"):
        _run(scorer, ["S1"], features, tmp_path / "s.parquet")
    (tmp_path / "t.rejects.csv").mkdir()
    with pytest.raises(ScoringError, match=r"'.*t.rejects.csv' is a folder"):
        _run(scorer, ["S1"], features, tmp_path / "t.csv")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScoringError, match=r"is '.*file', which is a file"):
        _run(scorer, ["S1"], features, tmp_path / "file" / "s.parquet")
    assert features.calls == []


@pytest.mark.skipif(os.geteuid() != 0, reason="root may not write into /sys")
def test_out_in_a_place_root_cannot_write_is_refused(scorer):
    with pytest.raises(
        ScoringError,
        match=r"cannot write next to --out '/sys/s.parquet'.*"
        r"Permission denied\); pick a folder you can write to",
    ):
        _run(scorer, ["S1"], fake_features(scorer), Path("/sys/s.parquet"))


def test_read_ids_explains_empty_unreadable_and_malformed_files(tmp_path):
    (tmp_path / "zero.csv").write_bytes(b"")
    with pytest.raises(ScoringError, match=r"ids file '.*zero.csv' is empty \(0 bytes\); write a"):
        read_ids(tmp_path / "zero.csv", "seller_id")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(ScoringError, match=r"'.*blank.csv' holds no header and no ids"):
        read_ids(tmp_path / "blank.csv", "seller_id")
    (tmp_path / "latin1.csv").write_bytes("seller_id\nS\xe9\n".encode("latin-1"))
    with pytest.raises(ScoringError, match=r"'.*latin1.csv' is not UTF-8 text.*save it as UTF-8"):
        read_ids(tmp_path / "latin1.csv", "seller_id")
    (tmp_path / "text.parquet").write_text("seller_id\nS1\n")
    with pytest.raises(ScoringError, match=r"'.*text.parquet' cannot be read as Parquet"):
        read_ids(tmp_path / "text.parquet", "seller_id")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ScoringError, match=r"'.*dir.csv' is a folder, not a file"):
        read_ids(tmp_path / "dir.csv", "seller_id")
