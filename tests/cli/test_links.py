"""``riskscore links --model``: the web of a seller with every member's score."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.features.network import seller_web
from riskscore.scoring import Scorer
from tests.scoring.conftest import AS_OF


@pytest.mark.slow
def test_links_with_a_model_prints_each_linked_sellers_score(
    marketplace: dict[str, pd.DataFrame],
    data_dir: Path,
    model_dir: Path,
    seller_scorer: Scorer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    shared = tables["sellers"].groupby("return_address")["seller_id"].transform("size")
    seller = str(tables["sellers"].loc[shared.idxmax(), "seller_id"])  # in the largest ring
    web = seller_web(tables, seller, AS_OF)
    assert len(web) >= 2, "the fixture marketplace should hold a seller with two links"

    code = main(
        ["links", seller, "--data", str(data_dir), "--as-of", AS_OF, "--model", str(model_dir)]
    )
    out = capsys.readouterr().out
    assert code == 0, out

    ids = [seller, *web["seller_id"]]
    expected = seller_scorer.score_entities(tables, ids, AS_OF, explain="none")
    shown = {
        str(sid): f"{score:.3f} ({band})"
        for sid, score, band in zip(
            expected["seller_id"], expected["score"], expected["band"], strict=True
        )
    }
    assert f"  {seller} scores {shown[seller]}" in out
    for line in out.splitlines():
        first = line.split()[0] if line.strip() else ""
        if first in shown and first != seller:
            assert shown[first] in line, line
    linked = set(web["seller_id"])
    rows = [line for line in out.splitlines() if line.split()[:1] and line.split()[0] in linked]
    assert len(rows) == len(web)  # one row per linked seller, each with its score
