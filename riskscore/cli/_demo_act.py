"""The acting half of ``riskscore demo``: decisions, a legal threshold, buyer warnings, a case.

After the demo has scored the marketplace, it shows what a risk-operations team does with
the scores (issue 16): decisions for the riskiest sellers (model bands plus the rules of
:data:`DEMO_RULES`), one legal-threshold result (the Article 217 pack over a copy of the
marketplace with digital goods added; never legal advice), the buyers still exposed to
flagged shops, and one case file an enforcement team can take away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

__all__ = ["DEMO_RULES", "act_on_scores"]

#: The demo's rule set: the documentation's examples on catalog features only.
DEMO_RULES: dict[str, Any] = {
    "name": "demo",
    "version": "1",
    "entity": "seller",
    "band_actions": {"low": "allow", "medium": "allow", "high": "review", "critical": "hold"},
    "rules": [
        {
            "name": "new_shop_far_below_market",
            "version": 1,
            "when": "account__age_days < 30 AND pricing__median_price_ratio < 0.5",
            "action": "review",
            "priority": 50,
            "reason": {
                "en": "New shop (under 30 days) selling at under half the market price",
                "zh": "新开店铺（不足30天）以低于市场价一半的价格销售",
            },
        },
        {
            "name": "linked_to_banned_shops",
            "version": 1,
            "when": "network__bad_neighbours >= 3",
            "action": "hold",
            "priority": 50,
            "reason": {
                "en": "Linked to 3 or more shops already banned",
                "zh": "关联店铺中已有3家及以上被处置",
            },
        },
        {
            "name": "very_high_risk_score",
            "version": 1,
            "when": "risk_score >= 900",
            "action": "block",
            "priority": 100,
            "reason": {"en": "Model risk score 900 or higher", "zh": "模型风险分不低于900"},
        },
    ],
}


def act_on_scores(
    tables: dict[str, Any],
    ranked: Any,
    seller_scores: dict[str, Any],
    scorers: dict[str, Any],
    out: Path,
    as_of: Any,
    seed: int,
) -> None:
    """Print steps 7-10 of the demo and write the case file under ``out / "cases"``."""
    import pandas as pd

    from riskscore.case import write_case
    from riskscore.datasets import add_digital_goods
    from riskscore.features import build_features
    from riskscore.rules import RuleSet
    from riskscore.rules.packs import cn_article_217_online_works as cn217
    from riskscore.scoring import Scorer
    from riskscore.warn import summarize_warnings, warn_buyers

    rules = RuleSet.from_dict(DEMO_RULES, source="riskscore demo")
    worst, target = str(ranked["seller_id"].iloc[0]), str(ranked["target"].iloc[0])
    base = scorers[target]
    scorer = Scorer(
        base.model, model_name=base.model_name, model_version=base.model_version, rules=rules
    )
    ids = ranked["seller_id"].astype(str).tolist()
    features = build_features(tables, "seller", as_of=as_of, ids=ids)
    decided = scorer.score_many(features.loc[ids])
    typer.echo(
        f"\n[7] decisions for the {len(ids)} riskiest sellers ({target} model + rule set "
        f"'{rules.name}' v{rules.version})"
    )
    for row in decided.to_dict("records"):
        fired = row.get("rules_fired") or []
        names = ", ".join(fired) if isinstance(fired, list | tuple) else str(fired or "")
        typer.echo(
            f"{row['seller_id']}  risk {row['risk_score']:>4.0f}  {row['band']:<8}  "
            f"-> {row['action']:<6}  {('rules: ' + names) if names else '(band only)'}"
        )

    typer.echo("\n[8] legal threshold: Article 217 pack (pirated digital goods; not legal advice)")
    digital = add_digital_goods(tables, share=0.1, seed=seed)
    digital.pop("truth", None)
    start, end = as_of - pd.Timedelta(days=365), as_of
    screened = cn217.screen(digital, start, end)
    if len(screened):
        legal = cn217.evaluate(digital, str(screened["seller_id"].iloc[0]), start, end)
        typer.echo(legal.to_markdown())
    else:
        typer.echo("no seller with confirmed digital-goods sales in the period")

    flagged = seller_scores["fraud"]
    warned = warn_buyers(tables, flagged, as_of=as_of, min_band="high")
    path = out / "warnings.csv"
    warned.to_csv(path, index=False)
    typer.echo(
        f"\n[9] buyers still exposed to flagged shops as of {as_of.date()} -> {path} "
        "(a draft for a person to sign off; nothing is sent)"
    )
    typer.echo(summarize_warnings(warned, n=5))

    case = write_case(
        tables,
        worst,
        as_of,
        scorer=scorer,
        language="zh",
        rules=rules,
        legal="cn_article_217_online_works",
        out=out / "cases",
        overwrite=True,
    )
    typer.echo(
        f"\n[10] case file of {worst} (in Chinese): {case.zip_path} ({len(case.files)} files, "
        f"decision {case.action}); verify: riskscore case --verify {case.zip_path}"
    )
