"""Topic analysis (STAT-3): what is asked most with the change on the period before, and emerging issues (a hot
cluster of similar requests growing fast and concentrated in one area)."""
