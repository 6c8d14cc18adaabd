"""The area profile in plain words, and its printable HTML version.

Numbers come from :func:`hotspots.areas.area_table` (through the cached loaders); this module
only chooses the comparisons a councillor asks for and words them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard import data
from hotspots import ATTRIBUTION
from hotspots.filters import Filter


@dataclass
class Profile:
    """What the profile page says about one area."""

    code: str
    name: str
    level: str
    residents: int
    count: int
    rate: float
    rank: int
    n_areas: int
    district_name: str | None
    district_rate: float | None
    partnership_rate: float
    sentences: list[str] = field(default_factory=list)


def _times(a: float, b: float | None) -> str:
    if not b or pd.isna(b) or pd.isna(a):
        return "no comparison"
    r = a / b
    if 0.95 <= r <= 1.05:
        return "about the same as"
    return f"{r:.1f} times" if r > 1 else f"{r:.0%} of"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def build(path: str, version: int, filt: Filter, level: str, code: str) -> Profile:
    """The profile numbers and sentences for area ``code`` at ``level`` under ``filt``'s months and types."""
    base = filt.replace(level=level, areas=())
    table = data.area_table(path, version, base, level)
    row = table.set_index("area_code").loc[code]
    pop_all = int(table["population"].sum())
    partnership = float(table["count"].sum()) / pop_all * 1000 if pop_all else float("nan")
    by_rate = table["rate_per_1000"].rank(ascending=False, method="min")
    rank = int(by_rate[table["area_code"] == code].iloc[0])
    district_name = district_rate = None
    if level in ("ward", "lsoa"):
        dt = data.area_table(path, version, base.replace(level="district"), "district").set_index("area_code")
        if row["district_code"] in dt.index:
            district_name = str(dt.loc[row["district_code"], "area_name"])
            district_rate = float(dt.loc[row["district_code"], "rate_per_1000"])
    p = Profile(
        code=code,
        name=str(row["area_name"]),
        level=level,
        residents=int(row["population"]),
        count=int(row["count"]),
        rate=float(row["rate_per_1000"]),
        rank=rank,
        n_areas=len(table),
        district_name=district_name,
        district_rate=district_rate,
        partnership_rate=partnership,
    )
    cats = list(filt.categories)
    what = (
        "incidents of " + (", ".join(cats[:-1]) + " or " + cats[-1] if len(cats) > 1 else cats[0])
        if cats
        else "crime and ASB incidents"
    )
    period = (
        f"{data.month_label(filt.month_from)} to {data.month_label(filt.month_to)}"
        if filt.month_from and filt.month_to
        else "all loaded months"
    )
    noun = data.LEVEL_LABELS[level].lower().replace(" (csp)", "")
    p.sentences.append(
        f"From {period} there were {p.count:,} {what} recorded in {p.name}, where {p.residents:,} people live: "
        f"about {p.rate:.1f} per 1,000 residents."
    )
    if district_rate is not None:
        p.sentences.append(
            f"That is {_times(p.rate, district_rate)} the {district_name} rate ({district_rate:.1f}) and "
            f"{_times(p.rate, partnership)} the rate for the whole partnership area ({partnership:.1f})."
        )
    else:
        p.sentences.append(
            f"That is {_times(p.rate, partnership)} the rate for the whole partnership area ({partnership:.1f})."
        )
    p.sentences.append(f"It has the {_ordinal(rank)} highest rate of the {p.n_areas} {noun}s.")
    p.sentences.append(harm_sentence(path, version, base, level, code, noun))
    return p


