"""Settings: file + env + CLI overrides, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from awscost.core.config import STARTER_CONFIG, load_settings, write_starter_config
from awscost.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "awscost.toml"
    path.write_text(text)
    return path


def test_starter_config_loads_to_the_defaults(tmp_path: Path) -> None:
    path = write_starter_config(tmp_path / "awscost.toml")
    settings = load_settings(path, env={})
    assert settings.store == "sqlite:///awscost.db"
    assert settings.org_name == "org"
    assert settings.accounts == "self"
    assert settings.regions == ()
    assert settings.config_path == str(path)
    assert path.read_text() == STARTER_CONFIG


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write_starter_config(tmp_path / "awscost.toml")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(path)
    write_starter_config(path, force=True)


def test_values_env_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[awscost]\norg_name = "acme"\nregions = ["us-east-1", "eu-west-1"]\naccounts = ["111111111111"]\n'
        'role_name = "Reader"\n[accounts.names]\n"111111111111" = "prod"\n',
    )
    settings = load_settings(path, env={"AWSCOST_REGIONS": "us-west-2", "AWSCOST_MAX_WORKERS": "4"})
    assert settings.org_name == "acme"
    assert settings.regions == ("us-west-2",)  # env beats the file
    assert settings.max_workers == 4
    assert settings.accounts == ("111111111111",)
    assert settings.account_names == {"111111111111": "prod"}
    assert settings.with_overrides(store="sqlite:///x.db", org_name=None).store == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[awscost]\nregionz = []\n", "awscost.regionz", "unknown key"),
        ('[awscost]\nregions = ["us-east-1", "mars-1"]\n', "awscost.regions", "not an AWS region"),
        ('[awscost]\naccounts = ["12345"]\n', "awscost.accounts", "not 12 digits"),
        ("[awscost]\nmax_workers = 0\n", "awscost.max_workers", "1 to 256"),
        ('[awscost]\norg_name = ""\n', "awscost.org_name", "non-empty"),
        ("[awscost\n", "awscost.toml", "not valid TOML"),
        ('[awscots]\nstore = "sqlite:///x.db"\n', "awscost.toml", "unknown table [awscots]"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    rendered = info.value.render()
    assert str(path) in rendered
    assert where in rendered
    assert message in rendered


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(None, env={"AWSCOST_CONFIG": str(tmp_path / "nope.toml")})


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="AWSCOST_MAX_WORKERS"):
        load_settings(None, env={"AWSCOST_MAX_WORKERS": "many", "AWSCOST_CONFIG": "/dev/null"})


def test_the_older_report_keys_are_defaults_of_the_report_table(tmp_path: Path) -> None:
    from awscost.reports.config import ORG_AUDIENCE, report_settings

    path = write(tmp_path, '[awscost]\nreport_bucket = "costs"\nmail_to = ["a@example.com"]\n')
    settings = load_settings(path, env={"AWSCOST_REPORT_BUCKET": "other"})
    report = report_settings(settings)
    assert report.bucket == "other"
    assert [(a.name, a.recipients, a.accounts) for a in report.audiences] == [
        (ORG_AUDIENCE, ("a@example.com",), None)
    ]
