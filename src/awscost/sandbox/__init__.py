"""Emulated multi-account AWS (moto server + a reservation layer) seeded from a deterministic scenario."""
