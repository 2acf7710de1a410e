"""AWS Cost Anomaly Detection read through Cost Explorer (anomalies/cost_explorer.py), against botocore's
Stubber: every request and answer below is validated against AWS's own service model of `ce`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from awscost.anomalies import cost_explorer as cad
from awscost.anomalies.detect import Anomaly
from awscost.anomalies.side_by_side import bill_detected, compare, summary
from awscost.core.errors import AwsAccessError
from awscost.reports.cost_explorer import SERVICE_NAMES

ARN = "arn:aws:ce::111122223333:anomalymonitor/0a1b2c3d-0000-4000-8000-000000000001"
ARN2 = "arn:aws:ce::111122223333:anomalymonitor/0a1b2c3d-0000-4000-8000-000000000002"
START, END = date(2026, 8, 1), date(2026, 9, 30)


def _client() -> Any:
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")


def _monitor(arn: str, name: str, last: str = "2026-09-10") -> dict[str, Any]:
    return {
        "MonitorArn": arn,
        "MonitorName": name,
        "MonitorType": "DIMENSIONAL",
        "MonitorDimension": "SERVICE",
        "CreationDate": "2026-01-01",
        "LastEvaluatedDate": last,
    }


CLUSTER = {
    "AnomalyId": "11111111-2222-3333-4444-555555555555",
    "AnomalyStartDate": "2026-08-19T00:00:00Z",
    "AnomalyEndDate": "2026-08-31T00:00:00Z",
    "DimensionValue": "Amazon Elastic Compute Cloud - Compute",
    "RootCauses": [
        {
            "Service": "Amazon Elastic Compute Cloud - Compute",
            "Region": "eu-west-1",
            "LinkedAccount": "444455556666",
            "LinkedAccountName": "search",
            "UsageType": "EU-BoxUsage:r5.xlarge",
            "Impact": {"Contribution": 2900.5},
        },
        {
            "Service": "Amazon Elastic Compute Cloud - Compute",
            "Region": "eu-west-1",
            "LinkedAccount": "444455556666",
            "UsageType": "EU-EBS:VolumeUsage.gp3",
            "Impact": {"Contribution": 87.21},
        },
    ],
    "AnomalyScore": {"MaxScore": 3.56, "CurrentScore": 2.24},
    "Impact": {
        "MaxImpact": 229.82,
        "TotalImpact": 2987.71,
        "TotalActualSpend": 4127.43,
        "TotalExpectedSpend": 1139.72,
        "TotalImpactPercentage": 262.15,
    },
    "MonitorArn": ARN,
    "Feedback": "YES",
}
SPIKE = {
    "AnomalyId": "66666666-7777-8888-9999-000000000000",
    "AnomalyStartDate": "2026-09-09",
    "AnomalyEndDate": "2026-09-09",
    "DimensionValue": "AWS Data Transfer",
    "RootCauses": [],
    "AnomalyScore": {"MaxScore": 12.5, "CurrentScore": 12.5},
    "Impact": {"MaxImpact": 1620.0},
    "MonitorArn": ARN2,
}


def _interval() -> dict[str, str]:
    return {"StartDate": START.isoformat(), "EndDate": END.isoformat()}


def test_pages_of_monitors_and_anomalies_and_every_field() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_anomaly_monitors",
            {"AnomalyMonitors": [_monitor(ARN, "services")], "NextPageToken": "m2"},
            {},
        )
        stub.add_response(
            "get_anomaly_monitors",
            {"AnomalyMonitors": [_monitor(ARN2, "transfer")]},
            {"NextPageToken": "m2"},
        )
        stub.add_response(
            "get_anomalies",
            {"Anomalies": [], "NextPageToken": "p2"},
            {"MonitorArn": ARN, "DateInterval": _interval()},
        )
        stub.add_response(
            "get_anomalies",
            {"Anomalies": [CLUSTER]},
            {"MonitorArn": ARN, "DateInterval": _interval(), "NextPageToken": "p2"},
        )
        stub.add_response(
            "get_anomalies", {"Anomalies": [SPIKE]}, {"MonitorArn": ARN2, "DateInterval": _interval()}
        )
        found = cad.scan(client, START, END, service_names=SERVICE_NAMES)
        stub.assert_no_pending_responses()
    assert found.calls == 5
    assert [m.name for m in found.monitors] == ["services", "transfer"]
    assert found.warnings == []
    cluster, spike = found.anomalies  # largest total impact first
    a = cluster.anomaly
    assert a == Anomaly(
        id="11111111-2222-3333-4444-555555555555",
        kind="step",
        date="2026-08-19",
        start="2026-08-19T00:00:00Z",
        end="2026-09-01T00:00:00Z",  # closed: its last day is before the monitor's last evaluated day - 1
        account_id="444455556666",
        service="Amazon Elastic Compute Cloud",  # the bill's name of Cost Explorer's "... - Compute"
        days=13,
        expected=Decimal("87.67"),  # 1139.72 / 13
        actual=Decimal("317.49"),  # 4127.43 / 13
        impact_per_day=Decimal("229.82"),  # 2987.71 / 13
        impact_total=Decimal("2987.71"),
        score=3.56,
        explanation="+$229.82/day: EU-BoxUsage:r5.xlarge in eu-west-1, account 444455556666 (search), "
        "$2,900.50 of it (AWS's root cause), 1 more root cause, started 2026-08-19",
    )
    assert cluster.monitor.name == "services" and cluster.feedback == "YES" and cluster.current_score == 2.24
    assert cluster.detected == datetime(2026, 8, 20, 16, tzinfo=UTC)  # day ends, +12 h, AWS's 16:00 run
    assert [(r.usage_type, r.contribution) for r in cluster.root_causes] == [
        ("EU-BoxUsage:r5.xlarge", Decimal("2900.50")),
        ("EU-EBS:VolumeUsage.gp3", Decimal("87.21")),
    ]
    doc = cluster.to_json()
    assert (
        doc["source"] == "ce" and doc["detected"] == "2026-08-20T16:00:00Z" and doc["monitor"] == "services"
    )
    assert doc["impact_total"] == "2987.71" and doc["root_causes"][0]["account_name"] == "search"  # type: ignore[index]
    # No totals, no root causes: MaxImpact stands for the total, the monitor's value for the service; open.
    s = spike.anomaly
    assert (s.kind, s.end, s.account_id, s.service) == ("step", None, "", "AWS Data Transfer")
    assert (s.impact_total, s.expected, s.actual, s.score) == (
        Decimal("1620.00"),
        0,
        Decimal("1620.00"),
        12.5,
    )
    assert s.explanation == "+$1,620.00/day on AWS Data Transfer: AWS named no root cause, started 2026-09-09"
    assert spike.monitor.name == "transfer"


def test_no_monitor_says_so_and_asks_no_anomalies() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": []}, {})
        found = cad.scan(client, START, END)
    assert found.anomalies == [] and found.monitors == []
    assert "no Cost Anomaly Detection monitor" in found.warnings[0]


def test_min_impact_is_dollars_a_day() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [_monitor(ARN, "services")]}, {})
        stub.add_response(
            "get_anomalies", {"Anomalies": [CLUSTER]}, {"MonitorArn": ARN, "DateInterval": _interval()}
        )
        found = cad.scan(client, START, END, min_impact=Decimal(230))
    assert found.anomalies == []  # $229.82 a day


@pytest.mark.parametrize(
    ("code", "operation", "hint"),
    [
        ("AccessDeniedException", "get_anomaly_monitors", "ce:GetAnomalyMonitors"),
        ("DataUnavailableException", "get_anomaly_monitors", "no data yet"),
        ("LimitExceededException", "get_anomalies", "request rate"),
    ],
)
def test_errors_name_the_operation_account_and_permission(code: str, operation: str, hint: str) -> None:
    client = _client()
    asked: list[str] = []

    def whoami() -> str:
        asked.append("sts")
        return "999988887777"

    with Stubber(client) as stub:
        if operation == "get_anomalies":
            stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [_monitor(ARN, "services")]}, {})
        stub.add_client_error(operation, service_error_code=code, service_message="no", http_status_code=400)
        with pytest.raises(AwsAccessError) as err:
            cad.scan(client, START, END, whoami=whoami)
    text = err.value.render()
    assert code in text and hint in text
    denied = code == "AccessDeniedException"
    assert ("account 999988887777" in text) is denied and asked == (["sts"] if denied else [])


def test_aws_detected_follows_the_documented_latency() -> None:
    # Day D's data lands at D+1 12:00; the next of AWS's runs (00, 08, 16 UTC) flags it.
    assert cad.aws_detected(date(2026, 8, 18)) == datetime(2026, 8, 19, 16, tzinfo=UTC)
    assert bill_detected(date(2026, 8, 18)) == datetime(2026, 8, 19, 12, tzinfo=UTC)


def _event(account: str, service: str, day: str, days: int, impact: str, kind: str = "step") -> Anomaly:
    total = Decimal(impact)
    return Anomaly(
        id=f"{account}{day}",
        kind=kind,
        date=day,
        start=f"{day}T00:00:00Z",
        end=None,
        account_id=account,
        service=service,
        days=days,
        expected=Decimal(10),
        actual=Decimal(10) + total / days,
        impact_per_day=total / days,
        impact_total=total,
        score=9.0,
        explanation="",
    )


def test_side_by_side_pairs_by_account_service_and_days() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [_monitor(ARN, "services")]}, {})
        stub.add_response(
            "get_anomalies",
            {"Anomalies": [CLUSTER, {**SPIKE, "MonitorArn": ARN}]},
            {"MonitorArn": ARN, "DateInterval": _interval()},
        )
        aws = cad.scan(client, START, END, service_names=SERVICE_NAMES).anomalies
    ec2 = "Amazon Elastic Compute Cloud"
    bill = [
        _event("444455556666", ec2, "2026-08-18", 14, "3218.04"),  # AWS's from the 19th: the same event
        _event("444455556666", ec2, "2026-06-08", 7, "-1166.03", kind="drop"),
        _event("222233334444", ec2, "2026-08-20", 3, "900"),  # same days, another account: not AWS's
        _event("444455556666", "Amazon Relational Database Service", "2026-07-01", 2, "300", kind="new"),
    ]
    pairs = compare(bill, aws, as_of=datetime(2026, 9, 10, tzinfo=UTC), bill_days=(START, date(2026, 9, 5)))
    by = {(p.caught_by, p.account_id, p.date): p for p in pairs}
    both = by[("both", "444455556666", "2026-08-18")]
    assert both.awscost_detected == datetime(2026, 8, 19, 12, tzinfo=UTC)
    assert both.aws_detected == datetime(2026, 8, 20, 16, tzinfo=UTC)
    assert both.hours_earlier == 28 and both.impact_difference == Decimal("230.33") and both.reason is None
    assert "increases only" in str(by[("awscost", "444455556666", "2026-06-08")].reason)
    assert "did not flag" in str(by[("awscost", "222233334444", "2026-08-20")].reason)
    assert "10 days" in str(by[("awscost", "444455556666", "2026-07-01")].reason)
    only_aws = by[("aws", "", "2026-09-09")]
    assert "outside the bill's days" in str(only_aws.reason)
    assert summary(pairs) == {"both": 1, "awscost_only": 3, "aws_only": 1, "median_hours_earlier": 28}
    doc = both.to_json()
    assert doc["hours_earlier"] == 28 and doc["impact_difference"] == "230.33"
    assert doc["aws_detected"] == "2026-08-20T16:00:00Z"


def test_an_anomaly_without_dates_is_an_error_not_a_traceback() -> None:
    client = _client()
    undated = {k: v for k, v in SPIKE.items() if k not in ("AnomalyStartDate", "AnomalyEndDate")}
    with Stubber(client) as stub:
        stub.add_response("get_anomaly_monitors", {"AnomalyMonitors": [_monitor(ARN2, "transfer")]}, {})
        stub.add_response(
            "get_anomalies", {"Anomalies": [undated]}, {"MonitorArn": ARN2, "DateInterval": _interval()}
        )
        with pytest.raises(AwsAccessError, match="without its dates"):
            cad.scan(client, START, END)


def test_the_ce_source_takes_no_billing_dataset() -> None:
    from awscost.core.errors import InputError
    from awscost.jobs.anomaly_scan import Params

    assert Params(source="ce").dataset is None
    with pytest.raises(InputError, match="not a billing dataset"):
        Params(source="ce", dataset="demo-out/history-billing")


_text = st.text(max_size=12)
_money_values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
_dates = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(lambda d: f"{d}T00:00:00Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"),  # the model's pattern admits 2026-13-45
)


def _optional(**fields: Any) -> Any:
    return st.fixed_dictionaries({}, optional=fields)


_answers = st.fixed_dictionaries(
    {
        "AnomalyId": _text,
        "AnomalyScore": st.fixed_dictionaries({"MaxScore": _money_values, "CurrentScore": _money_values}),
        "Impact": st.fixed_dictionaries(
            {"MaxImpact": _money_values},
            optional={
                "TotalImpact": _money_values,
                "TotalActualSpend": st.floats(min_value=0, max_value=1e9),
                "TotalExpectedSpend": st.floats(min_value=0, max_value=1e9),
            },
        ),
        "MonitorArn": _text,
    },
    optional={
        "AnomalyStartDate": _dates,
        "AnomalyEndDate": _dates,
        "DimensionValue": _text,
        "Feedback": st.sampled_from(["YES", "NO", "PLANNED_ACTIVITY"]),
        "RootCauses": st.lists(
            _optional(
                Service=_text,
                Region=_text,
                LinkedAccount=_text,
                LinkedAccountName=_text,
                UsageType=_text,
                Impact=st.fixed_dictionaries({"Contribution": _money_values}),
            ),
            max_size=3,
        ),
    },
)


@given(_answers)
def test_any_answer_of_the_models_shape_maps_or_is_one_error(answer: dict[str, Any]) -> None:
    monitor = cad.monitor_of(_monitor(ARN, "services"))
    try:
        event = cad.anomaly_of(answer, monitor, SERVICE_NAMES)
    except AwsAccessError as exc:
        assert "ce us-east-1" in exc.render()
        return
    a = event.anomaly
    assert a.id == answer["AnomalyId"] and a.days >= 1 and date.fromisoformat(a.date)
    assert a.to_json()["impact_total"] == str(a.impact_total) and event.to_json()["source"] == "ce"
