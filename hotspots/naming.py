"""Plain, stable names for hotspot places, built from the police.uk location names.

A place's name reads like "Upper Huntbach Street & Bus/Coach Station, Hanley (Hanley Park,
Joiner's Square & Shelton)": its main streets or landmarks, then the town and, in brackets, the
ward that holds most of its incidents.

* **Streets and landmarks.** The location names of the place's incidents ("On or near …" taken
  off, capitals fixed: "St Martin'S Place" → "St Martin's Place"), the busiest first; the second
  is added when it holds at least :data:`SECOND_NAME_SHARE` of the first's incidents.
* **Generic names.** police.uk names some map points by what is there, not by a street
  (:data:`GENERIC_NAMES`: "Supermarket", "Parking Area", "Petrol Station", …). When every name
  chosen is generic, the name is qualified by the nearest map point with a street name:
  "Supermarket near Queen Street".
* **Town.** Named from the ward names, the only place names the shipped geography has (LSOA names
  carry the district, as "Stoke-on-Trent 012A"): a *town* is the first word or two of a ward-name
  part ("Hanley Park" → "Hanley") that starts parts of at least two ward names of the same
  district ("Hanley Park, …" and "Etruria & Hanley"); directions and common words ("North",
  "Park", "Great" …) alone never make one. The shipped Dec 2022 wards and the 2019 county
  electoral divisions add evidence (:func:`ward_towns`, ``older`` and ``divisions``): "Broadway
  and Longton East" and "Hollybush and Longton West" make Longton a town, the "Kidsgrove" and
  "Burton Town" divisions Kidsgrove and Burton — never for a ward's whole name. A ward with no
  such town gets its district's name.
* **Unique.** Two places of one list with the same name get the 100 m Ordnance Survey grid
  reference of their busiest map point added ("… · SJ 884 475"), which does not change when the
  filter does.

Everything is computed from integer codes (category codes of the names, factorized location
ids, counted with one hash pass, :func:`hotspots.coded.count_pairs`), so naming a list costs a
few tens of milliseconds at a million incidents; :meth:`Namer.name_rows` reads the codes of the
shared frame without copying its rows.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots._errors import InputError
from hotspots.coded import PlaceRows, count_pairs

#: police.uk's names for map points that are a kind of place rather than a street.
GENERIC_NAMES = frozenset(
    {
        "Airport/Airfield",
        "Bus/Coach Station",
        "Conference/Exhibition Centre",
        "Further/Higher Educational Building",
        "Hospital",
        "Hotel/Motel",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Pedestrian Subway",
        "Petrol Station",
        "Police Station",
        "Prison",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
        "Theatre/Concert Hall",
        "Train Station",
    }
)
#: A second street or landmark is named when it holds at least this share of the first's
#: incidents (below it, the place is about the first).
SECOND_NAME_SHARE = 0.25
#: Words that never make a town on their own (see the module notes).
NOT_A_TOWN = frozenset(
    {
        "North",
        "South",
        "East",
        "West",
        "Central",
        "Great",
        "Little",
        "Upper",
        "Lower",
        "Old",
        "New",
        "The",
        "St",
        "Town",
        "Park",
        "Heath",
        "Green",
        "Hill",
        "Moor",
        "Valley",
        "Village",
        "Rural",
        "Common",
    }
)
#: The naming rule in one sentence (reported in a hotspot list's ``params``).
NAMING_RULE = (
    "main streets or landmarks of the place's incidents (police.uk location names, cleaned; a second "
    f"when it holds at least {SECOND_NAME_SHARE:.0%} of the first's incidents; generic names such as "
    "'Supermarket' qualified by the nearest named street), then the town (from the ward names, older ward "
    "names and county division names, else the district) and the ward holding most incidents; duplicates "
    "get their 100 m grid reference"
)
_CACHE: list[tuple[Any, Any, int, Namer]] = []
_PREFIX = re.compile(r"^\s*on or near\s+", re.IGNORECASE)
_APOSTROPHE_S = re.compile(r"(?<=[A-Za-z])['’]S\b")
_PARTS = re.compile(r"\s*(?:,|&|\band\b|\bwith\b)\s*")


def clean_location_name(name: Any) -> str | None:
    """A police.uk location name as people say it.

    ``"On or near St Martin'S Place"`` → ``"St Martin's Place"``. Returns None for a missing
    name, ``"No Location"`` or an empty string.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    text = _PREFIX.sub("", str(name)).strip()
    if not text or text.lower() == "no location":
        return None
    text = _APOSTROPHE_S.sub("'s", text)
    return re.sub(r"\s+", " ", text)


