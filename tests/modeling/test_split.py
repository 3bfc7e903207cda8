from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskscore.exceptions import TrainingError
from riskscore.modeling import (
    SIDES,
    make_split,
    make_training_table,
    rolling_splits,
    stratified_split,
    time_split,
)


def _entities(frame: pd.DataFrame, idx: np.ndarray) -> set[str]:
    return set(frame.iloc[idx]["entity_id"])


def test_time_split_orders_windows(table: pd.DataFrame) -> None:
    s = time_split(table, id_col="entity_id", time_col="cutoff")
    cut = table["cutoff"]
    assert cut.iloc[s.train].max() == pd.Timestamp("2024-04-01")
    assert set(cut.iloc[s.valid]) == set(cut.iloc[s.calib]) == {pd.Timestamp("2024-05-01")}
    assert set(cut.iloc[s.test]) == {pd.Timestamp("2024-06-01")}
    assert s.mode == "time"
    assert "each entity on one side only" in s.description


def test_time_split_keeps_each_entity_on_one_side(table: pd.DataFrame) -> None:
    s = time_split(table, id_col="entity_id", time_col="cutoff")
    sides = [_entities(table, s.side(n)) for n in SIDES]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not sides[i] & sides[j], (SIDES[i], SIDES[j])
    # an entity kept on train keeps all its older cutoffs
    counts = table.iloc[s.train].groupby("entity_id").size()
    assert set(counts) == {4}
    assert s.dropped == len(table) - sum(len(s.side(n)) for n in SIDES)
    # about 60/10/10/20 of the entities
    shares = np.array([len(x) for x in sides]) / 1500
    np.testing.assert_allclose(shares, [0.6, 0.1, 0.1, 0.2], atol=0.04)


def test_time_split_does_not_depend_on_row_order(table: pd.DataFrame) -> None:
    a = time_split(table, id_col="entity_id", time_col="cutoff", seed=3)
    shuffled = table.sample(frac=1.0, random_state=1)
    b = time_split(shuffled, id_col="entity_id", time_col="cutoff", seed=3)
    for name in SIDES:
        assert _entities(table, a.side(name)) == _entities(shuffled, b.side(name))


def test_seed_changes_the_assignment(table: pd.DataFrame) -> None:
    a = time_split(table, id_col="entity_id", time_col="cutoff", seed=0)
    b = time_split(table, id_col="entity_id", time_col="cutoff", seed=1)
    assert _entities(table, a.test) != _entities(table, b.test)


def test_one_row_per_entity_loses_nothing() -> None:
    t = make_training_table(300, 6, seed=2)
    t["entity_id"] = [f"row{i}" for i in range(len(t))]
    s = time_split(t, id_col="entity_id", time_col="cutoff")
    assert s.dropped == 0
    assert len(s.train) == 1200 and len(s.test) == 300


def test_entity_overlap_allowed_when_asked(table: pd.DataFrame) -> None:
    s = time_split(table, id_col="entity_id", time_col="cutoff", entity_disjoint=False)
    assert len(s.train) == 6000 and len(s.test) == 1500
    assert _entities(table, s.train) & _entities(table, s.test)
    assert not _entities(table, s.valid) & _entities(table, s.calib)


def test_gap_drops_rows_too_close_to_the_next_side(table: pd.DataFrame) -> None:
    s = time_split(table, id_col="entity_id", time_col="cutoff", gap="31D", valid_windows=1)
    assert table["cutoff"].iloc[s.train].max() == pd.Timestamp("2024-03-01")
    assert set(table["cutoff"].iloc[s.test]) == {pd.Timestamp("2024-06-01")}
    assert "in the gap" in s.description
    with pytest.raises(TrainingError, match=r"no rows on side\(s\) \['train'\].*gap"):
        time_split(table, id_col="entity_id", time_col="cutoff", gap="200D")


def test_too_few_windows_is_a_clear_error() -> None:
    t = make_training_table(100, 2, seed=0)
    with pytest.raises(TrainingError, match=r"2 window.*needs at least 3.*stratified"):
        time_split(t, id_col="entity_id", time_col="cutoff")


def test_missing_time_is_an_error(table: pd.DataFrame) -> None:
    t = table.copy()
    t.loc[3, "cutoff"] = pd.NaT
    with pytest.raises(TrainingError, match="1 missing value"):
        time_split(t, id_col="entity_id", time_col="cutoff")


def test_event_table_uses_equal_count_windows() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    t = pd.DataFrame(
        {
            "account": [f"a{i}" for i in range(n)],
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 90, n), unit="D"),
        }
    )
    s = time_split(t, id_col="account", time_col="ts")
    assert len(s.train) == 600 and len(s.valid) + len(s.calib) == 200 and len(s.test) == 200
    assert t["ts"].iloc[s.train].max() < t["ts"].iloc[s.valid].min()
    assert t["ts"].iloc[s.calib].max() < t["ts"].iloc[s.test].min()


