"""Hotspot places from grid cells: the top cells, grouped into places and outlined.

The grid methods (:mod:`hotspots.methods`) score every cell of a :class:`hotspots.grid.Grid`;
:func:`top_cells` keeps the highest, :func:`label_places` groups them into places (split at
their peaks by default), :func:`bound_places` splits places larger than
:data:`hotspots.grid.MAX_PLACE_KM2`, and :func:`cell_outlines` draws each place's outline from
its cells' edges. :func:`places_from_cells` does it all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from hotspots._errors import InputError
from hotspots._validate import BNG, check_choice, check_positive

if TYPE_CHECKING:
    from hotspots.grid import Grid


def top_cells(values: np.ndarray, mask: np.ndarray, share: float, *, name: str = "area_share") -> np.ndarray:
    """Select the highest-valued cells covering ``share`` of the cells in ``mask``.

    Parameters
    ----------
    values
        ``(ny, nx)`` score per cell (density, z-score, count…); NaN is never selected.
    mask
        ``(ny, nx)`` bool, the cells of the study area.
    share
        Share of the masked cells to select, in (0, 1]; the number of cells is rounded to
        the nearest whole cell, at least one.
    name
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` bool. Only cells with a positive value are selected, so fewer cells may
        be returned when few cells have any incidents. Ties are broken by cell order (stable).

    Raises
    ------
    InputError
        If ``share`` is not in (0, 1].
    """
    check_positive(share, name=name)
    if not 0 < float(share) <= 1:
        raise InputError(
            f"`{name}` must be a share of the area between 0 and 1, such as 0.01 for 1%; got {share!r}"
        )
    values = np.asarray(values, dtype=float)
    flat_mask = np.asarray(mask, dtype=bool).ravel()
    ids = np.flatnonzero(flat_mask)
    k = max(1, int(round(float(share) * ids.size)))
    v = np.nan_to_num(values.ravel()[ids], nan=-np.inf)
    # the k highest, ties to the first cells in order (as a stable sort would), without sorting
    if k < v.size:
        kth = np.partition(v, v.size - k)[v.size - k]
        above = np.flatnonzero(v > kth)
        pick = np.concatenate([above, np.flatnonzero(v == kth)[: k - above.size]])
    else:
        pick = np.arange(v.size)
    chosen = ids[pick][v[pick] > 0]
    out = np.zeros(values.size, dtype=bool)
    out[chosen] = True
    return out.reshape(values.shape)


#: How the selected cells are joined into places (see :func:`label_places`).
SPLIT_RULES = ("peaks", "edges", "touching")
#: The default rule: one place per peak of the cell score.
DEFAULT_SPLIT = "peaks"
#: With ``split="peaks"``, a place keeps the cells scoring at least this share of its peak (the
#: peak's width at half its height); lower cells on its slopes make places of their own.
PEAK_SHARE = 0.5
#: The rules in words, for result ``params`` and exports.
SPLIT_TEXT = {
    "peaks": "cells joined along edges and split at saddles: each place is the cells whose steepest "
    "ascent reaches its peak and that score at least half of it (lower slopes make places of their own); "
    "ties to the first cell in grid order",
    "edges": "cells joined where they share an edge",
    "touching": "cells joined where they touch at an edge or a corner",
}


def label_places(
    selected: np.ndarray,
    score: np.ndarray | None = None,
    *,
    split: str = DEFAULT_SPLIT,
    peak_share: float = PEAK_SHARE,
) -> tuple[np.ndarray, int]:
    """Label the places formed by the selected cells.

    Parameters
    ----------
    selected
        ``(ny, nx)`` bool, the hotspot cells.
    score
        ``(ny, nx)`` cell score (density, smoothed count, z…); needed by ``split="peaks"``.
    split
        ``"peaks"`` (default): one place per peak (see Notes); ``"edges"``: cells sharing an
        edge form one place; ``"touching"``: cells touching at an edge or a corner form one place
        (8-connectivity; the rule before ``"peaks"`` became the default).
    peak_share
        With ``split="peaks"``: a place keeps only the cells scoring at least this share of its
        peak (default :data:`PEAK_SHARE`, 0.5); 0 keeps whole ascent basins.

    Returns
    -------
    tuple
        ``(labels, n)``: ``labels`` is ``(ny, nx)`` int, 0 outside the selection and 1..n
        inside; every selected cell is in exactly one place.

    Raises
    ------
    InputError
        If ``split`` is not one of :data:`SPLIT_RULES`, ``split="peaks"`` gets no ``score`` or
        a score of another shape, or ``peak_share`` is not in [0, 1].

    Notes
    -----
    ``split="peaks"`` is a steepest-ascent (watershed) partition of the score restricted to the
    selected cells, with edge neighbours only: each selected cell points to its highest
    selected edge neighbour when that neighbour scores strictly more, and the cell belongs to
    the peak its chain of such steps ends on. Corner-only contacts never join cells, and two
    peaks joined by lower cells (a saddle) give two places. A peak is a *regional* maximum: a
    group of edge-connected cells of equal score (a plateau) with no higher selected neighbour
    is one peak and one place. On a plateau that has a higher neighbour somewhere, cells go to
    the nearest plateau cell that has one (breadth first), so the plateau drains to the side
    it spills over. Ties (equal highest neighbours, equally near exits) go to the first cell in
    grid order (the lowest ``cell_id``: south before north, west before east), so the result
    is deterministic. NaN scores count as the lowest.

    A basin can be long: on the county grid the cells of Stoke-upon-Trent climb to Hanley
    through one cell, and whole basins make a 14 km² place of the two. So a place keeps the
    cells of its basin scoring at least ``peak_share`` of its peak (half by default: the peak's
    width at half its height); the lower cells are divided again by the same rule among
    themselves (each then holds one peak of its own cells) until every cell has a place. The
    kept cells of a basin stay edge-connected (the ascent from a kept cell only meets higher
    cells).
    """
    check_choice(split, SPLIT_RULES, name="split")
    sel = np.asarray(selected, dtype=bool)
    if split == "touching":
        labels, n = ndimage.label(sel, structure=np.ones((3, 3), dtype=int))
        return labels, int(n)
    if split == "edges":
        labels, n = ndimage.label(sel)
        return labels, int(n)
    if score is None:
        raise InputError(
            "`split='peaks'` needs the cell `score` to find the peaks; pass `score` "
            "(or use split='edges' or 'touching')"
        )
    score = np.asarray(score, dtype=float)
    if score.shape != sel.shape:
        raise InputError(f"`score` must have the shape of `selected` {sel.shape}; got {score.shape}")
    if isinstance(peak_share, bool) or not 0 <= float(peak_share) <= 1:
        raise InputError(
            f"`peak_share` must be a share of the peak between 0 and 1, such as 0.5; got {peak_share!r}"
        )
    labels = np.zeros(sel.shape, dtype=np.int64)
    n = 0
    rest = sel
    value = np.nan_to_num(score, nan=-np.inf)
    while rest.any():
        lab, k = _peak_labels(rest, score)
        peak = np.full(k + 1, -np.inf)
        np.maximum.at(peak, lab[rest], value[rest])
        # kept: at least the share of the peak (the peak itself always; a negative or NaN peak keeps its basin)
        top = np.where(rest, peak[lab], 0.0)
        low = rest & (top > 0) & (value < float(peak_share) * top)
        keep = rest & ~low
        kept, new = np.unique(lab[keep], return_inverse=True)
        labels[keep] = n + 1 + new
        n += kept.size
        rest = low
    return labels, n


def bound_places(labels: np.ndarray, score: np.ndarray | None, *, max_cells: int) -> tuple[np.ndarray, int]:
    """Split every place of more than ``max_cells`` cells at its peaks.

    Parameters
    ----------
    labels
        ``(ny, nx)`` place labels (0 = none, 1..n), as from :func:`label_places`.
    score
        ``(ny, nx)`` cell score; None treats every cell alike (then cell order decides).
    max_cells
        Most cells in one place (at least 1).

    Returns
    -------
    tuple
        ``(labels, n)`` relabelled 1..n; places within the bound keep their cells.

    Raises
    ------
    InputError
        If ``max_cells`` is not a whole number of at least 1.

    Notes
    -----
    A place over the bound is cut into pieces grown from its peaks: the highest-scoring cell
    left starts a piece, which takes the highest-scoring cells joined to it along an edge, one
    at a time, until it holds ``max_cells`` cells or none is left to join; the cells left over
    start the next pieces the same way. So each piece is edge-connected, holds the peak it
    grew from and the busiest cells around it. Ties go to the first cell in grid order.
    """
    import heapq

    if isinstance(max_cells, bool) or not isinstance(max_cells, int | np.integer) or max_cells < 1:
        raise InputError(f"`max_cells` must be a whole number of cells, at least 1; got {max_cells!r}")
    labels = np.asarray(labels)
    flat = labels.ravel()
    sizes = np.bincount(flat)
    big = np.flatnonzero(sizes[1:] > max_cells) + 1
    n_old = sizes.size - 1
    if big.size == 0:
        return labels, int(n_old)
    ny, nx = labels.shape
    value = (
        np.zeros(flat.size) if score is None else np.nan_to_num(np.asarray(score, float).ravel(), nan=-np.inf)
    )
    out = flat.copy()
    next_id = n_old + 1
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], big)
    for p, a in zip(big, starts, strict=True):
        cells = order[a : a + sizes[p]]
        left = set(cells.tolist())
        ranked = sorted(left, key=lambda c: (-value[c], c))
        first_piece = True
        for seed in ranked:
            if seed not in left:
                continue
            pid = p if first_piece else next_id
            first_piece = False
            if pid != p:
                next_id += 1
            heap = [(-value[seed], seed)]
            taken = 0
            left.discard(seed)
            while heap and taken < max_cells:
                _, c = heapq.heappop(heap)
                out[c] = pid
                taken += 1
                iy, ix = divmod(c, nx)
                for d, ok in ((c - nx, iy > 0), (c - 1, ix > 0), (c + 1, ix < nx - 1), (c + nx, iy < ny - 1)):
                    if ok and d in left:
                        left.discard(d)
                        heapq.heappush(heap, (-value[d], d))
            for _, c in heap:  # joined but not taken: back to the cells left
                left.add(c)
    kept, new = np.unique(out, return_inverse=True)
    if kept[0] == 0:
        relabel = new.reshape(labels.shape)
        return relabel, int(kept.size - 1)
    return (new + 1).reshape(labels.shape), int(kept.size)


def _peak_labels(sel: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, int]:
    """Steepest-ascent partition of the selected cells (see :func:`label_places`)."""
    ny, nx = sel.shape
    labels = np.zeros(sel.shape, dtype=np.int64)
    ids = np.flatnonzero(sel.ravel())  # ascending cell ids
    m = ids.size
    if m == 0:
        return labels, 0
    s = np.nan_to_num(score.ravel()[ids], nan=-np.inf)
    ix = ids % nx
    iy = ids // nx
    # edge neighbours in ascending cell-id order (south, west, east, north): argmax takes the first
    cand = np.stack([ids - nx, ids - 1, ids + 1, ids + nx], axis=1)
    ok = np.stack([iy > 0, ix > 0, ix < nx - 1, iy < ny - 1], axis=1)
    j = np.searchsorted(ids, np.where(ok, cand, 0))
    j = np.minimum(j, m - 1)
    ok &= ids[j] == cand
    nb = np.where(ok, j, -1)  # position of each selected neighbour, -1 for none
    nbs = np.where(ok, s[j], -np.inf)
    rows = np.arange(m)
    best = np.argmax(nbs, axis=1)
    climbs = ok[rows, best] & (nbs[rows, best] > s)
    parent = np.where(climbs, nb[rows, best], rows)

    # plateaus: edge-connected cells of equal score
    a, d = np.nonzero(ok & (nbs == s[:, None]))
    b = nb[a, d]
    if a.size:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(m, m))
        _, plateau = connected_components(graph, directed=False)
    else:
        plateau = rows
    exits = np.zeros(m, dtype=bool)
    np.logical_or.at(exits, plateau, climbs)
    spills = exits[plateau]
    # regional maxima (plateaus with no exit): one root per plateau, its first cell
    first = np.full(m, m, dtype=np.int64)
    np.minimum.at(first, plateau, rows)
    top = ~spills
    parent[top] = first[plateau[top]]
    # plateaus with an exit: breadth first from the cells that climb, to the nearest one
    reached = climbs | top
    while True:
        step = ~reached[a] & reached[b]
        if not step.any():
            break
        nxt = np.full(m, m, dtype=np.int64)
        np.minimum.at(nxt, a[step], b[step])
        new = nxt < m
        parent[new] = nxt[new]
        reached |= new
    # follow the pointers to the peaks (pointer jumping)
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            break
        parent = up
    roots, place = np.unique(parent, return_inverse=True)
    labels.ravel()[ids] = place + 1
    return labels, int(roots.size)


def cell_outlines(labels: np.ndarray, grid: Grid, n: int) -> np.ndarray:
    """Polygons of labelled grid cells (one per label 1..n; None for a label with no cell).

    Traced from the cell edges:

    the same shapes as dissolving the cells' boxes (holes kept; cells of one label touching at
    a corner only make a MultiPolygon), about two orders of magnitude faster: every edge
    between a labelled cell and a cell with another label is a boundary edge, oriented with
    its cell on the left; the edges chain into rings (at a vertex where two chains meet, the
    left turn); a ring passing a vertex twice is cut there; counter-clockwise rings are shells,
    clockwise rings holes.
    """
    ny, nx = labels.shape
    x0, y0, cell = grid.x0, grid.y0, grid.cell
    out = np.empty(n, dtype=object)
    pad = np.zeros((ny + 2, nx + 2), dtype=np.int64)
    pad[1:-1, 1:-1] = labels
    iy, ix = np.nonzero(labels)
    if iy.size == 0:
        return out
    lab = pad[iy + 1, ix + 1]
    w = nx + 1
    starts, ends, labs = [], [], []
    for dy, dx, (ax, ay), (bx, by) in (
        (-1, 0, (0, 0), (1, 0)),  # south side, west to east
        (0, 1, (1, 0), (1, 1)),  # east side, south to north
        (1, 0, (1, 1), (0, 1)),  # north side, east to west
        (0, -1, (0, 1), (0, 0)),  # west side, north to south
    ):
        m = pad[iy + 1 + dy, ix + 1 + dx] != lab
        starts.append((iy[m] + ay) * w + ix[m] + ax)
        ends.append((iy[m] + by) * w + ix[m] + bx)
        labs.append(lab[m])
    s, e, lb = np.concatenate(starts), np.concatenate(ends), np.concatenate(labs)
    m = s.size
    nv = w * (ny + 1)
    ks, ke = lb * nv + s, lb * nv + e
    order = np.argsort(ks, kind="stable")
    first = np.searchsorted(ks[order], ke, side="left")
    two = np.searchsorted(ks[order], ke, side="right") - first == 2
    succ = order[np.minimum(first, m - 1)]
    if two.any():
        c1, c2 = order[first[two]], order[first[two] + 1]
        cross = (e[two] % w - s[two] % w) * (e[c1] // w - s[c1] // w) - (e[two] // w - s[two] // w) * (
            e[c1] % w - s[c1] % w
        )
        succ[two] = np.where(cross > 0, c1, c2)
    # chain the edges into rings (a loop over edges, not rows)
    ring = np.full(m, -1, dtype=np.int64)
    seq: list[int] = []
    bounds = [0]
    succ_l = succ.tolist()
    ring_l = ring.tolist()
    r = 0
    for i0 in range(m):
        if ring_l[i0] >= 0:
            continue
        i = i0
        while ring_l[i] < 0:
            ring_l[i] = r
            seq.append(i)
            i = succ_l[i]
        bounds.append(len(seq))
        r += 1
    seq_a = np.asarray(seq, dtype=np.int64)
    rid = np.repeat(np.arange(r), np.diff(bounds))
    # rings passing a vertex twice: cut them into simple rings
    key = rid * nv + s[seq_a]
    uk, kc = np.unique(key, return_counts=True)
    dup_rings = np.unique(rid[np.isin(key, uk[kc > 1])])
    pieces: list[np.ndarray] = []
    keep = np.ones(r, dtype=bool)
    keep[dup_rings] = False
    starts_b = np.asarray(bounds)
    for q in dup_rings.tolist():
        pieces.extend(_simple_parts(seq_a[starts_b[q] : starts_b[q + 1]], s))
    edges = np.concatenate([seq_a[np.isin(rid, np.flatnonzero(keep))], *pieces]) if pieces else seq_a
    lens = np.concatenate([np.diff(starts_b)[keep], [p.size for p in pieces]]).astype(np.int64)
    ring_of = np.repeat(np.arange(lens.size), lens)
    vx = (s[edges] % w) * cell + x0
    vy = (s[edges] // w) * cell + y0
    rings = shapely.linearrings(np.column_stack([vx, vy]), indices=ring_of)
    # signed area (shoelace) per ring: > 0 counter-clockwise = shell
    nxt = np.arange(edges.size) + 1
    ends_b = np.cumsum(lens)
    nxt[ends_b - 1] = ends_b - lens
    area = np.bincount(ring_of, weights=vx * vy[nxt] - vx[nxt] * vy)
    ring_lab = lb[edges[ends_b - lens]]
    shell = area > 0
    n_shell = np.bincount(ring_lab[shell], minlength=n + 1)
    n_hole = np.bincount(ring_lab[~shell], minlength=n + 1)
    easy = shell & (n_shell[ring_lab] == 1) & (n_hole[ring_lab] == 0)
    out[ring_lab[easy] - 1] = shapely.polygons(rings[easy])
    for label in np.flatnonzero((n_shell > 1) | (n_hole > 0)).tolist():
        mine = ring_lab == label
        shells = [shapely.Polygon(g) for g in rings[mine & shell]]
        holes = list(rings[mine & ~shell])
        parts = []
        for sh in shells:
            inner = [h for h in holes if sh.contains(shapely.Polygon(h).representative_point())]
            parts.append(shapely.Polygon(sh.exterior, inner))
        out[label - 1] = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return out


def _simple_parts(idx: np.ndarray, s: np.ndarray) -> list[np.ndarray]:
    """Cut a ring of edges at the vertices it passes twice (figure-eights) into simple rings."""
    out = []
    stack = [idx]
    while stack:
        cur = stack.pop()
        v = s[cur]
        u, counts = np.unique(v, return_counts=True)
        if (counts == 1).all():
            out.append(cur)
            continue
        a, b = np.flatnonzero(v == u[counts > 1][0])[:2]
        stack.append(cur[a:b])
        stack.append(np.concatenate([cur[:a], cur[b:]]))
    return out


def places_from_cells(
    selected: np.ndarray,
    grid: Grid,
    values: dict[str, np.ndarray] | None = None,
    *,
    how: dict[str, str] | None = None,
    order_by: str | None = None,
    score: np.ndarray | None = None,
    split: str = DEFAULT_SPLIT,
    max_cells: int | None = None,
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Dissolve selected cells into places: by default one place per peak of the score.

    Parameters
    ----------
    selected
        ``(ny, nx)`` bool.
    grid
        The grid of ``selected``.
    values
        Column name → ``(ny, nx)`` array aggregated per place.
    how
        Column name → ``"sum"``, ``"max"`` or ``"mean"`` (default ``"sum"``).
    order_by
        Column to rank places by, largest first (default: the last column named in ``how``
        with ``"max"``, else the first value column, else the number of cells).
    score
        ``(ny, nx)`` score whose peaks make the places with ``split="peaks"``; None uses the
        ``values`` column ranked by (``order_by`` or its default).
    split
        How cells are joined (see :func:`label_places`): ``"peaks"`` (default) one place per
        peak, cells joined along edges only; ``"edges"``; ``"touching"`` (edge or corner, the
        rule before).
    max_cells
        Most cells in one place: larger places are split at their peaks
        (:func:`bound_places`); None leaves them whole.

    Returns
    -------
    tuple
        ``(labels, places)``: ``labels`` is ``(ny, nx)`` int, 0 outside every place and
        ``place_id`` inside; ``places`` has ``place_id`` (1 = first in the order), ``n_cells``,
        ``area_km2``, the aggregated values and ``geometry`` (EPSG:27700, clipped to the study
        area when the grid has one). Every selected cell is in exactly one place.

    Raises
    ------
    InputError
        If ``split`` is unknown, or ``split="peaks"`` finds no score (no ``score`` and no value
        column to rank by).
    """
    values = values or {}
    how = how or {}
    if order_by is None:
        maxes = [c for c in values if how.get(c) == "max"]
        order_by = maxes[-1] if maxes else (next(iter(values)) if values else "n_cells")
    if score is None and split == "peaks" and order_by in values:
        score = values[order_by]
    labels, n = label_places(selected, score, split=split)
    if max_cells is not None:
        labels, n = bound_places(labels, score, max_cells=max_cells)
    cols = ["place_id", "n_cells", "area_km2", *values.keys(), "geometry"]
    if n == 0:
        empty = gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=BNG)
        return labels, empty
    index = np.arange(1, n + 1)
    # over the labelled cells only (a few thousand of a grid of 100,000s)
    at = np.flatnonzero(labels.ravel())
    lab_at = labels.ravel()[at]
    data: dict[str, np.ndarray] = {"n_cells": np.bincount(lab_at, minlength=n + 1)[1:].astype(float)}
    funcs = {"sum": ndimage.sum_labels, "max": ndimage.maximum, "mean": ndimage.mean}
    for col, arr in values.items():
        rule = how.get(col, "sum")
        v = np.asarray(arr, dtype=float).ravel()[at]
        if rule == "max" and np.isfinite(v).all():
            peak = np.full(n + 1, -np.inf)
            np.maximum.at(peak, lab_at, v)
            data[col] = peak[1:]
        else:
            data[col] = np.asarray(funcs[rule](np.asarray(arr, dtype=float), labels, index))
    rank = np.argsort(-np.asarray(data[order_by]), kind="stable")
    new_id = np.empty(n + 1, dtype=np.int64)
    new_id[0] = 0
    new_id[rank + 1] = np.arange(1, n + 1)
    labels = new_id[labels]
    outlines = cell_outlines(labels, grid, n)
    if grid.study_area is not None:
        # clip only the places that hold a cell the study area's boundary crosses
        crossed = np.ones(n, dtype=bool) if grid.edge is None else np.zeros(n, dtype=bool)
        if grid.edge is not None:
            crossed[np.unique(labels[grid.edge & (labels > 0)]) - 1] = True
        outlines[crossed] = shapely.intersection(outlines[crossed], grid.study_area)
    geoms = gpd.GeoSeries(outlines, index=np.arange(1, n + 1), crs=BNG)
    table = pd.DataFrame({"place_id": np.arange(1, n + 1)})
    table["n_cells"] = data["n_cells"][rank].astype(np.int64)
    table["area_km2"] = shapely.area(geoms.reindex(table["place_id"]).to_numpy()) / 1e6
    for col in values:
        table[col] = np.asarray(data[col])[rank]
    places = gpd.GeoDataFrame(table, geometry=geoms.reindex(table["place_id"]).to_numpy(), crs=BNG)
    return labels, places
