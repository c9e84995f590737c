"""The entry: one recorded action, its canonical JSON form and its commit message.

An entry's id is the id of the commit that holds it; ``entry.json`` in that commit's tree is
the canonical JSON below (sorted keys, UTF-8), and file states are blobs in the same tree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from ledger.errors import InvalidInputError, InvalidMetadataError
from ledger.types import ChangeType, LogLevel, change_type, log_level

FORMAT_VERSION = 1
MAX_METADATA_DEPTH = 64
SUBJECT_MAX = 160

# Trailer keys in commit messages; values are always single-line and validated.
T_TYPE = "Ledger-Type"
T_LEVEL = "Ledger-Level"
T_SESSION = "Ledger-Session"
T_AGENT = "Ledger-Agent"
T_FILE = "Ledger-File"
T_OBSERVATION = "Ledger-Observation"

StateLoader = Callable[[str], bytes | None]


def _utc(ts: dt.datetime) -> dt.datetime:
    return ts.astimezone(dt.UTC)


def format_timestamp(ts: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds: ``2025-11-05T17:30:45.123456+00:00``."""
    return _utc(ts).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> dt.datetime:
    """Parse a stored timestamp back into an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return _utc(value)


# Python reads back no integer longer than this from JSON (sys.int_info's default limit);
# the bit length below is the largest that always has at most that many digits.
MAX_INT_DIGITS = 4300
MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10)) - 1


def _short(value: object) -> str:
    """A repr fit for an error line: at most 60 characters, never itself an error."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def normalize_metadata(value: Any, *, _depth: int = 0, _seen: set[int] | None = None) -> Any:
    """Return a JSON-exact copy of metadata, converting what has an obvious form.

    datetime/date/time become ISO strings, Paths and UUIDs strings, Enums their value,
    tuples lists. NaN and infinities, integers of more than 4300 digits, bytes, sets,
    cycles, non-string keys and nesting
    deeper than 64 levels are refused with InvalidMetadataError, as is anything else JSON
    cannot hold exactly.
    """
    seen = set() if _seen is None else _seen
    if _depth > MAX_METADATA_DEPTH:
        raise InvalidMetadataError(f"metadata nested deeper than {MAX_METADATA_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return normalize_metadata(value.value, _depth=_depth + 1, _seen=seen)
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise InvalidMetadataError(
                f"metadata holds an integer of more than {MAX_INT_DIGITS} digits; "
                "store it as a string"
            )
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMetadataError(f"metadata holds {value!r}, which JSON cannot represent")
        return float(value)
    if isinstance(value, str):
        _check_text(value, "metadata")
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath | uuid.UUID):
        return _check_text(str(value), "metadata")
    if isinstance(value, Mapping | list | tuple):
        if id(value) in seen:
            raise InvalidMetadataError("metadata contains a reference cycle")
        seen.add(id(value))
        try:
            if isinstance(value, Mapping):
                out: dict[str, Any] = {}
                for key, item in value.items():
                    if isinstance(key, enum.Enum):
                        key = key.value
                    if not isinstance(key, str):
                        raise InvalidMetadataError(
                            f"metadata key {_short(key)} is not a string (JSON keys are strings)"
                        )
                    _check_text(key, "metadata key")
                    out[key] = normalize_metadata(item, _depth=_depth + 1, _seen=seen)
                return out
            return [normalize_metadata(v, _depth=_depth + 1, _seen=seen) for v in value]
        finally:
            seen.discard(id(value))
    if isinstance(value, bytes | bytearray | memoryview):
        raise InvalidMetadataError(
            "metadata holds bytes; decode them or store them as a file state instead"
        )
    raise InvalidMetadataError(
        f"metadata holds a {type(value).__name__}, which has no exact JSON form"
    )


