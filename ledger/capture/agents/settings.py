"""Agents' settings files: reading, writing, and taking our hook commands out of them.

Installing merges our hook entries into the agent's JSON settings; every other setting and
hook is kept as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger._fs import atomic_write
from ledger.errors import AgentSettingsError

JSONDict = dict[str, Any]  # a JSON object: settings, events, snapshot records


def read_settings(path: Path) -> JSONDict:
    """A settings file as a dict ({} when missing); AgentSettingsError if it is not JSON."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AgentSettingsError(f"cannot read {path}: {exc.strerror}") from exc
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AgentSettingsError(f"{path} is not valid JSON ({exc}); left as it is") from None
    if not isinstance(data, dict):
        raise AgentSettingsError(f"{path} does not hold a JSON object; left as it is")
    return data


def write_settings(path: Path, settings: JSONDict) -> None:
    """Write a settings file atomically, two-space indented like the agents write them."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise AgentSettingsError(f"cannot write {path}: {exc.strerror}") from exc


def remove_hooks(settings: JSONDict, ours: Callable[[object], bool]) -> int:
    """Drop hook commands ``ours`` recognises; drop groups and events left empty."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list):
                kept_groups.append(group)
                continue
            kept = [h for h in inner if not (isinstance(h, dict) and ours(h.get("command")))]
            removed += len(inner) - len(kept)
            if kept or not inner:
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    return removed
