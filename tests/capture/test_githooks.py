"""Git hooks: real commits, amends, rebases, merges and pushes recorded into the ledger.

Also: A commit whose file names the ledger cannot record is still recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fsck_clean, git, run_cli

HOOKS = ("post-commit", "post-merge", "post-applypatch", "pre-push", "post-rewrite")


@pytest.fixture(autouse=True)
def _no_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    # Background drainers leave at once, so that a test's own `drain --wait` is quick.
    monkeypatch.setenv("GIT_LEDGER_DRAIN_LINGER", "0")


def sh(
    repo: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run git in a work repository, as a person would."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc


def make_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    return path


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", message)
    return sh(repo, "rev-parse", "HEAD").stdout.strip()


def install(ledger: Path, repo: Path) -> list[dict[str, str]]:
    proc = run_cli("--ledger", str(ledger), "hooks", "install", "--repo", str(repo), "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def drain(ledger: Path, repo: Path) -> str:
    proc = run_cli("--ledger", str(ledger), "hooks", "drain", "--wait", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def sessions(ledger: Path) -> list[str]:
    out = git(ledger, "for-each-ref", "--format=%(refname)", "refs/heads/sessions/")
    return [line[len("refs/heads/sessions/") :] for line in out.splitlines()]


def entries(ledger: Path, session: str) -> list[dict[str, Any]]:
    """The session's entries, oldest first, read with the git CLI."""
    ids = git(ledger, "log", "--reverse", "--format=%H", f"refs/heads/sessions/{session}")
    out = []
    for cid in ids.split():
        message = git(ledger, "log", "-1", "--format=%B", cid)
        if "Ledger-Observation:" in message:
            continue
        data = json.loads(git(ledger, "show", f"{cid}:entry.json"))
        data["id"] = cid
        out.append(data)
    return out


def day_session(repo: Path) -> str:
    return f"git-{repo.name}-{dt.datetime.now(dt.UTC):%Y%m%d}"


def of_type(items: list[dict[str, Any]], ctype: str) -> list[dict[str, Any]]:
    return [e for e in items if e["change_type"] == ctype]


