"""Audit log (admins only): who signed in, loaded, exported, changed a setting or was refused."""

import streamlit as st

from dashboard import access, data, ui
from hotspots import audit

access.require_page("audit")  # refused and recorded here too, not only left out of the menu
store = data.store()
ui.header("Audit log")
st.caption(
    "Every sign-in and sign-out, load, export, disclosure setting, role change and refused request, "
    "newest first, with who and when (UTC). Nothing here can be changed or deleted."
)
c1, c2 = st.columns(2)
action = c1.selectbox("Action", ["All", *audit.ACTIONS], key="audit_action")
log = audit.entries(store, action=None if action == "All" else action)
who = c2.selectbox("User", ["All", *sorted(log["user"].dropna().unique())], key="audit_user")
if who != "All":
    log = log[log["user"] == who]
st.dataframe(log, hide_index=True, width="stretch")
st.caption(f"{len(log):,} entries.")
access.download_button(
    "Download the audit log (CSV)",
    lambda: log.to_csv(index=False),
    "audit_log.csv",
    what=f"audit log ({len(log):,} entries; action {action}, user {who})",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
)
