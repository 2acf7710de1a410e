"""Block Kit messages (standard library only): every string that came from AWS or a user goes through
`escape`, so a tag value `<!channel>` or `<https://evil|click>` is shown as text, never as a mention or a
link. Limits kept: a section's text 3000 characters, a header's 150, 50 blocks a message.

Replies are ephemeral (seen by the asker alone): a channel may hold people of other audiences.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SECTION_MAX = 3000
HEADER_MAX = 150
BLOCKS_MAX = 50
FALLBACK_MAX = 3000


def escape(text: object) -> str:
    """Slack's three control characters as entities (https://api.slack.com/reference/surfaces/formatting)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header(text: str) -> dict[str, Any]:
    plain = text if len(text) <= HEADER_MAX else text[: HEADER_MAX - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": False}}


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:SECTION_MAX]}}


def fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Up to ten `*label*\\nvalue` fields side by side; label and value are mrkdwn the caller escaped."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in list(pairs)[:10]],
    }


def context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:SECTION_MAX]}]}


def lines(items: Iterable[str]) -> list[dict[str, Any]]:
    """Lines as as few sections as hold them (each under Slack's 3000 characters)."""
    out: list[dict[str, Any]] = []
    chunk: list[str] = []
    size = 0
    for line in items:
        line = line[: SECTION_MAX - 10]
        if chunk and size + len(line) + 1 > SECTION_MAX - 10:
            out.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        out.append(section("\n".join(chunk)))
    return out


def message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """An ephemeral reply: `text` is the notification's fallback (plain, escaped like any mrkdwn)."""
    if len(blocks) > BLOCKS_MAX:
        blocks = [*blocks[: BLOCKS_MAX - 1], context(f"{len(blocks) - BLOCKS_MAX + 1} more parts not shown")]
    return {"response_type": "ephemeral", "text": text[:FALLBACK_MAX], "blocks": blocks}


def error(text: str, hint: str | None = None) -> dict[str, Any]:
    """A mistake or a refusal, said in one line (and a hint)."""
    blocks = [section(f":warning: {text}")]
    if hint:
        blocks.append(context(hint))
    return message(text, blocks)


__all__ = ["context", "error", "escape", "fields", "header", "lines", "message", "section"]
