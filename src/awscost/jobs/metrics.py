"""CloudWatch custom metrics that a job publishes itself: series with dimensions of their own (one per job,
kind, account or audience), more than the one dimension set a `Job.metrics` callable gives the Lambda handler.

Every series is one custom metric (a name and one set of dimension values), and each costs $0.30 a month
(docs/health.md): the jobs that publish here bound how many they create. boto3 and the standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NAMESPACE = "awscost"  # the stack grants cloudwatch:PutMetricData in this namespace only
BATCH = 1000  # PutMetricData takes at most 1000 values a request (and 1 MB: far above 1000 of these)


@dataclass(frozen=True)
class Datum:
    """One value of one series."""

    name: str
    dimensions: Mapping[str, str]
    value: float
    unit: str  # a CloudWatch unit: Seconds, Count, None ...

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dimensions": dict(self.dimensions),
            "value": self.value,
            "unit": self.unit,
        }


def put_metrics(cloudwatch: Any, data: Sequence[Datum], timestamp: datetime) -> int:
    """Publish `data` at `timestamp` in the awscost namespace, in as few requests as allowed; returns the
    number of values sent."""
    entries = [
        {
            "MetricName": d.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in d.dimensions.items()],
            "Value": d.value,
            "Unit": d.unit,
            "Timestamp": timestamp,
        }
        for d in data
    ]
    for start in range(0, len(entries), BATCH):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=entries[start : start + BATCH])
    return len(entries)


__all__ = ["BATCH", "NAMESPACE", "Datum", "put_metrics"]
