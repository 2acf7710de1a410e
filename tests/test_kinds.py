"""The kinds catalog: every kind of the data model with its cadence, collectors that exist and declare IAM
actions that exist, kinds resolve, unknown kinds are refused, and every module that needs a fact about a kind
reads this catalog."""

from __future__ import annotations

import botocore.session
import pytest

from awscost.core.errors import InputError
from awscost.usage.kinds import CATALOG, COLLECTORS, KINDS, RUNNER_IAM_ACTIONS, iam_actions, resolve_kinds

# IAM service prefix -> botocore service models that may hold the operation. OpenSearch keeps the `es` prefix.
IAM_PREFIX_MODELS = {"es": ("opensearch", "es")}

EXPECTED_KINDS = {
    "ec2": "hourly",
    "ec2os": "hourly",
    "rds": "hourly",
    "dynamodb": "hourly",
    "elasticache": "hourly",
    "es": "daily",
    "redshift": "daily",
    "ri-ec2": "daily",
    "ri-rds": "daily",
    "ri-elasticache": "daily",
    "ri-es": "daily",
    "ri-redshift": "daily",
    "sp": "daily",
}


def _operation_exists(action: str) -> bool:
    prefix, _, operation = action.partition(":")
    session = botocore.session.get_session()
    for model in IAM_PREFIX_MODELS.get(prefix, (prefix,)):
        if operation in session.get_service_model(model).operation_names:
            return True
    return False


def test_every_kind_of_the_data_model_is_collected_with_its_cadence() -> None:
    assert {k: KINDS.get(k).cadence for k in COLLECTORS} == EXPECTED_KINDS
    # The kinds jobs write are declared too, with their cadence (so `usage gaps` checks them right).
    written = {s.name: (s.writer, s.cadence) for s in CATALOG if s.writer != "collector"}
    assert written == {
        "ce-cov": ("ce_fetch", "daily"),
        "ce-util": ("ce_fetch", "daily"),
        "ce-rec-7": ("ce_fetch", "daily"),
        "ce-rec-60": ("ce_fetch", "daily"),
        "svc-cost": ("service_costs", "hourly"),
    }


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_collector_declares_iam_actions_that_name_real_operations(kind: str) -> None:
    spec = KINDS.get(kind)
    assert spec.name == kind and spec.description and callable(COLLECTORS.get(kind))
    assert spec.iam_actions, f"{kind} declares no IAM actions"
    for action in spec.iam_actions:
        assert _operation_exists(action), f"{kind}: {action} is not an operation in botocore's model"


def test_job_written_kinds_declare_real_operations_too() -> None:
    for spec in CATALOG:
        for action in spec.iam_actions:
            assert _operation_exists(action), f"{spec.name}: {action}"


def test_reservation_kinds_pair_with_the_kinds_they_cover() -> None:
    for spec in CATALOG:
        if spec.reservation_kind:
            assert KINDS.get(spec.reservation_kind).covers == spec.name
            assert spec.service and spec.price_code and spec.ce_service
    covered = {s.covers for s in CATALOG if s.covers}
    assert covered == {s.name for s in CATALOG if s.reservation_kind}


def test_runner_actions_exist_and_policy_is_the_union() -> None:
    assert all(_operation_exists(a) for a in RUNNER_IAM_ACTIONS)
    assert iam_actions(["ec2os"]) == sorted(
        {*RUNNER_IAM_ACTIONS, "ec2:DescribeInstances", "ec2:DescribeImages"}
    )
    assert "es:DescribeReservedInstances" in iam_actions()


def test_resolve_kinds() -> None:
    assert set(resolve_kinds("hourly")) == {"ec2", "ec2os", "rds", "dynamodb", "elasticache"}
    assert set(resolve_kinds("daily")) == {k for k, s in EXPECTED_KINDS.items() if s == "daily"}
    assert set(resolve_kinds("all")) == set(EXPECTED_KINDS)
    assert resolve_kinds("rds, ec2,rds") == ["rds", "ec2"]
    assert resolve_kinds(["hourly", "redshift"])[-1] == "redshift"


def test_unknown_kind_is_an_input_error_listing_known_kinds() -> None:
    with pytest.raises(InputError) as err:
        resolve_kinds("ec2,lambda")
    assert "'lambda'" in err.value.render() and "ri-redshift" in err.value.render()
    assert err.value.param == "kinds"
    with pytest.raises(InputError, match="ce-cov is not collected"):
        resolve_kinds("ce-cov")
