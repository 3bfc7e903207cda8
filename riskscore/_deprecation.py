"""Deprecation shims for renamed or keyword-only arguments of the public API.

A public name that changes keeps working for one release with a ``DeprecationWarning``
that names the new spelling (as scikit-learn and pandas do). Two shapes occur:

- an argument renamed (``n_boot`` → ``n_bootstrap``): :func:`renamed_argument` picks the
  value and warns when the old name was used;
- arguments made keyword-only (``build_training_set(tables, entity, *, target=...)``):
  :func:`keyword_only_after` accepts the old positional call, warns naming each keyword,
  and forwards the values as keywords;
- an attribute renamed (``Scorer.id_column`` → ``Scorer.id_col``): :func:`renamed_attribute`
  is a read-only property under the old name that warns and returns the new attribute.

Only the standard library is imported here: this module sits in the base layer.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from riskscore.exceptions import ParameterError

__all__ = ["keyword_only_after", "renamed_argument", "renamed_attribute"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_argument(
    new_value: Any, old_value: Any, *, new: str, old: str, where: str, default: Any
) -> Any:
    """Return the value of a renamed argument, warning when the old name was used.

    ``old_value`` is ``None`` unless the caller used the old name. Giving both names (the
    new one away from its ``default``) is refused.

    Examples
    --------
    >>> renamed_argument(200, None, new="n_bootstrap", old="n_boot", where="f", default=200)
    200
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_argument(200, 50, new="n_bootstrap", old="n_boot", where="f", default=200)
    50
    >>> print(caught[0].message)
    f: 'n_boot' is deprecated and will be removed in a future release; use 'n_bootstrap' instead.
    """
    if old_value is None:
        return new_value
    if new_value is not default and new_value != default:
        raise ParameterError(
            f"{where} got both '{new}' and its deprecated name '{old}'. Pass only '{new}'."
        )
    warnings.warn(
        f"{where}: '{old}' is deprecated and will be removed in a future release; "
        f"use '{new}' instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value


def keyword_only_after(n_positional: int, *, legacy: int | None = None) -> Callable[[F], F]:
    """Make the parameters after the first ``n_positional`` keyword-only, with a shim.

    The decorated function declares them keyword-only already; a call that still passes
    them by position works for one release and warns with a ``DeprecationWarning`` naming
    the keyword(s) to use. ``legacy`` is how many of the keyword-only parameters (in
    order) used to be positional; default all of them.

    Examples
    --------
    >>> @keyword_only_after(1)
    ... def f(a, *, b=0, c=0):
    ...     return a, b, c
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(1, 2, 3)
    (1, 2, 3)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    f: passing b, c by position is deprecated...; use f(..., b=..., c=...).
    >>> f(1, c=5)
    (1, 0, 5)
    """

    def decorate(func: F) -> F:
        params = list(inspect.signature(func).parameters.values())
        keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        keyword_only = keyword_only[:legacy] if legacy is not None else keyword_only
        name = func.__name__

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > n_positional:
                extra = args[n_positional:]
                if len(extra) > len(keyword_only):
                    raise ParameterError(
                        f"{name} takes {n_positional} positional argument(s); got "
                        f"{len(args)}. Pass the others by keyword, e.g. "
                        f"{', '.join(keyword_only)}."
                    )
                names = keyword_only[: len(extra)]
                given = [n for n in names if n in kwargs]
                if given:
                    raise ParameterError(
                        f"{name} got {', '.join(given)} both by position and by keyword; "
                        "pass them by keyword only."
                    )
                warnings.warn(
                    f"{name}: passing {', '.join(names)} by position is deprecated and will "
                    f"stop working in a future release; use {name}(..., "
                    + ", ".join(f"{n}=..." for n in names)
                    + ").",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs.update(zip(names, extra, strict=True))
                args = args[:n_positional]
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def renamed_attribute(new: str, old: str, *, owner: str) -> property:
    """Return a read-only property for the old name ``old`` of the attribute ``new``.

    Reading it warns with a ``DeprecationWarning`` naming ``owner.new`` and returns the
    value of ``new``; it cannot be set.

    Examples
    --------
    >>> class Table:
    ...     id_col = "seller_id"
    ...     id_column = renamed_attribute("id_col", "id_column", owner="Table")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Table().id_column
    'seller_id'
    >>> print(caught[0].message)
    Table.id_column is deprecated and will be removed in a future release; use Table.id_col instead.
    """

    def getter(self: Any) -> Any:
        warnings.warn(
            f"{owner}.{old} is deprecated and will be removed in a future release; "
            f"use {owner}.{new} instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    getter.__name__ = old
    getter.__doc__ = f"Deprecated name of :attr:`{new}` (read-only; warns)."
    return property(getter)
