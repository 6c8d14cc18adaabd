"""Hotspot methods behind one small interface, looked up in one registry.

Every method is a :class:`Method`: a name, its options with their defaults (None = chosen from the
data and reported), and a ``score`` function that turns incidents into a score per grid cell
(higher = more likely a hotspot). That is all :func:`hotspots.evaluate.evaluate` needs. For the
ranked list (:func:`hotspots.hotspot_list.find_hotspots`) a method is one of two kinds:

* ``"cells"``: the cells it selects (by default the top ``top_share`` of the study area's cells by
  score; a method may choose its own, as Gi* keeps its significant cells) are made into places;
* ``"points"``: it labels police.uk map points itself (``places``), as DBSCAN's clusters or the
  repeat locations.

Adding a method = one module in this package that builds a :class:`Method`, and one line in
:data:`REGISTRY` below. :func:`get` looks a method up (an unknown name is refused with the list).

Measure (``count`` or ``harm``, :mod:`hotspots.harm`): ``score`` and ``places`` take
``weights``, what each incident counts for (one float per incident, its category's harm weight),
or None (each incident 1). Every method sums weights where it would count incidents: cell sums
(``count``, ``gistar``), recency weight x harm weight (``eb_count``), weighted kernel density
(``kde``), weighted core-point density (``dbscan``: scikit-learn's ``sample_weight``, so
``min_samples`` is read as harm within ``eps``) and harm per map point (``repeat``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotspots._validate import check_choice


@dataclass(frozen=True)
class CellScore:
    """A method's score per grid cell.

    Attributes
    ----------
    score
        ``(ny, nx)`` float, higher = more likely a hotspot (``-inf`` where undefined).
    params
        The parameters used, with the values chosen from the data (for ``params`` and exports).
    hot
        ``(ny, nx)`` bool, the cells the method itself calls hotspots (Gi*: significant), or None
        (the list then keeps the top ``top_share`` of cells).
    """

    score: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    hot: np.ndarray | None = None


@dataclass(frozen=True)
class PointPlaces:
    """Places made of map points (``kind="points"``): one id per incident, 0 = in no place.

    Attributes
    ----------
    member, prev_member
        Place id of each current and previous-period incident (1..n, 0 = none).
    geometry
        The places' outlines (EPSG:27700), indexed 1..n.
    area_km2
        Their areas (NaN for a point).
    """

    member: np.ndarray
    prev_member: np.ndarray
    geometry: Any
    area_km2: Any


@dataclass(frozen=True)
class Method:
    """One hotspot method.

    Attributes
    ----------
    name
        Its name (``--method`` on the command line).
    kind
        ``"cells"`` or ``"points"`` (see the module notes).
    options
        The options of the ranked list, with their defaults (None = chosen from the data).
    score_options
        The options that change the cell score (those :func:`hotspots.evaluate.evaluate` takes).
    score
        ``score(x, y, grid, *, months, reference_month, area_km2, weights, cells, **options) -> CellScore``;
        ``weights`` is None (count) or one float per incident (harm; see the module notes);
        ``cells`` (each incident's ``cell_id`` on ``grid``, or None) is a hint a method may use
        instead of binning ``x``, ``y`` again (the hotspot list keeps them per frame); a method
        takes what it does not use through ``**_``.
    places
        ``kind="points"`` only: ``places(current, x, y, px, py, *, area_km2, params, weights,
        **options) -> PointPlaces`` (it adds what it chose to ``params``).
    summary
        One line on what a hotspot is for this method.
    min_incidents, min_incidents_why
        Fewest incidents the method makes a list from, and why (said in the empty list's note).
    """

    name: str
    kind: str
    options: Mapping[str, Any]
    score_options: tuple[str, ...]
    score: Callable[..., CellScore]
    places: Callable[..., PointPlaces] | None = None
    summary: str = ""
    min_incidents: int = 1
    min_incidents_why: str = ""


def _registry() -> dict[str, Method]:
    from hotspots.methods import count, dbscan, eb_count, gistar, kde, repeat

    # the order is the order of the choices offered (the default first)
    return {
        m.name: m
        for m in (eb_count.METHOD, kde.METHOD, gistar.METHOD, dbscan.METHOD, repeat.METHOD, count.METHOD)
    }


#: Every method, by name (the default first).
REGISTRY: dict[str, Method] = _registry()
#: The default method: recent counts smoothed by empirical Bayes (``docs/methods.md``: chosen on
#: many real month splits, and again at the micro scale).
DEFAULT_METHOD = "eb_count"


def get(name: str) -> Method:
    """The method called ``name``.

    Raises
    ------
    InputError
        If no method has that name (the message lists them).
    """
    check_choice(name, tuple(REGISTRY), name="method")
    return REGISTRY[name]


__all__ = ["DEFAULT_METHOD", "REGISTRY", "CellScore", "Method", "PointPlaces", "get"]
