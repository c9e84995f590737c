"""The one error tree of git-ledger: every failure the library reports is a LedgerError.

The six groups say what the caller does about it: fix the input (InputError, exit code 2),
look elsewhere (NotFoundError, 1), retry or force (ConflictError), fix the disk, the
repository or the tools (StorageError), fix the remote (RemoteError), or investigate what
the ledger can no longer vouch for (IntegrityError); the last four exit with 3.

LedgerError
├── InputError (ValueError)    input refused before anything was written
│   ├── InvalidInputError      input that the ledger refuses (the name most code catches)
│   │   ├── InvalidSessionIdError  a session id that cannot be a safe ref name
│   │   ├── InvalidAgentIdError    an agent id that cannot be a commit identity
│   │   ├── InvalidPathError       a file path that is unsafe or cannot be stored losslessly
│   │   │   └── WorkspaceEscapeError   a path that leads outside the workspace (symlinks too)
│   │   ├── InvalidMetadataError   metadata that JSON cannot hold exactly
│   │   ├── TimestampOrderError    a timestamp earlier than the session's last entry
│   │   ├── NotARepositoryError    a path given as a git repository that is not one
│   │   ├── AgentEventError        a coding agent's hook event that cannot be read
│   │   ├── HookEventError         a spooled git hook event that cannot be recorded
│   │   ├── RedactionConfigError   a redaction rule in the ledger's config that cannot be used
│   │   ├── InvalidRemoteError     an unknown or invalid remote name, or a URL holding a password
│   │   ├── InvalidDateError       a date or age a query cannot read
│   │   ├── ImportFormatError      a file not in the JSON log format of the original change logger
│   │   └── InvalidEntryIdError    text that cannot be an entry id (also an EntryNotFoundError)
│   └── AmbiguousEntryError (KeyError) a prefix that names more than one entry
├── NotFoundError              nothing there by that name
│   ├── LedgerNotFoundError    no ledger exists there yet (reads never create one)
│   ├── EntryNotFoundError (KeyError)  no entry with that id or prefix
│   ├── SessionNotFoundError (KeyError) no session with that id
│   └── ArchiveNotFoundError   no archive bundle by that name or path
├── ConflictError              someone else got there first; retry, or force
│   ├── UndoConflictError      files changed since the ledger recorded them; nothing written
│   ├── LockTimeoutError       another live writer held the session lock too long
│   ├── ConcurrentUpdateError  the session ref kept moving under us; nothing was written
│   └── MaintenanceBusyError   another maintenance run holds the ledger's maintenance lock
├── StorageError               git refused a write (disk full, read-only, corrupt object)
│   ├── LedgerLocationError    the ledger path is missing, unwritable or not a ledger
│   │   └── LedgerNotFoundError    (also a NotFoundError, above)
│   ├── GitUnavailableError    the git command-line tool is needed and cannot be run
│   ├── ArchiveError           an archive bundle is missing, unreadable or fails verification
│   │   └── ArchiveNotFoundError   (also a NotFoundError, above)
│   ├── HookInstallError       a git hook could not be installed, upgraded or removed
│   └── AgentSettingsError     an agent's settings file that cannot be read or written safely
├── RemoteError                a remote failed us
│   └── SyncError              a remote could not be reached, or a push or pull failed
└── IntegrityError             the ledger cannot vouch for what it holds
    ├── CheckpointError        the ledger no longer matches its last checkpoint
    ├── SigningError           ssh-keygen could not sign (no key, bad key, bad config)
    └── UnrestorableError      the ledger lacks the state a restore needs
"""

from __future__ import annotations

from collections.abc import Sequence


class LedgerError(Exception):
    """Base class of every error git-ledger raises on purpose."""


class InputError(LedgerError, ValueError):
    """Input refused before anything was written; the caller fixes it and tries again."""


class InvalidInputError(InputError):
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


class NotARepositoryError(InvalidInputError):
    """A path given as a git repository that git does not recognise as one."""


class AgentEventError(InvalidInputError):
    """A coding agent's hook event that is not valid JSON or lacks what it must hold."""


class HookEventError(InvalidInputError):
    """A spooled git hook event that cannot be read, or whose commit or repository is gone."""


class RedactionConfigError(InvalidInputError):
    """A redaction rule in the ledger's config that cannot be used (e.g. a bad regex)."""


class InvalidRemoteError(InvalidInputError):
    """A remote name that is unknown or invalid, or a URL that would store a password."""


class InvalidDateError(InvalidInputError):
    """A date, time or age (``7d``) that a query cannot read."""


class ImportFormatError(InvalidInputError):
    """A file to import that is not in the JSON log format of the original change logger."""


class AmbiguousEntryError(InputError, KeyError):
    """An id prefix that matches more than one entry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "ambiguous entry id"


class NotFoundError(LedgerError):
    """Nothing by that name is there: no ledger, entry, session or archive."""


class EntryNotFoundError(NotFoundError, KeyError):
    """No entry matches the id or prefix given."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want a plain sentence
        return str(self.args[0]) if self.args else "entry not found"


class InvalidEntryIdError(InvalidInputError, EntryNotFoundError):
    """Text that cannot be an entry id at all (not 7 to 40 hex digits): a typo, exit 2.

    Also an EntryNotFoundError, so code that catches "no such entry" still catches it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not an entry id"


class SessionNotFoundError(NotFoundError, KeyError):
    """No session with that id exists in the ledger."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "session not found"


class ConflictError(LedgerError):
    """Someone else got there first (a writer, a maintenance run, an edit); retry or force."""


class UndoConflictError(ConflictError):
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


class LockTimeoutError(ConflictError):
    """Another live writer held the session lock for longer than the timeout."""


class ConcurrentUpdateError(ConflictError):
    """The session ref kept changing under the writer; nothing was written."""


class MaintenanceBusyError(ConflictError):
    """Another maintenance run holds the ledger's maintenance lock."""


class StorageError(LedgerError):
    """Git refused a write: disk full, read-only ledger, or a damaged repository."""


class LedgerLocationError(StorageError):
    """The ledger location is unusable: not a directory, not writable, or not a ledger."""


class LedgerNotFoundError(LedgerLocationError, NotFoundError):
    """No ledger exists at the resolved location (reads never create one)."""


class GitUnavailableError(StorageError):
    """The git command-line tool is needed (repack, prune, bundle) and cannot be run."""


class ArchiveError(StorageError):
    """An archive bundle is missing, unreadable, or fails ``git bundle verify``."""


class ArchiveNotFoundError(ArchiveError, NotFoundError):
    """No archive bundle by that name or path."""


class HookInstallError(StorageError):
    """A git hook could not be installed, upgraded or removed (the hooks folder refused)."""


class AgentSettingsError(StorageError):
    """An agent's settings file that cannot be read as JSON or written back safely."""


class RemoteError(LedgerError):
    """A remote failed: unreachable, or it refused a transfer."""


class SyncError(RemoteError):
    """A remote could not be reached or refused a transfer (URLs carry no credentials)."""


class IntegrityError(LedgerError):
    """The ledger cannot vouch for, or no longer holds, what was written."""


class CheckpointError(IntegrityError):
    """A checkpoint cannot be written: the ledger no longer matches its last checkpoint."""


class SigningError(IntegrityError):
    """ssh-keygen could not sign a checkpoint or an entry (no key, bad key, bad config)."""


class UnrestorableError(IntegrityError):
    """The ledger does not hold the file state a restore needs (never recorded, or too big)."""
