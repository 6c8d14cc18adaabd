import streamlit as st
from streamlit_folium import st_folium

from dashboard import analysis, data, demand_ui, maps, ui
from hotspots.demand import DEFAULT_CELL_SIZE, DEFAULT_MIN_MONTHS, DEFAULT_MONTHS, DEFAULT_TOP_SHARE

filt = st.session_state["filter"]
path, version = data.key()
ui.header("Demand & harm", filt)
sources = data.options(path, version)["sources"]

tab_demand, tab_dual, tab_harm = st.tabs(["Multi-agency demand", "Two sources compared", "Harm weights"])

with tab_demand:
    if len(sources) < 2:
        st.info(
            "Multi-agency demand compares police.uk with partner data: load a partner source "
            "(fly-tipping, council ASB, road collisions…) on the **Data** page first."
        )
    else:
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        chosen = c1.multiselect("Sources", sources, default=sources, key="demand_sources")
        n = c2.number_input("Last months", 1, 60, DEFAULT_MONTHS, key="demand_months")
        if st.session_state.get("demand_k", 0) > n:  # fewer months than k: k follows
            st.session_state["demand_k"] = int(n)
        k = c3.number_input("High in at least", 1, int(n), min(DEFAULT_MIN_MONTHS, int(n)), key="demand_k")
        top = c4.number_input("Top share %", 1, 50, int(DEFAULT_TOP_SHARE * 100), key="demand_top") / 100
        if len(chosen) < 2:
            st.warning("Choose at least two sources to compare.")
        else:
            cells, params, sentence = demand_ui.demand_cells(
                path, version, filt, tuple(chosen), int(n), int(k), top, DEFAULT_CELL_SIZE
            )
            persistent = cells[cells["persistent"]]
            m1, m2, m3 = st.columns(3)
            m1.metric("Persistent multi-agency high demand", ui.number(len(persistent)) + " cells")
            m2.metric("Cells with demand", ui.number(len(cells)))
            m3.metric("Months counted", f"{params['month_window'][0]} to {params['month_window'][1]}")
            st.caption(sentence + ".")
            layer = demand_ui.demand_layer(cells, tuple(chosen))
            bounds = layer.total_bounds if len(layer) else data.study_area_shape(path, version).total_bounds
            m = maps.base_map(bounds)
            maps.add_outline(m, data.study_area_shape(path, version))
            maps.add_classed_polygons(m, layer, name="Demand", opacity=0.8)
            maps.add_points(  # markers: a 150 m cell is a dot at county scale
                m,
                demand_ui.persistent_points(layer),
                name="Persistent",
                colour=demand_ui.PERSISTENT,
                max_radius=9,
            )
            maps.Legend(
                "Demand (150 m cells)",
                [(demand_ui.PERSISTENT, "persistent multi-agency high demand")]
                + [
                    (c, lab)
                    for c, lab in zip(
                        demand_ui.COMPOSITE,
                        ["composite: top 1,500", "top 50%", "top 20%", "top 5%"],
                        strict=True,
                    )
                ],
                position="bottomleft",
            ).add_to(m)
            maps.finish(m)
            st_folium(m, key="demand_map", height=560, use_container_width=True, returned_objects=[])
            ui.attribution()
            show = cells.drop(columns="geometry").head(200)
            st.dataframe(show, hide_index=True, width="stretch")
            ui.downloads(cells, stem="demand", filt=filt, params=params, title=sentence, key="dl_demand")
            st.subheader("Named places: demand per source")
            method = analysis.DEFAULT_METHOD
            places = demand_ui.place_table(
                path,
                version,
                filt,
                tuple(chosen),
                method,
                analysis.default_items(method),
                None,
                int(n),
                int(k),
                top,
            )
            demand_ui.show_places(places, tuple(chosen), key="demand_places")
            st.caption(
                f"The places of the Hotspots list ({analysis.METHOD_LABELS[method]}), highest composite first; "
                f"{int(places['persistent'].sum())} hold a persistent cell. "
                + places.attrs["params"]["place_rule"].capitalize()
                + "."
            )
            ui.downloads(
                places,
                stem="demand_places",
                filt=filt,
                params=places.attrs["params"],
                title="Demand per source for the named places",
                key="dl_demand_places",
            )
            ui.methods(
                "**Comparable scale**: each source's incidents in a cell as a share of that source's "
                "total in the period, so every source weighs the same whatever its volume. "
                "**Composite**: the mean of the sources' shares. **High** in a month: the cell is in the "
                f"top {top:.0%} of cells of a source that month (ties at the threshold included). "
                f"**Persistent multi-agency high demand**: high for at least 2 sources in at least {int(k)} "
                f"of the last {int(n)} months.",
                params,
            )

with tab_dual:
    if len(sources) < 2:
        st.info("Load a partner source on the **Data** page to compare two sources' surfaces.")
    else:
        c1, c2, c3 = st.columns(3)
        a = c1.selectbox("Source A", sources, index=0, key="dual_a")
        b = c2.selectbox("Source B", [s for s in sources if s != a], key="dual_b")
        mode = c3.radio("Show", ["difference", "ratio"], horizontal=True, key="dual_mode")
        shapes, dparams = demand_ui.dual_layer(path, version, filt, a, b, mode)
        m = maps.base_map(data.study_area_shape(path, version).total_bounds)
        maps.add_outline(m, data.study_area_shape(path, version))
        maps.add_classed_polygons(m, shapes, name="Dual KDE", opacity=0.7)
        maps.Legend(
            f"{a} against {b}",
            list(
                zip(
                    demand_ui.DIVERGING,
                    [f"much more {b}", f"more {b}", "alike", f"more {a}", f"much more {a}"],
                    strict=True,
                )
            ),
            position="bottomleft",
        ).add_to(m)
        maps.finish(m)
        st_folium(m, key="dual_map", height=560, use_container_width=True, returned_objects=[])
        ui.attribution()
        ui.methods(
            "**Dual KDE**: each source's kernel density surface (quartic, bandwidth one display cell) "
            "divided by its own total, so both are shares of their source; the map shows A's share "
            "minus B's (difference) or the log of their ratio (ratio, a small floor added to both).",
            {k: v for k, v in dparams.items() if not isinstance(v, dict)},
        )

with tab_harm:
    st.markdown(
        "Rank areas by **harm**: each incident weighs its category's harm weight. The defaults are "
        "derived from the ONS Crime Severity Score (the median offence weight in each police.uk "
        "category; anti-social behaviour, which has no CSS weight, is set to 10; partner categories 1). "
        "Edit any weight below: every table on this page uses the edited weights and says so."
    )
    left, right = st.columns([2, 3])
    with left:
        w = demand_ui.weights_editor()
        st.caption(w.describe())
    with right:
        table = demand_ui.harm_table(path, version, filt, filt.level, w)
        st.dataframe(
            table[["rank", "area_name", "count", "harm", "harm_per_1000", "share_of_harm"]].head(25),
            hide_index=True,
            width="stretch",
            column_config={
                "rank": "Rank by harm",
                "area_name": "Area",
                "count": "Incidents",
                "harm": st.column_config.NumberColumn("Harm", format="%.0f"),
                "harm_per_1000": st.column_config.NumberColumn("Harm per 1,000 residents", format="%.0f"),
                "share_of_harm": st.column_config.NumberColumn("Share of harm", format="percent"),
            },
        )
        ui.downloads(
            table,
            stem=f"harm_{filt.level}",
            filt=filt,
            params={"measure": "harm", "harm_weights": w.to_dict()},
            title="Areas by harm",
            formats=(".csv", ".xlsx"),
            key="dl_harm",
        )
