"""Which accounts to collect, and a boto3 session for each.

`discover_accounts` reads `settings.accounts`: "self" (the caller's account, sts:GetCallerIdentity),
an explicit list of 12-digit ids (an id given twice counts once), or "organizations" (every ACTIVE
account of the AWS Organization; run it from the management account or a delegated administrator).
Display names come from `[accounts.names]` in the config, else from Organizations, else the id.

`AccountSessions` gives one session per account: the caller's own account uses the caller's
credentials, every other account is entered by STS AssumeRole `arn:aws:iam::<id>:role/<role_name>`
(optional ExternalId). Credentials are cached per account until shortly before they expire, so a run
makes one AssumeRole per account, never one per region x service (the original's defect). Thread-safe:
concurrent requests for one account wait for one call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from awscost.aws.session import CallCounter, ClientCache, client, make_session
from awscost.core.config import Settings, validate_account_id
from awscost.core.errors import AwsAccessError, ConfigError, InputError

# Renew assumed-role credentials this long before they expire, so no call is signed with nearly-dead keys.
RENEW_BEFORE = timedelta(minutes=5)
SESSION_NAME = "awscost"


@dataclass(frozen=True)
class Account:
    id: str
    name: str


def _aws_error(exc: Exception, what: str, where: str) -> AwsAccessError:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return AwsAccessError(f"{what} failed: {err.get('Code')}: {err.get('Message')}", where=where)
    return AwsAccessError(f"{what} failed: {exc}", where=where)


def caller_account(session: boto3.Session, config: Config | None = None) -> str:
    try:
        return str(client(session, "sts", config=config).get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise _aws_error(exc, "sts:GetCallerIdentity", "credentials") from None


def parse_accounts_option(value: str | None) -> str | tuple[str, ...] | None:
    """`--accounts`: "self", "organizations" or a comma list of 12-digit ids (validated)."""
    if value is None:
        return None
    value = value.strip()
    if value in ("self", "organizations"):
        return value
    ids = [v.strip() for v in value.split(",") if v.strip()]
    if not ids:
        raise InputError("no account ids given", param="accounts")
    try:
        return tuple(validate_account_id(v, where="accounts") for v in ids)
    except ConfigError as exc:
        raise InputError(exc.message, param="accounts") from None


def discover_accounts(
    settings: Settings, session: boto3.Session, config: Config | None = None
) -> list[Account]:
    names = settings.account_names
    spec = settings.accounts
    if spec == "self":
        own = caller_account(session, config)
        return [Account(own, names.get(own, own))]
    if spec == "organizations":
        org = client(session, "organizations", config=config)
        out: list[Account] = []
        try:
            for page in org.get_paginator("list_accounts").paginate():
                for acct in page["Accounts"]:
                    if acct.get("Status", "ACTIVE") != "ACTIVE":
                        continue
                    aid = str(acct["Id"])
                    out.append(Account(aid, names.get(aid) or acct.get("Name") or aid))
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error(
                exc,
                "organizations:ListAccounts",
                "accounts = organizations (run it from the management account)",
            ) from None
        if not out:
            raise AwsAccessError("the Organization lists no ACTIVE account", where="accounts = organizations")
        return sorted(out, key=lambda a: a.id)
    if isinstance(spec, str):
        spec = (spec,)
    # The one place the list is resolved, whatever it came from (--accounts, the config, AWSCOST_ACCOUNTS):
    # an id given twice is collected once, so the org-wide totals never count an account twice.
    ids = dict.fromkeys(validate_account_id(a, where="accounts") for a in spec)
    return [Account(a, names.get(a, a)) for a in ids]


def accounts_of_ou(session: boto3.Session, unit: str) -> list[str]:
    """The ACTIVE accounts under an Organizations OU (or root) id, in its child OUs too (a report audience
    named by OU follows the organization as accounts move)."""
    org = client(session, "organizations")
    found: list[str] = []
    pending = [unit]
    try:
        while pending:
            parent = pending.pop()
            for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
                found += [str(a["Id"]) for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE"]
            for page in org.get_paginator("list_children").paginate(
                ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
            ):
                pending += [str(c["Id"]) for c in page["Children"]]
    except (ClientError, BotoCoreError) as exc:
        raise _aws_error(exc, "organizations:ListAccountsForParent", f"OU {unit}") from None
    return sorted(set(found))


def organization_names(session: boto3.Session) -> dict[str, str]:
    """Account id -> name from Organizations; {} where it cannot be asked (not in an Organization, or a
    member account without the permission): names are a nicety, never a reason to fail a report."""
    try:
        org = client(session, "organizations")
        return {
            str(a["Id"]): str(a.get("Name") or a["Id"])
            for page in org.get_paginator("list_accounts").paginate()
            for a in page["Accounts"]
        }
    except (ClientError, BotoCoreError):
        return {}


class AccountSessions:
    """A session (and its client cache) per account id; one AssumeRole per account per credential life."""

    def __init__(
        self,
        base: boto3.Session,
        *,
        role_name: str | None = None,
        external_id: str | None = None,
        counter: CallCounter | None = None,
        caller_id: str | None = None,
        config: Config | None = None,
    ) -> None:
        self.base = base
        self._config = config  # every client of every account (timeouts, retries); None = client_config()
        self.role_name = role_name
        self.external_id = external_id
        self.counter = counter
        self._caller_id = caller_id
        self._base_clients = ClientCache(base, config)  # the caller's own account, and its STS client
        self._lock = threading.Lock()
        self._caller_lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._cached: dict[str, tuple[ClientCache, datetime | None]] = {}
        # A refused AssumeRole is remembered for the run, so N regions x K kinds do not each retry it.
        self._failed: dict[str, AwsAccessError] = {}
        self.assume_role_calls = 0

    @property
    def caller_id(self) -> str:
        with self._caller_lock:
            if self._caller_id is None:
                self._caller_id = caller_account(self.base, self._config)
            return self._caller_id

    def _account_lock(self, account_id: str) -> threading.Lock:
        with self._lock:
            return self._account_locks.setdefault(account_id, threading.Lock())

    def clients(self, account_id: str) -> ClientCache:
        """The client cache of `account_id`, assuming the role if needed (AwsAccessError if it cannot)."""
        with self._account_lock(account_id):
            if account_id in self._failed:
                raise self._failed[account_id]
            found = self._cached.get(account_id)
            if found is not None:
                cache, expires = found
                if expires is None or datetime.now(UTC) < expires - RENEW_BEFORE:
                    return cache
            try:
                cache, expires = self._enter(account_id)
            except AwsAccessError as exc:
                self._failed[account_id] = exc
                raise
            self._cached[account_id] = (cache, expires)
            return cache

    def session(self, account_id: str) -> boto3.Session:
        return self.clients(account_id).session

    def _enter(self, account_id: str) -> tuple[ClientCache, datetime | None]:
        if account_id == self.caller_id:
            return self._base_clients, None
        if not self.role_name:
            raise AwsAccessError(
                f"account {account_id} is not the caller's ({self.caller_id}) and no role name is set",
                where=f"account {account_id}",
                hint="set role_name (e.g. OrganizationAccountAccessRole) in the settings or the collection's params",
            )
        arn = f"arn:aws:iam::{account_id}:role/{self.role_name}"
        kwargs: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": SESSION_NAME}
        if self.external_id:
            kwargs["ExternalId"] = self.external_id
        try:
            with self._lock:
                self.assume_role_calls += 1
            creds = self._base_clients.get("sts").assume_role(**kwargs)["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise _aws_error(exc, f"sts:AssumeRole {arn}", f"account {account_id}") from None
        session = make_session(creds, self.base.region_name, counter=self.counter)
        expiration = creds.get("Expiration")
        if isinstance(expiration, datetime) and expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=UTC)
        return ClientCache(session, self._config), expiration if isinstance(expiration, datetime) else None
