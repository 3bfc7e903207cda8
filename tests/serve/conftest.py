"""Fixtures of the serving tests: saved model folders and a real ``riskscore serve`` process.

The model is the five-feature demo seller model (:func:`riskscore.scoring._demo.demo_model`,
the one the scoring contract tests use), saved as a local RiskModel folder whose
metadata says version ``"1"`` (``model_v2`` is the same model saved as version ``"2"``).
:func:`start_server` runs ``python -m riskscore serve`` on a free 127.0.0.1 port in its
own process group and stops it with SIGTERM.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench._servers import free_port, running
from riskscore.scoring import Scorer

#: Seconds to wait for a server to answer /health (imports are slow on a busy machine).
START_TIMEOUT = 180


def save_demo(folder: Path, version: str) -> Path:
    """Save the demo model to ``folder`` with ``version`` in its metadata."""
    from riskscore.scoring._demo import demo_model

    model = copy.copy(demo_model())
    model.metadata = {**model.metadata, "version": version}
    return model.save(folder)


@pytest.fixture(scope="session")
def model_v1(tmp_path_factory) -> Path:
    """The demo model saved as version "1"."""
    return save_demo(tmp_path_factory.mktemp("serve-model") / "v1", "1")


@pytest.fixture(scope="session")
def model_v2(tmp_path_factory) -> Path:
    """The demo model saved as version "2"."""
    return save_demo(tmp_path_factory.mktemp("serve-model") / "v2", "2")


@pytest.fixture(scope="session")
def local_scorer(model_v1) -> Scorer:
    """An in-process scorer of ``model_v1`` (what the server should agree with)."""
    from riskscore.modeling import RiskModel

    return Scorer(RiskModel.load(model_v1), num_threads=1)


class Client:
    """A keep-alive HTTP/1.1 client of one server (one connection, not thread-safe)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; return (status, headers, body). Reconnects when closed."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.conn.close()
                return response.status, dict(response.getheaders()), data
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, data: Any) -> tuple[int, Any]:
        """POST ``data`` (bytes as is, else JSON); return (status, parsed JSON answer)."""
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        status, _, raw = self.request("POST", path, body)
        return status, json.loads(raw)

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path``; return (status, body)."""
        status, _, raw = self.request("GET", path)
        return status, raw

    def close(self) -> None:
        self.conn.close()


@contextmanager
def start_server(
    model: str | os.PathLike[str], *args: str, log: Path, wait_ready: bool = True
) -> Iterator[int]:
    """Run ``riskscore serve model *args`` on a free port; yield the port."""
    port = free_port()
    command = [sys.executable, "-m", "riskscore", "serve", os.fspath(model), "--port", str(port)]
    ready = "/ready" if wait_ready else "/health"
    with running([*command, *args], port=port, ready=ready, log=log, timeout=START_TIMEOUT):
        yield port


@pytest.fixture(scope="module")
def server(model_v1, tmp_path_factory) -> Iterator[int]:
    """``riskscore serve model_v1`` (no reload polling); yields its port."""
    log = tmp_path_factory.mktemp("serve-log") / "server.log"
    with start_server(model_v1, "--reload-seconds", "0", log=log) as port:
        yield port


@pytest.fixture
def client(server) -> Iterator[Client]:
    """A keep-alive client of ``server``."""
    c = Client(server)
    yield c
    c.close()


def demo_rows(scorer: Scorer, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` JSON-ready rows of the demo model's features with ids ``S0000``..."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"seller_id": f"S{i:04d}"}
        for j, name in enumerate(scorer.feature_names):
            if j % 2:
                row[name] = int(rng.integers(0, 40))  # JSON integers are numbers too
            else:
                row[name] = round(float(rng.uniform(0, 3)), 4)
        rows.append(row)
    return rows
