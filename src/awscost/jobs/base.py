"""What a job is: typed `Params` in, a typed `Result` out, run with a `Context`; and what it needs to run.

Every front end is an adapter over this: a click command builds `Params` from its options, the Lambda handler
and `awscost run` parse them from an event (`Job.parse`), and each prints or returns `Result.to_json()`.

    Context   settings, the store (opened by the job), a boto3 session factory, the clock, a progress callback
    Job       name, Params type, run(ctx, params) -> Result, schedule, IAM actions, the extra it needs,
              and why it cannot run in Lambda yet (None when it can); and how it is deployed: its
              EventBridge rules (Rule), the stack resources it uses (Grant), its memory and timeout.
              awscost.deploy.stack renders infra/awscost.yaml from these, so the stack cannot drift from them.

Only boto3 and the standard library are imported here: the collector Lambda runs jobs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from awscost.core.config import Settings
from awscost.core.errors import InputError, MissingExtraError
from awscost.core.timeutil import parse_time

if TYPE_CHECKING:
    import boto3

    from awscost.store.base import Store

Schedule = Literal["none", "hourly", "daily", "weekly", "monthly"]

# The stack's resources a job may be granted (awscost.deploy.stack turns each into least-privilege statements):
#   store, store-read     the AWSCost / AWSCostMap tables, read-write or read-only
#   data, data-read       the stack's bucket (datasets, reports, container logs), read-write or read-only
#   bills                 the billing export bucket (read; its KMS key when one is given)
#   members               sts:AssumeRole into the member accounts' collector role
#   mail                  ses:SendRawEmail from the stack's SES identity
#   budgets-read          budgets:ViewBudget on awscost's own budgets (awscost-*), for the report's budget table
#   config                awscost.toml in the stack's bucket or SSM parameter (every function has it)
#   metrics               cloudwatch:PutMetricData in the awscost namespace (every function has it)
#   notify                sns:Publish to the stack's anomaly topic (awscost-anomalies)
Grant = Literal[
    "store",
    "store-read",
    "data",
    "data-read",
    "bills",
    "members",
    "mail",
    "budgets-read",
    "config",
    "metrics",
    "notify",
]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One EventBridge schedule of a job: a cron (UTC) and the event it sends. A string value of `event` may
    hold `${Name}` of a stack parameter or resource (the stack renders the event with Fn::Sub)."""

    name: str  # the rule's suffix: the job's name + "-" + name, e.g. collect-hourly
    cron: str  # an EventBridge cron(...) expression
    event: Mapping[str, Any]
    description: str = ""


class Result(Protocol):
    """A job's typed result; `to_json()` is what the Lambda returns, `awscost run` prints, and is saved."""

    def to_json(self) -> dict[str, Any]: ...


# (done, total or None when unknown, what is being done): the CLI draws a bar, Lambda logs a line.
Progress = Callable[[int, "int | None", str], None]


def _quiet(done: int, total: int | None, what: str) -> None:
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _default_session() -> boto3.Session:
    from awscost.aws.session import make_session

    return make_session()


@dataclasses.dataclass
class Context:
    """What a job is run with. Defaults are production's: the standard boto3 chain, the wall clock, no
    progress output."""

    settings: Settings
    session_factory: Callable[[], boto3.Session] = _default_session
    clock: Callable[[], datetime] = _utc_now
    progress: Progress = _quiet

    def session(self) -> boto3.Session:
        return self.session_factory()

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def store(self, *, must_exist: bool = False) -> Iterator[Store]:
        """The settings' store, closed afterwards. `must_exist`: a job that only reads refuses a SQLite
        path where no store is, rather than creating an empty one."""
        from awscost.store import open_store

        with open_store(self.settings.store, must_exist=must_exist) as store:
            yield store

    @contextmanager
    def optional_store(self) -> Iterator[Store | None]:
        """The store when there is one, else None: for what only reads optional data from it (service
        overrides), so that running in an empty folder leaves no empty store behind."""
        from awscost.store import open_store, store_exists

        if not store_exists(self.settings.store):
            yield None
            return
        with open_store(self.settings.store) as store:
            yield store


P = TypeVar("P")
R = TypeVar("R", bound=Result)


