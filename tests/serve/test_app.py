"""``riskscore serve`` over real HTTP: the answer contract, refusals, limits and /metrics."""

from __future__ import annotations

import json
import re

import pytest

from riskscore.scoring import RiskScore
from tests.serve.conftest import Client, demo_rows

pytestmark = pytest.mark.server

CONTRACT = {
    "entity",
    "entity_id",
    "model_name",
    "model_version",
    "score",
    "risk_score",
    "band",
    "reasons",
    "as_of",
    "scored_at",
}
REASON_KEYS = {"code", "feature", "value", "impact", "contribution", "text"}


def _same(answer: dict, expected: dict) -> None:
    """Assert two answers are equal except for scored_at."""
    a = {k: v for k, v in answer.items() if k != "scored_at"}
    e = {k: v for k, v in expected.items() if k != "scored_at"}
    assert a == e


def test_health_and_ready(client):
    assert client.get("/health") == (200, b'{"status":"ok"}')
    status, body = client.get("/ready")
    assert status == 200
    ready = json.loads(body)
    assert ready["status"] == "ready"
    assert ready["model_version"] == "1"
    assert ready["features"] == 5


def test_one_row_answer_is_score_one(client, local_scorer):
    row = demo_rows(local_scorer, 1, seed=1)[0]
    status, answer = client.post("/score", row)
    assert status == 200
    assert set(answer) >= CONTRACT
    assert answer["entity_id"] == "S0000"
    assert answer["model_name"] == local_scorer.model_name
    assert answer["model_version"] == "1"
    assert isinstance(answer["reasons"], list) and answer["reasons"]
    assert all(set(r) == REASON_KEYS for r in answer["reasons"])
    _same(answer, local_scorer.score_one(row, explain="all").to_dict())


def test_batch_equals_score_many(client, local_scorer):
    import pandas as pd

    rows = demo_rows(local_scorer, 40, seed=2)
    nullable = next(
        n
        for n, ok in zip(local_scorer.feature_names, local_scorer.layout.nan_ok, strict=True)
        if ok
    )
    rows[3][nullable] = None  # a missing value the model allows
    for explain in ("all", "flagged"):
        expected = local_scorer.score_many(pd.DataFrame(rows), explain=explain)
        expected_rows = [
            RiskScore.from_row(r, entity="seller").to_dict() for r in expected.to_dict("records")
        ]
        if explain == "all":
            assert any(r["reasons"] for r in expected_rows)
        body = {"rows": rows, "explain": explain} if explain == "flagged" else rows
        status, answer = client.post(f"/score?explain={explain}", body)
        assert status == 200
        results = answer["results"]
        assert len(results) == len(rows)
        assert [r["entity_id"] for r in results] == [r["seller_id"] for r in rows]
        for got, want in zip(results, expected_rows, strict=True):
            assert set(got) >= CONTRACT
            _same(got, want)


def test_big_batch_goes_to_a_thread_and_agrees(client, local_scorer):
    import pandas as pd

    rows = demo_rows(local_scorer, 300, seed=5)
    status, answer = client.post("/score", {"rows": rows, "explain": "none"})
    assert status == 200
    expected = local_scorer.score_many(pd.DataFrame(rows), explain="none")
    assert [r["risk_score"] for r in answer["results"]] == expected["risk_score"].tolist()


def test_options(client, local_scorer):
    from riskscore.scoring import Scorer

    row = demo_rows(local_scorer, 1, seed=3)[0]
    _, none = client.post("/score?explain=none", row)
    assert none["reasons"] == []
    model = local_scorer.model
    other = Scorer(model, top_k=1, language="zh", num_threads=1)
    expected = other.score_one(row, explain="all", as_of="2024-06-30").to_dict()
    _, zh = client.post("/score?language=zh&top_k=1&as_of=2024-06-30", row)
    _same(zh, expected)
    assert zh["as_of"].startswith("2024-06-30")
    _, en = client.post("/score?top_k=1", row)
    assert en["reasons"] and en["reasons"][0]["text"] != zh["reasons"][0]["text"]
    status, batch = client.post(
        "/score", {"rows": [row], "top_k": 1, "language": "zh", "as_of": "2024-06-30"}
    )
    assert status == 200
    _same(batch["results"][0], expected)


