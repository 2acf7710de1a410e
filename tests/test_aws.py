"""awscost.aws: session factory, account discovery, per-account sessions (AssumeRole cache), regions."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from awscost.aws import accounts as accounts_mod
from awscost.aws.accounts import Account, AccountSessions, discover_accounts, parse_accounts_option
from awscost.aws.regions import resolve_regions
from awscost.aws.session import CallCounter, ClientCache, client, make_session
from awscost.core.config import Settings
from awscost.core.errors import AwsAccessError, InputError

CALLER = "123456789012"


def test_clients_have_adaptive_retries_and_pool() -> None:
    session = make_session(region="eu-west-1", counter=CallCounter())
    c = client(session, "ec2")
    assert c.meta.region_name == "eu-west-1"
    # botocore reads `max_attempts` as retries after the first try: 9 attempts in all.
    assert c.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}
    assert c.meta.config.max_pool_connections >= 16
    assert client(session, "sts").meta.region_name == "eu-west-1"
    assert client(make_session(counter=CallCounter()), "ec2", "ap-south-1").meta.region_name == "ap-south-1"


def test_endpoint_and_profile_come_from_the_standard_environment(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile finops]\nregion = eu-central-1\n")
    creds = tmp_path / "credentials"
    creds.write_text("[finops]\naws_access_key_id = AKIDFINOPS\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_PROFILE", "finops")
    session = make_session(counter=CallCounter())
    assert session.region_name == "eu-central-1"
    assert session.get_credentials().access_key == "AKIDFINOPS"  # type: ignore[union-attr]
    c = client(session, "sts")
    assert c.meta.endpoint_url == aws  # AWS_ENDPOINT_URL, never passed by us
    assert c.get_caller_identity()["Account"] == CALLER


def test_calls_are_counted_once_per_call_and_per_scope(aws: str) -> None:
    counter = CallCounter()
    session = make_session(counter=counter)
    ec2 = client(session, "ec2", "us-east-1")
    ec2.describe_instances()
    with counter.scope() as local:
        ec2.describe_regions()
        client(session, "sts").get_caller_identity()
    assert dict(local) == {"ec2.DescribeRegions": 1, "sts.GetCallerIdentity": 1}
    assert counter.total == 3 and counter.by_operation["ec2.DescribeInstances"] == 1
    assert counter.attempts == 3


def test_client_cache_reuses_clients_across_threads(aws: str) -> None:
    cache = ClientCache(make_session(counter=CallCounter()))
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("ec2", "us-east-1"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1
    assert cache.get("ec2", "us-west-2") is not got[0]


def test_sessions_share_the_client_class_and_model_but_not_credentials_or_counts(aws: str) -> None:
    """Clients of awscost's sessions share one class and service model per service (built once: half of a
    collection's CPU went to rebuilding them), yet each signs with its own credentials and counts into its own
    counter; a boto3 session made elsewhere keeps botocore's own classes."""
    member = "210987654321"
    answer = client(make_session(counter=CallCounter()), "sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="awscost-test"
    )
    counters = (CallCounter(), CallCounter())
    sessions = (make_session(counter=counters[0]), make_session(answer["Credentials"], counter=counters[1]))
    mine, theirs = (client(s, "sts", "us-east-1") for s in sessions)
    assert type(mine) is type(theirs) and mine.meta.service_model is theirs.meta.service_model
    assert (
        client(sessions[0], "ec2", "eu-west-1").meta.service_model
        is client(sessions[1], "ec2").meta.service_model
    )
    assert mine.get_caller_identity()["Account"] == CALLER
    assert theirs.get_caller_identity()["Account"] == member
    assert [c.by_operation["sts.GetCallerIdentity"] for c in counters] == [1, 1]
    elsewhere = boto3.session.Session().client("sts", region_name="us-east-1")
    assert type(elsewhere) is not type(mine) and elsewhere.meta.service_model is not mine.meta.service_model
    assert elsewhere.get_caller_identity()["Account"] == CALLER


def test_discover_self_and_explicit_list(aws: str) -> None:
    session = make_session(counter=CallCounter())
    assert discover_accounts(Settings(), session) == [Account(CALLER, CALLER)]
    named = Settings(accounts=("111111111111", CALLER), account_names={CALLER: "payer"})
    assert discover_accounts(named, session) == [
        Account("111111111111", "111111111111"),
        Account(CALLER, "payer"),
    ]


