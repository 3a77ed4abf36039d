"""Every rule, found by module: a module of rightsizer.rules that defines `RULE` is a rule.

Adding a rule is adding its module (and its test); nothing else lists rules. The order is the
modules' names, so reports, `rightsizer rules` and config.toml list them the same way.
"""

from __future__ import annotations

import importlib
import pkgutil

from rightsizer import rules
from rightsizer.rules.base import Rule

# modules of the package that hold what rules share, not a rule
_SHARED_MODULES = frozenset({"base", "findings", "registry"})


def _discover() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for module_info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name):
        if module_info.ispkg or module_info.name in _SHARED_MODULES:
            continue
        module = importlib.import_module(f"{rules.__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"{module.__name__} defines no RULE (a rules/ module is a rule; "
                            "shared code goes in rules/support/)")
        if rule.id in found:
            raise ValueError(f"rule id {rule.id!r} is defined twice")
        found[rule.id] = rule
    return found


REGISTRY: dict[str, Rule] = _discover()
