"""Render an HTML file in Debian's headless chromium and check the screenshot has content.

One helper for every test that must see a page render in a real browser (evidence pages,
monitoring reports).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

#: Size of the screenshot (width, height) in pixels.
WINDOW = (1200, 1600)


def assert_renders(page: Path, workdir: Path) -> None:
    """Screenshot ``page`` in headless chromium; fail when the shot is blank or all ink."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed; run `make browser` (Debian's chromium package)")
    shot = workdir / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={workdir / 'profile'}",
            f"--screenshot={shot}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05, "the screenshot is blank"
    dark = (rgb.mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.5, f"unexpected share of dark pixels: {dark:.3f}"
