"""The documentation site: a strict MkDocs build, served on loopback, opened in headless Chromium.

The quickstart and a generated reference page must render with the navigation and the search box,
and not be blank. The build is strict, so a broken link or anchor fails here as it fails `make docs`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_report_html import CHROMIUM, decode_png
from voicetrail_cli.ops.template import REPO_ROOT

pytestmark = pytest.mark.e2e


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the base class names it `format`
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_site_is_served_with_every_page_and_a_search_index(base_url: str) -> None:
    for path in ("/", "/quickstart/", "/deploy/checklist/", "/reference/cli/", "/runbook/HttpApi5xxAlarm/"):
        assert httpx.get(base_url + path).status_code == 200, path
    index = httpx.get(base_url + "/search/search_index.json").json()
    titles = {doc["title"] for doc in index["docs"]}
    assert {"Quickstart", "Deploy checklist", "CLI reference", "Troubleshooting"} <= titles
    # A page reached only through links (runbook entries are not in the navigation) is searchable too.
    assert "HttpApi5xxAlarm" in titles
    assert json.dumps(index).count("voicetrail audit verify") >= 1


@pytest.mark.parametrize(
    ("path", "heading", "text"),
    [
        ("/quickstart/", "Quickstart", "make demo"),
        ("/reference/cli/", "CLI reference", "voicetrail audit verify"),
    ],
)
def test_page_renders_in_chromium(base_url: str, tmp_path: Path, path: str, heading: str, text: str) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install -y chromium): the site is not rendered")
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=3000", "--dump-dom", base_url + path],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    # The page itself, after Material's scripts ran.
    assert f">{heading}<" in dom and text in dom
    # The navigation: the primary sidebar with the site's sections and the current page marked active.
    assert 'class="md-nav md-nav--primary"' in dom
    for section in ("Getting started", "Deploy checklist", "Runbook", "Troubleshooting", "Reference"):
        assert section in dom, f"navigation lacks {section!r}"
    assert "md-nav__link--active" in dom
    # The search box, wired to the search component.
    assert 'data-md-component="search-query"' in dom and 'placeholder="Search"' in dom

    if path != "/quickstart/":
        return  # one screenshot is enough to prove the page is painted
    shot = tmp_path / "page.png"
    subprocess.run(
        [*flags, "--window-size=1280,900", f"--screenshot={shot}", base_url + path],
        capture_output=True,
        timeout=90,
        check=True,
    )
    width, height, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 900)
    non_white = sum(1 for p in pixels if p[:3] != (255, 255, 255))
    assert non_white / len(pixels) > 0.05, "screenshot is blank"
    # Material's indigo header bar is painted across the top of the page.
    top_row = pixels[10 * width : 11 * width]
    assert sum(1 for p in top_row if p[2] > p[0] + 40) > width // 2, "no header bar in the screenshot"
