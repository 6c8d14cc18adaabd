"""Users and roles (admins only): the roles file, who has signed in, and changing one person's role."""

import pandas as pd
import streamlit as st

from dashboard import access, data, ui
from hotspots import audit, roles
from hotspots._errors import InputError

access.require_page("users")
store = data.store()
ui.header("Users and roles")
path = access.roles_path()
if not access.auth_configured():
    st.info("Local single-user mode: no sign-in is configured, so there are no users to give roles to.")
try:
    table = access.role_map()
except InputError as exc:
    st.error(f"The roles file is wrong, so nobody can sign in until it is fixed: {exc}")
    st.stop()
st.markdown(
    f"Roles file: `{path}`"
    if path
    else "No roles file: everyone who signs in is a **viewer**. "
    f"Set `{access.ROLES_ENV}` or put `roles.toml` next to the store."
)
st.caption(
    f"Signed in but listed nowhere: **{table.default}**. Groups are read from the ID-token claim "
    f"`{table.groups_claim}`. A person's own line decides; otherwise their highest group role."
)
c1, c2 = st.columns(2)
c1.subheader("By e-mail")
c1.dataframe(pd.DataFrame(table.users.items(), columns=["e-mail", "role"]), hide_index=True, width="stretch")
c2.subheader("By group")
c2.dataframe(pd.DataFrame(table.groups.items(), columns=["group", "role"]), hide_index=True, width="stretch")

st.subheader("Who has signed in")
seen = audit.entries(store, action="sign-in")
seen = seen.groupby("user", as_index=False).agg(last_sign_in=("time", "max"), role=("role", "first"))
st.dataframe(seen.sort_values("last_sign_in", ascending=False), hide_index=True, width="stretch")

if path is not None:
    with st.form("set_role", clear_on_submit=True):
        st.markdown("**Give one person a role** (written to the roles file; recorded in the audit log)")
        f1, f2 = st.columns(2)
        email = f1.text_input("E-mail")
        role = f2.selectbox("Role", [*roles.ROLES, roles.REFUSE])
        if st.form_submit_button("Save") and email:
            try:
                access.require("changing roles", store=store)
                roles.set_user_role(path, email, role)
                access.record(
                    store, "role", {"email": email.strip().lower(), "role": role, "file": str(path)}
                )
                st.success(f"{email.strip().lower()} is now: {role}.")
            except InputError as exc:
                st.error(str(exc))
