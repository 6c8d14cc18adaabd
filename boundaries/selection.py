"""Choosing the study area: one or more partnerships, districts or police force areas.

Names are matched forgivingly (:func:`match_area`): case, punctuation, "&"/"and" and words
such as "Police" or "Constabulary" do not matter, and a start of a name is enough when only
one area starts that way ("Stoke" → Stoke-on-Trent). An unknown name gets the closest matches.

:func:`study_area` builds the :class:`~boundaries.geography.Geography` of a choice from the
shipped national LSOAs, reading only the chosen districts' LSOAs. The default study area is
Staffordshire's eight districts and Stoke-on-Trent (:func:`default_geography`), drawn from the
shipped Staffordshire LSOA file; a choice inside those nine districts uses the same file, so
``--force Staffordshire`` is exactly the default.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

import geopandas as gpd
import pandas as pd

from boundaries.geography import Geography, lsoa_layer, national_lsoas
from boundaries.lookups import BNG, DATA, csp_lookup
from hotspots._errors import InputError

#: Kinds of area a study area is chosen from, with their lookup columns and a label.
KINDS: dict[str, tuple[str, str, str]] = {
    "csp": ("csp24_code", "csp24_name", "community safety partnership"),
    "district": ("ltla24_code", "ltla24_name", "district"),
    "force": ("pfa24_code", "pfa24_name", "police force area"),
}
#: Words that do not tell areas apart ("Cheshire Constabulary" is the force area Cheshire).
_NOISE = {"police", "constabulary", "service", "force", "area", "community", "safety", "partnership", "csp"}

LSOA_FILE = DATA / "lsoa21_staffs_stoke_with_ward24.geojson"
DEFAULT_NAME = "Staffordshire and Stoke-on-Trent"
#: The default study area's districts: Stoke-on-Trent and Staffordshire's eight (those of LSOA_FILE).
DEFAULT_DISTRICTS = frozenset({"E06000021", *(f"E07000{n}" for n in range(192, 200))})


def _norm(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", str(text).lower().replace("&", " and ")).split()
    return " ".join(w for w in words if w not in _NOISE)


@lru_cache(maxsize=3)
def areas_of_kind(kind: str) -> pd.DataFrame:
    """Every area of ``kind`` (``csp``, ``district``, ``force``): code, name, districts (list).

    Raises
    ------
    InputError
        If ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise InputError(f"`kind` must be one of {', '.join(KINDS)}; got {kind!r}")
    code, name, _ = KINDS[kind]
    look = csp_lookup()
    groups = look.groupby([code, name], sort=False)["ltla24_code"]
    out = groups.agg(lambda s: sorted(set(s))).rename("districts").reset_index()
    out.columns = ["code", "name", "districts"]
    return out.sort_values("name", ignore_index=True)


