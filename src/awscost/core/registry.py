"""One registry type for every extension point: collectors, billing readers, container formats, jobs, commands,
store backends, report sections, demo steps.

An entry is an object, or a reference `"module:attribute"` imported the first time it is asked for (so that
`awscost collect` never pays for pandas, and a Lambda imports only the collectors it runs). A name whose module
fails to import is an error, never a silently missing feature:

- a third-party package that is not installed -> `MissingExtraError`, naming the package and the awscost extra
  that installs it (read from awscost's own package metadata, so it cannot drift from pyproject.toml);
- anything else (our own module missing or broken) -> the ImportError itself: a bug, with its traceback.

Only the standard library is imported here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import import_module
from typing import Generic, TypeVar

from awscost.core.errors import InputError, MissingExtraError

T = TypeVar("T")
F = TypeVar("F")

# Import name -> distribution name where they differ (the rest are the same, case aside).
_DISTRIBUTIONS = {"yaml": "pyyaml"}
# Packages of this repository that an extra brings into use: the sandbox ships beside awscost but runs only
# with the sandbox extra (moto), and awscost never imports it.
_OWN_EXTRAS = {"awscost_sandbox": "sandbox"}


@lru_cache(maxsize=1)
def _extras_by_distribution() -> dict[str, list[str]]:
    """distribution (lower case) -> awscost extras that install it, from the installed package metadata."""
    from importlib import metadata

    try:
        requires = metadata.requires("awscost") or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return {}
    out: dict[str, list[str]] = {}
    for line in requires:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?[^;]*;\s*extra\s*==\s*['\"]([\w\-]+)['\"]", line)
        if m:
            out.setdefault(m.group(1).lower().replace("_", "-"), []).append(m.group(2))
    return out


def extra_for(module: str) -> str | None:
    """The awscost extra that installs the package of import name `module` (the narrowest one), if any."""
    top = module.split(".")[0]
    if top in _OWN_EXTRAS:
        return _OWN_EXTRAS[top]
    dist = _DISTRIBUTIONS.get(top, top).lower().replace("_", "-")
    extras = [e for e in _extras_by_distribution().get(dist, []) if e not in ("all", "dev")]
    return sorted(extras)[0] if extras else None


def missing_extra(exc: ModuleNotFoundError, what: str) -> MissingExtraError:
    """The user-facing error for a third-party package that `what` needs and is not installed."""
    package = (exc.name or "?").split(".")[0]
    extra = extra_for(package)
    hint = f"pip install 'awscost[{extra}]'" if extra else "pip install 'awscost[all]'"
    return MissingExtraError(
        f"{what} needs the optional package {package!r}, which is not installed", hint=hint
    )


def _is_ours(module_name: str | None) -> bool:
    return bool(module_name) and str(module_name).split(".")[0] == "awscost"


def resolve(target: str, what: str) -> object:
    """Import `"module:attribute"`; a missing third-party package becomes MissingExtraError (see above)."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"registry target {target!r} is not 'module:attribute'")
    try:
        loaded = import_module(module)
    except ModuleNotFoundError as exc:
        if _is_ours(exc.name):
            raise  # our own code is missing: a packaging bug, not a user's choice
        raise missing_extra(exc, what) from None
    try:
        return getattr(loaded, attr)
    except AttributeError:
        raise ImportError(f"{module} has no attribute {attr!r} (registered for {what})") from None


class Registry(Generic[T]):
    """name -> T, in registration order. `what` names the extension point in messages ("collector")."""

    def __init__(self, what: str, *, param: str | None = None) -> None:
        self.what = what
        self.param = param  # the parameter that names an entry, for unknown-name errors ("kinds")
        self._entries: dict[str, T | str] = {}
        self._loaded: dict[str, T] = {}

    def add(self, name: str, target: T | str) -> None:
        """Register `target` (an object, or a lazy "module:attribute") under `name`. One name, one entry."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._entries[name] = target
        if not isinstance(target, str):
            self._loaded[name] = target

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator form of `add` for an object defined where it is registered."""

        def deco(obj: F) -> F:
            self.add(name, obj)  # type: ignore[arg-type]
            return obj

        return deco

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def target(self, name: str) -> T | str:
        """The registered object or reference, without importing it."""
        return self._entries[self._known(name)]

    def _known(self, name: str) -> str:
        if name not in self._entries:
            raise InputError(
                f"unknown {self.what} {name!r}", param=self.param, hint=f"known: {', '.join(self._entries)}"
            )
        return name

    def get(self, name: str) -> T:
        """The entry, imported on first use. Unknown name -> InputError naming the known ones."""
        self._known(name)
        if name not in self._loaded:
            target = self._entries[name]
            assert isinstance(target, str)
            what = f"{self.what} {name!r}"
            self._loaded[name] = resolve(target, what)  # type: ignore[assignment]
        return self._loaded[name]

    def items(self) -> Iterator[tuple[str, T]]:
        """Every entry, each imported: the first that cannot be is an error (never skipped)."""
        for name in self._entries:
            yield name, self.get(name)

    def values(self) -> Iterator[T]:
        for _, value in self.items():
            yield value
