"""Boosting rounds report progress, and reporting never changes the model.

Captured stderr is not a terminal, so progress prints plain lines there; the rich test
switches the mode explicitly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from riskscore import _progress
from riskscore.modeling import fit_lgbm, lgbm_params, random_search
from riskscore.modeling._lgbm import fit_lgbm_rounds


@pytest.fixture(autouse=True)
def no_throttle_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain mode prints only the final line of a count (a loaded machine is slow)."""
    monkeypatch.setattr(_progress, "_PLAIN_INTERVAL", 1e9)


def _early(X: np.ndarray, y: np.ndarray, rounds: int = 400) -> str:
    booster = fit_lgbm(
        X[:800],
        y[:800],
        X[800:],
        y[800:],
        params=lgbm_params(3, num_threads=1),
        feature_names=list("abcd"),
        num_boost_round=rounds,
        early_stopping_rounds=10,
    )
    return str(booster.model_to_string())


def _fixed(X: np.ndarray, y: np.ndarray, rounds: int = 40) -> str:
    booster = fit_lgbm_rounds(
        X,
        y,
        params=lgbm_params(3, num_threads=1),
        feature_names=list("abcd"),
        num_boost_round=rounds,
    )
    return str(booster.model_to_string())


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_reporting_rounds_leaves_the_model_bytes_unchanged(lgbm_data, monkeypatch, mode) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "off")
    quiet = (_early(X, y), _fixed(X, y))
    monkeypatch.setitem(_progress._state, "mode", mode)
    assert (_early(X, y), _fixed(X, y)) == quiet


def test_early_stopping_says_where_it_stopped_and_the_best_round(
    lgbm_data, monkeypatch, capsys
) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "plain")
    text = _early(X, y)
    lines = capsys.readouterr().err.splitlines()
    stop = [line for line in lines if "stopped early" in line]
    assert len(stop) == 1, lines
    got = re.fullmatch(r"boosting: stopped early at round (\d+) of 400; best round (\d+)", stop[0])
    assert got is not None, stop
    assert int(got[2]) == text.count("Tree=")  # the trimmed model holds the best round's trees
    assert int(got[1]) == int(got[2]) + 10  # ten rounds without gain after the best
    assert lines == stop  # no per-round line, and no "complete" line for a count stopped short


def test_a_fixed_count_ends_with_one_complete_line(lgbm_data, monkeypatch, capsys) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "plain")
    _fixed(X, y, rounds=40)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines  # never one line per round
    assert re.fullmatch(r"boosting: 40/40 rounds \(100%\) [\d.]+ s, [\d,]+ rounds/s", lines[0])


def test_slow_fits_print_a_count_every_few_seconds_only(lgbm_data, monkeypatch, capsys) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "plain")
    monkeypatch.setattr(_progress, "_PLAIN_INTERVAL", 0.0)  # every round is "a while later"
    _fixed(X, y, rounds=5)
    lines = capsys.readouterr().err.splitlines()
    counts = [int(m[1]) for m in map(re.compile(r"boosting: (\d)/5 rounds").match, lines) if m]
    assert counts == [1, 2, 3, 4, 5]  # the throttle decides; the callback counts every round


def test_rich_mode_names_the_round_reached_when_stopped_early(
    lgbm_data, monkeypatch, capsys
) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "rich")
    text = _early(X, y)
    err = capsys.readouterr().err
    got = re.search(r"boosting: ([\d,]+)/400 rounds", err)
    assert got is not None, err
    assert int(got[1]) == text.count("Tree=") + 10
    assert "stopped early at round" in err


def test_progress_off_prints_nothing(lgbm_data, monkeypatch, capsys) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "off")
    _early(X, y)
    _fixed(X, y)
    assert capsys.readouterr().err == ""


def test_random_search_reports_each_setting(lgbm_data, monkeypatch, capsys) -> None:
    X, y = lgbm_data
    monkeypatch.setitem(_progress._state, "mode", "plain")
    found = random_search(
        X[:800],
        y[:800],
        X[800:],
        y[800:],
        base_params=lgbm_params(0, num_threads=1),
        feature_names=list("abcd"),
        n_iter=3,
        num_boost_round=30,
    )
    err = capsys.readouterr().err
    ranks = re.findall(r"^random search: setting (\d) \((\d)/3\) [\d.]+ s$", err, re.M)
    assert ranks == [("1", "1"), ("2", "2"), ("3", "3")]
    assert len(found.trials) == 3


def test_the_paired_bootstrap_reports_its_blocks(monkeypatch, capsys) -> None:
    from riskscore.modeling import compare_paired

    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    champ = y + rng.normal(size=2000)
    frame = pd.DataFrame(
        {
            "entity_id": np.arange(2000),
            "cutoff": np.arange(2000) % 4,
            "label": y,
            "score_champion": champ,
            "score_challenger": champ,
            "flag_champion": champ > 1.5,
            "flag_challenger": champ > 1.5,
        }
    )
    monkeypatch.setitem(_progress._state, "mode", "off")
    quiet = compare_paired(frame, k=50, n_bootstrap=450).metrics
    monkeypatch.setitem(_progress._state, "mode", "plain")
    loud = compare_paired(frame, k=50, n_bootstrap=450).metrics
    lines = capsys.readouterr().err.splitlines()
    # 2,000 rows: blocks of 200 replicates, the last one short
    assert [re.sub(r" [\d.]+ s$", "", line) for line in lines] == [
        "paired bootstrap: 200 replicates (1/3)",
        "paired bootstrap: 200 replicates (2/3)",
        "paired bootstrap: 50 replicates (3/3)",
    ]
    pd.testing.assert_frame_equal(loud, quiet)  # reporting changes no draw
