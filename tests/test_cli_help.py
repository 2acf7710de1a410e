"""`awscost --help` lists every command from the registry's declared one-line help, importing none of them."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from awscost.entrypoints.cli import COMMANDS, SHORT_HELP

HEAVY = ("moto", "boto3", "botocore", "duckdb", "pandas", "numpy", "pyarrow", "rich", "awscost_sandbox")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_declared_line_is_the_commands_own_short_help(name: str) -> None:
    cmd = COMMANDS.get(name)
    assert not cmd.hidden  # the listing shows every command
    for limit in (30, 45, 74, 10_000):  # as the listing shortens it at any terminal width
        assert click.Command(name, help=SHORT_HELP[name]).get_short_help_str(limit) == cmd.get_short_help_str(
            limit
        )


def test_every_command_declares_its_help() -> None:
    assert set(SHORT_HELP) == set(COMMANDS)


def _imported_by(*args: str) -> list[str]:
    code = (
        "import sys\nfrom awscost.entrypoints.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "import json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["billing", "--help"],
        ["collect", "--help"],
        ["billing", "summary", "--help"],
        ["forecast", "--help"],
    ],
)
def test_help_imports_no_heavy_package(args: list[str]) -> None:
    imported = _imported_by(*args)
    assert "click" in imported  # the listing did run
    assert [m for m in HEAVY if m in imported] == [], args
