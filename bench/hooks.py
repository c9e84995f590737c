"""How much git-ledger's hooks add to ``git commit`` and ``git push`` on a small repository.

Two repositories are made side by side, one with the hooks installed and one without, and
the same commits and pushes (to a local bare remote) alternate between them, so both see
the same machine load. Prints the median time of each command with and without hooks, the
added milliseconds and the ratio, then checks that every commit and push became an entry.

    python bench/hooks.py [--rounds 40]
    python bench/hooks.py --agents [--rounds 40]

With ``--agents``: the agent hook command, once per agent event type (fixtures in each
agent's documented format), against a bare ``python3 -c pass`` on the same machine, in
alternation; prints the medians and the ratio, then drains and counts the entries.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def timed(repo: Path, *args: str) -> float:
    start = time.perf_counter()
    git(repo, *args)
    return time.perf_counter() - start


def make_repo(base: Path, name: str) -> Path:
    repo = base / name
    remote = base / f"{name}-remote.git"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    for i in range(20):  # a small project: a few folders of small files
        path = repo / f"pkg{i % 4}" / f"mod{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"def f{i}():\n    return {i}\n" * 20)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial commit")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return repo


def hook_alone(repo: Path, rounds: int) -> None:
    """The post-commit script by itself (no drainer started) against an empty sh script."""
    keeper = subprocess.Popen(["sleep", "600"])  # stands for a running drainer
    spool = Path(os.environ["GIT_LEDGER_DIR"]) / "ledger-spool"
    try:
        subprocess.run(
            [sys.executable, "-m", "ledger", "hooks", "drain", "--wait", "--repo", str(repo)],
            check=True,
            capture_output=True,
            cwd=ROOT,  # python -m looks in the current folder first
        )
        (spool / ".drainer.pid").write_text(f"{keeper.pid}\n")
        empty = repo.parent / "empty-hook"
        empty.write_text("#!/bin/sh\nexit 0\n")
        empty.chmod(0o755)
        hook = repo / ".git" / "hooks" / "post-commit"
        times: dict[str, list[float]] = {"empty": [], "hook": []}
        for _ in range(rounds):
            for label, script in (("empty", empty), ("hook", hook)):
                start = time.perf_counter()
                subprocess.run([str(script)], cwd=repo, check=True)
                times[label].append(time.perf_counter() - start)
        empty_ms = statistics.median(times["empty"]) * 1000
        hook_ms = statistics.median(times["hook"]) * 1000
        print(
            f"post-commit script alone: {hook_ms:.1f}ms against {empty_ms:.1f}ms for an empty "
            f"hook ({hook_ms - empty_ms:+.1f}ms)"
        )
    finally:
        keeper.kill()
        keeper.wait()
        (spool / ".drainer.pid").unlink(missing_ok=True)


AGENT_EVENTS = [  # (agent, fixture, what the fixture is)
    ("claude-code", "claude_code/05_pre_edit.json", "PreToolUse Edit (snapshot)"),
    ("claude-code", "claude_code/06_post_edit.json", "PostToolUse Edit"),
    ("claude-code", "claude_code/07_post_bash.json", "PostToolUse Bash"),
    ("claude-code", "claude_code/02_user_prompt_submit.json", "UserPromptSubmit"),
    ("gemini-cli", "gemini_cli/04_after_tool_replace.json", "AfterTool replace"),
    ("codex", "codex/03_pre_tool_use_apply_patch.json", "PreToolUse apply_patch"),
    ("codex", "codex/05_post_tool_use_bash.json", "PostToolUse Bash"),
    ("cursor", "cursor/02_after_file_edit.json", "afterFileEdit"),
    ("cursor", "cursor/03_after_shell_execution.json", "afterShellExecution"),
    ("copilot-cli", "copilot_cli/04_postToolUse_edit.json", "postToolUse edit"),
    ("opencode", "opencode/02_tool_execute_before_edit.json", "tool.execute.before edit"),
]


def agent_hooks(rounds: int) -> None:
    """Per agent event type: the hook command against a bare interpreter start."""
    base = Path(tempfile.mkdtemp(prefix="ledger-bench-agents-"))
    ledger = base / "ledger.git"
    workspace = base / "webapp"
    (workspace / "src").mkdir(parents=True)
    fixtures = ROOT / "tests" / "fixtures"
    (workspace / "src" / "dates.py").write_bytes(
        (fixtures / "claude_code" / "dates_before.py").read_bytes()
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_LEDGER_EVENT": "postToolUse"}
    subprocess.run(
        [sys.executable, "-m", "ledger", "--ledger", str(ledger), "agent", "drain"],
        check=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
    )
    from ledger.location import ensure_ledger

    ensure_ledger(ledger)
    try:
        bare = [sys.executable, "-P", "-c", "pass"]
        print(f"{rounds} rounds each, alternating with `python3 -P -c pass`; ledger {ledger}")
        print(f"{'agent':<13}{'event':<28}{'bare':>9}{'hook':>9}{'ratio':>8}")
        total = 0
        for agent, name, what in AGENT_EVENTS:
            payload = (
                (fixtures / name).read_text().replace("/home/dev/projects/webapp", str(workspace))
            )
            command = [
                sys.executable,
                "-P",
                "-m",
                "ledger",
                "--ledger",
                str(ledger),
                "agent",
                agent,
            ]
            times: dict[str, list[float]] = {"bare": [], "hook": []}
            for _ in range(rounds):
                for label, argv in (("bare", bare), ("hook", command)):
                    start = time.perf_counter()
                    subprocess.run(
                        argv,
                        input=payload.encode(),
                        capture_output=True,
                        cwd=workspace,
                        env=env,
                        check=True,
                    )
                    times[label].append(time.perf_counter() - start)
            total += rounds
            b = statistics.median(times["bare"]) * 1000
            h = statistics.median(times["hook"]) * 1000
            print(f"{agent:<13}{what:<28}{b:>7.1f}ms{h:>7.1f}ms{h / b:>7.2f}x")
        drained = subprocess.run(
            [sys.executable, "-m", "ledger", "--ledger", str(ledger), "agent", "drain", "--json"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
        log = subprocess.run(
            ["git", "--git-dir", str(ledger), "log", "--all", "--format=%s"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        print(
            f"{total} hook events; drain: {drained.stdout.strip()}; ledger holds {len(log)} commits"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--agents", action="store_true", help="time the agent hooks instead")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="seconds between commands, as between a person's (0: back to back)",
    )
    opts = parser.parse_args()
    if opts.agents:
        agent_hooks(opts.rounds)
        return
    base = Path(tempfile.mkdtemp(prefix="ledger-bench-hooks-"))
    env = {
        **os.environ,
        "HOME": str(base),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_LEDGER_DIR": str(base / "ledger.git"),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    os.environ.update(env)
    try:
        plain = make_repo(base, "plain")
        hooked = make_repo(base, "hooked")
        subprocess.run(
            [sys.executable, "-m", "ledger", "hooks", "install", "--repo", str(hooked)],
            check=True,
            capture_output=True,
            cwd=ROOT,  # python -m looks in the current folder first
        )
        times: dict[tuple[str, str], list[float]] = {}
        pair = [("without", plain), ("with", hooked)]
        for n in range(opts.rounds):
            # ABBA order, so that neither side always runs right after the other's drainer.
            for label, repo in pair if n % 2 == 0 else pair[::-1]:
                target = repo / "pkg0" / "mod0.py"
                target.write_text(target.read_text() + f"# change {n}\n")
                git(repo, "add", "-A")
                t_commit = timed(repo, "commit", "-q", "-m", f"Change {n}")
                time.sleep(opts.pause)
                t_push = timed(repo, "push", "-q", "origin", "main")
                times.setdefault(("commit", label), []).append(t_commit)
                times.setdefault(("push", label), []).append(t_push)
            time.sleep(opts.pause)
        print(
            f"{opts.rounds} rounds, commands {opts.pause:.2f}s apart, small repository (20 files), "
            "local bare remote"
        )
        print(f"{'command':<12}{'without':>12}{'with hooks':>14}{'added':>12}{'ratio':>9}")
        for cmd in ("commit", "push"):
            without = statistics.median(times[(cmd, "without")]) * 1000
            with_ = statistics.median(times[(cmd, "with")]) * 1000
            print(
                f"git {cmd:<8}{without:>10.1f}ms{with_:>12.1f}ms"
                f"{with_ - without:>+10.1f}ms{with_ / without:>8.2f}x"
            )
        drained = subprocess.run(
            [sys.executable, "-m", "ledger", "hooks", "drain", "--wait", "--repo", str(hooked)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        print(drained.stdout.strip())
        log = subprocess.run(
            ["git", "--git-dir", str(base / "ledger.git"), "log", "--all", "--format=%s"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        commits = sum(1 for s in log if s.startswith("git_commit: Commit"))
        pushes = sum(1 for s in log if s.startswith("git_push:"))
        print(
            f"ledger holds {commits} commit entries (expected {opts.rounds}) and "
            f"{pushes} push entries (expected {opts.rounds})"
        )
        hook_alone(hooked, opts.rounds)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
