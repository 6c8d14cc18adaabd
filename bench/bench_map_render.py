"""Map rendering: folium's page with and without the second Jinja compilation.

Builds the Map page's default county map for the 2025 Staffordshire sample (wards coloured by
count, the first 300 named places, the incident points), then times what st_folium does with it
(render the page, then build the strings it sends), with branca's own ``MacroElement.render``
(every macro's output compiled again as a template) and with ``dashboard.folium_render``
(output added as text). Prints both and the ratio; see the module for why.

Then the places' move to EPSG:4326 as a page run does it, in a new thread each time (Streamlit
runs every page run in a new thread): ``GeoDataFrame.to_crs`` against ``maps.to_wgs84``.

    .venv/bin/python bench/bench_map_render.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit_folium  # noqa: E402

from dashboard import folium_render, maps  # noqa: E402
from hotspots.hotspot_list import find_hotspots  # noqa: E402
from hotspots.ingest import ingest  # noqa: E402
from hotspots.store import Store  # noqa: E402

REPEATS = 5


def county_map(incidents, geography, places):
    wards = geography.areas("ward")
    counts = incidents.groupby("ward_code").size()
    wards = wards.assign(count=counts.reindex(wards["area_code"]).fillna(0).to_numpy()).to_crs(4326)
    pts = incidents.groupby(["lon", "lat"]).size().rename("count").reset_index()
    pts["tip"] = [f"{c} incidents" for c in pts["count"]]
    m = maps.base_map(wards.total_bounds)
    maps.add_areas(m, wards, value="count", title="Incidents", fields=[("count", "Incidents")])
    maps.add_hotspots(m, places)
    maps.add_points(m, pts.head(3000), name="Incidents by map point", colour=maps.INCIDENT)
    return maps.finish(m)


def timed(incidents, geography, places) -> float:
    times = []
    for _ in range(REPEATS):
        m = county_map(incidents, geography, places)
        t = time.perf_counter()
        m.get_root().render()  # what st_folium does first
        streamlit_folium._get_map_string(m)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_new_thread(fn) -> float:
    """Seconds ``fn()`` takes in a new thread (median of REPEATS)."""
    times: list[float] = []

    def run() -> None:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)

    for _ in range(REPEATS):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store.duckdb") as store:
        ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=store)
        incidents, geography = store.incidents(), store.geography()
    found = find_hotspots(incidents, geography=geography).head(maps.MAX_PLACES)
    places = found.to_crs(4326)
    folium_render.uninstall()
    branca = timed(incidents, geography, places)
    folium_render.install()
    ours = timed(incidents, geography, places)
    print(f"county map, {len(places)} places, wards, 3,000 points; median of {REPEATS}")
    print(f"branca MacroElement.render (output compiled again): {branca * 1000:7.0f} ms")
    print(f"dashboard.folium_render (output added as text):     {ours * 1000:7.0f} ms")
    print(f"ratio: {branca / ours:.1f}x faster")
    maps.to_wgs84(found)  # its kept thread and transformer exist once the app has drawn a map
    plain = in_new_thread(lambda: found.to_crs(4326))
    kept = in_new_thread(lambda: maps.to_wgs84(found))
    print(f"{len(found)} places to EPSG:4326 in a new thread; median of {REPEATS}")
    print(f"GeoDataFrame.to_crs (PROJ set up again):    {plain * 1000:7.1f} ms")
    print(f"maps.to_wgs84 (kept thread and transformer): {kept * 1000:7.1f} ms")
    print(f"ratio: {plain / kept:.1f}x faster")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} (shared machine)")


if __name__ == "__main__":
    main()
