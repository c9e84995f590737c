"""Secret redaction: planted secrets in every field never reach a git object.

Also: Secrets in places the field scan used to miss: file paths, metadata keys, header pairs.
"""

from __future__ import annotations

import math
import os
import random
import re
import stat
import string
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, ChangeType
from ledger._layout import KEY_FILE
from ledger.errors import RedactionConfigError
from ledger.trust.redact import MARKER_RE, Redactor
from tests.conftest import fsck_clean, git, run_cli

RNG = random.SystemRandom()


def rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A random secret; long ones as random as real ones (value-gated rules ask entropy >= 3.5,
    and about 1 in 10,000 uniform draws of 16 characters falls below it)."""
    while True:
        s = "".join(RNG.choice(alphabet) for _ in range(n))
        if n < 16 or _entropy(s) >= 3.7:
            return s


def _entropy(s: str) -> float:
    counts = [s.count(c) for c in set(s)]
    return -sum(k / len(s) * math.log2(k / len(s)) for k in counts)


def corpus() -> dict[str, tuple[str, str]]:
    """rule -> (text that carries the secret, the secret part that must vanish)."""
    upper = string.ascii_uppercase + string.digits
    out: dict[str, tuple[str, str]] = {}
    s = "AKIA" + rand(16, upper)
    out["aws-access-key"] = (s, s)
    s = rand(40, string.ascii_letters + string.digits + "/+")
    out["aws-secret-key"] = (f"aws_secret_access_key = {s}", s)
    s = "sk-proj-" + rand(40)
    out["api-key"] = (s, s)
    s = "ghp_" + rand(36)
    out["github-token"] = (s, s)
    s = "glpat-" + rand(20)
    out["gitlab-token"] = (s, s)
    s = "xoxb-" + rand(12, string.digits) + "-" + rand(24)
    out["slack-token"] = (s, s)
    s = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + rand(20) + "." + rand(43)
    out["jwt"] = (s, s)
    body = "\n".join(rand(64, string.ascii_letters + string.digits + "+/") for _ in range(4))
    out["private-key"] = (
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----",
        body.splitlines()[1],
    )
    s = rand(32)
    out["authorization-header"] = (f"Authorization: Bearer {s}", s)
    s = rand(30)
    out["cookie-header"] = (f"Cookie: sid={s}; theme=dark", s)
    s = rand(28)
    out["api-key-header"] = (f"X-Api-Key: {s}", s)
    s = rand(18)
    out["password-assignment"] = (f"password={s}", s)
    s = rand(18)
    out["password-argument"] = (f"mysql --password {s} -h db", s)
    s = rand(18)
    out["url-credentials"] = (f"https://bob:{s}@db.example.com/x", s)
    return out


def all_objects(ledger: Path) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(ledger), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True, check=True,
    ).stdout


def ledger_files(ledger: Path) -> bytes:
    """Every file of the ledger folder except compressed objects and the key itself."""
    chunks = []
    for root, _dirs, files in os.walk(ledger):
        if "objects" in Path(root).relative_to(ledger).parts:
            continue
        for name in files:
            if name != KEY_FILE:
                chunks.append(Path(root, name).read_bytes())
    return b"\n".join(chunks)


def test_planted_secrets_in_every_field_reach_no_object(
    ledger_path: Path, workdir: Path
) -> None:
    planted = corpus()
    secrets_ = [secret for _text, secret in planted.values()]
    texts = [text for text, _secret in planted.values()]
    blob_all = "\n".join(texts)
    lg = ChangeLogger(ledger_path, session_id="leaky", workdir=workdir)
    for rule, (text, _secret) in planted.items():
        e = lg.log("system_command", f"step with {text} inside", {"note": text, "list": [text]})
        assert f"[REDACTED:{rule}:hmac=" in e.description, (rule, e.description)
    lg.log_command(
        ["deploy", "--token", secrets_[0], texts[5]], output=blob_all, stderr=blob_all, cwd="/srv"
    )
    lg.log_api_call(
        "https://svc:" + rand(12) + "@api.example.com/v1?api_key=" + rand(16),
        "POST",
        {"headers": {"Authorization": texts[8], "Cookie": "a=b", "X-Api-Key": rand(20)},
         "body": blob_all},
        {"access_token": rand(30), "text": blob_all},
        200,
    )
    lg.log_agent_decision(f"use {texts[1]}", f"reason {texts[2]}", {"db_password": rand(14), "x": texts})
    lg.log_file_change("app/settings.py", ChangeType.FILE_CREATE, after_content=blob_all)
    lg.log_file_change("app/settings.py", ChangeType.FILE_UPDATE,
                       before_content=blob_all, after_content=blob_all + "\nDEBUG = False\n")
    lg.log_file_change(".env", ChangeType.FILE_CREATE, after_content="DB_PASSWORD=" + rand(20) + "\n")
    (workdir / "id_rsa").write_text(texts[7])
    (workdir / "run.sh").write_text("#!/bin/sh\n" + blob_all)
    with lg.track_file("id_rsa"):
        (workdir / "id_rsa").write_text(texts[7] + "\n")
    with lg.track_file("run.sh"):
        (workdir / "run.sh").write_text("#!/bin/sh\n" + blob_all + "\necho done\n")
    with lg.batch():
        for text in texts:
            lg.log("deployment", text, {"password": text})
        lg.log_file_change("batch.cfg", ChangeType.FILE_CREATE, after_content=blob_all)
    cli_secret = rand(24)
    env = {"GIT_LEDGER_DIR": str(ledger_path), "GIT_LEDGER_SESSION": "cli"}
    assert run_cli("log", "--type", "deployment", "-m", f"token={cli_secret}", "--meta",
                   f"password={cli_secret}", env=env).returncode == 0
    assert run_cli("run", "--", "echo", texts[3], env=env).returncode == 0
    # Every value the ledger was told to redact is gone from every object and every file.
    everything = all_objects(ledger_path) + ledger_files(ledger_path)
    leaked = [s for s in [*secrets_, cli_secret] if s.encode() in everything]
    assert leaked == []
    for text in texts:  # long secrets leave no fragment either
        for line in text.splitlines():
            if len(line) > 40:
                assert line[8:40].encode() not in everything
    fsck_clean(ledger_path)


def test_markers_correlate_within_a_ledger_and_not_across(tmp_path: Path, workdir: Path) -> None:
    secret = "ghp_" + rand(36)
    a = ChangeLogger(tmp_path / "a.git", session_id="s", workdir=workdir)
    b = ChangeLogger(tmp_path / "b.git", session_id="s", workdir=workdir)
    m1 = MARKER_RE.search(a.log("deployment", f"x {secret}").description)
    m2 = MARKER_RE.search(a.log("deployment", f"y {secret}").description)
    m3 = MARKER_RE.search(b.log("deployment", f"x {secret}").description)
    assert m1 and m2 and m3
    assert m1.group() == m2.group() != m3.group()
    key = tmp_path / "a.git" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip().encode() not in all_objects(tmp_path / "a.git")


def test_redactions_are_noted_in_metadata(ledger_path: Path, workdir: Path) -> None:
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    e = lg.log_api_call("/v1", "POST", {"headers": {"Authorization": "Bearer " + rand(20)}}, {}, 200)
    assert e.metadata["redactions"] == {
        "metadata.request_data.headers.Authorization": ["sensitive-key"]
    }
    e = lg.log_file_change("conf.ini", ChangeType.FILE_CREATE, after_content="token = " + rand(20))
    assert e.metadata["redactions"] == {"after_state": ["password-assignment"]}
    assert MARKER_RE.search(e.after_state or "")
    read_back = lg.store.get_entry(e.id)
    assert read_back.metadata == e.metadata


def test_sensitive_path_keeps_only_size_and_fingerprint(ledger_path: Path, workdir: Path) -> None:
    content = "API_TOKEN=" + rand(10) + "\n"
    raw_blob = git(ledger_path.parent, "hash-object", "--stdin", input=content).strip()
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    e = lg.log_file_change("deploy/.env.production", ChangeType.FILE_CREATE, after_content=content)
    assert e.after_state == f"[REDACTED:sensitive-path:hmac={lg.redactor.fingerprint(content.encode())}] {len(content)} bytes\n"
    assert e.metadata["redactions"] == {"after_state": ["sensitive-path"]}
    # The raw content's git blob id would let anyone confirm a guess: it is stored nowhere.
    assert raw_blob.encode() not in all_objects(ledger_path)
    assert e.file_hash_after != raw_blob
    # Same content again: same fingerprint, so no spurious change is recorded.
    (workdir / "server.pem").write_text(content)
    with lg.track_file("server.pem") as tracked:
        pass
    assert tracked.entry is None


def test_ordinary_text_is_left_alone(ledger_path: Path, workdir: Path) -> None:
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    meta = {
        "max_tokens": 512, "prompt_tokens": 12, "token_count": 3, "session_id": "abc",
        "commit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "path": "/usr/lib/keys/",
    }
    text = "mkdir -p build && pytest -q -k password_reset tests/ # 12 tokens used"
    e = lg.log("system_command", text, meta)
    assert e.description == text and dict(e.metadata) == meta


def test_user_rules_from_the_ledger_config(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "init")
    git(ledger_path, "config", "ledger-redact.internal-token.regex", r"itk_[a-z0-9]{16}")
    git(ledger_path, "config", "--add", "ledger-redact.internal-token.keyword", "itk_")
    git(ledger_path, "config", "ledger.redactPath", "*.secret")
    git(ledger_path, "config", "ledger.redactKey", r"(^|_)pin$")
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    token = "itk_" + rand(16, string.ascii_lowercase + string.digits)
    e = lg.log("deployment", f"using {token}", {"card_pin": 1234})
    assert "[REDACTED:internal-token:hmac=" in e.description
    assert e.metadata["card_pin"].startswith("[REDACTED:sensitive-key:")
    e = lg.log_file_change("vault.secret", ChangeType.FILE_CREATE, after_content="x")
    assert e.metadata["redactions"] == {"after_state": ["sensitive-path"]}
    assert token.encode() not in all_objects(ledger_path)


def test_bad_rule_is_refused_before_anything_is_written(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "init")
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/s")
    git(ledger_path, "config", "ledger-redact.broken.regex", "([unclosed")
    with pytest.raises(RedactionConfigError, match="broken"):
        ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "x")
    proc = run_cli("--ledger", str(ledger_path), "log", "--type", "deployment", "-m", "x",
                   "--session", "s")
    assert proc.returncode == 2 and "bad regex" in proc.stderr and "Traceback" not in proc.stderr
    assert git(ledger_path, "rev-parse", "refs/heads/sessions/s") == tip


def test_redaction_can_be_turned_off(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "init")
    git(ledger_path, "config", "ledger.redact", "false")
    secret = "ghp_" + rand(36)
    e = ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", secret)
    assert e.description == secret


# Text around a secret. A digit right against a token makes another, longer string (AKIA + 16
# characters + "7" is no AWS key id), so the edges touching the secret are separators.
SAFE = st.text(alphabet=" \n\t.,;()#0123456789", max_size=30)
PREFIX = SAFE.filter(lambda s: not s[-1:].isdigit())
SUFFIX = SAFE.filter(lambda s: not s[:1].isdigit())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=PREFIX, suffix=SUFFIX, which=st.sampled_from(sorted(corpus())))
def test_any_surrounding_text_still_redacts(prefix: str, suffix: str, which: str) -> None:
    text, secret = corpus()[which]
    redactor = Redactor(b"k" * 32)
    out, fired = redactor.text(prefix + text + suffix)
    assert secret not in out
    assert fired and out.startswith(prefix.rstrip() if which == "private-key" else prefix)
    assert re.search(r"\[REDACTED:[a-z-]+:hmac=[0-9a-f]{12}\]", out)
    assert redactor.text(out)[0] == out  # markers are never redacted again


def test_a_redacted_state_is_never_restored_as_the_files_content(
    ledger_path: Path, workdir: Path
) -> None:
    from ledger.errors import UnrestorableError
    from ledger.undo.restore import Restorer

    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    env = workdir / ".env"
    env.write_text("DB_PASSWORD=" + rand(16) + "\n")
    with lg.track_file(".env") as created:
        env.write_text("DB_PASSWORD=" + rand(16) + "\n")
    assert created.entry is not None
    assert set(created.entry.metadata["redacted_states"]) == {"before", "after"}
    kept = env.read_text()
    with pytest.raises(UnrestorableError, match="was redacted"):
        Restorer(ledger_path, workdir).restore(created.entry, which="before", force=True)
    assert env.read_text() == kept  # the marker never overwrote the real file


# --- Secrets in places the field scan used to miss: file paths, metadata keys, header pairs.

TOKEN = "ghp_" + "Q7x" * 12


def test_secret_in_a_file_path_reaches_no_object(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    created = logger.log_file_change(f"cfg/{TOKEN}.txt", "file_create", None, "x\n")
    logged = logger.log(
        "file_update", "touched", {"redactions": "caller's own"}, file_path=f"keys/{TOKEN}/a"
    )
    assert TOKEN.encode() not in all_objects(ledger_path)
    for entry in (created, logged):
        assert entry.file_path is not None and "[REDACTED:github-token:" in entry.file_path
        assert entry.metadata["redactions"]["file_path"] == ["github-token"]
        assert entry.metadata["after_stored"] is False  # never restored to a made-up path
    fsck_clean(ledger_path)


def test_secret_used_as_a_metadata_key_reaches_no_object(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    entry = logger.log("api_call", "lookup", metadata={"tokens": {TOKEN: "alice"}})
    assert TOKEN.encode() not in all_objects(ledger_path)
    (key,) = entry.metadata["tokens"]
    assert key.startswith("[REDACTED:github-token:")
    assert entry.metadata["tokens"][key] == "alice"
    fsck_clean(ledger_path)


def test_header_pairs_in_lists_are_redacted(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    secrets = ["plainOpaqueValue4242", "Bearer opaque-session-77"]
    entry = logger.log_api_call(
        "https://api.example.com/v1",
        "GET",
        {"headers": [("X-Api-Key", secrets[0]), ["Authorization", secrets[1]], ["Accept", "*/*"]]},
        None,
        200,
    )
    blob = all_objects(ledger_path)
    for secret in secrets:
        assert secret.encode() not in blob
    headers = entry.metadata["request_data"]["headers"]
    assert headers[0][0] == "X-Api-Key" and headers[0][1].startswith("[REDACTED:sensitive-key:")
    assert headers[2] == ["Accept", "*/*"]
    # A two-word list that is no list of pairs (tags) is left alone.
    tagged = logger.log("agent_decision", "labels", {"tags": ["auth", "bugfix"]})
    assert tagged.metadata["tags"] == ["auth", "bugfix"]
    fsck_clean(ledger_path)


def test_name_value_header_objects_are_redacted(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    secrets = ["Bearer opaqueHarValue1", "opaqueKeyValue22"]
    entry = logger.log_api_call(
        "https://api.example.com/v1",
        "GET",
        {
            "headers": [
                {"name": "Authorization", "value": secrets[0]},
                {"key": "X-Api-Key", "value": secrets[1]},
                {"name": "Accept", "value": "*/*"},
            ]
        },
        None,
        200,
    )
    blob = all_objects(ledger_path)
    for secret in secrets:
        assert secret.encode() not in blob
    headers = entry.metadata["request_data"]["headers"]
    assert headers[0]["name"] == "Authorization"
    assert headers[0]["value"].startswith("[REDACTED:sensitive-key:")
    assert headers[2] == {"name": "Accept", "value": "*/*"}
    fsck_clean(ledger_path)
