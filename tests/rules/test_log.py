"""The decision log: one canonical JSON line per decision, appended, read back in order."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from riskscore.rules import RuleError
from riskscore.rules._log import (
    DecisionLog,
    canonical_json,
    decision_record,
    diff_records,
    features_sha256,
    plain_value,
    read_log,
    without_time,
)


def _record(entity_id: str = "S1", score: float = 0.25, **extra) -> dict:
    return decision_record(
        channel="in_process",
        entity="seller",
        entity_id=entity_id,
        as_of="2024-06-30T00:00:00",
        features={"b": np.float64(0.1), "a": np.int64(3), "c": float("nan"), "tier": "gold"},
        model={"name": "m", "version": "1", "folder_sha256": "f" * 64},
        rule_set=None,
        options={"top_k": 3, "explain": "all", "language": "en"},
        result={
            "score": score,
            "risk_score": 412.0,
            "band": "medium",
            "reasons": [
                {
                    "code": "X",
                    "feature": "a",
                    "value": 3.0,
                    "impact": 2,
                    "contribution": 0.1 + 0.2,
                    "text": "t",
                }
            ],
        },
        **extra,
    )


def test_a_record_is_plain_json_with_the_features_and_their_hash():
    rec = _record()
    assert rec["features"] == {"a": 3.0, "b": 0.1, "c": None, "tier": "gold"}
    assert rec["features_sha256"] == features_sha256(rec["features"])
    assert rec["action"] is None and rec["rules_fired"] is None  # no rule set
    assert rec["reasons"][0]["contribution"] == 0.30000000000000004  # exact float64
    assert json.loads(canonical_json(rec)) == rec


def test_canonical_json_is_one_text_per_record():
    a = canonical_json({"b": 1.5, "a": {"y": None, "x": "中"}})
    b = canonical_json({"a": {"x": "中", "y": None}, "b": 1.5})
    assert a == b == '{"a":{"x":"中","y":null},"b":1.5}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_plain_values():
    assert plain_value(np.float32(0.5)) == 0.5
    assert plain_value(None) is None and plain_value(np.nan) is None
    assert plain_value(True) is True and plain_value("x") == "x"


def test_appends_keep_earlier_lines_byte_for_byte(tmp_path):
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)
    assert log.write([_record("S1")]) == 1
    first = path.read_bytes()
    assert log.write([_record("S2"), _record("S3")]) == 2
    assert log.write([]) == 0
    data = path.read_bytes()
    assert data.startswith(first) and data.count(b"\n") == 3
    got = [(w.line, r["entity_id"]) for w, r in read_log(path)]
    assert got == [(1, "S1"), (2, "S2"), (3, "S3")]
    line = data.splitlines()[0].decode()
    assert line == canonical_json(json.loads(line))  # each line is canonical
    assert "logged_at" in json.loads(line)


def test_a_folder_gets_one_file_per_day(tmp_path):
    log = DecisionLog(tmp_path / "decisions")
    log.write([_record()])
    files = list((tmp_path / "decisions").iterdir())
    assert len(files) == 1 and files[0].name.startswith("decisions-")
    assert files[0].name.endswith(".jsonl")
    assert [r["entity_id"] for _, r in read_log(tmp_path / "decisions")] == ["S1"]


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "log.jsonl"
    log = DecisionLog(path, fsync=False)

    def write(k: int) -> None:
        for i in range(20):
            log.write([_record(f"T{k}-{i}")] * 3)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [r for _, r in read_log(path)]
    assert len(records) == 4 * 20 * 3
    ids = [r["entity_id"] for r in records]
    assert all(ids[i] == ids[i + 1] == ids[i + 2] for i in range(0, len(ids), 3))


def test_diff_names_each_changed_field_and_ignores_logged_at():
    a = {**_record(), "logged_at": "2024-01-01T00:00:00"}
    b = _record(score=0.5)
    assert diff_records(a, without_time(a)) == []
    assert diff_records(a, b) == ["score: logged 0.25, replayed 0.5"]
    c = _record()
    c["model"] = {**c["model"], "folder_sha256": "0" * 64}
    assert diff_records(a, c)[0].startswith('model.folder_sha256: logged "ffff')


def test_bad_logs_and_arguments_are_refused(tmp_path):
    with pytest.raises(RuleError, match="no decision log at"):
        list(read_log(tmp_path / "missing.jsonl"))
    path = tmp_path / "bad.jsonl"
    path.write_text(canonical_json(_record()) + "\n{not json\n")
    with pytest.raises(RuleError, match=r"bad.jsonl:2: not a JSON line"):
        list(read_log(path))
    path.write_text('{"format": 99}\n')
    with pytest.raises(RuleError, match="not a decision record of format 1"):
        list(read_log(path))
    with pytest.raises(RuleError, match="must be a path"):
        DecisionLog(3)  # type: ignore[arg-type]
    with pytest.raises(RuleError, match="channel must be one of"):
        DecisionLog(path, channel="email")
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(RuleError, match="cannot append to the decision log"):
        DecisionLog(tmp_path / "dir.jsonl").write([_record()])
