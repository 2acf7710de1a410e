"""Options every command shares: --config, --store, --format. Commands get a loaded `Settings`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from awscost.core.config import Settings, load_settings
from awscost.core.output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def with_settings(func: F) -> F:
    """Add --config and --store; call `func(settings=Settings, ...)`."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="AWSCOST_CONFIG",
        help="Config file (default ./awscost.toml, or $AWSCOST_CONFIG).",
    )
    @click.option(
        "--store", "store_url", default=None, help="Store URL: sqlite:///PATH or dynamodb://TABLE?region=R."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, store_url: str | None, **kwargs: Any) -> Any:
        settings = load_settings(config_path).with_overrides(store=store_url)
        return func(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def format_option(default: str = "table", formats: tuple[str, ...] = FORMATS) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(formats),
        default=default,
        show_default=True,
        help="Output format.",
    )


def csv_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option value; None stays None."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def settings_for(settings: Settings, **overrides: Any) -> Settings:
    return settings.with_overrides(**overrides)