def _check_text(text: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidMetadataError(f"{what} {text[:40]!r} is not valid Unicode text") from None
    return text


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """The one byte form of an entry: sorted keys, no spaces, UTF-8, newline-terminated."""
    return (_CANONICAL.encode(data) + "\n").encode("utf-8")


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One recorded action. Immutable; ``id`` is the id of the commit holding it."""

    id: str
    timestamp: dt.datetime
    session_id: str
    agent_id: str
    change_type: ChangeType
    description: str
    level: LogLevel
    file_path: str | None = None
    file_hash_before: str | None = None
    file_hash_after: str | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tree_path: str | None = None
    drift: bool = False
    _loader: StateLoader | None = dataclasses.field(
        default=None, repr=False, compare=False, hash=False
    )

    @property
    def short_id(self) -> str:
        """The first 12 characters of the id, as printed in listings."""
        return self.id[:12]

    @property
    def before_bytes(self) -> bytes | None:
        """The file's content before the change, read from its blob."""
        return self._load(self.file_hash_before)

    @property
    def after_bytes(self) -> bytes | None:
        """The file's content after the change, read from its blob."""
        return self._load(self.file_hash_after)

    @property
    def before_state(self) -> str | bytes | None:
        """Content before the change: text when it is UTF-8, bytes otherwise."""
        return _as_text(self.before_bytes)

    @property
    def after_state(self) -> str | bytes | None:
        """Content after the change: text when it is UTF-8, bytes otherwise."""
        return _as_text(self.after_bytes)

    def _load(self, oid: str | None) -> bytes | None:
        if oid is None or self._loader is None:
            return None
        return self._loader(oid)

    def to_json_dict(self) -> dict[str, Any]:
        """The fields stored in ``entry.json`` (everything but the id and the states)."""
        data: dict[str, Any] = {
            "ledger_format": FORMAT_VERSION,
            "timestamp": format_timestamp(self.timestamp),
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "change_type": self.change_type.value,
            "description": self.description,
            "level": self.level.value,
            "file_path": self.file_path,
            "file_hash_before": self.file_hash_before,
            "file_hash_after": self.file_hash_after,
            "metadata": dict(self.metadata),
        }
        if self.tree_path is not None:
            data["tree_path"] = self.tree_path
        if self.drift:
            data["drift"] = True
        return data

    def to_dict(self, include_states: bool = False) -> dict[str, Any]:
        """The entry in the original logging system's JSON shape, with ``id`` first.

        Args:
            include_states: also read ``before_state``/``after_state`` from their blobs
                (text, or ``{"base64": ...}`` for binary content).
        """
        data = {"id": self.id, **self.to_json_dict()}
        data.pop("ledger_format")
        if include_states:
            for key, raw in (
                ("before_state", self.before_bytes),
                ("after_state", self.after_bytes),
            ):
                data[key] = _json_state(raw)
        return data

    @classmethod
    def from_json(cls, entry_id: str, raw: bytes, loader: StateLoader | None = None) -> Entry:
        """Rebuild an entry from its ``entry.json`` bytes and its commit id."""
        try:
            data = json.loads(raw)
            return cls(
                id=entry_id,
                timestamp=parse_timestamp(data["timestamp"]),
                session_id=data["session_id"],
                agent_id=data["agent_id"],
                change_type=change_type(data["change_type"]),
                description=data["description"],
                level=log_level(data["level"]),
                file_path=data.get("file_path"),
                file_hash_before=data.get("file_hash_before"),
                file_hash_after=data.get("file_hash_after"),
                metadata=data.get("metadata") or {},
                tree_path=data.get("tree_path"),
                drift=bool(data.get("drift", False)),
                _loader=loader,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(
                f"entry {entry_id[:12]} has a malformed entry.json: {exc}"
            ) from exc


def _as_text(raw: bytes | None) -> str | bytes | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _json_state(raw: bytes | None) -> Any:
    import base64

    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def subject_text(text: str) -> str:
    """One safe line for a commit subject: no control characters or escapes, bounded."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 1].rstrip() + "…"
    return line or "(no description)"


def commit_message(subject: str, trailers: list[tuple[str, str]]) -> str:
    """A commit message: a subject line, a blank line, and a block of git trailers."""
    lines = [subject, ""]
    # Trailer values are validated single-line names (ids, enums, encoded tree paths); they
    # are never shortened, so a trailer always equals the value in entry.json.
    lines += [f"{key}: {_CONTROL.sub(' ', value)}" for key, value in trailers]
    return "\n".join(lines) + "\n"


def entry_message(entry: Entry) -> str:
    """The commit message for an entry, readable in ``git log --oneline``."""
    trailers = [
        (T_TYPE, entry.change_type.value),
        (T_LEVEL, entry.level.value),
        (T_SESSION, entry.session_id),
        (T_AGENT, entry.agent_id),
    ]
    if entry.tree_path:
        trailers.append((T_FILE, entry.tree_path))
    return commit_message(f"{entry.change_type.value}: {subject_text(entry.description)}", trailers)


def parse_trailers(message: str) -> dict[str, str]:
    """The ``Ledger-*`` trailers of a ledger commit message (last paragraph only)."""
    block = message.rstrip("\n").rsplit("\n\n", 1)[-1]
    out: dict[str, str] = {}
    for line in block.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Ledger-"):
            out[key] = value
    return out
