"""Open311 GeoReport v2 (API-2): civic apps post requests and follow them with the international 311 standard."""