@settings(max_examples=25, deadline=None)
@given(
    n_cutoffs=st.integers(3, 8),
    test_windows=st.integers(1, 2),
    valid_windows=st.integers(1, 2),
    seed=st.integers(0, 1000),
    disjoint=st.booleans(),
)
def test_no_later_cutoff_ever_reaches_training(
    n_cutoffs: int, test_windows: int, valid_windows: int, seed: int, disjoint: bool
) -> None:
    t = make_training_table(60, n_cutoffs, seed=seed)
    t = t.sample(frac=0.8, random_state=seed)  # ragged: not every entity at every cutoff
    if n_cutoffs < test_windows + valid_windows + 1:
        with pytest.raises(TrainingError):
            time_split(
                t,
                id_col="entity_id",
                time_col="cutoff",
                test_windows=test_windows,
                valid_windows=valid_windows,
            )
        return
    try:
        s = time_split(
            t,
            id_col="entity_id",
            time_col="cutoff",
            test_windows=test_windows,
            valid_windows=valid_windows,
            seed=seed,
            entity_disjoint=disjoint,
        )
    except TrainingError as err:  # an empty side on a tiny ragged table is allowed to fail
        assert "leaves no rows" in str(err)
        return
    cut = t["cutoff"]
    assert cut.iloc[s.train].max() < cut.iloc[np.r_[s.valid, s.calib]].min()
    assert cut.iloc[np.r_[s.valid, s.calib]].max() < cut.iloc[s.test].min()
    if disjoint:
        sides = [_entities(t, s.side(n)) for n in SIDES]
        assert sum(len(x) for x in sides) == len(set().union(*sides))


def test_stratified_split_keeps_positive_share(table: pd.DataFrame) -> None:
    s = stratified_split(table, id_col="entity_id", label_col="label")
    assert s.mode == "stratified"
    ever = table.groupby("entity_id")["label"].max()
    for name in SIDES:
        ents = _entities(table, s.side(name))
        assert abs(ever[list(ents)].mean() - ever.mean()) < 0.03
    sides = [_entities(table, s.side(n)) for n in SIDES]
    assert sum(len(x) for x in sides) == 1500


def test_make_split_says_when_it_falls_back(table: pd.DataFrame) -> None:
    with pytest.warns(UserWarning, match="no time column.*stratified"):
        s = make_split(table, id_col="entity_id", time_col=None, label_col="label")
    assert s.mode == "stratified"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            make_split(table, id_col="entity_id", time_col="cutoff", label_col="label").mode
            == "time"
        )


def test_rolling_splits_step_back_in_time(table: pd.DataFrame) -> None:
    splits = rolling_splits(table, id_col="entity_id", time_col="cutoff", n_windows=3)
    tests = [s.windows["test"][0] for s in splits]
    assert tests == [pd.Timestamp(f"2024-0{m}-01") for m in (6, 5, 4)]
    for s in splits:
        assert table["cutoff"].iloc[s.train].max() < s.windows["valid"][0] < s.windows["test"][0]
    with pytest.raises(TrainingError):
        rolling_splits(table, id_col="entity_id", time_col="cutoff", n_windows=5)


def test_bad_fractions(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="four positive numbers"):
        time_split(table, id_col="entity_id", time_col="cutoff", fractions=(1, 0, 1, 1))
    with pytest.raises(TrainingError, match=r"four positive numbers .* Got \(nan, 1, 1, 1\)"):
        time_split(table, id_col="entity_id", time_col="cutoff", fractions=(np.nan, 1, 1, 1))
    with pytest.raises(TrainingError, match=r"four positive numbers .* Got 'abcd'"):
        stratified_split(table, id_col="entity_id", label_col="label", fractions="abcd")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda t: time_split(t, id_col="entity_id", time_col="cutoff", gap="soon"),
            r"'gap' parameter of time_split must be a non-negative time span",
        ),
        (
            lambda t: time_split(None, id_col="entity_id", time_col="cutoff"),
            r"'frame' parameter of time_split must be a pandas DataFrame",
        ),
        (lambda t: time_split(t.iloc[:0], id_col="entity_id", time_col="cutoff"), r"no rows"),
        (
            lambda t: time_split(t, id_col="entity_id", time_col="cutoff", max_cutoffs="x"),
            r"'max_cutoffs' parameter of time_split must be an int >= 1",
        ),
        (
            lambda t: time_split(t, id_col="entity_id", time_col="cutoff", end_window=99),
            r"'end_window' parameter .* below 6",
        ),
        (
            lambda t: stratified_split(t, id_col="entity_id", label_col="nope"),
            r"stratified_split: column\(s\) \['nope'\] are not in the table",
        ),
        (
            lambda t: make_split(
                t, id_col="entity_id", time_col="cutoff", label_col="label", nope=1
            ),
            r"make_split got unknown keyword argument\(s\) \['nope'\]",
        ),
        (
            lambda t: rolling_splits(t, id_col="entity_id", time_col="cutoff", n_windows=0),
            r"'n_windows' parameter of rolling_splits must be an int >= 1",
        ),
        (
            lambda t: time_split(t, id_col="entity_id", time_col="cutoff").side("nope"),
            r"'name' parameter of Split.side must be one of \['train', 'valid', 'calib', 'test'\]",
        ),
    ],
)
def test_bad_arguments_are_training_errors(table: pd.DataFrame, call: Any, match: str) -> None:
    with pytest.raises(TrainingError, match=match):
        call(table)


def test_ids_must_be_present_and_hashable(table: pd.DataFrame) -> None:
    t = table.copy()
    t.loc[t.index[:2], "entity_id"] = None
    with pytest.raises(TrainingError, match=r"id column 'entity_id' has 2 missing value\(s\)"):
        time_split(t, id_col="entity_id", time_col="cutoff")
    t["entity_id"] = [[1]] * len(t)
    with pytest.raises(
        TrainingError, match=r"id column 'entity_id' holds values that cannot be ids"
    ):
        stratified_split(t, id_col="entity_id", label_col="label")