def harm_sentence(path: str, version: int, base: Filter, level: str, code: str, noun: str) -> str:
    """The area's harm per 1,000 residents and its rank by harm (weights of the Demand & harm page)."""
    from dashboard import demand_ui

    w = demand_ui.weights()
    ht = demand_ui.harm_table(path, version, base, level, w)
    row = ht.set_index("area_code").loc[code]
    by_harm = int(ht["harm_per_1000"].rank(ascending=False, method="min")[ht["area_code"] == code].iloc[0])
    pop = int(ht["population"].sum())
    whole = float(ht["harm"].sum()) / pop * 1000 if pop else float("nan")
    source = "ONS Crime Severity Score weights" if w.name.startswith("ONS") else "the edited harm weights"
    return (
        f"Weighted by harm ({source}), it has {row['harm_per_1000']:,.0f} per 1,000 residents, "
        f"{_times(float(row['harm_per_1000']), whole)} the partnership's {whole:,.0f}: the "
        f"{_ordinal(by_harm)} highest of the {len(ht)} {noun}s."
    )


#: How many of the area's places the profile lists.
TOP_PLACES = 10


def top_places(spots: pd.DataFrame, n: int = TOP_PLACES) -> pd.DataFrame:
    """The area's top ``n`` hotspot places by name, with counts (and harm), as the profile prints them."""
    cols = {"rank": "Rank", "name": "Place", "count": "Incidents", "top_categories": "Top categories"}
    if "harm" in spots.columns:  # the list measures harm: ranked by it
        cols = {
            "rank": "Rank",
            "name": "Place",
            "count": "Incidents",
            "harm": "Harm",
            "top_categories": "Top categories",
        }
    return spots.head(n)[list(cols)].rename(columns=cols).reset_index(drop=True)


def places_caption(spots: pd.DataFrame, params: dict) -> str:
    """Where the places come from, in one line (or why there are none)."""
    if spots.empty:
        return f"No hotspot places in this area for this filter. {params.get('note', '')}".strip()
    shown = min(len(spots), TOP_PLACES)
    cell = params.get("cell_size_m")
    scale = f" from {cell:,.0f} m cells" if cell else ""
    return (
        f"The busiest {shown} of the area's {len(spots)} hotspot places{scale}, as on the Hotspots page; "
        f"together they hold {spots['count'].head(shown).sum():,} incidents."
    )


def rising_sentence(rise: pd.DataFrame) -> str:
    """Name the categories with a significant increase (or say there are none)."""
    up = rise[(rise["direction"] == "increase") & rise["significant"].astype(bool)]
    if rise.empty or rise["direction"].eq("not estimated").all():
        return "There is not enough history to say what is rising."
    period = f"{rise['period_b'].iloc[0]} against {rise['period_a'].iloc[0]}"
    if up.empty:
        return f"No category rose significantly ({period})."
    items = [
        f"{c} (up {p:.0f}%, {a:,} to {b:,})"
        for c, p, a, b in zip(up["category"], up["pct_change"], up["count_a"], up["count_b"], strict=True)
    ]
    return f"Rising significantly ({period}): " + "; ".join(items) + "."


def html_report(p: Profile, filt: Filter, sections: dict[str, pd.DataFrame], notes: list[str]) -> str:
    """A self-contained, print-friendly HTML page of the profile (every text escaped)."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(p.name)}: area profile</title>",
        "<style>body{font:16px/1.5 Arial,sans-serif;max-width:900px;margin:2em auto;color:#111}"
        "h1{font-size:28px}h2{font-size:20px;margin-top:1.5em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:left}th{background:#eee}"
        ".small{font-size:12px;color:#444}@media print{body{margin:0}}</style></head><body>",
        f"<h1>{esc(p.name)} ({esc(data.LEVEL_LABELS[p.level])}): community safety profile</h1>",
        f"<p class='small'>Filter: {esc(filt.describe())}. Produced {date.today():%d %B %Y}.</p>",
    ]
    parts += [f"<p>{esc(s)}</p>" for s in p.sentences + notes]
    for title, df in sections.items():
        parts.append(f"<h2>{esc(title)}</h2>")
        parts.append(df.to_html(index=False, escape=True, border=0, na_rep=""))
    parts.append(f"<p class='small'>{esc(ATTRIBUTION)}</p></body></html>")
    return "\n".join(parts)
