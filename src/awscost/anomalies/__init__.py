"""Cost anomalies: events found in daily cost series (detect), synthetic bills to back-test them on
(synthetic); docs/anomalies.md. Needs numpy: the `analyze` extra (or `reports`)."""
