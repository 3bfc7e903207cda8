"""The HTML report: escaped, self-contained, and drawn by a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import Reference, build_reference, compare
from tests._browser import assert_renders

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _evil_report() -> Any:
    rng = np.random.default_rng(0)
    old = pd.DataFrame({EVIL: rng.normal(size=800), "kind": rng.choice(["a", "b"], 800)})
    ref = build_reference(test_frame=old, model_info={"name": EVIL, "version": "7"})
    new = old.assign(**{EVIL: old[EVIL] + 2.0, "kind": [EVIL] * 400 + ["a"] * 400})
    return compare(ref, new)


def test_every_user_string_is_escaped():
    report = _evil_report()
    assert report.status == "act"
    page = report.to_html()
    assert "<script>" not in page and "onerror=" not in page.replace("onerror=&quot;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 1  # the PSI plot (no scores given)


def test_page_has_findings_tables_and_plots(reference: Reference, trained: Any, score_frame):
    rows = trained.test_frame.assign(noise__b=trained.test_frame["noise__b"] + 0.3)
    page = compare(reference, rows, score_frame(trained.gate_model, rows)).to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("data:image/png;base64,") == 3  # PSI, score distribution, bands
    assert "Feature &#x27;noise__b&#x27; shifted" in page
    assert "riskscore-seller-fraud" in page and "<h2>Bands</h2>" in page


@pytest.mark.browser
def test_html_renders_in_headless_chromium(
    reference: Reference, trained: Any, score_frame, tmp_path: Path
):
    rows = trained.test_frame.assign(noise__b=trained.test_frame["noise__b"] + 0.3)
    page = compare(reference, rows, score_frame(trained.gate_model, rows)).write(tmp_path)["html"]
    assert_renders(page, tmp_path)
