"""config.toml written from the settings models: every key, its default and its description.

`rightsizer init` writes `config_text(region=<the session's region>)`; the repository's
config.toml is `config_text()` (a test holds them equal), so the example can never drift from
what the code accepts. A setting is documented where it is defined: the `description` of its
pydantic Field (and `json_schema_extra={"example": ...}` for a value worth showing).
"""

from __future__ import annotations

import textwrap
import typing
from datetime import date
from typing import Any

import tomlkit
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from rightsizer.config import Config
from rightsizer.rules.registry import REGISTRY

WIDTH = 98  # no line of the file is wider (but an example value that cannot be split)

HEADER = (
    "rightsizer configuration, written by `rightsizer init` from the settings the code "
    "accepts.\n"
    "\n"
    "Every key is optional and shown here at its default value, so deleting a line changes "
    "nothing. A key written as a comment (# key = ...) has no default value: the line is an "
    "example to uncomment. An unknown key, a wrong type or a value out of bounds stops the run "
    "with one line naming the key; `rightsizer iam-policy --config config.toml` checks a file "
    "without calling AWS, and `rightsizer rules` lists each rule's settings with their bounds."
)
# Said beside [aws] regions when `rightsizer init` found the session's region.
REGION_NOTE = "your AWS session's region when this file was written"


def config_text(region: str | None = None) -> str:
    """The commented config.toml; with `region`, [aws] regions is set to it (else commented)."""
    blocks = [_comment(HEADER)]
    for section, info in Config.model_fields.items():
        if section == "rules":
            blocks.append(_comment(_description(info)))
            blocks += [_table(f"rules.{rule.id}", rule.title, rule.settings_model)
                       for rule in REGISTRY.values()]
            continue
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel), section
        overrides = {"regions": ([region], REGION_NOTE)} if section == "aws" and region else {}
        blocks.append(_table(section, _description(info), model, overrides))
    return "\n\n".join(blocks) + "\n"


def default_value(info: FieldInfo) -> Any:
    """The field's default as plain data (None: it has no default value)."""
    return _plain(info.get_default(call_default_factory=True))


def example_value(info: FieldInfo) -> Any:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return extra.get("example")


def _table(name: str, heading: str, model: type[BaseModel],
           overrides: dict[str, tuple[Any, str]] | None = None) -> str:
    entries = [_entry(key, info, (overrides or {}).get(key))
               for key, info in model.model_fields.items()]
    return "\n".join([*_comment_lines(heading), f"[{name}]", "\n\n".join(entries)])


def _entry(key: str, info: FieldInfo, override: tuple[Any, str] | None) -> str:
    lines = _comment_lines(_description(info))
    entry_model = _list_item_model(info)
    if entry_model is not None:  # a list of tables: say what each entry holds
        lines += _comment_lines("Each entry is an inline table of:")
        for sub_key, sub_info in entry_model.model_fields.items():
            required = " (required)" if sub_info.is_required() else ""
            lines += _comment_lines(f"{sub_key}{required}: {_description(sub_info)}",
                                    indent="  ", hang="    ")
    example = example_value(info)
    if override is not None:
        value, note = override
        lines.append(f"{key} = {_render(value)}   # {note}")
    elif (value := default_value(info)) is None:
        lines += _commented(_assignment(key, example if example is not None else "..."))
    else:
        lines += _assignment(key, value)
        if example is not None:
            shown = _assignment(key, example)
            if len(shown) == 1 and len(shown[0]) + len("# example: ") <= WIDTH:
                lines.append(f"# example: {shown[0]}")
            else:
                lines += ["# example:", *_commented(shown)]
    return "\n".join(lines)


def _assignment(key: str, value: Any) -> list[str]:
    """`key = value` on one line, or a list of tables one entry a line when it is too wide."""
    line = f"{key} = {_render(value)}"
    if len(line) + 2 <= WIDTH or not isinstance(value, list) or not value:
        return [line]
    return [f"{key} = [", *(f"  {_render(item)}," for item in value), "]"]


def _render(value: Any) -> str:
    """A TOML value; tables inline (a sub-table header would end the key's own table)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        pairs = ", ".join(f"{tomlkit.key(str(k)).as_string()} = {_render(v)}"
                          for k, v in value.items())
        return f"{{ {pairs} }}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    if isinstance(value, str | bool | int | float | date):
        return tomlkit.item(value).as_string()
    raise TypeError(f"config.toml cannot show a {type(value).__name__} value: {value!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _list_item_model(info: FieldInfo) -> type[BaseModel] | None:
    if typing.get_origin(info.annotation) is not list:
        return None
    [item] = typing.get_args(info.annotation)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _description(info: FieldInfo) -> str:
    return info.description or ""


def _comment_lines(text: str, indent: str = "", hang: str | None = None) -> list[str]:
    """`text` as comment lines of at most WIDTH columns; a newline in it starts a new line,
    and an empty line stays as a bare `#`."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            lines.append("#")
            continue
        lines += ["# " + line for line in textwrap.wrap(
            " ".join(paragraph.split()), WIDTH - 2, initial_indent=indent,
            subsequent_indent=indent if hang is None else hang,
            break_long_words=False, break_on_hyphens=False)]
    return lines


def _comment(text: str) -> str:
    return "\n".join(_comment_lines(text))


def _commented(lines: list[str]) -> list[str]:
    return [f"# {line}" for line in lines]
