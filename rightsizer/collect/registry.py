"""Every collector spec, found by module: a module of rightsizer.collect.collectors that
defines `SPECS` (a tuple of CollectorSpec) is a collector."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from rightsizer.collect import collectors
from rightsizer.collect.spec import CollectorSpec, MetricResource


@cache
def specs() -> tuple[CollectorSpec, ...]:
    found: dict[str, CollectorSpec] = {}
    for module_info in sorted(pkgutil.iter_modules(collectors.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{collectors.__name__}.{module_info.name}")
        for spec in getattr(module, "SPECS", ()):
            if spec.table in found:
                raise ValueError(f"table {spec.table!r} is filled by two collectors")
            found[spec.table] = spec
    return tuple(found.values())


def spec_for(table: str) -> CollectorSpec:
    return next(spec for spec in specs() if spec.table == table)


def inventory_specs() -> tuple[CollectorSpec, ...]:
    return tuple(spec for spec in specs() if spec.inventory is not None)


def tagged_tables() -> dict[str, str]:
    """table -> the column holding each resource's id, for tables that carry tags."""
    return {spec.table: spec.id_column for spec in specs()
            if spec.id_column and "tags" in spec.columns}


def metric_resource(kind: str) -> tuple[str, MetricResource]:
    """The table a MetricNeed's resource kind is read from, and how its rows map to series."""
    for spec in specs():
        for resource in spec.metric_resources:
            if resource.kind == kind:
                return spec.table, resource
    raise ValueError(f"no collector declares metric resource kind {kind!r}")
