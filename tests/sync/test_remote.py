"""Remotes of a ledger: adding, listing, removing; credentials over HTTP; the CLI."""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import sync
from ledger.errors import InvalidRemoteError, SyncError
from ledger.write.logger import ChangeLogger
from tests.conftest import ROOT, fsck_clean, git, run_cli

S = "refs/heads/sessions/"


def _ledger(path: Path, *sessions: str) -> Path:
    for sid in sessions:
        ChangeLogger(ledger_dir=path, session_id=sid, durable=False).log("deployment", sid)
    return path


def test_add_list_remove(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path / "l.git", "s")
    info = sync.add_remote(ledger, "origin", "https://bot@git.example.com/team/l.git")
    assert info.url == "https://git.example.com/team/l.git"
    sync.add_remote(ledger, "backup", "/srv/backup/l.git", auto_push=True)
    assert [(r.name, r.url, r.auto_push) for r in sync.list_remotes(ledger)] == [
        ("backup", "/srv/backup/l.git", True),
        ("origin", "https://git.example.com/team/l.git", False),
    ]
    # Only the staging namespace is fetched into, and nothing is configured for push.
    fetch = git(ledger, "config", "--get-all", "remote.origin.fetch").split()
    assert fetch == [
        "+refs/heads/sessions/*:refs/ledger-remotes/origin/sessions/*",
        "+refs/ledger/*:refs/ledger-remotes/origin/ledger/*",
    ]
    assert git(ledger, "config", "--get-all", "remote.origin.push", check=False) == ""
    assert sync.auto_push_remote(ledger) == "backup"
    git(ledger, "update-ref", "refs/ledger-remotes/backup/sessions/x", f"{S}s")
    sync.remove_remote(ledger, "backup")
    assert [r.name for r in sync.list_remotes(ledger)] == ["origin"]
    assert sync.auto_push_remote(ledger) is None
    assert "ledger-remotes" not in git(ledger, "for-each-ref")
    assert git(ledger, "rev-parse", f"{S}s")  # sessions stay


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a..b", "a b", "x.lock", "n" * 41, "a:b", "ä"])
def test_bad_remote_names_are_refused(tmp_path: Path, name: str) -> None:
    ledger = _ledger(tmp_path / "l.git", "s")
    before = (ledger / "config").read_bytes()
    with pytest.raises(InvalidRemoteError):
        sync.add_remote(ledger, name, "file:///srv/x.git")
    assert (ledger / "config").read_bytes() == before


def test_passwords_in_urls_are_refused_and_never_echoed(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path / "l.git", "s")
    with pytest.raises(InvalidRemoteError) as info:
        sync.add_remote(ledger, "origin", "https://bot:hunter2@git.example.com/l.git")
    assert "hunter2" not in str(info.value) and "bot" not in str(info.value)
    out = run_cli("--ledger", str(ledger), "remote", "add", "o", "https://u:hunter2@h/x.git")
    assert out.returncode == 2 and "hunter2" not in out.stderr + out.stdout
    assert "hunter2" not in (ledger / "config").read_text()
    with pytest.raises(InvalidRemoteError):
        sync.add_remote(ledger, "dup", "file:///a")
        sync.add_remote(ledger, "dup", "file:///b")


def test_redact_url() -> None:
    assert sync.redact_url("https://u:p@h:8443/x") == "https://h:8443/x"
    assert sync.redact_url("ssh://git@h/x") == "ssh://h/x"
    assert sync.redact_url("git@h:team/x.git") == "git@h:team/x.git"
    assert sync.redact_url("/srv/x.git") == "/srv/x.git"


def test_unknown_remote_and_no_remote(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path / "l.git", "s")
    with pytest.raises(InvalidRemoteError, match="no remote"):
        sync.push(ledger)
    sync.add_remote(ledger, "a", "file:///nowhere/a.git")
    sync.add_remote(ledger, "b", "file:///nowhere/b.git")
    with pytest.raises(InvalidRemoteError, match="name the remote"):
        sync.pull(ledger)
    with pytest.raises(InvalidRemoteError, match="no remote named c"):
        sync.push(ledger, "c")
    with pytest.raises(SyncError):
        sync.push(ledger, "a")
    out = run_cli("--ledger", str(ledger), "push", "zzz")
    assert out.returncode == 2 and out.stderr.count("\n") == 1


