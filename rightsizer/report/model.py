"""report.json as types: the model every output reads (DESIGN.md "report.json", schema_version
"1"), and what a report.json read back from disk is checked against.

Two ways in:
- `Report.from_build(data)`: the dict `report.build.build_report` just made. Trusted (this
  process built it from typed findings), so it is assembled without validation
  (`model_construct`, recursively): values stay exactly the objects the build made, and 40,000
  findings cost no validation pass.
- `Report.model_validate(data)` (or `load_report_json`): anything from outside, a file on disk
  above all. A malformed report is one `ReportError` naming the first bad field.

Additive fields (DESIGN.md: additions to schema_version "1" keep old readers working) are
allowed on every object (`extra="allow"`) and written back as read. `to_json_dict()` gives
report.json's value: the keys the report holds (none added, none dropped), schema keys in
DESIGN.md order, then any other key sorted, as report.json has always been written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rightsizer.errors import RightsizerError
from rightsizer.rules.findings import Severity, SkipReason

SCHEMA_VERSION = "1"

# A dollar amount: int or float as written (0 and 0.0 stay apart, so the text round-trips);
# None where the value was not a number (report.json writes NaN and infinity as null).
Amount = int | float | None


class ReportError(RightsizerError):
    """A report.json that is not one rightsizer wrote (exit code 2, one line)."""


class _Part(BaseModel):
    """Every report object: unknown (additive) keys kept, nothing edited once made, and a
    key lookup beside the attributes for callers that still read the report as a dict
    (`report["summary"]["findings"]`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields and key in self.__dict__:
            return self.__dict__[key]
        extra = self.__pydantic_extra__ or {}
        if key in extra:
            return extra[key]
        raise KeyError(key)

    def to_plain(self) -> dict[str, Any]:
        """The object as report.json holds it: plain dicts and lists, only the keys it was
        made with, unknown keys kept."""
        return _plain(self)


class Window(_Part):
    start: str
    end: str
    days: int


class RuleTotal(_Part):
    """summary.by_rule[<rule id>]."""

    findings: int
    monthly_savings_usd: Amount


class BillLine(_Part):
    """summary.bill.by_service[]: one Cost Explorer service line of the month."""

    service: str
    monthly_usd: Amount
    examined_usd: Amount = None
    examined_by: list[str] = []  # [] names a line no rule examined


class Bill(_Part):
    """summary.bill (report/bill.py): the last full month by service and what the rules
    examined; additive to schema_version "1"."""

    month: str
    monthly_usd: Amount
    examined_usd: Amount = None
    examined_share: float | None = None
    by_service: list[BillLine] = []


class Summary(_Part):
    findings: int
    monthly_savings_usd: Amount
    by_rule: dict[str, RuleTotal] = {}
    bill: Bill | None = None  # None: no cost data for the month, or an older report.json


class HowToApply(_Part):
    """The commands that apply a finding, one a tool; "" where the rule has none."""

    cli: str = ""
    terraform: str = ""
    cdk: str = ""


class Finding(_Part):
    id: str
    rule: str
    severity: Severity
    resource_type: str
    resource_id: str
    name: str
    account: str
    region: str
    current: dict[str, Any]
    recommended: dict[str, Any]
    monthly_cost_usd: Amount
    monthly_savings_usd: Amount
    evidence: dict[str, Any]
    reason: str
    # {"basis", "rates", "as_of", "list_monthly_savings_usd", ...} (rightsizer.pricing.basis);
    # None: a report.json from before it was added
    pricing: dict[str, Any] | None = None
    how_to_apply: HowToApply | None = None  # None: a report.json from before it was added


class Risk(_Part):
    """A resource at risk (DESIGN.md "risks"): a cost increase, never counted in savings.
    Fields in the order rightsizer writes them (rules.findings.Risk.to_risk_dict); the ones
    with a default are rightsizer's additions to the DESIGN.md shape."""

    id: str = ""
    rule: str
    kind: str = "under-provisioned"  # or "regressed-change"
    severity: Severity
    resource_type: str = ""
    resource_id: str
    name: str
    account: str = ""
    region: str = ""
    current: dict[str, Any]
    recommended: dict[str, Any]
    monthly_cost_change_usd: Amount
    evidence: dict[str, Any]
    reason: str
    how_to_apply: HowToApply | None = None


class VerifiedChange(_Part):
    """history.verified[]: a change applied since the earlier month, and whether it held."""

    finding_id: str
    applied: str | None
    status: Literal["held", "regressed"]
    detail: str


class ChangesApplied(_Part):
    """history.changes: "N changes applied since last month: N held, N regressed, $X/month
    realized" (realized: last month's promised saving of the ones that held)."""

    applied: int
    held: int
    regressed: int
    realized_monthly_usd: Amount


class History(_Part):
    """report.json's "history" (when an earlier month's report exists; history.json beside it
    keeps the whole comparison)."""

    month: str
    previous_month: str
    new: int | None = None
    persisting: int | None = None
    resolved: int | None = None
    realized_savings_usd: Amount = None
    verified: list[VerifiedChange] = []  # [] when the run had no snapshot to verify with
    changes: ChangesApplied | None = None


class Skipped(_Part):
    rule: str
    resource_type: str
    resource_id: str
    name: str
    account: str
    region: str
    reason: SkipReason
    detail: str


class ErrorRow(_Part):
    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str


class Notice(_Part):
    """A report-level banner (a stale price table, Cost Explorer not reachable)."""

    level: Literal["warning", "info"]
    text: str


class FailedRead(_Part):
    """An inventory read that did not answer (inventory.failed_reads)."""

    account: str
    region: str
    service: str
    operation: str


class Inventory(_Part):
    """What the run looked for and where, what it found, and which inventory reads failed
    (collect.engine.inventory_coverage); additive to schema_version "1"."""

    looked_for: list[str]
    accounts: list[str]
    regions: list[str]
    found: dict[str, int]
    empty: bool
    failed_reads: list[FailedRead]


class Plan(_Part):
    """plans[]: the findings on one resource stacked in order (report/plans.py); additive to
    schema_version "1". steps_detail holds each step's before/after monthly cost."""

    resource_id: str
    name: str = ""
    steps: list[str]
    monthly_savings_usd: Amount
    detail: str = ""


class Report(_Part):
    schema_version: Literal["1"]
    generated_at: str
    window: Window
    accounts: list[str]
    regions: list[str]
    summary: Summary
    findings: list[Finding]
    skipped: list[Skipped] = []
    errors: list[ErrorRow] = []
    notices: list[Notice] = []
    inventory: Inventory | None = None  # None: a report.json from before it was added
    plans: list[Plan] = []  # empty: a report.json from before plans were added
    risks: list[Risk] = []
    history: History | None = None

    @classmethod
    def from_build(cls, data: Mapping[str, Any]) -> Report:
        """The report `build_report` made (plus what the pipeline added), without validation:
        see the module docstring. Unknown keys are kept as extra fields."""
        fields = dict(data)
        fields["window"] = _construct(Window, fields["window"])
        summary = dict(fields["summary"])
        summary["by_rule"] = {rule: _construct(RuleTotal, entry)
                              for rule, entry in summary.get("by_rule", {}).items()}
        if isinstance(summary.get("bill"), Mapping):
            bill = dict(summary["bill"])
            if "by_service" in bill:
                bill["by_service"] = [_construct(BillLine, row) for row in bill["by_service"]]
            summary["bill"] = _construct(Bill, bill)
        fields["summary"] = _construct(Summary, summary)
        fields["findings"] = [_finding(row) for row in fields["findings"]]
        if "skipped" in fields:
            fields["skipped"] = [_construct(Skipped, row) for row in fields["skipped"]]
        if "errors" in fields:
            fields["errors"] = [_construct(ErrorRow, row) for row in fields["errors"]]
        if "plans" in fields:
            fields["plans"] = [_construct(Plan, row) for row in fields["plans"]]
        if "risks" in fields:
            fields["risks"] = built_risks(fields["risks"])
        if isinstance(fields.get("history"), Mapping):
            fields["history"] = built_history(fields["history"])
        if "notices" in fields:
            fields["notices"] = [_construct(Notice, row) for row in fields["notices"]]
        if isinstance(fields.get("inventory"), Mapping):
            inventory = dict(fields["inventory"])
            inventory["failed_reads"] = [_construct(FailedRead, row)
                                         for row in inventory.get("failed_reads", [])]
            fields["inventory"] = _construct(Inventory, inventory)
        return _construct(cls, fields)

    def to_json_dict(self) -> dict[str, Any]:
        """report.json's value (see the module docstring); values are the report's own
        objects, not copies: serialize it, do not edit it."""
        row = _fields(self)
        for key in ("window", "summary", "inventory", "history"):
            if isinstance(row.get(key), _Part):
                row[key] = _plain(row[key])
        for key in ("findings", "risks", "skipped", "errors", "plans", "notices"):
            if key in row:
                row[key] = [_row(item) for item in row[key]]
        return _in_order(row, REPORT_KEYS)

# Schema order from DESIGN.md, so diffs between two months' reports line up key for key.
REPORT_KEYS = ("schema_version", "generated_at", "window", "accounts", "regions", "summary",
               "findings", "risks", "skipped", "errors", "plans", "notices")


def built_risks(rows: list[Mapping[str, Any]]) -> list[Risk]:
    """Risk rows this process built (build_report, history), as Report.from_build takes them."""
    return [_finding(row, Risk) for row in rows]


def built_history(data: Mapping[str, Any]) -> History:
    """report.json's "history" as history.with_history made it, unvalidated (from_build)."""
    history = dict(data)
    history["verified"] = [_construct(VerifiedChange, row)
                           for row in history.get("verified", [])]
    if isinstance(history.get("changes"), Mapping):
        history["changes"] = _construct(ChangesApplied, history["changes"])
    return _construct(History, history)


def as_report(report: Report | Mapping[str, Any]) -> Report:
    """A Report as it is; a dict (a caller or a test that built one by hand) validated."""
    if isinstance(report, Report):
        return report
    return validated(report)


def validated(data: Any, where: str = "report") -> Report:
    """`Report.model_validate(data)`; a failure is one ReportError line naming the field."""
    _check_version(data, where)
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        raise ReportError(f"{where}: {_problem(exc)}") from None


def load_report_json(text: str | bytes, where: str) -> Report:
    """A report.json's text, parsed and validated in one pass (pydantic's JSON parser);
    anything else is one ReportError line starting with `where`."""
    try:
        return Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise ReportError(f"{where}: not valid JSON: "
                              f"{first.get('ctx', {}).get('error', first['msg'])}") from None
        with contextlib.suppress(ValueError):  # the clearer message for another schema
            _check_version(json.loads(text), where)
        raise ReportError(f"{where}: {_problem(exc)}") from None


def _check_version(data: Any, where: str) -> None:
    if not isinstance(data, Mapping):
        raise ReportError(f"{where}: not a rightsizer report.json (not a JSON object)")
    if "schema_version" in data and data["schema_version"] != SCHEMA_VERSION:
        raise ReportError(f"{where}: unsupported schema_version {data['schema_version']!r} "
                          f"(expected \"{SCHEMA_VERSION}\")")


def _problem(exc: ValidationError) -> str:
    """The first thing wrong, as `not a rightsizer report.json (findings.0.name: missing)`."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    place = ".".join(str(part) for part in first["loc"]) or "the top level"
    what = "missing" if first["type"] == "missing" else first["msg"]
    more = f"; {len(errors) - 1} more problems" if len(errors) > 1 else ""
    return f"not a rightsizer report.json ({place}: {what}{more})"


# --- building and flattening without validation ------------------------------------------------

_set = object.__setattr__


def _construct(model: type[_Part], row: Mapping[str, Any]) -> Any:
    """`model.model_construct(**row)`: the same object, made without its per-field loop when
    `row` holds exactly the model's fields in declaration order (what build_report makes),
    which is most of the time a report takes to assemble at 40,000 findings."""
    known = _FIELDS.get(model)
    if known is None:
        known = _FIELDS[model] = (tuple(model.__pydantic_fields__),
                                  set(model.__pydantic_fields__))
    if type(row) is not dict or tuple(row) != known[0]:
        return model.model_construct(**row)
    part = model.__new__(model)
    _set(part, "__dict__", row.copy())
    _set(part, "__pydantic_fields_set__", known[1].copy())
    _set(part, "__pydantic_extra__", {})
    _set(part, "__pydantic_private__", None)
    return part


# model -> (its field names in declaration order, the same as a set)
_FIELDS: dict[type[_Part], tuple[tuple[str, ...], set[str]]] = {}


def _finding(row: Mapping[str, Any], model: type[Finding | Risk] = Finding) -> Any:
    finding = _construct(model, row)
    commands = finding.__dict__.get("how_to_apply")
    if isinstance(commands, Mapping):  # the finding's own __dict__ (a copy): set in place
        finding.__dict__["how_to_apply"] = _construct(HowToApply, commands)
    return finding


def _fields(part: _Part) -> dict[str, Any]:
    """The keys the object was made with, as they were given: its fields in declaration
    (schema) order, then its extra keys in the order they came."""
    values = part.__dict__
    given = part.__pydantic_fields_set__
    if given.issuperset(values):
        row = values.copy()  # every field given: the usual case, copied in C
    else:  # leave out the defaults nobody gave (a key the report did not hold)
        row = {key: value for key, value in values.items() if key in given}
    extra = part.__pydantic_extra__
    if extra:
        row.update(extra)
    return row


def _plain(part: _Part) -> dict[str, Any]:
    """`part` as plain dicts and lists, nested report objects included."""
    row = _fields(part)
    for key, value in row.items():
        if isinstance(value, _Part):
            row[key] = _plain(value)
        elif type(value) is dict and value and isinstance(next(iter(value.values())), _Part):
            row[key] = {name: _plain(item) for name, item in value.items()}
        elif type(value) is list and value and isinstance(value[0], _Part):
            row[key] = [_plain(item) for item in value]
    return row


def _row(part: _Part) -> dict[str, Any]:
    """A findings / skipped / errors row: its fields in schema order, then extra keys sorted
    (report.json's rule for rows)."""
    row = _fields(part)
    commands = row.get("how_to_apply")
    if isinstance(commands, _Part):
        row["how_to_apply"] = _fields(commands)
    extra = part.__pydantic_extra__
    if extra:
        for key in extra:
            del row[key]
        row.update((key, extra[key]) for key in sorted(extra, key=str))
    return row


def _in_order(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    result = {key: row[key] for key in keys if key in row}
    result.update({key: row[key] for key in sorted(row, key=str) if key not in result})
    return result