def _good(client_scorer) -> dict:
    return demo_rows(client_scorer, 1, seed=4)[0]


def _with(scorer, **changes) -> bytes:
    row = demo_rows(scorer, 1, seed=4)[0]
    row.update(changes)
    return json.dumps(row).encode()


def _feature(scorer) -> str:
    return scorer.feature_names[0]


def _not_null(scorer) -> str:
    names, ok = scorer.feature_names, scorer.layout.nan_ok
    return next(n for n, allowed in zip(names, ok, strict=True) if not allowed)


def _required(scorer) -> str:
    return next(n for n in scorer.feature_names if n not in scorer.layout.optional_fill)


#: (name, body or a function of the scorer, query, expected code)
BAD = [
    ("truncated JSON", b'{"seller_id": "S1", ', "", "invalid_json"),
    ("empty body", b"", "", "invalid_json"),
    ("NaN literal", lambda s: _with(s).replace(b"}", b', "x": NaN}'), "", "invalid_json"),
    ("Infinity literal", lambda s: _with(s).replace(b"}", b', "x": Infinity}'), "", "invalid_json"),
    ("not UTF-8", b'{"seller_id": "\xff\xfe"}', "", "invalid_json"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "", "invalid_json"),
    ("a number", b"42", "", "invalid_body"),
    ("a string", b'"hello"', "", "invalid_body"),
    ("empty list", b"[]", "", "invalid_body"),
    ("rows not a list", b'{"rows": {"a": 1}}', "", "invalid_body"),
    ("row not an object", b'{"rows": [1, 2]}', "", "invalid_body"),
    ("missing features", b'{"seller_id": "S1"}', "", "missing_feature"),
    (
        "missing one feature",
        lambda s: json.dumps(
            {k: v for k, v in json.loads(_with(s)).items() if k != _required(s)}
        ).encode(),
        "",
        "missing_feature",
    ),
    ("text feature", lambda s: _with(s, **{_feature(s): "cheap"}), "", "wrong_type"),
    ("boolean feature", lambda s: _with(s, **{_feature(s): True}), "", "wrong_type"),
    ("list feature", lambda s: _with(s, **{_feature(s): [1, 2]}), "", "wrong_type"),
    ("object feature", lambda s: _with(s, **{_feature(s): {"v": 1}}), "", "wrong_type"),
    ("object id", lambda s: _with(s, seller_id={"a": 1}), "", "wrong_type"),
    (
        "overflowing float",
        lambda s: _with(s).replace(b"}", b', "' + _feature(s).encode() + b'": 1e999}'),
        "",
        "non_finite",
    ),
    (
        "huge integer",
        lambda s: _with(s).replace(
            b"}", b', "' + _feature(s).encode() + b'": 1' + b"0" * 400 + b"}"
        ),
        "",
        "non_finite",
    ),
    ("bad explain", lambda s: _with(s), "explain=maybe", "invalid_param"),
    ("zero top_k", lambda s: _with(s), "top_k=0", "invalid_param"),
    ("text top_k", lambda s: _with(s), "top_k=three", "invalid_param"),
    ("top_k over features", lambda s: _with(s), "top_k=99", "invalid_param"),
    ("bad language", lambda s: _with(s), "language=fr", "invalid_param"),
    ("bad as_of", lambda s: _with(s), "as_of=yesterday", "invalid_param"),
    ("unknown query param", lambda s: _with(s), "verbose=1", "invalid_param"),
    (
        "unknown body key",
        lambda s: b'{"rows": [' + _with(s) + b'], "debug": true}',
        "",
        "invalid_param",
    ),
    (
        "bad top_k in body",
        lambda s: b'{"rows": [' + _with(s) + b'], "top_k": true}',
        "",
        "invalid_param",
    ),
    (
        "duplicate ids in a batch",
        lambda s: b"[" + _with(s) + b"," + _with(s) + b"]",
        "",
        "invalid_input",
    ),
    (
        "null where the model forbids it",
        lambda s: _with(s, **{_not_null(s): None}),
        "",
        "invalid_input",
    ),
]


