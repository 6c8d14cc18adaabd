"""Altair charts sized and labelled for a projector, with units and the data source on each."""

from __future__ import annotations

import altair as alt
import pandas as pd

#: Two subtitle lines, so that a chart in a narrow column does not cut the licence off.
SOURCE = ["Source: data.police.uk and partner data; ONS Census 2021.", "Open Government Licence v3.0."]
#: Okabe-Ito colours (colour-blind safe).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
ABOVE, BELOW, WITHIN = "#D55E00", "#0072B2", "#000000"


def _style(chart: alt.Chart, title: str, units: str) -> alt.Chart:
    return (
        chart.properties(
            title=alt.TitleParams(title, subtitle=[units, *SOURCE], fontSize=20, subtitleFontSize=13)
        )
        .configure_axis(labelFontSize=15, titleFontSize=16)
        .configure_legend(labelFontSize=15, titleFontSize=15)
    )


#: The most month labels an axis carries; longer series label every 2nd, 3rd, 6th or 12th month.
MAX_MONTH_LABELS = 13


#: Two-line tick label ("Mar" over "2025"): the year under January and under the first tick.
MONTH_LABEL = (
    "[slice(datum.label, 0, 3), "
    "(slice(datum.label, 0, 3) == 'Jan' || datum.index == 0) ? slice(datum.label, 4) : '']"
)


def month_ticks(months: pd.Series | list) -> list[str]:
    """The months an axis labels ("Jan 2025"): every month, or every k-th month from January.

    Parameters
    ----------
    months
        The months of a series (first of month; any order, repeats allowed).

    Returns
    -------
    list of str
        Labels ``"%b %Y"`` in time order: all the months when there are at most
        :data:`MAX_MONTH_LABELS`, else those whose month of the year is a multiple of the step
        (step 2, 3, 6 or 12, the smallest that keeps at most :data:`MAX_MONTH_LABELS` labels),
        so that ticks fall on the same months whatever the range.

    Notes
    -----
    On a time scale Vega-Lite picks "nice" tick dates, which in a year of months fall in the
    middle of months (two ticks printed "Mar 2025") and skipped December; the theme Streamlit
    applies also dropped explicit tick values. The month axis is therefore ordinal: one
    position per month, labelled with the month's own name.
    """
    ms = sorted(pd.DatetimeIndex(pd.to_datetime(pd.Series(months))).to_period("M").unique())
    picked = ms
    if len(ms) > MAX_MONTH_LABELS:
        for step in (2, 3, 6, 12):
            picked = [m for m in ms if (m.month - 1) % step == 0]
            if len(picked) <= MAX_MONTH_LABELS:
                break
    return [m.strftime("%b %Y") for m in picked]


def _month_axis(months: pd.Series) -> alt.X:
    """An x encoding of ``month_label`` with one position per month and month ticks."""
    order = [m.strftime("%b %Y") for m in sorted(pd.DatetimeIndex(months).to_period("M").unique())]
    return alt.X(
        "month_label:O",
        sort=order,
        scale=alt.Scale(domain=order),
        title="Month",
        axis=alt.Axis(
            values=month_ticks(months),
            labelExpr=MONTH_LABEL,
            labelOverlap=False,
            labelAngle=0,
            labelPadding=6,
        ),
    )


def monthly(
    expected: pd.DataFrame, events: pd.DataFrame | None = None, *, title: str = "Incidents by month"
) -> alt.Chart:
    """Counts by month with the expected range as a band; months outside it as coloured dots.

    ``expected`` is :func:`hotspots.expected.expected_range` output for one series; ``events``
    (``month``, ``events``) adds the partnership calendar to the tooltips.
    """
    df = expected.copy()
    df["events"] = "" if events is None else df["month"].map(events.set_index("month")["events"]).fillna("")
    df["status"] = (
        df["flag"].map({"above": "above expected", "below": "below expected"}).fillna("within expected")
    )
    df["month_label"] = df["month"].dt.strftime("%b %Y")
    base = alt.Chart(df).encode(x=_month_axis(df["month"]))
    band = base.mark_area(opacity=0.25, color="#999999").encode(
        y=alt.Y("lower:Q", title="Incidents"), y2="upper:Q"
    )
    line = base.mark_line(color="#333333", strokeWidth=3).encode(y="count:Q")
    dots = base.mark_circle(size=140, opacity=1).encode(
        y="count:Q",
        color=alt.Color(
            "status:N",
            title="",
            scale=alt.Scale(
                domain=["above expected", "within expected", "below expected"], range=[ABOVE, WITHIN, BELOW]
            ),
        ),
        tooltip=[
            alt.Tooltip("month:T", format="%B %Y", title="Month"),
            alt.Tooltip("count:Q", title="Incidents", format=","),
            alt.Tooltip("expected:Q", title="Expected", format=",.0f"),
            alt.Tooltip("lower:Q", title="Expected from", format=",.0f"),
            alt.Tooltip("upper:Q", title="Expected to", format=",.0f"),
            alt.Tooltip("events:N", title="Calendar"),
        ],
    )
    return _style(
        (band + line + dots).properties(height=360), title, "Incidents per month; grey band: expected range"
    )


