"""How well hotspots found on one period predict a later one: hit rate, PAI, PEI and RRI.

Every method is scored the same way, on the analysis grid: the method turns the training
incidents into a score per cell (a smoothed recent count, a count, a density, a Gi* z-score, …),
the highest-scoring
cells covering ``area_share`` of the study area are taken as the hotspots, and the test-period
incidents that fall in them are counted. Ties (for example cells a method scores zero) are
broken by the training count, then by cell order.

* hit rate ``= n / N``: share of test incidents in the hotspots;
* PAI (Predictive Accuracy Index, Chainey et al. 2008) ``= (n / N) / (a / A)``;
* PEI (Predictive Efficiency Index, Hunt 2016) ``= n / n*``, where ``n*`` is the most test
  incidents any set of cells of the same total area could have caught;
* RRI (Recapture Rate Index, Levine 2008) ``= (n / n_train) / (N / N_train)``: the hotspots'
  test-to-training ratio against the whole area's.

With ``measure="harm"`` every count above is a sum of harm weights (:mod:`hotspots.harm`): the
method scores the training harm, and the hit rate is the share of the test period's harm
caught (PEI against the most harm any cells of that area could catch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots._errors import InputError
from hotspots._validate import check_choice, check_positive
from hotspots.filters import Filter
from hotspots.grid import CELL_SIZE_TEXT, Grid, analysis_cell_size, make_grid
from hotspots.harm import HarmWeights, check_measure, default_weights, incident_weights
from hotspots.hotspot_list import study_area_for
from hotspots.methods import DEFAULT_METHOD, REGISTRY
from hotspots.methods import get as get_method
from hotspots.repeat import check_incidents, located_mask

#: The methods (the registry's, the plain count first: the baseline).
METHODS = ("count", *(m for m in REGISTRY if m != "count"))
#: Options each method accepts when scoring cells (from the registry).
SCORE_PARAMS: dict[str, tuple[str, ...]] = {name: m.score_options for name, m in REGISTRY.items()}
#: The metrics every evaluation returns.
METRICS = ("hit_rate", "area_share", "pai", "pei", "rri")


def score_cells(
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    *,
    area_km2: float | None = None,
    months: Any = None,
    reference_month: str | None = None,
    weights: np.ndarray | None = None,
    **params: Any,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Score every grid cell from (training) incidents; higher means more likely a hotspot.

    Parameters
    ----------
    method
        ``"count"`` (incidents per cell), ``"eb_count"`` (recency-weighted count smoothed
        towards the neighbouring cells by empirical Bayes), ``"kde"`` (density at the cell
        centre), ``"gistar"``
        (Gi* z-score), ``"dbscan"`` (incidents in DBSCAN clusters per cell; noise scores 0) or
        ``"repeat"`` (incidents at the cell's busiest single location).
    x, y
        Incident coordinates with a location (EPSG:27700).
    grid
        The analysis grid.
    area_km2
        Study area for the DBSCAN default ``min_samples``.
    months, reference_month
        Each incident's month and the month ages count from (``eb_count``'s recency weights).
    weights
        What each incident counts for (harm weights, :mod:`hotspots.harm`); None: 1 each.
    **params
        Method options (see :data:`SCORE_PARAMS`).

    Returns
    -------
    tuple
        ``((ny, nx) score, params used)``.
    """
    m = get_method(method)
    unknown = sorted(set(params) - set(m.score_options))
    if unknown:
        raise InputError(
            f"method {method!r} has no option {', '.join(repr(u) for u in unknown)} for evaluation; "
            f"its options are {', '.join(m.score_options) or 'none'}"
        )
    params = {k: v for k, v in params.items() if v is not None}
    if weights is not None:
        params["weights"] = weights
    res = m.score(x, y, grid, area_km2=area_km2, months=months, reference_month=reference_month, **params)
    return res.score, {"method": method, **res.params}


def _split(
    incidents: pd.DataFrame, filt: Filter, name: str, hw: HarmWeights | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray | None]:
    if not isinstance(filt, Filter):
        raise InputError(f"`{name}` must be a hotspots.filters.Filter; got {type(filt).__name__}")
    sel = filt.apply(incidents)
    has = located_mask(sel)
    w = incident_weights(sel[has], measure="harm", weights=hw) if hw is not None else None
    return (
        sel["x"].to_numpy(dtype=float)[has],
        sel["y"].to_numpy(dtype=float)[has],
        sel["month"].to_numpy()[has],
        int((~has).sum()),
        w,
    )


