"""Lookups between levels and vintages, and the one place that says which vintage is in use.

Every level the product reports on has one vintage, stated in :data:`VINTAGES`; the ONS lookups
shipped in ``boundaries/data`` join them (England and Wales):

* 2021 LSOA → best-fit May 2024 ward → 2024 district (:func:`lsoa_ward_lookup`);
* 2024 district → community safety partnership → police force area (:func:`csp_lookup`);
* 2011 LSOA → 2021 LSOA with the ONS change code (:func:`lsoa11_to_lsoa21`), for police.uk
  files before 2023, which report 2011 codes (:func:`resolve_reported_lsoa`);
* May 2019 ward → county electoral division (:func:`ward_to_ced`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
#: British National Grid: every layer is returned in it.
BNG = 27700

LOOKUP_LSOA_WARD = DATA / "lookup_lsoa21_ward24_ltla24.csv.gz"
LOOKUP_LSOA11 = DATA / "lookup_lsoa11_lsoa21_ltla22.csv.gz"
LOOKUP_CSP = DATA / "lookup_ltla24_csp24_pfa24.csv"
LOOKUP_CED = DATA / "lookup_ward19_county_electoral_division19.csv.gz"

#: The vintage of each level in use: the one place that states it. Incidents are placed in
#: 2021 LSOAs; wards, districts, partnerships and forces are groups of them through the lookups
#: (so every count adds up and every resident is counted once).
VINTAGES: dict[str, str] = {
    "lsoa": "LSOA Dec 2021 (ONS, super generalised BSC); police.uk 2011 codes mapped through the "
    "ONS 2011 → 2021 lookup, 2011 shapes (Dec 2011) shipped for reference",
    "ward": "electoral wards May 2024, best fit of 2021 LSOAs (ONS lookup); shapes are the LSOAs "
    "dissolved, not the official Dec 2023 ward shapes (shipped for reference)",
    "district": "local authority districts Dec 2024 (ONS)",
    "csp": "community safety partnerships 2024 (ONS district → CSP lookup); shapes Dec 2023",
    "force": "police force areas 2024 (ONS district → PFA lookup); shapes Dec 2023",
    "population": "Census 2021 usual residents (TS021) per 2021 LSOA, summed for larger areas",
}


@lru_cache(maxsize=1)
def lsoa_ward_lookup() -> pd.DataFrame:
    """LSOA 2021 → best-fit ward May 2024 → district 2024, England and Wales."""
    return pd.read_csv(LOOKUP_LSOA_WARD, dtype=str)


@lru_cache(maxsize=1)
def lsoa_lookup_indexed() -> pd.DataFrame:
    """:func:`lsoa_ward_lookup` indexed by 2021 LSOA code (plain object strings: fast to look up)."""
    look = lsoa_ward_lookup()
    out = pd.DataFrame(
        {c: look[c].to_numpy(dtype=object) for c in look.columns if c != "lsoa21_code"},
        index=pd.Index(look["lsoa21_code"].to_numpy(dtype=object), name="lsoa21_code", dtype=object),
    )
    return out


@lru_cache(maxsize=1)
def lsoa11_to_lsoa21() -> pd.DataFrame:
    """2011 LSOA → 2021 LSOA with the ONS change code (U, S, M, X)."""
    return pd.read_csv(LOOKUP_LSOA11, dtype=str)


@lru_cache(maxsize=1)
def csp_lookup() -> pd.DataFrame:
    """District 2024 → community safety partnership → police force area."""
    return pd.read_csv(LOOKUP_CSP, dtype=str)


@lru_cache(maxsize=1)
def district_forces() -> pd.DataFrame:
    """District 2024 → police force area, one row per district (index ``ltla24_code``).

    Columns: ltla24_name, pfa24_code, pfa24_name. Police force areas are whole districts.
    """
    return (
        csp_lookup()
        .drop_duplicates("ltla24_code")
        .set_index("ltla24_code")[["ltla24_name", "pfa24_code", "pfa24_name"]]
    )


@lru_cache(maxsize=1)
def _lsoa11_summary() -> pd.DataFrame:
    """Per 2011 LSOA: how many 2021 LSOAs (n), the first one, and the change code."""
    return (
        lsoa11_to_lsoa21()
        .groupby("lsoa11_code")
        .agg(n=("lsoa21_code", "nunique"), first=("lsoa21_code", "first"), change=("change_code", "first"))
    )


@lru_cache(maxsize=1)
def _lsoa21_district() -> pd.Series:
    return lsoa_ward_lookup().set_index("lsoa21_code")["ltla24_code"]


def resolve_reported_lsoa(codes) -> pd.DataFrame:
    """Resolve reported LSOA codes (2011 or 2021) to one 2021 LSOA each, or say why not.

    Parameters
    ----------
    codes
        LSOA codes as police.uk reports them (2011 codes before 2023, 2021 codes after).

    Returns
    -------
    One row per distinct non-blank code (index ``code``) with ``lsoa21_code`` (None when it
    cannot be resolved), ``vintage`` (``2021``, ``2011`` or None), ``change`` (the ONS change
    code of a 2011 code: U, M, S or X), ``reason`` (None when resolved; else ``kind: detail``)
    and ``district_code`` (2024; for an unresolved 2011 code, that of its first 2021 LSOA).

    Notes
    -----
    A code that is a 2021 LSOA is taken as one: every 2011 code still in use in 2021 is an
    unchanged LSOA (change code U), so the code alone tells the vintage. A 2011 code maps
    through the ONS 2011 → 2021 lookup: unchanged (U) and merged (M) LSOAs have one 2021 LSOA;
    a split (S) or an irregular change (X) does not say which 2021 LSOA the place is in.
    """
    uniq = pd.Index(pd.Series(codes, dtype=object).dropna().astype(str).str.strip().unique(), name="code")
    uniq = uniq[uniq != ""]
    out = pd.DataFrame(index=uniq, columns=["lsoa21_code", "vintage", "change", "reason"], dtype=object)
    is21 = _lsoa21_district().index.get_indexer(uniq) >= 0
    out.loc[is21, "lsoa21_code"] = uniq[is21]
    out.loc[is21, "vintage"] = "2021"
    rest = uniq[~is21]
    g = _lsoa11_summary().reindex(rest)
    known = g["n"].notna().to_numpy()
    out.loc[rest[known], "vintage"] = "2011"
    out.loc[rest, "change"] = g["change"].to_numpy()
    unique = known & (g["change"] != "X").to_numpy() & (g["n"] == 1).to_numpy()
    out.loc[rest[unique], "lsoa21_code"] = g["first"].to_numpy()[unique]
    n_children = g["n"].fillna(0).astype(int).astype(str).to_numpy()
    reason = np.select(
        [~known, (g["change"] == "X").to_numpy(), known & ~unique],
        [
            "not a 2011 or 2021 LSOA code: " + rest,
            "2011 LSOA changed irregularly in 2021, ambiguous (ONS change X): " + rest,
            "2011 LSOA split in 2021, ambiguous (ONS change S): " + rest + " → " + n_children + " 2021 LSOAs",
        ],
        default=None,
    )
    out.loc[rest, "reason"] = reason
    # the district holds every 2021 LSOA a 2011 code went to, except after an X change
    child = pd.Series(g["first"].to_numpy(), index=rest).where(known)
    district = _lsoa21_district()
    out["district_code"] = district.reindex(out["lsoa21_code"].fillna(child.reindex(out.index))).to_numpy()
    out = out.astype(object).where(out.notna(), None)
    return out


def ward_to_ced() -> pd.DataFrame:
    """Ward (May 2019) → county electoral division (May 2019), with names.

    Columns: ward_code, ward_name, district_code, county_code, county_name, ced_code, ced_name.
    """
    df = pd.read_csv(LOOKUP_CED, dtype=str)
    return df.rename(
        columns={
            "WD19CD": "ward_code",
            "WD19NM": "ward_name",
            "LAD19CD": "district_code",
            "CTY19CD": "county_code",
            "CTY19NM": "county_name",
            "CED19CD": "ced_code",
            "CED19NM": "ced_name",
        }
    )[["ward_code", "ward_name", "district_code", "county_code", "county_name", "ced_code", "ced_name"]]
