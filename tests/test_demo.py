"""``riskscore demo``, the README's main job, end to end on a fresh folder."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.cli import main


@pytest.mark.slow
def test_demo_trains_registers_promotes_scores_and_explains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--bootstrap", "20", "--top", "5"])
    printed = capsys.readouterr().out
    assert code == 0, printed

    # three models, each the first version and promoted to champion
    for name in (
        "riskscore-seller-fraud",
        "riskscore-seller-counterfeit",
        "riskscore-listing-counterfeit",
    ):
        assert f"{name} version 1: promoted (champion before: none)" in printed
    from riskscore.registry import load_risk_model

    tracking = f"sqlite:///{out.resolve() / 'mlflow.db'}"
    loaded = load_risk_model("models:/riskscore-seller-fraud@champion", tracking_uri=tracking)
    assert loaded.version == "1"

    # every seller and listing is accounted for in the batch files
    sellers = pd.read_parquet(out / "data" / "sellers.parquet")
    for name, n in [
        ("riskscore-seller-fraud", len(sellers)),
        ("riskscore-seller-counterfeit", len(sellers)),
        ("riskscore-listing-counterfeit", len(pd.read_parquet(out / "data" / "listings.parquet"))),
    ]:
        scores = pd.read_parquet(out / "scores" / f"{name}.parquet")
        assert f"scored {len(scores)} + rejected" in printed and f"= {n} input ids" in printed
        risk = scores["risk_score"]
        # a float on the 0-1000 scale; beyond it only past the fitted negatives / FPR floor
        assert np.isfinite(risk).all() and risk.between(0, 1000).mean() > 0.95

    # the top sellers are printed highest risk first, each with reasons, and are the
    # highest risks of the score files
    top = re.findall(r"^(S\d+)  risk +(\d+)  (\w+) +(fraud|counterfeit)$", printed, re.M)
    assert len(top) == 5
    risks = [int(r) for _, r, _, _ in top]
    assert risks == sorted(risks, reverse=True)
    best = max(
        pd.read_parquet(out / "scores" / f"riskscore-seller-{t}.parquet")["risk_score"].max()
        for t in ("fraud", "counterfeit")
    )
    assert risks[0] == round(best)  # printed rounded; the files hold the float
    worst = top[0][0]
    page = out / "evidence" / f"{worst}.html"
    assert page.exists() and worst in page.read_text(encoding="utf-8")

    # acting on the scores: decisions for the top sellers, one legal threshold result, the
    # buyers still exposed, and one case file that reads back to the same decision
    decisions = re.findall(r"^(S\d+)  risk +\d+  \w+ +-> (\w+)", printed, re.M)
    assert [s for s, _ in decisions] == [s for s, _, _, _ in top]
    assert {a for _, a in decisions} <= {"allow", "review", "hold", "block"}
    assert "[8] legal threshold: Article 217 pack" in printed
    warned = pd.read_csv(out / "warnings.csv")
    from riskscore.warn import WARNING_COLUMNS

    assert list(warned.columns) == list(WARNING_COLUMNS)
    from riskscore.case import read_case

    (zipped,) = (out / "cases").glob(f"*{worst}*.zip")
    assert read_case(zipped).action in {"allow", "review", "hold", "block"}
