"""Exactness on real code: every file of real projects' source trees is recorded byte for
byte, except the files listed here, each holding a real key or an example token."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pygit2
import pytest

from ledger import ChangeLogger, ChangeType

SDISTS = (
    "Django==5.1.4",
    "requests==2.32.3",
    "oauthlib==3.2.2",
    "paramiko==3.5.0",
    "flask==3.1.0",
)
CACHE = Path(tempfile.gettempdir()) / "git-ledger-real-code"

# Files the scanner changes, and why: private keys (a real key in a test fixture is a
# secret wherever it sits), .env files (kept as size and fingerprint by policy), and
# example keys/tokens shaped exactly like live ones (gitleaks reports these too).
EXPECTED = {
    "flask-3.1.0/tests/test_apps/.env",  # sensitive path
    "flask-3.1.0/docs/config.rst",  # SECRET_KEY = '<64 hex>' example
    "flask-3.1.0/docs/tutorial/deploy.rst",  # the same example
    "requests-2.32.3/tests/certs/",  # *.key: private keys of the test CA
    "oauthlib-3.2.2/",  # RFC 6749/5849 example tokens and RSA test keys
    "paramiko-3.5.0/demos/user_rsa_key",  # a private key
    "paramiko-3.5.0/tests/test_pkey.py",  # private keys inline
    "Django-5.1.4/tests/view_tests/tests/test_debug.py",  # fake api_key/SECRET_KEY values
}


def _trees() -> Path:
    CACHE.mkdir(exist_ok=True)
    held = {p.name.lower() for p in CACHE.glob("*.tar.gz")}
    missing = [s for s in SDISTS if s.replace("==", "-").lower() + ".tar.gz" not in held]
    if missing:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                *missing,
                "-d",
                str(CACHE),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.skip(f"the package index cannot be reached: {proc.stderr.strip()[-200:]}")
    out = CACHE / "trees"
    if not out.exists():
        for archive in CACHE.glob("*.tar.gz"):
            with tarfile.open(archive) as tar:
                tar.extractall(out, filter="data")
    return out


def _expected(rel: str) -> bool:
    return rel.endswith(".key") or any(rel.startswith(e) for e in EXPECTED)


@pytest.mark.slow
def test_real_source_trees_are_recorded_byte_for_byte(ledger_path: Path, workdir: Path) -> None:
    root = _trees()
    lg = ChangeLogger(ledger_path, session_id="real", workdir=workdir, durable=False)
    altered = []
    files = sorted(p for p in root.rglob("*") if p.is_file())
    with lg.batch():
        entries = []
        for path in files:
            data = path.read_bytes()
            rel = path.relative_to(root).as_posix()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # binary content passes through unchanged by design
            entries.append(
                (rel, data, lg.log_file_change(rel, ChangeType.FILE_CREATE, after_content=text))
            )
    repo = pygit2.Repository(str(ledger_path))
    for rel, data, entry in entries:
        stored = entry.file_hash_after and repo[entry.file_hash_after].data
        if stored != data:
            altered.append(rel)
    unexpected = [a for a in altered if not _expected(a)]
    assert unexpected == [], unexpected
    assert len(files) > 6000
