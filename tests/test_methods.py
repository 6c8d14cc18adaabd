"""The method registry: one interface, one lookup; adding a method is one module and one entry."""

from __future__ import annotations

import numpy as np
import pytest

from hotspots._errors import InputError
from hotspots.evaluate import SCORE_PARAMS, evaluate
from hotspots.filters import Filter
from hotspots.hotspot_list import GRID_METHODS, METHOD_PARAMS, METHODS, find_hotspots
from hotspots.methods import DEFAULT_METHOD, REGISTRY, CellScore, Method, get


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(
        InputError,
        match="`method` must be one of 'eb_count', 'kde', 'gistar', 'dbscan', 'repeat', 'count'; got 'hexbin'",
    ):
        get("hexbin")


def test_every_caller_reads_the_registry():
    assert METHODS == tuple(REGISTRY) and METHODS[0] == DEFAULT_METHOD == "eb_count"
    assert GRID_METHODS == ("eb_count", "kde", "gistar", "count")
    for name, m in REGISTRY.items():
        assert isinstance(m, Method) and m.name == name and m.kind in ("cells", "points")
        assert METHOD_PARAMS[name] == dict(m.options) and SCORE_PARAMS[name] == m.score_options
        assert set(m.score_options) <= set(m.options)  # evaluation options are list options too
        assert (m.places is not None) == (m.kind == "points") and m.summary


def test_a_new_method_is_one_module_and_one_entry(real_incidents, geography, monkeypatch):
    """A toy method registered at run time: find_hotspots and evaluate use it with no other change."""

    def busiest_month(x, y, grid, *, months=None, **_):
        # the score: incidents per cell in the single busiest month of the data
        m = np.asarray(months, dtype="datetime64[M]")
        top = np.unique(m, return_counts=True)[0][np.argmax(np.unique(m, return_counts=True)[1])]
        return CellScore(grid.counts(x[m == top], y[m == top]), {"month_used": str(top)})

    toy = Method(
        name="busiest_month",
        kind="cells",
        options={"cell_size": None, "top_share": 0.01},
        score_options=(),
        score=busiest_month,
        summary="cells busiest in the busiest month",
    )
    monkeypatch.setitem(REGISTRY, "busiest_month", toy)
    f = Filter(month_from="2025-07", month_to="2025-12")
    hl = find_hotspots(real_incidents, method="busiest_month", geography=geography, filt=f)
    assert hl.params["method"] == "busiest_month" and hl.params["month_used"].startswith("2025-")
    assert len(hl) > 10 and (hl["method"] == "busiest_month").all() and hl["name"].notna().all()
    r = evaluate(
        real_incidents,
        method="busiest_month",
        train=Filter(month_from="2025-01", month_to="2025-09"),
        test=Filter(month_from="2025-10", month_to="2025-12"),
        geography=geography,
    )
    assert r["pai"] > 10 and r["params"]["month_used"].startswith("2025-")