def evaluate(
    incidents: pd.DataFrame,
    *,
    method: str = DEFAULT_METHOD,
    train: Filter,
    test: Filter,
    area_share: float = 0.01,
    geography: Any,
    cell_size: float | str | None = None,
    measure: str = "count",
    weights: HarmWeights | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Score hotspots found on ``train`` against the incidents of ``test``.

    Parameters
    ----------
    incidents
        The full incident frame.
    method
        ``"eb_count"`` (default), ``"count"`` (the plain baseline), ``"kde"``, ``"gistar"``,
        ``"dbscan"`` or ``"repeat"``.
    train, test
        Filters for the training and test periods (usually the same filter over two month
        ranges). Areas named in ``train`` set the study area.
    area_share
        Share of the study area's cells taken as hotspots (default 0.01, 1%).
    geography
        The :class:`boundaries.Geography`.
    cell_size
        Grid cell size in metres; None (or ``"micro"``) the micro-place cells of hotspot lists
        (150 m, finer in a small area: :func:`hotspots.grid.analysis_cell_size`);
        ``"display"`` the overview rule (about 50 cells on the shorter side, the default before).
    measure
        ``"count"`` (default) or ``"harm"``: the method scores the training incidents' harm and
        every metric counts harm instead of incidents (module notes).
    weights
        Harm weights for ``measure="harm"`` (None: the shipped ONS Crime Severity Score weights).
    **params
        Method options (see :data:`SCORE_PARAMS`).

    Returns
    -------
    dict
        ``hit_rate``, ``area_share`` (achieved: whole cells), ``pai``, ``pei``, ``rri``, the
        counts behind them (``n_train``, ``n_test``, ``hits``, ``best_hits``, ``train_hits``,
        ``n_cells``, ``cells_selected``; harm with ``measure="harm"``), ``n_left_off``
        (incidents with no location), ``measure`` and ``params`` (method, grid, chosen defaults
        and the harm weights).

    Raises
    ------
    InputError
        If the method or an option is invalid, ``area_share`` is not in (0, 1], ``measure`` is
        not ``count`` or ``harm``, or the training or test period holds no incidents with a
        location.
    """
    return evaluate_shares(
        incidents,
        method=method,
        train=train,
        test=test,
        shares=(area_share,),
        geography=geography,
        cell_size=cell_size,
        measure=measure,
        weights=weights,
        **params,
    )[0]


def evaluate_shares(
    incidents: pd.DataFrame,
    *,
    method: str = DEFAULT_METHOD,
    train: Filter,
    test: Filter,
    shares: Sequence[float] = (0.005, 0.01, 0.02, 0.05),
    geography: Any,
    cell_size: float | str | None = None,
    measure: str = "count",
    weights: HarmWeights | None = None,
    **params: Any,
) -> list[dict[str, Any]]:
    """:func:`evaluate` at several shares of the area, scoring the cells once.

    Returns one result (as :func:`evaluate`'s) per share, in the order given. Raises as
    :func:`evaluate` does, for each share.
    """
    check_incidents(incidents)
    check_measure(measure)
    hw = (weights if weights is not None else default_weights()) if measure == "harm" else None
    check_choice(method, ("count", *(m for m in REGISTRY if m != "count")), name="method")
    for area_share in shares:
        check_positive(area_share, name="area_share")
        if not 0 < float(area_share) <= 1:
            raise InputError(
                f"`area_share` must be a share of the area between 0 and 1, such as 0.01 for 1%; got {area_share!r}"
            )
    for name, f in (("train", train), ("test", test)):
        if not isinstance(f, Filter):
            raise InputError(f"`{name}` must be a hotspots.filters.Filter; got {type(f).__name__}")
    area = study_area_for(geography, train)
    cell, rule = analysis_cell_size(area, cell_size)
    grid = make_grid(area, cell_size=cell)
    tx, ty, tm, t_off, tw = _split(incidents, train, "train", hw)
    vx, vy, _, v_off, vw = _split(incidents, test, "test", hw)
    if tx.size == 0:
        raise InputError(
            f"the training filter ({train.describe()}) holds no incidents with a location; widen it"
        )
    if vx.size == 0:
        raise InputError(f"the test filter ({test.describe()}) holds no incidents with a location; widen it")
    area_km2 = float(shapely.area(shapely.union_all(area.to_numpy())) / 1e6)
    last = train.month_to or pd.Timestamp(tm.max()).strftime("%Y-%m")
    score, used = score_cells(
        method, tx, ty, grid, area_km2=area_km2, months=tm, reference_month=last, weights=tw, **params
    )
    train_counts = grid.counts(tx, ty, tw)
    test_counts = grid.counts(vx, vy, vw)
    if hw is not None:
        used = {**used, "harm_weights": hw.to_dict(), "harm_weights_text": hw.describe()}
    mask = grid.mask
    n_cells = int(mask.sum())
    n_test = float(test_counts[mask].sum())
    n_train = float(train_counts[mask].sum())
    # one ranking of the cells serves every share (ties by training count, then cell order)
    ids = np.flatnonzero(mask.ravel())
    ranked = ids[np.lexsort((np.arange(ids.size), -train_counts.ravel()[ids], -score.ravel()[ids]))]
    best_order = np.sort(test_counts[mask])[::-1]
    out = []
    for area_share in shares:
        k = max(1, int(round(float(area_share) * n_cells)))
        chosen = ranked[:k]
        hits = float(test_counts.ravel()[chosen].sum())
        train_hits = float(train_counts.ravel()[chosen].sum())
        best = float(best_order[:k].sum())
        a = k / n_cells
        hit_rate = hits / n_test if n_test else float("nan")
        out.append(
            {
                "method": method,
                "measure": measure,
                "hit_rate": hit_rate,
                "area_share": a,
                "pai": hit_rate / a,
                "pei": hits / best if best else float("nan"),
                "rri": (hits / train_hits) / (n_test / n_train) if train_hits and n_test else float("nan"),
                "n_train": n_train,
                "n_test": n_test,
                "hits": hits,
                "best_hits": best,
                "train_hits": train_hits,
                "n_cells": n_cells,
                "cells_selected": k,
                "n_left_off": t_off + v_off,
                "train": train.describe(),
                "test": test.describe(),
                "params": {
                    **used,
                    **grid.describe(),
                    "cell_size_rule": CELL_SIZE_TEXT[rule],
                    "area_share_requested": float(area_share),
                },
            }
        )
    return out


#: How many places "a team can cover" is measured for (:func:`place_coverage`).
PLACE_COUNTS = (10, 20, 50)


def place_coverage(
    incidents: pd.DataFrame,
    *,
    train: Filter,
    test: Filter,
    geography: Any,
    method: str = DEFAULT_METHOD,
    top: Sequence[int] = PLACE_COUNTS,
    **params: Any,
) -> dict[str, Any]:
    """Share of the test period's incidents in the top places listed from the training period.

    The places a team can cover: the ranked list (:func:`hotspots.hotspot_list.find_hotspots`
    on ``train``, with ``method`` and ``params``) is cut at each of ``top`` places, and the
    test incidents inside those places (their polygons; a ``repeat`` place is its map point)
    are counted.

    Parameters
    ----------
    incidents
        The full incident frame.
    train, test
        Filters for the training and test periods; areas named in ``train`` set the study area.
    geography
        The :class:`boundaries.Geography`.
    method, **params
        As for :func:`~hotspots.hotspot_list.find_hotspots`.
    top
        Numbers of places (default :data:`PLACE_COUNTS`: 10, 20, 50).

    Returns
    -------
    dict
        ``n_test``, ``n_places`` (in the whole list), and for each N in ``top``: ``share_top{N}``
        (share of test incidents), ``hits_top{N}`` and ``area_km2_top{N}`` (area of those places);
        ``params`` (the list's parameters).

    Raises
    ------
    InputError
        If a filter is not a Filter, ``top`` holds something other than whole numbers of at least 1,
        or the test period holds no incidents with a location.
    """
    from hotspots.hotspot_list import find_hotspots

    check_incidents(incidents)
    for name, f in (("train", train), ("test", test)):
        if not isinstance(f, Filter):
            raise InputError(f"`{name}` must be a hotspots.filters.Filter; got {type(f).__name__}")
    top = list(top)
    if not top or any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1 for n in top):
        raise InputError(
            f"`top` must be whole numbers of places, each at least 1, such as (10, 20, 50); got {top!r}"
        )
    hl = find_hotspots(incidents, method=method, geography=geography, filt=train, **params)
    vx, vy, _, _, _ = _split(incidents, test, "test")
    if vx.size == 0:
        raise InputError(f"the test filter ({test.describe()}) holds no incidents with a location; widen it")
    inside = np.zeros(vx.size, dtype=np.int64)  # rank of the place holding each test incident (0 = none)
    geoms = hl.geometry.to_numpy()
    ranks = hl["rank"].to_numpy(dtype=np.int64) if len(hl) else np.empty(0, dtype=np.int64)
    points = shapely.points(vx, vy)
    if len(geoms):
        tree = shapely.STRtree(geoms)
        if method == "repeat":
            pi, gi = tree.query(points, predicate="dwithin", distance=0.5)
        else:
            pi, gi = tree.query(points, predicate="intersects")
        best = np.full(vx.size, np.iinfo(np.int64).max)
        np.minimum.at(best, pi, ranks[gi])
        inside = np.where(best < np.iinfo(np.int64).max, best, 0)
    out: dict[str, Any] = {"n_test": int(vx.size), "n_places": int(len(hl))}
    areas = hl["area_km2"].to_numpy(dtype=float) if len(hl) else np.empty(0)
    for n in top:
        hits = int(((inside > 0) & (inside <= n)).sum())
        out[f"hits_top{n}"] = hits
        out[f"share_top{n}"] = hits / vx.size
        out[f"area_km2_top{n}"] = float(np.nansum(areas[ranks <= n]))
    out["params"] = hl.params
    return out


def compare(
    incidents: pd.DataFrame,
    *,
    methods: Sequence[str | tuple[str, Mapping[str, Any]]] | Mapping[str, tuple[str, Mapping[str, Any]]],
    train: Filter,
    test: Filter,
    area_share: float | Sequence[float] = 0.01,
    geography: Any,
    cell_size: float | None = None,
) -> pd.DataFrame:
    """Evaluate several methods (and parameter choices) on the same split.

    Parameters
    ----------
    methods
        Method names, ``(method, options)`` pairs, or a mapping label → ``(method, options)``.
    train, test, geography, cell_size
        As for :func:`evaluate`; every method uses the same grid.
    area_share
        One share, or several (a row per method and share).

    Returns
    -------
    pandas.DataFrame
        One row per method and share: ``label``, ``method``, ``area_share``, ``hit_rate``,
        ``pai``, ``pei``, ``rri``, ``hits``, ``n_test``, ``cells_selected``, ``cell_size_m``,
        ``params`` (text), ordered as given.
    """
    if isinstance(methods, Mapping):
        items = [(label, m, dict(opts)) for label, (m, opts) in methods.items()]
    else:
        items = []
        for entry in methods:
            if isinstance(entry, str):
                items.append((entry, entry, {}))
            else:
                m, opts = entry
                label = m + (" (" + ", ".join(f"{k}={v}" for k, v in opts.items()) + ")" if opts else "")
                items.append((label, m, dict(opts)))
    shares = [area_share] if np.isscalar(area_share) else list(area_share)
    rows = []
    for label, m, opts in items:  # a handful of method configurations
        for share in shares:
            r = evaluate(
                incidents,
                method=m,
                train=train,
                test=test,
                area_share=share,
                geography=geography,
                cell_size=cell_size,
                **opts,
            )
            rows.append(
                {
                    "label": label,
                    "method": m,
                    "area_share": r["area_share"],
                    "hit_rate": r["hit_rate"],
                    "pai": r["pai"],
                    "pei": r["pei"],
                    "rri": r["rri"],
                    "hits": r["hits"],
                    "n_test": r["n_test"],
                    "cells_selected": r["cells_selected"],
                    "cell_size_m": r["params"]["cell_size_m"],
                    "params": ", ".join(f"{k}={v}" for k, v in r["params"].items() if k not in ("method",)),
                }
            )
    return pd.DataFrame(rows)
