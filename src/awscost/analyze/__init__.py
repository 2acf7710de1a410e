"""Analyses over the usage history: statistics, reserved-capacity planning, backfill.

numpy and friends are imported inside the functions that use them."""
