"""The sentences ``git ledger verify`` prints about a verification report.

Plain text, no colour: the command line styles them.
"""

from __future__ import annotations

from ledger._words import plural
from ledger.trust.findings import VerifyReport


def verify_summary(report: VerifyReport) -> str:
    """What was checked: sessions, entries, objects and checkpoints, and who signed."""
    scope = f" since {report.since_checkpoint[:12]}" if report.since_checkpoint else ""
    signers = f", signed by {', '.join(report.signers)}" if report.signers else ""
    return (
        f"{plural(report.sessions, 'session')}, "
        f"{plural(report.entries_checked, 'entry')} checked{scope}, "
        f"objects: {report.objects_checked}, {plural(report.checkpoints, 'checkpoint')}"
        f" ({report.signed_checkpoints} signed{signers})"
    )


def verify_verdict(report: VerifyReport) -> str:
    """``verify: clean``, or ``verify: FAILED — N problem(s)``."""
    if report.ok:
        return "verify: clean"
    count = len(report.problems)
    return f"verify: FAILED — {count} problem" + ("s" if count != 1 else "")
