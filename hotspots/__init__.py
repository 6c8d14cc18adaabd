"""Crime and anti-social-behaviour hotspot analysis for community safety partnerships.

The analysis library: ingest, store, areas, hotspots, trends. It never imports streamlit.
"""

__version__ = "0.1.0"

ATTRIBUTION_POLICE = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
)
ATTRIBUTION_ONS = (
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right 2024."
)
ATTRIBUTION = f"{ATTRIBUTION_POLICE} {ATTRIBUTION_ONS}"