@dataclasses.dataclass(frozen=True)
class Job(Generic[P, R]):
    name: str
    params: type[P]  # a frozen dataclass
    run: Callable[[Context, P], R]
    description: str
    schedule: Schedule = "none"
    iam_actions: tuple[str, ...] = ()
    extra: str | None = None  # the awscost extra it needs beyond boto3 (None: the collector's zip suffices)
    needs: tuple[str, ...] = ()  # the modules of that extra it imports (checked before a run)
    lambda_unavailable: str | None = None  # why it cannot run in Lambda yet; None when it can
    # CloudWatch dimensions and values of a run, published by the Lambda adapter (None: no metrics).
    metrics: Callable[[P, R], tuple[dict[str, str], dict[str, float]]] | None = None
    # How it is deployed (awscost.deploy.stack): no rules = not scheduled (run by hand or `awscost run`).
    rules: tuple[Rule, ...] = ()
    uses: tuple[Grant, ...] = ()
    memory_mb: int = 512
    timeout_s: int = 900
    ephemeral_mb: int = 512  # Lambda's /tmp (512 MB to 10 GB): a billing load downloads bills there

    @property
    def artifact(self) -> Literal["collector", "analytics"]:
        """Which artifact runs it in Lambda: the collector zip (boto3 only) or the analytics image."""
        return "collector" if self.extra is None else "analytics"

    def missing_extra(self) -> MissingExtraError | None:
        """The error to raise when a module of the job's extra is not installed (e.g. in the collector's
        Lambda zip, which holds boto3 only); None when it can run."""
        import importlib

        for module in self.needs:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError:
                return MissingExtraError(
                    f"job {self.name} needs the {self.extra} extra ({module} is not installed)",
                    hint=f"pip install 'awscost[{self.extra}]'",
                )
        return None

    def parse(self, values: Mapping[str, Any], *, where: str = "event") -> P:
        """`Params` from an event or a JSON object, each value checked against its field's type."""
        return params_from_mapping(self.params, values, where=where)


# ---------------------------------------------------------------- Params from an event


def params_from_mapping(cls: type[P], values: Mapping[str, Any], *, where: str) -> P:
    """Build the dataclass `cls` from JSON-like `values`: unknown keys and values of the wrong type are
    InputErrors naming `where.key` (a Lambda event is parsed once, at the edge, into typed values)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)}", where=where, hint=f"known: {', '.join(fields) or 'none'}"
        )
    kwargs = {name: _convert(value, hints[name], f"{where}.{name}") for name, value in values.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field missing
        raise InputError(str(exc).split(".__init__() ")[-1], where=where) from None


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _convert(value, option, where)
            except InputError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is Literal:
        # The same value and type: False is not 0, 30.0 is not 30.
        if not any(value == a and type(value) is type(a) for a in args):
            raise InputError(f"{value!r} is not one of {', '.join(map(repr, args))}", where=where)
        return value
    if origin is tuple:
        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise InputError(f"expected a list, not {type(value).__name__}", where=where)
        inner = args[0] if args else Any
        return tuple(_convert(v, inner, f"{where}[{i}]") for i, v in enumerate(items))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise InputError(f"expected an object, not {type(value).__name__}", where=where)
        key_type, value_type = args or (Any, Any)
        return {
            _convert(k, key_type, where): _convert(v, value_type, f"{where}.{k}") for k, v in value.items()
        }
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, not {value!r}", where=where)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected an integer, not {value!r}", where=where)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"expected a number, not {value!r}", where=where)
        return float(value)
    if hint is Decimal:
        try:
            number = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise InputError(f"expected a decimal number, not {value!r}", where=where)
        return number
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f"expected a string, not {value!r}", where=where)
        return value
    if hint is datetime:
        if not isinstance(value, str):
            raise InputError(f"expected an ISO 8601 time, not {value!r}", where=where)
        return parse_time(value, where=where)
    if hint is date:
        if not isinstance(value, str):
            raise InputError(f"expected a date (YYYY-MM-DD), not {value!r}", where=where)
        return parse_time(value, where=where).date()
    raise TypeError(f"{where}: no event conversion for {hint!r}")  # a Params field type to add here
