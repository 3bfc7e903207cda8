"""``riskscore serve`` swaps in a changed model without dropping a request, and waits for one."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from tests.serve.conftest import Client, demo_rows, save_demo, start_server

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _point(link: Path, target: Path) -> None:
    """Atomically make the symlink ``link`` point at ``target`` (like ``ln -sfn``)."""
    tmp = link.with_name(link.name + ".tmp")
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(target, target_is_directory=True)
    os.replace(tmp, link)


class Load:
    """Threads posting one row each, in a loop, recording (status, model_version)."""

    def __init__(self, port: int, row: dict, threads: int = 4) -> None:
        self.port = port
        self.body = json.dumps(row).encode()
        self.stop = threading.Event()
        self.seen: list[list[tuple[int, str | None]]] = [[] for _ in range(threads)]
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in range(threads)]

    def _run(self, k: int) -> None:
        client = Client(self.port)
        for _ in range(1_000_000):
            if self.stop.is_set():
                break
            try:
                status, _, raw = client.request("POST", "/score", self.body)
                version = json.loads(raw).get("model_version") if status == 200 else None
            except OSError:
                status, version = -1, None
            self.seen[k].append((status, version))
        client.close()

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def versions(self) -> set[str | None]:
        return {v for seen in self.seen for _, v in seen}

    def wait_for(self, version: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while version not in self.versions():
            assert time.monotonic() < deadline, f"version {version} never served"
            time.sleep(0.05)


def _reloads(port: int, outcome: str) -> int:
    client = Client(port)
    _, text = client.get("/metrics")
    client.close()
    found = re.search(
        rf'riskscore_model_reloads_total\{{outcome="{outcome}"\}} (\d+)', text.decode()
    )
    assert found
    return int(found.group(1))


def test_swap_folder_under_load_drops_nothing(tmp_path, local_scorer):
    v1 = save_demo(tmp_path / "v1", "1")
    v2 = save_demo(tmp_path / "v2", "2")
    current = tmp_path / "current"
    _point(current, v1)
    row = demo_rows(local_scorer, 1, seed=7)[0]
    with start_server(current, "--reload-seconds", "0.2", log=tmp_path / "server.log") as port:
        with Load(port, row) as load:
            load.wait_for("1")
            time.sleep(0.5)
            _point(current, v2)  # the atomic deploy: a symlink swap
            load.wait_for("2")
            time.sleep(0.5)
            save_demo(v2, "3")  # a non-atomic rewrite in place, file by file
            load.wait_for("3")
            broken = tmp_path / "broken"
            broken.mkdir()
            (broken / "riskmodel.json").write_text("{not json")
            (broken / "model.txt").write_text("not a model")
            _point(current, broken)  # a bad deploy: the old model keeps serving
            deadline = time.monotonic() + 30
            while _reloads(port, "failed") < 1:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
            time.sleep(0.5)
        assert _reloads(port, "ok") == 2
        client = Client(port)
        status, body = client.get("/ready")
        client.close()
        assert status == 200 and json.loads(body)["model_version"] == "3"
    statuses = [s for seen in load.seen for s, _ in seen]
    assert len(statuses) > 100
    assert set(statuses) == {200}, "requests failed during the reloads"
    assert load.versions() == {"1", "2", "3"}
    order = {"1": 1, "2": 2, "3": 3}
    for seen in load.seen:  # each client sees versions move forward only
        ranks = [order[v] for _, v in seen if v is not None]
        assert ranks == sorted(ranks)


def test_not_ready_until_the_model_appears(tmp_path, local_scorer):
    folder = tmp_path / "later"
    with start_server(
        folder,
        "--wait-for-model",
        "--reload-seconds",
        "0.2",
        log=tmp_path / "server.log",
        wait_ready=False,
    ) as port:
        client = Client(port)
        assert client.get("/health")[0] == 200
        status, body = client.get("/ready")
        assert status == 503
        error = json.loads(body)["error"]
        assert error["code"] == "not_ready"
        assert str(tmp_path) not in body.decode()
        row = demo_rows(local_scorer, 1)[0]
        assert client.post("/score", row) == (503, json.loads(body))
        save_demo(tmp_path / "staging", "7").rename(folder)
        deadline = time.monotonic() + 30
        while client.get("/ready")[0] != 200:
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        status, answer = client.post("/score", row)
        assert status == 200 and answer["model_version"] == "7"
        client.close()
