"""Partner systems: credentials, signed and encrypted interfaces, traffic audit (API-2..6)."""
