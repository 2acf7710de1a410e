"""The one registry type: lazy entries, unknown names named, a missing module never a silently missing feature."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from awscost.core.errors import InputError, MissingExtraError
from awscost.core.registry import Registry, extra_for


@pytest.fixture()
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_entries_import_when_first_asked_for(plugin_dir: Path) -> None:
    (plugin_dir / "lazy_plugin_a.py").write_text("VALUE = 41 + 1\n")
    reg: Registry[int] = Registry("thing")
    reg.add("a", "lazy_plugin_a:VALUE")
    reg.add("b", 7)
    assert "lazy_plugin_a" not in sys.modules
    assert reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2
    assert reg.get("a") == 42 and "lazy_plugin_a" in sys.modules
    assert dict(reg.items()) == {"a": 42, "b": 7}


def test_an_unknown_name_is_an_input_error_naming_the_known_ones() -> None:
    reg: Registry[int] = Registry("collector", param="kinds")
    reg.add("ec2", 1)
    reg.add("rds", 2)
    with pytest.raises(InputError) as err:
        reg.get("ec3")
    assert err.value.render() == "kinds: unknown collector 'ec3' (known: ec2, rds)"
    assert err.value.param == "kinds"  # the command line shows its flag instead (test_cli.py)


def test_one_name_one_entry() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("a", 1)
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("a", 2)


def test_a_missing_optional_package_names_the_extra_that_installs_it(
    plugin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (plugin_dir / "needs_xlsx.py").write_text("import xlsxwriter\nTHING = 1\n")
    monkeypatch.setitem(sys.modules, "xlsxwriter", None)  # as if not installed
    reg: Registry[int] = Registry("report")
    reg.add("ri", "needs_xlsx:THING")
    with pytest.raises(MissingExtraError) as err:
        reg.get("ri")
    assert "report 'ri' needs the optional package 'xlsxwriter'" in err.value.render()
    assert "pip install 'awscost[reports]'" in err.value.render()
    # Read from awscost's own metadata, so it follows pyproject.toml.
    assert extra_for("duckdb") == "billing" and extra_for("moto") == "sandbox"
    assert extra_for("awscost_sandbox") == "sandbox" and extra_for("no_such_package") is None


def test_our_own_missing_module_is_a_bug_with_its_traceback(plugin_dir: Path) -> None:
    (plugin_dir / "broken_plugin.py").write_text("import awscost.no_such_module\n")
    reg: Registry[int] = Registry("thing")
    reg.add("x", "broken_plugin:X")
    with pytest.raises(ModuleNotFoundError, match=r"awscost\.no_such_module"):
        reg.get("x")
    reg.add("y", "awscost.core.errors:NoSuchName")
    with pytest.raises(ImportError, match="has no attribute 'NoSuchName'"):
        reg.get("y")


def test_every_registry_of_the_product_loads_every_entry() -> None:
    """No registered name points at nothing: each entry of each extension point imports."""
    from awscost.billing.readers import READERS
    from awscost.containers.readers import FORMATS
    from awscost.entrypoints.cli import COMMANDS
    from awscost.jobs import JOBS
    from awscost.reports.ri_workbook import SECTIONS
    from awscost.store import BACKENDS
    from awscost.usage.kinds import COLLECTORS, KINDS
    from awscost_sandbox.demo import STEPS

    for registry in (COMMANDS, BACKENDS, READERS, FORMATS, KINDS, COLLECTORS, JOBS, SECTIONS, STEPS):
        loaded = dict(registry.items())
        assert list(loaded) == registry.names() and all(v is not None for v in loaded.values())
