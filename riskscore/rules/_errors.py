"""The error a rule set raises: :class:`RuleError`, a ``RiskscoreError``."""

from __future__ import annotations

from riskscore.exceptions import RiskscoreError

__all__ = ["RuleError", "caret"]


class RuleError(RiskscoreError, ValueError):
    """A rule set cannot be loaded or applied as given.

    The message says what is wrong, where (file, rule name, position in the
    expression with a caret under it), what was expected, what came and the fix.

    Examples
    --------
    >>> from riskscore.rules import RuleSet
    >>> try:
    ...     RuleSet.from_dict({"name": "x", "version": "1", "rules": [
    ...         {"name": "r", "when": "risk_scor >= 900", "action": "block",
    ...          "reason": {"en": "e", "zh": "z"}}]})
    ... except RuleError as err:
    ...     print(str(err).splitlines()[0])
    rule 'r': unknown column 'risk_scor' at position 1 of its condition
    """


def caret(text: str, pos: int) -> str:
    """Return ``text`` and a caret under character ``pos`` (0-based), indented.

    Examples
    --------
    >>> print(caret("a >> b", 3))
        a >> b
           ^
    """
    return f"    {text}\n    {' ' * pos}^"
