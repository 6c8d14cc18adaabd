"""The meeting agenda: what changed in a problem-solving group's area since its last meeting.

:func:`meeting_agenda` gathers, for a group (``hotspots.register`` groups and their areas) and
a meeting month, four sections: places new in the hotspot list, areas above their expected
range, the top repeat locations, and the progress of the group's active places (their
evaluation). :func:`record_meeting` keeps the date of each meeting in the store's ``meetings``
table, so that the next agenda starts from it.

Rules:

- **Meeting month** (``date``): default the latest loaded month. The data used end at the
  meeting month or the latest loaded month, whichever is earlier.
- **Since**: the group's previous recorded meeting before ``date``; with none, the month
  before ``date``. "Since the last meeting" means the months after it, up to the data's end.
- **New hotspots**: the top :data:`TOP_HOTSPOTS` places of the hotspot list (default method)
  for the 6 months to the data's end that overlap none of the top places of the list for the
  6 months to the previous meeting.
- **Above expected**: wards of the area (districts when it has more than :data:`MAX_WARDS`
  wards) whose monthly count since the last meeting is above the 95% expected range
  (:func:`hotspots.expected.expected_range`).
- **Repeat locations**: the :data:`TOP_REPEAT` police.uk map points with most incidents since
  the last meeting (:func:`hotspots.repeat.repeat_locations`).
- **Places**: each active place of the group with a start is evaluated
  (:func:`hotspots.place_eval.evaluate_place`) with its defaults.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots._errors import InputError

log = logging.getLogger(__name__)

#: How many places of the hotspot list an agenda compares.
TOP_HOTSPOTS = 10
#: How many repeat locations an agenda lists.
TOP_REPEAT = 10
#: Most wards checked against their expected range; a larger area (a county-wide group) is
#: checked by district, which keeps the agenda quick and the list short enough for a meeting.
MAX_WARDS = 60
#: Months of data behind each hotspot list (the current one and the one at the last meeting).
HOTSPOT_MONTHS = 6

MEETINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS meetings (
    group_name VARCHAR NOT NULL,
    meeting_month DATE NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by VARCHAR NOT NULL
)
"""

_LEVEL_COLUMN = {
    "district": "district_code",
    "ward": "ward_code",
    "lsoa": "lsoa_code",
    "locality": "locality",
}


def ensure_meetings(store: Any) -> None:
    """Create the ``meetings`` table if it is missing (idempotent)."""
    if getattr(store, "_meetings_ready", False):
        return
    have = store.sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'meetings'")
    if int(have["n"].iloc[0]) == 0:
        with store.transaction() as con:
            con.execute(MEETINGS_SCHEMA)
    store._meetings_ready = True


def _month(value: Any, *, name: str) -> pd.Period:
    try:
        ok = not isinstance(value, str) or re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value.strip()) is not None
        ts = pd.Timestamp(value) if ok else pd.NaT
    except (TypeError, ValueError):
        ts = pd.NaT
    if pd.isna(ts):
        raise InputError(f"`{name}` must be a month 'YYYY-MM'; got {value!r}")
    return ts.to_period("M")


def record_meeting(store: Any, group: str, *, date: Any, author: str | None = None) -> None:
    """Record that ``group`` met in the month of ``date`` (the next agenda starts from it).

    Parameters
    ----------
    store
        An open, writable :class:`hotspots.store.Store`.
    group
        The group's name (as in the register).
    date
        The meeting's month, "YYYY-MM" or a date.
    author
        Who recorded it; None: the OS user.

    Raises
    ------
    InputError
        If the group is unknown or ``date`` is not a month.
    """
    from hotspots.register import _author, _now

    _group(store, group)
    month = _month(date, name="date")
    ensure_meetings(store)
    with store.transaction() as con:
        con.execute(
            "INSERT INTO meetings VALUES (?, ?, ?, ?)",
            [group, month.to_timestamp().date(), _now().to_pydatetime(), _author(author)],
        )


