"""Settings read from git config (``git config ledger.*``), each with its default."""

from __future__ import annotations

import pygit2

from ledger.errors import LedgerError


def config_bool(
    config: pygit2.Config, key: str, default: bool, error: type[LedgerError]
) -> bool:
    """``key`` as git reads a boolean (true/yes/on/1, false/no/off/0), ``default`` when it is
    not set; a value that is no boolean raises ``error`` naming the key."""
    try:
        return bool(config.get_bool(key))
    except KeyError:
        return default
    except (pygit2.GitError, ValueError) as exc:
        raise error(f"{key} must be true or false: {exc}") from None
