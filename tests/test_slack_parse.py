"""The `/awscost` grammar (entrypoints/slack/parse.py): what each form means, and over any text (hypothesis) a
Command or one CommandError naming the word at fault, never another exception; the quick answers' refusals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from awscost.entrypoints.slack.config import SlackSettings
from awscost.entrypoints.slack.parse import SUBCOMMANDS, Command, CommandError, parse
from awscost.entrypoints.slack.quick import Asked, quick

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command("help")),
        ("cost", Command("cost")),
        ("COST Yesterday", Command("cost", period="2026-02-28..2026-02-28", period_word="yesterday")),
        ("cost mtd by service", Command("cost", by="service")),
        ("cost last-month by account", Command("cost", period="last-month", by="account", period_word="last-month")),
        ("cost 2025-12 by tag Spend_Category account prod", Command("cost", period="2025-12", by="tag",
                                                                  tag="Spend_Category", account="prod",
                                                                  period_word="2025-12")),
        ("cost account 123456789012", Command("cost", account="123456789012")),
        ("top last-month", Command("top", period="last-month", period_word="last-month")),
        ("usage EC2 us-east-1", Command("usage", kind="ec2", region="us-east-1")),
        ("ri", Command("ri")),
        ("anomalies", Command("anomalies")),
        ("forecast", Command("forecast")),
    ],
)  # fmt: skip
def test_each_form(text: str, command: Command) -> None:
    assert parse(text, TODAY) == command


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("spend", "spend"),
        ("cost by", "by"),
        ("cost by tag", "tag"),
        ("cost by account by service", "by"),
        ("cost account a account b", "account"),
        ("cost mtd 2026-01", "2026-01"),
        ("top by service", "by"),
        ("usage ec2 us-east-1 extra", "extra"),
        ("forecast next", "next"),
    ],
)
def test_each_mistake_names_its_word(text: str, word: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text, TODAY)
    assert caught.value.word == word and f"`{word}`" in caught.value.message


@given(st.text(max_size=200))
def test_any_text_is_a_command_or_one_clear_mistake(text: str) -> None:
    try:
        command = parse(text, TODAY)
    except CommandError as exc:
        assert exc.message and (exc.word is None or exc.word in text)
    else:
        assert command.name in SUBCOMMANDS


@given(st.lists(st.sampled_from(["cost", "top", "by", "account", "service", "tag", "mtd", "x", "2026-02"]),
                max_size=8))  # fmt: skip
def test_any_arrangement_of_the_grammars_words_is_a_command_or_one_clear_mistake(words: list[str]) -> None:
    try:
        parse(" ".join(words), TODAY)
    except CommandError as exc:
        assert exc.message


def test_refusals_are_said_before_any_parsing() -> None:
    config = SlackSettings(users={"U0A": "organization"}, channels={"C0B": "web"}, team_id="T0OURS")
    _, reply = quick(config, Asked("cost", "U0A", "C0X", "T0OTHER"))
    assert reply is not None and "not the one awscost answers" in reply["text"]
    _, reply = quick(config, Asked("cost", "U0NOBODY", "C0X", "T0OURS"))
    assert reply is not None and "not allowed" in reply["text"]
    command, reply = quick(config, Asked("cost", "U0NOBODY", "C0B", "T0OURS"))
    assert reply is None and command == Command("cost")
    assert config.audience_of("U0A", "C0B") == "organization"  # the user's own mapping wins


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
slack_tables = st.dictionaries(
    st.sampled_from(["team_id", "alerts_channel", "max_age", "users", "channels", "token"])
    | st.text(max_size=8),
    values
    | st.dictionaries(
        st.sampled_from(["U0A1", "C0B2", "bob", ""]) | st.text(max_size=8),
        st.sampled_from(["organization", "nobody"]) | values,
        max_size=3,
    ),
    max_size=5,
)


@given(slack_tables)
@example({"users": {"U0A1": []}})  # an unhashable audience: once a TypeError
@example({"max_age": float("nan"), "team_id": 7})
def test_any_slack_table_is_settings_or_one_error_naming_the_file(table: dict[str, object]) -> None:
    from awscost.core.config import Settings
    from awscost.core.errors import ConfigError
    from awscost.entrypoints.slack.config import slack_settings

    try:
        parsed = slack_settings(Settings(raw={"slack": table}, config_path="awscost.toml"))
    except ConfigError as exc:
        assert exc.render().startswith("awscost.toml: slack"), exc.render()
    else:
        assert all(a == "organization" for a in [*parsed.users.values(), *parsed.channels.values()])
