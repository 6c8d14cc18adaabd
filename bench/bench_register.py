"""The place register: how long a change and a read take, on a store holding the real 2025 sample.

* **a change** (:func:`hotspots.register.update_place`, one history row): one store transaction.
  The embedded store writes through a snapshot of the whole file (see ``hotspots/store.py``), so a
  change costs about a file copy; printed beside a bare ``store.transaction()`` that writes
  nothing but the same one row, and a plain ``shutil.copy`` of the store file (the floor);
* **a read** of the register (:func:`hotspots.register.list_places`, ``n`` places, geometry from
  WKB), against the obvious alternative of keeping the register as a GeoPackage file
  (``geopandas.read_file`` of the same places written by :func:`hotspots.register.export_places`).

Run: ``.venv/bin/python bench/bench_register.py`` (loads the sample into a temporary store first).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotspots import register as reg  # noqa: E402
from hotspots.ingest import ingest  # noqa: E402
from hotspots.store import Store  # noqa: E402


def timed(fn, repeat: int = 7) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with Store(path) as s:
            ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=s)
        store = Store(path)
        size_mb = path.stat().st_size / 1e6
        n = 200
        for k in range(n):  # 200 places of 200 m in a grid over Stoke
            x, y = 385_000 + 250 * (k % 20), 343_000 + 250 * (k // 20)
            reg.add_place(
                store, box(x, y, x + 200, y + 200), name=f"place {k}", group="bench", author="bench"
            )
        flip = iter(range(10**6))
        change = timed(lambda: reg.update_place(store, 1, name=f"renamed {next(flip)}", author="bench"))
        bare = timed(lambda: _bare(store))
        copy = timed(lambda: shutil.copy(path, Path(tmp) / "copy.duckdb"))
        read = timed(lambda: reg.list_places(store))
        gpkg = Path(tmp) / "places.gpkg"
        reg.export_places(store, gpkg)
        read_gpkg = timed(lambda: gpd.read_file(gpkg, layer="places"))
        one = timed(lambda: reg.get_place(store, 100))
        print(f"store file {size_mb:.1f} MB (102,451 incidents), register of {n} places")
        print(f"a change (update_place)           {change * 1000:8.1f} ms")
        print(
            f"  bare transaction, one row       {bare * 1000:8.1f} ms   ratio change/bare {change / bare:.2f}"
        )
        print(
            f"  shutil.copy of the store file   {copy * 1000:8.1f} ms   ratio change/copy {change / copy:.2f}"
        )
        print(f"read the register (list_places)   {read * 1000:8.1f} ms")
        print(
            f"  GeoPackage read of the same     {read_gpkg * 1000:8.1f} ms   ratio list_places/gpkg {read / read_gpkg:.2f}"
        )
        print(f"one place (get_place)             {one * 1000:8.1f} ms")
        store.close()


def _bare(store: Store) -> None:
    with store.transaction() as con:
        con.execute(
            "INSERT INTO register_notes VALUES (0, 0, DATE '2025-01-01', 'note', 'x', 'bench', now())"
        )


if __name__ == "__main__":
    main()
