"""Actions, their order, and how a model band and the rules that fired make one decision.

Precedence (one function, :func:`combine`, for one record; its vectorised twin in
:mod:`riskscore.rules._many` is tested equal to it):

1. The model's band maps to an action through the rule set's ``band_actions``
   (default ``low``/``medium`` → ``allow``, ``high`` → ``review``, ``critical`` → ``hold``).
   Without a score the model contributes nothing (``allow``).
2. A fired rule marked ``override: true`` (only ``allow`` rules may be) replaces the
   model's action with ``allow``. It never lowers another rule's action.
3. The strictest action wins: ``allow`` < ``review`` < ``hold`` < ``block``, over the
   (possibly overridden) model action and every fired rule.
4. Rules are ordered strictest action first, then higher ``priority``, then name;
   ``rules_fired`` lists every fired rule in that order. ``decided_by`` names who set the
   final action: the first fired (non-override) rule in that order when its action is
   stricter than the model's, or equal to it (a rule is explicit, so it is named rather
   than the band); else the first fired override rule; else the model band
   (``band:<name>``); else ``default`` (no score, no rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIONS", "DEFAULT_BAND_ACTIONS", "Decision", "combine"]

#: The actions, from the mildest to the strictest.
ACTIONS: tuple[str, ...] = ("allow", "review", "hold", "block")

#: Model band -> action when the rule set does not say otherwise.
DEFAULT_BAND_ACTIONS: dict[str, str] = {
    "low": "allow",
    "medium": "allow",
    "high": "review",
    "critical": "hold",
}


@dataclass(frozen=True)
class Decision:
    """The decision for one entity.

    Parameters
    ----------
    action : {"allow", "review", "hold", "block"}
    decided_by : str
        The rule that set the action, ``band:<band>`` when the model band did, or
        ``default`` (no score and no rule).
    rules_fired : tuple of str
        Every rule whose condition was TRUE, in precedence order.
    reasons : tuple of str
        The fired rules' reason texts (in the asked language), then the model's top
        reasons.
    band : str or None
        The model band the decision started from.
    rule_set : str
        ``<name>@<version>`` of the rule set.
    entity_id : str or None

    Examples
    --------
    >>> d = Decision("review", "new_shop", ("new_shop",), ("New shop",), "low", "m@1", "S1")
    >>> d.to_dict()["rules_fired"]
    ['new_shop']
    """

    action: str
    decided_by: str
    rules_fired: tuple[str, ...] = field(default_factory=tuple)
    reasons: tuple[str, ...] = field(default_factory=tuple)
    band: str | None = None
    rule_set: str = ""
    entity_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as a JSON-serialisable dict (lists, not tuples)."""
        return {
            "entity_id": self.entity_id,
            "action": self.action,
            "decided_by": self.decided_by,
            "rules_fired": list(self.rules_fired),
            "reasons": list(self.reasons),
            "band": self.band,
            "rule_set": self.rule_set,
        }


def combine(
    fired: Sequence[tuple[str, str, bool]], band: str | None, band_actions: dict[str, str]
) -> tuple[str, str]:
    """Return ``(action, decided_by)`` from the fired rules and the model band.

    ``fired`` lists ``(name, action, override)`` of the fired rules in precedence order.

    Examples
    --------
    >>> combine([], "critical", DEFAULT_BAND_ACTIONS)
    ('hold', 'band:critical')
    >>> combine([("trusted", "allow", True)], "critical", DEFAULT_BAND_ACTIONS)
    ('allow', 'trusted')
    >>> combine([("big", "block", False), ("trusted", "allow", True)], "high",
    ...         DEFAULT_BAND_ACTIONS)
    ('block', 'big')
    """
    rank = ACTIONS.index
    base = rank(band_actions[band]) if band is not None else -1
    override = next((name for name, _, o in fired if o), None)
    if override is not None:
        base = 0
    top = next(((name, act) for name, act, o in fired if not o), None)
    if top is not None and (rank(top[1]) > base or (rank(top[1]) == base and override is None)):
        return top[1], top[0]
    if override is not None:
        return "allow", override
    if band is not None:
        return ACTIONS[base], f"band:{band}"
    return "allow", "default"
