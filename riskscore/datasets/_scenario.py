"""Scenario switches of :func:`make_marketplace` that break the simulator's easy patterns.

The default marketplace plants the very patterns riskscore's features look for: bad
sellers are cheap, complained about, say "高仿" out loud, behave the same all year, and
enforcement labels them cleanly within months. Each switch removes one of those comforts
so a model (and the training diagnostics) can be tested against data that fights back:

``drift``
    Fraud (fake-phone bursts and click farms) is confined to the first
    :data:`DRIFT_SPLIT` of the period: a pattern that appears, then stops. Counterfeiters
    that turn bad after the split have learnt from enforcement: they price like honest
    shops, drop replica words and draw few counterfeit complaints. And at the split the
    complaint form loses its "counterfeit" option, so later counterfeit complaints are
    filed as ``not_as_described``: a feature distribution that flips between early and
    late periods. Why: real fraud comes in waves, and a model trained on last quarter's
    wave meets a different one.
``label_noise``
    Enforcement is slow and imperfect: label delays are long and variable (20 days plus
    a log-normal with median :data:`LABEL_DELAY_MEDIAN` days, so many labels fall after
    the period), :data:`LABEL_MISSING` of the bad sellers enforcement would have caught
    are never labelled, :data:`LABEL_FLIP` of seller labels carry the wrong kind (fraud
    vs counterfeit), and :data:`LABEL_FALSE` of honest sellers are labelled by mistake.
    Why: labels are the noisiest table a risk team owns.
``camouflage``
    Every ring member is camouflaged and camouflage is complete: prices like an honest
    shop, honest complaint rates and kinds, ordinary titles, ordinary regions. Alone each
    member looks normal; only the shared identifiers and buyers give the ring away.
``honest_lookalikes``
    :data:`SCALE_MODEL_SHARE` of sellers are honest model shops whose titles say "1:1
    scale", "1:1 比例", "1:18 diecast"; :data:`EXTRA_DISCOUNT_SHARE` of sellers turn
    into discounters, and every discounter sells genuine goods at 0.40-0.65x reference
    (outlets, grey imports, clearance), inside the counterfeit price range. None of them
    is ever labelled. Why: low prices and "1:1" are evidence, not proof.
``selective_enforcement``
    Labels are the outcomes of reviews, as on a real platform: each month the current
    champion sends its top-scored sellers to review and a random audit draws a small
    share of all active sellers (twice as many new ones) whatever their score; reviews
    confirm or clear, a few confirmations are mistakes and some are reversed on appeal
    (see :mod:`riskscore.datasets._enforcement`). Bad sellers the champion does not see
    stay unlabelled. Why: almost every real label follows a review the current system
    triggered, so metrics on all labels measure the sample it chose.
``concept_shift``
    The same features, a new fraud pattern: fake-phone shops that start after
    :data:`CONCEPT_SPLIT` of the period are dormant accounts taken over (registered
    200-1,700 days earlier), selling through the catalogue their owner listed while the
    shop was active (listings dated between registration and 180 days before the
    takeover), at 0.90-1.05x market price with ordinary titles, regions and cancellation
    rates — and they still take the money and do not deliver, so non-delivery complaints
    and refunds follow their orders within days. Feature distributions barely move; what
    moves is the relation between features and fraud. Why: a label-free performance
    estimate is valid only under covariate shift, and the monitor must say when fast
    proxy outcomes contradict it. (Without the old listings a model trained before the
    shift still ranked the new shops by the age of their first listing, AUC 0.987: no
    concept shift as far as the model was concerned.)
``missing_brand``
    The brand field is empty on :data:`MISSING_BRAND_SHARE` of branded listings of
    honest shops and :data:`MISSING_BRAND_SHARE_COUNTERFEIT` of counterfeit listings
    (counterfeiters leave it out to slip past brand-protection filters). Titles still
    name the brand. Why: real catalogues have holes, and brand-level features must not
    assume the field is filled.

Scenario draws come from their own generator (seeded from ``seed``), so the default
marketplace is byte-identical with or without this module, and a switch changes the
sellers it targets rather than reshuffling the whole simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from riskscore.exceptions import DatasetError

__all__ = ["SCENARIOS", "Scenario", "resolve_scenario"]

#: drift: fraction of the period after which fraud stops and counterfeiters go quiet.
DRIFT_SPLIT = 0.4
#: label_noise: median of the log-normal part of the label delay, in days.
LABEL_DELAY_MEDIAN = 90.0
#: label_noise: spread (sigma of the log) of the label delay.
LABEL_DELAY_SIGMA = 0.8
#: label_noise: share of would-be-labelled bad sellers whose label never comes.
LABEL_MISSING = 0.2
#: label_noise: share of seller labels with the wrong kind (fraud <-> counterfeit).
LABEL_FLIP = 0.15
#: label_noise: share of honest sellers labelled by mistake (the default is 0.002).
LABEL_FALSE = 0.02
#: honest_lookalikes: share of all sellers turned into honest scale-model shops.
SCALE_MODEL_SHARE = 0.04
#: honest_lookalikes: share of all sellers turned (from legit) into discounters.
EXTRA_DISCOUNT_SHARE = 0.04
#: honest_lookalikes: price ratio range of every discounter.
DISCOUNT_RATIO = (0.40, 0.65)
#: missing_brand: share of branded listings of other shops without a brand.
MISSING_BRAND_SHARE = 0.3
#: missing_brand: share of counterfeit listings without a brand.
MISSING_BRAND_SHARE_COUNTERFEIT = 0.6

#: concept_shift: fraction of the period after which fake-phone shops are taken-over accounts.
CONCEPT_SPLIT = 0.5

#: What a scenario made of a seller (``truth.scenario_role``), by code.
ROLES: tuple[str, ...] = (
    "",
    "early_fraud",
    "late_quiet",
    "hidden_ring",
    "scale_model",
    "discounter",
    "takeover",
)
NO_ROLE, EARLY_FRAUD, LATE_QUIET, HIDDEN_RING, SCALE_MODEL, DISCOUNTER, TAKEOVER = range(len(ROLES))


@dataclass(frozen=True)
class Scenario:
    """Switches that make the simulated marketplace harder (all off by default).

    See :mod:`riskscore.datasets._scenario` (and :func:`make_marketplace`) for what each
    switch does and why.

    Parameters
    ----------
    drift : bool, default False
        Fraud only in early months; late counterfeiters quiet; complaint form changes.
    label_noise : bool, default False
        Long, variable label delays; missing, flipped and false labels.
    camouflage : bool, default False
        Ring members look normal alone; only the links give them away.
    honest_lookalikes : bool, default False
        Honest "1:1 scale" model shops and deep (honest) discounters.
    missing_brand : bool, default False
        Listings whose brand field is empty.
    selective_enforcement : bool, default False
        Labels come from reviews the current champion triggers plus a random audit
        (not part of ``"hard"``: it changes what is measured, not what is learnt).
    concept_shift : bool, default False
        Late fake-phone shops are taken-over old accounts with old listings, at market
        prices (not part of
        ``"hard"``: it exists to test the monitor's warning, not to train on).

    Examples
    --------
    >>> Scenario(drift=True, camouflage=True).active
    ('drift', 'camouflage')
    >>> SCENARIOS["label_noise"] == Scenario(label_noise=True)
    True
    """

    drift: bool = False
    label_noise: bool = False
    camouflage: bool = False
    honest_lookalikes: bool = False
    missing_brand: bool = False
    selective_enforcement: bool = False
    concept_shift: bool = False

    @property
    def active(self) -> tuple[str, ...]:
        """Names of the switches that are on, in declaration order."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


SWITCHES: tuple[str, ...] = tuple(f.name for f in fields(Scenario))
#: The switches ``"hard"`` turns on: the ones that make learning harder.
HARD_SWITCHES: tuple[str, ...] = (
    "drift",
    "label_noise",
    "camouflage",
    "honest_lookalikes",
    "missing_brand",
)

#: Named scenarios: ``"default"`` (all off), one per switch, and ``"hard"`` (every
#: switch of :data:`HARD_SWITCHES` on).
SCENARIOS: dict[str, Scenario] = {
    "default": Scenario(),
    **{name: Scenario(**{name: True}) for name in SWITCHES},
    "hard": Scenario(**dict.fromkeys(HARD_SWITCHES, True)),
}


def resolve_scenario(scenario: object) -> Scenario:
    """Return the :class:`Scenario` named or given by ``scenario``.

    Raises
    ------
    DatasetError
        When ``scenario`` is neither a known name, a :class:`Scenario`, nor None.
    """
    if scenario is None:
        return SCENARIOS["default"]
    if isinstance(scenario, Scenario):
        for f in fields(Scenario):
            if not isinstance(getattr(scenario, f.name), bool):
                raise DatasetError(
                    f"The '{f.name}' switch of Scenario must be a bool. "
                    f"Got {getattr(scenario, f.name)!r} instead."
                )
        return scenario
    if isinstance(scenario, str) and scenario in SCENARIOS:
        return SCENARIOS[scenario]
    raise DatasetError(
        "The 'scenario' parameter of make_marketplace must be a Scenario or one of "
        f"{sorted(SCENARIOS)}. Got {scenario!r} instead."
    )


def scenario_rng(seed: int) -> np.random.Generator:
    """Return the scenarios' own generator, independent of the simulation's main stream."""
    return np.random.default_rng([seed, 0x5CE7A])
