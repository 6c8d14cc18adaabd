"""Serve Leaflet from the repository so that maps draw with no internet connection.

folium points every map at Leaflet, jQuery, Bootstrap and Font Awesome on public CDNs, and
streamlit-folium refuses to draw the map if one of those scripts fails to load. Maps here use
only Leaflet itself, so :func:`make_offline` replaces the CDN links of a map with the vendored
copy in ``dashboard/static/leaflet`` (as data URLs) and drops the rest.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

import folium

STATIC = Path(__file__).parent / "static" / "leaflet"


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@lru_cache(maxsize=1)
def leaflet_js_url() -> str:
    """Leaflet's JavaScript as a data URL."""
    return _data_url("text/javascript", (STATIC / "leaflet.js").read_bytes())


@lru_cache(maxsize=1)
def leaflet_css_url() -> str:
    """Leaflet's stylesheet as a data URL, with its layer-control icons inlined."""
    css = (STATIC / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        path = STATIC / "images" / match.group(1)
        if not path.exists():
            return "url()"
        return f"url({_data_url('image/png', path.read_bytes())})"

    css = re.sub(r"url\(images/([\w.-]+)\)", inline, css)
    return _data_url("text/css", css.encode("utf-8"))


def make_offline(m: folium.Map) -> folium.Map:
    """Point ``m`` at the vendored Leaflet and drop the other CDN scripts and styles.

    Only use this on maps without markers that need Font Awesome or Bootstrap (the builders in
    :mod:`dashboard.maps` draw circles and polygons only).
    """
    m.default_js = [("leaflet", leaflet_js_url())]
    m.default_css = [("leaflet_css", leaflet_css_url())]
    return m