def is_generic(name: str | None) -> bool:
    """True when a cleaned location name is one of police.uk's :data:`GENERIC_NAMES`."""
    return name in GENERIC_NAMES


def grid_reference(x: float, y: float) -> str:
    """The Ordnance Survey grid reference of a BNG point to 100 m: ``"SJ 884 475"``.

    Raises
    ------
    InputError
        If the point is outside the National Grid (0–700 km east, 0–1,300 km north).
    """
    if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < 700_000 and 0 <= y < 1_300_000):
        raise InputError(
            f"a grid reference needs a point in British National Grid metres "
            f"(0–700 km east, 0–1,300 km north); got ({x}, {y})"
        )
    e, n = int(x // 100_000), int(y // 100_000)
    l1 = (19 - n) - (19 - n) % 5 + (e + 10) // 5
    l2 = (19 - n) * 5 % 25 + e % 5
    letters = "".join(chr(ord("A") + v + (v > 7)) for v in (l1, l2))
    return f"{letters} {int(x % 100_000) // 100:03d} {int(y % 100_000) // 100:03d}"


#: Words after a town in a county division's name ("Burton Town", "Leek North", "Lichfield City
#: North", "Newcastle Rural"): the division is named after that town.
DIVISION_QUALIFIERS = frozenset(
    {"North", "South", "East", "West", "Central", "Town", "Centre", "City", "Rural", "Urban"}
)


def _candidates(name: str) -> list[list[str]]:
    """The town candidates of each part of an area name: its first two words and its first word."""
    out = []
    for part in (p for p in _PARTS.split(str(name)) if p):
        words = part.split()
        mine = [" ".join(words[:k]) for k in (2, 1) if len(words) >= k]
        out.append([m for m in mine if not (" " not in m and m in NOT_A_TOWN)])
    return out


def _starts(names: pd.DataFrame, key: str) -> dict[tuple[str, str], int]:
    """How many distinct area names of each ``key`` (district) each candidate starts a part of."""
    counts: dict[tuple[str, str], int] = {}
    for name, group in names[["name", key]].drop_duplicates().itertuples(index=False):
        for cand in {c for part in _candidates(name) for c in part}:
            counts[(str(group), cand)] = counts.get((str(group), cand), 0) + 1
    return counts


def _division_towns(divisions: pd.DataFrame) -> set[tuple[str, str]]:
    """``(district_code, town)`` of county divisions named after one town ("Kidsgrove ED", "Burton Town ED")."""
    out = set()
    for name, district in divisions[["division_name", "district_code"]].itertuples(index=False):
        text = re.sub(r"\s+ED$", "", str(name)).strip()
        if len([p for p in _PARTS.split(text) if p]) != 1:
            continue  # "Bradwell, Porthill and Wolstanton": neighbourhoods, not a town
        words = text.split()
        while len(words) > 1 and words[-1] in DIVISION_QUALIFIERS:
            words = words[:-1]
        if 1 <= len(words) <= 2 and not (len(words) == 1 and words[0] in NOT_A_TOWN):
            out.add((str(district), " ".join(words)))
    return out


def ward_towns(
    wards: pd.DataFrame, *, older: pd.DataFrame | None = None, divisions: pd.DataFrame | None = None
) -> pd.Series:
    """The town of each ward, from the ward names (rule in the module notes).

    Parameters
    ----------
    wards
        One row per ward with ``ward_code``, ``ward_name`` and ``district_name`` (for example
        ``geography.lsoas`` — duplicates are dropped); ``district_code`` too for ``older`` and
        ``divisions``.
    older
        Ward names of an earlier vintage (``ward_name``, ``district_code``; for example
        :func:`boundaries.wards_2022`), whose names also show which words are towns: "Broadway and
        Longton East" and "Hollybush and Longton West" make Longton one. None: not used.
    divisions
        County electoral divisions (``division_name``, ``district_code``; for example
        :func:`boundaries.ward_to_ced` renamed): one named after a town alone or with a direction
        ("Kidsgrove ED", "Burton Town ED", "Leek North ED") makes that word a town. None: not used.

    Returns
    -------
    pandas.Series
        Town name indexed by ward code: the town found in the ward's name (its first part
        first; of two candidates in one part, the one starting more ward names: "Meir" rather
        than "Meir Hay"), else the district's name.

    Raises
    ------
    InputError
        If a column is missing.

    Notes
    -----
    A candidate (the first word or two of a part of the ward's name, common words alone never)
    is a town when it starts parts of at least two ward names of the district; or, through
    ``older`` or ``divisions``, when it starts parts of two older ward names of the district or
    names a county division of it — but those two never make a ward's whole name its town
    ("Blurton", "Codsall" keep their district: a ward named after a suburb or a village is no
    town of its own).
    """
    missing = [c for c in ("ward_code", "ward_name", "district_name") if c not in wards.columns]
    extra = older is not None or divisions is not None
    if extra and "district_code" not in wards.columns:
        missing.append("district_code")
    if missing:
        raise InputError(
            f"`wards` lacks the column(s) {', '.join(missing)}; pass geography.lsoas "
            "(one row per LSOA with its ward and district)"
        )
    for frame, name, cols in (
        (older, "older", ("ward_name", "district_code")),
        (divisions, "divisions", ("division_name", "district_code")),
    ):
        lacking = [] if frame is None else [c for c in cols if c not in frame.columns]
        if lacking:
            raise InputError(f"`{name}` lacks the column(s) {', '.join(lacking)}; it needs {', '.join(cols)}")
    cols = ["ward_code", "ward_name", "district_name"] + (["district_code"] if extra else [])
    table = wards.drop_duplicates("ward_code")[cols]
    counts = _starts(table.rename(columns={"ward_name": "name"}), "district_name")
    old_counts = (
        _starts(older.rename(columns={"ward_name": "name"}), "district_code") if older is not None else {}
    )
    division = _division_towns(divisions) if divisions is not None else set()
    out = {}
    for row in table.itertuples(index=False):
        code, name, district = row.ward_code, str(row.ward_name), str(row.district_name)
        dcode = str(getattr(row, "district_code", ""))
        town = district
        for part in _candidates(name):
            found = []
            for c in part:
                n = counts.get((district, c), 0)
                if c != name:
                    n = max(n, old_counts.get((dcode, c), 0), 2 if (dcode, c) in division else 0)
                found.append((n, len(c), c))
            found = [f for f in found if f[0] >= 2]
            if found:
                town = max(found)[2]
                break
        out[code] = town
    return pd.Series(out, name="town", dtype=object)


def town_sources(geography: Any) -> dict[str, pd.DataFrame]:
    """``older`` and ``divisions`` for :func:`ward_towns` from the shipped ONS files, for the geography's districts.

    The Dec 2022 wards of Staffordshire and Stoke-on-Trent (before the 2023 reviews) and the May
    2019 ward → county electoral division lookup (England), kept to the districts of
    ``geography``; empty frames when a file cannot be read.
    """
    import boundaries

    districts = set(geography.lsoas["district_code"].dropna().astype(str))
    try:
        older = pd.DataFrame(boundaries.wards_2022()[["ward_name", "district_code"]])
    except OSError:  # a missing optional file only loses this hint
        older = pd.DataFrame(columns=["ward_name", "district_code"])
    try:
        ced = boundaries.ward_to_ced().rename(columns={"ced_name": "division_name"})
        divisions = ced.drop_duplicates("ced_code")[["division_name", "district_code"]]
    except OSError:
        divisions = pd.DataFrame(columns=["division_name", "district_code"])
    return {
        "older": older[older["district_code"].astype(str).isin(districts)],
        "divisions": divisions[divisions["district_code"].astype(str).isin(districts)],
    }


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and the unique values of a column (categorical or not)."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(dtype=np.int64), np.asarray(s.cat.categories, dtype=object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _location_codes(df: pd.DataFrame) -> np.ndarray:
    from hotspots.kde import location_key

    if "location_id" in df.columns:
        ids = df["location_id"].to_numpy()
        if len(ids) and np.all(ids >= 0):
            return ids.astype(np.int64)
    return location_key(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float))


