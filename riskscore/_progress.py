"""Progress of long steps: rich bars on a terminal, one plain line per step elsewhere.

Every step that can take more than a couple of seconds (feature families, model fits,
bootstrap, refits, prequential windows, scoring chunks, the network build) reports
through this module, so one switch decides what a user sees:

* ``"off"`` — nothing. **The default in library calls**: a notebook or a service that
  imports riskscore gets no output it did not ask for.
* ``"rich"`` — rich progress bars and spinners on stderr (a terminal).
* ``"plain"`` — one line per step on stderr, e.g. ``features: pricing (3/7) 2.1 s``
  (logs, CI, captured output: no cursor tricks, nothing to strip).
* ``"auto"`` — ``"rich"`` when stderr is a terminal, else ``"plain"``.

The ``riskscore`` command sets ``"auto"`` (``--quiet`` sets ``"off"``); library users call
:func:`set_progress` or set ``RISKSCORE_PROGRESS`` (``auto``, ``plain``, ``rich``, ``off``,
``1`` = ``auto``, ``0`` = ``off``). Reporting never changes a result.

Three calls cover the steps:

* :func:`status` — one line, for a short note between steps;
* :func:`step` — a context manager around one long call (a spinner, then its duration);
* :func:`track` — an iterator wrapper over a known number of items (families,
  windows, replicates), and :func:`task` for a count advanced by chunks (rows).

Examples
--------
>>> import sys
>>> from riskscore._progress import set_progress, step, track
>>> previous, saved = set_progress("plain"), sys.stderr
>>> sys.stderr = sys.stdout  # show here what a log would hold
>>> for name in track(["account", "pricing"], "features", timed=False):
...     pass
features: account (1/2)
features: pricing (2/2)
>>> with step("train", "fitting LightGBM", timed=False):
...     pass
train: fitting LightGBM ...
train: fitting LightGBM done
>>> sys.stderr = saved
>>> _ = set_progress(previous)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from riskscore.exceptions import ParameterError

__all__ = [
    "Mode",
    "progress_mode",
    "requested",
    "set_progress",
    "status",
    "step",
    "task",
    "track",
]

#: What :func:`set_progress` accepts.
Mode = Literal["auto", "plain", "rich", "off"]

_T = TypeVar("_T")
_MODES: tuple[str, ...] = ("auto", "plain", "rich", "off")
_ALIASES = {"1": "auto", "true": "auto", "on": "auto", "0": "off", "false": "off", "": "off"}
#: Plain mode prints every item of loops up to this size, else a line every few seconds.
_EVERY_ITEM = 20
_PLAIN_INTERVAL = 2.0

_lock = threading.RLock()
_state: dict[str, Any] = {"mode": None, "live": None, "depth": 0}


def _parse(mode: Any, source: str) -> str:
    if mode is True:
        return "auto"
    if mode is False or mode is None:
        return "off"
    text = str(mode).strip().lower()
    text = _ALIASES.get(text, text)
    if text not in _MODES:
        raise ParameterError(
            f"{source}: unknown progress mode {mode!r}; use one of auto, plain, rich, off "
            "(or True/False)"
        )
    return text


def _from_env() -> str:
    return _parse(os.environ.get("RISKSCORE_PROGRESS", "off"), "RISKSCORE_PROGRESS")


def set_progress(mode: Mode | bool | None) -> str | None:
    """Choose how long steps report progress; return the previous setting.

    Parameters
    ----------
    mode : {"auto", "plain", "rich", "off"}, bool or None
        ``True`` means ``"auto"``, ``False`` means ``"off"``, ``None`` means "as the
        ``RISKSCORE_PROGRESS`` environment variable says" (default ``"off"``).

    Returns
    -------
    str or None
        The previous setting, to restore it later.

    Raises
    ------
    ParameterError
        For any other value.

    Examples
    --------
    >>> previous = set_progress("plain")
    >>> progress_mode()
    'plain'
    >>> _ = set_progress(previous)
    """
    new = None if mode is None else _parse(mode, "set_progress")
    with _lock:
        old: str | None = _state["mode"]
        _state["mode"] = new
    return old


def progress_mode() -> Literal["plain", "rich", "off"]:
    """Return the effective mode now: ``"auto"`` resolved against stderr.

    Examples
    --------
    >>> previous = set_progress("off")
    >>> progress_mode()
    'off'
    >>> _ = set_progress(previous)
    """
    mode = _state["mode"]
    if mode is None:
        mode = _from_env()
    if mode == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        mode = "rich" if callable(isatty) and isatty() else "plain"
    return mode  # type: ignore[no-any-return]


@contextmanager
def requested(show: bool) -> Iterator[None]:
    """Honour a call's own ``progress=`` argument for the duration of the block.

    ``True`` turns reporting on (``"auto"``) when it is off, ``False`` turns it off; the
    setting is restored afterwards. For functions whose signature already promised a
    progress bar (such as :func:`riskscore.scoring.score_batch`).

    Examples
    --------
    >>> with requested(False):
    ...     progress_mode()
    'off'
    """
    with _lock:
        before = _state["mode"]
        if not show:
            _state["mode"] = "off"
        elif progress_mode() == "off":
            _state["mode"] = "auto"
    try:
        yield
    finally:
        with _lock:
            _state["mode"] = before


def _plain(line: str) -> None:
    with _lock:
        print(line, file=sys.stderr, flush=True)


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


@contextmanager
def _live() -> Iterator[Any]:
    """Yield the one rich Progress shown at a time; nested steps add rows to it."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with _lock:
        if _state["live"] is None:
            live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            live.start()
            _state["live"] = live
        _state["depth"] += 1
        live = _state["live"]
    try:
        yield live
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                live.stop()
                _state["live"] = None


