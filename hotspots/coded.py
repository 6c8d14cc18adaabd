"""Integer-coded columns of an incident frame, built once per frame and reused by every filter.

A filter change on the dashboard selects rows of one shared frame of about a million incidents.
Copying those rows (``Filter.apply``) and grouping them by text costs seconds; the hotspot
list needs neither. :func:`codes_for` returns, for a frame, its coordinates, its months coded
as integers (the distinct months sorted), its text columns as integer codes with their labels,
its map points as integer codes and each incident's grid cell per grid: built on first use and
cached while the same frame is passed (recognised by identity, as the store hands out one
frame per version). A filter is then a boolean mask, and every per-place figure a
``np.bincount`` or a hash of integer pairs over the selected rows.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import pandas as pd

from hotspots.grid import Grid

_UNSET = object()
#: Frames whose codes are kept (the store hands out one frame per version; two cover a reload).
_CACHE_SIZE = 2
#: The dashboard serves sessions from threads: the caches here are filled under this lock.
_LOCK = threading.RLock()
_CACHE: list[tuple[Any, tuple, IncidentCodes]] = []


class IncidentCodes:
    """The coded columns of one incident frame (read-only; do not modify the arrays).

    Attributes
    ----------
    n
        Number of rows.
    x, y
        BNG coordinates (float arrays, NaN for no location).
    located
        True where both coordinates are finite.
    month
        Each row's month as ``datetime64`` (as in the frame).
    month_code
        Position of each row's month in :attr:`month_values` (-1 for a missing month).
    month_values
        The distinct months, sorted (``datetime64``).
    """

    def __init__(self, incidents: pd.DataFrame):
        self.n = len(incidents)
        self.x = incidents["x"].to_numpy(dtype=float)
        self.y = incidents["y"].to_numpy(dtype=float)
        self.located = np.isfinite(self.x) & np.isfinite(self.y)
        month = incidents["month"]
        if not pd.api.types.is_datetime64_any_dtype(month.dtype):
            month = pd.to_datetime(month)
        self.month = month.to_numpy()
        codes, values = pd.factorize(self.month, sort=True, use_na_sentinel=True)
        self.month_code = codes.astype(np.int32)
        self.month_values = np.asarray(values, dtype=self.month.dtype)
        self._frame = weakref.ref(incidents)
        self._columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cells: dict[tuple, np.ndarray] = {}
        self._location_id: np.ndarray | None = None
        self._per_location: dict[str, np.ndarray | None] = {}
        self._locations: Any = _UNSET
        self._categorical = {
            c for c in incidents.columns if isinstance(incidents[c].dtype, pd.CategoricalDtype)
        }

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, labels)`` of a text column: int32 codes (-1 = missing) and the labels.

        A categorical column gives its category codes and categories; another is factorized
        once. A column the frame lacks is all missing.
        """
        with _LOCK:
            if name not in self._columns:
                frame = self._frame()
                if frame is None or name not in frame.columns:
                    out = (np.full(self.n, -1, dtype=np.int32), np.empty(0, dtype=object))
                else:
                    s = frame[name]
                    if isinstance(s.dtype, pd.CategoricalDtype):
                        out = (
                            s.cat.codes.to_numpy().astype(np.int32),
                            np.asarray(s.cat.categories, dtype=object),
                        )
                    else:
                        c, u = pd.factorize(s, use_na_sentinel=True)
                        out = (c.astype(np.int32), np.asarray(u, dtype=object))
                self._columns[name] = out
            return self._columns[name]

    def is_categorical(self, name: str) -> bool:
        """True when the frame's column ``name`` is categorical (its codes follow the sorted categories)."""
        return name in self._categorical

    def location_id(self) -> np.ndarray | None:
        """The frame's ``location_id`` (int64), or None when it has none."""
        if self._location_id is None:
            frame = self._frame()
            if frame is None or "location_id" not in frame.columns:
                return None
            self._location_id = frame["location_id"].to_numpy().astype(np.int64)
        return self._location_id

    def locations(self) -> tuple[np.ndarray, int] | None:
        """Each row's map point as a code 0..n-1 (-1 for no location), and n; None when unusable.

        Map points are the ``location_id`` when every located row has one, else the
        coordinates to the millimetre when the frame has no ``location_id``; a frame where only
        some located rows have an id gives None (naming then groups rows as it always did).
        """
        with _LOCK:
            if self._locations is _UNSET:
                from hotspots.kde import location_key

                lid = self.location_id()
                ok = self.located
                if lid is not None and not np.all(lid[ok] >= 0):
                    self._locations = None
                else:
                    src = lid[ok] if lid is not None else location_key(self.x[ok], self.y[ok])
                    c, u = pd.factorize(src)
                    loc = np.full(self.n, -1, dtype=np.int32)
                    loc[ok] = c
                    self._locations = (loc, len(u))
            return self._locations

    def per_location(self, name: str) -> np.ndarray | None:
        """The code of column ``name`` at each map point, or None when a map point has several.

        police.uk gives every incident at a map point the same location name, ward and district;
        then per-place figures of those columns can be summed over map points, not rows.
        """
        with _LOCK:
            if name not in self._per_location:
                locs = self.locations()
                out = None
                if locs is not None:
                    loc, n_loc = locs
                    ok = loc >= 0
                    c = self.column(name)[0][ok]
                    at = np.full(n_loc, -1, dtype=np.int32)
                    at[loc[ok]] = c  # one of the values at each map point; then check they all agree
                    out = at if np.array_equal(at[loc[ok]], c) else None
                self._per_location[name] = out
            return self._per_location[name]

    def cells(self, grid: Grid) -> np.ndarray:
        """Each row's ``cell_id`` on ``grid`` (:meth:`Grid.flat_index`; -1 off the grid or no location)."""
        key = (grid.x0, grid.y0, grid.cell, grid.nx, grid.ny)
        with _LOCK:
            if key not in self._cells:
                if len(self._cells) >= 4:
                    self._cells.pop(next(iter(self._cells)))
                flat = grid.flat_index(self.x, self.y)
                self._cells[key] = flat.astype(np.int32) if grid.nx * grid.ny < 2**31 else flat
            return self._cells[key]

    def first_month(self) -> pd.Timestamp | None:
        """The earliest month of the frame (None when it has none)."""
        return pd.Timestamp(self.month_values[0]) if self.month_values.size else None

    def month_range(self, rows: np.ndarray) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Earliest and latest month of the rows selected by the boolean ``rows`` (None if none)."""
        codes = self.month_code[rows]
        codes = codes[codes >= 0]
        if codes.size == 0:
            return None
        return pd.Timestamp(self.month_values[codes.min()]), pd.Timestamp(self.month_values[codes.max()])


def codes_for(incidents: pd.DataFrame) -> IncidentCodes:
    """The :class:`IncidentCodes` of ``incidents``, reused while the same frame is passed.

    The frame is recognised by identity, length, columns and the memory its coded columns sit
    in (the store hands out one shared frame per version, not to be modified), so a filter
    change does not code it again while a column replaced or a row added is noticed.
    """
    sig = _signature(incidents)
    with _LOCK:
        for ref, n, codes in _CACHE:
            if ref() is incidents and n == sig:
                return codes
        codes = IncidentCodes(incidents)
        _CACHE.insert(0, (weakref.ref(incidents), sig, codes))
        del _CACHE[_CACHE_SIZE:]
        return codes


#: Largest table of (key, code) pairs counted densely with ``np.bincount`` (beyond it: hashing).
DENSE_PAIRS = 1 << 22


def _signature(incidents: pd.DataFrame) -> tuple:
    """Length, columns and the memory of the coded columns: a column replaced gives a new signature."""

    def where(col: str) -> int:
        if col not in incidents.columns:
            return 0
        s = incidents[col]
        arr = s.array.codes if isinstance(s.dtype, pd.CategoricalDtype) else s.to_numpy()
        return arr.__array_interface__["data"][0] if isinstance(arr, np.ndarray) else id(arr)

    cols = ("x", "y", "month", "location_id", "location_name", "category", "ward_code", "district_code")
    return (len(incidents), tuple(incidents.columns), *(where(c) for c in cols))


def count_pairs(
    key: np.ndarray, code: np.ndarray, *, first: bool = False, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Count the distinct ``(key, code)`` pairs of two non-negative integer arrays.

    Parameters
    ----------
    key, code
        Non-negative integers, one per row.
    first
        Also return where each pair first appears (then the pairs come in that order).
    weights
        Sum these per pair instead of counting rows.

    Returns
    -------
    tuple
        ``(keys, codes, counts, first)``: one entry per distinct pair, and the position of its
        first appearance (None unless asked for). Without ``first`` the order of the pairs is
        unspecified: sort them.

    Notes
    -----
    When the table of all pairs is small (at most :data:`DENSE_PAIRS` cells: categories, wards,
    months against a list's places) one ``np.bincount`` over it; otherwise one hash pass
    (``pandas.factorize`` on the pairs packed into int64) and a ``np.bincount`` over the
    distinct pairs. Both are linear in the rows, where ``np.unique`` sorts them.
    """
    key = np.asarray(key, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    if key.size == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e, e, (e if first else None)
    width = int(code.max()) + 1
    packed = key * width + code
    size = (int(key.max()) + 1) * width
    if not first and size <= DENSE_PAIRS:
        counts = np.bincount(packed, weights=weights, minlength=size)
        nz = np.flatnonzero(counts) if weights is None else np.unique(packed)
        return nz // width, nz % width, counts[nz], None
    fc, uniq = pd.factorize(packed)
    counts = np.bincount(fc, weights=weights, minlength=len(uniq))
    where = None
    if first:
        # codes are given in order of first appearance: a pair appears first where the running
        # maximum of the codes goes up
        run = np.maximum.accumulate(fc)
        where = np.flatnonzero(np.r_[True, run[1:] > run[:-1]])
    uniq = np.asarray(uniq, dtype=np.int64)
    return uniq // width, uniq % width, counts, where


class PlaceRows:
    """The incidents of a list's places: row positions in a coded frame and their place ids.

    When every map point among them lies in one place (always for places made of grid cells or
    of map points), per-place counts of the columns that are constant at a map point (location
    name, ward, district: :meth:`IncidentCodes.per_location`) are summed over the map points
    (about 14,000 on the county) instead of the rows (up to a million).

    Parameters
    ----------
    codes
        The frame's codes.
    rows
        Row positions of the incidents in a place, ascending.
    key
        Their place ids (1..n).
    """

    def __init__(self, codes: IncidentCodes, rows: np.ndarray, key: np.ndarray):
        self.codes = codes
        self.rows = rows
        self.key = np.asarray(key, dtype=np.int64)
        self.n_places = int(self.key.max()) if self.key.size else 0
        #: ``(map points, their place, their incidents, first row of each among rows)`` or None
        self.by_location: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        locs = codes.locations()
        if locs is not None and self.key.size:
            loc, n_loc = locs
            lr = loc[rows]
            place = np.zeros(n_loc, dtype=np.int64)
            place[lr] = self.key  # one of the places at each map point; then check they all agree
            if np.array_equal(place[lr], self.key):
                n = np.bincount(lr, minlength=n_loc)
                first = np.full(n_loc, lr.size, dtype=np.int64)
                np.minimum.at(first, lr, np.arange(lr.size))
                present = np.flatnonzero(n)
                self.by_location = (present, place[present], n[present], first[present])

    def pairs(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(place, code, incidents)`` for every pair of a place and a code of column ``name``."""
        at = self.codes.per_location(name) if self.by_location is not None else None
        if at is not None:
            present, place, n, _ = self.by_location
            c = at[present]
            ok = c >= 0
            p, c, w, _ = count_pairs(place[ok], c[ok], weights=n[ok])
            return p, c, w.astype(np.int64)
        c = self.codes.column(name)[0][self.rows]
        ok = c >= 0
        p, c, n, _ = count_pairs(self.key[ok], c[ok])
        return p, c, n


def top_labels(
    key: np.ndarray, code: np.ndarray, labels: np.ndarray, k: int, *, counts: bool = True
) -> pd.Series:
    """The ``k`` most common labels per key as text, ``"A (12); B (5)"``, from integer codes.

    The same text as :func:`hotspots.repeat.top_text` on the labels: codes below 0 and labels
    that are missing are ignored, labels that are equal count together, ties go alphabetically.

    Parameters
    ----------
    key
        Non-negative integer key per row (a place id).
    code
        Position of each row's label in ``labels`` (-1 = missing).
    labels
        The label of each code (None/NaN = missing; duplicates allowed).
    k
        Labels kept per key.
    counts
        Add each label's count in brackets.

    Returns
    -------
    pandas.Series
        Text per key that has at least one label, indexed by key (ascending).

    Notes
    -----
    The rows are counted once per (key, code) with :func:`count_pairs`; only the labels of the
    codes present are read, merged where equal and ranked alphabetically
    (:func:`top_labels_of_pairs`).
    """
    code = np.asarray(code, dtype=np.int64)
    ok = code >= 0
    key_of, code_of, n, _ = count_pairs(np.asarray(key)[ok], code[ok])
    return top_labels_of_pairs(key_of, code_of, n, labels, k, counts=counts)


def top_labels_of_pairs(
    key_of: np.ndarray, code_of: np.ndarray, n: np.ndarray, labels: np.ndarray, k: int, *, counts: bool = True
) -> pd.Series:
    """:func:`top_labels` from counted pairs: ``n`` rows of each (``key_of``, ``code_of``) pair."""
    if key_of.size == 0:
        return pd.Series(dtype=object)
    present, at = np.unique(code_of, return_inverse=True)
    merged, uniques = pd.factorize(pd.Series(np.asarray(labels, dtype=object)[present], dtype=object))
    lab = merged.astype(np.int64)[at]
    has = lab >= 0
    if not has.any():
        return pd.Series(dtype=object)
    key_of, lab, n = key_of[has], lab[has], n[has]
    if len(uniques) < (merged >= 0).sum():  # equal labels under several codes: count them together
        key_of, lab, n, _ = count_pairs(key_of, lab, weights=n)
        n = n.astype(np.int64)
    names = np.asarray([str(v) for v in uniques], dtype=object)
    by_name = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(names.size, dtype=np.int64)
    rank[by_name] = np.arange(names.size)
    rank_of = rank[lab]
    order = np.lexsort((rank_of, -n, key_of))
    key_of, rank_of, n = key_of[order], rank_of[order], n[order]
    start = np.r_[0, np.flatnonzero(np.diff(key_of)) + 1]
    pos = np.arange(key_of.size) - np.repeat(start, np.diff(np.r_[start, key_of.size]))
    keep = pos < k
    key_of, rank_of, n = key_of[keep], rank_of[keep], n[keep]
    text = names[by_name][rank_of].astype(str)
    if counts:
        text = np.char.add(np.char.add(np.char.add(text, " ("), n.astype(str)), ")")
    text = text.astype(object)
    bounds = np.r_[0, np.flatnonzero(np.diff(key_of)) + 1, key_of.size]
    joined = ["; ".join(text[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return pd.Series(joined, index=pd.Index(key_of[bounds[:-1]]), dtype=object)


__all__ = ["IncidentCodes", "PlaceRows", "codes_for", "count_pairs", "top_labels", "top_labels_of_pairs"]
