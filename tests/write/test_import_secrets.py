"""Importing sensitive files: only the keyed fingerprint is kept, never a plain hash."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from ledger._store import LedgerStore
from ledger.write.importer import import_files
from tests.conftest import fsck_clean

ENV = "DATABASE_URL=postgres://app:Wq8rT3vLz9Kp2mXy@db/app\nAPI_KEY=Zk4pQ9wR2xL7mN3vB8tY\n"
CONF = "host = db\ndb_password = Xk29vLq7pMw4RzT8e\n"
PLAIN = "DEBUG = True\n"


def hexes(data: bytes) -> set[str]:
    blob = b"blob %d\0" % len(data) + data
    return {
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.sha1(blob).hexdigest(),
        hashlib.sha256(blob).hexdigest(),
    }


def entry(n: int, path: str, content: str | None, digest: str) -> dict[str, object]:
    return {
        "id": f"seed{n:012x}",
        "timestamp": f"2025-11-05T17:3{n}:00+00:00",
        "session_id": "seeded",
        "agent_id": "agent",
        "change_type": "file_create",
        "description": f"Created {path}",
        "level": "info",
        "file_path": path,
        "file_hash_before": None,
        "file_hash_after": digest,
        "after_state": content,
        "metadata": {},
    }


def test_sensitive_states_keep_no_plain_hash(tmp_path: Path) -> None:
    ledger = tmp_path / "l.git"
    digests = {text: "sha256:" + hashlib.sha256(text.encode()).hexdigest() for text in
               (ENV, CONF, PLAIN)}
    source = tmp_path / "log.json"
    source.write_text(json.dumps([
        entry(1, "/srv/app/.env", ENV, digests[ENV]),  # a sensitive path
        entry(2, "/srv/app/settings.conf", CONF, digests[CONF]),  # content with a secret
        entry(3, "/srv/app/.env.prod", None, digests[ENV]),  # no content, sensitive path
        entry(4, "/srv/app/config.py", PLAIN, digests[PLAIN]),  # nothing secret: kept as is
    ]))
    import_files([source], ledger, durable=False)
    objects = subprocess.run(
        ["git", "--git-dir", str(ledger), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    for secret_file in (ENV, CONF):
        for digest in hexes(secret_file.encode()):
            assert digest not in objects  # no guessing oracle in any object
    entries = {e.file_path: e for e in LedgerStore(ledger).walk_session("seeded")}
    for path in ("/srv/app/.env", "/srv/app/settings.conf", "/srv/app/.env.prod"):
        meta = entries[path].metadata
        assert "imported_file_hash_after" not in meta
        assert meta["imported_file_fingerprint_after"].startswith("hmac=")
    same = entries["/srv/app/.env"].metadata["imported_file_fingerprint_after"]
    marker = entries["/srv/app/.env"].after_state
    assert isinstance(marker, str) and same[len("hmac="):] in marker  # the same fingerprint
    assert entries["/srv/app/config.py"].metadata["imported_file_hash_after"] == digests[PLAIN]
    fsck_clean(ledger)
