"""A scripted agent session in a temporary workspace, recorded into a ledger."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.entry import Entry
from ledger.write.logger import ChangeLogger

AGENT = "demo-agent"


def run_demo(ledger_dir: str | os.PathLike[str] | None = None) -> tuple[ChangeLogger, list[Entry]]:
    """Play a small agent session (files, a command, an API call, decisions) and log it."""
    with tempfile.TemporaryDirectory(prefix="git-ledger-demo-") as tmp:
        work = Path(tmp)
        logger = ChangeLogger(ledger_dir=ledger_dir, agent_id=AGENT, workdir=work)
        entries = [
            logger.log_agent_decision(
                "Add a health endpoint to the service",
                "The deployment checklist requires /healthz before rollout",
                {"ticket": "OPS-142", "priority": "high"},
            )
        ]
        entries += _edit_files(logger, work)
        entries.append(_check_syntax(logger, work))
        entries += _deploy(logger)
    return logger, entries


def _edit_files(logger: ChangeLogger, work: Path) -> list[Entry]:
    """Create, update and delete files in the workspace, each tracked as it happens."""
    entries: list[Entry] = []
    app = work / "app" / "main.py"
    with logger.track_file("app/main.py", "Create the service entry point") as t:
        app.parent.mkdir(parents=True)
        app.write_text('def handler(request):\n    return "ok"\n')
    assert t.entry is not None
    entries.append(t.entry)
    config = work / "config.yaml"
    config.write_text("port: 8080\ndebug: true\n")  # there before the agent came
    with logger.track_file("config.yaml", "Turn debug off for production") as t:
        config.write_text("port: 8080\ndebug: false\n")
    assert t.entry is not None
    entries.append(t.entry)
    with logger.track_file("app/main.py", "Add the /healthz route") as t:
        app.write_text(
            "def handler(request):\n"
            '    if request.path == "/healthz":\n'
            '        return "healthy"\n'
            '    return "ok"\n'
        )
    assert t.entry is not None
    entries.append(t.entry)
    scratch = work / "notes.tmp"
    scratch.write_text("scratch notes\n")
    with logger.track_file("notes.tmp", "Remove scratch notes") as t:
        scratch.unlink()
    assert t.entry is not None
    entries.append(t.entry)
    return entries


def _check_syntax(logger: ChangeLogger, work: Path) -> Entry:
    """Run a real command (a syntax check of the new file) and record it."""
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ast,sys; ast.parse(open(sys.argv[1]).read()); print('syntax ok')",
            str(work / "app" / "main.py"),
        ],
        capture_output=True,
        text=True,
        cwd=work,
    )
    return logger.log_command(
        "python -c 'ast.parse(app/main.py)'",
        proc.stdout,
        proc.returncode,
        stderr=proc.stderr,
        duration=time.monotonic() - started,
        cwd=work,
    )


def _deploy(logger: ChangeLogger) -> list[Entry]:
    """An API call that starts a release, the deployment, and the decision to stop."""
    return [
        logger.log_api_call(
            "https://deploy.example.invalid/api/v1/releases",
            "POST",
            {"service": "app", "version": "1.4.0"},
            {"status": "queued", "release": 311},
            202,
            duration=0.184,
        ),
        logger.log(
            "deployment",
            "Deployed app 1.4.0 to staging",
            {"environment": "staging", "version": "1.4.0", "release": 311},
        ),
        logger.log_agent_decision(
            "Stop: staging deploy verified",
            "Health check answered 'healthy'",
        ),
    ]
