"""No credential in any part of a remote URL reaches the ledger's config; login names do."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import sync
from ledger.errors import InvalidRemoteError
from ledger.write.logger import ChangeLogger
from tests.conftest import git, run_cli

GHP = "ghp_" + "R8kd2Lq9ZxW4" * 3
GLPAT = "glpat-" + "Zq7Lm2xR8tY4wV6nB1cD"

REFUSED = {
    "password": ("https://robot:Hunter2Hunter2@git.example.com/l.git", "Hunter2Hunter2"),
    "token-as-user": (f"https://{GHP}@github.com/team/l.git", GHP),
    "token-as-user-ssh": (f"ssh://{GHP}@github.com/team/l.git", GHP),
    "x-access-token": (f"https://x-access-token:{GHP}@github.com/team/l.git", GHP),
    "oauth2": (f"https://oauth2:{GLPAT}@gitlab.com/team/l.git", GLPAT),
    "percent-encoded": ("https://robot:p%40ss%3Aw0rd99@h.example/l.git", "p%40ss%3Aw0rd99"),
    "access_token-query": (f"https://git.example.com/l.git?access_token={GHP}", GHP),
    "private_token-query": (f"https://gitlab.com/l.git?private_token={GLPAT}", GLPAT),
    "sas-sig-query": (
        "https://acct.blob.core.windows.net/l.git?sv=2022&sig=Zm9vYmFyYmF6cXV4",
        "Zm9vYmFyYmF6cXV4",
    ),
    "token-in-fragment": (f"https://git.example.com/l.git#token={GHP}", GHP),
    "random-user": (
        "https://a8Kd93LqZm27Xw0RbT4yVn@git.example.com/l.git",
        "a8Kd93LqZm27Xw0RbT4yVn",
    ),
    "scp-token-user": (f"{GHP}@github.com:team/l.git", GHP),
}

ALLOWED = [
    "ssh://git@github.com/team/l.git",
    "git@github.com:team/l.git",
    "https://bot@git.example.com/team/l.git",
    "https://git.example.com/team/l.git?ref=main",
    "file:///srv/ledgers/l.git",
]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "l.git"
    ChangeLogger(ledger_dir=path, session_id="s", durable=False).log("deployment", "s")
    return path


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_credential_anywhere_in_the_url_is_refused(ledger: Path, kind: str) -> None:
    url, secret = REFUSED[kind]
    config = (ledger / "config").read_bytes()
    with pytest.raises(InvalidRemoteError) as info:
        sync.add_remote(ledger, "origin", url)
    message = str(info.value)
    assert secret not in message and "\n" not in message
    assert "credential helper" in message
    assert (ledger / "config").read_bytes() == config
    # what git itself reads from the ledger's config
    assert secret not in git(ledger, "config", "--list", "--local")
    assert git(ledger, "config", "--get", "remote.origin.url", check=False) == ""


def test_the_cli_refuses_with_one_line(ledger: Path) -> None:
    url, secret = REFUSED["token-as-user"]
    out = run_cli("--ledger", str(ledger), "remote", "add", "origin", url)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "credential helper" in out.stderr and secret not in out.stderr + out.stdout
    assert secret not in git(ledger, "config", "--list", "--local")


@pytest.mark.parametrize("url", ALLOWED)
def test_login_names_and_plain_urls_stay_allowed(ledger: Path, url: str) -> None:
    sync.add_remote(ledger, "origin", url)
    assert git(ledger, "config", "--get", "remote.origin.url").strip() == url
