"""The cost report's sections, in one registry, in the order the report shows them.

A section is `build(ctx: SectionContext) -> Section`: it asks the cost cube (billing/cube.py), the usage store
or a saved job result for its figures and fills the report model (reports/model.py); it holds no SQL and
renders nothing. Adding a section is one module and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from awscost.billing.cube import CostCube, Scope
from awscost.core.registry import Registry
from awscost.reports.config import Audience
from awscost.reports.model import Section
from awscost.reports.periods import Comparison

Build = Callable[["SectionContext"], Section]
SECTIONS: Registry[Build] = Registry("report section", param="sections")
SECTIONS.add("cost", "awscost.reports.sections.cost:build")
SECTIONS.add("movers", "awscost.reports.sections.movers:build")
SECTIONS.add("tags", "awscost.reports.sections.tags:build")
SECTIONS.add("usage", "awscost.reports.sections.usage:build")
SECTIONS.add("services", "awscost.reports.sections.services:build")
SECTIONS.add("savings", "awscost.reports.sections.savings:build")


@dataclass
class SectionContext:
    cube: CostCube
    audience: Audience
    scope: Scope
    comparison: Comparison
    metric: str
    currency: str  # the report's currency (the largest; others are shown apart, never added)
    tag_key: str  # the coverage tag
    names: dict[str, str]  # account id -> display name
    # The accounts whose every figure is in the audience's scope (none for a tag-scoped audience): the usage
    # store and the saved plan carry no tags, so their sections show only these accounts.
    whole_accounts: frozenset[str] | None  # None = every account
    store: Any | None = None  # the usage store, when there is one
    saved: Callable[[str], Any] = lambda job: None  # the latest saved result of a job, or None
    forecast: Callable[[SectionContext], Any] | None = None
    # (start, end) -> the bill's commitment figures per account (sections/commitments.py), when the source
    # is a bill; Cost Explorer's cost answers carry no commitment lines.
    commitments: Callable[[date, date], list[Any]] | None = None
    today: date | None = None
    # The monthly budgets to set beside the actual and forecast (reports/budgets.py ReportBudget), asked when
    # the cost section is built: reading them (from the config or AWS Budgets) may fail alone.
    budgets: Callable[[], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # what a section hands a later one

    @property
    def current(self) -> tuple[date, date]:
        return (self.comparison.current.start, self.comparison.current.end)

    @property
    def previous(self) -> tuple[date, date]:
        return (self.comparison.previous.start, self.comparison.previous.end)

    @property
    def regions(self) -> frozenset[str] | None:
        """The regions a viewer narrowed the report to (None: all): the store's items are per region and
        follow it; what is per account or organization-wide only says it cannot."""
        return self.scope.regions

    def name_of(self, account: str | None) -> str:
        if not account:
            return ""
        return self.names.get(account, account)
