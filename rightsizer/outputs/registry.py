"""Every output format, found by module: a module of rightsizer.outputs that defines `FORMAT`.

Config validation ([report] formats), the CLI's --format and write_outputs all read this, so a
new format is one module that renders and declares itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rightsizer.report.model import Report

# (report, context) -> the file's text (bytes for a binary format such as Parquet). The
# report is the typed model; the context (rule titles, cost trend, the run, history) is a
# plain dict the renderer reads with care.
Render = Callable[["Report", dict[str, Any]], "str | bytes"]


@dataclass(frozen=True)
class OutputFormat:
    name: str  # what --format and [report] formats say
    file_name: str  # written into the output directory ("" for a stdout format)
    description: str
    render: Render  # (report, context) -> the file's text
    # printed on stdout by the command line instead of written to a file (the terminal table)
    stdout: bool = False


@cache
def formats() -> dict[str, OutputFormat]:
    """name -> format, report.json first. Found on first use: the format modules import this
    one for OutputFormat."""
    from rightsizer import outputs

    found: dict[str, OutputFormat] = {}
    for module_info in sorted(pkgutil.iter_modules(outputs.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{outputs.__name__}.{module_info.name}")
        output_format = getattr(module, "FORMAT", None)
        if isinstance(output_format, OutputFormat):
            if output_format.name in found:
                raise ValueError(f"output format {output_format.name!r} is defined twice")
            found[output_format.name] = output_format
    # report.json first: scripts depend on it, and it is always written
    return dict(sorted(found.items(), key=lambda item: item[0] != "json"))


def format_names() -> tuple[str, ...]:
    return tuple(formats())