def test_cli_remote_push_pull_round_trip(tmp_path: Path) -> None:
    a = _ledger(tmp_path / "a.git", "one", "two")
    central = tmp_path / "c.git"
    assert run_cli("remote", "init-central", str(central)).returncode == 0
    out = run_cli("--ledger", str(a), "remote", "add", "origin", central.as_uri())
    assert out.returncode == 0, out.stderr
    listed = run_cli("--ledger", str(a), "remote", "list")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "AUTO-PUSH", "URL"]
    pushed = run_cli("--ledger", str(a), "push", "--json")
    assert pushed.returncode == 0, pushed.stderr
    data = json.loads(pushed.stdout)
    assert sorted(data["pushed"]) == [S + "one", S + "two"] and data["ok"] is True
    table = run_cli("--ledger", str(a), "push")
    assert "0 refs sent to origin" in table.stdout and "2 up to date" in table.stdout
    b = tmp_path / "b.git"
    assert run_cli("--ledger", str(b), "remote", "add", "origin", str(central)).returncode == 0
    pulled = run_cli("--ledger", str(b), "pull", "origin")
    assert pulled.returncode == 0, pulled.stderr
    assert "2 refs taken from origin" in pulled.stdout
    assert git(b, "rev-parse", S + "one") == git(a, "rev-parse", S + "one")
    assert run_cli("--ledger", str(b), "remote", "remove", "origin").returncode == 0
    fsck_clean(b)


def test_every_sync_command_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in (
        "remote add",
        "remote list",
        "remote remove",
        "remote init-central",
        "remote install-guard",
        "push",
        "pull",
    ):
        assert f"### git ledger {command}\n" in text, command
    for command in ("remote", "push", "pull"):
        help_text = run_cli(command, "--help").stdout
        assert "Example" in help_text


# -- HTTP with a credential helper ---------------------------------------------------------
class _GitHTTP(http.server.BaseHTTPRequestHandler):
    """git http-backend behind Basic auth: the smallest real smart-HTTP git server."""

    root: Path
    expected: str
    seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        auth = self.headers.get("Authorization", "")
        self.seen.append(auth)
        body = self._body() if self.command == "POST" else b""
        if auth != "Basic " + self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="ledger"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            **os.environ,
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "robot",
            "REMOTE_ADDR": "127.0.0.1",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(
            ["git", "http-backend"], input=body, capture_output=True, env=env, check=False
        )
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(": ")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve


@pytest.fixture
def http_central(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    root = tmp_path / "served"
    root.mkdir()
    central = sync.init_central(root / "c.git")
    seen: list[str] = []
    handler = type(
        "Handler",
        (_GitHTTP,),
        {"root": root, "expected": base64.b64encode(b"robot:s3cret-token").decode(), "seen": seen},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/c.git", central, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _helper(tmp_path: Path, password: str) -> Path:
    """A git credential helper that logs its actions and answers with robot/<password>."""
    log = tmp_path / "helper.log"
    script = tmp_path / "helper.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1" >> "{log}"\n'
        'if [ "$1" = get ]; then\n'
        f"  echo username=robot\n  echo password={password}\n"
        "fi\n"
    )
    script.chmod(0o755)
    subprocess.run(["git", "config", "--global", "credential.helper", str(script)], check=True)
    return log


def test_https_style_push_and_pull_with_a_credential_helper(
    tmp_path: Path, http_central: tuple[str, Path, list[str]]
) -> None:
    url, central, seen = http_central
    log = _helper(tmp_path, "s3cret-token")
    a = _ledger(tmp_path / "a.git", "web1", "web2")
    sync.add_remote(a, "origin", url)
    result = sync.push(a, interactive=False)
    assert sorted(result.pushed) == [S + "web1", S + "web2"] and result.ok
    assert git(central, "rev-parse", S + "web1") == git(a, "rev-parse", S + "web1")
    b = tmp_path / "b.git"
    sync.add_remote(b, "origin", url.replace("http://", "http://robot@"))
    assert sorted(sync.pull(b, interactive=False).created) == [S + "web1", S + "web2"]
    for path in b.rglob("*"):  # the login name stays in the remote's URL in config only
        if path.is_file() and path.name != "config":
            assert b"robot@" not in path.read_bytes(), path
    actions = log.read_text().split()
    assert "get" in actions and "store" in actions  # approved after it worked
    assert any(h.startswith("Basic ") for h in seen)
    for path in a.rglob("*"):
        if path.is_file():
            assert b"s3cret-token" not in path.read_bytes(), path
    fsck_clean(central)


def test_wrong_credentials_fail_cleanly_without_showing_them(
    tmp_path: Path, http_central: tuple[str, Path, list[str]]
) -> None:
    url, _central, _seen = http_central
    log = _helper(tmp_path, "wrong-password")
    a = _ledger(tmp_path / "a.git", "s")
    sync.add_remote(a, "origin", url.replace("http://", "http://robot@"))
    with pytest.raises(SyncError) as info:
        sync.push(a, interactive=False)
    text = str(info.value)
    assert "authentication" in text and "wrong-password" not in text and "robot" not in text
    assert "erase" in log.read_text().split()  # the helper was told it failed
    out = run_cli("--ledger", str(a), "pull")
    assert out.returncode == 3 and "wrong-password" not in out.stderr
    assert "robot@" not in out.stderr


def test_a_relative_remote_path_is_stored_absolute(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    (tmp_path / "work").mkdir()
    out = run_cli(
        "--ledger", str(ledger), "remote", "add", "central", "./central.git", cwd=tmp_path / "work"
    )
    assert out.returncode == 0, out.stderr
    stored = git(ledger, "config", "remote.central.url").strip()
    assert stored == str(tmp_path / "work" / "central.git")
