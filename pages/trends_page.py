import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import analysis, charts, data, demand_ui, disclosure_ui, layers, maps, ui
from hotspots._errors import InputError

filt = st.session_state["filter"]
path, version = data.key()
ui.header("Trends & seasonality", filt)
disclosure_ui.note()

exp = analysis.expected_series(path, version, filt)
if exp["count"].fillna(0).sum() == 0:
    st.warning("No incidents match these filters.")
    disclosure_ui.monthly_chart(filt)  # a viewer who chose restricted sources only sees them here
    st.stop()
events = analysis.events_by_month(tuple(exp["month"].dt.strftime("%Y-%m")))
roll = analysis.rolling_compare(path, version, filt)
c1, c2, c3 = st.columns(3)
if pd.isna(roll["count_b"]):  # months of the period not loaded: no honest 12-month total
    c1.metric(f"Incidents, {roll['period_b']}", "not all loaded")
else:
    c1.metric(f"Incidents, {roll['period_b']}", ui.number(roll["count_b"]))
if roll["direction"] == "not estimated":
    c2.metric(f"Against {roll['period_a']}", "no comparison")
    c2.caption(str(roll["note"]).replace("period a", roll["period_a"]).replace("period b", roll["period_b"]))
else:
    c2.metric(
        f"Against {roll['period_a']}",
        f"{roll['pct_change']:+.1f}%",
        delta=f"{roll['change']:+,} incidents",
        delta_color="inverse",
    )
    c2.caption(f"{roll['direction'].capitalize()} (Poisson exact test, FDR-adjusted).")
flagged = exp[exp["flag"].isin(["above", "below"])]
c3.metric("Months outside the expected range", len(flagged))
c3.caption(
    "; ".join(f"{m:%b %Y}: {f}" for m, f in zip(flagged["month"], flagged["flag"], strict=True)) or "none"
)

harm = demand_ui.measure_choice("trend_measure")
if harm is None:
    st.altair_chart(charts.monthly(exp, events), width="stretch")
    if exp["note"].astype(str).str.len().gt(0).any():
        st.caption(f"Expected range: {exp['note'].iloc[-1]}")
else:  # harm by month; the expected range and the tests above stay on counts (Poisson)
    st.altair_chart(charts.monthly_harm(demand_ui.harm_series(path, version, filt, harm)), width="stretch")
    demand_ui.harm_caption(
        harm, {}, lead="Measured by **harm**", tail="The counts above and their tests stay on incidents."
    )
disclosure_ui.monthly_chart(filt)  # restricted partner sources, on their own

left, right = st.columns(2)
with left:
    st.subheader("What is rising: last 3 months against the 3 before")
    rise = analysis.rising(path, version, filt, 3)
    st.dataframe(
        rise[["category", "count_a", "count_b", "pct_change", "direction"]],
        hide_index=True,
        width="stretch",
        column_config={
            "category": "Category",
            "count_a": rise["period_a"].iloc[0] if len(rise) else "Before",
            "count_b": rise["period_b"].iloc[0] if len(rise) else "Latest",
            "pct_change": st.column_config.NumberColumn("Change (%)", format="%+.1f"),
            "direction": "Significance",
        },
    )
with right:
    profile = analysis.seasonal_profile(path, version, filt)
    st.altair_chart(charts.seasonal(profile), width="stretch")
    st.caption(profile["note"].iloc[0] if len(profile) else "")

st.subheader("Time of day and day of week")
demand_ui.hour_section(path, version, filt)  # partner sources with times (police.uk has months only)

st.subheader("Emerging hot spots")
try:
    cells, eparams = analysis.emerging_cells(path, version, filt)
except InputError as exc:  # too few months in the filter, for example
    st.info(f"Emerging hot spots are not shown: {exc}.")
    cells, eparams = None, {}
if cells is not None:
    shown = layers.emerging_layer(cells)
    shapes = data.study_area_shape(path, version)
    m = maps.base_map(shown.total_bounds if filt.areas and len(shown) else shapes.total_bounds, height=520)
    maps.add_outline(m, shapes)
    maps.add_classed_polygons(m, shown, name="Emerging hot spots", opacity=0.8)
    maps.Legend(
        "Emerging hot spot category", list(zip(shown["colour"], shown["category"], strict=True))
    ).add_to(m)
    maps.finish(m)
    a, b = st.columns([3, 2])
    with a:
        st_folium(m, key="emerging_map", height=520, use_container_width=True, returned_objects=[])
    with b:
        counts = cells["category"].value_counts().rename_axis("Category").rename("Cells").reset_index()
        st.dataframe(counts, hide_index=True, width="stretch")
ui.attribution()
ui.methods(
    "**Expected range**: a robust Poisson model of the monthly counts (trend, and month of year once 24 months "
    "are loaded); months outside the 95% prediction interval are flagged. **Rolling comparison** and **what is "
    "rising**: Poisson exact test on the two periods, Benjamini-Hochberg FDR across categories. **Seasonal "
    "profile**: incidents per day in each month of the year against the yearly average. **Emerging hot spots**: "
    "Gi* per month on the grid and a Mann-Kendall trend test per cell (ArcGIS categories). Calendar events come "
    "from the editable partnership calendar.",
    {k: v for k, v in eparams.items() if k not in ("filter", "periods")},
)
