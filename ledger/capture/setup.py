"""One-step setup (``git ledger enable``) and the health view (``git ledger status``).

``enable`` installs the git hooks of a repository and the hooks of every coding agent
configured for it (the agent's folder is there: ``.claude/``, ``.codex/``, ``.cursor/``,
``.github/hooks/``, ``.opencode/``, ``.gemini/``), or the agents named. ``status`` says what
is installed, where events go, how many wait in the spools, each agent's last event, and
the problems found, one line each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ledger._layout import AGENTS_DIR
from ledger.capture import githooks
from ledger.capture.agents.registry import ADAPTERS
from ledger.capture.agents.spool import LAST_EVENTS, failed, pending
from ledger.capture.repo import find_repo
from ledger.errors import InvalidInputError, LedgerError
from ledger.location import is_ledger, resolve_ledger_dir

MARKERS = {
    "claude-code": ".claude",
    "codex": ".codex",
    "cursor": ".cursor",
    "copilot-cli": os.path.join(".github", "hooks"),
    "opencode": ".opencode",
    "gemini-cli": ".gemini",
}
"""The folder whose presence in a repository means the agent is configured for it."""
_VENV_PATH = re.compile(r"(^|[\s'\"=])/\S*/(bin|Scripts)/python[0-9.]*\b")


def configured_agents(root: Path) -> list[str]:
    """The agents whose folder is in the repository's top folder."""
    return [name for name, marker in MARKERS.items() if (root / marker).is_dir()]


def enable(
    repo: str | os.PathLike[str] | None = None,
    ledger_dir: str | os.PathLike[str] | None = None,
    agents: Iterable[str] = (),
) -> dict[str, Any]:
    """Install the git hooks and the hooks of every configured (or named) agent.

    Returns ``repository``, ``ledger_dir``, ``git_hooks`` (hook, action, path, detail),
    ``agents`` (agent, settings, action) and ``not_configured`` (the agents left alone).
    """
    named = list(agents)
    unknown = [a for a in named if a not in ADAPTERS]
    if unknown:
        raise InvalidInputError(
            f"unknown agent {unknown[0]!r} (one of {', '.join(sorted(ADAPTERS))})"
        )
    paths = find_repo(repo)
    if paths.work_tree is None:
        raise InvalidInputError(f"{paths.common_dir} is a bare repository: nothing to enable")
    root = paths.work_tree
    hooks = githooks.install(root, ledger_dir)
    chosen = sorted(set(configured_agents(root)) | set(named))
    done = []
    for name in chosen:
        path = ADAPTERS[name].install("project", root, ledger_dir)
        done.append({"agent": name, "settings": str(path), "action": "installed"})
    return {
        "repository": str(root),
        "ledger_dir": str(resolve_ledger_dir(ledger_dir, cwd=root)),
        "git_hooks": [a.to_dict() for a in hooks],
        "agents": done,
        "not_configured": sorted(set(ADAPTERS) - set(chosen)),
    }


def _hook_commands(text: str, name: str) -> list[str]:
    """The commands of ours for agent ``name`` in a settings file's text."""
    pattern = re.compile(r"[^\"\n]*(?:-m ledger|git-ledger)[^\"\n]* agent " + re.escape(name))
    return [m.group(0).strip() for m in pattern.finditer(text)]


def agent_state(name: str, root: Path) -> dict[str, Any]:
    """Where an agent's hooks are installed (project and user settings) and their commands."""
    adapter = ADAPTERS[name]
    row: dict[str, Any] = {"agent": name, "configured": (root / MARKERS[name]).is_dir(),
                           "installed": [], "commands": []}
    for scope in ("project", "user"):
        try:
            path = adapter.settings_path(scope, root)
        except LedgerError:
            continue  # an agent with no settings of that scope
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        commands = _hook_commands(text, name)
        if commands:
            row["installed"].append({"scope": scope, "settings": str(path)})
            row["commands"].extend(sorted(set(commands)))
    return row


def _last_events(ledger: Path) -> dict[str, Any]:
    try:
        data = json.loads((ledger / AGENTS_DIR / LAST_EVENTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, Any] = {}
    for agent, info in (data.items() if isinstance(data, dict) else []):
        if isinstance(info, dict) and isinstance(info.get("time"), int | float):
            when = dt.datetime.fromtimestamp(info["time"], dt.UTC).isoformat()
            out[agent] = {**info, "time": when}
    return out


def status(
    repo: str | os.PathLike[str] | None = None, ledger_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """What is installed for a repository, where its events go, and what is wrong.

    Returns ``repository``, ``ledger_dir``, ``ledger_exists``, ``git_hooks`` (githooks'
    status), ``agents`` (one row each: configured, installed, commands, last_event),
    ``agent_spool`` (pending, failed), ``git_ledger_on_path`` and ``problems``.
    """
    paths = find_repo(repo)
    root = paths.work_tree or paths.common_dir
    hooks = githooks.status(root, ledger_dir)
    ledger = Path(hooks["ledger_dir"])
    last = _last_events(ledger)
    agents = []
    for name in ADAPTERS:
        row = agent_state(name, root)
        row["last_event"] = last.get(name)
        agents.append(row)
    spool = {"pending": len(pending(ledger)), "failed": len(failed(ledger))}
    on_path = shutil.which("git-ledger")
    result = {
        "repository": str(root),
        "ledger_dir": str(ledger),
        "ledger_exists": is_ledger(ledger),
        "git_hooks": hooks,
        "agents": agents,
        "agent_spool": spool,
        "git_ledger_on_path": on_path,
    }
    result["problems"] = problems(result)
    return result


def problems(state: dict[str, Any]) -> list[str]:
    """One line per thing that keeps events from reaching the ledger."""
    out: list[str] = []
    if not state["ledger_exists"]:
        out.append(f"the ledger {state['ledger_dir']} does not exist yet (git ledger enable)")
    states = {h["hook"]: h["state"] for h in state["git_hooks"]["hooks"]}
    missing = sorted(k for k, v in states.items() if v in ("missing", "foreign"))
    outdated = sorted(k for k, v in states.items() if "outdated" in v)
    if missing:
        out.append(f"git hooks not installed: {', '.join(missing)} (git ledger enable)")
    if outdated:
        out.append(f"git hooks outdated: {', '.join(outdated)} (git ledger hooks install)")
    for row in state["agents"]:
        if row["configured"] and not row["installed"]:
            out.append(f"{row['agent']} is configured here but records nothing "
                       f"(git ledger agent install {row['agent']})")
        for command in row["commands"]:
            if _VENV_PATH.search(command):
                out.append(f"{row['agent']} runs a path inside one virtualenv ({command}); "
                           f"reinstall with git-ledger on PATH")
    if any(r["installed"] for r in state["agents"]) and not state["git_ledger_on_path"]:
        out.append("git-ledger is not on PATH: the agents' hook commands cannot run")
    failed_count = state["agent_spool"]["failed"] + state["git_hooks"]["failed"]
    if failed_count:
        out.append(f"{failed_count} events set aside as failed (see ledger-agents/*.log)")
    return out
