"""Repeat locations: the police.uk snap points ranked by their number of incidents.

A few places account for a large share of incidents (the "80/20" pattern). This table ranks
every location for any filter, with the cumulative share, so a team can see how many places
hold half or four fifths of the problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.kde import location_key

#: Columns of :func:`repeat_locations`, in order.
REPEAT_COLUMNS = [
    "rank",
    "location_id",
    "location_name",
    "x",
    "y",
    "count",
    "share",
    "cumulative_share",
    "top_categories",
    "months_active",
    "ward_code",
    "district_code",
]
REQUIRED = ("x", "y", "category", "month")


def check_incidents(incidents: pd.DataFrame, *, name: str = "incidents", required=REQUIRED) -> None:
    """Raise unless ``incidents`` is a frame with the incident-record columns needed."""
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(f"`{name}` must be an incident DataFrame; got {type(incidents).__name__}")
    missing = [c for c in required if c not in incidents.columns]
    if missing:
        raise InputError(
            f"`{name}` lacks the column(s) {', '.join(missing)}; pass the incident frame from "
            "`open_store(...).incidents()`"
        )


def located_mask(incidents: pd.DataFrame) -> np.ndarray:
    """True for incidents with finite BNG coordinates (the others have no location)."""
    return np.isfinite(incidents["x"].to_numpy(dtype=float)) & np.isfinite(
        incidents["y"].to_numpy(dtype=float)
    )


def top_text(
    keys: np.ndarray, values: pd.Series | np.ndarray, k: int = 3, *, counts: bool = True
) -> pd.Series:
    """The ``k`` most common values per key as text: ``"A (12); B (5)"``.

    Missing values are ignored; ties are broken alphabetically. Returns a Series indexed by key.

    Notes
    -----
    Works on integer codes (a categorical's codes, or the values factorized once): the
    (key, value) pairs are counted with one ``np.unique`` and only the ``k`` kept per key are
    turned into text, so the cost is that of sorting the codes, not a Python call per row or
    per group.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy(dtype=np.int64)
        labels = np.asarray(s.cat.categories.astype(str), dtype=object)
    else:
        c, u = pd.factorize(s, use_na_sentinel=True)
        codes = c.astype(np.int64)
        labels = np.asarray([str(v) for v in u], dtype=object)
    keys = np.asarray(keys)
    ok = codes >= 0
    if not ok.any():
        return pd.Series(dtype=object)
    kcodes, kuniq = pd.factorize(keys[ok], sort=True)
    # alphabetical rank of each label, so ties sort by name
    rank = np.empty(labels.size, dtype=np.int64)
    rank[np.argsort(labels.astype(str), kind="stable")] = np.arange(labels.size)
    n_lab = labels.size
    pair, n = np.unique(kcodes.astype(np.int64) * n_lab + rank[codes[ok]], return_counts=True)
    key_of, rank_of = pair // n_lab, pair % n_lab
    order = np.lexsort((rank_of, -n, key_of))
    key_of, rank_of, n = key_of[order], rank_of[order], n[order]
    start = np.r_[0, np.flatnonzero(np.diff(key_of)) + 1]
    pos = np.arange(key_of.size) - np.repeat(start, np.diff(np.r_[start, key_of.size]))
    keep = pos < k
    key_of, rank_of, n = key_of[keep], rank_of[keep], n[keep]
    by_rank = labels[np.argsort(labels.astype(str), kind="stable")]
    text = by_rank[rank_of]
    if counts:
        text = np.char.add(np.char.add(text.astype(str), " ("), n.astype(str))
        text = np.char.add(text, ")")
    text = text.astype(object)
    bounds = np.r_[0, np.flatnonzero(np.diff(key_of)) + 1, key_of.size]
    joined = ["; ".join(text[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return pd.Series(joined, index=pd.Index(kuniq[key_of[bounds[:-1]]]), dtype=object)


def _location_ids(df: pd.DataFrame) -> np.ndarray:
    if "location_id" in df.columns:
        ids = df["location_id"].to_numpy()
        if np.all(ids >= 0):
            return ids.astype(np.int64)
    return location_key(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float))


def repeat_locations(
    incidents: pd.DataFrame, *, filt: Filter | None = None, top_categories: int = 3
) -> pd.DataFrame:
    """Rank locations by their number of incidents.

    Parameters
    ----------
    incidents
        Incident frame (columns ``x``, ``y``, ``category``, ``month`` and, when present,
        ``location_id``, ``location_name``, ``ward_code``, ``district_code``).
    filt
        Optional filter applied first.
    top_categories
        How many categories to name per location (default 3).

    Returns
    -------
    pandas.DataFrame
        One row per location, most incidents first, with :data:`REPEAT_COLUMNS`. ``share`` is
        the location's share of the incidents with a location, ``cumulative_share`` the share
        held by it and every location above it. ``attrs["params"]`` holds the number of
        incidents, locations and incidents left off for having no location, and how many
        locations hold 50% and 80% of incidents.

    Raises
    ------
    InputError
        If ``incidents`` lacks the required columns.
    """
    check_incidents(incidents)
    df = filt.apply(incidents) if filt is not None else incidents
    has = located_mask(df)
    df = df[has]
    params: dict[str, Any] = {
        "method": "repeat",
        "n_incidents": int(len(df)),
        "n_left_off": int((~has).sum()),
        "filter": filt.describe() if filt is not None else "all incidents",
    }
    if df.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in REPEAT_COLUMNS})
        params.update({"n_locations": 0, "note": "no incidents with a location match the filter"})
        out.attrs["params"] = params
        return out
    ids = _location_ids(df)
    codes, uniq = pd.factorize(ids)
    counts = np.bincount(codes)
    first = np.full(len(uniq), len(df), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(df)))
    months = df["month"].to_numpy()
    months_active = pd.DataFrame({"k": codes, "m": months}).drop_duplicates().groupby("k").size()
    order = np.lexsort((np.arange(len(uniq)), -counts))
    total = counts.sum()
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(uniq) + 1),
            "location_id": uniq[order],
            "location_name": (
                top_text(codes, df["location_name"], 1, counts=False).reindex(order).to_numpy()
                if "location_name" in df.columns
                else None
            ),
            "x": df["x"].to_numpy(dtype=float)[first[order]],
            "y": df["y"].to_numpy(dtype=float)[first[order]],
            "count": counts[order],
            "share": counts[order] / total,
            "cumulative_share": np.cumsum(counts[order]) / total,
            "top_categories": top_text(codes, df["category"], top_categories).reindex(order).to_numpy(),
            "months_active": months_active.reindex(order).to_numpy(),
            "ward_code": df["ward_code"].to_numpy(dtype=object)[first[order]] if "ward_code" in df else None,
            "district_code": (
                df["district_code"].to_numpy(dtype=object)[first[order]] if "district_code" in df else None
            ),
        }
    )
    cum = out["cumulative_share"].to_numpy()
    params.update(
        {
            "n_locations": int(len(uniq)),
            "locations_holding_50pct": int(np.searchsorted(cum, 0.5 - 1e-12) + 1),
            "locations_holding_80pct": int(np.searchsorted(cum, 0.8 - 1e-12) + 1),
        }
    )
    params["share_of_locations_holding_80pct"] = params["locations_holding_80pct"] / len(uniq)
    out.attrs["params"] = params
    return out
