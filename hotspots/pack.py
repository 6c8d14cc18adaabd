"""The meeting pack: one printable A4-landscape PDF per meeting of a problem-solving group.

:func:`meeting_pack` lays out, with ReportLab: a cover (group, area, period, filter, data
sources), the agenda (:func:`hotspots.agenda.meeting_agenda`), then one page per place of the
group: a map of the place, its buffer ring and nearby hotspots drawn from our own geometry (no
basemap tiles: a pack must print offline), the monthly counts with the intervention start
marked, the top locations, the notes and actions, and the evaluation
(:func:`hotspots.place_eval.evaluate_place`). Every page carries the Open Government Licence
attribution. Charts and maps are ReportLab vector drawings, so they stay sharp when printed.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import shapely
from reportlab.graphics.shapes import Drawing, Line, Path, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hotspots._errors import InputError

#: Printed at the foot of every page.
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk). "
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right 2024."
)
PAGE = landscape(A4)
MARGIN = 12 * mm
PLACE_FILL, RING, HOTSPOT, CONTEXT = (
    colors.HexColor("#D55E00"),
    colors.HexColor("#0072B2"),
    colors.HexColor("#CC79A7"),
    colors.HexColor("#BBBBBB"),
)
#: The PDF's built-in fonts cover Latin-1: a few symbols of our texts are spelled out.
_PLAIN = {"√": "sqrt", "−": "-", "→": "->", "≥": ">=", "≤": "<=", "…": "...", "×": "x", "–": "-"}


def _plain(text: Any) -> str:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    for k, v in _PLAIN.items():
        s = s.replace(k, v)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=13)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=26, leading=32, alignment=TA_LEFT),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontSize=18, leading=22, spaceAfter=4),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=12, leading=14, spaceBefore=4, spaceAfter=2
        ),
        "body": body,
        "big": ParagraphStyle("big", parent=body, fontSize=13, leading=17),
        "verdict": ParagraphStyle("verdict", parent=body, fontName="Helvetica-Bold", fontSize=11, leading=14),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#444444")
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
    }


def _table(df: pd.DataFrame, styles: dict, *, widths: list[float] | None = None, empty: str = "None.") -> Any:
    """A DataFrame as a ReportLab table with wrapped cells, or a line saying it is empty."""
    if df is None or df.empty:
        return Paragraph(_plain(empty), styles["body"])
    head = [Paragraph(f"<b>{_plain(c).replace('_', ' ')}</b>", styles["cell"]) for c in df.columns]
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float) and np.isfinite(v) and float(v).is_integer():
                v = f"{int(v):,}"
            elif isinstance(v, (int, np.integer)):
                v = f"{int(v):,}"
            cells.append(Paragraph(_plain(v), styles["cell"]))
        body.append(cells)
    t = Table([head, *body], colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8E8E8")),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


# ---------------------------------------------------------------------------- drawings
def _rings(geom: shapely.Geometry) -> list[np.ndarray]:
    """Exterior and interior rings of every polygon part."""
    out = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        out.append(np.asarray(poly.exterior.coords))
        out.extend(np.asarray(r.coords) for r in poly.interiors)
    return out


def place_map(
    place: shapely.Geometry,
    ring: shapely.Geometry,
    *,
    hotspots: Any = None,
    context: Any = None,
    width: float = 125 * mm,
    height: float = 92 * mm,
    margin_m: float = 400.0,
) -> Drawing:
    """A map of a place (filled), its buffer ring (dashed) and nearby hotspots (outlined).

    Parameters
    ----------
    place, ring
        The place and its buffer ring, EPSG:27700.
    hotspots
        Hotspot polygons (GeoSeries/GeoDataFrame, EPSG:27700) drawn where they fall on the map.
    context
        Area outlines (e.g. LSOAs) drawn faintly for orientation.
    width, height
        Size on the page, points.
    margin_m
        Ground beyond the ring shown on each side, metres.

    Returns
    -------
    Drawing
        A vector drawing with a scale bar and a north arrow; no basemap (packs print offline).
    """
    minx, miny, maxx, maxy = ring.union(place).buffer(margin_m).bounds
    scale = min(width / (maxx - minx), (height - 14) / (maxy - miny))
    ox = (width - (maxx - minx) * scale) / 2
    oy = 14 + ((height - 14) - (maxy - miny) * scale) / 2
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=colors.white, strokeColor=colors.HexColor("#888888")))
    view = shapely.box(minx, miny, maxx, maxy)

    def add(geom: shapely.Geometry, **kw: Any) -> None:
        geom = geom.intersection(view)
        for coords in _rings(geom):
            p = Path(**kw)
            for k, (x, y) in enumerate(coords):
                px, py = ox + (x - minx) * scale, oy + (y - miny) * scale
                (p.moveTo if k == 0 else p.lineTo)(px, py)
            p.closePath()
            d.add(p)

    if context is not None:
        for g in context.geometry[context.geometry.intersects(view)]:
            add(g, fillColor=None, strokeColor=CONTEXT, strokeWidth=0.4)
    if hotspots is not None and len(hotspots):
        for g in hotspots.geometry[hotspots.geometry.intersects(view)]:
            add(g, fillColor=colors.Color(0.8, 0.47, 0.65, alpha=0.18), strokeColor=HOTSPOT, strokeWidth=1.2)
    add(ring, fillColor=colors.Color(0, 0.45, 0.7, alpha=0.10), strokeColor=RING, strokeWidth=1.2,
        strokeDashArray=[4, 3])  # fmt: skip
    add(place, fillColor=colors.Color(0.84, 0.37, 0, alpha=0.45), strokeColor=PLACE_FILL, strokeWidth=1.8)
    # scale bar: a round length near a fifth of the width
    target = (maxx - minx) / 5
    bar = next(v for v in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000) if v >= target * 0.6)
    d.add(Line(8, 7, 8 + bar * scale, 7, strokeColor=colors.black, strokeWidth=2))
    d.add(String(12 + bar * scale, 4, f"{bar:,} m", fontName="Helvetica", fontSize=7))
    d.add(String(width - 14, height - 14, "N", fontName="Helvetica-Bold", fontSize=10, textAnchor="middle"))
    d.add(Line(width - 14, height - 30, width - 14, height - 17, strokeColor=colors.black, strokeWidth=1.2))
    # legend
    y = height - 12
    for label, colour in (("place", PLACE_FILL), ("buffer ring", RING), ("hotspots", HOTSPOT)):
        d.add(Rect(6, y - 1, 9, 7, fillColor=colour, strokeColor=colour))
        d.add(String(18, y, label, fontName="Helvetica", fontSize=7.5))
        y -= 10
    return d


def monthly_chart(
    monthly: pd.DataFrame,
    *,
    start: str,
    column: str = "place",
    width: float = 125 * mm,
    height: float = 52 * mm,
) -> Drawing:
    """Bars of monthly counts with the intervention start marked.

    Parameters
    ----------
    monthly
        ``month`` (first of month) and ``column`` counts, e.g. ``PlaceEvaluation.monthly``.
    start
        First month of the after window, "YYYY-MM" (a dashed line at its left edge).
    column
        Which count to draw (default ``place``).
    width, height
        Size on the page, points.

    Returns
    -------
    Drawing
        Bars labelled by month ("Jan", the year under January and the first month).
    """
    d = Drawing(width, height)
    left, bottom, top = 30, 24, 22
    pw, ph = width - left - 6, height - bottom - top
    values = monthly[column].to_numpy(dtype=float)
    months = pd.DatetimeIndex(monthly["month"])
    n = max(len(values), 1)
    vmax = max(float(values.max()) if len(values) else 0.0, 1.0)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000) if vmax / s <= 5)
    ymax = step * int(np.ceil(vmax / step))
    for v in range(0, ymax + 1, step):
        y = bottom + v / ymax * ph
        d.add(Line(left, y, left + pw, y, strokeColor=colors.HexColor("#DDDDDD"), strokeWidth=0.5))
        d.add(String(left - 3, y - 3, f"{v:,}", fontName="Helvetica", fontSize=7, textAnchor="end"))
    bw = pw / n
    first_after = pd.Period(start, "M")
    for k, (m, v) in enumerate(zip(months, values, strict=True)):
        after = m.to_period("M") >= first_after
        x = left + k * bw
        d.add(Rect(x + bw * 0.12, bottom, bw * 0.76, v / ymax * ph, strokeColor=None,
                   fillColor=PLACE_FILL if after else colors.HexColor("#777777")))  # fmt: skip
        label = m.strftime("%b")
        d.add(String(x + bw / 2, bottom - 9, label, fontName="Helvetica", fontSize=6.5, textAnchor="middle"))
        if m.month == 1 or k == 0:
            d.add(String(x + bw / 2, bottom - 17, m.strftime("%Y"), fontName="Helvetica", fontSize=6.5,
                         textAnchor="middle"))  # fmt: skip
        if m.to_period("M") == first_after:
            d.add(Line(x, bottom - 2, x, bottom + ph + 12, strokeColor=colors.black, strokeWidth=1.2,
                       strokeDashArray=[3, 2]))  # fmt: skip
            d.add(String(x + 2, bottom + ph + 6, f"start {start}", fontName="Helvetica-Bold", fontSize=7.5))
    d.add(String(0, height - 7, "Incidents per month in the place (grey: before the start; orange: from it)",
                 fontName="Helvetica", fontSize=7.5))  # fmt: skip
    return d


# ---------------------------------------------------------------------------- pages
def _sources(store: Any) -> str:
    log = store.ingest_log()
    months = store.sql(
        "SELECT source, strftime(min(month), '%Y-%m') AS first, strftime(max(month), '%Y-%m') AS last, "
        "count(*) AS n FROM incidents GROUP BY 1 ORDER BY 1"
    )
    parts = [f"{r.source}: {r.n:,} incidents, {r.first} to {r.last}" for r in months.itertuples()]
    return "; ".join(parts) + f" ({len(log)} file loads in the store's load log)"


def _top_locations(incidents: pd.DataFrame, place: shapely.Geometry, months: tuple[str, str]) -> pd.DataFrame:
    from hotspots.place_eval import _inside

    m = incidents["month"].dt.strftime("%Y-%m")
    sel = incidents[(m >= months[0]) & (m <= months[1])]
    inside = _inside(sel["x"].to_numpy(dtype=float), sel["y"].to_numpy(dtype=float), place)
    sel = sel[inside]
    if sel.empty:
        return pd.DataFrame(columns=["location", "incidents", "top categories"])
    g = sel.groupby(sel["location_name"].astype(str), observed=True)
    top = g.size().sort_values(ascending=False).head(5)
    cats = {
        loc: "; ".join(
            f"{c} ({n})" for c, n in g.get_group(loc)["category"].astype(str).value_counts().head(2).items()
        )
        for loc in top.index
    }
    return pd.DataFrame(
        {"location": top.index, "incidents": top.to_numpy(), "top categories": top.index.map(cats)}
    )


def _place_page(
    store: Any, place: Any, ev: Any, agenda: Any, incidents: pd.DataFrame, geo: Any, st: dict
) -> list:
    from hotspots.register import notes

    out: list = [Paragraph(_plain(f"{place.name}"), st["h1"])]
    start = "no start set" if place.start is None else f"start {place.start:%Y-%m-%d}"
    end = "" if place.end is None else f", end {place.end:%Y-%m-%d}"
    out.append(
        Paragraph(
            _plain(
                f"Place #{place.place_id} · {place.status} · {start}{end} · "
                f"{place.geometry.area / 10_000:,.1f} ha · {place.source}"
            ),  # fmt: skip
            st["small"],
        )
    )
    out.append(Spacer(1, 4))
    from hotspots.place_eval import BUFFER_M

    ring = (
        ev.buffer_geometry if ev is not None else place.geometry.buffer(BUFFER_M).difference(place.geometry)
    )
    view = place.geometry.buffer(BUFFER_M + 400)
    context = geo.lsoas[geo.lsoas.geometry.notna()]
    context = context.iloc[context.sindex.query(view, predicate="intersects")]
    left: list = [place_map(place.geometry, ring, hotspots=agenda.hotspots, context=context)]
    if ev is not None:
        left.append(Spacer(1, 4))
        left.append(monthly_chart(ev.monthly, start=ev.first_after))
        period = (ev.after_from, ev.after_to)
    else:
        last = agenda.data_to
        period = ((pd.Period(last, "M") - 11).strftime("%Y-%m"), last)
    right: list = []
    if ev is not None:
        right.append(Paragraph("Evaluation", st["h2"]))
        right.append(Paragraph(_plain(ev.verdict), st["verdict"]))
        right.append(Spacer(1, 3))
        right.append(Paragraph(_plain(ev.displacement), st["body"]))
        right.append(Spacer(1, 3))
        t = ev.table()
        t.columns = ["area", f"before ({ev.before_from} to {ev.before_to})", f"after ({ev.after_from} to {ev.after_to})",
                     "change"]  # fmt: skip
        right.append(_table(t, st, widths=[62 * mm, 32 * mm, 32 * mm, 16 * mm]))
        if not ev.too_few:
            right.append(
                Paragraph(
                    _plain(
                        f"Effect against the control: {ev.effect * 100:+.0f}% (95% interval {ev.effect_low * 100:+.0f}% "
                        f"to {ev.effect_high * 100:+.0f}%). "
                        + (f"WDQ {ev.wdq:+.2f}." if ev.success_measure < 0 else "WDQ not read.")
                        + f" Total net effect {ev.tne:+,.0f} incidents."
                    ),
                    st["body"],
                )
            )
    else:
        right.append(Paragraph("Evaluation", st["h2"]))
        reason = "no intervention start is set" if place.start is None else f"the place is {place.status}"
        right.append(Paragraph(_plain(f"Not evaluated: {reason}."), st["body"]))
    right.append(Paragraph(_plain(f"Top locations in the place, {period[0]} to {period[1]}"), st["h2"]))
    right.append(
        _table(_top_locations(incidents, place.geometry, period), st, widths=[62 * mm, 18 * mm, 62 * mm])
    )
    right.append(Paragraph("Actions and notes", st["h2"]))
    nt = notes(store, place.place_id)
    if len(nt):
        nt = nt.sort_values("date", ascending=False).head(5)
        nt = pd.DataFrame({"date": pd.to_datetime(nt["date"]).dt.strftime("%Y-%m-%d"), "kind": nt["kind"],
                           "text": nt["text"], "by": nt["author"]})  # fmt: skip
    right.append(_table(nt, st, widths=[20 * mm, 14 * mm, 88 * mm, 20 * mm], empty="None recorded."))
    if ev is not None:
        left.append(
            Paragraph(
                _plain(
                    f"Windows of {ev.months} months: before = {ev.window_rule}. Control: {ev.control_name}. "
                    f"Success measure {ev.success_measure:+.4f}, buffer measure {ev.buffer_measure:+.4f}. "
                    "Method on the agenda page."
                ),
                st["small"],
            )
        )
    widths = [130 * mm, PAGE[0] - 2 * MARGIN - 130 * mm]
    style = TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    room = PAGE[1] - MARGIN - 16 * mm - 60
    for cut in range(len(right), 0, -1):  # the right column's tail flows on when the page is full
        grid = Table([[left, right[:cut]]], colWidths=widths)
        grid.setStyle(style)
        if grid.wrap(sum(widths), room)[1] <= room or cut == 1:
            break
    out.append(grid)
    out.extend(right[cut:])
    return out


def _progress(places: pd.DataFrame) -> pd.DataFrame:
    """The agenda's places section, narrowed for a printed page."""
    if places.empty:
        return places

    def effect(r: pd.Series) -> str:
        if pd.isna(r.get("effect_pct")):
            return ""
        return f"{r['effect_pct']:+.0f}% ({r['effect_low_pct']:+.0f}% to {r['effect_high_pct']:+.0f}%)"

    return pd.DataFrame(
        {
            "#": places["place_id"],
            "place": places["name"],
            "start": places["start"],
            "before": places["treated_before"],
            "after": places["treated_after"],
            "effect (95% interval)": places.apply(effect, axis=1),
            "WDQ": places["wdq"],
            "verdict": places["verdict"],
        }
    )


