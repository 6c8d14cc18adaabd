"""Draw docs/demand_map.png: multi-agency demand on the 2025 sample with the constructed STATS19 partner file.

Run:  .venv/bin/python docs/demand_figure.py   (builds a temporary store; prints the figures quoted in docs/demand.md)

Left: the county, 150 m cells in the top composite classes and the persistent cells (circled, as
they are too small to see at this scale). Right: Stoke-on-Trent, where three of the four
constructed persistent collision points are, with the outlines of the named places of the
default hotspot list that hold a persistent cell (demand per source for each place:
``hotspots.demand.place_demand``). Drawn with Pillow (installed with streamlit).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotspots.demand import demand, place_demand  # noqa: E402
from hotspots.filters import Filter  # noqa: E402
from hotspots.hotspot_list import find_hotspots  # noqa: E402
from hotspots.ingest import PartnerMapping, ingest  # noqa: E402
from hotspots.store import Store  # noqa: E402

DATA = ROOT / "tests" / "data"
OUT = ROOT / "docs" / "demand_map.png"
RED, CLASSES = (178, 24, 43), [(253, 187, 132), (252, 141, 89), (227, 74, 51)]
BLUE = (33, 102, 172)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def panel(draw, box, bounds, wards, cells, points, title, places=None):
    """Draw wards, demand cells and points inside ``box`` (pixels), fitted to ``bounds`` (metres)."""
    x0, y0, x1, y1 = box
    minx, miny, maxx, maxy = bounds
    s = min((x1 - x0) / (maxx - minx), (y1 - y0 - 30) / (maxy - miny))

    def px(x, y):
        return x0 + (x - minx) * s, y1 - (y - miny) * s

    for geom in wards.geometry:
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type == "Polygon":
                draw.line([px(*c) for c in poly.exterior.coords], fill=(200, 200, 200), width=1)
    top = cells[~cells["persistent"]]
    q = np.quantile(top["composite"], [0.5, 0.8, 0.95])
    for row in top.itertuples():
        k = int(np.searchsorted(q, row.composite, side="right"))
        if k == 0:
            continue
        a, b = px(row.x - 75, row.y - 75), px(row.x + 75, row.y + 75)
        draw.rectangle([a[0], b[1], max(b[0], a[0] + 1), max(a[1], b[1] + 1)], fill=CLASSES[k - 1])
    for row in cells[cells["persistent"]].itertuples():
        a, b = px(row.x - 75, row.y - 75), px(row.x + 75, row.y + 75)
        draw.rectangle([a[0], b[1], max(b[0], a[0] + 2), max(a[1], b[1] + 2)], fill=RED)
        cx, cy = px(row.x, row.y)
        draw.ellipse([cx - 9, cy - 9, cx + 9, cy + 9], outline=RED, width=3)
    for row in [] if places is None else places.itertuples():
        for poly in getattr(row.geometry, "geoms", [row.geometry]):
            draw.line([px(*c) for c in poly.exterior.coords], fill=BLUE, width=3)
        lx, ly = px(row.geometry.bounds[2], row.geometry.bounds[3])
        label = f"#{row.rank} {row.name.split(',')[0]}"
        draw.text((min(lx + 8, x1 - 8 * len(label)), ly - 20), label, fill=BLUE, font=_font(14))
    for x, y in points:
        cx, cy = px(x, y)
        draw.line([cx - 5, cy, cx + 5, cy], fill=(0, 0, 0), width=2)
        draw.line([cx, cy - 5, cx, cy + 5], fill=(0, 0, 0), width=2)
    draw.text((x0, y0), title, fill=(0, 0, 0), font=_font(18))


def main() -> None:
    """Build the store, compute demand, print the figures and draw the map."""
    import geopandas as gpd
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "s.duckdb") as store:
            ingest([ROOT / "sample_data" / "staffordshire-2025-street.zip"], store=store)
            ingest(
                [DATA / "stats19_constructed.csv"],
                store=store,
                source="collisions",
                mapping=PartnerMapping.from_file(DATA / "stats19.toml"),
            )
            inc, geo = store.incidents(), store.geography()
    filt = Filter(month_from="2025-01", month_to="2025-12")
    cells = demand(inc, sources=("police.uk", "collisions"), filt=filt, with_geometry=False)
    print(cells.attrs["describe"])
    print(
        f"{len(cells):,} cells with demand; {int(cells['persistent'].sum())} persistent; top k = top 5% of cells"
    )
    print(
        cells[cells["persistent"]][
            ["unit_id", "count_police.uk", "count_collisions", "multi_high_months", "composite_rank"]
        ].to_string(index=False)
    )
    spots = find_hotspots(inc, geography=geo, filt=filt)
    per_place = place_demand(inc, spots, sources=("police.uk", "collisions"), filt=filt)
    held = per_place[per_place["persistent"]]
    print(
        f"{len(per_place):,} named places (default list); {len(held)} hold a persistent cell:\n"
        + held[["rank", "name", "count_police.uk", "count_collisions", "composite_rank", "multi_high_months"]]
        .sort_values("composite_rank")
        .to_string(index=False)
    )
    pts = pd.read_csv(DATA / "stats19_constructed_persistent.csv")
    p = gpd.GeoSeries(gpd.points_from_xy(pts["Longitude"], pts["Latitude"]), crs=4326).to_crs(27700)
    points = list(zip(p.x, p.y, strict=True))
    wards = geo.areas("ward").to_crs(27700)
    img = Image.new("RGB", (1500, 820), "white")
    draw = ImageDraw.Draw(img)
    panel(
        draw,
        (20, 20, 720, 780),
        wards.total_bounds,
        wards,
        cells,
        points,
        "Staffordshire and Stoke-on-Trent, 2025",
    )
    sx, sy = points[0]
    zoom = (sx - 5000, sy - 4500, sx + 7000, sy + 5500)
    near = wards.cx[zoom[0] : zoom[2], zoom[1] : zoom[3]].clip_by_rect(*zoom).to_frame("geometry")
    near = near[~near.geometry.is_empty]
    sel = cells[(cells.x > zoom[0]) & (cells.x < zoom[2]) & (cells.y > zoom[1]) & (cells.y < zoom[3])]
    panel(
        draw,
        (760, 20, 1480, 780),
        zoom,
        near,
        sel,
        [q for q in points if zoom[0] < q[0] < zoom[2] and zoom[1] < q[1] < zoom[3]],
        "Stoke-on-Trent (zoom): named places holding a persistent cell",
        places=held,
    )
    f = _font(15)
    y = 790
    draw.rectangle([20, y, 34, y + 14], fill=RED)
    draw.text(
        (40, y - 2),
        "persistent multi-agency high demand (police.uk and collisions both in the top 5% in >= 6 of 12 months)",
        fill=(0, 0, 0),
        font=f,
    )
    x = 930
    for c, lab in zip(CLASSES, ["composite top 50%", "top 20%", "top 5%"], strict=True):
        draw.rectangle([x, y, x + 14, y + 14], fill=c)
        draw.text((x + 18, y - 2), lab, fill=(0, 0, 0), font=f)
        x += 190
    draw.text(
        (20, 805),
        "+ constructed persistent collision points (tests/data); blue outline: a named place of the hotspot list holding a "
        "persistent cell. Contains public sector information licensed under the Open Government Licence v3.0.",
        fill=(80, 80, 80),
        font=_font(12),
    )
    img.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
