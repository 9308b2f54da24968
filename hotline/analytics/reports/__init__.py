"""Saved cross-tab reports (RPT-1) and the case-report presets (STAT-2) over the same engine."""
