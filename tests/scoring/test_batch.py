"""The batch runner: every id accounted for, atomic output, identical after resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore import ScoringError
from riskscore.scoring._batch import BatchSummary, read_ids, rejects_path, run_batch
from riskscore.scoring._entities import rejects_frame
from tests.scoring.conftest import SCORED_AT


def fake_features(scorer, n_known: int = 200, seed: int = 0):
    """A feature function over ids S0..S{n_known-1}: other ids are unknown; S7 has an inf."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(n_known, 5)) * 2, columns=scorer.feature_names)
    table.insert(0, "seller_id", [f"S{i}" for i in range(n_known)])
    table.loc[7, "account__age_days"] = np.inf
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
    assert bad["seller_id"].tolist() == ["S7"] and "account__age_days" in bad["detail"].item()
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