def match_area(query: str, *, kind: str) -> tuple[str, str]:
    """The one area of ``kind`` a user means by ``query`` (a name or a code).

    Parameters
    ----------
    query
        A code (``E22000211``) or a name, matched forgivingly: "cheshire east", "Stoke",
        "Cheshire Constabulary", "devon & cornwall".
    kind
        ``csp``, ``district`` or ``force``.

    Returns
    -------
    (code, name) of the area.

    Raises
    ------
    InputError
        If no area matches (the message lists the closest names) or several do (it lists them).

    Notes
    -----
    In order, the first rule that gives an answer wins: the code; the whole name; names that
    start with the query; names in which every word of the query starts a word. Several areas
    matching one rule is an error (never a guess).
    """
    table = areas_of_kind(kind)
    label = KINDS[kind][2]
    q = str(query).strip()
    by_code = table[table["code"].str.upper() == q.upper()]
    if len(by_code):
        return by_code["code"].iloc[0], by_code["name"].iloc[0]
    qn = _norm(q)
    norms = table["name"].map(_norm)
    qwords = qn.split()
    rules = [
        norms == qn,
        norms.str.startswith(qn) if qn else norms != norms,
        norms.map(lambda n: bool(qwords) and all(any(w.startswith(x) for w in n.split()) for x in qwords)),
    ]
    for hit in rules:
        found = table[hit.to_numpy()]
        if len(found) == 1:
            return found["code"].iloc[0], found["name"].iloc[0]
        if len(found) > 1:
            listed = "; ".join(f"{n} ({c})" for c, n in zip(found["code"], found["name"], strict=True))
            raise InputError(
                f"`{kind}` {q!r} matches {len(found)} areas ({label}): {listed}; give more of the name or the code"
            )
    close = difflib.get_close_matches(qn, norms.tolist(), n=4, cutoff=0.5)
    names = [table["name"].iloc[norms.tolist().index(c)] for c in close]
    hint = f"closest: {', '.join(names)}" if names else f"list them with `hotspots boundaries --list {kind}`"
    raise InputError(f"`{kind}` {q!r}: no {label} of that name in England and Wales; {hint}")


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def choose(
    *,
    csp: str | Iterable[str] | None = None,
    force: str | Iterable[str] | None = None,
    district: str | Iterable[str] | None = None,
) -> tuple[list[str], str]:
    """The 2024 districts and a label for a choice of partnerships, forces and districts.

    Raises
    ------
    InputError
        If nothing is chosen, or a name does not match exactly one area (see :func:`match_area`).
    """
    picked: list[tuple[str, str, str]] = []
    for kind, values in (("csp", csp), ("force", force), ("district", district)):
        for v in _as_list(values):
            code, name = match_area(v, kind=kind)
            picked.append((kind, code, name))
    if not picked:
        raise InputError("choose at least one `csp`, `force` or `district` (a name or a code)")
    districts: list[str] = []
    labels: list[str] = []
    for kind, code, name in picked:
        row = areas_of_kind(kind).set_index("code").loc[code]
        districts += [d for d in row["districts"] if d not in districts]
        label = f"{name} (police force area)" if kind == "force" else name
        if label not in labels:
            labels.append(label)
    return districts, " + ".join(labels)


@lru_cache(maxsize=1)
def _default_lsoas() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(LSOA_FILE, engine="pyogrio").to_crs(BNG)
    return lsoa_layer(gdf, "LSOA21CD")


def default_geography() -> Geography:
    """The shipped geography: Staffordshire's eight districts and Stoke-on-Trent."""
    return Geography(lsoas=_default_lsoas().copy(), name=DEFAULT_NAME)


def study_area(
    *,
    csp: str | Iterable[str] | None = None,
    force: str | Iterable[str] | None = None,
    district: str | Iterable[str] | None = None,
) -> Geography:
    """The geography of one or more partnerships, police force areas or districts.

    Parameters
    ----------
    csp, force, district
        Names or codes (one, or a list), matched by :func:`match_area`; the study area is the
        union of their districts (a violence reduction unit or a commissioner's force area:
        several partnerships at once).

    Returns
    -------
    Every 2021 LSOA of the chosen districts with its exact ONS outline, best-fit May 2024 ward,
    2024 district and Census 2021 residents; named after the choice.

    Raises
    ------
    InputError
        If nothing is chosen or a name does not match exactly one area.

    Notes
    -----
    Only the chosen districts' LSOAs are read from the national file (about 0.2 s for a
    force); nothing national stays in memory. A choice within Staffordshire and
    Stoke-on-Trent uses the shipped Staffordshire LSOAs, as the default does.
    """
    districts, name = choose(csp=csp, force=force, district=district)
    if set(districts) <= DEFAULT_DISTRICTS:
        default = _default_lsoas()
        lsoas = default[default["district_code"].isin(districts)].reset_index(drop=True).copy()
    else:
        lsoas = national_lsoas(districts)
    return Geography(lsoas=lsoas, name=name)


def force_of(falls_within: str) -> tuple[str, str] | None:
    """The police force area a police.uk ``Falls within`` value names, or None.

    "Cheshire Constabulary" → ("E23000006", "Cheshire"); "British Transport Police" and
    "Police Service of Northern Ireland" (no force area of England and Wales) → None.
    """
    try:
        return match_area(falls_within, kind="force")
    except InputError:
        return None
