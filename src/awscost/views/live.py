"""The live usage the front ends show, as views/ offers it: the implementation is usage/live.py (one layer
down, so the report job can draw the live page of the dashboard set it publishes); this module only names it
for the front ends, which ask views/ for what they show."""

from awscost.usage.live import HOURLY, HOURS, LiveUsage, as_json, last_hour, live_usage

__all__ = ["HOURLY", "HOURS", "LiveUsage", "as_json", "last_hour", "live_usage"]
