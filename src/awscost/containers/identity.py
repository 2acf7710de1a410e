"""Which micro-service a container belongs to.

Order (first hit wins):
1. an override in the store's map table: `container:<container name>` or `container:<image repository>`
   -> {"service": "..."} (a person's correction beats every inference);
2. the ECS service name (task metadata `ServiceName` or group `service:x`, Container Insights `ServiceName`);
3. the ECS task definition family;
4. the configured Docker label (e.g. `app`), then `com.docker.compose.service`;
5. the image repository name without registry, tag or digest (`…/web-frontend:latest` -> `web-frontend`);
6. the container name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

COMPOSE_LABEL = "com.docker.compose.service"
ECS_FAMILY_LABEL = "com.amazonaws.ecs.task-definition-family"

MapLookup = Callable[[str], Mapping[str, Any] | None]


def image_repository(image: str | None) -> str | None:
    """`123.dkr.ecr.eu-west-1.amazonaws.com/web-frontend:latest` -> `web-frontend`; `nginx:1.25` -> `nginx`"""
    if not image:
        return None
    ref = image.split("@", 1)[0]
    parts = ref.split("/")
    # The first path part is a registry host when it has a dot or a port, or is localhost (Docker's own rule).
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts and parts[0] == "library" and len(parts) > 1:
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0] if parts else ""
    repo = "/".join([*parts[:-1], last])
    return repo or None


class ServiceNamer:
    """Resolves service names, caching map-table lookups (one store read per distinct key)."""

    def __init__(self, label: str | None = None, overrides: MapLookup | None = None) -> None:
        self.label = label
        self._lookup = overrides
        self._cache: dict[str, str | None] = {}

    def _override(self, key: str | None) -> str | None:
        if not key or self._lookup is None:
            return None
        if key not in self._cache:
            found = self._lookup(f"container:{key}")
            value = found.get("service") if found else None
            self._cache[key] = str(value) if value else None
        return self._cache[key]

    def name(
        self,
        *,
        container_name: str | None,
        image: str | None = None,
        labels: Mapping[str, str] | None = None,
        ecs_service: str | None = None,
        family: str | None = None,
    ) -> str:
        labels = labels or {}
        repo = image_repository(image)
        for candidate in (
            self._override(container_name),
            self._override(repo),
            ecs_service,
            family or labels.get(ECS_FAMILY_LABEL),
            labels.get(self.label) if self.label else None,
            labels.get(COMPOSE_LABEL),
            repo,
            container_name,
        ):
            if candidate:
                return str(candidate)
        return "__unknown__"


def store_lookup(store: Any) -> MapLookup:
    """Adapter: a `Store`'s `get_map` as the override lookup."""

    def lookup(key: str) -> Mapping[str, Any] | None:
        result: Mapping[str, Any] | None = store.get_map(key)
        return result

    return lookup