def meetings(store: Any, group: str | None = None) -> pd.DataFrame:
    """Recorded meetings: ``group``, ``month`` (first of month), ``recorded_at``, ``recorded_by``."""
    have = store.sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'meetings'")
    if int(have["n"].iloc[0]) == 0:  # none recorded yet (and a read-only store cannot create the table)
        return pd.DataFrame(
            {"group": pd.Series(dtype=str), "month": pd.Series(dtype="datetime64[ns]"),
             "recorded_at": pd.Series(dtype="datetime64[ns]"), "recorded_by": pd.Series(dtype=str)}
        )  # fmt: skip
    q = 'SELECT group_name AS "group", meeting_month AS month, recorded_at, recorded_by FROM meetings'
    df = store.sql(
        q + (" WHERE group_name = ?" if group else "") + " ORDER BY 2, 3", [group] if group else None
    )
    df["month"] = pd.to_datetime(df["month"])
    return df


def _group(store: Any, group: str) -> dict[str, Any]:
    from hotspots.register import groups

    g = groups(store)
    hit = g[g["group"] == group]
    if hit.empty:
        known = ", ".join(repr(x) for x in g["group"]) or "none yet (hotspots places group add)"
        raise InputError(f"no group {group!r} in the register; groups: {known}")
    return hit.iloc[0].to_dict()


@dataclass(frozen=True)
class Agenda:
    """What a group's meeting needs: four sections and the evaluations behind the last one.

    Attributes
    ----------
    group, area
        The group and its area in words ("district E06000021 (Stoke-on-Trent)").
    level, codes
        The area's level and codes (empty: the whole study area).
    date, since, data_to
        Meeting month, previous meeting (or the month before), last month of data used.
    since_rule
        Where ``since`` came from, in words.
    new_hotspots, above_expected, repeat_locations, places
        The sections (see the module docstring for each rule).
    evaluations
        ``place_id`` → :class:`hotspots.place_eval.PlaceEvaluation` for the places evaluated.
    hotspots
        The current hotspot list of the area (for maps).
    """

    group: str
    area: str
    level: str | None
    codes: tuple[str, ...]
    date: str
    since: str
    data_to: str
    since_rule: str
    new_hotspots: pd.DataFrame
    above_expected: pd.DataFrame
    repeat_locations: pd.DataFrame
    places: pd.DataFrame
    evaluations: dict[int, Any] = field(default_factory=dict, repr=False)
    hotspots: Any = field(default=None, repr=False)

    def sections(self) -> dict[str, pd.DataFrame]:
        """The sections as named tables (for CSV or Excel), the first being a summary."""
        summary = pd.DataFrame(
            {
                "item": ["group", "area", "meeting month", "since", "data to", "since rule"],
                "value": [self.group, self.area, self.date, self.since, self.data_to, self.since_rule],
            }
        )
        return {
            "summary": summary,
            "new_hotspots": self.new_hotspots,
            "above_expected": self.above_expected,
            "repeat_locations": self.repeat_locations,
            "places": self.places,
        }

    def write(self, path: str | Path) -> Path:
        """Write the agenda to ``.csv`` (sections one after another) or ``.xlsx`` (one sheet each).

        Raises
        ------
        InputError
            If ``path`` does not end in .csv or .xlsx.
        """
        path = Path(path)
        ext = path.suffix.lower()
        if ext not in (".csv", ".xlsx"):
            raise InputError(f"cannot write the agenda to {path.name}: the file must end in .csv or .xlsx")
        if ext == ".xlsx":
            with pd.ExcelWriter(path, engine="openpyxl") as xl:
                for name, df in self.sections().items():
                    df.to_excel(xl, sheet_name=name, index=False)
        else:
            path.write_text(self.to_csv(), encoding="utf-8")
        return path

    def to_csv(self) -> str:
        """All sections in one CSV text: a ``section`` column, then each section's columns."""
        parts = []
        for name, df in self.sections().items():
            parts.append(df.assign(section=name)[["section", *df.columns]].to_csv(index=False))
        return "\n".join(parts)


def _area(geo: Any, level: str | None, codes: list[str]) -> str:
    if not level or not codes:
        return f"the whole study area ({geo.name})"
    lsoas = geo.lsoas.assign(locality=geo.lsoas["ward_code"].map(geo.ward_localities()))
    key = _LEVEL_COLUMN[level]
    name = {"district": "district_name", "ward": "ward_name", "lsoa": "lsoa_name", "locality": "locality"}[
        level
    ]
    names = lsoas.drop_duplicates(key).set_index(lsoas.drop_duplicates(key)[key].astype(str))[name]
    text = ", ".join(
        f"{n} ({c})" if isinstance(n, str) and n != c else c for c, n in names.reindex(codes).items()
    )
    return f"{level} {text}"


