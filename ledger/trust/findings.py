"""What verify finds: findings, the report they go into, and the recorder the checks share.

A problem fails verification; an unvouched note says what cannot be vouched for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger._layout import SESSION_REF_PREFIX


def branch(session: str) -> str:
    """A session's ref name (not validated: verify also names foreign sessions)."""
    return SESSION_REF_PREFIX + session


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing verify found: a problem, or something it cannot vouch for.

    ``code`` is a stable kebab-case name (e.g. ``session-rewound``); ``subject`` names the
    entry, ref, checkpoint or object concerned.
    """

    code: str
    subject: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return {"code": self.code, "subject": self.subject, "message": self.message}


@dataclasses.dataclass
class VerifyReport:
    """What ``verify_ledger`` found. ``ok`` is True only when there is no problem."""

    ledger: str
    problems: list[Finding] = dataclasses.field(default_factory=list)
    unvouched: list[Finding] = dataclasses.field(default_factory=list)
    sessions: int = 0
    entries_checked: int = 0
    objects_checked: str = ""
    checkpoints: int = 0
    signed_checkpoints: int = 0
    signed_entries: int = 0
    latest_checkpoint: str | None = None
    signers: list[str] = dataclasses.field(default_factory=list)
    since_checkpoint: str | None = None
    accepted: str | None = None
    remote: str | None = None
    remote_checkpoint: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (unvouched notes do not count)."""
        return not self.problems

    @property
    def verdict(self) -> str:
        """``clean`` or ``FAILED``."""
        return "clean" if self.ok else "FAILED"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "verdict": self.verdict,
            "ok": self.ok,
            "ledger": self.ledger,
            "problems": [f.to_dict() for f in self.problems],
            "unvouched": [f.to_dict() for f in self.unvouched],
            "sessions": self.sessions,
            "entries_checked": self.entries_checked,
            "objects_checked": self.objects_checked,
            "checkpoints": self.checkpoints,
            "signed_checkpoints": self.signed_checkpoints,
            "signed_entries": self.signed_entries,
            "latest_checkpoint": self.latest_checkpoint,
            "signers": self.signers,
            "since_checkpoint": self.since_checkpoint,
            "accepted": self.accepted,
        } | (
            {"remote": self.remote, "remote_checkpoint": self.remote_checkpoint}
            if self.remote is not None
            else {}
        )


class Findings:
    """Collects what verify finds into its report, each problem once per subject."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self._seen: set[tuple[str, str]] = set()

    def problem(self, code: str, subject: str, message: str) -> None:
        if (code, subject) not in self._seen:
            self._seen.add((code, subject))
            self.report.problems.append(Finding(code, subject, message))

    def note(self, code: str, subject: str, message: str) -> None:
        self.report.unvouched.append(Finding(code, subject, message))
