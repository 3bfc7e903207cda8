"""The synthetic marketplace simulator: demo data, docs examples and test fixtures.

:func:`make_marketplace` returns the contract tables of :mod:`riskscore.schema` plus a
``truth`` table (the simulated seller types) for evaluation only. :class:`Scenario`
switches (named in :data:`SCENARIOS`) make it harder: drift, label noise, camouflaged
rings, honest look-alikes, missing brands. :func:`add_digital_goods` turns a share of the
shops into sellers of e-books, software and courses (genuine or pirated) and adds their
daily ``listing_views``. By default the tables start in a steady state: they hold
:data:`WARMUP_DAYS` of history before the period (see :func:`make_marketplace`).
"""

from __future__ import annotations

from riskscore.datasets._digital import add_digital_goods
from riskscore.datasets._marketplace import WARMUP_DAYS, make_marketplace
from riskscore.datasets._scenario import SCENARIOS, Scenario
from riskscore.datasets._sellers import SELLER_TYPES

__all__ = [
    "SCENARIOS",
    "SELLER_TYPES",
    "WARMUP_DAYS",
    "Scenario",
    "add_digital_goods",
    "make_marketplace",
]
