"""The words of `/awscost`, parsed once into a `Command` (standard library only: the Slack Lambda answers
`help` and a mistake itself, before anything heavy is imported or the analytics function is asked).

    cost [yesterday|mtd|last-month|YYYY-MM] [by account|service|tag KEY] [account NAME]
    top [yesterday|mtd|last-month|YYYY-MM] [account NAME]
    usage KIND [REGION]
    ri | anomalies | forecast | help

A mistake is a `CommandError` naming the word at fault and what was expected there: the reply is that one
line and the help, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from awscost.core.config import REGION

SUBCOMMANDS = ("cost", "top", "usage", "ri", "anomalies", "forecast", "help")
PERIOD_WORDS = ("yesterday", "mtd", "last-month")
GROUPS = ("account", "service", "tag")
MAX_WORDS = 12  # no command of the grammar is longer; more is a mistake, not something to read on
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_NAME = re.compile(r"^[\w.@:+/=-]{1,128}$")  # an account name or id; a tag key (user:Spend_Category)

HELP = (
    ("cost [yesterday|mtd|last-month|YYYY-MM] [by account|service|tag KEY] [account NAME]",
     "the cost report's totals (default: month to date)"),
    ("top [PERIOD] [account NAME]", "what rose most, and why"),
    ("usage KIND [REGION]", "the last collected hour of a usage kind (ec2, rds, ...)"),
    ("ri", "the last RI / Savings Plans plan: savings, coverage, expiring"),
    ("anomalies", "the cost anomalies of this month"),
    ("forecast", "the month-end forecast"),
    ("help", "this list"),
)  # fmt: skip


class CommandError(ValueError):
    """A word of the command that is not in the grammar: `word` is shown back to the user."""

    def __init__(self, message: str, word: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.word = word


@dataclass(frozen=True)
class Command:
    name: str  # one of SUBCOMMANDS
    period: str = "month-to-date"  # a period of reports/periods.py
    by: str | None = None  # account | service | tag
    tag: str | None = None  # the tag key of `by tag KEY`
    account: str | None = None  # an account's name or id, narrowing the viewer's audience
    kind: str | None = None  # usage KIND
    region: str | None = None  # usage KIND REGION
    period_word: str = "mtd"  # as the user said it (shown back)


def period_of(word: str, today: date) -> str:
    """A period word as reports/periods.py names it; yesterday is the one-day range of the day before."""
    if word == "mtd":
        return "month-to-date"
    if word == "last-month":
        return "last-month"
    if word == "yesterday":
        day = today - timedelta(days=1)
        return f"{day.isoformat()}..{day.isoformat()}"
    if _MONTH.match(word):
        return word
    raise CommandError(f"`{word}` is not a period: yesterday, mtd, last-month or YYYY-MM", word)


def _is_period(word: str) -> bool:
    return word in PERIOD_WORDS or bool(re.match(r"^\d{4}-\d", word))


def parse(text: str, today: date) -> Command:
    """The command `text` says (the words after /awscost); an empty text is `help`."""
    words = text.split()
    if not words:
        return Command("help")
    if len(words) > MAX_WORDS:
        raise CommandError(f"too many words ({len(words)}): no command has more than {MAX_WORDS}")
    name, rest = words[0].lower(), words[1:]
    if name not in SUBCOMMANDS:
        raise CommandError(f"`{words[0]}` is not a command: {', '.join(SUBCOMMANDS)}", words[0])
    if name in ("ri", "anomalies", "forecast", "help"):
        if rest:
            raise CommandError(f"`{name}` takes no more words, not `{rest[0]}`", rest[0])
        return Command(name)
    if name == "usage":
        return _usage(rest)
    return _cost(name, rest, today)


def _usage(rest: list[str]) -> Command:
    if not rest:
        raise CommandError("`usage` needs a kind: usage KIND [REGION], e.g. usage ec2 us-east-1")
    kind = rest[0].lower()
    if not _KIND.match(kind):
        raise CommandError(f"`{rest[0]}` is not a usage kind (ec2, rds, elasticache, ...)", rest[0])
    region = None
    if len(rest) > 1:
        region = rest[1].lower()
        if not REGION.match(region):
            raise CommandError(f"`{rest[1]}` is not a region (e.g. us-east-1)", rest[1])
    if len(rest) > 2:
        raise CommandError(f"`usage` takes a kind and a region, not `{rest[2]}`", rest[2])
    return Command("usage", kind=kind, region=region)


def _cost(name: str, rest: list[str], today: date) -> Command:
    period, word = "month-to-date", "mtd"
    by = tag = account = None
    i = 0
    if i < len(rest) and _is_period(rest[i].lower()):
        word = rest[i].lower()
        period = period_of(word, today)
        i += 1
    while i < len(rest):
        w = rest[i].lower()
        if w == "by" and name == "cost":
            if by is not None:
                raise CommandError("`by` is given twice", rest[i])
            if i + 1 >= len(rest):
                raise CommandError("`by` needs what to group by: account, service or tag KEY", rest[i])
            by = rest[i + 1].lower()
            if by not in GROUPS:
                raise CommandError(
                    f"`{rest[i + 1]}` is not a grouping: account, service or tag KEY", rest[i + 1]
                )
            i += 2
            if by == "tag":
                if i >= len(rest):
                    raise CommandError("`tag` needs a tag key after it, e.g. by tag Spend_Category", "tag")
                if not _NAME.match(rest[i]):
                    raise CommandError(f"`{rest[i]}` is not a tag key (e.g. Spend_Category)", rest[i])
                tag = rest[i]
                i += 1
        elif w == "account":
            if account is not None:
                raise CommandError("`account` is given twice", rest[i])
            if i + 1 >= len(rest):
                raise CommandError("`account` needs an account's name or 12-digit id", rest[i])
            if not _NAME.match(rest[i + 1]):
                raise CommandError(f"`{rest[i + 1]}` is not an account name or id", rest[i + 1])
            account = rest[i + 1]
            i += 2
        elif _is_period(w):
            raise CommandError(f"`{rest[i]}`: the period comes first, right after `{name}`", rest[i])
        else:
            expected = "by account|service|tag KEY or account NAME" if name == "cost" else "account NAME"
            raise CommandError(f"`{rest[i]}` is not understood here: expected {expected}", rest[i])
    return Command(name, period=period, by=by, tag=tag, account=account, period_word=word)


def help_lines() -> list[str]:
    return [f"`/awscost {usage}`: {what}" for usage, what in HELP]


__all__ = ["HELP", "SUBCOMMANDS", "Command", "CommandError", "help_lines", "parse", "period_of"]
