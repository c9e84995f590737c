"""Files that ship with the package: the git hook scripts and the pre-receive guard.

Installed, they are package data under ``ledger/_hooks``; in a source tree they are the
``hooks/`` folder at the top.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The ``ledger`` package folder."""
PACKAGE_ROOT = PACKAGE_DIR.parent
"""The folder that holds the package: what a child python needs on its path to import it."""


def hooks_folder(marker: str) -> Path | None:
    """The folder of shipped hook scripts that holds ``marker``, or None when neither does."""
    for folder in (PACKAGE_DIR / "_hooks", PACKAGE_ROOT / "hooks"):
        if (folder / marker).is_file():
            return folder
    return None
