"""Counts, rates and shares by area: the tables partnership strategies are written from.

Rates are per 1,000 usual residents (Census 2021, summed from 2021 LSOAs to each level).
Incidents with no location or in no area (``outside_area``) are left out of area tables and the
number left out is reported. Areas of another force's data, placed from the reported LSOA code
outside the boundaries (see ``docs/areas.md``), are listed with their Census residents; their
``outline`` column says their shape is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries import Geography
from hotspots._errors import InputError
from hotspots.filters import LEVEL_COLUMN, LEVELS, Filter
from hotspots.harm import HarmWeights, check_measure, default_weights

AREA_TABLE_COLUMNS = [
    "area_code",
    "area_name",
    "level",
    "district_code",
    "district_name",
    "population",
    "count",
    "rate_per_1000",
    "share_of_incidents",
    "share_of_population",
    "rank",
    "outline",
]
#: Added after :data:`AREA_TABLE_COLUMNS` when an area table measures harm.
HARM_COLUMNS = ["harm", "harm_per_1000", "share_of_harm"]

#: Written into area tables' ``attrs["note"]`` (and exports) when some areas are known only
#: from the lookups.
APPROXIMATE_NOTE = (
    "Some areas lie outside the boundary files: their incidents are placed by the LSOA code "
    "police.uk reports (2011 codes mapped to 2021), their wards, districts and residents come "
    "from the ONS lookups and Census 2021, and their outlines are approximate (see the outline "
    "column)."
)


class CodedIncidents:
    """Integer-coded views of an incident frame for fast repeated filtering.

    Built once per incident frame; :meth:`counts_by_area_month` then answers a filter change
    with array slicing and one ``np.bincount`` (no groupby, no Python loop over rows).
    """

    def __init__(self, incidents: pd.DataFrame):
        self.incidents = incidents
        month = incidents["month"].to_numpy().astype("datetime64[M]")
        self.month_ordinal = month.astype(np.int64)
        self.month0 = int(self.month_ordinal.min()) if len(month) else 0
        self.n_months = int(self.month_ordinal.max()) - self.month0 + 1 if len(month) else 0
        self.month_idx = (self.month_ordinal - self.month0).astype(np.int32)
        self.moy = (self.month_ordinal % 12 + 1).astype(np.int8)
        self.codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
        for col in ("category", "source", *LEVEL_COLUMN.values()):
            s = incidents[col]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype("category")
            self.codes[col] = (s.cat.codes.to_numpy(), s.cat.categories)

    def _in(self, col: str, values: tuple) -> np.ndarray:
        codes, cats = self.codes[col]
        wanted = np.zeros(len(cats) + 1, dtype=bool)
        idx = cats.get_indexer(list(values))
        wanted[idx[idx >= 0]] = True
        return wanted[codes]  # code -1 (missing) maps to the extra False slot

    def mask(self, filt: Filter) -> np.ndarray:
        """The same selection as ``filt.mask(incidents)``, from the coded arrays."""
        keep = np.ones(len(self.month_idx), dtype=bool)
        if filt.month_from:
            keep &= self.month_ordinal >= pd.Period(filt.month_from, "M").ordinal + _EPOCH_OFFSET
        if filt.month_to:
            keep &= self.month_ordinal <= pd.Period(filt.month_to, "M").ordinal + _EPOCH_OFFSET
        if filt.months_of_year:
            keep &= np.isin(self.moy, filt.months_of_year)
        if filt.categories:
            keep &= self._in("category", filt.categories)
        if filt.sources:
            keep &= self._in("source", filt.sources)
        if filt.areas:
            keep &= self._in(LEVEL_COLUMN[filt.level], filt.areas)
        if filt.days_of_week or filt.hours or filt.extra:
            keep &= filt.mask(self.incidents)
        return keep

    def counts_by_area_month(self, filt: Filter, level: str | None = None) -> pd.DataFrame:
        """Counts in a wide table: one row per area code at ``level``, one column per month."""
        level = level or filt.level
        keep = self.mask(filt)
        codes, cats = self.codes[LEVEL_COLUMN[level]]
        ok = keep & (codes >= 0)
        flat = codes[ok].astype(np.int64) * self.n_months + self.month_idx[ok]
        counts = np.bincount(flat, minlength=len(cats) * self.n_months).reshape(len(cats), self.n_months)
        months = pd.period_range(
            pd.Period(ordinal=self.month0 - _EPOCH_OFFSET, freq="M"), periods=self.n_months, freq="M"
        ).to_timestamp()
        return pd.DataFrame(counts, index=pd.Index(cats, name="area_code"), columns=months)


# numpy datetime64[M] counts months from 1970-01; pandas Period ordinals do too.
_EPOCH_OFFSET = 0


def area_table(
    incidents: pd.DataFrame,
    *,
    geography: Geography,
    filt: Filter | None = None,
    level: str | None = None,
    with_geometry: bool = False,
    measure: str = "count",
    weights: HarmWeights | None = None,
) -> pd.DataFrame:
    """Counts, rates per 1,000 residents, shares and ranks for every area at one level.

    Parameters
    ----------
    incidents
        Incident frame (the store's ``incidents()``).
    geography
        Areas and residents.
    filt
        Which incidents to count (default: all). ``filt.areas`` restricts the rows shown.
    level
        ``lsoa``, ``ward``, ``district`` or ``locality`` (default ``filt.level``).
    with_geometry
        Return a GeoDataFrame (EPSG:27700) with each area's polygon.
    measure
        ``count`` (default: every incident counts 1) or ``harm`` (each incident its
        category's weight, :mod:`hotspots.harm`): adds :data:`HARM_COLUMNS` and ranks by harm.
    weights
        Harm weights for ``measure="harm"`` (None: the shipped ONS Crime Severity Score
        weights); named in ``attrs['weights']``.

    Returns
    -------
    One row per area (areas with no incidents included, count 0), columns
    :data:`AREA_TABLE_COLUMNS` (+ :data:`HARM_COLUMNS` for harm); ``rank`` 1 is the highest
    count (harm). ``attrs['unplaced']`` is the
    number of filtered incidents that could not be placed in any area.

    Notes
    -----
    ``share_of_incidents`` is the area's share of the incidents placed in the study area;
    ``share_of_population`` its share of the study area's residents. An area with no residents
    has ``rate_per_1000`` NaN (not infinity). ``outline`` is ``boundary`` for areas from a
    boundary file, else approximate (areas placed from reported LSOA codes, another force's
    data): then ``attrs['note']`` is :data:`APPROXIMATE_NOTE`, else ``""``.
    """
    filt = filt or Filter()
    level = level or filt.level
    if level not in LEVELS:
        raise InputError(f"`level` must be one of {', '.join(LEVELS)}; got {level!r}")
    check_measure(measure)
    areas = geography.areas(level)
    sub = filt.replace(areas=()).apply(incidents) if filt.level != level else filt.apply(incidents)
    col = LEVEL_COLUMN[level]
    counts = sub[col].astype(object).value_counts()
    table = pd.DataFrame(areas.drop(columns="geometry"))
    table["count"] = table["area_code"].map(counts).fillna(0).astype("int64")
    placed = int(table["count"].sum())
    pop_total = int(table["population"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate_per_1000"] = np.where(
            table["population"] > 0, table["count"] / table["population"] * 1000, np.nan
        )
    table["share_of_incidents"] = table["count"] / placed if placed else 0.0
    table["share_of_population"] = table["population"] / pop_total if pop_total else 0.0
    columns = list(AREA_TABLE_COLUMNS)
    table.attrs["weights"] = None
    if measure == "harm":
        weights = weights or default_weights()
        w = weights.of(sub)
        ok = sub[col].notna().to_numpy()
        harm = pd.Series(w[ok]).groupby(sub[col].astype(object).to_numpy()[ok]).sum()
        table["harm"] = table["area_code"].map(harm).fillna(0.0).astype("float64")
        total = float(table["harm"].sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            table["harm_per_1000"] = np.where(
                table["population"] > 0, table["harm"] / table["population"] * 1000, np.nan
            )
        table["share_of_harm"] = table["harm"] / total if total else 0.0
        table["rank"] = table["harm"].rank(method="min", ascending=False).astype("int64")
        table.attrs["weights"] = weights.to_dict()
        columns += HARM_COLUMNS
    else:
        table["rank"] = table["count"].rank(method="min", ascending=False).astype("int64")
    if filt.areas and filt.level == level:
        table = table[table["area_code"].isin(filt.areas)]
    table = table.sort_values(["rank", "area_code"], ignore_index=True)[columns]
    table.attrs["measure"] = measure
    table.attrs["unplaced"] = len(sub) - placed
    table.attrs["note"] = APPROXIMATE_NOTE if (table["outline"] != "boundary").any() else ""
    table.attrs["filter"] = filt.to_dict()
    if with_geometry:
        geom = areas.set_index("area_code").geometry.reindex(table["area_code"]).to_numpy()
        table = gpd.GeoDataFrame(table, geometry=geom, crs=areas.crs)
    return table


def area_month_table(
    incidents: pd.DataFrame,
    *,
    geography: Geography,
    filt: Filter | None = None,
    level: str | None = None,
    by_category: bool = False,
) -> pd.DataFrame:
    """Counts by area × month (× category): long format with area names and residents.

    Months from the first to the last month of the filtered data are all present (zero counts
    included) for every area.
    """
    filt = filt or Filter()
    level = level or filt.level
    areas = geography.areas(level)[["area_code", "area_name", "population"]]
    sub = filt.apply(incidents)
    col = LEVEL_COLUMN[level]
    sub = sub[sub[col].notna()]
    keys = [col, "month"] + (["category"] if by_category else [])
    counts = sub.groupby(keys, observed=True).size().rename("count").reset_index()
    counts = counts.rename(columns={col: "area_code"})
    counts["area_code"] = counts["area_code"].astype(str)
    if len(sub):
        months = pd.date_range(sub["month"].min(), sub["month"].max(), freq="MS")
        grid = [areas["area_code"], months]
        names = ["area_code", "month"]
        if by_category:
            grid.append(sorted(sub["category"].astype(str).unique()))
            names.append("category")
        full = pd.MultiIndex.from_product(grid, names=names).to_frame(index=False)
        if by_category:
            counts["category"] = counts["category"].astype(str)
        counts = full.merge(counts, on=names, how="left")
        counts["count"] = counts["count"].fillna(0).astype("int64")
    out = counts.merge(areas, on="area_code", how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_per_1000"] = np.where(
            out["population"] > 0, out["count"] / out["population"] * 1000, np.nan
        )
    out.insert(2, "level", level)
    return out


@dataclass(frozen=True)
class PriorityComparison:
    """A set of priority areas against the rest, as partnership strategies state it."""

    priority_areas: tuple[str, ...]
    priority_count: int
    rest_count: int
    priority_population: int
    rest_population: int
    priority_rate: float
    rest_rate: float
    ratio: float
    share_of_population: float
    share_of_incidents: float
    level: str

    def sentence(self, *, what: str = "all-crime") -> str:
        """The comparison in the words partnership strategies use."""
        noun = {"ward": "wards", "lsoa": "LSOAs", "district": "districts", "locality": "localities"}[
            self.level
        ]
        return (
            f"Priority {noun} have an {what} rate of {self.priority_rate:.1f} per 1,000 population, "
            f"{self.ratio:.1f} times the {self.rest_rate:.1f} of non-priority {noun}. "
            f"Priority {noun} make up {self.share_of_population:.0%} of the population and account for "
            f"{self.share_of_incidents:.0%} of incidents."
        )


def compare_priority(table: pd.DataFrame, priority: list[str] | tuple[str, ...]) -> PriorityComparison:
    """Compare chosen priority areas with the rest, from an :func:`area_table`.

    Raises
    ------
    InputError
        If a priority code is not in the table, or no areas are left as "the rest".
    """
    codes = set(priority)
    unknown = sorted(codes - set(table["area_code"]))
    if unknown:
        raise InputError(f"priority areas not found at this level: {', '.join(unknown)}")
    is_p = table["area_code"].isin(codes)
    if is_p.all():
        raise InputError("every area is a priority area; leave some out to compare against")
    if not is_p.any():
        raise InputError("choose at least one priority area")
    pc, rc = int(table.loc[is_p, "count"].sum()), int(table.loc[~is_p, "count"].sum())
    pp, rp = int(table.loc[is_p, "population"].sum()), int(table.loc[~is_p, "population"].sum())
    pr = pc / pp * 1000 if pp else float("nan")
    rr = rc / rp * 1000 if rp else float("nan")
    return PriorityComparison(
        priority_areas=tuple(sorted(codes)),
        priority_count=pc,
        rest_count=rc,
        priority_population=pp,
        rest_population=rp,
        priority_rate=pr,
        rest_rate=rr,
        ratio=pr / rr if rr else float("nan"),
        share_of_population=pp / (pp + rp) if pp + rp else float("nan"),
        share_of_incidents=pc / (pc + rc) if pc + rc else float("nan"),
        level=str(table["level"].iloc[0]),
    )
