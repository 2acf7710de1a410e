"""What the Slack function answers itself, within Slack's 3 seconds and before anything heavy is imported:
`help`, a command that is not in the grammar, a workspace or user that is refused. Everything else is
acknowledged and answered through `response_url` (answer.py). Standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from awscost.entrypoints.slack import blocks
from awscost.entrypoints.slack.config import SlackSettings
from awscost.entrypoints.slack.parse import Command, CommandError, help_lines, parse

WORKING = "Working on it: the answer follows in a moment."


@dataclass(frozen=True)
class Asked:
    """A slash command's payload, as far as awscost reads it (Slack's form fields)."""

    text: str
    user_id: str
    channel_id: str | None = None
    team_id: str | None = None
    response_url: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Asked:
        return cls(
            text=str(body.get("text") or ""),
            user_id=str(body.get("user_id") or ""),
            channel_id=body.get("channel_id") or None,
            team_id=body.get("team_id") or None,
            response_url=body.get("response_url") or None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "user_id": self.user_id,
            "channel_id": self.channel_id,
            "team_id": self.team_id,
            "response_url": self.response_url,
        }


def help_message() -> dict[str, Any]:
    return blocks.message(
        "awscost commands",
        [
            blocks.header("/awscost"),
            *blocks.lines(help_lines()),
            blocks.context("Replies are seen by you alone; you see your audience's accounts only."),
        ],
    )


def refusal(config: SlackSettings, asked: Asked) -> dict[str, Any] | None:
    """Why this workspace or user may not ask (an ephemeral reply), or None."""
    if config.team_id is not None and asked.team_id != config.team_id:
        return blocks.error("This workspace is not the one awscost answers.")
    if config.audience_of(asked.user_id, asked.channel_id) is None:
        return blocks.error(
            "You are not allowed to see AWS costs here.",
            "Ask an awscost admin to map your Slack user (or this channel) to an audience in [slack].",
        )
    return None


def mistake(exc: CommandError) -> dict[str, Any]:
    return blocks.error(blocks.escape(exc.message), "Try `/awscost help`.")


def quick(config: SlackSettings, asked: Asked, today: date | None = None) -> tuple[Command | None, Any]:
    """(the parsed command, None) when the work is the analytics side's; (None, reply) when answered here."""
    refused = refusal(config, asked)
    if refused is not None:
        return None, refused
    try:
        command = parse(asked.text, today or datetime.now(UTC).date())
    except CommandError as exc:
        return None, mistake(exc)
    if command.name == "help":
        return None, help_message()
    return command, None


__all__ = ["WORKING", "Asked", "help_message", "mistake", "quick", "refusal"]
