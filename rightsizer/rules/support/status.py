"""Whether a resource in a given status is running: one verdict for every status table."""

from __future__ import annotations

from collections.abc import Collection, Mapping


def not_running_detail(status: str, running: Collection[str],
                       not_running: Mapping[str, str], noun: str) -> str | None:
    """None when `status` is one of `running`; otherwise the skipped row's detail, naming the
    status and why (from `not_running`). A status neither table knows is never guessed at: it
    is reported as unknown, e.g. "unknown DB instance status 'x'"."""
    key = status.strip().lower().replace("_", "-").replace(" ", "-")
    if key in running:
        return None
    why = not_running.get(key)
    if why is None:
        return f"unknown {noun} '{status}'"
    return f"status is {status}: {why}"
