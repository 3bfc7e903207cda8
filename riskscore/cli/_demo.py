"""``riskscore demo``: the main job end to end on the embedded synthetic marketplace.

Steps, each printed as it runs:

1. simulate a marketplace (``--sellers``, ``--seed``) into ``OUT/data``;
2. load it back, validate it against the data contract and print a summary;
3. for each of the three models (seller fraud, seller counterfeit, listing counterfeit):
   build the training set at six monthly cutoffs (the last one a 60-day label horizon
   before the end of the data; three windows train, two validate and calibrate, the
   newest tests), train LightGBM with a logistic baseline, log the run to
   MLflow (``sqlite:///OUT/mlflow.db`` unless ``--tracking-uri``), register a version and
   run the promotion gate (the first version becomes ``champion``);
4. score every seller as of the end of the data with both seller champions, and every
   listing with the listing champion (loss-free batch files in ``OUT/scores``);
5. print the top risky sellers with their plain-language reasons;
6. write the evidence file (HTML, with the records behind each reason) of the riskiest
   seller to ``OUT/evidence``;
7. decide on the riskiest sellers with the model bands and a small rule set;
8. print one legal-threshold result (the Article 217 pack; not legal advice);
9. list the buyers still exposed to flagged shops (``OUT/warnings.csv``; nothing is sent);
10. write the riskiest seller's case file, in Chinese, to ``OUT/cases`` (folder + zip).

Running it again in the same folder registers new versions, which must pass the gate
against the champions to replace them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskscore.cli._args import PlainHelp, cli_output

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MODELS", "register", "top_risky_sellers"]

#: (entity, target) of the models the demo trains, in order.
MODELS: tuple[tuple[str, str], ...] = (
    ("seller", "fraud"),
    ("seller", "counterfeit"),
    ("listing", "counterfeit"),
)


def top_risky_sellers(scores: dict[str, pd.DataFrame], n: int = 10) -> pd.DataFrame:
    """Rank sellers by their highest risk score over the seller models.

    Parameters
    ----------
    scores : dict of str to pandas.DataFrame
        Target (``fraud``, ``counterfeit``) to the batch output of that seller model.
    n : int, default 10

    Returns
    -------
    pandas.DataFrame
        ``n`` rows: ``seller_id``, ``risk_score``, ``band``, ``target`` (the model that
        gave the highest risk) and ``reasons`` (its reason texts joined by "; "), highest
        risk first, ties broken by seller id.

    Examples
    --------
    >>> import pandas as pd
    >>> fraud = pd.DataFrame({"seller_id": ["a", "b"], "risk_score": [900, 100],
    ...                       "band": ["critical", "low"], "reason_1_text": ["x", None]})
    >>> fake = pd.DataFrame({"seller_id": ["a", "b"], "risk_score": [300, 950],
    ...                      "band": ["medium", "critical"], "reason_1_text": [None, "y"]})
    >>> top_risky_sellers({"fraud": fraud, "counterfeit": fake}, n=2)[["seller_id", "target"]]
      seller_id       target
    0         b  counterfeit
    1         a        fraud
    """
    import pandas as pd

    parts = []
    for target, frame in scores.items():
        texts = [c for c in frame.columns if c.startswith("reason_") and c.endswith("_text")]
        reasons = frame[texts].apply(lambda r: "; ".join(str(t) for t in r if pd.notna(t)), axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "seller_id": frame["seller_id"],
                    "risk_score": frame["risk_score"],
                    "band": frame["band"],
                    "target": target,
                    "reasons": reasons if len(frame) else pd.Series(dtype="str"),
                }
            )
        )
    both = pd.concat(parts, ignore_index=True)
    both = both.sort_values(["risk_score", "seller_id"], ascending=[False, True], kind="stable")
    return both.drop_duplicates("seller_id").head(n).reset_index(drop=True)


def _data_end(tables: dict[str, Any]) -> Any:
    """Midnight after the last order: scores use everything in the data."""
    import pandas as pd

    return tables["orders"]["created_at"].max().normalize() + pd.Timedelta("1D")


def _train_models(
    tables: dict[str, Any], tracking: str, capacity: int, seed: int, bootstrap: int
) -> None:
    from riskscore.cli._promote import print_promotion
    from riskscore.cli._train import _print_result
    from riskscore.features import default_cutoffs
    from riskscore.modeling import TrainingWarning
    from riskscore.modeling._recipe import (
        HORIZON,
        N_CUTOFFS,
        marketplace_config,
        marketplace_training_set,
    )
    from riskscore.monitor import market_profile
    from riskscore.registry import promote, train_and_log

    cutoffs = default_cutoffs(tables, HORIZON, N_CUTOFFS)
    market = market_profile(tables, cutoffs)  # the marketplace's own rates, for the monitor
    first, last = cutoffs[0].date(), cutoffs[-1].date()
    for entity, target in MODELS:
        typer.echo(
            f"\n--- {entity} {target}: training set at {N_CUTOFFS} cutoffs {first} .. {last}"
        )
        frame = marketplace_training_set(tables, entity, target, cutoffs=cutoffs)
        typer.echo(f"{len(frame):,} rows, {int(frame['label'].sum())} positives")
        with warnings.catch_warnings():  # findings are printed once as notes below
            warnings.simplefilter("ignore", TrainingWarning)
            logged = train_and_log(
                frame,
                entity=entity,
                target=target,
                tracking_uri=tracking,
                market=market,
                config=marketplace_config(
                    entity, target, seed=seed, capacity=capacity, n_bootstrap=bootstrap
                ),
            )
        assert logged.result is not None
        _print_result(logged.result)
        typer.echo(f"logged run {logged.run_id}; registered {logged.name} v{logged.version}")
        print_promotion(promote(logged.name, version=logged.version, tracking_uri=tracking))


def _score(
    tables: dict[str, Any], tracking: str, out: Path, as_of: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score with each champion; return seller scores and scorers by target."""
    import pandas as pd

    from riskscore.registry import load_risk_model, model_name
    from riskscore.scoring import Scorer, score_batch

    out.mkdir(parents=True, exist_ok=True)
    seller_scores, scorers = {}, {}
    for entity, target in MODELS:
        name = model_name(entity, target)
        loaded = load_risk_model(f"models:/{name}@champion", tracking_uri=tracking)
        scorer = Scorer(loaded.model, model_name=name, model_version=loaded.version)
        path = out / f"{name}.parquet"
        summary = score_batch(scorer, tables, path, as_of=as_of, progress=False)
        typer.echo(f"{name} v{loaded.version} -> {path}: {summary.line()}")
        if entity == "seller":
            seller_scores[target] = pd.read_parquet(path)
            scorers[target] = scorer
    return seller_scores, scorers


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def demo(
        out: Annotated[Path, typer.Option(help="Working folder for data, models, scores.")] = Path(
            "out/demo"
        ),
        sellers: Annotated[
            int,
            typer.Option(
                min=200,
                help="Simulated sellers; below ~5,000 a validation window may hold no fraud "
                "positive and training stops with an error saying so.",
            ),
        ] = 5000,
        seed: Annotated[int, typer.Option(help="Seed of the simulation and the models.")] = 0,
        capacity: Annotated[
            int, typer.Option(min=1, help="Sellers the risk team reviews per cutoff.")
        ] = 25,
        top: Annotated[int, typer.Option(min=1, help="Risky sellers to print.")] = 10,
        bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replicates.")] = 200,
        tracking_uri: Annotated[
            str | None,
            typer.Option("--tracking-uri", help="MLflow tracking URI (default: OUT/mlflow.db)."),
        ] = None,
    ) -> None:
        """Simulate, validate, train, register and promote three models, score, explain."""
        cli_output()
        import matplotlib

        matplotlib.use("Agg")
        from riskscore.datasets import make_marketplace
        from riskscore.explain import build_evidence
        from riskscore.io import load_tables, write_tables
        from riskscore.summary import summarize

        out.mkdir(parents=True, exist_ok=True)
        tracking = tracking_uri or f"sqlite:///{(out / 'mlflow.db').resolve()}"
        data_dir = out / "data"
        typer.echo(f"[1] simulating {sellers:,} sellers (seed {seed}) into {data_dir}")
        write_tables(make_marketplace(n_sellers=sellers, seed=seed), data_dir)
        typer.echo("[2] loading and validating against the data contract")
        tables = load_tables(data_dir)
        typer.echo(summarize(tables))
        typer.echo(f"\n[3] training, logging to {tracking}, registering, promoting")
        _train_models(tables, tracking, capacity, seed, bootstrap)
        as_of = _data_end(tables)
        typer.echo(f"\n[4] scoring every seller and listing as of {as_of.date()}")
        seller_scores, scorers = _score(tables, tracking, out / "scores", as_of)
        typer.echo(f"\n[5] the {top} riskiest sellers (highest risk over both seller models)")
        ranked = top_risky_sellers(seller_scores, top)
        for row in ranked.to_dict("records"):
            typer.echo(
                f"{row['seller_id']}  risk {row['risk_score']:>4.0f}  {row['band']:<8}  "
                f"{row['target']}\n    {row['reasons'] or '(no reasons: below the flag band)'}"
            )
        worst, target = str(ranked["seller_id"].iloc[0]), str(ranked["target"].iloc[0])
        scorer = scorers[target]
        evidence = build_evidence(
            tables,
            worst,
            scorer.model,
            as_of,
            model_name=scorer.model_name,
            model_version=scorer.model_version,
            plot=True,
        )
        page = out / "evidence" / f"{worst}.html"
        evidence.write(page, "html")
        typer.echo(f"\n[6] evidence of {worst} ({target}): {page}")
        from riskscore.cli._demo_act import act_on_scores

        act_on_scores(tables, ranked, seller_scores, scorers, out, as_of, seed)
        typer.echo(
            f"\nbrowse the runs: mlflow ui --backend-store-uri {tracking}\n"
            f"explain another: MLFLOW_TRACKING_URI={tracking} riskscore explain SELLER_ID "
            f"--data {data_dir} --model models:/{scorer.model_name}@champion "
            f"--as-of {as_of.date()}"
        )
