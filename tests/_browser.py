"""Render HTML in Debian's headless chromium: check a screenshot has content, and that
Chinese text is drawn with real glyphs of a CJK font, not boxes.

One helper for every test that must see a page render in a real browser (evidence pages,
case files, monitoring reports).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

#: Size of the screenshot (width, height) in pixels.
WINDOW = (1200, 1600)

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium() -> str:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed; run `make browser` (Debian's chromium package)")
    return chromium


def assert_renders(page: Path, workdir: Path) -> None:
    """Screenshot ``page`` in headless chromium; fail when the shot is blank or all ink."""
    shot = workdir / "shot.png"
    subprocess.run(
        [
            _chromium(),
            *_FLAGS,
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


#: Run inside the page: for each family of the ``<h1>``'s font stack, load the installed
#: font by name (``local()``: rejected when no such font is installed, never a fallback),
#: then draw each distinct Chinese character of the heading with it on a canvas. Real
#: glyphs have ink and differ from one another; a missing glyph (tofu) draws the same box
#: for every character. The result is written into the DOM as JSON for ``--dump-dom``.
_PROBE = """
<script>
(async () => {
  const out = document.createElement("pre");
  out.id = "riskscore-cjk-probe";
  const h1 = document.querySelector("h1") || document.body;
  const stack = getComputedStyle(h1).fontFamily.split(",")
    .map(f => f.trim().replace(/^["']|["']$/g, ""))
    .filter(f => f && !/^(serif|sans-serif|monospace|system-ui|-apple-system)$/.test(f));
  const chars = [...new Set(h1.textContent.match(/[\\u4e00-\\u9fff]/g) || [])];
  const result = {stack, chars: chars.join(""), fonts: []};
  for (const [i, family] of stack.entries()) {
    const face = new FontFace("riskscore-probe-" + i, `local("${family}")`);
    try { await face.load(); } catch (e) {
      result.fonts.push({family, installed: false});
      continue;
    }
    document.fonts.add(face);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext("2d");
    const shapes = chars.map(ch => {
      ctx.clearRect(0, 0, 64, 64);
      ctx.font = `48px "${face.family}"`;
      ctx.fillText(ch, 4, 52);
      const alpha = ctx.getImageData(0, 0, 64, 64).data;
      let ink = 0, hash = 0;
      for (let p = 3; p < alpha.length; p += 4) {
        if (alpha[p] > 0) { ink++; hash = (hash * 31 + p) % 1000000007; }
      }
      return {ink, hash};
    });
    const distinct = new Set(shapes.map(s => s.ink + ":" + s.hash)).size;
    result.fonts.push({family, installed: true, distinct,
                       inked: shapes.every(s => s.ink > 0)});
  }
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
})();
</script>
"""


def cjk_glyph_report(page: Path, workdir: Path) -> dict[str, Any]:
    """Load ``page`` (with the glyph probe added) in headless chromium; return the probe.

    Returns
    -------
    dict
        ``stack`` (the heading's font families), ``chars`` (its distinct Chinese
        characters) and ``fonts``: per family, ``installed`` and, when installed,
        ``distinct`` (distinct glyph images) and ``inked`` (every glyph has ink).
    """
    text = page.read_text(encoding="utf-8")
    probed = workdir / f"probe-{page.name}"
    probed.write_text(text.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    run = subprocess.run(
        [
            _chromium(),
            *_FLAGS,
            f"--user-data-dir={workdir / 'profile-probe'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probed.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    )
    found = re.search(r'<pre id="riskscore-cjk-probe">(.*?)</pre>', run.stdout, re.DOTALL)
    assert found, f"the glyph probe did not run; chromium said: {run.stderr[-500:]}"
    import html

    return dict(json.loads(html.unescape(found.group(1))))


def assert_cjk_glyphs(page: Path, workdir: Path) -> str:
    """Fail unless a font of the page's own stack draws its Chinese heading; return it.

    The first family of the heading's ``font-family`` that is installed must draw every
    distinct Chinese character of the heading with ink and as a different shape (tofu
    boxes are all alike). A page naming no installed CJK font fails: fonts-noto-cjk is
    what `make browser` installs.
    """
    report = cjk_glyph_report(page, workdir)
    chars = report["chars"]
    assert len(chars) >= 2, f"the page heading has too few Chinese characters: {chars!r}"
    for font in report["fonts"]:
        if not font["installed"]:
            continue
        assert font["inked"], f"{font['family']} drew an empty glyph for one of {chars}"
        assert font["distinct"] == len(chars), (
            f"{font['family']} drew {font['distinct']} distinct shapes for {len(chars)} "
            f"characters {chars}: missing glyphs (boxes)"
        )
        return str(font["family"])
    pytest.fail(
        f"no font of the page's stack {report['stack']} is installed; install Debian's "
        "fonts-noto-cjk (`make browser`)"
    )