def seasonal(profile: pd.DataFrame, *, title: str = "Seasonal profile") -> alt.Chart:
    """Month-of-year index (1 = an average month) with its interval."""
    base = alt.Chart(profile).encode(
        x=alt.X("month_name:N", sort=list(profile["month_name"]), title="Month of year")
    )
    bars = base.mark_bar(color=OKABE_ITO[0]).encode(
        y=alt.Y("index:Q", title="Index (1 = average month)"),
        tooltip=[
            alt.Tooltip("month_name:N", title="Month"),
            alt.Tooltip("index:Q", format=".2f"),
            alt.Tooltip("count:Q", title="Incidents", format=","),
        ],
    )
    err = base.mark_errorbar(color="#000000", thickness=2).encode(
        y=alt.Y("lower:Q", title="Index (1 = average month)"), y2="upper:Q"
    )
    rule = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[6, 4], color="#555555").encode(y="y:Q")
    return _style(
        (bars + err + rule).properties(height=320), title, "Incidents per day against the yearly average"
    )


def categories(table: pd.DataFrame, *, title: str = "Mix of categories") -> alt.Chart:
    """Horizontal bars of incidents by category (``category``, ``count``)."""
    chart = (
        alt.Chart(table)
        .mark_bar(color=OKABE_ITO[0])
        .encode(
            y=alt.Y("category:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("count:Q", title="Incidents"),
            tooltip=["category:N", alt.Tooltip("count:Q", format=",")],
        )
    )
    # Streamlit fits the whole chart (title, subtitles, axis) into `height`: leave room for them
    # so that every bar keeps a readable label
    return _style(chart.properties(height=160 + 30 * len(table)), title, "Incidents in the filter")


def hour_profile(
    profile: pd.DataFrame, *, title: str = "Incidents by hour of day and day of week"
) -> alt.Chart:
    """Incidents by hour of day (bars) over a day-of-week x hour grid (shaded by count).

    ``profile`` is :func:`hotspots.timeofday.hour_profile` output (168 rows, ``count``).
    """
    df = profile.copy()
    df["hour_label"] = df["hour"].map(lambda h: f"{h:02d}")
    hours = [f"{h:02d}" for h in range(24)]
    x = alt.X("hour_label:O", sort=hours, title="Hour of day", axis=alt.Axis(labelAngle=0))
    by_hour = df.groupby(["hour", "hour_label"], as_index=False)["count"].sum()
    bars = (
        alt.Chart(by_hour)
        .mark_bar(color=OKABE_ITO[0])
        .encode(
            x=x.axis(None),
            y=alt.Y("count:Q", title="Incidents"),
            tooltip=[
                alt.Tooltip("hour_label:N", title="Hour"),
                alt.Tooltip("count:Q", title="Incidents", format=","),
            ],
        )
        .properties(height=150)
    )
    grid = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=x,
            y=alt.Y("day_name:N", sort=list(dict.fromkeys(df["day_name"])), title=None),
            color=alt.Color("count:Q", title="Incidents", scale=alt.Scale(scheme="blues")),
            tooltip=[
                alt.Tooltip("day_name:N", title="Day"),
                alt.Tooltip("hour_label:N", title="Hour"),
                alt.Tooltip("count:Q", title="Incidents", format=","),
            ],
        )
        .properties(height=230)
    )
    chart = alt.vconcat(bars, grid, spacing=6).resolve_scale(x="shared")
    return _style(chart, title, "Incidents with an exact time, by hour (top) and by day and hour")


def monthly_harm(series: pd.DataFrame, *, title: str = "Harm by month") -> alt.Chart:
    """Harm by month (the sum of the incidents' harm weights) as a line with dots.

    ``series`` is :func:`hotspots.trends.monthly_series` output with ``measure="harm"`` (one series).
    """
    df = series[series["loaded"]].copy()
    df["harm"] = df["harm"].astype(float)
    df["month_label"] = df["month"].dt.strftime("%b %Y")
    base = alt.Chart(df).encode(x=_month_axis(df["month"]))
    line = base.mark_line(color=OKABE_ITO[3], strokeWidth=3).encode(y=alt.Y("harm:Q", title="Harm"))
    dots = base.mark_circle(size=110, color=OKABE_ITO[3], opacity=1).encode(
        y="harm:Q",
        tooltip=[
            alt.Tooltip("month:T", format="%B %Y", title="Month"),
            alt.Tooltip("harm:Q", title="Harm", format=",.0f"),
            alt.Tooltip("count:Q", title="Incidents", format=","),
        ],
    )
    return _style(
        (line + dots).properties(height=360),
        title,
        "Sum of the incidents' harm weights per month (days of custody equivalent, ONS CSS)",
    )
