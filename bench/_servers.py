"""Start an MLflow server process on 127.0.0.1, wait until it answers, stop it by its id.

One helper for the benchmarks and the tests (``from bench._servers import ...`` works from
the repository root, where both run):

* :func:`model_server` — ``mlflow models serve -m <model> --env-manager local``, ready when
  ``/ping`` answers 200;
* :func:`tracking_server` — ``mlflow server`` with a SQLite backend and proxied artifacts,
  ready when ``/health`` answers 200;
* :func:`running` — the loop under both: start a command in its own process group, poll a
  URL, yield the base URL, then SIGTERM the group (SIGKILL after 30 s).

The ``mlflow`` executable is the one beside the running interpreter, and that ``bin``
folder is put first on ``PATH`` (``--env-manager local`` needs it to find the venv).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["BIN", "ServerError", "free_port", "model_server", "running", "tracking_server"]

#: The venv's ``bin`` folder (where ``mlflow`` lives).
BIN = Path(sys.executable).parent


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message holds its log's tail."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now.

    Examples
    --------
    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path, n: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


@contextmanager
def running(
    command: Sequence[str],
    *,
    port: int,
    ready: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 240.0,
) -> Iterator[str]:
    """Run ``command`` until the block ends; yield ``http://127.0.0.1:<port>`` once it is up.

    Parameters
    ----------
    command : sequence of str
        The server command line (it must listen on ``port``).
    port : int
    ready : str
        Path polled until it answers HTTP 200, e.g. ``"/ping"``.
    log : path
        File that receives the server's stdout and stderr.
    env : mapping, optional
        Extra environment variables (on top of ``os.environ``; ``PATH`` starts with
        :data:`BIN`).
    timeout : float, default 240
        Seconds to wait for ``ready``.

    Raises
    ------
    ServerError
        The process exited, or ``ready`` did not answer within ``timeout``; the message
        ends with the last lines of ``log``.

    Examples
    --------
    >>> import sys, tempfile
    >>> from pathlib import Path
    >>> port = free_port()
    >>> command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with running(command, port=port, ready="/", log=Path(tmp) / "log") as url:
    ...         url == f"http://127.0.0.1:{port}"
    True
    """
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(command),
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers stop with it
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerError(f"{command[0]} exited ({proc.returncode}):\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{base}{ready}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(
                    f"no answer from {base}{ready} within {timeout:.0f} s:\n{_tail(log)}"
                )
            time.sleep(0.5)
        yield base
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group we started (by our child's id), SIGKILL after 30 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:  # already gone
        proc.wait(timeout=30)


@contextmanager
def model_server(
    model_uri: str,
    *,
    log: Path,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    timeout: float = 240.0,
) -> Iterator[str]:
    """``mlflow models serve`` the model at ``model_uri`` (local env); yield its base URL.

    ``env`` may carry ``MLFLOW_TRACKING_URI`` for a ``models:/`` URI.
    """
    port = free_port()
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        str(workers),
    ]
    with running(command, port=port, ready="/ping", log=log, env=env, timeout=timeout) as url:
        yield url


@contextmanager
def tracking_server(folder: Path, *, workers: int = 1, timeout: float = 240.0) -> Iterator[str]:
    """``mlflow server`` with ``folder/server.db`` and ``folder/artifacts``; yield its URL.

    The log is ``folder/server.log``.
    """
    port = free_port()
    command = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'server.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with running(
        command, port=port, ready="/health", log=folder / "server.log", timeout=timeout
    ) as url:
        yield url