def test_discover_organizations_active_accounts_with_names(aws: str) -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = {}
    for name in ("prod", "dev", "old"):
        req = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["Id"]
        ids[name] = org.describe_create_account_status(CreateAccountRequestId=req)["CreateAccountStatus"][
            "AccountId"
        ]
    org.close_account(AccountId=ids["old"])
    statuses = {a["Id"]: a["Status"] for a in org.list_accounts()["Accounts"]}
    assert statuses[ids["old"]] != "ACTIVE"
    settings = Settings(accounts="organizations", account_names={ids["dev"]: "development"})
    found = discover_accounts(settings, make_session(counter=CallCounter()))
    names = {a.id: a.name for a in found}
    assert set(names) == {CALLER, ids["prod"], ids["dev"]}  # the management account is a member too
    assert names[ids["prod"]] == "prod" and names[ids["dev"]] == "development"
    assert ids["old"] not in {a.id for a in found}


def test_organizations_refused_is_an_access_error(aws: str) -> None:
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b'{"__type":"AWSOrganizationsNotInUseException","Message":"not in an organization"}'

    session = make_session(counter=CallCounter())
    session.events.register(
        "before-send.organizations.ListAccounts",
        lambda **_: AWSResponse("http://x", 400, {"Content-Type": "application/x-amz-json-1.1"}, Raw()),
    )
    with pytest.raises(AwsAccessError, match="organizations:ListAccounts failed: AWSOrganizationsNotInUse"):
        discover_accounts(Settings(accounts="organizations"), session)


def test_parse_accounts_option() -> None:
    assert parse_accounts_option("organizations") == "organizations"
    assert parse_accounts_option(" 111111111111, 222222222222 ") == ("111111111111", "222222222222")
    with pytest.raises(InputError, match="not 12 digits"):
        parse_accounts_option("111111111111,abc")


def test_account_sessions_assume_role_once_per_account_across_threads(aws: str) -> None:
    counter = CallCounter()
    sessions = AccountSessions(make_session(counter=counter), role_name="Reader", counter=counter)
    results: list[str] = []

    def work(account: str) -> None:
        ec2 = sessions.clients(account).get("sts")
        results.append(ec2.get_caller_identity()["Account"])

    threads = [threading.Thread(target=work, args=(a,)) for a in ["111111111111", "222222222222", CALLER] * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(results)) == ["111111111111", CALLER, "222222222222"]
    assert results.count("111111111111") == 5
    assert sessions.assume_role_calls == 2  # the caller's own account is used as is
    assert counter.by_operation["sts.AssumeRole"] == 2


def test_account_sessions_pass_external_id_and_renew_before_expiry(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = make_session(counter=CallCounter())
    bodies: list[str] = []
    base.events.register(
        "before-send.sts.AssumeRole", lambda request, **_: bodies.append(str(request.body)) and None
    )
    sessions = AccountSessions(base, role_name="Reader", external_id="ext-123", caller_id=CALLER)
    sessions.clients("111111111111")
    sessions.clients("111111111111")
    assert sessions.assume_role_calls == 1
    assert "ExternalId=ext-123" in bodies[0] and "role%2FReader" in bodies[0]
    # Credentials within the renewal margin of their expiry are replaced.
    monkeypatch.setattr(accounts_mod, "RENEW_BEFORE", accounts_mod.timedelta(hours=24))
    sessions.clients("111111111111")
    assert sessions.assume_role_calls == 2


def test_member_account_without_role_name_is_refused_clearly(aws: str) -> None:
    sessions = AccountSessions(make_session(counter=CallCounter()))
    with pytest.raises(AwsAccessError, match="no role name is set"):
        sessions.clients("111111111111")
    assert sessions.clients(CALLER).get("sts").get_caller_identity()["Account"] == CALLER


def test_resolve_regions_cli_then_config_then_enabled(aws: str) -> None:
    session = make_session(counter=CallCounter())
    config = Settings(regions=("eu-west-1", "us-east-1"), config_path="awscost.toml")
    assert resolve_regions(config, session, ["us-west-2", "us-west-2", "ap-south-1"]) == [
        "us-west-2",
        "ap-south-1",
    ]
    assert resolve_regions(config, session, None) == ["eu-west-1", "us-east-1"]
    enabled = resolve_regions(Settings(), session, None)
    assert "us-east-1" in enabled and enabled == sorted(enabled)
    with pytest.raises(InputError) as err:
        resolve_regions(Settings(), session, ["us-east-1", "eu-nowhere-9"])
    assert err.value.param == "regions" and "eu-nowhere-9" in err.value.message
