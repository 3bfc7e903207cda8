"""The evidence model: :class:`Evidence`, what an evidence file of one seller holds.

:func:`~riskscore.explain.build_evidence` fills it (score, reasons, the records of each
section from :mod:`riskscore.explain._evidence_sections`); its methods render it through
:mod:`riskscore.explain._evidence_render` as Markdown, HTML or JSON and write it to a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from riskscore.exceptions import ExplanationError
from riskscore.explain._evidence_render import (
    evidence_dict,
    evidence_html,
    evidence_markdown,
)
from riskscore.explain._reasons import Language

__all__ = ["Evidence", "Format"]

Format = Literal["md", "html", "json"]


@dataclass
class Evidence:
    """The evidence file of one seller; render it with :meth:`render` or :meth:`write`.

    Attributes
    ----------
    seller_id : str
    as_of : str
        ISO time the features, score and records are as of.
    model_name, model_version : str or None
    score : float
        Calibrated probability (the booster's sigmoid for a bare booster).
    risk_score : float or None
        0-1000 risk score, when the model has a risk scale.
    band : str or None
        Review band, when the model has bands.
    raw_score, base_value : float
        Log-odds; the family contributions plus the base value equal the raw score.
    families : dict of str to float
        Contribution of each feature family, in log-odds.
    reasons : list of dict
        As in :meth:`Explainer.explain_one`, each with an ``evidence`` key naming its
        section (or None).
    sections : dict of str to pandas.DataFrame
        Supporting records per section name (see :data:`~riskscore.explain.EVIDENCE_SECTIONS`).
    notes : dict of str to str
        A line per section, in ``language``, with context or where records are incomplete
        (e.g. no products table).
    language : {"en", "zh"}
    generated_at : str
    waterfall_png : bytes or None
        The seller's SHAP waterfall plot (embedded in the HTML).
    """

    seller_id: str
    as_of: str
    model_name: str | None
    model_version: str | None
    score: float
    risk_score: float | None
    band: str | None
    raw_score: float
    base_value: float
    families: dict[str, float]
    reasons: list[dict[str, Any]]
    sections: dict[str, pd.DataFrame]
    notes: dict[str, str] = field(default_factory=dict)
    language: Language = "en"
    generated_at: str = ""
    waterfall_png: bytes | None = None

    @property
    def lang(self) -> Language:
        """Deprecated name of :attr:`language`."""
        import warnings

        warnings.warn(
            "Evidence.lang is deprecated and will be removed in a future release; use "
            "Evidence.language instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.language

    # -- rendering --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as a JSON-serialisable dict (the plot is left out)."""
        return evidence_dict(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as strict JSON text (UTF-8, no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_markdown(self) -> str:
        """Return the evidence as Markdown (tables for the records)."""
        return evidence_markdown(self)

    def to_html(self) -> str:
        """Return the evidence as one self-contained HTML page (plot embedded as PNG)."""
        return evidence_html(self)

    def render(self, fmt: Format = "md") -> str:
        """Return the evidence as ``"md"``, ``"html"`` or ``"json"`` text."""
        renderers: dict[str, Callable[[], str]] = {
            "md": self.to_markdown,
            "html": self.to_html,
            "json": self.to_json,
        }
        if fmt not in renderers:
            raise ExplanationError(f"format must be one of md, html, json. Got {fmt!r} instead.")
        return renderers[fmt]()

    def write(self, path: str | os.PathLike[str], fmt: Format | None = None) -> Path:
        """Write the evidence to ``path`` (format from ``fmt`` or the file suffix).

        The file is written to a temporary name first and renamed, so a reader never sees
        half a file.
        """
        out = Path(path)
        if fmt is None:
            suffix = out.suffix.lstrip(".").lower()
            fmt = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "json": "json"}.get(
                suffix, "md"
            )  # type: ignore[assignment]
        text = self.render(fmt)  # type: ignore[arg-type]
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        return out