# -- commits -------------------------------------------------------------------------------
def test_commits_become_entries_with_copied_file_states(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    actions = install(ledger_path, repo)
    assert [a["action"] for a in actions] == ["installed"] * 5
    root = commit_file(repo, "src/app.py", "print('v1')\n", "Add the app")
    (repo / "notes.txt").write_text("remember\n")
    (repo / "src" / "app.py").write_text("print('v2')\n")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", "Change the app\n\nWith a body.")
    second = sh(repo, "rev-parse", "HEAD").stdout.strip()
    sh(repo, "rm", "-q", "notes.txt")
    sh(repo, "commit", "-q", "-m", "Drop the notes")
    third = sh(repo, "rev-parse", "HEAD").stdout.strip()
    drain(ledger_path, repo)

    session = day_session(repo)
    assert sessions(ledger_path) == [session]
    items = entries(ledger_path, session)
    commits = of_type(items, "git_commit")
    assert [c["metadata"]["commit"] for c in commits] == [root, second, third]
    first, mid, last = (c["metadata"] for c in commits)
    assert first["root"] is True and first["parents"] == []
    assert mid["parents"] == [root] and mid["branch"] == "main" and not mid["merge"]
    assert mid["message"] == "Change the app\n\nWith a body.\n"
    assert mid["author"]["name"] == "Test Person"
    assert mid["author"]["email"] == "person@example.com"
    assert sorted(f["path"] for f in mid["files"]) == ["notes.txt", "src/app.py"]
    assert last["files"] == [
        {"path": "notes.txt", "status": "deleted", "blob_before": mid["files"][0]["blob_after"]}
    ]
    assert commits[1]["agent_id"] == "git"

    # Each changed file is its own entry; the states are blobs copied into the ledger.
    update = next(e for e in items if e["change_type"] == "file_update")
    assert update["file_path"] == "src/app.py"
    assert git(ledger_path, "cat-file", "-p", update["file_hash_before"]) == "print('v1')\n"
    assert git(ledger_path, "cat-file", "-p", update["file_hash_after"]) == "print('v2')\n"
    diff = git(ledger_path, "show", update["id"], "--", "files/src/app.py")
    assert "-print('v1')" in diff and "+print('v2')" in diff
    assert of_type(items, "file_delete")[0]["file_path"] == "notes.txt"
    history = git(ledger_path, "log", "--all", "--format=%s", "--", "files/src/app.py")
    assert "Changed src/app.py in commit" in history

    # The ledger does not need the work repository's objects.
    shutil.rmtree(repo)
    assert git(ledger_path, "cat-file", "-p", update["file_hash_after"]) == "print('v2')\n"
    fsck_clean(ledger_path)


def test_amend_and_rebase_are_recorded_as_mappings(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    commit_file(repo, "a.txt", "a\n", "Add a")
    before_amend = commit_file(repo, "b.txt", "b\n", "Add b")
    (repo / "b.txt").write_text("b, amended\n")
    sh(repo, "commit", "-q", "-a", "--amend", "-m", "Add b (amended)")
    after_amend = sh(repo, "rev-parse", "HEAD").stdout.strip()

    sh(repo, "checkout", "-q", "-b", "topic", "HEAD~1")
    t1 = commit_file(repo, "t1.txt", "1\n", "Topic one")
    t2 = commit_file(repo, "t2.txt", "2\n", "Topic two")
    sh(repo, "rebase", "-q", "main")
    rebased = sh(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    drain(ledger_path, repo)

    items = entries(ledger_path, day_session(repo))
    rewrites = [e["metadata"] for e in of_type(items, "git_commit") if "rewrite" in e["metadata"]]
    assert rewrites[0]["rewrite"] == "amend"
    assert rewrites[0]["mappings"] == [{"old": before_amend, "new": after_amend}]
    assert rewrites[1]["rewrite"] == "rebase"
    assert rewrites[1]["mappings"] == [
        {"old": t1, "new": rebased[0]},
        {"old": t2, "new": rebased[1]},
    ]
    commits = {e["metadata"].get("commit"): e for e in of_type(items, "git_commit")}
    assert {after_amend, t1, t2} <= set(commits)
    # git runs post-commit for each commit a rebase makes, on a detached HEAD.
    for new in rebased:
        assert commits[new]["metadata"]["rebasing"] == "topic"
        assert "while rebasing topic" in commits[new]["description"]
    fsck_clean(ledger_path)


def test_merge_and_detached_head(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    base = commit_file(repo, "a.txt", "a\n", "Add a")
    sh(repo, "checkout", "-q", "-b", "side")
    side = commit_file(repo, "side.txt", "side\n", "Side work")
    sh(repo, "checkout", "-q", "main")
    mainline = commit_file(repo, "main.txt", "main\n", "Main work")
    sh(repo, "merge", "-q", "--no-ff", "--no-edit", "side")
    merge = sh(repo, "rev-parse", "HEAD").stdout.strip()
    sh(repo, "checkout", "-q", "--detach", base)
    loose = commit_file(repo, "loose.txt", "x\n", "On a detached HEAD")
    drain(ledger_path, repo)

    commits = {
        e["metadata"]["commit"]: e
        for e in of_type(entries(ledger_path, day_session(repo)), "git_commit")
    }
    m = commits[merge]["metadata"]
    assert m["merge"] is True and m["parents"] == [mainline, side]
    assert [f["path"] for f in m["files"]] == ["side.txt"]  # what the merge brought in
    d = commits[loose]
    assert d["metadata"]["branch"] is None and d["metadata"]["detached"] is True
    assert "detached HEAD" in d["description"]


def test_commits_applied_by_git_am(tmp_path: Path, ledger_path: Path) -> None:
    source = make_repo(tmp_path / "source")
    commit_file(source, "a.txt", "a\n", "Add a")
    commit_file(source, "b.txt", "b\n", "Add b")
    patch = sh(source, "format-patch", "-1", "--stdout").stdout
    repo = tmp_path / "proj"
    subprocess.run(["git", "clone", "-q", str(source), str(repo)], check=True)
    sh(repo, "reset", "-q", "--hard", "HEAD~1")
    install(ledger_path, repo)
    proc = subprocess.run(
        ["git", "-C", str(repo), "am", "-q"], input=patch, text=True, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    applied = sh(repo, "rev-parse", "HEAD").stdout.strip()
    drain(ledger_path, repo)
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == applied
    assert entry["metadata"]["hook"] == "post-applypatch"


def test_worktrees_share_the_hooks(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    commit_file(repo, "a.txt", "a\n", "Add a")
    sh(repo, "worktree", "add", "-q", "-b", "wt-branch", str(tmp_path / "wt"))
    install(ledger_path, tmp_path / "wt")  # installing from a worktree fills the common hooks
    assert (repo / ".git" / "hooks" / "post-commit").is_file()
    made = commit_file(tmp_path / "wt", "w.txt", "w\n", "From the worktree")
    drain(ledger_path, repo)
    (entry,) = of_type(
        entries(ledger_path, f"git-wt-{dt.datetime.now(dt.UTC):%Y%m%d}"), "git_commit"
    )
    assert entry["metadata"]["commit"] == made
    assert entry["metadata"]["branch"] == "wt-branch"


# -- pushes --------------------------------------------------------------------------------
def test_pushes_record_refs_old_to_new(tmp_path: Path, ledger_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    first = commit_file(repo, "a.txt", "a\n", "Add a")
    sh(repo, "remote", "add", "origin", str(remote))
    sh(repo, "push", "-q", "origin", "main")  # initial push: the branch is new
    second = commit_file(repo, "a.txt", "a2\n", "Change a")
    third = commit_file(repo, "b.txt", "b\n", "Add b")
    sh(repo, "push", "-q", "origin", "main")
    sh(repo, "reset", "-q", "--hard", second)
    sh(repo, "push", "-q", "--force", "origin", "main")
    sh(repo, "push", "-q", "origin", "main:feature")
    sh(repo, "push", "-q", "origin", ":feature")  # delete a remote branch
    drain(ledger_path, repo)

    pushes = [e["metadata"] for e in of_type(entries(ledger_path, day_session(repo)), "git_push")]
    assert len(pushes) == 5
    assert all(p["remote"] == "origin" and p["url"] == str(remote) for p in pushes)
    refs = [p["refs"][0] for p in pushes]
    assert refs[0]["action"] == "create" and refs[0]["old"] is None
    assert refs[0]["new"] == first and refs[0]["remote_ref"] == "refs/heads/main"
    assert refs[1] == {
        "local_ref": "refs/heads/main",
        "remote_ref": "refs/heads/main",
        "old": first,
        "new": third,
        "action": "update",
        "forced": False,
        "commits": 2,
    }
    assert refs[2]["forced"] is True and refs[2]["old"] == third and refs[2]["new"] == second
    assert refs[3]["action"] == "create" and refs[3]["remote_ref"] == "refs/heads/feature"
    assert refs[4]["action"] == "delete" and refs[4]["new"] is None
    assert refs[4]["old"] == second and refs[4]["local_ref"] is None
    fsck_clean(ledger_path)


def test_push_from_a_bare_repository(tmp_path: Path, ledger_path: Path) -> None:
    work = make_repo(tmp_path / "work")
    head = commit_file(work, "a.txt", "a\n", "Add a")
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    target = tmp_path / "target.git"
    subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    install(ledger_path, bare)
    assert (bare / "hooks" / "pre-push").is_file()
    sh(bare, "push", "-q", str(target), "main")
    drain(ledger_path, bare)
    (push,) = of_type(
        entries(ledger_path, f"git-mirror-{dt.datetime.now(dt.UTC):%Y%m%d}"), "git_push"
    )
    assert push["metadata"]["refs"][0]["new"] == head
    assert push["metadata"]["repository"] == str(bare)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:s3cret@example.com/a/b.git", "https://example.com/a/b.git"),
        ("https://ghp_token@example.com/a.git", "https://example.com/a.git"),
        ("ssh://git:pw@example.com/a.git", "ssh://git@example.com/a.git"),
        ("git@example.com:a/b.git", "git@example.com:a/b.git"),
        ("/srv/git/a.git", "/srv/git/a.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, expected: str) -> None:
    from ledger._repoid import strip_credentials

    assert strip_credentials(url) == expected


# -- sessions ------------------------------------------------------------------------------
def test_agent_run_environment_picks_the_session(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    (repo / "a.txt").write_text("a\n")
    sh(repo, "add", "a.txt")
    env = {"GIT_LEDGER_SESSION": "run-42", "GIT_LEDGER_AGENT": "fixer-bot"}
    sh(repo, "commit", "-q", "-m", "Agent commit", env=env)
    drain(ledger_path, repo)
    assert sessions(ledger_path) == ["run-42"]
    (entry,) = of_type(entries(ledger_path, "run-42"), "git_commit")
    assert entry["agent_id"] == "fixer-bot"
    author = git(ledger_path, "log", "-1", "--format=%an", "refs/heads/sessions/run-42")
    assert author.strip() == "fixer-bot"


@given(st.text(max_size=300))
def test_any_text_makes_a_valid_stable_session_id(text: str) -> None:
    from ledger._names import validate_session_id
    from ledger.capture.sessions import session_id_from

    made = session_id_from(text)
    assert validate_session_id(made) == made
    assert session_id_from(text) == made
    try:
        validate_session_id(text)
    except ValueError:
        return
    assert made == text  # a valid id is kept as it is


def test_session_ids_from_any_text_are_valid_and_stable() -> None:
    from ledger._names import validate_session_id
    from ledger.capture.sessions import repo_session, session_id_from

    texts = ["plain-name", "my repo", "../x", "a..b", "x.lock", ".hidden", "é/ü", "", "a" * 300]
    made = [session_id_from(t) for t in texts]
    for value in made:
        assert validate_session_id(value) == value
    assert made[0] == "plain-name"  # valid ids are kept as they are
    assert made == [session_id_from(t) for t in texts]
    assert len(set(made)) == len(made)
    when = dt.datetime(2025, 11, 5, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert repo_session("My Project", when) == session_id_from("git-My Project-20251106")


# -- living with other hooks ------------------------------------------------------------------
def test_existing_hooks_are_chained_and_restored(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    hooks = repo / ".git" / "hooks"
    mine = '#!/bin/sh\necho "mine $*" >> "$(git rev-parse --git-dir)/mine.log"\n'
    (hooks / "post-commit").write_text(mine)
    (hooks / "post-commit").chmod(0o755)
    guard = '#!/bin/sh\nwhile read -r l; do echo "$l" >> pushed.log; done\nexit 1\n'
    (hooks / "pre-push").write_text(guard)
    (hooks / "pre-push").chmod(0o755)
    actions = {a["hook"]: a["action"] for a in install(ledger_path, repo)}
    assert actions == {
        "post-commit": "chained",
        "post-merge": "installed",
        "post-applypatch": "installed",
        "pre-push": "chained",
        "post-rewrite": "installed",
    }
    assert (hooks / "post-commit.ledger-chained").read_text() == mine

    made = commit_file(repo, "a.txt", "a\n", "Add a")
    assert (repo / ".git" / "mine.log").read_text() == "mine \n"  # the old hook still ran
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    sh(repo, "remote", "add", "origin", str(remote))
    refused = sh(repo, "push", "origin", "main", check=False)
    assert refused.returncode != 0  # the old pre-push still decides
    assert made in (repo / "pushed.log").read_text()  # and got the refs on its stdin
    drain(ledger_path, repo)
    items = entries(ledger_path, day_session(repo))
    assert len(of_type(items, "git_commit")) == 1
    assert of_type(items, "git_push") == []  # a refused push is not recorded

    again = {a["hook"]: a["action"] for a in install(ledger_path, repo)}
    assert set(again.values()) == {"unchanged"}
    removed = {
        a["hook"]: a["action"]
        for a in map(
            json.loads,
            run_cli("hooks", "uninstall", "--repo", str(repo), "--json").stdout.splitlines(),
        )
    }
    assert removed == {
        "post-commit": "restored",
        "post-merge": "removed",
        "post-applypatch": "removed",
        "pre-push": "restored",
        "post-rewrite": "removed",
    }
    assert (hooks / "post-commit").read_text() == mine
    assert (hooks / "pre-push").read_text() == guard
    assert not (hooks / "post-rewrite").exists()
    assert not (hooks / "post-commit.ledger-chained").exists()


def test_changed_hook_scripts_are_upgraded(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(hook.read_text().replace("git goes on", "git went on"))
    status = json.loads(
        run_cli(
            "--ledger", str(ledger_path), "hooks", "status", "--repo", str(repo), "--json"
        ).stdout
    )
    assert status["hooks"][0] == {
        "hook": "post-commit",
        "state": "outdated",
        "chained": False,
        "path": str(hook),
    }
    actions = {a["hook"]: a["action"] for a in install(ledger_path, repo)}
    assert actions == {
        "post-commit": "upgraded",
        "post-merge": "unchanged",
        "post-applypatch": "unchanged",
        "pre-push": "unchanged",
        "post-rewrite": "unchanged",
    }
    assert "git goes on" in hook.read_text()
    assert not (hook.parent / "post-commit.ledger-chained").exists()  # ours is not chained


def test_core_hooks_path_is_honoured(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    sh(repo, "config", "core.hooksPath", ".githooks")
    install(ledger_path, repo)
    assert (repo / ".githooks" / "post-commit").is_file()
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    made = commit_file(repo, "a.txt", "a\n", "Add a")
    drain(ledger_path, repo)
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == made


def test_hook_managers_get_a_line_to_add(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    sh(repo, "config", "core.hooksPath", ".husky/_")
    (repo / ".husky" / "_").mkdir(parents=True)
    proc = run_cli("--ledger", str(ledger_path), "hooks", "install", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert list((repo / ".husky" / "_").iterdir()) == []  # husky's folder is not touched
    private = repo / ".git" / "ledger-hooks" / "post-commit"
    assert f"husky: add to {repo / '.husky' / '_' / 'post-commit'}" in proc.stdout
    assert f'{private} "$@"' in proc.stdout
    # Doing what the line says records commits.
    (repo / ".husky" / "_" / "post-commit").write_text(f'#!/bin/sh\n{private} "$@"\n')
    (repo / ".husky" / "_" / "post-commit").chmod(0o755)
    made = commit_file(repo, "a.txt", "a\n", "Add a")
    drain(ledger_path, repo)
    assert (
        of_type(entries(ledger_path, day_session(repo)), "git_commit")[0]["metadata"]["commit"]
        == made
    )

    other = make_repo(tmp_path / "other")
    managed = "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n"
    (other / ".git" / "hooks" / "post-commit").write_text(managed)
    actions = {a["hook"]: a for a in install(ledger_path, other)}
    assert actions["post-commit"]["action"] == "manual"
    assert "post-commit.legacy" in actions["post-commit"]["detail"]
    assert (other / ".git" / "hooks" / "post-commit").read_text() == managed
    assert actions["pre-push"]["action"] == "installed"


# -- failures never block git ----------------------------------------------------------------
def test_an_unwritable_ledger_never_blocks_a_commit(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    objects = ledger_path / "objects"
    objects.rename(tmp_path / "objects.bak")
    objects.write_text("")  # the ledger is broken: not a repository any more
    spool = ledger_path / "ledger-spool"
    shutil.rmtree(spool, ignore_errors=True)
    spool.write_text("")  # and its spool cannot be made (as root, permissions would not stop us)

    (repo / "a.txt").write_text("a\n")
    sh(repo, "add", "a.txt")
    proc = sh(repo, "commit", "-q", "-m", "Commit while the ledger is broken")
    made = sh(repo, "rev-parse", "HEAD").stdout.strip()
    lines = [line for line in proc.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("git-ledger: cannot write to the ledger")
    drain(ledger_path, repo)  # fails too: the event stays where it is
    status = json.loads(
        run_cli(
            "--ledger", str(ledger_path), "hooks", "status", "--repo", str(repo), "--json"
        ).stdout
    )
    assert status["pending_in_repository"] == 1
    assert status["failure_count"] >= 2
    assert any("cannot write to the ledger" in f for f in status["failures"])
    assert any("not recorded yet" in f for f in status["failures"])
    text = run_cli("--ledger", str(ledger_path), "hooks", "status", "--repo", str(repo)).stdout
    assert "failures:" in text and "pending events: 1" in text

    objects.unlink()
    (tmp_path / "objects.bak").rename(objects)
    spool.unlink()
    drain(ledger_path, repo)  # repaired: nothing was lost
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == made
    fsck_clean(ledger_path)


def test_nowhere_to_write_still_commits(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    shutil.rmtree(ledger_path)
    ledger_path.mkdir()
    (ledger_path / "ledger-spool").write_text("")
    (repo / ".git" / "ledger-spool").write_text("")
    (repo / "a.txt").write_text("a\n")
    sh(repo, "add", "a.txt")
    proc = sh(repo, "commit", "-q", "-m", "Still commits")
    assert "git-ledger: cannot record this post-commit" in proc.stderr
    assert sh(repo, "log", "--format=%s").stdout.strip() == "Still commits"
    log = (repo / ".git" / "ledger-hooks.log").read_text()
    assert "post-commit cannot record this post-commit" in log


def test_a_missing_ledger_is_created_from_the_repository_spool(
    tmp_path: Path, ledger_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    shutil.rmtree(ledger_path)
    made = commit_file(repo, "a.txt", "a\n", "Add a")
    drain(ledger_path, repo)
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == made


def test_leftover_events_are_drained_by_the_next_ledger_command(
    tmp_path: Path, ledger_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    proc = run_cli(
        "--ledger",
        str(ledger_path),
        "hooks",
        "install",
        "--repo",
        str(repo),
        "--python",
        str(tmp_path / "no-such-python"),
    )
    assert proc.returncode == 0, proc.stderr
    (repo / "a.txt").write_text("a\n")
    sh(repo, "add", "a.txt")
    proc = sh(repo, "commit", "-q", "-m", "Add a")  # its drainer cannot start
    made = sh(repo, "rev-parse", "HEAD").stdout.strip()
    assert "no-such-python is gone: run git ledger hooks install again" in proc.stderr
    assert len(list((ledger_path / "ledger-spool").glob("ev-*"))) == 1
    other = run_cli(
        "--ledger", str(ledger_path), "log", "--type", "deployment", "-m", "x", "--session", "ops"
    )
    assert other.returncode == 0, other.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and day_session(repo) not in sessions(ledger_path):
        time.sleep(0.1)
    while time.monotonic() < deadline and list((ledger_path / "ledger-spool").glob("ev-*")):
        time.sleep(0.1)
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == made


def test_an_event_is_recorded_once_even_if_drained_twice(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    run_cli(
        "--ledger",
        str(ledger_path),
        "hooks",
        "install",
        "--repo",
        str(repo),
        "--python",
        str(tmp_path / "no-such-python"),
    )
    commit_file(repo, "a.txt", "a\n", "Add a")
    (event,) = (ledger_path / "ledger-spool").glob("ev-*")
    copy = event.read_bytes()
    drain(ledger_path, repo)
    event.write_bytes(copy)  # as if the drainer died after writing, before deleting
    drain(ledger_path, repo)
    assert len(of_type(entries(ledger_path, day_session(repo)), "git_commit")) == 1
    assert not event.exists()


def test_a_broken_event_is_set_aside(tmp_path: Path, ledger_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    spool = ledger_path / "ledger-spool"
    (spool / "ev-1-0").write_text("not an event\n")
    drain(ledger_path, repo)
    assert (spool / "failed" / "ev-1-0").exists()
    status = json.loads(
        run_cli(
            "--ledger", str(ledger_path), "hooks", "status", "--repo", str(repo), "--json"
        ).stdout
    )
    assert status["failed"] == 1 and status["pending"] == 0


def test_hook_scripts_ship_complete() -> None:
    from ledger.capture.scripts import hook_sources, render_hook

    assert (hook_sources() / "ledger-hook.sh").is_file()
    for name in HOOKS:
        text = render_hook(name, "/usr/bin/python3", "", "/srv/ledger.git")
        assert "@PYTHON@" not in text and "#@include" not in text
        assert text.startswith("#!/bin/sh\n# git-ledger-hook: " + name)
        assert subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0


def test_status_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("hooks", "status", "--repo", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("git-ledger: error:") and len(proc.stderr.splitlines()) == 1


def test_the_drainer_survives_its_terminal_closing(
    tmp_path: Path, ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_LEDGER_DRAIN_LINGER", "3")  # keep it around to look at it
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    made = commit_file(repo, "a.txt", "a\n", "Add a")
    pidfile = ledger_path / "ledger-spool" / ".drainer.pid"
    deadline = time.monotonic() + 20
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    assert os.getsid(pid) == pid  # its own session: no controlling terminal to lose
    os.kill(pid, signal.SIGHUP)  # what closing the terminal sends
    time.sleep(0.2)
    os.kill(pid, 0)  # still alive
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (entry,) = of_type(entries(ledger_path, day_session(repo)), "git_commit")
    assert entry["metadata"]["commit"] == made


def test_credentials_in_a_remote_url_never_reach_the_spool(
    tmp_path: Path, ledger_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    head = commit_file(repo, "a.txt", "a\n", "Add a")
    proc = run_cli(
        "--ledger",
        str(ledger_path),
        "hooks",
        "install",
        "--repo",
        str(repo),
        "--python",
        str(tmp_path / "no-such-python"),
    )
    assert proc.returncode == 0, proc.stderr
    for event in (ledger_path / "ledger-spool").glob("ev-*"):
        event.unlink()  # the commit's own event
    refs = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"
    # git runs pre-push with the remote's name and URL, and the refs on stdin.
    hook = subprocess.run(
        [
            str(repo / ".git" / "hooks" / "pre-push"),
            "origin",
            "https://deploy:s3cr3t-t0ken@git.example.com/team/app.git",
        ],
        input=refs,
        text=True,
        capture_output=True,
        cwd=repo,
    )
    assert hook.returncode == 0
    (event,) = (ledger_path / "ledger-spool").glob("ev-*")
    text = event.read_text()
    assert "s3cr3t" not in text and "deploy" not in text
    assert "arg https://git.example.com/team/app.git" in text
    drain(ledger_path, repo)
    (push,) = of_type(entries(ledger_path, day_session(repo)), "git_push")
    assert push["metadata"]["url"] == "https://git.example.com/team/app.git"
    assert push["metadata"]["refs"][0]["new"] == head
    assert "s3cr3t" not in git(ledger_path, "log", "--all", "-p")


# --- A commit whose file names the ledger cannot record is still recorded.


@pytest.fixture(autouse=True)
def _no_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_LEDGER_DRAIN_LINGER", "0")


def test_a_file_name_that_is_not_utf8_does_not_lose_the_commit(
    tmp_path: Path, ledger_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    (repo / "good.txt").write_text("fine\n")
    with open(os.path.join(os.fsencode(repo), b"bad\xffname"), "wb") as fh:
        fh.write(b"latin-1 name\n")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", "Add two files")
    head = sh(repo, "rev-parse", "HEAD").stdout.strip()
    drain(ledger_path, repo)

    items = entries(ledger_path, day_session(repo))
    (commit,) = of_type(items, "git_commit")
    assert commit["metadata"]["commit"] == head
    files = {f["path"]: f for f in commit["metadata"]["files"]}
    assert set(files) == {"bad\\xffname", "good.txt"}
    assert "not valid UTF-8" in files["bad\\xffname"]["not_recorded"]
    assert [e["file_path"] for e in of_type(items, "file_create")] == ["good.txt"]
    assert not (ledger_path / "ledger-spool" / "failed").exists() or not any(
        (ledger_path / "ledger-spool" / "failed").iterdir()
    )
    assert git(ledger_path, "cat-file", "-p", files["good.txt"]["blob_after"]) == "fine\n"
    fsck_clean(ledger_path)


def test_a_push_to_a_url_keeps_its_credentials_out_of_the_ledger(
    tmp_path: Path, ledger_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    commit_file(repo, "a.txt", "a\n", "Add a")
    token = "opaqueUserToken4711"
    # No named remote: git hands the hook the URL as the remote's name as well.
    sh(repo, "push", "-q", f"file://{token}@localhost{remote}", "main")
    drain(ledger_path, repo)

    (push,) = of_type(entries(ledger_path, day_session(repo)), "git_push")
    assert push["metadata"]["remote"] == push["metadata"]["url"] == f"file://localhost{remote}"
    assert push["metadata"]["refs"][0]["action"] == "create"
    stored = subprocess.run(
        ["git", "-C", str(ledger_path), "cat-file", "--batch-all-objects", "--batch"],
        check=True,
        capture_output=True,
    ).stdout
    assert token.encode() not in stored
    fsck_clean(ledger_path)
