"""Place evaluation: did crime fall in a place after an intervention, or move round the corner.

:func:`evaluate_place` counts incidents in a place, in a buffer ring round it and in a control
area, over equal windows before and after the intervention start, and returns a
:class:`PlaceEvaluation`: the counts, the relative change against the control with its 95%
interval, the Weighted Displacement Quotient of Bowers & Johnson (2003) and a verdict in plain
words. :func:`wdq` is the quotient on its own, for counts from elsewhere.

Rules (each stated again where it applies):

- **Windows.** After: the start month and the months after it that are loaded, up to 12 and,
  for a registered place with an end, no further than its end month (or ``months``). Before: as many months; with 12 or more loaded months before the start, the same
  months of the year one year earlier (so that season does not pass for an effect), otherwise
  the months just before the start. A start that is not the first of a month leaves its own,
  part-treated month out of both windows.
- **Areas.** Place: the polygon. Buffer: the ring ``buffer_m`` metres wide round it (the place
  left out). Control: by default the rest of the place's district (the district holding most of
  the place), or a district, ward, LSOA or locality code, or a polygon; the place and its buffer
  are always left out of it. An incident belongs to an area when its location (x/y, EPSG:27700)
  lies inside the polygon; incidents with no location count nowhere.
- **Effect.** The ratio of ratios ``(A1/A0) / (C1/C0)`` (difference in differences on the log
  scale), reported as a relative change ``ratio - 1``, with the 95% interval
  ``exp(log ratio ± 1.96 sqrt(1/A0 + 1/A1 + 1/C0 + 1/C1))`` (the log odds-ratio interval of
  a 2×2 table of Poisson counts). A zero count adds 0.5 to all four cells (Haldane).
- **Displacement.** ``WDQ = (B1/C1 - B0/C0) / (A1/C1 - A0/C0)`` (buffer measure over success
  measure). Bowers & Johnson attribute a change in the buffer to the intervention only when the
  place improved against the control (success measure < 0); otherwise the WDQ is not read.
- **Too few to judge.** Below :data:`MIN_INCIDENTS` incidents in the place over both windows,
  the verdict says so instead of reading the numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from hotspots._errors import InputError

BNG = 27700
#: Fewest incidents in the place (both windows together) for a verdict. With 20 split 13/7 (a
#: fall by half) the 95% interval of the ratio still reaches about 1.3: with fewer, even a
#: halving cannot be told from chance, so the verdict is "too few incidents to judge".
MIN_INCIDENTS = 20
#: Default width of the buffer ring, metres: about two street blocks, the distance most
#: displacement studies find crime moves, if it moves (Bowers & Johnson 2003; Guerette 2009).
BUFFER_M = 250.0
#: Most months in each window.
MAX_MONTHS = 12


@dataclass(frozen=True)
class WDQ:
    """The Weighted Displacement Quotient and its parts (Bowers & Johnson 2003).

    Attributes
    ----------
    success
        ``A1/C1 - A0/C0``: negative when the place improved against the control.
    buffer
        ``B1/C1 - B0/C0``: positive when the buffer worsened against the control (possible
        displacement), negative when it improved (possible diffusion of benefit).
    wdq
        ``buffer / success``; NaN when ``success`` is zero.
    tne
        Total net effect (Guerette 2009): ``[A0 C1/C0 - A1] + [B0 C1/C0 - B1]``, incidents
        prevented in the place and buffer together, beyond the control's trend.
    """

    success: float
    buffer: float
    wdq: float
    tne: float


def wdq(
    treated_before: float,
    treated_after: float,
    buffer_before: float,
    buffer_after: float,
    control_before: float,
    control_after: float,
) -> WDQ:
    """Weighted Displacement Quotient of Bowers & Johnson (2003), with its parts.

    Parameters
    ----------
    treated_before, treated_after
        Counts in the place (A0, A1).
    buffer_before, buffer_after
        Counts in the buffer ring (B0, B1).
    control_before, control_after
        Counts in the control area (C0, C1).

    Returns
    -------
    WDQ
        Success measure, buffer measure, quotient and total net effect.

    Raises
    ------
    InputError
        If a count is negative or a control count is zero (the measures divide by it).

    Notes
    -----
    ``WDQ = (B1/C1 - B0/C0) / (A1/C1 - A0/C0)``, as in Guerette (2009, Appendix B). Read it
    only when the success measure is negative: above 0, diffusion of benefit (above 1, larger
    than the effect in the place); between 0 and -1, some displacement, smaller than the effect;
    below -1, displacement outweighed the effect.
    """
    a0, a1, b0, b1, c0, c1 = (
        float(v)
        for v in (treated_before, treated_after, buffer_before, buffer_after, control_before, control_after)
    )
    for nm, v in zip(("A0", "A1", "B0", "B1", "C0", "C1"), (a0, a1, b0, b1, c0, c1), strict=True):
        if not np.isfinite(v) or v < 0:
            raise InputError(f"WDQ count {nm} must be a number of incidents (0 or more); got {v!r}")
    if c0 == 0 or c1 == 0:
        raise InputError(
            f"WDQ needs incidents in the control area in both windows; got {c0:g} before and {c1:g} after "
            "— choose a larger control area"
        )
    success = a1 / c1 - a0 / c0
    buffer = b1 / c1 - b0 / c0
    quotient = buffer / success if success != 0 else float("nan")
    tne = (a0 * c1 / c0 - a1) + (b0 * c1 / c0 - b1)
    return WDQ(success=success, buffer=buffer, wdq=quotient, tne=tne)


def ratio_of_ratios(a0: float, a1: float, c0: float, c1: float, *, level: float = 0.95) -> tuple[float, ...]:
    """Relative change in a place against a control, with its interval.

    Parameters
    ----------
    a0, a1
        Counts in the place before and after.
    c0, c1
        Counts in the control before and after.
    level
        Coverage of the interval (default 0.95).

    Returns
    -------
    tuple
        ``(effect, low, high, log_se)``: ``effect = (a1/a0)/(c1/c0) - 1`` and its interval,
        both as relative changes (-0.25 = 25% fewer than the control's trend predicts).

    Notes
    -----
    The interval is ``exp(log R ± z sqrt(1/a0 + 1/a1 + 1/c0 + 1/c1)) - 1``: the log odds-ratio
    interval for the 2×2 table of counts (Poisson counts; conditional on the totals the after
    share is binomial). A zero cell adds 0.5 to every cell (Haldane's correction).
    """
    cells = np.array([a0, a1, c0, c1], dtype=float)
    if (cells == 0).any():
        cells = cells + 0.5
    a0, a1, c0, c1 = cells
    z = NormalDist().inv_cdf(0.5 + level / 2)
    log_r = math.log((a1 / a0) / (c1 / c0))
    se = math.sqrt(1 / a0 + 1 / a1 + 1 / c0 + 1 / c1)
    return math.exp(log_r) - 1, math.exp(log_r - z * se) - 1, math.exp(log_r + z * se) - 1, se


@dataclass(frozen=True)
class PlaceEvaluation:
    """Before/after counts in a place, its buffer and a control, and what they say.

    Attributes
    ----------
    place_name
        The place's name (a registered place's name, or the caller's).
    start
        Intervention start as given; ``first_after`` is the first month of the after window.
    before_from, before_to, after_from, after_to
        The windows, "YYYY-MM" (inclusive).
    months
        Months in each window.
    window_rule
        Which rule chose the before window, in words.
    buffer_m
        Width of the buffer ring, metres.
    control_name
        The control area, in words ("rest of Stoke-on-Trent, outside the place and its 250 m ring").
    categories
        Categories counted (empty: all).
    treated_before, treated_after, buffer_before, buffer_after, control_before, control_after
        Incident counts (A0, A1, B0, B1, C0, C1).
    effect, effect_low, effect_high
        Relative change in the place against the control and its 95% interval (-0.3 = 30% fewer
        than the control's trend predicts); NaN with "too few".
    success_measure, buffer_measure, wdq, tne
        Bowers & Johnson's measures and Guerette's total net effect (see :func:`wdq`).
    wdq_read
        False when the WDQ must not be read: too few incidents, or the place did not improve
        against the control (success measure >= 0), so the buffer's change is not the work's.
    too_few
        True when the place has fewer than :data:`MIN_INCIDENTS` incidents over both windows.
    verdict
        The result in plain words.
    displacement
        What the buffer did, in plain words (or why the WDQ is not read).
    method
        How the figures were computed, in one paragraph.
    monthly
        Counts by month (``month``, ``place``, ``buffer``, ``control``) over every loaded month,
        for a chart; left out of :meth:`to_dict`.
    place_geometry, buffer_geometry, control_geometry
        The three areas (EPSG:27700), for a map; left out of :meth:`to_dict`.
    """

    place_name: str
    start: str
    first_after: str
    before_from: str
    before_to: str
    after_from: str
    after_to: str
    months: int
    window_rule: str
    buffer_m: float
    control_name: str
    categories: tuple[str, ...]
    treated_before: int
    treated_after: int
    buffer_before: int
    buffer_after: int
    control_before: int
    control_after: int
    effect: float
    effect_low: float
    effect_high: float
    success_measure: float
    buffer_measure: float
    wdq: float
    tne: float
    wdq_read: bool
    too_few: bool
    verdict: str
    displacement: str
    method: str
    monthly: pd.DataFrame = field(repr=False, compare=False)
    place_geometry: Any = field(repr=False, compare=False)
    buffer_geometry: Any = field(repr=False, compare=False)
    control_geometry: Any = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON (NaN becomes None); no geometry, no monthly table."""
        out = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("monthly", "place_geometry", "buffer_geometry", "control_geometry")
        }
        out["categories"] = list(self.categories)
        for k, v in out.items():
            if isinstance(v, float) and not np.isfinite(v):
                out[k] = None
            elif isinstance(v, (np.integer, np.floating)):
                out[k] = v.item()
        return out

    def table(self) -> pd.DataFrame:
        """The counts as a small table: one row per area (place, buffer, control)."""
        return pd.DataFrame(
            {
                "area": ["place", f"buffer ring ({self.buffer_m:g} m)", f"control: {self.control_name}"],
                "before": [self.treated_before, self.buffer_before, self.control_before],
                "after": [self.treated_after, self.buffer_after, self.control_after],
            }
        ).assign(change=lambda d: d["after"] - d["before"])


# ---------------------------------------------------------------------------- inputs
def _as_polygon(place: Any, *, crs: Any, name: str) -> shapely.Geometry:
    """The place as one (Multi)Polygon in EPSG:27700, or a clear error."""
    if isinstance(place, (gpd.GeoDataFrame, gpd.GeoSeries)):
        layer = place.geometry if isinstance(place, gpd.GeoDataFrame) else place
        if layer.crs is None:
            raise InputError(
                f"`{name}` has no CRS; places are polygons in EPSG:27700 (British National Grid) — "
                f"set it with `.set_crs(27700)` if its coordinates are metres, or `.set_crs(4326).to_crs(27700)`"
            )
        _check_crs(layer.crs, name=name)
        parts = [g for g in layer.to_numpy() if g is not None and not g.is_empty]
        geom = shapely.union_all(parts) if parts else shapely.Polygon()
    elif isinstance(place, shapely.Geometry):
        if crs is None:
            raise InputError(
                f"`{name}` is a bare shapely geometry with no CRS; pass crs=27700 if its coordinates "
                "are British National Grid metres (places are evaluated in EPSG:27700)"
            )
        _check_crs(CRS.from_user_input(crs), name=name)
        geom = place
    else:
        raise InputError(
            f"`{name}` must be a polygon (shapely geometry with crs=27700, GeoSeries or GeoDataFrame in "
            f"EPSG:27700) or a registered place; got {type(place).__name__}"
        )
    if geom.is_empty:
        raise InputError(f"`{name}` is empty: it holds no shape")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"`{name}` must be a Polygon or MultiPolygon (an area); got a {geom.geom_type}")
    if not geom.is_valid:
        raise InputError(
            f"`{name}` is not a valid polygon ({shapely.is_valid_reason(geom)}); "
            "fix it (e.g. shapely.make_valid) before evaluating"
        )
    return geom


def _check_crs(crs: CRS, *, name: str) -> None:
    if crs.is_geographic:
        raise InputError(
            f"`{name}` is in a geographic CRS ({crs.to_string()}); buffers need metres — "
            "convert it with `.to_crs(27700)`"
        )
    if crs.to_epsg() != BNG:
        raise InputError(
            f"`{name}` is in {crs.to_string()}, expected EPSG:27700 (British National Grid); "
            "convert it with `.to_crs(27700)`"
        )


def _month(value: Any, *, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(the date given, the first month of the after window)."""
    try:
        ok = not isinstance(value, str) or re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value.strip()) is not None
        ts = pd.Timestamp(value) if ok else pd.NaT
    except (TypeError, ValueError):
        ts = pd.NaT
    if value is None or pd.isna(ts):
        raise InputError(f"`{name}` must be a month 'YYYY-MM' or a date 'YYYY-MM-DD'; got {value!r}")
    ts = ts.tz_localize(None) if ts.tzinfo else ts
    first = ts.to_period("M").to_timestamp()
    if ts.normalize() != first:  # part-treated month: after window from the next month
        first = (ts.to_period("M") + 1).to_timestamp()
    return ts.normalize(), first


_LEVEL_KEYS = {
    "district": ("district_code", "district_name"),
    "ward": ("ward_code", "ward_name"),
    "lsoa": ("lsoa_code", "lsoa_name"),
    "locality": ("locality", "locality"),
}


def _lsoas(geography: Any) -> gpd.GeoDataFrame:
    lsoas = geography.lsoas
    lsoas = lsoas[lsoas.geometry.notna() & ~lsoas.geometry.is_empty]
    return lsoas.assign(locality=lsoas["ward_code"].map(geography.ward_localities()))


def _control_area(
    control: Any, place: shapely.Geometry, geography: Any, *, crs: Any
) -> tuple[shapely.Geometry, str]:
    """The control polygon (before the place and buffer are cut out) and its name.

    Areas are joined from the geography's LSOAs (a district is the union of its LSOAs), which
    is quick for one area and works for a user's own boundaries.
    """
    if control is None:
        if geography is None:
            raise InputError(
                "`control` is None and no `geography` was given: the default control is the rest of the "
                "place's district, which needs the geography (e.g. store.geography())"
            )
        lsoas = _lsoas(geography)
        near = lsoas.iloc[lsoas.sindex.query(place, predicate="intersects")]
        share = near.geometry.intersection(place).area.groupby(near["district_code"].to_numpy()).sum()
        if share.empty or share.max() <= 0:
            raise InputError(
                "the place lies outside every district of the study area; check its coordinates "
                "(EPSG:27700) or give a `control` area"
            )
        code = str(share.idxmax())
        rows = lsoas[lsoas["district_code"] == code]
        return shapely.union_all(rows.geometry.to_numpy()), f"rest of {rows['district_name'].iloc[0]}"
    if isinstance(control, str):
        if geography is None:
            raise InputError(f"`control` {control!r} is an area code, which needs `geography`")
        lsoas = _lsoas(geography)
        for level, (key, label) in _LEVEL_KEYS.items():
            rows = lsoas[lsoas[key].astype(str) == control]
            if len(rows):
                name = str(rows[label].iloc[0])
                return shapely.union_all(rows.geometry.to_numpy()), f"{name} ({level})"
        raise InputError(
            f"`control` {control!r} is not a district, ward, LSOA or locality code of the study area; "
            "give a code such as E07000192 (district) or E05… (ward), or a polygon"
        )
    return _as_polygon(control, crs=crs, name="control"), "the given control area"


def _inside(x: np.ndarray, y: np.ndarray, geom: shapely.Geometry) -> np.ndarray:
    """Point-in-polygon (strict interior, as a spatial join's ``within``) for finite x/y."""
    out = np.zeros(len(x), dtype=bool)
    ok = np.isfinite(x) & np.isfinite(y)
    if geom.is_empty or not ok.any():
        return out
    minx, miny, maxx, maxy = geom.bounds
    box = ok & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    shapely.prepare(geom)
    out[box] = shapely.contains_xy(geom, x[box], y[box])
    return out


def _windows(
    loaded: list[pd.Timestamp],
    first_after: pd.Timestamp,
    months: int | None,
    start_text: str,
    end: pd.Timestamp | None = None,
) -> tuple[list[pd.Period], list[pd.Period], str]:
    periods = sorted({m.to_period("M") for m in loaded})
    first, last = periods[0], periods[-1]
    fa = first_after.to_period("M")
    span = f"{first.strftime('%Y-%m')} to {last.strftime('%Y-%m')}"
    if fa > last or fa <= first:
        raise InputError(
            f"`start` {start_text} is outside the loaded months ({span}): an evaluation needs at least one "
            "loaded month before the start and one from it on"
        )
    n_after = (last - fa).n + 1
    n_before = (fa - first).n
    available = min(n_after, n_before, MAX_MONTHS)
    if end is not None and end.to_period("M") >= fa:
        available = min(available, (end.to_period("M") - fa).n + 1)  # the intervention's own months
    if months is None:
        n = available
    else:
        if not isinstance(months, (int, np.integer)) or isinstance(months, bool) or months < 1:
            raise InputError(f"`months` must be a whole number of months, 1 or more; got {months!r}")
        if months > min(n_after, n_before):
            raise InputError(
                f"`months` {months} is more than the loaded data allow around {start_text} "
                f"({n_before} months before, {n_after} from the start on, loaded {span})"
            )
        n = int(months)
    after = [fa + k for k in range(n)]
    if n_before >= 12:
        before = [p - 12 for p in after]
        rule = "the same months of the year, one year earlier (12 or more months loaded before the start)"
    else:
        before = [fa - n + k for k in range(n)]
        rule = "the months just before the start (fewer than 12 months loaded before it)"
    return before, after, rule


# ---------------------------------------------------------------------------- evaluation
def evaluate_place(
    incidents: pd.DataFrame,
    place: Any,
    *,
    start: Any = None,
    months: int | None = None,
    buffer_m: float = BUFFER_M,
    control: Any = None,
    geography: Any = None,
    categories: tuple[str, ...] | list[str] | None = None,
    name: str | None = None,
    crs: Any = None,
) -> PlaceEvaluation:
    """Before/after counts in a place against a control, with displacement into a buffer ring.

    Parameters
    ----------
    incidents
        Incident frame (``month``, ``category``, ``x``, ``y`` in EPSG:27700), e.g.
        ``store.incidents()``.
    place
        The place: a registered :class:`hotspots.register.Place`, a GeoSeries/GeoDataFrame in
        EPSG:27700 (its features joined), or a shapely (Multi)Polygon with ``crs=27700``.
    start
        Intervention start, "YYYY-MM" or a date. None: a registered place's own start.
    months
        Months in each window. None: as many as are loaded from the start on, up to 12, and no
        more than are loaded before it (equal windows); for a registered place with an end,
        no further than the month of its end (the intervention's own months). Pass ``months``
        to look past the end.
    buffer_m
        Width of the buffer ring round the place, metres (default 250).
    control
        None: the rest of the place's district (the district holding most of the place). Or a
        district, ward, LSOA or locality code of ``geography``, or a polygon (as ``place``).
        The place and its buffer ring are always cut out of the control.
    geography
        The study area's geography (``store.geography()``), needed for the default control and
        for codes.
    categories
        Categories to count; None or empty: all.
    name
        The place's name in the result; None: a registered place's name, else "the place".
    crs
        CRS of a bare shapely ``place`` or ``control`` (must be EPSG:27700).

    Returns
    -------
    PlaceEvaluation
        Counts, windows, effect with its 95% interval, WDQ and verdict; see the class.

    Raises
    ------
    InputError
        If the place has no CRS, a geographic or other CRS, is empty, not a polygon or invalid;
        if ``start`` is missing, unreadable or outside the loaded months; if ``months`` is not a
        positive whole number or is more than the data allow; if ``buffer_m`` is not positive; if
        a category is unknown; if ``control`` is an unknown code or leaves no area; if the
        incident frame lacks columns.

    Notes
    -----
    The rules (windows, areas, effect, WDQ, "too few") are in the module docstring; the
    ``method`` attribute repeats them for the result at hand.
    """
    missing = [c for c in ("month", "category", "x", "y") if c not in incidents.columns]
    if missing:
        raise InputError(f"`incidents` lacks column(s) {', '.join(missing)}; pass store.incidents()")
    registered = hasattr(place, "place_id") and hasattr(place, "geometry")
    if registered:
        place_name = name or str(place.name)
        if start is None:
            start = place.start
            if start is None:
                raise InputError(
                    f"place {place.place_id} ({place.name}) has no intervention start; set one "
                    "(hotspots places update ID --start YYYY-MM) or pass `start`"
                )
        geom = _as_polygon(place.geometry, crs=BNG, name="place")
    else:
        place_name = name or "the place"
        geom = _as_polygon(place, crs=crs, name="place")
    if start is None:
        raise InputError("`start` is required: the month the intervention started, 'YYYY-MM'")
    try:
        width = float(buffer_m)
    except (TypeError, ValueError):
        width = float("nan")
    if not np.isfinite(width) or width <= 0:
        raise InputError(f"`buffer_m` must be a positive number of metres; got {buffer_m!r}")
    start_ts, first_after = _month(start, name="start")
    start_text = start_ts.strftime("%Y-%m-%d") if start_ts.day != 1 else start_ts.strftime("%Y-%m")

    cats = tuple(categories or ())
    df = incidents
    if cats:
        have = set(incidents["category"].astype(str).unique())
        unknown = [c for c in cats if c not in have]
        if unknown:
            raise InputError(
                f"no incidents with category {', '.join(repr(u) for u in unknown)}; "
                f"known: {', '.join(sorted(have))}"
            )
        df = incidents[incidents["category"].astype(str).isin(cats)]
    loaded = list(pd.DatetimeIndex(incidents["month"].dropna().unique()))
    if not loaded:
        raise InputError("`incidents` is empty: load some months first")
    end = getattr(place, "end", None) if registered else None
    end = None if end is None or pd.isna(end) else pd.Timestamp(end)
    before, after, rule = _windows(loaded, first_after, months, start_text, end)
    have = {m.to_period("M") for m in loaded}
    gaps = [p.strftime("%Y-%m") for p in [*before, *after] if p not in have]
    if gaps:
        raise InputError(
            f"months {', '.join(gaps)} of the windows ({before[0]} to {before[-1]} and {after[0]} to "
            f"{after[-1]}) are not loaded, so they would count as zero; load them, or choose `months` "
            "or `start` to avoid them"
        )

    ring = geom.buffer(width).difference(geom)
    area, control_name = _control_area(control, geom, geography, crs=crs)
    ctrl = area.difference(geom.buffer(width))
    if ctrl.is_empty or ctrl.area < 1:
        raise InputError(
            f"the control area ({control_name}) lies wholly inside the place and its {width:g} m ring; "
            "choose a larger control area"
        )
    control_name = f"{control_name}, outside the place and its {width:g} m ring"

    x = df["x"].to_numpy(dtype=float)
    y = df["y"].to_numpy(dtype=float)
    period = pd.DatetimeIndex(df["month"]).to_period("M")
    in_a, in_b, in_c = _inside(x, y, geom), _inside(x, y, ring), _inside(x, y, ctrl)
    monthly = (
        pd.DataFrame({"month": period, "place": in_a, "buffer": in_b, "control": in_c})
        .groupby("month")[["place", "buffer", "control"]]
        .sum()
        .reindex(sorted({p.to_period("M") for p in loaded}), fill_value=0)
        .astype("int64")
    )
    a0, b0, c0 = (int(monthly.loc[before, k].sum()) for k in ("place", "buffer", "control"))
    a1, b1, c1 = (int(monthly.loc[after, k].sum()) for k in ("place", "buffer", "control"))
    if c0 == 0 or c1 == 0:
        raise InputError(
            f"the control area ({control_name}) has no incidents in the {'before' if c0 == 0 else 'after'} "
            "window; choose a larger control area"
        )

    too_few = a0 + a1 < MIN_INCIDENTS
    eff, lo, hi, _ = ratio_of_ratios(a0, a1, c0, c1)
    w = wdq(a0, a1, b0, b1, c0, c1)
    if too_few:
        eff = lo = hi = float("nan")
    verdict, displacement = _verdict(place_name, a0, a1, b0, b1, eff, lo, hi, w, too_few, control_name, width)
    n = len(after)
    method = (
        f"Counts of incidents located inside each area (point in polygon, EPSG:27700) over {n} month"
        f"{'s' if n > 1 else ''} before and {n} after; before = {rule}. Effect: ratio of ratios "
        f"(A1/A0)/(C1/C0) - 1 with the 95% log odds-ratio interval exp(log R ± 1.96 √(1/A0+1/A1+1/C0+1/C1)) "
        "(0.5 added to every count when one is zero). Displacement: Weighted Displacement Quotient "
        "(Bowers & Johnson 2003) = (B1/C1 − B0/C0)/(A1/C1 − A0/C0), read only when the place improved "
        f"against the control; total net effect as Guerette (2009). Fewer than {MIN_INCIDENTS} incidents "
        "in the place over both windows: too few to judge."
    )
    monthly_out = monthly.reset_index()
    monthly_out["month"] = monthly_out["month"].dt.to_timestamp()
    return PlaceEvaluation(
        place_name=place_name,
        start=start_text,
        first_after=after[0].strftime("%Y-%m"),
        before_from=before[0].strftime("%Y-%m"),
        before_to=before[-1].strftime("%Y-%m"),
        after_from=after[0].strftime("%Y-%m"),
        after_to=after[-1].strftime("%Y-%m"),
        months=n,
        window_rule=rule,
        buffer_m=width,
        control_name=control_name,
        categories=cats,
        treated_before=a0,
        treated_after=a1,
        buffer_before=b0,
        buffer_after=b1,
        control_before=c0,
        control_after=c1,
        effect=eff,
        effect_low=lo,
        effect_high=hi,
        success_measure=w.success,
        buffer_measure=w.buffer,
        wdq=w.wdq,
        tne=w.tne,
        wdq_read=bool(not too_few and w.success < 0 and np.isfinite(w.wdq)),
        too_few=too_few,
        verdict=verdict,
        displacement=displacement,
        method=method,
        monthly=monthly_out,
        place_geometry=geom,
        buffer_geometry=ring,
        control_geometry=ctrl,
    )


def _pct(v: float) -> str:
    return f"{abs(v) * 100:.0f}%"


def _verdict(
    name: str,
    a0: int,
    a1: int,
    b0: int,
    b1: int,
    eff: float,
    lo: float,
    hi: float,
    w: WDQ,
    too_few: bool,
    control_name: str,
    width: float,
) -> tuple[str, str]:
    counts = f"{a0:,} incidents before, {a1:,} after"
    if too_few:
        return (
            f"Too few incidents to judge: {name} had {counts} ({a0 + a1} in all; at least {MIN_INCIDENTS} "
            "are needed, below that even a fall by half cannot be told from chance).",
            "Displacement not assessed: too few incidents in the place.",
        )
    ci = f"95% interval {lo * 100:+.0f}% to {hi * 100:+.0f}%"
    if hi < 0:
        verdict = (
            f"Crime in {name} fell by {_pct(eff)} against the trend in the control area ({counts}; {ci}): "
            "a reduction unlikely to be chance."
        )
    elif lo > 0:
        verdict = (
            f"Crime in {name} rose by {_pct(eff)} against the trend in the control area ({counts}; {ci})."
        )
    else:
        direction = "lower" if eff < 0 else "higher"
        verdict = (
            f"No clear change in {name}: {_pct(eff)} {direction} than the control area's trend predicts "
            f"({counts}; {ci}, which includes no change)."
        )
    ring = f"the {width:g} m ring round it"
    if w.success >= 0 or not np.isfinite(w.wdq):
        displacement = (
            f"WDQ not read: {name} did not improve against the control (success measure {w.success:+.3f}), "
            f"so changes in {ring} ({b0:,} before, {b1:,} after) cannot be put down to the work there."
        )
    elif w.wdq > 1:
        displacement = (
            f"Diffusion of benefit larger than the effect: {ring} improved more than the place "
            f"(WDQ {w.wdq:+.2f}; {b0:,} before, {b1:,} after)."
        )
    elif w.wdq > 0:
        displacement = (
            f"Diffusion of benefit: {ring} improved too (WDQ {w.wdq:+.2f}; {b0:,} before, {b1:,} after)."
        )
    elif w.wdq == 0:
        displacement = f"No sign of displacement or diffusion: {ring} moved with the control (WDQ 0)."
    elif w.wdq >= -1:
        displacement = (
            f"Some displacement into {ring}, smaller than the fall in the place "
            f"(WDQ {w.wdq:+.2f}; {b0:,} before, {b1:,} after)."
        )
    else:
        displacement = (
            f"Displacement into {ring} outweighed the fall in the place "
            f"(WDQ {w.wdq:+.2f}; {b0:,} before, {b1:,} after)."
        )
    return verdict, displacement