class Namer:
    """Names places from one incident frame (its streets, landmarks and wards).

    Build it once per incident frame (it indexes the named map points for the "near" streets)
    and call :meth:`name` for each list.

    Parameters
    ----------
    incidents
        Located incidents (``x``, ``y``, ``location_name`` and ``location_id`` when present).
        The map points with a street name among them are the candidates for "near …".
    geography
        The :class:`boundaries.Geography` (ward and district names).
    """

    def __init__(self, incidents: pd.DataFrame, *, geography: Any):
        self.ward_names = (
            geography.lsoas.drop_duplicates("ward_code").set_index("ward_code")["ward_name"].to_dict()
        )
        lsoas = geography.lsoas
        sources = town_sources(geography) if "district_code" in lsoas.columns else {}
        self.towns = ward_towns(lsoas, **sources).to_dict()
        name_codes, raw = (
            _codes(incidents["location_name"])
            if "location_name" in incidents
            else (
                np.full(len(incidents), -1, dtype=np.int64),
                np.empty(0, dtype=object),
            )
        )
        cleaned = [clean_location_name(v) for v in raw]
        # one id per cleaned name (several raw names clean to one)
        clean_codes, self.names = pd.factorize(
            pd.Series(cleaned, dtype=object), sort=True, use_na_sentinel=True
        )
        self.names = np.asarray(self.names, dtype=object)
        self.raw_to_clean = np.append(clean_codes.astype(np.int64), -1)  # index -1 → missing
        self._raw = raw
        self.generic = np.array([is_generic(n) for n in self.names], dtype=bool)
        # named map points (street names only) for "near …"
        x = incidents["x"].to_numpy(dtype=float)
        y = incidents["y"].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        nid = self.raw_to_clean[name_codes]
        street = ok & (nid >= 0)
        street[street] = ~self.generic[nid[street]]
        key = _location_codes(incidents[street]) if street.any() else np.empty(0, dtype=np.int64)
        _, first = np.unique(key, return_index=True)
        self._street_xy = np.column_stack([x[street][first], y[street][first]])
        self._street_name = nid[street][first]
        self._tree = cKDTree(self._street_xy) if len(first) else None

    def nearest_street(self, x: float, y: float) -> str | None:
        """The street name of the named map point nearest to ``(x, y)``."""
        if self._tree is None:
            return None
        _, i = self._tree.query([x, y])
        return str(self.names[self._street_name[i]])

    def name(self, place: np.ndarray, incidents: pd.DataFrame) -> pd.Series:
        """Name the places of a list.

        Parameters
        ----------
        place
            Place id of each row of ``incidents`` (1, 2, …; 0 = in no place).
        incidents
            The incidents the places were counted from (same rows as ``place``).

        Returns
        -------
        pandas.Series
            The name of each place id that holds incidents, indexed by place id.
        """
        place = np.asarray(place, dtype=np.int64)
        inside = place > 0
        if not inside.any():
            return pd.Series(dtype=object)
        hot = incidents[inside]
        if "location_name" in hot:
            nid = self._map_names(_codes(hot["location_name"]))
        else:
            nid = np.full(len(hot), -1, dtype=np.int64)
        ward_codes, ward_u = (
            _codes(hot["ward_code"])
            if "ward_code" in hot
            else (np.full(len(hot), -1, dtype=np.int64), np.empty(0, dtype=object))
        )
        x, y = hot["x"].to_numpy(dtype=float), hot["y"].to_numpy(dtype=float)
        return self._from_rows(place[inside], nid, _location_codes(hot), ward_codes, ward_u, x, y)

    def name_rows(self, places: PlaceRows) -> pd.Series:
        """Name the places of a list from a coded frame (:mod:`hotspots.coded`), without copying rows.

        The same names as :meth:`name` on the frame's rows. When every map point lies in one place
        and has one location name and ward (police.uk data), the counts are summed over map points.

        Parameters
        ----------
        places
            The rows of the list's places and their place ids.

        Returns
        -------
        pandas.Series
            The name of each place id, indexed by place id.
        """
        if places.key.size == 0:
            return pd.Series(dtype=object)
        codes, rows = places.codes, places.rows
        raw, labels = codes.column("location_name")
        ward_codes, ward_u = codes.column("ward_code")
        x, y = codes.x[rows], codes.y[rows]
        raw_at = codes.per_location("location_name") if places.by_location is not None else None
        ward_at = codes.per_location("ward_code") if places.by_location is not None else None
        if raw_at is not None and ward_at is not None and codes.is_categorical("ward_code"):
            present, p, n, first = places.by_location
            nid = self._map_names((raw_at[present].astype(np.int64), labels))
            p_of, n_of, counts, _ = count_pairs(p, nid + 1, weights=n)
            generic = (nid >= 0) & self.generic[np.maximum(nid, 0)]
            w = ward_at[present].astype(np.int64)
            return self._name(
                (p_of, n_of - 1, counts.astype(np.int64)),
                _busiest_of(p, n, first),
                _busiest_of(p[generic], n[generic], first[generic]),
                _mode_per_key(p, w, places.n_places, weights=n),
                ward_u,
                x,
                y,
            )
        nid = self._map_names((raw[rows].astype(np.int64), labels))
        lid = codes.location_id()
        if lid is not None and np.all(lid[rows] >= 0):
            loc = lid[rows]
        else:
            from hotspots.kde import location_key

            loc = location_key(x, y)
        ward_codes = ward_codes[rows].astype(np.int64)
        if not codes.is_categorical("ward_code"):
            # a column that is not categorical is coded in order of first appearance, as in name()
            ok = ward_codes >= 0
            first_seen, order = pd.factorize(ward_codes[ok])
            ward_codes[ok] = first_seen
            ward_u = ward_u[np.asarray(order, dtype=np.int64)]
        return self._from_rows(places.key, nid, loc, ward_codes, ward_u, x, y)

    def _from_rows(
        self,
        key: np.ndarray,
        nid: np.ndarray,
        loc: np.ndarray,
        ward_codes: np.ndarray,
        ward_u: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
    ) -> pd.Series:
        """Names from per-row arrays: place id, clean name id, map point, ward code, coordinates."""
        p_of, n_of, counts, _ = count_pairs(key, nid + 1)
        # busiest map point of each place (for "near …" and the grid reference)
        linv = pd.factorize(loc)[0].astype(np.int64)
        gen_rows = np.flatnonzero((nid >= 0) & self.generic[np.maximum(nid, 0)])
        busiest_generic = {p: int(gen_rows[r]) for p, r in _busiest(key[gen_rows], linv[gen_rows]).items()}
        return self._name(
            (p_of, n_of - 1, counts),
            _busiest(key, linv),
            busiest_generic,
            _mode_per_key(key, ward_codes, int(key.max())),
            ward_u,
            x,
            y,
        )

    def _name(
        self,
        names_counted: tuple[np.ndarray, np.ndarray, np.ndarray],
        busiest: dict[int, int],
        busiest_generic: dict[int, int],
        main_ward: np.ndarray,
        ward_u: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
    ) -> pd.Series:
        """Names from the counts of (place, clean name id) pairs, the busiest map points and main wards.

        ``busiest`` and ``busiest_generic`` give, per place, the position (in ``x``, ``y``) of an
        incident at its busiest map point and at its busiest map point with a generic name.
        """
        p_of, n_of, counts = names_counted
        order = np.lexsort((n_of, -counts, p_of))
        p_of, n_of, counts = p_of[order], n_of[order], counts[order]
        n_places = len(main_ward) - 1
        out: dict[int, str] = {}
        start = np.searchsorted(p_of, np.arange(1, n_places + 2))
        n_of_l, counts_l = n_of.tolist(), counts.tolist()
        for pid in range(1, n_places + 1):
            a, b = start[pid - 1], start[pid]
            if a == b:
                continue
            names = [(n, c) for n, c in zip(n_of_l[a:b], counts_l[a:b], strict=True) if n >= 0]
            chosen = names[:1]
            if len(names) > 1 and names[1][1] >= SECOND_NAME_SHARE * names[0][1]:
                chosen.append(names[1])
            text = " & ".join(str(self.names[n]) for n, _ in chosen)
            bi = busiest[pid]
            if chosen and all(self.generic[n] for n, _ in chosen):
                gi = busiest_generic.get(pid, bi)
                street = self.nearest_street(float(x[gi]), float(y[gi]))
                if street:
                    text += f" near {street}"
            if not text:
                text = "Unnamed map points"
            w = main_ward[pid]
            ward_code = ward_u[w] if w >= 0 else None
            if ward_code is not None:
                ward = self.ward_names.get(ward_code, str(ward_code))
                town = self.towns.get(ward_code)
                text += f", {town} ({ward})" if town and town != ward else f", {ward}"
            out[pid] = text
        names = pd.Series(out, dtype=object)
        dup = names.duplicated(keep=False)
        for pid in names.index[dup]:
            bi = busiest[pid]
            names[pid] = f"{names[pid]} · {grid_reference(x[bi], y[bi])}"
        still = names.duplicated(keep="first")
        for k, pid in enumerate(names.index[still], start=2):
            names[pid] = f"{names[pid]} ({k})"
        return names

    def _map_names(self, raw: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        codes, uniques = raw
        if len(uniques) == len(self._raw) and (uniques is self._raw or np.array_equal(uniques, self._raw)):
            return self.raw_to_clean[codes]  # the same categories as the frame the namer was built on
        lookup = pd.Index(self.names)
        cleaned = [clean_location_name(v) for v in uniques]
        pos = lookup.get_indexer(pd.Index(cleaned, dtype=object))
        # names not seen when the namer was built (another frame): not indexed, left unnamed
        return np.append(pos.astype(np.int64), -1)[codes]


def _busiest(key: np.ndarray, loc_inv: np.ndarray) -> dict[int, int]:
    """Row index (into the hot rows) of each place's busiest map point (ties: the first seen)."""
    if loc_inv.size == 0:
        return {}
    p, loc, counts, first = count_pairs(key, loc_inv, first=True)
    order = np.lexsort((loc, -counts, p))
    p, first = p[order], first[order]
    keep = np.r_[True, p[1:] != p[:-1]]
    return dict(zip(p[keep].tolist(), first[keep].tolist(), strict=True))


def _busiest_of(place: np.ndarray, n: np.ndarray, first: np.ndarray) -> dict[int, int]:
    """Per place, ``first`` of its map point with the most incidents ``n`` (ties: the smallest ``first``)."""
    order = np.lexsort((first, -n, place))
    p, f = place[order], first[order]
    keep = np.r_[True, p[1:] != p[:-1]] if p.size else np.empty(0, dtype=bool)
    return dict(zip(p[keep].tolist(), f[keep].tolist(), strict=True))


def _mode_per_key(
    key: np.ndarray, codes: np.ndarray, n_keys: int, *, weights: np.ndarray | None = None
) -> np.ndarray:
    """The most common code per key, or the one with most ``weights`` (ties: the smallest code; -1 when none)."""
    out = np.full(n_keys + 1, -1, dtype=np.int64)
    ok = codes >= 0
    if not ok.any():
        return out
    p, c, counts, _ = count_pairs(key[ok], codes[ok], weights=None if weights is None else weights[ok])
    order = np.lexsort((c, -counts, p))
    p, c = p[order], c[order]
    keep = np.r_[True, p[1:] != p[:-1]]
    out[p[keep]] = c[keep]
    return out


def namer_for(incidents: pd.DataFrame, geography: Any) -> Namer:
    """A :class:`Namer` over the located ``incidents``, reused while the same frame is passed.

    The frame is recognised by identity (the store hands out one shared frame per version), so a
    filter change does not rebuild the index of named map points.
    """
    for ref, geo, n, namer in _CACHE:
        if ref() is incidents and geo is geography and n == len(incidents):
            return namer
    located = incidents[np.isfinite(incidents["x"].to_numpy(dtype=float))]
    namer = Namer(located, geography=geography)
    try:
        ref = weakref.ref(incidents)
    except TypeError:  # pragma: no cover - DataFrames support weak references
        return namer
    _CACHE.insert(0, (ref, geography, len(incidents), namer))
    del _CACHE[2:]
    return namer


def name_places(
    place: np.ndarray, incidents: pd.DataFrame, *, geography: Any, streets: pd.DataFrame | None = None
) -> pd.Series:
    """Name the places of a list (see the module notes for the rule; ties between names go alphabetically).

    Parameters
    ----------
    place
        Place id of each row of ``incidents`` (1, 2, …; 0 = in no place).
    incidents
        The incidents the places were counted from (``x``, ``y``, ``location_name``,
        ``ward_code``; ``location_id`` when present).
    geography
        The :class:`boundaries.Geography` (ward and district names).
    streets
        The incidents whose named map points may qualify a generic name ("near …"); None uses
        ``incidents`` (pass the unfiltered frame so that names do not change with the filter).

    Returns
    -------
    pandas.Series
        The name of each place that holds incidents, indexed by place id.

    Raises
    ------
    InputError
        If ``place`` and ``incidents`` differ in length.
    """
    place = np.asarray(place)
    if place.shape != (len(incidents),):
        raise InputError(
            f"`place` must hold one place id per row of `incidents` ({len(incidents)}); got shape {place.shape}"
        )
    return Namer(incidents if streets is None else streets, geography=geography).name(place, incidents)


__all__ = [
    "GENERIC_NAMES",
    "Namer",
    "clean_location_name",
    "grid_reference",
    "is_generic",
    "name_places",
    "namer_for",
    "town_sources",
    "ward_towns",
]
