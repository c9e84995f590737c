"""The integrity section of the HTML audit page, from ``git ledger verify``'s result.

It says in one sentence whether the ledger verified clean, then what was checked
(sessions, entries, objects, checkpoints and who signed them), every problem, what the
ledger cannot vouch for, and each session's tip commit. Raw git output is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger._words import plural
from ledger.reports.html_budget import capped, more_note
from ledger.reports.html_cells import code, esc, table, td


def _findings(items: Sequence[Mapping[str, Any]], title: str, empty: str) -> str:
    shown, left_out = capped(items)
    rows = [(code(f.get("code")), td(f.get("subject")), td(f.get("message"))) for f in shown]
    return (f"<h3>{esc(title)}</h3>"
            + table(["Finding", "Concerns", "Detail"], rows, empty)
            + more_note(left_out, "finding"))


def _checked(v: Mapping[str, Any]) -> str:
    signers = v.get("signers") or []
    signed = f"{v.get('signed_checkpoints', 0)} signed"
    if signers:
        signed += " by " + ", ".join(str(s) for s in signers)
    latest = v.get("latest_checkpoint")
    rows = [
        (td("Sessions"), td(v.get("sessions"), "num")),
        (td("Entries checked"), td(v.get("entries_checked"), "num")),
        (td("Objects"), td(v.get("objects_checked"))),
        (td("Checkpoints"), td(f"{v.get('checkpoints', 0)} ({signed})")),
        (td("Latest checkpoint"), code(str(latest)[:12] if latest else "none")),
        (td("Signed entries"), td(v.get("signed_entries"), "num")),
    ]
    return table(["Checked", ""], rows, "")


def _statement(v: Mapping[str, Any] | None, fsck: Mapping[str, Any] | None) -> tuple[bool, str]:
    if v is not None:
        problems = len(v.get("problems") or [])
        if v.get("ok"):
            return True, ("git ledger verify found the ledger clean: every object re-hashes, "
                          "every entry matches its commit and every session matches every "
                          "checkpoint. Each session's tip commit below identifies its complete "
                          "history.")
        return False, (f"git ledger verify FAILED with {plural(problems, 'problem')}: this "
                       "ledger must not be trusted until they are explained.")
    if fsck is not None:
        if fsck.get("ok"):
            return True, ("git fsck found no problems (checkpoints and signatures were not "
                          "checked: run git ledger verify).")
        return False, ("git fsck reported problems: this ledger must not be trusted until "
                       "they are explained (git ledger verify says what they concern).")
    return True, ("The ledger was not verified for this report; run git ledger verify. The "
                  "session tips below identify each session's complete history.")


def integrity(integrity: Mapping[str, Any], ledger: str) -> str:
    """verify's verdict, what it checked, problems and notes, and each session's tip."""
    v = integrity.get("verify")
    ok, statement = _statement(v, integrity.get("fsck"))
    body = f'<p class="statement {"ok" if ok else "bad"}">{esc(statement)}</p>'
    if v is not None:
        body += _checked(v)
        if v.get("problems"):
            body += _findings(v["problems"], "Problems", "")
        body += _findings(v.get("unvouched") or [], "Cannot vouch for",
                          "Nothing: every entry is covered by a checkpoint.")
    some_tips, tips_left = capped(integrity.get("session_tips") or [])
    tip_rows = [
        (td(t.get("session_id")), code(t.get("branch")), code(t.get("tip")))
        for t in some_tips
    ]
    check = f"git ledger --ledger {ledger} verify" if ledger else "git ledger verify"
    return (
        body
        + f"<p>{esc(plural(int(integrity.get('sessions_in_ledger', 0) or 0), 'session'))} "
        f"in the ledger. Check it yourself: <code>{esc(check)}</code></p>"
        + "<h3>Session tips</h3>"
        + table(["Session", "Branch", "Tip commit"], tip_rows, "No session tips listed.")
        + more_note(tips_left, "session")
    )
