"""A pull from a hostile central: what is not a well-formed session or checkpoint chain is refused.

The central is altered with the real git CLI, as its owner could; after each pull the local
ledger must pass ``git fsck --strict``, ``verify`` and ``checkpoint``, name what it refused,
and still have taken in the good sessions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import sync
from ledger._layout import CHECKPOINT_REF
from ledger.entry import canonical_json
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.verify import verify_ledger
from ledger.write.logger import ChangeLogger
from tests.conftest import fsck_clean, git, run_cli
from tests.trust.test_checkpoint import allow, keypair, needs_ssh_keygen, sign

S = "refs/heads/sessions/"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A local ledger (one session, checkpointed, pushed) and its central with a new session."""
    local, central = tmp_path / "local.git", tmp_path / "central.git"
    ChangeLogger(local, session_id="mine", durable=False).log("deployment", "v1")
    write_checkpoint(local)
    sync.init_central(central)
    sync.add_remote(local, "origin", str(central))
    assert sync.push(local).ok
    other = tmp_path / "other.git"
    ChangeLogger(other, session_id="good", durable=False).log("deployment", "v2")
    sync.add_remote(other, "origin", str(central))
    assert sync.push(other).ok
    return local, central


def _still_sound(local: Path) -> None:
    fsck_clean(local)
    report = verify_ledger(local, accept=False)
    assert report.ok, [p.to_dict() for p in report.problems]
    write_checkpoint(local)  # a checkpoint can still be written
    assert verify_ledger(local, accept=False).ok


def _point(central: Path, ref: str, oid: str) -> None:
    """Write a ref file by hand: git update-ref refuses a non-commit on a branch."""
    path = central / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(oid + "\n")


def _blob(central: Path, text: str) -> str:
    return git(central, "hash-object", "-w", "--stdin", input=text).strip()


def _forge_checkpoint(central: Path, data: dict[str, object], sig: bytes | None = None) -> str:
    payload = canonical_json(data)
    lines = [f"100644 blob {_blob(central, payload.decode())}\tcheckpoint.json"]
    if sig is not None:
        lines.append(f"100644 blob {_blob(central, sig.decode())}\tcheckpoint.sig")
    tree = git(central, "mktree", input="\n".join(lines) + "\n").strip()
    head = git(central, "rev-parse", CHECKPOINT_REF).strip()
    commit = git(central, "commit-tree", tree, "-p", head, "-m", "checkpoint").strip()
    git(central, "update-ref", CHECKPOINT_REF, commit)
    return commit


def _next(central: Path, **changes: object) -> dict[str, object]:
    head = git(central, "rev-parse", CHECKPOINT_REF).strip()
    data = json.loads(git(central, "show", f"{CHECKPOINT_REF}:checkpoint.json"))
    data.update(sequence=data["sequence"] + 1, previous=head, **changes)
    return dict(data)


def test_non_commit_session_refs_are_refused(setup: tuple[Path, Path]) -> None:
    local, central = setup
    blob = _blob(central, "not an entry\n")
    tree = git(central, "mktree", input=f"100644 blob {blob}\tentry.json\n").strip()
    _point(central, S + "a-blob", blob)
    _point(central, S + "a-tree", tree)
    git(central, "tag", "-a", "-m", "tag", "t1", S + "good")
    _point(central, S + "a-tag", git(central, "rev-parse", "refs/tags/t1").strip())
    bare = git(central, "commit-tree", tree, "-m", "no entry").strip()
    git(central, "update-ref", S + "not-an-entry", bare)
    result = sync.pull(local)
    assert set(result.refused) == {S + n for n in ("a-blob", "a-tree", "a-tag", "not-an-entry")}
    assert "blob" in result.refused[S + "a-blob"] and "tag" in result.refused[S + "a-tag"]
    assert S + "good" in result.created and not result.ok
    assert git(local, "for-each-ref", "--format=%(refname)", S).split() == [S + "good", S + "mine"]
    _still_sound(local)


