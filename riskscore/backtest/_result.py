"""The result of a backtest: tidy tables, a Markdown report, plots, files and MLflow.

* ``per_cutoff``: one row per (policy, cutoff); ``overall``: one row per policy;
  ``rules``: one row per (rule-set policy, rule) — fired, alerted alone;
  ``comparison``: the first two policies side by side with paired bootstrap intervals
  (:meth:`BacktestResult.compare` for any other pair); ``rows``: one row per (entity,
  cutoff) with the label, value, decision time, each model's band and each policy's
  alert (``alert:<policy>``) and lone rule (``alone:<policy>``); ``audit``: one row per
  (policy, metric) on the random-audit sample (:mod:`riskscore.backtest._audit`), with
  ``audit_note`` saying what it is or why it is empty ("no audit sample").
* :meth:`~BacktestResult.to_markdown`, :meth:`~BacktestResult.summary` (the CLI's
  text), :meth:`~BacktestResult.plot` (alerts per day and precision over the cutoffs),
  :meth:`~BacktestResult.save` (CSV, Markdown, PNG, JSON) and
  :meth:`~BacktestResult.log_to_mlflow` (those files, the settings and the overall
  metrics, through :mod:`riskscore.registry`'s tracking set-up).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore.backtest._compare import compare_policies
from riskscore.backtest._errors import BacktestError
from riskscore.backtest._metrics import cutoff_table, overall_table, period_days, rules_table

if TYPE_CHECKING:
    from riskscore.backtest._policies import Policy

__all__ = ["BacktestResult"]

#: Files :meth:`BacktestResult.save` writes.
FILES: tuple[str, ...] = (
    "per_cutoff.csv",
    "overall.csv",
    "rules.csv",
    "comparison.csv",
    "audit.csv",
    "backtest.md",
    "backtest.png",
    "settings.json",
)


def _fmt(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if bool(value == value.normalize()) else str(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "–"
        return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.3g}"
    return str(value)


def _md(frame: pd.DataFrame, index: bool = False) -> str:
    data = frame.reset_index() if index else frame
    cols = [str(c) for c in data.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in data.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


@dataclass
class BacktestResult:
    """What :func:`~riskscore.backtest.backtest` returns.

    Attributes
    ----------
    per_cutoff, overall, rules : pandas.DataFrame
        See the module docstring for their columns.
    comparison : pandas.DataFrame or None
        The first two policies, when there are two or more.
    rows : pandas.DataFrame
        One row per (entity, cutoff).
    policies : list of str
    settings : dict
        Entity, target, horizon, delay, cutoffs, models, rule sets (and their hashes),
        band, language.
    audit : pandas.DataFrame
        Per policy and metric (precision, recall, flag rate, prevalence): the
        inverse-probability weighted rate on the random-audit sample (``audit``) with its
        interval (``audit_lo``, ``audit_hi``), the same rate on all labels
        (``all_labels``: selected by the current policy), ``n_audited`` and
        ``audited_alerts``. Empty without audit labels.
    audit_note : str
        What the audit figures are, or why there are none ("no audit sample: ...").
    """

    per_cutoff: pd.DataFrame
    overall: pd.DataFrame
    rules: pd.DataFrame
    comparison: pd.DataFrame | None
    rows: pd.DataFrame = field(repr=False)
    policies: list[str]
    settings: dict[str, Any]
    days: float = 0.0
    audit: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    audit_note: str = ""

    @classmethod
    def build(
        cls,
        rows: pd.DataFrame,
        policies: Sequence[Policy],
        fired: Mapping[str, Mapping[str, tuple[int, int]]],
        settings: dict[str, Any],
        *,
        horizon: pd.Timedelta,
        n_bootstrap: int = 200,
        seed: int = 0,
        level: float = 0.95,
        audit: pd.DataFrame | None = None,
        audit_note: str = "",
    ) -> BacktestResult:
        """Compute the tables from the backtest's rows (used by ``backtest``)."""
        moments = [pd.Timestamp(c) for c in settings["cutoffs"]]
        periods = period_days(moments, horizon)
        alerts = {p.name: rows[f"alert:{p.name}"].to_numpy(dtype=bool) for p in policies}
        alone = {
            p.name: rows[f"alone:{p.name}"].to_numpy(dtype=object)
            for p in policies
            if p.rules is not None
        }
        actions = {
            p.name: {r.name: r.action for r in p.rules.rules}
            for p in policies
            if p.rules is not None
        }
        result = cls(
            per_cutoff=cutoff_table(rows, alerts, periods),
            overall=overall_table(rows, alerts, periods),
            rules=rules_table(rows, alone, fired, actions),
            comparison=None,
            rows=rows,
            policies=[p.name for p in policies],
            settings={**settings, "n_bootstrap": n_bootstrap, "seed": seed, "level": level},
            days=float(sum(periods.values())),
            audit=audit if audit is not None else pd.DataFrame(),
            audit_note=audit_note,
        )
        if len(policies) >= 2:
            result.comparison = result.compare(
                policies[0].name, policies[1].name, n_bootstrap=n_bootstrap, seed=seed, level=level
            )
        return result

    # -- comparison -----------------------------------------------------------------

    def compare(
        self, a: str, b: str, *, n_bootstrap: int = 200, seed: int = 0, level: float = 0.95
    ) -> pd.DataFrame:
        """Compare policies ``a`` and ``b`` with paired bootstrap intervals over entities.

        Returns one row per metric (``alerts_per_day``, ``precision``, ``recall``,
        ``value_recall``) with ``a``'s and ``b``'s values and intervals and ``delta``
        (``b - a``) with its interval.

        Raises
        ------
        BacktestError
            ``a`` or ``b`` is not one of :attr:`policies`.
        """
        for name in (a, b):
            if name not in self.policies:
                raise BacktestError(
                    f"no policy {name!r} in this backtest; its policies: {self.policies}"
                )
        return compare_policies(
            self.rows,
            self.rows[f"alert:{a}"].to_numpy(dtype=bool),
            self.rows[f"alert:{b}"].to_numpy(dtype=bool),
            names=(a, b),
            days=self.days,
            n_bootstrap=n_bootstrap,
            seed=seed,
            level=level,
        )

    # -- text -----------------------------------------------------------------------

    def _title(self) -> str:
        s = self.settings
        models = ", ".join(s["models"]) or "no model"
        cuts = s["cutoffs"]
        span = f"{cuts[0][:10]}..{cuts[-1][:10]}" if cuts else ""
        return (
            f"Backtest of {len(self.policies)} polic{'y' if len(self.policies) == 1 else 'ies'} "
            f"on {s['entity']}s, target {s['target']}, horizon {s['horizon']} "
            f"(label delay {s['label_delay']}), {len(s['cutoffs'])} cutoff(s) "
            f"{span}; "
            f"models: {models}"
        )

    def to_markdown(self) -> str:
        """Return the report as Markdown: settings, overall, per cutoff, rules, comparison."""
        overall_cols = [
            "policy",
            "alerts",
            "alerts_per_day",
            "precision",
            "recall",
            "value_recall",
            "entity_recall",
            "lead_days_median",
        ]
        cut_cols = [
            "policy",
            "cutoff",
            "entities",
            "positives",
            "alerts",
            "new_alerts",
            "alerts_per_day",
            "precision",
            "recall",
            "value_recall",
            "lead_days_median",
        ]
        parts = [
            "# Backtest",
            "",
            self._title() + ".",
            "",
            "## Overall",
            "",
            "Precision and recall on all labels are selected by the current policy: "
            "measured on the sellers it chose to review (unlabelled = negative), so "
            "biased against a policy that finds what nobody reviewed.",
            "",
            _md(self.overall[overall_cols]),
            "",
            "## On the random-audit sample",
            "",
            self._audit_text(),
            "",
            "## Per cutoff",
            "",
            _md(self.per_cutoff[cut_cols]),
        ]
        if len(self.rules):
            parts += [
                "",
                "## Rules: fired, and alerts only that rule produced",
                "",
                _md(self.rules),
            ]
        if self.comparison is not None:
            level = self.settings.get("level", 0.95)
            parts += [
                "",
                f"## {self.policies[1]} against {self.policies[0]} "
                f"({level:.0%} paired bootstrap over entities)",
                "",
                _md(self.comparison, index=True),
            ]
        return "\n".join(parts) + "\n"

    def _audit_text(self) -> str:
        """Return the audit section: the note, then the table (when there is one)."""
        note = self.audit_note or "no audit sample"
        note = note[:1].upper() + note[1:] + "."
        if not len(self.audit):
            return note
        table = self.audit.rename(columns={"all_labels": "all_labels (selected by policy)"})
        return f"{note}\n\n{_md(table)}"

    def audit_lines(self) -> list[str]:
        """Plain lines: precision and recall on the audit sample next to all labels."""
        if not len(self.audit):
            return [self.audit_note or "no audit sample"]
        out = []
        shown = self.audit[self.audit["metric"].isin(("precision", "recall"))]
        for r in shown.to_dict("records"):
            lo, hi = float(r["audit_lo"]), float(r["audit_hi"])
            ci = f" [{lo:.3f}, {hi:.3f}]" if math.isfinite(lo) else ""
            out.append(
                f"  {r['policy']}: {r['metric']} {float(r['audit']):.3f}{ci} on the audit "
                f"sample ({r['n_audited']} audited, {r['audited_alerts']} alerted) vs "
                f"{float(r['all_labels']):.3f} on all labels (selected by the current policy)"
            )
        return out

    def summary(self) -> str:
        """Return a short plain-text summary (what ``riskscore backtest`` prints)."""
        lines = [self._title()]
        lines += [f"warning: {note}" for note in self.settings.get("in_sample", [])]
        cols = [
            "policy",
            "alerts",
            "alerts_per_day",
            "precision",
            "recall",
            "value_recall",
            "lead_days_median",
        ]
        lines.append(self.overall[cols].round(3).to_string(index=False))
        if len(self.rules):
            alone = self.rules[self.rules["alerts_alone"] > 0]
            lines.append("alerts only one rule produced:")
            if alone.empty:
                lines.append("  none")
            for r in alone.itertuples(index=False):
                lines.append(
                    f"  {r.policy}: {r.rule} ({r.action}) {r.alerts_alone} alert(s), "
                    f"{r.true_positives_alone} true positive(s)"
                )
        if len(self.audit):
            lines.append(self.audit_note + ":")
        lines += self.audit_lines()
        if self.comparison is not None:
            lines.append(f"{self.policies[1]} minus {self.policies[0]}:")
            for metric, row in self.comparison.iterrows():
                ci = f" [{row['delta_lo']:.3f}, {row['delta_hi']:.3f}]" if "delta_lo" in row else ""
                lines.append(f"  {metric}: {row['delta']:+.3f}{ci}")
        return "\n".join(lines)

    # -- plots and files ------------------------------------------------------------

    def plot(self) -> Any:
        """Return a matplotlib Figure: alerts per day and precision per cutoff, by policy."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.6), dpi=100)
        FigureCanvasAgg(fig)
        ax_alerts, ax_prec = fig.subplots(1, 2)
        for name, part in self.per_cutoff.groupby("policy", sort=False):
            ax_alerts.plot(part["cutoff"], part["alerts_per_day"], marker="o", label=str(name))
            ax_prec.plot(part["cutoff"], part["precision"], marker="o", label=str(name))
        ax_alerts.set(title="alerts per day", xlabel="cutoff", ylabel="alerts / day")
        ax_prec.set(title="precision", xlabel="cutoff", ylabel="precision", ylim=(0, 1.02))
        ax_prec.legend(fontsize=8, loc="best")
        for ax in (ax_alerts, ax_prec):
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def save(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the tables (CSV), the report (Markdown), the plot (PNG) and the settings.

        Returns the path of each file in :data:`FILES` (``comparison.csv`` only when
        there is a comparison, ``audit.csv`` only with an audit sample).
        """
        out = Path(folder)
        if out.exists() and not out.is_dir():
            raise BacktestError(f"'{out}' is a file; name a folder (it is created when missing)")
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        tables = {"per_cutoff.csv": self.per_cutoff, "overall.csv": self.overall}
        tables["rules.csv"] = self.rules
        for name, table in tables.items():
            table.to_csv(out / name, index=False)
            paths[name] = out / name
        if self.comparison is not None:
            self.comparison.to_csv(out / "comparison.csv")
            paths["comparison.csv"] = out / "comparison.csv"
        if len(self.audit):
            self.audit.to_csv(out / "audit.csv", index=False)
            paths["audit.csv"] = out / "audit.csv"
        (out / "backtest.md").write_text(self.to_markdown(), encoding="utf-8")
        paths["backtest.md"] = out / "backtest.md"
        self.plot().savefig(out / "backtest.png")
        paths["backtest.png"] = out / "backtest.png"
        settings = {**self.settings, "policies": self.policies, "audit_note": self.audit_note}
        (out / "settings.json").write_text(
            json.dumps(settings, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        paths["settings.json"] = out / "settings.json"
        return paths

    def log_to_mlflow(
        self,
        run: Any = None,
        *,
        tracking_uri: str | None = None,
        experiment: str = "riskscore-backtest",
        run_name: str | None = None,
    ) -> str:
        """Log the files of :meth:`save`, the settings and the overall metrics to MLflow.

        Parameters
        ----------
        run : str or mlflow run, optional
            A run id or run object (e.g. ``mlflow.active_run()``) to log into, such as the
            training run of the model the rules were tested with; default: a new run in
            ``experiment``.
        tracking_uri : str, optional
            Default ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``.
        experiment : str, default "riskscore-backtest"
            Where the new run goes (only without ``run``).
        run_name : str, optional

        Returns
        -------
        str
            The run id. Files go under the run's ``backtest/`` artifacts; metrics are
            named ``backtest.<policy>.<metric>``; a new run is ended, a given one is not.
        """
        from riskscore.registry._tracking import _experiment_id, _resolve_uri, _tracking

        with _tracking(tracking_uri) as client:
            own = run is None
            if own:
                exp = _experiment_id(client, experiment, _resolve_uri(tracking_uri))
                created = client.create_run(
                    exp,
                    run_name=run_name or "backtest",
                    tags={"riskscore.kind": "backtest"},
                )
                run_id = created.info.run_id
            else:
                run_id = run if isinstance(run, str) else run.info.run_id
            with tempfile.TemporaryDirectory(prefix="riskscore-backtest-") as tmp:
                self.save(tmp)
                client.log_artifacts(run_id, tmp, artifact_path="backtest")
            for key in ("entity", "target", "horizon", "label_delay", "band"):
                client.log_param(run_id, f"backtest.{key}", str(self.settings.get(key)))
            client.log_param(run_id, "backtest.cutoffs", ",".join(self.settings["cutoffs"]))
            client.log_param(run_id, "backtest.policies", " | ".join(self.policies)[:500])
            metrics = ("alerts_per_day", "precision", "recall", "value_recall", "entity_recall")
            for row in self.overall.itertuples(index=False):
                for metric in metrics:
                    value = float(getattr(row, metric))
                    if math.isfinite(value):
                        safe = re.sub(r"[^A-Za-z0-9_\-./ ]", "_", str(row.policy))
                        client.log_metric(run_id, f"backtest.{safe}.{metric}", value)
            for row in self.audit.itertuples(index=False):
                safe = re.sub(r"[^A-Za-z0-9_\-./ ]", "_", str(row.policy))
                for suffix in ("", "_lo", "_hi"):
                    value = float(getattr(row, f"audit{suffix}"))
                    if math.isfinite(value):
                        name = f"backtest.{safe}.audit_{row.metric}{suffix}"
                        client.log_metric(run_id, name, value)
            if own:
                client.set_terminated(run_id)
        return str(run_id)
