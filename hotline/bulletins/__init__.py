"""Internal bulletins between the hotline office and the units (BUL-1)."""
