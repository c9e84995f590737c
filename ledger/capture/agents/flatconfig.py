"""Hooks files of the flat shape ``{"version": 1, "hooks": {event: [hook, …]}}``.

Cursor (``.cursor/hooks.json``, hooks ``{"command": …}``) and GitHub Copilot CLI
(``.github/hooks/*.json``, hooks ``{"type": "command", "bash": …}``) use it. Installing
replaces our hooks and keeps every other hook and setting; uninstalling removes only ours.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ledger.capture.agents.settings import JSONDict, read_settings, write_settings
from ledger.errors import AgentSettingsError


def remove_flat(settings: JSONDict, ours: Callable[[object], bool], key: str) -> int:
    """Drop the hooks whose ``key`` (command or bash) ``ours`` recognises; drop empty events."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        items = hooks[event]
        if not isinstance(items, list):
            continue
        kept = [h for h in items if not (isinstance(h, dict) and ours(h.get(key)))]
        removed += len(items) - len(kept)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    return removed


def install_flat(
    path: Path,
    entries: dict[str, list[JSONDict]],
    ours: Callable[[object], bool],
    key: str,
) -> Path:
    """Merge ``entries`` into the flat hooks file at ``path`` (replacing our old ones)."""
    settings = read_settings(path)
    remove_flat(settings, ours, key)
    settings.setdefault("version", 1)
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise AgentSettingsError(f"{path}: 'hooks' is not an object")
    for event, items in entries.items():
        current = hooks.setdefault(event, [])
        if not isinstance(current, list):
            raise AgentSettingsError(f"{path}: hooks.{event} is not a list")
        current.extend(items)
    write_settings(path, settings)
    return path


def uninstall_flat(
    path: Path, ours: Callable[[object], bool], key: str, owned: bool = False
) -> tuple[Path, int]:
    """Remove our hooks; with ``owned``, delete the file when nothing else is left in it."""
    if not path.exists():
        return path, 0
    settings = read_settings(path)
    removed = remove_flat(settings, ours, key)
    if owned and set(settings) <= {"version"}:
        try:
            os.unlink(path)
        except OSError as exc:
            raise AgentSettingsError(f"cannot remove {path}: {exc.strerror}") from exc
    elif removed:
        write_settings(path, settings)
    return path, removed
