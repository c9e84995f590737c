"""Signing: SSH signatures (``ssh-keygen -Y``) of checkpoints and entry commits, and their checks.

The keys come from the ledger's git config: ``ledger.signingKey``, ``ledger.allowedSigners``.
Allowed signers also come from the user's own (global) git config, outside the ledger folder:
``ledger.allowedSigners`` there, or git's ``gpg.ssh.allowedSignersFile`` for a ledger that
signs, so that unsetting the ledger's own setting does not turn signature checks off.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pygit2

from ledger._config import config_bool
from ledger.errors import SigningError

NAMESPACE = "git-ledger"
CFG_SIGNING_KEY = "ledger.signingKey"
CFG_ALLOWED_SIGNERS = "ledger.allowedSigners"
CFG_SIGN_ENTRIES = "ledger.signEntries"
CFG_GIT_ALLOWED_SIGNERS = "gpg.ssh.allowedSignersFile"


def _config_path(repo: pygit2.Repository, ledger: Path, key: str) -> Path | None:
    try:
        value = str(repo.config[key])
    except KeyError:
        return None
    if not value:
        return None
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else ledger / path


def signing_key(repo: pygit2.Repository, ledger: Path) -> Path | None:
    """The SSH key configured to sign checkpoints (``ledger.signingKey``), if any."""
    return _config_path(repo, ledger, CFG_SIGNING_KEY)


def allowed_signers(repo: pygit2.Repository, ledger: Path) -> Path | None:
    """The allowed-signers file that checkpoint signatures are checked against, if any.

    The ledger's ``ledger.allowedSigners``; else the user's global ``ledger.allowedSigners``;
    else, when the ledger signs (``ledger.signingKey``), git's ``gpg.ssh.allowedSignersFile``.
    """
    own = _config_path(repo, ledger, CFG_ALLOWED_SIGNERS)
    if own is not None:
        return own
    user = user_setting(CFG_ALLOWED_SIGNERS)
    if user is None and signing_key(repo, ledger) is not None:
        user = user_setting(CFG_GIT_ALLOWED_SIGNERS)
    return Path(os.path.expanduser(user)) if user else None


def user_setting(key: str) -> str | None:
    """A value from the user's own git config (global, then XDG), never the ledger's."""
    for opener in (pygit2.Config.get_global_config, pygit2.Config.get_xdg_config):
        try:
            value = str(opener()[key])
        except (KeyError, OSError, pygit2.GitError, ValueError):
            continue
        if value:
            return value
    return None


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningError("ssh-keygen is not installed (package openssh-client)")
    return found


def sign_payload(key: Path, payload: bytes, namespace: str = NAMESPACE) -> bytes:
    """An armored SSH signature of ``payload`` (``ssh-keygen -Y sign``)."""
    if not key.exists():
        raise SigningError(f"signing key {key} does not exist")
    proc = subprocess.run(
        [_ssh_keygen(), "-Y", "sign", "-q", "-f", str(key), "-n", namespace],
        input=payload,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SigningError(f"ssh-keygen could not sign with {key}: {' '.join(err)[:200]}")
    return proc.stdout


def signature_details(armored: bytes) -> tuple[bytes, str]:
    """The public key blob and namespace inside an SSH signature (the SSHSIG format)."""
    lines = armored.decode("ascii", "replace").strip().splitlines()
    if not lines or lines[0] != "-----BEGIN SSH SIGNATURE-----":
        raise ValueError("not an SSH signature")
    body = base64.b64decode("".join(ln for ln in lines[1:] if not ln.startswith("-----")))
    if body[:6] != b"SSHSIG":
        raise ValueError("not an SSH signature")
    pos = 10  # magic and version

    def field() -> bytes:
        nonlocal pos
        (size,) = struct.unpack(">I", body[pos : pos + 4])
        value = body[pos + 4 : pos + 4 + size]
        pos += 4 + size
        return value

    public_key = field()
    namespace = field().decode("utf-8", "replace")
    return public_key, namespace


def sign_commit(key: Path, raw: bytes) -> bytes:
    """Commit bytes with a ``gpgsig`` header: an SSH signature of the unsigned bytes.

    The header has git's form, so ``git cat-file -p`` shows it and pygit2's
    ``Commit.gpg_signature`` extracts it; the namespace is ``git-ledger``, not git's own.
    """
    head, sep, message = raw.partition(b"\n\n")
    signature = sign_payload(key, raw).rstrip(b"\n").split(b"\n")
    return head + b"\ngpgsig " + b"\n ".join(signature) + sep + message


def entry_signer(ledger: Path, repo: pygit2.Repository) -> Callable[[bytes], bytes] | None:
    """The signer of entry commits when ``ledger.signEntries`` is true, else None."""
    if not config_bool(repo.config, CFG_SIGN_ENTRIES, False, SigningError):
        return None
    key = signing_key(repo, ledger)
    if key is None:
        raise SigningError(f"{CFG_SIGN_ENTRIES} is set but {CFG_SIGNING_KEY} is not")

    def sign(raw: bytes) -> bytes:
        return sign_commit(key, raw)

    return sign


@dataclasses.dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking one signature: ``problem`` is None when it is good."""

    principal: str | None
    problem: str | None  # "unknown-key", "wrong-namespace", "bad-signature"
    detail: str = ""


def check_signature(allowed: Path, payload: bytes, signature: bytes) -> SignatureCheck:
    """Check a signature against an allowed-signers file, in the ``git-ledger`` namespace."""
    try:
        _key, namespace = signature_details(signature)
    except (ValueError, struct.error) as exc:
        return SignatureCheck(None, "bad-signature", f"unreadable signature: {exc}")
    if namespace != NAMESPACE:
        return SignatureCheck(
            None, "wrong-namespace", f"signed for namespace {namespace!r}, not {NAMESPACE!r}"
        )
    if not allowed.is_file():
        return SignatureCheck(None, "unknown-key", f"allowed-signers file {allowed} is missing")
    with tempfile.TemporaryDirectory(prefix="ledger-sig-") as tmp:
        sig_path = Path(tmp) / "checkpoint.sig"
        sig_path.write_bytes(signature)
        found = subprocess.run(
            [_ssh_keygen(), "-Y", "find-principals", "-s", str(sig_path), "-f", str(allowed)],
            capture_output=True,
            check=False,
            timeout=60,
        )
        principals = found.stdout.decode("utf-8", "replace").split()
        if found.returncode != 0 or not principals:
            return SignatureCheck(None, "unknown-key", "the signing key is not an allowed signer")
        for principal in principals:
            proc = subprocess.run(
                [
                    _ssh_keygen(),
                    "-Y",
                    "verify",
                    "-f",
                    str(allowed),
                    "-I",
                    principal,
                    "-n",
                    NAMESPACE,
                    "-s",
                    str(sig_path),
                ],
                input=payload,
                capture_output=True,
                check=False,
                timeout=60,
            )
            if proc.returncode == 0:
                return SignatureCheck(principal, None)
        err = proc.stderr.decode("utf-8", "replace").strip()
        return SignatureCheck(None, "bad-signature", err[:200] or "signature does not match")
