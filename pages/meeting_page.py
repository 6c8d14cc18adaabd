import streamlit as st

from dashboard import access, data, meeting_ui, register_ui, ui
from hotspots._errors import InputError
from hotspots.agenda import record_meeting

ui.header("Meeting")
st.markdown(
    "The **agenda** of a problem-solving group's meeting: what changed in its area since the last meeting — "
    "places new in the hotspot list, wards (or districts) above their expected range, the top repeat locations, and how the "
    "group's active places are doing. Download it, or the printable **meeting pack** (PDF)."
)
groups = register_ui.group_names()
if not groups:
    st.info("No groups yet: register a place on the **Places** page (its group is the meeting).")
    st.stop()
c1, c2 = st.columns(2)
group = c1.selectbox("Group", groups, key="mt_group")
month = c2.selectbox("Meeting month", meeting_ui.months(), key="mt_month")
path, version = data.key()
try:
    a = meeting_ui.agenda(path, version, meeting_ui.register_stamp(), group, month)
except InputError as exc:
    st.warning(str(exc))
    st.stop()
st.caption(
    f"{a.area}. Since {a.since} ({a.since_rule}); data to {a.data_to}. Every incident in the group's area "
    "counts here: the sidebar filters do not apply to the agenda."
)

st.subheader("1. Places new in the hotspot list")
if len(a.new_hotspots):
    st.dataframe(a.new_hotspots, hide_index=True, width="stretch")
else:
    st.write("No new places in the hotspot list.")
st.subheader("2. Wards (or districts) above their expected range")
if len(a.above_expected):
    st.dataframe(a.above_expected, hide_index=True, width="stretch")
else:
    st.write("No ward or district above its expected range since the last meeting.")
st.subheader("3. Top repeat locations since the last meeting")
st.dataframe(a.repeat_locations, hide_index=True, width="stretch")
st.subheader("4. Progress of the group's active places")
if len(a.places):
    for row in a.places.itertuples():
        st.markdown(f"**#{row.place_id} {row.name}** (start {row.start}): {row.verdict}")
        if isinstance(row.displacement, str):
            st.caption(row.displacement)
else:
    st.write("No active places for this group: set a place's status and start on the **Places** page.")

slug = "".join(ch if ch.isalnum() else "_" for ch in group.lower()).strip("_")
d1, d2, d3 = st.columns(3)
what = f"meeting agenda of {group}, {a.date}"
access.download_button("Agenda (CSV)", a.to_csv(), f"agenda_{slug}_{a.date}.csv", what=what, where=d1,
                       mime=ui.MIME[".csv"], icon=":material/download:", key="mt_csv", on_click="ignore")  # fmt: skip
access.download_button("Agenda (Excel)", lambda: meeting_ui.excel_bytes(a), f"agenda_{slug}_{a.date}.xlsx", what=what,
                       where=d2, mime=ui.MIME[".xlsx"], icon=":material/download:", key="mt_xlsx", on_click="ignore")  # fmt: skip
access.download_button("Meeting pack (PDF)", lambda: meeting_ui.pack_bytes(a), f"meeting_pack_{slug}_{a.date}.pdf",
                       what=f"meeting pack of {group}, {a.date}", where=d3, mime="application/pdf",
                       icon=":material/picture_as_pdf:", key="mt_pdf", on_click="ignore")  # fmt: skip

with st.expander("Record this meeting (the next agenda starts from it)"):
    past = meeting_ui.past_meetings(group)
    st.caption("Recorded meetings: " + (", ".join(past["month"]) if len(past) else "none yet."))
    if st.button(f"Record the {group} meeting of {a.date}", key="mt_record"):
        record_meeting(data.store(), group, date=a.date, author="dashboard")
        st.rerun()
ui.attribution()
