"""Fast proxy outcomes that say when the label-free estimate cannot be trusted."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.monitor import MonitorError, ProxyOutcomes, proxy_check, proxy_outcomes


def _groups(flagged: tuple[int, int, float], unflagged: tuple[int, int, float]) -> dict:
    out = {}
    for name, (n, k, e) in (("flagged", flagged), ("unflagged", unflagged)):
        out[name] = {
            "sellers": n / 10,
            "orders": float(n),
            "with_proxy": float(k),
            "rate": k / n,
            "expected": e,
        }
    return out


def _tables() -> dict[str, pd.DataFrame]:
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
            "seller_id": ["S1", "S1", "S2", "S3", "S4", "S5"],
            "created_at": pd.to_datetime(
                ["2024-06-02", "2024-06-03", "2024-06-03", "2024-06-04", "2024-05-01", "2024-06-05"]
            ),
            "refunded_at": pd.to_datetime([None, None, "2024-06-10", None, "2024-06-03", None]),
        }
    )
    complaints = pd.DataFrame(
        {
            "order_id": ["O1", "O4", "O6", "O5"],
            "seller_id": ["S1", "S3", "S5", "S4"],
            "kind": ["not_received", "not_received", "not_as_described", "not_received"],
            "created_at": pd.to_datetime(["2024-06-05", "2024-07-30", "2024-06-06", "2024-06-02"]),
        }
    )
    return {"orders": orders, "complaints": complaints}


def test_proxy_outcomes_count_orders_in_the_window_and_their_complaints() -> None:
    scores = pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3", "S4", "S5"],
            "score": [0.8, 0.6, 0.1, 0.1, 0.2],
            "band": ["critical", "high", "low", "low", "medium"],
        }
    )
    out = proxy_outcomes(scores, _tables(), as_of="2024-06-01", days=30)
    # flagged: S1's two orders (one not received) and S2's one (refunded: not counted)
    assert out.groups["flagged"] == {
        "sellers": 2.0,
        "orders": 3.0,
        "with_proxy": 1.0,
        "rate": pytest.approx(1 / 3),
        "expected": pytest.approx(0.7),
    }
    # unflagged: S3's complaint is after the window, S4's order is before it, S5's
    # complaint is not a proxy kind
    assert out.groups["unflagged"]["orders"] == 2.0
    assert out.groups["unflagged"]["with_proxy"] == 0.0
    with_refunds = proxy_outcomes(scores, _tables(), as_of="2024-06-01", refunds=True)
    assert with_refunds.groups["flagged"]["with_proxy"] == 2.0
    assert out.to_dict()["days"] == 30


def test_a_rise_among_unflagged_sellers_beyond_their_probabilities_is_flagged() -> None:
    base = ProxyOutcomes("2024-05-01", 14, _groups((100, 40, 0.5), (4000, 40, 0.01)))
    now = ProxyOutcomes("2024-09-01", 14, _groups((100, 38, 0.5), (4000, 160, 0.01)))
    (finding,) = proxy_check(now, base)
    assert (finding.level, finding.kind, finding.subject) == ("act", "proxy", "unflagged")
    assert finding.value == pytest.approx(4.0)
    assert "rose from 1.00% (40 of 4000 orders" in finding.message
    assert "cannot be trusted" in finding.message


def test_a_rise_the_model_expected_is_not_flagged() -> None:
    base = ProxyOutcomes("2024-05-01", 14, _groups((100, 40, 0.5), (4000, 40, 0.01)))
    # four times the proxy outcomes, and the model gives those sellers four times the odds
    now = ProxyOutcomes("2024-09-01", 14, _groups((100, 40, 0.5), (4000, 160, 0.04)))
    assert proxy_check(now, base) == []


def test_noise_on_a_few_sellers_is_not_flagged() -> None:
    base = ProxyOutcomes("2024-05-01", 14, _groups((10, 4, 0.5), (50, 1, 0.01)))
    now = ProxyOutcomes("2024-09-01", 14, _groups((10, 4, 0.5), (50, 3, 0.01)))
    assert proxy_check(now, base) == []  # x3, but 3 of 50 vs 1 of 50 is noise


def test_a_fall_among_flagged_sellers_is_flagged() -> None:
    base = ProxyOutcomes("2024-05-01", 14, _groups((400, 200, 0.5), (4000, 40, 0.01)))
    now = ProxyOutcomes("2024-09-01", 14, _groups((400, 60, 0.5), (4000, 40, 0.01)))
    (finding,) = proxy_check(now, base)
    assert finding.subject == "flagged" and "fell from 50.00%" in finding.message


def test_bad_input_is_a_monitor_error() -> None:
    with pytest.raises(MonitorError, match="entity_id \\(or seller_id\\), score and band"):
        proxy_outcomes(pd.DataFrame({"x": [1]}), _tables(), as_of="2024-06-01")
    with pytest.raises(MonitorError, match="needs the marketplace tables with 'orders'"):
        scores = pd.DataFrame({"entity_id": ["S1"], "score": [0.1], "band": ["low"]})
        proxy_outcomes(scores, {}, as_of="2024-06-01")
    with pytest.raises(MonitorError, match="'current' parameter of proxy_check"):
        proxy_check(None, None)  # type: ignore[arg-type]


def _pattern_tables(bad: list[str], n: int = 60) -> dict[str, pd.DataFrame]:
    """Every seller sells 10 orders around 2024-06-01; ``bad`` ones draw 5 complaints."""
    sellers = [f"S{i:03d}" for i in range(n)]
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}_{j}" for i in range(n) for j in range(10)],
            "seller_id": [s for s in sellers for _ in range(10)],
            "created_at": pd.Timestamp("2024-05-25"),
        }
    )
    complaints = pd.DataFrame(
        {
            "order_id": [f"O{sellers.index(s)}_{j}" for s in bad for j in range(5)],
            "seller_id": [s for s in bad for _ in range(5)],
            "kind": "not_received",
            "created_at": pd.Timestamp("2024-06-10"),
        }
    )
    return {"orders": orders, "complaints": complaints}


def test_sellers_with_the_pattern_ranked_low_now_are_flagged() -> None:
    ids = [f"S{i:03d}" for i in range(60)]
    score = [0.9 - 0.01 * i for i in range(60)]
    scores = pd.DataFrame({"entity_id": ids, "score": score, "band": "low"})
    top, bottom = ids[:6], ids[-6:]
    base = proxy_outcomes(scores, _pattern_tables(top), as_of="2024-06-01")
    now = proxy_outcomes(scores, _pattern_tables(bottom), as_of="2024-06-01")
    assert base.ranking["auc"] == 1.0 and now.ranking["auc"] == 0.0
    assert base.ranking["sellers_with_pattern"] == 6.0
    (finding,) = proxy_check(now, base)
    assert finding.subject == "ranking" and "AUC 0.000" in finding.message
    assert proxy_check(base, base) == []
