"""What the AppTest page tests share: pointing the app at a store, and opening a page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@contextmanager
def store_env(path: Path) -> Iterator[Path]:
    """Set ``HOTSPOTS_STORE`` to ``path`` for the ``with`` block, then put back what was there."""
    old = os.environ.get("HOTSPOTS_STORE")
    os.environ["HOTSPOTS_STORE"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("HOTSPOTS_STORE", None)
        else:
            os.environ["HOTSPOTS_STORE"] = old


def app_page(
    page: str | None = None, *, query: dict[str, str] | None = None, timeout: float = 180
) -> AppTest:
    """The app run once, then switched to ``page`` (e.g. ``"pages/data_page.py"``); no exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
