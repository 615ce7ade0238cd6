"""`voicetrail report --html` against a moto table, rendered by headless Chromium: it renders, the charts
are in the DOM, and a screenshot is not blank (pixels checked with a tiny PNG decoder)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import TABLE
from voicetrail.domain.calls.state import TwilioCallUpdate, VapiCallView
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail_cli.main import app

pytestmark = pytest.mark.e2e
CHROMIUM = next(
    (
        p
        for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome"))
        if p
    ),
    None,
)


def populate(client: Any, now: float) -> None:
    ledger = DynamoCallLedger(client, TABLE, RetentionPolicy())
    for n in range(24):
        sid = f"CA{n:032x}"
        start = now - (n % 6) * 86_400 - 3600 - n * 60
        final = ("completed", "completed", "completed", "no-answer", "busy", "completed")[n % 6]
        ledger.apply_twilio(TwilioCallUpdate(sid, "ringing", 1, int(start * 1000)), now=now)
        duration = 60 + 17 * n if final == "completed" else 0
        ledger.apply_twilio(
            TwilioCallUpdate(sid, final, 3, int((start + duration) * 1000), duration_s=duration), now=now
        )
        if final == "completed":
            ledger.merge_vapi(
                VapiCallView(
                    vapi_call_id=f"vapi-{n}",
                    event_ts_ms=int(start * 1000),
                    provider_call_id=sid,
                    ended=True,
                    cost_usd=0.05 + 0.004 * duration,
                    escalated=n % 5 == 0,
                    consent="granted" if n % 4 else "denied",
                ),
                now=now,
            )


def test_report_cli_text_and_html(moto_table: Any, tmp_path: Path) -> None:
    populate(moto_table, time.time())
    page = tmp_path / "roi.html"
    result = CliRunner().invoke(
        app,
        ["report", "--since", "7d", "--table", TABLE, "--html", str(page), "--human-cost-per-minute", "0.75"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "voicetrail ROI" in result.output and "total" in result.output
    assert "24" in result.output  # calls in range
    text = page.read_text()
    assert text.count("data-chart=") == len(CHARTS)
    as_json = CliRunner().invoke(app, ["report", "--since", "7d", "--table", TABLE, "--json"])
    rows = __import__("json").loads(as_json.stdout)["rows"]
    assert rows[-1]["period"] == "total" and rows[-1]["calls"] == 24
    as_csv = CliRunner().invoke(app, ["report", "--since", "7d", "--table", TABLE, "--csv"])
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("period,calls,answered") and lines[-1].startswith("total,24,")
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install -y chromium): HTML rendering not checked")
    render_in_chromium(page, tmp_path)


CHARTS = ("calls-per-day", "rates", "cost-per-call", "turn-latency-p95")
LAYOUT_PROBE = (
    "<script>window.addEventListener('load',()=>{const f=[...document.querySelectorAll('figure')]"
    ".map(e=>{const r=e.getBoundingClientRect();"
    "return [Math.round(r.left),Math.round(r.top),Math.round(r.width)]});"
    "document.body.setAttribute('data-layout',JSON.stringify({figures:f,"
    "scroll:document.documentElement.scrollWidth,view:window.innerWidth}))});</script></body>"
)


def layout(page: Path, flags: list[str], width: int) -> dict[str, Any]:
    """Where the charts are at a window width (a probe script writes their boxes into the DOM)."""
    probe = page.with_name(f"probe-{width}.html")
    probe.write_text(page.read_text().replace("</body>", LAYOUT_PROBE))
    dom = subprocess.run(
        [*flags, f"--window-size={width},1200", "--virtual-time-budget=2000", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    import html as html_lib
    import json
    import re

    match = re.search(r'data-layout="([^"]+)"', dom)
    assert match, "layout probe did not run"
    return dict(json.loads(html_lib.unescape(match.group(1))))


def render_in_chromium(page: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    assert dom.count("<svg") == len(CHARTS)
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in dom
    assert "<polyline" in dom and dom.count('class="bar"') >= 12
    # Responsive: side by side on a desktop, one column on a phone, never wider than the window.
    # (Headless Chromium's narrowest window is 500 px: a phone in landscape, a narrow laptop pane.)
    wide, narrow = layout(page, flags, 1400), layout(page, flags, 500)
    assert len({top for _, top, _ in wide["figures"]}) < len(CHARTS), wide
    assert len({top for _, top, _ in narrow["figures"]}) == len(CHARTS), narrow
    assert narrow["scroll"] <= narrow["view"] and all(w <= narrow["view"] for _, _, w in narrow["figures"])
    for width in (1400, 500):
        shot = tmp_path / f"roi-{width}.png"
        subprocess.run(
            [*flags, f"--window-size={width},1200", f"--screenshot={shot}", page.as_uri()],
            capture_output=True,
            timeout=90,
            check=True,
        )
        got_width, height, pixels = decode_png(shot.read_bytes())
        assert (got_width, height) == (width, 1200)
        non_white = sum(1 for p in pixels if p[:3] != (255, 255, 255))
        assert non_white / len(pixels) > 0.02, f"screenshot at {width} px is blank"
        # the charts' own colours are on screen (bars blue, answered green) at both widths
        colours = {p[:3] for p in pixels}
        for rgb in ((0x25, 0x63, 0xEB), (0x16, 0xA3, 0x4A)):
            assert rgb in colours, (width, rgb)


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """8-bit RGB/RGBA non-interlaced PNG -> pixels (what Chromium writes). Enough for a blank check."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = color_type = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color_type in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += chunk
    bpp = 4 if color_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    pixels = [tuple(row[x : x + bpp]) for row in rows for x in range(0, stride, bpp)]
    return width, height, pixels
