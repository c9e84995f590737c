"""Repository identity in queries: --repo, and path commands scoped to the repository
they run in (like git log -- PATH), over real repositories edited through the Claude Code
hook and real git commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import LogQuery
from ledger.read.repos import remote_key
from tests.capture.claude_events import drain, work_repo, write_file
from tests.conftest import run_cli

A_REMOTE = "https://github.com/acme/alpha.git"
B_REMOTE = "git@github.com:acme/beta.git"


@pytest.fixture
def two_repos(tmp_path: Path, ledger_path: Path) -> tuple[Path, Path]:
    alpha = work_repo(tmp_path / "alpha", A_REMOTE)
    beta = work_repo(tmp_path / "beta", B_REMOTE)
    write_file(ledger_path, alpha, "sess-alpha", "README.md", "# Alpha\n", "toolu_a1")
    write_file(ledger_path, beta, "sess-beta", "README.md", "# Beta\n", "toolu_b1")
    write_file(ledger_path, beta, "sess-beta", "README.md", "# Beta\n\nMore.\n", "toolu_b2")
    (alpha / "docs").mkdir()
    write_file(ledger_path, alpha, "sess-alpha", "docs/guide.md", "guide\n", "toolu_a2")
    drain(ledger_path)
    return alpha, beta


def _history(ledger: Path, cwd: Path, *args: str) -> list[dict[str, object]]:
    proc = run_cli("--ledger", str(ledger), "file-history", *args, "--json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    rows: list[dict[str, object]] = json.loads(proc.stdout)
    return rows


def test_file_history_inside_a_repository_shows_only_its_own(
    two_repos: tuple[Path, Path], ledger_path: Path
) -> None:
    alpha, beta = two_repos
    in_alpha = _history(ledger_path, alpha, "README.md")
    assert [r["session_id"] for r in in_alpha] == ["sess-alpha"]
    in_beta = _history(ledger_path, beta, "README.md")
    assert [r["session_id"] for r in in_beta] == ["sess-beta", "sess-beta"]
    every = _history(ledger_path, alpha, "README.md", "--all-repos")
    assert sorted(r["session_id"] for r in every) == ["sess-alpha", "sess-beta", "sess-beta"]
    # From a subfolder, PATH is read from the current folder, as git does.
    assert [r["session_id"] for r in _history(ledger_path, alpha / "docs", "guide.md")] == [
        "sess-alpha"
    ]
    # Outside any repository: every repository's entries (nothing to scope to).
    outside = _history(ledger_path, ledger_path.parent, "README.md")
    assert len(outside) == 3


def test_repo_option_takes_a_folder_or_any_spelling_of_the_remote(
    two_repos: tuple[Path, Path], ledger_path: Path
) -> None:
    alpha, beta = two_repos
    for spelling in ("https://github.com/acme/beta", "ssh://git@github.com/acme/beta.git",
                     B_REMOTE, str(beta)):
        proc = run_cli("--ledger", str(ledger_path), "search", "--repo", spelling, "--json",
                       cwd=alpha)
        assert proc.returncode == 0, proc.stderr
        assert {r["session_id"] for r in json.loads(proc.stdout)} == {"sess-beta"}, spelling
    proc = run_cli("--ledger", str(ledger_path), "sessions", "--repo", str(alpha), "--json")
    assert [r["session_id"] for r in json.loads(proc.stdout)] == ["sess-alpha"]
    proc = run_cli("--ledger", str(ledger_path), "recent", "--repo", A_REMOTE, "--json")
    assert len(json.loads(proc.stdout)) == 2
    out = ledger_path.parent / "beta.jsonl"
    proc = run_cli("--ledger", str(ledger_path), "export", str(out), "--repo", B_REMOTE)
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 2
    proc = run_cli("--ledger", str(ledger_path), "search", "--repo",
                   "https://example.org/nobody.git", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout) == []


def test_the_api_filters_by_repository_with_and_without_the_index(
    two_repos: tuple[Path, Path], ledger_path: Path
) -> None:
    alpha, _beta = two_repos
    for use_index in (True, False):
        q = LogQuery(ledger_path, use_index=use_index)
        assert {e.session_id for e in q.query(repo=alpha)} == {"sess-alpha"}
        assert len(q.get_file_history("README.md", repo=B_REMOTE)) == 2
        assert len(q.query(file_path="README.md", repo="github.com:acme/beta", limit=1)) == 1
        stored = {e.metadata["repository"]["remote"] for e in q.query(repo=alpha)}
        assert stored == {A_REMOTE}


def test_a_schema_4_index_is_rebuilt_with_the_repository_columns(
    two_repos: tuple[Path, Path], ledger_path: Path
) -> None:
    import sqlite3

    from ledger._layout import INDEX_FILE

    alpha, _ = two_repos
    LogQuery(ledger_path).query(repo=alpha)  # builds the index
    db = ledger_path / INDEX_FILE
    conn = sqlite3.connect(db)
    conn.executescript("DROP TABLE entries; CREATE TABLE entries(id TEXT, session TEXT);"
                       "UPDATE meta SET value='4' WHERE key='version';")
    conn.commit()
    conn.close()
    assert {e.session_id for e in LogQuery(ledger_path).query(repo=alpha)} == {"sess-alpha"}


def test_git_hook_entries_carry_the_remote_too(tmp_path: Path, ledger_path: Path) -> None:
    from tests.capture.claude_events import commit

    repo = work_repo(tmp_path / "gamma", "../central/gamma.git")
    proc = run_cli("--ledger", str(ledger_path), "hooks", "install", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    (repo / "README.md").write_text("gamma\n")
    commit(repo, "Add README")
    # git's hooks spool into the repository; wait for their drainer, not the agents' one
    proc = run_cli("--ledger", str(ledger_path), "hooks", "drain", "--wait", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    expected = str(tmp_path / "central" / "gamma.git")
    found = LogQuery(ledger_path).query(repo=expected)
    assert found and all(e.metadata["remote"] == expected for e in found)
    assert _history(ledger_path, repo, "README.md")


def test_remote_keys() -> None:
    assert remote_key("https://user:tok@GitHub.com/acme/a.git/") == "github.com/acme/a"
    assert remote_key("git@github.com:acme/a.git") == "github.com/acme/a"
    assert remote_key("ssh://git@github.com:22/acme/a") == "github.com/acme/a"
    assert remote_key("file:///srv/git/a.git") == "/srv/git/a"


def test_the_audit_groups_files_by_repository(
    two_repos: tuple[Path, Path], ledger_path: Path
) -> None:
    alpha, _beta = two_repos
    proc = run_cli("--ledger", str(ledger_path), "audit", "--since", "1d", "--json", "--no-fsck")
    report = json.loads(proc.stdout)
    readmes = {f["repository"]: f for f in report["files_changed"]
               if f["file_path"] == "README.md"}
    assert set(readmes) == {"github.com/acme/alpha", "github.com/acme/beta"}
    assert readmes["github.com/acme/beta"]["changes"] == 2
    assert readmes["github.com/acme/beta"]["sessions"] == 1
    assert {r["repository"]: r["files"] for r in report["repositories"]} == {
        "github.com/acme/alpha": 2, "github.com/acme/beta": 1}
    markdown = run_cli("--ledger", str(ledger_path), "audit", "--since", "1d", "--format",
                       "markdown", "--no-fsck").stdout
    assert "### github.com/acme/alpha" in markdown and "### github.com/acme/beta" in markdown
    page = ledger_path.parent / "audit.html"
    proc = run_cli("--ledger", str(ledger_path), "audit", "--since", "1d", "-o", str(page),
                   "--no-fsck")
    assert proc.returncode == 0, proc.stderr
    html = page.read_text()
    assert '<h3 class="repo">github.com/acme/alpha</h3>' in html
    assert '<h3 class="repo">github.com/acme/beta</h3>' in html
    # --repo narrows the audit to one repository.
    proc = run_cli("--ledger", str(ledger_path), "audit", "--since", "1d", "--json",
                   "--no-fsck", "--repo", str(alpha))
    report = json.loads(proc.stdout)
    assert {s["session_id"] for s in report["sessions"]} == {"sess-alpha"}
    assert report["repository"] == str(alpha)


def test_the_api_names_the_repository_of_its_workdir(tmp_path: Path, ledger_path: Path) -> None:
    from ledger import ChangeLogger

    repo = work_repo(tmp_path / "delta", "https://tok:secret@example.com/acme/delta.git")
    logger = ChangeLogger(ledger_path, agent_id="api-agent", session_id="api-1", workdir=repo)
    entry = logger.log_file_change("README.md", "file_create", after_content="delta\n")
    assert entry.metadata["repository"]["root"] == str(repo)
    assert entry.metadata["repository"]["remote"] == "https://example.com/acme/delta.git"
    assert "secret" not in json.dumps(entry.metadata)
    given = logger.log("agent_decision", "chose", {"repository": {"root": "/elsewhere"}})
    assert given.metadata["repository"] == {"root": "/elsewhere"}  # the caller's wins
    plain = ChangeLogger(ledger_path, session_id="api-2", workdir=repo, repository=False)
    assert "repository" not in plain.log("agent_decision", "no repo").metadata
    assert [e.session_id for e in LogQuery(ledger_path).get_file_history(
        "README.md", repo="https://example.com/acme/delta")] == ["api-1"]
