"""The HTML audit page links each file row to that repository's diffs of that file.

Two real git repositories (and a folder outside any) hold the same path; the page must give
each (repository, path) its own anchor, and each row's link must land on its own diffs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from ledger import ChangeLogger, LogQuery
from ledger.reports.html import render_audit_html

PATH = "src/app.py"


class _Page(HTMLParser):
    """Every id; every in-page link with the repository table it sits under; and the text
    under each heading that has an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[tuple[str | None, str, str]] = []  # (repository, target, text)
        self.under: dict[str, str] = {}
        self._repo: str | None = None
        self._in_repo_h3 = False
        self._link: str | None = None
        self._link_text = ""
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag in ("h2", "h3", "section"):
            self._heading = found.get("id") if tag == "h3" else None  # its diffs follow it
            self._in_repo_h3 = tag == "h3" and found.get("class") == "repo"
            if self._in_repo_h3:
                self._repo = ""  # the tables below it are this repository's files
            if self._heading:
                self.under[self._heading] = ""
        if tag == "a" and (found.get("href") or "").startswith("#"):
            self._link, self._link_text = str(found["href"])[1:], ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3":
            self._in_repo_h3 = False
        if tag == "a" and self._link is not None:
            self.links.append((self._repo, self._link, self._link_text))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._in_repo_h3:
            self._repo = (self._repo or "") + data
        if self._link is not None:
            self._link_text += data
        if self._heading:
            self.under[self._heading] += data


def _repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_one_path_in_two_repositories_has_two_anchors(tmp_path: Path, ledger_path: Path) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    contents: dict[str | None, str] = {}
    for name in ("alpha", "beta"):
        work = _repo(tmp_path / name)
        logger = ChangeLogger(ledger_path, session_id=f"s-{name}", workdir=work)
        logger.log_file_change(PATH, "file_create", None, f"{name}-content\n")
        logger.log_file_change(PATH, "file_update", f"{name}-content\n", f"{name}-changed\n")
        contents[str(work)] = name
    loose = tmp_path / "loose"
    loose.mkdir()
    ChangeLogger(ledger_path, session_id="s-loose", workdir=loose, repository=False)\
        .log_file_change(PATH, "file_create", None, "loose-content\n")
    contents[None] = "loose"

    report = LogQuery(ledger_path).generate_audit_report(start, dt.datetime.now(dt.UTC))
    rows = [(f.get("repository"), f["file_path"]) for f in report["files_changed"]]
    assert sorted(rows, key=str) == sorted(((r, PATH) for r in contents), key=str)
    page = _Page()
    page.feed(render_audit_html(report))

    assert len(page.ids) == len(set(page.ids)), page.ids
    assert all(target in page.ids for _, target, _ in page.links)
    file_links = [(repo, target) for repo, target, text in page.links if text == PATH]
    assert len(file_links) == 3 and len({t for _, t in file_links}) == 3
    for repo, target in file_links:
        name = contents[None if repo == "Repository not recorded" else repo]
        shown = page.under[target]
        assert f"{name}-content" in shown, (repo, shown)
        others = [n for n in contents.values() if n != name]
        assert not any(f"{other}-content" in shown for other in others), (repo, shown)