def test_an_entry_of_another_session_is_refused(setup: tuple[Path, Path]) -> None:
    local, central = setup
    git(central, "update-ref", S + "stolen", git(central, "rev-parse", S + "good").strip())
    result = sync.pull(local)
    assert "session 'good'" in result.refused[S + "stolen"]
    _still_sound(local)


def test_a_malformed_checkpoint_chain_is_refused(setup: tuple[Path, Path]) -> None:
    local, central = setup
    blob = _blob(central, "{not json")
    tree = git(central, "mktree", input=f"100644 blob {blob}\tcheckpoint.json\n").strip()
    head = git(central, "rev-parse", CHECKPOINT_REF).strip()
    bad = git(central, "commit-tree", tree, "-p", head, "-m", "checkpoint").strip()
    git(central, "update-ref", CHECKPOINT_REF, bad)
    result = sync.pull(local)
    assert "malformed" in result.refused[CHECKPOINT_REF]
    assert S + "good" in result.created
    _still_sound(local)


@pytest.mark.parametrize(
    "change",
    [
        {"sessions": {}},  # drops our session without retiring it
        {"sessions": {"mine": {"tip": "ab" * 20, "entries": 1}}},  # a tip we never had
        {"sessions": {"mine": {"tip": "MINE", "entries": 0}}},  # the count shrinks
        {"sessions": {"ghost": {"tip": "MINE", "entries": 1}}},  # a session nobody has
    ],
    ids=["dropped", "unknown-tip", "shrunk", "ghost"],
)
def test_a_forged_checkpoint_on_top_of_ours_is_refused(
    setup: tuple[Path, Path], change: dict[str, object]
) -> None:
    local, central = setup
    tip = git(local, "rev-parse", S + "mine").strip()
    text = json.dumps(change).replace("MINE", tip)
    _forge_checkpoint(central, _next(central, **json.loads(text)))
    result = sync.pull(local)
    assert CHECKPOINT_REF in result.refused
    assert S + "good" in result.created
    out = run_cli("--ledger", str(local), "pull")  # the CLI names it in one line
    assert out.returncode == 1
    assert any(ln.startswith(CHECKPOINT_REF) and "REFUSED" in ln for ln in out.stdout.splitlines())
    _still_sound(local)


def test_a_consistent_checkpoint_from_the_central_is_adopted(setup: tuple[Path, Path]) -> None:
    local, central = setup
    tip = git(local, "rev-parse", S + "mine").strip()
    _forge_checkpoint(central, _next(central, sessions={"mine": {"tip": tip, "entries": 1}}))
    result = sync.pull(local)
    assert CHECKPOINT_REF in result.fast_forwarded and result.ok
    _still_sound(local)


@needs_ssh_keygen
def test_an_unsigned_or_badly_signed_checkpoint_is_refused_where_signing_is_set(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    local, central = setup
    key, stranger = keypair(tmp_path, "alice"), keypair(tmp_path, "mallory")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    git(local, "config", "ledger.allowedSigners", str(allowed))
    tip = git(local, "rev-parse", S + "mine").strip()
    data = _next(central, sessions={"mine": {"tip": tip, "entries": 1}})
    _forge_checkpoint(central, data)
    assert "not signed" in sync.pull(local).refused[CHECKPOINT_REF]
    git(central, "update-ref", CHECKPOINT_REF, f"{CHECKPOINT_REF}~1")
    _forge_checkpoint(central, data, sign(stranger, canonical_json(data)))
    assert "bad signature" in sync.pull(local).refused[CHECKPOINT_REF]
    git(central, "update-ref", CHECKPOINT_REF, f"{CHECKPOINT_REF}~1")
    _forge_checkpoint(central, data, sign(key, canonical_json(data)))
    assert CHECKPOINT_REF in sync.pull(local).fast_forwarded
    fsck_clean(local)
