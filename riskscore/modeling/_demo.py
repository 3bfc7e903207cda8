"""A small generated training set with the shape ``build_training_set`` returns.

Used by doctests, tests and benchmarks of the modeling layer, so they do not depend on the
feature builders. Each entity has a latent risk; its label at each cutoff is drawn from
that risk (so labels are sticky over time, as real fraud labels are) and a few feature
columns are noisy functions of it, while others are pure noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real, fail

__all__ = ["make_training_table"]


def make_training_table(
    n_entities: int = 500,
    n_cutoffs: int = 6,
    *,
    positive_rate: float = 0.05,
    seed: int = 0,
    start: str = "2024-01-01",
    freq: str = "MS",
    with_category: bool = False,
    signal: float = 1.0,
) -> pd.DataFrame:
    """Generate ``n_entities`` × ``n_cutoffs`` rows of features and a 0/1 label.

    Parameters
    ----------
    n_entities : int, default 500
    n_cutoffs : int, default 6
    positive_rate : float, default 0.05
        Approximate share of positive rows.
    seed : int, default 0
    start, freq : str
        First cutoff and spacing (a pandas frequency; ``"MS"`` is month starts).
    with_category : bool, default False
        Add a categorical column ``profile__region`` (pandas ``category``), whose
        ``"xx"`` level carries extra risk.
    signal : float, default 1.0
        Strength of the informative features (0 makes every feature noise).

    Returns
    -------
    pandas.DataFrame
        Columns ``entity_id`` (str), ``cutoff`` (datetime), ``label`` (int 0/1) and float
        features named ``<family>__<feature>``, sorted by cutoff then entity.

    Raises
    ------
    ParameterError
        A count below 1, a negative ``seed``, a ``positive_rate`` outside (0, 1), a
        non-finite ``signal``, or a ``start`` / ``freq`` pandas cannot read.

    Examples
    --------
    >>> t = make_training_table(100, 3, seed=1)
    >>> t.shape
    (300, 10)
    >>> t.columns[:4].tolist()
    ['entity_id', 'cutoff', 'label', 'profile__account_age_days']
    """
    where = "make_training_table"
    n = check_int(n_entities, "n_entities", where, minimum=1)
    c = check_int(n_cutoffs, "n_cutoffs", where, minimum=1)
    positive_rate = check_real(
        positive_rate, "positive_rate", where, low=0.0, high=1.0, low_open=True, high_open=True
    )
    signal = check_real(signal, "signal", where)
    seed = check_int(seed, "seed", where, minimum=0)
    try:
        cutoffs = pd.date_range(start, periods=c, freq=freq)
    except (TypeError, ValueError, OverflowError) as err:
        raise fail(
            "start/freq",
            where,
            "a timestamp and a pandas frequency (e.g. '2024-01-01' and 'MS')",
            (start, freq),
            fix=f"pandas said: {err}",
        ) from None
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    region = rng.choice(np.array(["eu", "us", "apac", "xx"]), size=n, p=[0.4, 0.35, 0.2, 0.05])
    size = rng.lognormal(3.0, 1.0, size=n)
    age0 = rng.exponential(300.0, size=n)
    days = np.asarray((cutoffs - cutoffs[0]).days, dtype=np.float64)

    ent = np.repeat(np.arange(n), c)
    cut = np.tile(np.arange(c), n)
    r = risk[ent] + 0.3 * rng.normal(size=n * c)
    logit = 1.6 * r + 0.8 * (region[ent] == "xx") - 0.4 * np.log1p(age0[ent] / 100)
    # shift the intercept so that the mean probability is close to the asked positive rate
    lo, hi = -20.0, 10.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) > positive_rate:
            hi = mid
        else:
            lo = mid
    label = (rng.random(n * c) < 1 / (1 + np.exp(-(logit + lo)))).astype(np.int64)

    def noisy(x: np.ndarray, scale: float) -> np.ndarray:
        return x + scale * rng.normal(size=x.size)

    s = signal
    frame = pd.DataFrame(
        {
            "entity_id": np.char.add("e", np.arange(n).astype(str))[ent],
            "cutoff": cutoffs[cut],
            "label": label,
            "profile__account_age_days": age0[ent] + days[cut],
            "orders__n_orders_30d": np.round(size[ent] * np.exp(0.2 * rng.normal(size=n * c))),
            "complaints__rate_90d": np.clip(noisy(0.02 + 0.03 * s * r, 0.03), 0, None),
            "listings__price_ratio_median": noisy(1.0 - 0.15 * s * r, 0.15),
            "network__shared_ids": rng.poisson(np.exp(0.6 * s * r - 0.5)).astype(np.float64),
            "noise__a": rng.normal(size=n * c),
            "noise__b": rng.uniform(size=n * c),
        }
    )
    missing = rng.random(n * c) < 0.1
    frame.loc[missing, "complaints__rate_90d"] = np.nan
    if with_category:
        frame["profile__region"] = pd.Categorical(
            region[ent], categories=["apac", "eu", "us", "xx"]
        )
    return frame.sort_values(["cutoff", "entity_id"], kind="stable").reset_index(drop=True)
