"""Streamlit glue shared by the pages: cached loaders, sidebar filters, map and chart builders.

Nothing here analyses data: it calls :mod:`hotspots` and draws the results.
"""
