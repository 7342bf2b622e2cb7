"""Take the README's pictures of the pipelines from a real ``kedro viz``, in a headless browser.

    python -m facial_keypoints.tools.viz_pictures [--folds 3] [--width 900] [--out docs]

Starts ``kedro viz run --params cv.folds=<folds>`` in the project (the current folder), opens it in
headless Chromium through Playwright (``pip install -e ".[pictures]"``; the browser is Playwright's
own or ``--chromium /usr/bin/chromium``) and writes, at a scale where the graph is ``--width`` CSS
pixels wide (README width), so that every label reads:

- ``kedro-viz-submission.png``: the submission pipeline, the folds collapsed into blocks;
- ``kedro-viz-fold.png``: one fold expanded (focus mode), its six specialists as blocks.

Run it again whenever the pipelines change; it stops the viz server it started, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What every picture hides: the side panel, the minimap, the feature tour; light theme.
_VIEWER_STATE = {
    "theme": "light",
    "showFeatureHints": False,
    "visible": {"sidebar": False, "miniMap": False},
}
#: Chromium in a sandbox with no network: no background connections, no first-run work.
_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Banners that float over the graph: the version tag and release notes.
_HIDDEN = "[class*='update-reminder'] { display: none !important; }"
_MARGIN = 16  # CSS pixels kept around the graph


@dataclass(frozen=True)
class Picture:
    """One picture: which pipeline, which node types, which block expanded, which orientation."""

    file: str
    pipeline: str
    types: str = "nodes,datasets"
    expand: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def query(self) -> str:
        """kedro-viz's URL parameters for this picture (pid, types, fid)."""
        focus = f"&fid={self.expand}" if self.expand else ""
        return f"?pid={self.pipeline}&types={self.types}{focus}"


PICTURES = (
    Picture("kedro-viz-submission.png", "submission"),
    Picture(
        "kedro-viz-fold.png",
        "modelling",
        types="nodes",
        expand="fold_0",
        state={"orientation": "horizontal"},
    ),
)


def _free_port() -> int:
    """A free port where kedro viz accepts one (below the ephemeral range)."""
    for port in range(4141, 4241):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit("No free port between 4141 and 4240 for kedro viz.")


def _start_viz(folds: int, port: int, log: Any) -> subprocess.Popen:
    """``kedro viz run`` on ``port`` in its own process group, its output to ``log``."""
    kedro = Path(sys.executable).with_name("kedro")
    return subprocess.Popen(
        [str(kedro), "viz", "run", "--no-browser", "--port", str(port)]
        + ["--params", f"cv.folds={folds}"],
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(server: subprocess.Popen, url: str, log: Any) -> None:
    """Return once ``url`` answers; a clear error with kedro viz's output if it never does."""
    deadline = time.monotonic() + 180
    while server.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    log.seek(0)
    raise SystemExit(f"kedro viz did not start (within 180 s):\n{log.read().decode()[-3000:]}")


def _graph_box(page: Any) -> dict[str, float]:
    """Where the drawn graph is on the page, and its size at 100% zoom."""
    return page.evaluate(
        """() => {
            const parts = ['nodes', 'edges', 'layer-names']
                .map(part => document.querySelector('.pipeline-flowchart__' + part))
                .filter(element => element)
                .map(element => element.getBoundingClientRect());
            const natural = document.querySelector('.pipeline-flowchart__nodes').getBBox();
            return {width: natural.width, height: natural.height,
                    left: Math.min(...parts.map(r => r.left)),
                    top: Math.min(...parts.map(r => r.top)),
                    right: Math.max(...parts.map(r => r.right)),
                    bottom: Math.max(...parts.map(r => r.bottom))};
        }"""
    )


def _open(browser: Any, url: str, picture: Picture, viewport: dict[str, int]) -> Any:
    page = browser.new_page(viewport=viewport, device_scale_factor=2)
    state = json.dumps({**_VIEWER_STATE, **picture.state})
    page.add_init_script(f"localStorage.setItem('KedroViz', JSON.stringify({state}));")
    page.goto(url + picture.query())
    page.wait_for_selector(".pipeline-node", state="attached")
    if picture.expand:
        page.locator("g.pipeline-node--modularPipeline").first.click()
    page.wait_for_timeout(2500)  # the layout animates into place
    page.add_style_tag(content=_HIDDEN)
    return page


def take(browser: Any, url: str, picture: Picture, width: int, out: Path) -> Path:
    """Draw ``picture`` so that its graph is ``width`` CSS pixels wide; save it under ``out``."""
    probe = _open(browser, url, picture, {"width": 1200, "height": 900})
    natural = _graph_box(probe)
    probe.close()
    # kedro-viz fits the graph into the viewport: give it one of the graph's own shape, plus room
    # for the toolbars on the left.
    scale = width / natural["width"]
    viewport = {"width": width + 200, "height": int(natural["height"] * scale) + 120}
    page = _open(browser, url, picture, viewport)
    box = _graph_box(page)
    clip = {
        "x": max(box["left"] - _MARGIN, 0),
        "y": max(box["top"] - _MARGIN, 0),
        "width": box["right"] - box["left"] + 2 * _MARGIN,
        "height": box["bottom"] - box["top"] + 2 * _MARGIN,
    }
    path = out / picture.file
    page.screenshot(path=str(path), clip=clip)
    page.close()
    return path


def main(argv: list[str] | None = None) -> None:
    """Start kedro viz, take every picture, stop kedro viz."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        raise SystemExit(
            "Playwright is not installed: pip install -e '.[pictures]', then either "
            "`playwright install chromium` or --chromium /usr/bin/chromium."
        ) from None

    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.viz_pictures", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--folds", type=int, default=3, help="cv.folds drawn (default 3)")
    parser.add_argument("--width", type=int, default=900, help="graph width in CSS pixels")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder of the pictures")
    parser.add_argument("--chromium", default=None, help="a Chromium executable to use")
    args = parser.parse_args(argv)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as log:
        server = _start_viz(args.folds, port, log)
        try:
            _wait_for(server, url + "api/main", log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=_CHROMIUM_ARGS
                )
                for picture in PICTURES:
                    print(take(browser, url, picture, args.width, args.out))  # noqa: T201
                browser.close()
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
