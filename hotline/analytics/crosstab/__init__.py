"""The cross-tab engine (RPT-1): rows × columns × measures × filters over dimensions defined once."""
