"""The one error tree of git-ledger: every failure the library reports is a LedgerError.

LedgerError
├── LedgerLocationError        the ledger path is missing, unwritable or not a ledger
│   └── LedgerNotFoundError    no ledger exists there yet (reads never create one)
├── InvalidInputError (ValueError)
│   ├── InvalidSessionIdError  a session id that cannot be a safe ref name
│   ├── InvalidAgentIdError    an agent id that cannot be a commit identity
│   ├── InvalidPathError       a file path that is unsafe or cannot be stored losslessly
│   │   └── WorkspaceEscapeError   a path that leads outside the workspace (symlinks too)
│   ├── InvalidMetadataError   metadata that JSON cannot hold exactly
│   ├── TimestampOrderError    a timestamp earlier than the session's last entry
│   ├── NotARepositoryError    a path given as a git repository that is not one
│   ├── AgentEventError        a coding agent's hook event that cannot be read
│   ├── HookEventError         a spooled git hook event that cannot be recorded
│   ├── RedactionConfigError   a redaction rule in the ledger's config that cannot be used
│   ├── InvalidRemoteError     an unknown or invalid remote name, or a URL holding a password
│   ├── InvalidDateError       a date or age a query cannot read
│   └── ImportFormatError      a file to import that is not in the seed's JSON format
├── EntryNotFoundError (KeyError)  no entry with that id or prefix
├── AmbiguousEntryError (KeyError) a prefix that names more than one entry
├── SessionNotFoundError (KeyError) no session with that id
├── UndoConflictError          files changed since the ledger recorded them; nothing written
├── UnrestorableError          the ledger lacks the state a restore needs
├── LockTimeoutError           another live writer held the session lock too long
├── ConcurrentUpdateError      the session ref kept moving under us; nothing was written
├── MaintenanceBusyError       another maintenance run holds the ledger's maintenance lock
├── HookInstallError           a git hook could not be installed, upgraded or removed
├── AgentSettingsError         an agent's settings file that cannot be read or written safely
├── CheckpointError            the ledger no longer matches its last checkpoint
├── SigningError               ssh-keygen could not sign (no key, bad key, bad config)
├── StorageError               git refused a write (disk full, read-only, corrupt object)
│   ├── GitUnavailableError    the git command-line tool is needed and cannot be run
│   └── ArchiveError           an archive bundle is missing, unreadable or fails verification
│       └── ArchiveNotFoundError   no archive bundle by that name or path
└── SyncError                  a remote could not be reached, or a push or pull failed
"""

from __future__ import annotations

from collections.abc import Sequence


class LedgerError(Exception):
    """Base class of every error git-ledger raises on purpose."""


class LedgerLocationError(LedgerError):
    """The ledger location is unusable: not a directory, not writable, or not a ledger."""


class LedgerNotFoundError(LedgerLocationError):
    """No ledger exists at the resolved location (reads never create one)."""


class InvalidInputError(LedgerError, ValueError):
    """Input that the ledger refuses before writing anything."""


class InvalidSessionIdError(InvalidInputError):
    """A session id that would make an invalid or escaping ref name."""


class InvalidAgentIdError(InvalidInputError):
    """An agent id that cannot be used as a commit author name."""


class InvalidPathError(InvalidInputError):
    """A file path that is unsafe or that the ledger cannot store losslessly."""


class WorkspaceEscapeError(InvalidPathError):
    """A path that leads outside the workspace: absolute, or through a symlinked folder."""


class InvalidMetadataError(InvalidInputError):
    """Metadata with values JSON cannot hold exactly (NaN, bytes, sets, cycles, ...)."""


class TimestampOrderError(InvalidInputError):
    """An explicit timestamp earlier than the session's last entry."""


class RedactionConfigError(InvalidInputError):
    """A redaction rule in the ledger's config that cannot be used (e.g. a bad regex)."""


class InvalidRemoteError(InvalidInputError):
    """A remote name that is unknown or invalid, or a URL that would store a password."""


class InvalidDateError(InvalidInputError):
    """A date, time or age (``7d``) that a query cannot read."""


class ImportFormatError(InvalidInputError):
    """A file to import that is not JSON entries in the seed's format."""


class EntryNotFoundError(LedgerError, KeyError):
    """No entry matches the id or prefix given."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want a plain sentence
        return str(self.args[0]) if self.args else "entry not found"


class AmbiguousEntryError(LedgerError, KeyError):
    """An id prefix that matches more than one entry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "ambiguous entry id"


class SessionNotFoundError(LedgerError, KeyError):
    """No session with that id exists in the ledger."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "session not found"


class UndoConflictError(LedgerError):
    """Files changed since the ledger last recorded them; the undo wrote nothing.

    ``conflicts`` lists the plan's conflicting file actions; ``result`` is the whole
    (unwritten, or partly written when a file changed during the undo) result.
    """

    def __init__(
        self, message: str, result: object = None, conflicts: Sequence[object] | None = None
    ) -> None:
        super().__init__(message)
        self.result = result
        self.conflicts = list(conflicts or [])


class UnrestorableError(LedgerError):
    """The ledger does not hold the file state a restore needs (never recorded, or too big)."""


class LockTimeoutError(LedgerError):
    """Another live writer held the session lock for longer than the timeout."""


class ConcurrentUpdateError(LedgerError):
    """The session ref kept changing under the writer; nothing was written."""


class StorageError(LedgerError):
    """Git refused a write: disk full, read-only ledger, or a damaged repository."""


class MaintenanceBusyError(LedgerError):
    """Another maintenance run holds the ledger's maintenance lock."""


class GitUnavailableError(StorageError):
    """The git command-line tool is needed (repack, prune, bundle) and cannot be run."""


class ArchiveError(StorageError):
    """An archive bundle is missing, unreadable, or fails ``git bundle verify``."""


class ArchiveNotFoundError(ArchiveError):
    """No archive bundle by that name or path."""


class NotARepositoryError(InvalidInputError):
    """A path given as a git repository that git does not recognise as one."""


class AgentEventError(InvalidInputError):
    """A coding agent's hook event that is not valid JSON or lacks what it must hold."""


class HookEventError(InvalidInputError):
    """A spooled git hook event that cannot be read, or whose commit or repository is gone."""


class HookInstallError(LedgerError):
    """A git hook could not be installed, upgraded or removed (the hooks folder refused)."""


class AgentSettingsError(LedgerError):
    """An agent's settings file that cannot be read as JSON or written back safely."""


class CheckpointError(LedgerError):
    """A checkpoint cannot be written: the ledger no longer matches its last checkpoint."""


class SigningError(LedgerError):
    """ssh-keygen could not sign a checkpoint or an entry (no key, bad key, bad config)."""


class SyncError(LedgerError):
    """A remote could not be reached or refused a transfer (URLs carry no credentials)."""
