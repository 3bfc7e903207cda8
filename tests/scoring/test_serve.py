"""``mlflow models serve`` on 127.0.0.1 answers /invocations like score_many."""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.request

import pandas as pd
import pytest

from bench._servers import model_server
from riskscore.scoring import load_scorer
from riskscore.scoring._load import clear_cache
from riskscore.scoring._pyfunc import to_pyfunc_frame

pytestmark = [pytest.mark.server, pytest.mark.slow]


def post(url: str, body: bytes, timeout: float = 60) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def server(logged, tmp_path_factory):
    """The logged model served by ``mlflow models serve`` (local env) on a free port."""
    tracking, uri = logged
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with model_server(uri, log=log, env={"MLFLOW_TRACKING_URI": tracking}, timeout=180) as base:
        yield base, uri, tracking


def _records(frame: pd.DataFrame) -> dict:
    data = [
        [None if isinstance(v, float) and math.isnan(v) else v for v in row]
        for row in frame.itertuples(index=False)
    ]
    return {"dataframe_split": {"columns": list(frame.columns), "data": data}}


def test_invocations_equal_score_many(server, trained, monkeypatch):
    base, uri, tracking = server
    frame = trained.test_frame[trained.model.feature_names].head(40).reset_index(drop=True)
    status, body = post(f"{base}/invocations", json.dumps(_records(frame)).encode())
    assert status == 200, body
    got = pd.DataFrame(json.loads(body)["predictions"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    clear_cache()
    scorer = load_scorer(uri)
    expected = to_pyfunc_frame(scorer.score_many(frame, explain="all"), scorer.top_k)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        got[["risk_score", "band", "reasons"]],
        expected[["risk_score", "band", "reasons"]],
        check_dtype=False,
    )
    pd.testing.assert_series_equal(got["score"], expected["score"], rtol=1e-12)

    request = {**_records(frame.head(5)), "params": {"explain": "none"}}
    status, body = post(f"{base}/invocations", json.dumps(request).encode())
    assert status == 200, body
    assert all(p["reasons"] == [] for p in json.loads(body)["predictions"])


def test_malformed_json_is_a_400_with_a_message(server):
    base, _, _ = server
    status, body = post(f"{base}/invocations", b'{"dataframe_split": {"columns": ["a"], ')
    assert status == 400, body
    assert "message" in json.loads(body)
    status, body = post(
        f"{base}/invocations",
        json.dumps({"dataframe_split": {"columns": ["nope"], "data": [[1.0]]}}).encode(),
    )
    assert status == 400, body
    assert "pricing__" in body or "missing" in body.lower()


def test_scoring_errors_are_riskscores_message_without_a_stack_trace(server, trained):
    """Issue 14, item 11: a 400 with riskscore's own message, never a server traceback."""
    base, _, _ = server
    frame = trained.test_frame[trained.model.feature_names].head(3).reset_index(drop=True)
    feature = trained.model.feature_names[0]
    cases = [
        ({**_records(frame), "params": {"explain": "maybe"}}, "The 'explain' parameter must be"),
        ({**_records(frame), "params": {"top_k": 500}}, r"'top_k' parameter must be an int"),
        ({**_records(frame), "params": {"language": "fr"}}, "The 'language' parameter must be"),
        ({**_records(frame), "params": {"lang": "fr"}}, "The 'lang' parameter must be 'en'"),
    ]
    bad = _records(frame)
    bad["dataframe_split"]["data"][1][0] = math.inf  # sent as Infinity, which the server reads
    cases.append((bad, rf"invalid feature values.*'{feature}' is inf"))
    for request, message in cases:
        status, text = post(f"{base}/invocations", json.dumps(request).encode())
        assert status == 400, text
        answer = json.loads(text)
        assert "stack_trace" not in answer and "Traceback" not in text
        assert "/site-packages/" not in text and ".py" not in text
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
        assert re.search(message, answer["riskscore_message"]), answer
        assert answer["message"].endswith(answer["riskscore_message"])
        assert "unexpected error while evaluating the model" not in text
