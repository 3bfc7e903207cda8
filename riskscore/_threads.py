"""Run numpy and scipy work in one thread per core this process may use.

numpy's sorts and element-wise arithmetic, Polars' sorts and scipy's sparse products
release the GIL on large arrays, so independent pieces of one computation (the seller
web's link types, the label walk's blocks of columns) run side by side in threads, with
no copies and no processes to start.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["cores", "parallel_map"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def cores() -> int:
    """Return the number of cores this process may use (its CPU affinity on Linux).

    Examples
    --------
    >>> cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """Return ``[func(x) for x in items]``, in threads when there is more than one of each.

    Results keep the order of ``items``; the first exception raised by ``func`` is
    raised here.

    Examples
    --------
    >>> parallel_map(lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    """
    workers = min(cores(), len(items))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
