import streamlit as st

from dashboard import access, data, data_ui, disclosure_ui, loading, ui
from hotspots._errors import InputError

access.require_page("data")  # analysts and admins; refused and recorded here, not only hidden
_user, role = access.current_user()
store = data.store()
ui.header("Data")
st.markdown(
    "Load each month's **police.uk** download here (the street-level CSVs, or the archive zip as "
    "downloaded), **partner data** with a column mapping, your own **boundaries** or **localities**. "
    "Every file loads in one go or not at all; loading the same file twice adds nothing."
)

tab_police, tab_partner, tab_geo, tab_store = st.tabs(
    ["police.uk files", "Partner data", "Boundaries and localities", "What the store holds"]
)
with tab_police, st.form("police", clear_on_submit=True):
    files = st.file_uploader(
        "police.uk street-level CSVs or archive zips", type=["csv", "zip"], accept_multiple_files=True
    )
    if st.form_submit_button("Load files", type="primary") and files:
        uploads = [(f.name, f.getvalue()) for f in files]
        st.session_state["load_reports"] = loading.load_uploads(
            store, uploads, progress=data_ui.progress_bar()
        )
        st.rerun()  # the sidebar filters offer the new months and categories
with tab_police:
    data_ui.show_reports(st.session_state.get("load_reports", []))

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
            restrict = disclosure_ui.restricted_checkbox()
            submitted = data_ui.mapping_form(up.name, cols)
            if submitted is not None:
                source, mapping = submitted
                report = loading.load_upload(
                    store,
                    up.name,
                    up.getvalue(),
                    source=source,
                    mapping=mapping,
                    progress=data_ui.progress_bar(),
                )
                disclosure_ui.after_load(report, source, restrict)
                st.session_state["partner_reports"] = [report]
                st.rerun()
    data_ui.show_reports(st.session_state.get("partner_reports", []))

with tab_geo:
    if not access.may(role, "admin"):  # the forms below are also refused where they run
        st.info("Boundaries, the study area and localities are changed by an administrator.")
    else:
        st.subheader("Study area")
        st.caption(
            f"Now: {data.options(*data.key())['geography']}. Any partnership, force area or district of England "
            "and Wales: exact ONS outlines ship with the product; wards, districts and residents come from ONS "
            "lookups and Census 2021."
        )
        data_ui.coverage_prompt(on_data_page=True)
        data_ui.study_area_form()
        data_ui.show_message("geo")
        st.markdown("**…or upload your own 2021 LSOA boundaries** (GeoJSON, GeoPackage or zipped Shapefile)")
        with st.form("boundaries", clear_on_submit=True):
            bf = st.file_uploader("LSOA boundary file", type=["geojson", "json", "gpkg", "zip"])
            if st.form_submit_button("Use these boundaries") and bf is not None:
                with st.spinner("Assigning every location to the new areas…"):
                    data_ui.run_then_rerun(
                        "geo", loading.set_boundaries, store, bf.name, bf.getvalue(), file=bf.name
                    )
        if st.button("Restore the shipped Staffordshire boundaries"):
            with st.spinner("Assigning every location to the shipped areas…"):
                data_ui.run_then_rerun("geo", loading.reset_boundaries, store)
        st.subheader("Localities")
        with st.form("localities", clear_on_submit=True):
            lf = st.file_uploader(
                "Localities CSV: ward code, locality name (with a header row)", type=["csv"]
            )
            if st.form_submit_button("Use these localities") and lf is not None:
                data_ui.run_then_rerun(
                    "localities", loading.set_localities, store, lf.name, lf.getvalue(), file=lf.name
                )
        data_ui.show_message("localities")

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
    access.download_button(
        "Download rejected rows (CSV)",
        lambda: rejected.to_csv(index=False).encode(),
        "rejected_rows.csv",
        what=f"rejected and duplicate rows ({len(rejected):,})",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    disclosure_ui.settings()
