"""The README: its two set-up commands come first, and its command table names exactly the commands, the
subcommands and the flags that `awscost --help` has."""

from __future__ import annotations

import re
from pathlib import Path

import click

from awscost.entrypoints.cli import COMMANDS, cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def command_rows() -> list[str]:
    """Each `awscost ...` usage in the first cell of the command table (cells split at unescaped pipes)."""
    section = README.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    out: list[str] = []
    for line in section.splitlines():
        cells = re.split(r"(?<!\\)\|", line)
        if len(cells) > 2:
            out += re.findall(r"`(awscost [^`]+)`", cells[1])
    return out


def test_the_readme_opens_with_the_two_set_up_commands() -> None:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block is not None and README.index("```bash") < README.index("\n## ")
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_the_command_table_matches_the_command_line() -> None:
    """A group's subcommands may share one row (`billing load|summary|...`) or have a row each (`report ri`,
    `report cost`); either way the rows name them all, and each row's flags are its subcommand's."""
    ctx = click.Context(cli)
    listed: dict[str, list[list[str]]] = {}
    for usage in command_rows():
        words = usage.replace("\\|", "|").split()
        listed.setdefault(words[1], []).append(words[2:])
    assert sorted(listed) == sorted(COMMANDS), "README command table vs the registered commands"
    for name, rows in listed.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        named_in_rows: list[str] = []
        for rest in rows:
            if isinstance(cmd, click.Group):
                named = rest[0].split("|")
                named_in_rows += named
                target = cmd.get_command(ctx, named[0]) if len(named) == 1 else None
            else:
                target = cmd
            flags = {f for word in rest for f in re.findall(r"--[a-z][a-z-]*", word)}
            if target is not None:
                known = {
                    opt
                    for p in target.params
                    for opt in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]
                }
                assert flags <= known, (name, flags - known)
            else:
                assert not flags, (name, "flags on a row of several subcommands")
        if isinstance(cmd, click.Group):
            assert sorted(named_in_rows) == sorted(cmd.list_commands(ctx)), name
        else:
            assert len(rows) == 1, (name, "one row per plain command")
