"""The one registry of collectors: kind -> Collector. Adding a kind is one new module listed here.

Also the IAM policy the registry needs (`iam_actions`), including the runner's own calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from awscost.core.errors import InputError
from awscost.usage.collectors import (  # noqa: F401 (importing a module registers its collectors)
    dynamodb,
    ec2,
    ec2os,
    elasticache,
    es,
    rds,
    redshift,
    reservations,
)
from awscost.usage.collectors.base import COLLECTORS, Collector

# Calls the runner itself makes: who am I, which accounts, which regions, enter each account.
RUNNER_IAM_ACTIONS = (
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:ListAccounts",
    "ec2:DescribeRegions",
)

SCHEDULES = ("hourly", "daily")


def resolve_kinds(kinds: str | Iterable[str] | None) -> list[str]:
    """ "hourly" | "daily" | "all" | comma list | iterable of kinds -> registered kinds, in registry order.

    Note that daily kinds are one sample per day: run `--kinds daily` once a day.
    """
    if kinds is None or kinds == "all":
        return list(COLLECTORS)
    if isinstance(kinds, str):
        if kinds in SCHEDULES:
            return [k for k, c in COLLECTORS.items() if c.schedule == kinds]
        kinds = [k.strip() for k in kinds.split(",") if k.strip()]
    wanted: list[str] = []
    for kind in kinds:
        if kind in ("all", *SCHEDULES):
            wanted.extend(k for k in resolve_kinds(kind) if k not in wanted)
            continue
        if kind not in COLLECTORS:
            raise InputError(
                f"unknown kind {kind!r}",
                where="--kinds",
                hint=f"known: hourly, daily, all, {', '.join(COLLECTORS)}",
            )
        if kind not in wanted:
            wanted.append(kind)
    if not wanted:
        raise InputError(
            "no kinds given", where="--kinds", hint=f"known: hourly, daily, all, {', '.join(COLLECTORS)}"
        )
    return wanted


def iam_actions(kinds: Iterable[str] | None = None, *, runner: bool = True) -> list[str]:
    """Sorted IAM actions needed to collect `kinds` (default all), plus the runner's own when `runner`."""
    chosen = resolve_kinds(list(kinds) if kinds is not None else None)
    actions = set(RUNNER_IAM_ACTIONS) if runner else set()
    for kind in chosen:
        actions.update(COLLECTORS[kind].iam_actions)
    return sorted(actions)


__all__ = ["COLLECTORS", "RUNNER_IAM_ACTIONS", "Collector", "iam_actions", "resolve_kinds"]
