"""Push and pull over SSH with the key held only by an SSH agent (skipped without sshd)."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from ledger import sync
from ledger.errors import SyncError
from ledger.write.logger import ChangeLogger
from tests.conftest import fsck_clean, git

S = "refs/heads/sessions/"
SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)

pytestmark = pytest.mark.skipif(
    SSHD is None or shutil.which("ssh-agent") is None or shutil.which("ssh-keygen") is None,
    reason="needs sshd, ssh-agent and ssh-keygen (Debian: openssh-server)",
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError("sshd did not start")


@pytest.fixture
def ssh_server(
    tmp_path: Path, isolated_git: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    """sshd on 127.0.0.1 accepting one key, which only an ssh-agent holds."""
    etc = tmp_path / "sshd"
    etc.mkdir()
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(etc / "host")], check=True)
    subprocess.run([*keygen, "-f", str(etc / "client")], check=True)
    (etc / "authorized_keys").write_text((etc / "client.pub").read_text())
    port = _port()
    config = etc / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {etc / 'host'}\n"
        f"AuthorizedKeysFile {etc / 'authorized_keys'}\nPidFile {etc / 'pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n"
        "UsePAM no\nPermitRootLogin prohibit-password\n"
        f"SetEnv PATH={os.path.dirname(shutil.which('git') or '/usr/bin/git')}:/usr/bin:/bin\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    assert SSHD is not None
    server = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sock = tmp_path / "agent.sock"
    old_home = pygit2.settings.homedir
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_port(port, server)
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(etc / "client")], env=env, check=True)
        # The key lives only in the agent from now on, and the host is known.
        (etc / "client").unlink()
        known = isolated_git / ".ssh"
        known.mkdir(exist_ok=True)
        host_key = (etc / "host.pub").read_text().split()
        (known / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        # libgit2 reads known_hosts under the home it saw when it was loaded.
        pygit2.settings.homedir = str(isolated_git)
        yield f"ssh://{getpass.getuser()}@127.0.0.1:{port}", tmp_path
    finally:
        pygit2.settings.homedir = old_home
        for proc in (server, agent):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_push_and_pull_over_ssh_with_the_agent(ssh_server: tuple[str, Path]) -> None:
    base, tmp_path = ssh_server
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    logger = ChangeLogger(ledger_dir=a, session_id="over-ssh", durable=False)
    ids = [logger.log("agent_decision", f"step {i}").id for i in range(3)]
    sync.add_remote(a, "origin", f"{base}{central}")
    result = sync.push(a, interactive=False)
    assert result.pushed == [S + "over-ssh"] and result.ok
    sync.add_remote(b, "origin", f"{base}{central}")
    assert sync.pull(b, interactive=False).created == [S + "over-ssh"]
    assert git(b, "rev-parse", S + "over-ssh").strip() == ids[-1]
    # Over SSH the guard runs on the central: a rewind is refused there.
    git(central, "config", "receive.denyNonFastForwards", "false")
    proc = subprocess.run(
        [
            "git",
            "--git-dir",
            str(a),
            "push",
            "--force",
            f"{base}{central}",
            f"{S}over-ssh~1:{S}over-ssh",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            # OpenSSH finds ~ through the password database, not $HOME.
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o UserKnownHostsFile="
            + os.path.join(os.environ["HOME"], ".ssh", "known_hosts"),
        },
    )
    assert proc.returncode != 0 and "non-fast-forward update" in proc.stderr
    fsck_clean(central)


def test_no_agent_and_no_key_fails_cleanly(
    ssh_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, tmp_path = ssh_server
    a = tmp_path / "a.git"
    ChangeLogger(ledger_dir=a, session_id="s", durable=False).log("deployment", "x")
    sync.add_remote(a, "origin", f"{base}{tmp_path / 'central.git'}")
    monkeypatch.delenv("SSH_AUTH_SOCK")
    with pytest.raises(SyncError) as info:
        sync.push(a, interactive=False)
    assert "SSH authentication" in str(info.value) and "@" not in str(info.value)


def test_an_unknown_host_key_is_refused(ssh_server: tuple[str, Path], isolated_git: Path) -> None:
    base, tmp_path = ssh_server
    a = tmp_path / "a.git"
    ChangeLogger(ledger_dir=a, session_id="s", durable=False).log("deployment", "x")
    central = sync.init_central(tmp_path / "central.git")
    sync.add_remote(a, "origin", f"{base}{central}")
    (isolated_git / ".ssh" / "known_hosts").write_text("")
    with pytest.raises(SyncError):
        sync.push(a, interactive=False)
    assert git(central, "for-each-ref") == ""
