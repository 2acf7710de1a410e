"""Analyses over the usage history: statistics, reserved-capacity planning, backfill (numpy imported inside)."""