def meeting_pack(store: Any, *, group: str, date: Any = None, agenda: Any = None) -> bytes:
    """The meeting pack of a group as a PDF (A4 landscape).

    Parameters
    ----------
    store
        An open :class:`hotspots.store.Store` with incidents and a register.
    group
        The group's name.
    date
        Meeting month "YYYY-MM"; None: the latest loaded month.
    agenda
        A :class:`hotspots.agenda.Agenda` already made for this group and date (saves
        recomputing it); None: made here.

    Returns
    -------
    bytes
        The PDF: cover, agenda, one page per place of the group (closed places last).

    Raises
    ------
    InputError
        As :func:`hotspots.agenda.meeting_agenda` (unknown group, bad month, empty store).
    """
    from hotspots.agenda import meeting_agenda
    from hotspots.register import get_place, list_places

    if agenda is None:
        agenda = meeting_agenda(store, group=group, date=date)
    elif agenda.group != group:
        raise InputError(f"`agenda` is for group {agenda.group!r}, not {group!r}")
    incidents, geo = store.incidents(), store.geography()
    st = _styles()
    buf = io.BytesIO()
    title = f"{agenda.group}: meeting pack, {pd.Period(agenda.date, 'M').strftime('%B %Y')}"

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(MARGIN, 7 * mm, _plain(ATTRIBUTION).replace("&amp;", "&"))
        canvas.drawRightString(PAGE[0] - MARGIN, 11 * mm, f"{title} · page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=title,
        author="hotspots",
        subject=f"Problem-solving meeting pack for {agenda.group}",
    )
    story: list = [Spacer(1, 25 * mm), Paragraph(_plain(title), st["title"]), Spacer(1, 8 * mm)]
    places = list_places(store, group=group)
    order = {"active": 0, "proposed": 1, "closed": 2}
    places = places.assign(_o=places["status"].map(order)).sort_values(["_o", "place_id"])
    cover = [
        ("Group", agenda.group),
        ("Area", agenda.area),
        ("Meeting", pd.Period(agenda.date, "M").strftime("%B %Y")),
        ("Period", f"since the last meeting ({agenda.since}; {agenda.since_rule}): months to {agenda.data_to}"),
        ("Filter", "all incidents in the area: every category and source"),
        ("Places", f"{len(places)} in the register for this group "
                   f"({', '.join(f'{n} {s}' for s, n in places['status'].value_counts().items()) or 'none'})"),
        ("Data sources", _sources(store)),
        ("Boundaries", f"{geo.name}: ONS 2021 LSOAs, wards and districts"),
        ("Made", f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC by the hotspots tool"),
    ]  # fmt: skip
    t = Table(
        [[Paragraph(f"<b>{_plain(k)}</b>", st["big"]), Paragraph(_plain(v), st["big"])] for k, v in cover],
        colWidths=[40 * mm, PAGE[0] - 2 * MARGIN - 40 * mm],
    )
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    story += [t, PageBreak()]

    story.append(Paragraph(_plain(f"Agenda: what changed since {agenda.since}"), st["h1"]))
    story.append(Paragraph(_plain(f"1. Places new in the hotspot list (top {len(agenda.hotspots)} now, "
                                  "none of which overlapped the top places at the last meeting)"), st["h2"]))  # fmt: skip
    story.append(_table(agenda.new_hotspots, st, empty="No new places in the hotspot list."))
    story.append(Paragraph("2. Wards (or districts) above their expected range", st["h2"]))
    story.append(
        _table(
            agenda.above_expected,
            st,
            empty="No ward or district above its expected range since the last meeting.",
        )
    )
    story.append(Paragraph("3. Top repeat locations since the last meeting", st["h2"]))
    story.append(
        _table(agenda.repeat_locations, st, widths=[12 * mm, 62 * mm, 16 * mm, 108 * mm, 18 * mm, 55 * mm])
    )
    story.append(KeepTogether([
        Paragraph("4. Progress of the group's active places", st["h2"]),
        _table(_progress(agenda.places), st, widths=[10 * mm, 45 * mm, 20 * mm, 17 * mm, 17 * mm, 28 * mm,
               14 * mm, 120 * mm], empty="No active places for this group."),
    ]))  # fmt: skip

    if agenda.evaluations:
        method = next(iter(agenda.evaluations.values())).method
        method = (
            "Counts of incidents located inside each area (point in polygon, EPSG:27700) over equal windows "
            "before and after the start (each place's page gives its windows). "
            + method[method.index("Effect:") :]
        )
        story.append(Paragraph(_plain(f"How places are evaluated: {method}"), st["small"]))
    for pid in places["place_id"]:
        place = get_place(store, int(pid))
        ev = agenda.evaluations.get(int(pid))
        story.append(PageBreak())
        story += _place_page(store, place, ev, agenda, incidents, geo, st)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
