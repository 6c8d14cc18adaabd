import streamlit as st

from dashboard import data, loading, ui
from hotspots._errors import InputError
from hotspots.ingest import PartnerMapping

store = data.store()
ui.header("Data")
st.markdown(
    "Load each month's **police.uk** download here (the street-level CSVs, or the archive zip as "
    "downloaded), **partner data** with a column mapping, your own **boundaries** or **localities**. "
    "Every file loads in one go or not at all; loading the same file twice adds nothing."
)


def show_reports(reports: list) -> None:
    for r in reports:
        if r.status == "failed":
            hint = (
                " Partner data (fly-tipping, council ASB…) loads on the **Partner data** tab."
                if "mapping" in str(r.error)
                else ""
            )
            st.error(f"**{r.file}** was not loaded: {r.error}. The store is unchanged.{hint}")
        elif r.status == "already loaded":
            st.info(r.line())
        else:
            st.success(r.line())
            for w in r.warnings[:10]:
                st.caption(f"Note: {w}")
            for reason, n in r.rejected_reasons.items():
                st.caption(f"Rejected {n:,}: {reason}")
            if r.accepted and r.outside_area > r.accepted / 2:
                st.warning(
                    f"{r.outside_area:,} of {r.accepted:,} incidents in {r.file} are outside the study area "
                    f"({data.options(*data.key())['geography']}). To analyse another area, upload its 2021 LSOA "
                    "boundaries below (ONS Open Geography Portal, GeoJSON or GeoPackage)."
                )
    if reports:
        st.dataframe(loading.reports_table(reports), hide_index=True, width="stretch")


def done(action, *args, file: str | None = None, key: str = "geo") -> None:
    """Run a boundary or localities change; keep its message and rerun so the filters offer the new areas."""
    try:
        st.session_state[f"msg_{key}"] = ("success", action(*args))
    except InputError as exc:
        st.session_state[f"msg_{key}"] = ("error", f"{file}: {exc}. Nothing was changed.")
    st.rerun()


def show_message(key: str) -> None:
    kind, text = st.session_state.get(f"msg_{key}", (None, None))
    if kind == "success":
        st.success(text)
    elif kind == "error":
        st.error(text)


tab_police, tab_partner, tab_geo, tab_store = st.tabs(
    ["police.uk files", "Partner data", "Boundaries and localities", "What the store holds"]
)
with tab_police, st.form("police", clear_on_submit=True):
    files = st.file_uploader(
        "police.uk street-level CSVs or archive zips", type=["csv", "zip"], accept_multiple_files=True
    )
    if st.form_submit_button("Load files", type="primary") and files:
        bar = st.progress(0.0, text="Loading…")
        reports = loading.load_uploads(
            store,
            [(f.name, f.getvalue()) for f in files],
            progress=lambda i, n, name: bar.progress(i / n, text=f"Loading {name}" if name else "Done"),
        )
        st.session_state["load_reports"] = reports
        st.rerun()  # the sidebar filters offer the new months and categories
with tab_police:
    show_reports(st.session_state.get("load_reports", []))

