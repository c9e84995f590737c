"""Every file written at a user's path: '-' is stdout, devices and FIFOs are written through,
symbolic links and other non-regular files are refused, nothing is ever renamed over them."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogMetrics, LogQuery, LogStorage
from ledger.errors import InvalidInputError, StorageError
from tests.conftest import run_cli

# (command line before the path, text every output of it contains)
COMMANDS = {
    "export": (["export"], '"session_id"'),
    "audit": (["audit", "--since", "1 year ago", "--no-fsck", "-o"], "total_entries"),
    "metrics": (["metrics", "export"], "git_ledger_"),
}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("targets") / "ledger.git"
    ChangeLogger(path, session_id="s1", durable=False).log("api_call", "hello")
    return path


def _run(ledger: Path, name: str, target: str):
    args, _marker = COMMANDS[name]
    return run_cli("--ledger", str(ledger), *args, target)


def _one_line_error(out) -> str:
    assert out.returncode != 0, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


@pytest.mark.parametrize("name", COMMANDS)
def test_dash_is_standard_output(ledger: Path, name: str, tmp_path: Path) -> None:
    out = run_cli("--ledger", str(ledger), *COMMANDS[name][0], "-", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert COMMANDS[name][1] in out.stdout
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("name", COMMANDS)
def test_dev_null_stays_a_device(ledger: Path, name: str) -> None:
    out = _run(ledger, name, os.devnull)
    assert out.returncode == 0, out.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("name", COMMANDS)
def test_a_full_device_is_a_one_line_error_and_stays_a_device(ledger: Path, name: str) -> None:
    line = _one_line_error(_run(ledger, name, "/dev/full"))
    assert "/dev/full" in line and "space" in line.lower()
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_fifo_is_written_through(ledger: Path, name: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    out = _run(ledger, name, str(fifo))
    reader.join(30)
    assert out.returncode == 0, out.stderr
    assert COMMANDS[name][1] in b"".join(got).decode()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary left


@pytest.mark.parametrize("name", COMMANDS)
def test_a_symlink_to_a_file_is_refused_and_kept(ledger: Path, name: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    line = _one_line_error(_run(ledger, name, str(link)))
    assert "symbolic link" in line
    assert link.is_symlink() and os.readlink(link) == str(victim)
    assert victim.read_text() == "keep me\n"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere")
    assert "symbolic link" in _one_line_error(_run(ledger, name, str(dangling)))
    assert not (tmp_path / "nowhere").exists() and dangling.is_symlink()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_symlink_to_a_device_is_written_through(ledger: Path, name: str, tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    assert _run(ledger, name, str(link)).returncode == 0
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_socket_is_refused(ledger: Path, name: str, tmp_path: Path) -> None:
    import socket

    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        line = _one_line_error(_run(ledger, name, str(path)))
        assert "socket" in line
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_regular_file_is_replaced_whole_keeping_its_mode(
    ledger: Path, name: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.out"
    target.write_text("old\n")
    target.chmod(0o600)
    out = _run(ledger, name, str(target))
    assert out.returncode == 0, out.stderr
    assert COMMANDS[name][1] in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.out"]


def test_the_api_follows_the_same_rules(ledger: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        LogStorage(ledger).export_logs(link)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        LogMetrics(ledger).export_prometheus_metrics(link)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        LogQuery(ledger).generate_audit_report("2000-01-01", output_file=link, fsck=False)
    with pytest.raises(InvalidInputError, match="a folder"):
        LogStorage(ledger).export_logs(tmp_path)
    assert victim.read_text() == "keep\n" and link.is_symlink()
    if Path("/dev/full").exists():
        with pytest.raises(StorageError, match="/dev/full"):
            LogMetrics(ledger).export_prometheus_metrics("/dev/full")