def meeting_agenda(
    store: Any, *, group: str, date: Any = None, since: Any = None, method: str | None = None
) -> Agenda:
    """The agenda of a group's meeting: what changed in its area since the last meeting.

    Parameters
    ----------
    store
        An open :class:`hotspots.store.Store` with incidents and a register.
    group
        The group's name (``hotspots places group add``).
    date
        Meeting month "YYYY-MM"; None: the latest loaded month.
    since
        Month of the previous meeting; None: the group's last recorded meeting before ``date``,
        else the month before ``date``.
    method
        Hotspot method for the "new hotspots" section; None: the default method.

    Returns
    -------
    Agenda
        The sections and the evaluations of the group's active places.

    Raises
    ------
    InputError
        If the group is unknown, the store holds no incidents, ``date`` is not a month or is
        before the first loaded month, or ``since`` is not before ``date``.

    Notes
    -----
    The rule behind each section is in the module docstring.
    """
    from hotspots.filters import Filter
    from hotspots.hotspot_list import DEFAULT_METHOD, find_hotspots
    from hotspots.register import list_places
    from hotspots.repeat import repeat_locations

    g = _group(store, group)
    level, codes = g.get("level"), [str(c) for c in (g.get("codes") or [])]
    incidents, geo = store.incidents(), store.geography()
    if incidents.empty:
        raise InputError("the store holds no incidents; load some months first (hotspots ingest)")
    months = pd.DatetimeIndex(incidents["month"].dropna().unique()).to_period("M")
    first, last = months.min(), months.max()
    meeting = last if date is None else _month(date, name="date")
    if meeting < first:
        raise InputError(
            f"`date` {meeting} is before the first loaded month ({first}); the agenda needs data up to it"
        )
    data_to = min(meeting, last)
    if since is not None:
        prev, rule = _month(since, name="since"), "given"
    else:
        past = meetings(store, group)
        past = past[past["month"].dt.to_period("M") < meeting]
        if len(past):
            prev = past["month"].max().to_period("M")
            rule = f"the group's last recorded meeting ({prev})"
        else:
            prev = meeting - 1
            rule = "no earlier meeting recorded: the month before the meeting"
    if prev >= meeting:
        raise InputError(f"`since` {prev} must be before the meeting month {meeting}")
    window_from = min(prev + 1, data_to)
    area_kw: dict[str, Any] = {"level": level, "areas": tuple(codes)} if level and codes else {}
    period = Filter(month_from=str(window_from), month_to=str(data_to), **area_kw)

    # new hotspots: top places now that overlap none of the top places at the last meeting
    method = method or DEFAULT_METHOD
    now_list = find_hotspots(
        incidents,
        method=method,
        geography=geo,
        filt=Filter(month_from=str(data_to - HOTSPOT_MONTHS + 1), month_to=str(data_to), **area_kw),
    )
    top_now = now_list.head(TOP_HOTSPOTS)
    before_to = min(prev, data_to)
    if before_to >= first:
        then_list = find_hotspots(
            incidents,
            method=method,
            geography=geo,
            filt=Filter(month_from=str(before_to - HOTSPOT_MONTHS + 1), month_to=str(before_to), **area_kw),
        ).head(TOP_HOTSPOTS)
        then_union = then_list.geometry.union_all() if len(then_list) else None
    else:
        then_union = None
    is_new = (
        ~top_now.geometry.intersects(then_union) if then_union is not None else pd.Series(True, top_now.index)
    )
    new = pd.DataFrame(top_now[is_new.to_numpy()].drop(columns="geometry"))
    keep = [c for c in ("rank", "name", "count", "wards", "top_categories", "top_locations") if c in new]
    new = new[keep].reset_index(drop=True)

    # areas above their expected range since the last meeting
    above = _above_expected(incidents, geo, level, codes, window_from, data_to)

    # top repeat locations since the last meeting
    rep = repeat_locations(incidents, filt=period).head(TOP_REPEAT)
    rep = rep[["rank", "location_name", "count", "top_categories", "months_active", "ward_code"]].reset_index(
        drop=True
    )
    names = geo.lsoas.drop_duplicates("ward_code").set_index("ward_code")["ward_name"]
    rep.insert(5, "ward", rep["ward_code"].map(names))
    rep = rep.drop(columns="ward_code")

    # progress of the group's active places
    places, evaluations = _places_progress(store, incidents, geo, group, list_places)

    return Agenda(
        group=group,
        area=_area(geo, level, codes),
        level=level,
        codes=tuple(codes),
        date=str(meeting),
        since=str(prev),
        data_to=str(data_to),
        since_rule=rule,
        new_hotspots=new,
        above_expected=above,
        repeat_locations=rep,
        places=places,
        evaluations=evaluations,
        hotspots=top_now,
    )