@pytest.mark.parametrize(("name", "body", "query", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_structured_400(client, local_scorer, model_v1, name, body, query, code):
    data = body(local_scorer) if callable(body) else body
    path = f"/score?{query}" if query else "/score"
    status, headers, raw = client.request("POST", path, data)
    text = raw.decode()
    assert status == 400, text
    assert headers["content-type"].startswith("application/json")
    error = json.loads(text)["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == code, text
    assert len(error["message"]) > 20
    for leak in ("Traceback", "stack_trace", 'File "', ".py", str(model_v1), "/home", "/tmp"):
        assert leak not in text
    # the server keeps answering on the same connection
    assert client.post("/score", _good(local_scorer))[0] == 200


def _post_early_answer(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    """Send a POST's headers only and read the answer the server gives before the body.

    The server answers an oversized ``Content-Length`` at once and closes; a plain client
    still sending the body then fails with a broken pipe (or the close resets the answer
    away) instead of reading the 413, so the body is never sent here.
    """
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    header, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in header.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return status, rest[:length]


def test_body_over_the_limit_is_413(server, local_scorer):
    big = b'{"rows": [' + b",".join([json.dumps(_good(local_scorer)).encode()] * 10_000) + b"]}"
    assert len(big) > 1 << 20
    status, raw = _post_early_answer(server, "/score", big)
    assert status == 413
    assert json.loads(raw)["error"]["code"] == "payload_too_large"
    assert "1048576" in json.loads(raw)["error"]["message"]
    client = Client(server)
    assert client.post("/score", _good(local_scorer))[0] == 200
    client.close()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/score", 405, "method_not_allowed"),
        ("POST", "/invocations", 404, "not_found"),
        ("DELETE", "/ready", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_are_json(client, method, path, status, code):
    got, _, raw = client.request(method, path, b"{}" if method == "POST" else None)
    assert got == status
    assert json.loads(raw)["error"]["code"] == code


def _counter(text: str, endpoint: str, status: int) -> int:
    pattern = (
        rf'^riskscore_http_requests_total\{{endpoint="{re.escape(endpoint)}",method="POST",'
        rf'status="{status}"\}} (\d+)$'
    )
    found = re.search(pattern, text, re.M)
    return int(found.group(1)) if found else 0


def _hist_count(text: str, endpoint: str) -> int:
    found = re.search(
        rf"^riskscore_http_request_duration_seconds_count"
        rf'\{{endpoint="{re.escape(endpoint)}"\}} (\d+)$',
        text,
        re.M,
    )
    return int(found.group(1)) if found else 0


def test_metrics_count_requests(client, local_scorer):
    status, before = client.get("/metrics")
    assert status == 200
    before_text = before.decode()
    row = _good(local_scorer)
    for _ in range(3):
        assert client.post("/score", row)[0] == 200
    assert client.request("POST", "/score", b"{")[0] == 400
    status, headers, after = client.request("GET", "/metrics")
    text = after.decode()
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    assert _counter(text, "/score", 200) == _counter(before_text, "/score", 200) + 3
    assert _counter(text, "/score", 400) == _counter(before_text, "/score", 400) + 1
    assert _hist_count(text, "/score") == _hist_count(before_text, "/score") + 4
    buckets = [
        int(v)
        for v in re.findall(
            r"^riskscore_http_request_duration_seconds_bucket"
            r'\{endpoint="/score",le="[^"]+"\} (\d+)$',
            text,
            re.M,
        )
    ]
    assert buckets == sorted(buckets) and buckets[-1] == _hist_count(text, "/score")
    assert 'riskscore_model_info{name="riskscore-seller-demo",version="1"' in text