def _done(live: Any, text: str) -> None:
    """Leave ``✓ text`` above the live display (no markup: paths may hold brackets)."""
    from rich.text import Text

    live.console.print(Text.assemble(("✓ ", "green"), text))


def status(message: str) -> None:
    """Report one line (e.g. what starts next), when progress is on.

    Examples
    --------
    >>> status("nothing is printed: progress is off in library calls")
    """
    mode = progress_mode()
    if mode == "plain":
        _plain(message)
    elif mode == "rich":
        from rich.console import Console

        live = _state["live"]
        console = live.console if live is not None else Console(stderr=True)
        console.print(message, highlight=False, markup=False)


@contextmanager
def step(label: str, detail: str, *, timed: bool = True) -> Iterator[None]:
    """Report one long call: ``label: detail ...`` when it starts, its duration at the end.

    Parameters
    ----------
    label : str
        The stage (``features``, ``train``, ``scoring``...).
    detail : str
        What runs, in plain words.
    timed : bool, default True
        Print the duration (off for reproducible output such as doctests).

    Examples
    --------
    >>> with step("train", "fitting LightGBM"):  # silent: progress is off by default
    ...     pass
    """
    mode = progress_mode()
    if mode == "off":
        yield
        return
    started = time.perf_counter()
    if mode == "plain":
        _plain(f"{label}: {detail} ...")
        yield
        took = _seconds(time.perf_counter() - started) if timed else "done"
        _plain(f"{label}: {detail} {took}")
        return
    with _live() as live:
        row = live.add_task(f"{label}: {detail}", total=None)
        try:
            yield
        finally:
            live.remove_task(row)
        took = _seconds(time.perf_counter() - started) if timed else "done"
        _done(live, f"{label}: {detail} {took}")


def track(
    items: Iterable[_T],
    label: str,
    *,
    total: int | None = None,
    describe: Callable[[_T], str] | None = None,
    timed: bool = True,
) -> Iterator[_T]:
    """Yield ``items``, reporting each one done: ``label: item (i/n) 2.1 s``.

    Loops of more than 20 items (bootstrap replicates, chunks) report a line every two
    seconds and at the end instead of one per item.

    Parameters
    ----------
    items : iterable
    label : str
        The stage, e.g. ``features``.
    total : int, optional
        Number of items (default ``len(items)`` when it has one).
    describe : callable, optional
        Turns an item into its name in the line (default ``str``); ``None`` entries of a
        long loop are not named.
    timed : bool, default True
        Print durations.

    Examples
    --------
    >>> [x for x in track(range(3), "windows")]  # silent: progress is off by default
    [0, 1, 2]
    """
    mode = progress_mode()
    if mode == "off":
        yield from items
        return
    if total is None:
        total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    name = describe or str
    n = "?" if total is None else str(total)
    every = total is not None and total <= _EVERY_ITEM
    started = last = time.perf_counter()
    if mode == "plain":
        for i, item in enumerate(items, start=1):
            begun = time.perf_counter()
            yield item
            now = time.perf_counter()
            if every:
                took = f" {_seconds(now - begun)}" if timed else ""
                _plain(f"{label}: {name(item)} ({i}/{n}){took}")
            elif now - last >= _PLAIN_INTERVAL or i == total:
                took = f" {_seconds(now - started)}" if timed else ""
                _plain(f"{label}: {i}/{n}{took}")
                last = now
        return
    with _live() as live:
        row = live.add_task(label, total=total)
        try:
            for item in items:
                live.update(row, description=f"{label}: {name(item)}" if every else label)
                yield item
                live.advance(row)
        finally:
            live.remove_task(row)
        if timed:
            took = _seconds(time.perf_counter() - started)
            _done(live, f"{label} ({n}) {took}")


@contextmanager
def task(label: str, total: int, *, unit: str = "rows") -> Iterator[Callable[[int], None]]:
    """Report a count advanced in chunks; yield ``advance(n)``.

    Plain mode prints ``label: 50,000/200,000 rows (25%) 4.1 s, 12,195 rows/s`` at most
    every two seconds and when the count is complete; a terminal shows a bar with the
    time left.

    Examples
    --------
    >>> with task("scoring", 10) as advance:  # silent: progress is off by default
    ...     advance(10)
    """
    mode = progress_mode()
    if mode == "off":
        yield lambda n: None
        return
    started = time.perf_counter()
    if mode == "plain":
        seen = [0, started]

        def advance_plain(n: int) -> None:
            seen[0] += n
            now = time.perf_counter()
            if now - seen[1] >= _PLAIN_INTERVAL or seen[0] >= total:
                share = f" ({seen[0] / total:.0%})" if total else ""
                rate = seen[0] / max(now - started, 1e-9)
                _plain(
                    f"{label}: {seen[0]:,}/{total:,} {unit}{share} {_seconds(now - started)}, "
                    f"{rate:,.0f} {unit}/s"
                )
                seen[1] = now

        yield advance_plain
        return
    with _live() as live:
        row = live.add_task(f"{label} ({unit})", total=total)
        reached = [0]

        def advance_rich(n: int) -> None:
            reached[0] += n
            live.advance(row, n)

        try:
            yield advance_rich
        finally:
            live.remove_task(row)
        took = _seconds(time.perf_counter() - started)
        # a count that stopped short (early stopping) says how far it got
        count = f"{total:,}" if reached[0] >= total else f"{reached[0]:,}/{total:,}"
        _done(live, f"{label}: {count} {unit} {took}")
