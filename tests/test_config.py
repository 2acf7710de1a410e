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


# -- bad input the review found accepted or crashing (issue 11 item 10, item 5's org_name) ------------------
@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[awscost]\naccounts = ""\n', "awscost.accounts", "names no account"),
        ("[awscost]\naccounts = []\n", "awscost.accounts", "names no account"),
        (
            'store = "sqlite:///x.db"\n[awscost]\norg_name = "acme"\n',
            "awscost.toml: store",
            "outside every table",
        ),
        ("[awscost]\n[accounts]\nnamez = {}\n", "accounts.namez", "unknown key 'namez'"),
        ('[containers]\nservice_lable = "team"\n', "containers.service_lable", "unknown key 'service_lable'"),
        ("[containers]\nservice_label = 5\n", "containers.service_label", "non-empty string"),
        ('[awscost]\norg_name = "a:b"\n', "awscost.org_name", "contains ':'"),
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "awscost.toml", "nested too deeply"),
    ],
)
def test_bad_values_once_accepted_are_errors(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    rendered = info.value.render()
    assert str(path) in rendered and where in rendered and message in rendered, rendered


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "awscost.toml"
    path.write_bytes(b'[awscost]\norg_name = "caf\xe9"\n')  # Latin-1
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.render() == f"{path}:2: not UTF-8 text (byte 0xe9)"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWSCOST_ACCOUNTS": ","}, "environment: AWSCOST_ACCOUNTS: names no account"),
        ({"AWSCOST_ORG_NAME": "x:y"}, "environment: AWSCOST_ORG_NAME: 'x:y' contains ':'"),
    ],
)
def test_bad_environment_values_once_accepted_are_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={**env, "AWSCOST_CONFIG": "/dev/null"})
    assert info.value.render().startswith(message)


def test_the_tables_owned_elsewhere_keep_their_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[awscost]\norg_name = "acme"\n[accounts.names]\n"111111111111" = "prod"\n'
        '[containers]\nservice_label = "team.service"\n[report]\nbucket = "b"\n',
    )
    settings = load_settings(path, env={})
    assert settings.account_names == {"111111111111": "prod"}
    assert settings.section("containers") == {"service_label": "team.service"}
    # a file without [awscost] still holds its keys at the top
    flat = write(tmp_path, 'org_name = "flat"\naccounts = ["111111111111"]\n')
    assert load_settings(flat, env={}).accounts == ("111111111111",)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (0.1, "TOML float"),
        (True, 'a string like "50"'),
        ("ten", "not an amount in USD"),
        ("NaN", "not an amount above 0"),
        ("0", "not an amount above 0"),
        ("12.345", "more than two decimals"),
        ("1000000", "not an amount above 0"),
    ],
)
def test_an_exact_amount_is_a_string_or_an_integer_in_range(value: object, says: str) -> None:
    from decimal import Decimal

    from awscost.core.config import exact_amount

    kw = {"what": "an amount in USD", "example": "50", "currency": "USD", "positive": True}
    with pytest.raises(ConfigError, match=says) as err:
        exact_amount(value, "awscost.toml: budgets.monthly", below=Decimal(1000000), cents=True, **kw)  # type: ignore[arg-type]
    assert err.value.where == "awscost.toml: budgets.monthly"
    assert exact_amount(" 12.50 ", "w", **kw) == Decimal("12.50")
    assert exact_amount(0, "w", **{**kw, "positive": False}) == 0