def _above_expected(
    incidents: pd.DataFrame, geo: Any, level: str | None, codes: list[str], start: pd.Period, end: pd.Period
) -> pd.DataFrame:
    from hotspots.expected import expected_range
    from hotspots.trends import monthly_series

    lsoas = geo.lsoas.assign(locality=geo.lsoas["ward_code"].map(geo.ward_localities()))
    if level and codes:
        lsoas = lsoas[lsoas[_LEVEL_COLUMN[level]].astype(str).isin(codes)]
    by, name = "ward", "ward_name"
    if lsoas["ward_code"].nunique() > MAX_WARDS:  # a county-wide group: its districts
        by, name = "district", "district_name"
    key = f"{by}_code"
    areas = sorted(lsoas[key].astype(str).unique())
    df = incidents[incidents[key].astype(str).isin(areas)]
    series = monthly_series(df, level=by, areas=areas, loaded_months=incidents["month"].unique())
    exp = expected_range(series)
    exp = exp[(exp["flag"] == "above") & (exp["month"].dt.to_period("M") >= start)]
    exp = exp[exp["month"].dt.to_period("M") <= end]
    names = lsoas.drop_duplicates(key).set_index(lsoas.drop_duplicates(key)[key].astype(str))[name]
    out = pd.DataFrame(
        {
            "level": by,
            "area_code": exp["area_code"].astype(str),
            "area": exp["area_code"].astype(str).map(names),
            "month": exp["month"].dt.strftime("%Y-%m"),
            "count": exp["count"].astype(int),
            "expected": exp["expected"].round(1),
            "upper": exp["upper"].astype(int),
        }
    )
    return out.sort_values(["month", "count"], ascending=[True, False]).reset_index(drop=True)


def _places_progress(
    store: Any, incidents: pd.DataFrame, geo: Any, group: str, list_places: Any
) -> tuple[pd.DataFrame, dict[int, Any]]:
    from hotspots.place_eval import evaluate_place
    from hotspots.register import get_place

    active: gpd.GeoDataFrame = list_places(store, group=group, status="active")
    rows, evaluations = [], {}
    for pid in active["place_id"]:
        place = get_place(store, int(pid))
        row = {
            "place_id": int(pid),
            "name": place.name,
            "start": None if place.start is None else place.start.strftime("%Y-%m-%d"),
        }
        try:
            ev = evaluate_place(incidents, place, geography=geo)
        except InputError as exc:
            row |= {"verdict": f"Not evaluated: {exc}"}
        else:
            evaluations[int(pid)] = ev
            row |= {
                "before": f"{ev.before_from} to {ev.before_to}",
                "after": f"{ev.after_from} to {ev.after_to}",
                "treated_before": ev.treated_before,
                "treated_after": ev.treated_after,
                "effect_pct": None if ev.too_few else round(ev.effect * 100, 1),
                "effect_low_pct": None if ev.too_few else round(ev.effect_low * 100, 1),
                "effect_high_pct": None if ev.too_few else round(ev.effect_high * 100, 1),
                "wdq": None
                if ev.too_few or not ev.success_measure < 0
                else round(ev.wdq, 2),  # read only on success
                "verdict": ev.verdict,
                "displacement": ev.displacement,
            }
        rows.append(row)
    cols = ["place_id", "name", "start", "before", "after", "treated_before", "treated_after", "effect_pct",
            "effect_low_pct", "effect_high_pct", "wdq", "verdict", "displacement"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols), evaluations
