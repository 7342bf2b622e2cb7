"""The README's pictures come from a real `kedro viz` in headless Chromium (skipped without one)."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from facial_keypoints.tools import viz_pictures

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or importlib.util.find_spec("playwright") is None,
        reason="needs Chromium and Playwright (pip install -e '.[pictures]')",
    ),
]


def test_the_pictures_are_drawn_at_readme_width(tmp_path):
    from PIL import Image  # noqa: PLC0415 (matplotlib's dependency)

    viz_pictures.main(["--out", str(tmp_path), "--chromium", CHROMIUM, "--width", "600"])
    for picture in viz_pictures.PICTURES:
        width, height = Image.open(tmp_path / picture.file).size
        # Two device pixels per CSS pixel: the graph at 600 CSS pixels plus its margins.
        assert 1200 <= width <= 1400 and height > 400
