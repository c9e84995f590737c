"""``git ledger why FILE:LINE`` / ``why COMMIT``: which agent session wrote this, and why."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli.common import print_json_lines
from ledger.cli.listing import open_query
from ledger.cli.options import json_option, live_only_option
from ledger.reports.why import why


@click.command("why")
@click.argument("target", metavar="FILE:LINE|COMMIT")
@json_option
@live_only_option
@click.pass_context
def why_cmd(ctx: click.Context, target: str, as_json: bool) -> None:
    """Say which agent session wrote a line, or made a commit, and why.

    FILE:LINE runs git blame in the repository around FILE, finds the commit and the agent
    edit of that repository whose result introduced the line, and prints its session, agent
    and the prompt the session was working on. A line no agent entry produced was written by
    a person: the answer says "no agent entry". COMMIT (anything git rev-parse reads, in the
    repository around the current folder) lists the git-hook entry that recorded it and the
    agent edits of its files since its parent.

    \b
    Example:
      git ledger why src/dates.py:5
      git ledger why HEAD~2 --json
    """
    result = why(open_query(ctx), target)
    if as_json:
        print_json_lines([result])
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    if "line" in result:
        click.echo(f"{result['target']}: {result['text']}")
    commit = result.get("commit")
    if commit:
        click.echo(f"commit {commit['commit']}  {commit.get('author') or ''}  "
                   f"{commit.get('summary') or ''}".rstrip())
    if result.get("hook_entry"):
        click.echo(f"recorded by the git hooks as entry {result['hook_entry'][:12]} "
                   f"(session {result['hook_session']})")
    click.echo(result["answer"])
    for row in result["entries"]:
        click.echo(f"  {row['entry'][:12]}  {row['timestamp']}  {row['agent_id']}  "
                   f"{row['session_id']}  {row['description']}")
        if row.get("prompt"):
            first = row["prompt"].strip().splitlines()[0] if row["prompt"].strip() else ""
            click.echo(f"    prompt: {first}")


def register(group: click.Group) -> None:
    """Add ``why``."""
    group.add_command(why_cmd)
