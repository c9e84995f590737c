"""OpenCode: a plugin file that hands its events to ``git-ledger agent opencode``.

OpenCode loads JavaScript plugins from ``.opencode/plugins/`` (project) and
``~/.config/opencode/plugins/`` (user). Ours, ``git-ledger.js``, forwards
``tool.execute.before`` / ``tool.execute.after`` (``input.tool``, ``input.sessionID``,
``input.callID``, ``output.args``; after: ``output.output``, ``output.title``,
``output.metadata``) and the ``session.created``, ``session.idle``, ``session.error`` and
``file.edited`` bus events as one JSON object on the command's stdin. Edits by the ``edit``,
``write``, ``multiedit`` and ``patch`` tools are snapshotted before and read after the tool.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ledger.capture.agents.filestate import as_dict, patch_text
from ledger.capture.agents.settings import JSONDict
from ledger.capture.agents.translate import Translating
from ledger.errors import AgentSettingsError

FILE_TOOLS = ("edit", "write", "multiedit", "patch", "apply_patch")
MARK = "// git-ledger: records what OpenCode does (written by `git ledger agent install`)"
PLUGIN = """__MARK__
// Each event goes as JSON to the command below; it returns at once and never blocks OpenCode.
import { spawnSync } from "node:child_process";

const COMMAND = __COMMAND__;

function send(payload) {
  try {
    spawnSync("/bin/sh", ["-c", COMMAND], {
      input: JSON.stringify(payload),
      stdio: ["pipe", "ignore", "ignore"],
      timeout: 30000,
    });
  } catch (e) {
    // never let recording fail the agent
  }
}

export const GitLedger = async ({ directory }) => ({
  "tool.execute.before": async (input, output) => {
    send({ hook_event_name: "tool.execute.before", cwd: directory, session_id: input.sessionID,
           call_id: input.callID, tool: input.tool, args: output.args });
  },
  "tool.execute.after": async (input, output) => {
    send({ hook_event_name: "tool.execute.after", cwd: directory, session_id: input.sessionID,
           call_id: input.callID, tool: input.tool, args: input.args,
           title: output.title, output: output.output, metadata: output.metadata });
  },
  event: async ({ event }) => {
    if (["session.created", "session.idle", "session.error", "file.edited"].includes(event.type)) {
      send({ hook_event_name: event.type, cwd: directory, properties: event.properties });
    }
  },
});
"""


def _session_of(event: JSONDict) -> str:
    if isinstance(event.get("session_id"), str) and event["session_id"]:
        return str(event["session_id"])
    props = as_dict(event.get("properties"))
    info = as_dict(props.get("info"))
    for value in (props.get("sessionID"), info.get("id")):
        if isinstance(value, str) and value:
            return value
    return ""


class OpenCode(Translating):
    """OpenCode's plugin events."""

    name = "opencode"
    agent_id = "opencode"
    display = "OpenCode"
    settings_folder = os.path.join(".opencode", "plugins")
    settings_name = "git-ledger.js"

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        return {}  # a plugin, not a hooks file

    def settings_path(self, scope: str, project: str | os.PathLike[str] | None = None) -> Path:
        if scope == "user":
            base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
                os.path.expanduser("~"), ".config"
            )
            return Path(base) / "opencode" / "plugins" / self.settings_name
        return super().settings_path(scope, project)

    def install(
        self,
        scope: str = "project",
        project: str | os.PathLike[str] | None = None,
        ledger_dir: str | os.PathLike[str] | None = None,
        python: str | None = None,
    ) -> Path:
        path = self.settings_path(scope, project)
        if path.exists() and MARK not in path.read_text(encoding="utf-8", errors="replace"):
            raise AgentSettingsError(f"{path} exists and is not ours; left as it is")
        self.prepare(ledger_dir)
        text = PLUGIN.replace("__MARK__", MARK).replace(
            "__COMMAND__", json.dumps(self.command(ledger_dir, python))
        )
        from ledger._fs import atomic_write

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"))
        return path

    def uninstall(
        self, scope: str = "project", project: str | os.PathLike[str] | None = None
    ) -> tuple[Path, int]:
        path = self.settings_path(scope, project)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return path, 0
        if MARK not in text:
            return path, 0
        path.unlink()
        return path, 1

    def translate(self, event: JSONDict) -> list[JSONDict]:
        name = str(event.get("hook_event_name") or "")
        session = _session_of(event) or self.fallback_session(event)
        if name == "session.created":
            return [self.shaped(event, "SessionStart", session, source="startup")]
        if name == "session.idle":
            return [self.shaped(event, "Stop", session)]
        if name == "session.error":
            error = as_dict(event.get("properties")).get("error")
            return [self.shaped(event, "StopFailure", session, error=json.dumps(error)[:2000])]
        if name not in ("tool.execute.before", "tool.execute.after"):
            return []  # file.edited repeats what the tool events record
        tool = str(event.get("tool") or "")
        args = as_dict(event.get("args"))
        call = event.get("call_id") if isinstance(event.get("call_id"), str) else None
        if tool in FILE_TOOLS:
            patch = patch_text(args)
            extra = {"patch": patch} if patch else {}
            for key, ours in (("oldString", "old_string"), ("newString", "new_string")):
                if isinstance(args.get(key), str):
                    extra[ours] = args[key]
            phase = "before" if name == "tool.execute.before" else "after"
            path = args.get("filePath")
            return self.edit_events(
                event, phase, session, patch, path, extra, call=call, agent_tool=tool
            )
        if name == "tool.execute.before":
            return []
        if tool == "bash":
            meta = as_dict(event.get("metadata"))
            code = meta.get("exit", meta.get("exitCode"))
            output = str(event.get("output") or "")
            command = args.get("command")
            return [self.command_event(event, session, command, output, code, agent_tool=tool)]
        if tool == "webfetch":
            return [self.tool_event(event, session, "WebFetch", args, {}, tool)]
        return []
