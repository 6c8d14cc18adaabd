"""Render folium maps without compiling their output again as Jinja templates.

branca (folium's page model, 0.8) renders each map element's ``header``/``html``/``script``
macro to text and then wraps that text in ``Element(text)``, which compiles it as a **new
Jinja template** and renders it once more. Two things follow:

* **Template injection.** Data text inside a layer (a location or place name, a partner
  field, an uploaded boundary's name) reaches that second compilation. ``{{ 7*7 }}`` in a
  location name is evaluated on the server (it prints 49), and Jinja templates are not
  sandboxed, so such text could run code in the app's process; a quote in the wrong place
  makes the whole map fail with a ``TemplateSyntaxError``. Escaping HTML does not help: braces
  are not HTML.
* **Time.** The second compilation lexes every GeoJSON layer's data as template source: about
  0.6 s of CPU per map of the county's wards and places (``bench/bench_map_render.py``),
  on every rerun of every session.

:func:`install` (called when :mod:`dashboard.maps` is imported) replaces
``MacroElement.render`` with one that adds the macro text as it is, in an element that
renders to that text. The output is the text Jinja would have produced for any text without
template syntax (Jinja turns CR LF and CR line ends into LF and drops one trailing
newline, and so does :class:`RenderedText`); ``tests/test_folium_render.py`` checks that real
maps render identically, and that template syntax in data stays text.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, Figure, MacroElement

_PARTS = ("header", "html", "script")


def jinja_text(text: str) -> str:
    """``text`` as Jinja's default environment outputs a template with no template syntax."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[:-1] if text.endswith("\n") else text


class RenderedText(Element):
    """Text a macro has already rendered: added to the page as it is, never compiled again."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RenderedText"
        self._text = jinja_text(text)

    def render(self, **kwargs: Any) -> str:
        """The text itself."""
        return self._text


def _render_macro(self: MacroElement, **kwargs: Any) -> None:
    """``MacroElement.render`` of branca 0.8, with the macros' text added as :class:`RenderedText`."""
    figure = self.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    module = self._template.module.__dict__
    for part in _PARTS:
        macro = module.get(part, None)
        if macro is not None:
            getattr(figure, part).add_child(RenderedText(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


_ORIGINAL = MacroElement.render


def install() -> None:
    """Use :func:`_render_macro` for every folium/branca macro element (idempotent)."""
    MacroElement.render = _render_macro


def uninstall() -> None:
    """Put branca's own ``MacroElement.render`` back (for comparisons in tests and benches)."""
    MacroElement.render = _ORIGINAL