with tab_partner:
    up = st.file_uploader("Partner CSV (fly-tipping, council ASB reports…)", type=["csv"], key="partner_file")
    if up is not None:
        try:
            cols = loading.csv_columns(up.getvalue())
        except InputError as exc:
            st.error(f"{up.name}: {exc}")
            cols = []
        if cols:
            st.caption("Columns found: " + ", ".join(cols))
            choice = [None, *cols]
            optional = {"format_func": lambda c: "(none)" if c is None else c}
            with st.form("mapping"):
                source = st.text_input(
                    "Source name", value=up.name.rsplit(".", 1)[0], help="e.g. fly-tipping"
                )
                c1, c2 = st.columns(2)
                when = c1.radio(
                    "When", ["date", "month"], horizontal=True, help="A date column, or YYYY-MM months"
                )
                when_col = c2.selectbox("Date or month column", cols)
                c1, c2 = st.columns(2)
                cat_col = c1.selectbox(
                    "Category column",
                    choice,
                    help="Leave empty to give one category to every row",
                    **optional,
                )
                cat_value = c2.text_input("…or one category for every row")
                xy = st.radio("Coordinates", ["lon/lat (WGS84)", "easting/northing (BNG)"], horizontal=True)
                c1, c2 = st.columns(2)
                x_col, y_col = (
                    c1.selectbox("Longitude or easting", cols),
                    c2.selectbox("Latitude or northing", cols),
                )
                c1, c2, c3 = st.columns(3)
                id_col = c1.selectbox("Case reference (optional)", choice, **optional)
                loc_col = c2.selectbox("Place description (optional)", choice, **optional)
                out_col = c3.selectbox("Outcome or status (optional)", choice, **optional)
                if st.form_submit_button("Load partner data", type="primary"):
                    try:
                        ll = xy.startswith("lon")
                        mapping = PartnerMapping(
                            id=id_col,
                            date=when_col if when == "date" else None,
                            month=when_col if when == "month" else None,
                            category=cat_col,
                            category_value=cat_value or None,
                            lon=x_col if ll else None,
                            lat=y_col if ll else None,
                            easting=None if ll else x_col,
                            northing=None if ll else y_col,
                            location=loc_col,
                            outcome=out_col,
                        )
                    except InputError as exc:
                        st.error(f"The mapping is not complete: {exc}")
                    else:
                        with st.spinner("Loading…"):
                            rep = loading.load_upload(
                                store, up.name, up.getvalue(), source=source, mapping=mapping
                            )
                        st.session_state["partner_reports"] = [rep]
                        st.rerun()
    show_reports(st.session_state.get("partner_reports", []))

with tab_geo:
    st.subheader("Study area boundaries")
    st.caption(
        f"Now: {data.options(*data.key())['geography']}. Upload 2021 LSOA boundaries (GeoJSON, GeoPackage "
        "or zipped Shapefile) for another area; wards, districts and residents come from ONS lookups."
    )
    with st.form("boundaries", clear_on_submit=True):
        bf = st.file_uploader("LSOA boundary file", type=["geojson", "json", "gpkg", "zip"])
        if st.form_submit_button("Use these boundaries") and bf is not None:
            with st.spinner("Assigning every location to the new areas…"):
                done(loading.set_boundaries, store, bf.name, bf.getvalue(), file=bf.name)
    if st.button("Restore the shipped Staffordshire boundaries"):
        with st.spinner("Assigning every location to the shipped areas…"):
            done(loading.reset_boundaries, store)
    show_message("geo")
    st.subheader("Localities")
    with st.form("localities", clear_on_submit=True):
        lf = st.file_uploader("Localities CSV: ward code, locality name (with a header row)", type=["csv"])
        if st.form_submit_button("Use these localities") and lf is not None:
            done(loading.set_localities, store, lf.name, lf.getvalue(), file=lf.name, key="localities")
    show_message("localities")

with tab_store:
    c = store.counts()
    months = store.months()
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("Incidents", ui.number(c["incidents"]))
    k2.metric("Map points", ui.number(c["locations"]))
    k3.metric("Rejected or duplicate rows", ui.number(c["rejected"]))
    k4.metric("Files loaded", ui.number(c["ingests"]))
    if months:
        st.markdown(f"Months held: **{months[0]:%b %Y} to {months[-1]:%b %Y}** ({len(months)} months).")
    log = store.ingest_log()
    st.dataframe(log.drop(columns=["sha256", "warnings"], errors="ignore"), hide_index=True, width="stretch")
    rejected = store.rejected()
    st.subheader(f"Rejected and duplicate rows ({len(rejected):,})")
    st.dataframe(rejected.head(500), hide_index=True, width="stretch")
    st.download_button(
        "Download rejected rows (CSV)",
        rejected.to_csv(index=False).encode(),
        "rejected_rows.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
