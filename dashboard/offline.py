"""Serve Leaflet from the repository so that maps draw with no internet connection.

folium points every map at Leaflet, jQuery, Bootstrap and Font Awesome on public CDNs, and
streamlit-folium refuses to draw the map if one of those scripts fails to load. Maps here use
only Leaflet itself, so :func:`make_offline` replaces the CDN links of a map with the vendored
copy in ``dashboard/static/leaflet`` and drops the rest.

The app's server serves that folder at ``/hs-leaflet/`` (:func:`leaflet_route`, mounted by
``app.py``), and maps drawn by a served app link to it: the browser fetches Leaflet once and
keeps it. Anywhere else (``AppTest``, a map written to a file) the links are data URLs, which
need no server. Data URLs in the live app cost every filter change ~220 KB: streamlit-folium
sends the links with the map's arguments on each run.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

import folium

STATIC = Path(__file__).parent / "static" / "leaflet"
ROUTE = "hs-leaflet"  # the address the app's server gives STATIC, under its base URL path
_served_at: str | None = None  # the route's path, once the server has mounted it


def _route_path() -> str:
    """``/hs-leaflet``, under the server's ``server.baseUrlPath`` when one is set."""
    import streamlit as st

    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{ROUTE}" if base else f"/{ROUTE}"


def leaflet_route():
    """A Starlette route serving the vendored Leaflet, for ``st.App(routes=[...])``.

    From then on, maps made in this process link to it instead of carrying Leaflet as data URLs.
    """
    global _served_at
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    _served_at = _route_path()
    return Mount(_served_at, app=StaticFiles(directory=STATIC), name=ROUTE)


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

    The links go to the app's own ``/hs-leaflet/`` route when the server serves it, and are
    data URLs otherwise. Only use this on maps without markers that need Font Awesome or
    Bootstrap (the builders in :mod:`dashboard.maps` draw circles and polygons only).
    """
    if _served_at:
        m.default_js = [("leaflet", f"{_served_at}/leaflet.js")]
        m.default_css = [("leaflet_css", f"{_served_at}/leaflet.css")]
    else:
        m.default_js = [("leaflet", leaflet_js_url())]
        m.default_css = [("leaflet_css", leaflet_css_url())]
    return m
