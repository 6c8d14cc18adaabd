"""Change between two periods (before and after an intervention), per area or grid cell.

Each area's counts in the two periods are compared with the Poisson exact test, conditional on
the area's total (:func:`hotspots.trends.poisson_exact_p`): under "no change", the share of
the area's incidents that fall in the after period is the after period's share of the time.
P-values are adjusted for testing many areas at once (Benjamini–Hochberg FDR).

With ``relative_to="overall"`` the expected share is instead the after period's share of all
incidents in the filter, so that a change common to every area (a seasonal rise, a change in
recording practice) is not attributed to each area: the question becomes "did this area
change more than everywhere else?".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from hotspots._errors import InputError
from hotspots._validate import check_choice
from hotspots.filters import LEVEL_COLUMN, LEVELS, Filter
from hotspots.grid import Grid
from hotspots.trends import _bh

RELATIVE_TO = ("time", "overall")
CHANGE_COLUMNS = [
    "area_code",
    "count_before",
    "count_after",
    "difference",
    "pct_change",
    "expected_after",
    "p_value",
    "q_value",
    "significant",
    "direction",
    "note",
]
GRID_COLUMNS = ["cell_id", "x", "y", *CHANGE_COLUMNS[1:], "geometry"]


def _months(f: Filter, name: str) -> int:
    if not (f.month_from and f.month_to):
        raise InputError(
            f"`{name}` needs both month_from and month_to (YYYY-MM) so that the periods can be compared; "
            f"got {f.month_from or 'open'} to {f.month_to or 'open'}"
        )
    start = pd.Period(f.month_from, "M")
    end = pd.Period(f.month_to, "M")
    n = end.ordinal - start.ordinal + 1
    if f.months_of_year:
        n = sum(1 for k in range(n) if (start + k).month in f.months_of_year)
    return n


def _test(before: np.ndarray, after: np.ndarray, share: float) -> np.ndarray:
    """Two-sided exact binomial test of ``after | before + after`` against ``share``."""
    n = before + after
    if np.isclose(share, 0.5):
        lo = stats.binom.cdf(after, n, 0.5)
        hi = stats.binom.sf(after - 1, n, 0.5)
        p = np.minimum(1.0, 2.0 * np.minimum(lo, hi))
    else:
        p = np.array(
            [
                stats.binomtest(int(k), int(t), share).pvalue if t > 0 else 1.0
                for k, t in zip(after, n, strict=True)
            ]
        )
    return np.where(n == 0, np.nan, p)


def change_between(
    incidents: pd.DataFrame,
    *,
    before: Filter,
    after: Filter,
    level: str | Grid = "ward",
    areas: list[str] | None = None,
    relative_to: str = "time",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Counts before and after, the difference, and whether it exceeds chance, per area or cell.

    Parameters
    ----------
    incidents
        Incident frame.
    before, after
        Filters for the two periods; both need a month range. Usually the same filter with
        different months (the CLI builds them that way). Periods of different lengths are
        compared as rates per month.
    level
        Area level (``lsoa``, ``ward``, ``district``, ``locality``) or a :class:`~hotspots.grid.Grid`
        for per-cell change.
    areas
        Area codes to list even with no incidents (e.g. every ward of the geography).
        Default: areas with incidents in either period. Ignored for a grid (every cell in the
        grid's mask is listed).
    relative_to
        ``"time"`` (default): no change means the same rate per month in both periods.
        ``"overall"``: no change means the area kept its share of all incidents (see module
        docstring).
    alpha
        Level for ``significant`` on the FDR-adjusted ``q_value``.

    Returns
    -------
    DataFrame or GeoDataFrame
        For an area level: columns :data:`CHANGE_COLUMNS`. For a grid: :data:`GRID_COLUMNS`
        (a GeoDataFrame in EPSG:27700). ``pct_change`` compares rates per month (NaN when the
        before count is 0); ``expected_after`` is the after count that "no change" predicts;
        ``direction`` is ``"increase"``, ``"decrease"``, ``"no significant change"`` or
        ``"no incidents"``. ``attrs["params"]`` records the periods, lengths, the expected share
        and the test.

    Raises
    ------
    InputError
        If a filter lacks a month range, the periods overlap, ``level``/``relative_to`` is
        invalid, or ``alpha`` is not between 0 and 1.

    Notes
    -----
    Equal-length periods with ``relative_to="time"`` give the familiar test of ``after``
    against Binomial(before + after, 1/2). Cells or areas with no incidents in either period
    have no p-value and are left out of the FDR adjustment.
    """
    for name, f in (("before", before), ("after", after)):
        if not isinstance(f, Filter):
            raise InputError(f"`{name}` must be a hotspots.filters.Filter; got {type(f).__name__}")
    check_choice(relative_to, RELATIVE_TO, name="relative_to")
    if not 0 < alpha < 1:
        raise InputError(f"`alpha` must be between 0 and 1, such as 0.05; got {alpha!r}")
    len_b, len_a = _months(before, "before"), _months(after, "after")
    if not (before.month_to < after.month_from or after.month_to < before.month_from):
        raise InputError(
            f"the periods overlap: before is {before.month_from} to {before.month_to}, after is "
            f"{after.month_from} to {after.month_to}; choose periods that do not share months"
        )
    is_grid = isinstance(level, Grid)
    if not is_grid:
        check_choice(level, LEVELS, name="level")
    sel_b = before.apply(incidents)
    sel_a = after.apply(incidents)

    if is_grid:
        grid = level
        cb = grid.counts(sel_b["x"].to_numpy(float), sel_b["y"].to_numpy(float)).ravel()
        ca = grid.counts(sel_a["x"].to_numpy(float), sel_a["y"].to_numpy(float)).ravel()
        ids = np.flatnonzero(grid.mask.ravel())
        before_n, after_n = cb[ids].astype(np.int64), ca[ids].astype(np.int64)
        codes = ids
    else:
        col = LEVEL_COLUMN[level]
        vb = sel_b[col].dropna().astype(str).value_counts()
        va = sel_a[col].dropna().astype(str).value_counts()
        if areas is not None:
            codes = np.array(list(dict.fromkeys(str(a) for a in areas)), dtype=object)
        else:
            codes = np.array(sorted(set(vb.index) | set(va.index)), dtype=object)
        before_n = vb.reindex(codes, fill_value=0).to_numpy(dtype=np.int64)
        after_n = va.reindex(codes, fill_value=0).to_numpy(dtype=np.int64)

    if relative_to == "time":
        share = len_a / (len_a + len_b)
    else:
        tot_b, tot_a = before_n.sum(), after_n.sum()
        if tot_a + tot_b == 0:
            share = len_a / (len_a + len_b)
        else:
            share = tot_a / (tot_a + tot_b)
    p = _test(before_n, after_n, share)
    q = _bh(p)
    total = before_n + after_n
    expected_after = total * share
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_b = before_n / len_b
        rate_a = after_n / len_a
        pct = np.where(before_n > 0, 100.0 * (rate_a / rate_b - 1.0), np.nan)
    sig = np.nan_to_num(q, nan=1.0) <= alpha
    direction = np.where(
        total == 0,
        "no incidents",
        np.where(
            sig & (after_n > expected_after),
            "increase",
            np.where(sig & (after_n < expected_after), "decrease", "no significant change"),
        ),
    ).astype(object)
    note = np.where(
        total == 0,
        "no incidents in either period: nothing to test",
        np.where(before_n == 0, "no incidents before: % change not defined", ""),
    ).astype(object)
    data = {
        "count_before": before_n,
        "count_after": after_n,
        "difference": after_n - before_n,
        "pct_change": pct,
        "expected_after": expected_after,
        "p_value": p,
        "q_value": q,
        "significant": sig,
        "direction": direction,
        "note": note,
    }
    params = {
        "before": f"{before.month_from} to {before.month_to} ({len_b} months)",
        "after": f"{after.month_from} to {after.month_to} ({len_a} months)",
        "relative_to": relative_to,
        "expected_share_after": float(share),
        "test": "Poisson exact test conditional on the total (two-sided binomial), Benjamini-Hochberg FDR",
        "alpha": float(alpha),
        "filter_before": before.to_dict(),
        "filter_after": after.to_dict(),
    }
    if len_a != len_b:
        params["note"] = "periods of different length: compared as rates per month"
    if is_grid:
        full = {}
        for k, v in data.items():
            arr = np.full(grid.ny * grid.nx, np.nan if v.dtype.kind == "f" else 0, dtype=v.dtype)
            arr[codes] = v
            full[k] = arr
        out = grid.to_geodataframe(full)
        params["cell_size_m"] = float(grid.cell)
        out.attrs["params"] = params
        return out[GRID_COLUMNS]
    out = pd.DataFrame({"area_code": codes, **data})
    out.attrs["params"] = params
    return out[CHANGE_COLUMNS]
