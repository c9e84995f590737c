"""The vocabulary of entries: what kind of change, and how severe."""

from __future__ import annotations

from enum import StrEnum


class ChangeType(StrEnum):
    """What an agent did. Accepts its string value: ``ChangeType("file_update")``."""

    FILE_CREATE = "file_create"
    FILE_UPDATE = "file_update"
    FILE_DELETE = "file_delete"
    GIT_COMMIT = "git_commit"
    GIT_PUSH = "git_push"
    API_CALL = "api_call"
    SYSTEM_COMMAND = "system_command"
    AGENT_DECISION = "agent_decision"
    CONFIG_CHANGE = "config_change"
    MODEL_INFERENCE = "model_inference"
    DATABASE_WRITE = "database_write"
    SERVICE_START = "service_start"
    SERVICE_STOP = "service_stop"
    DEPLOYMENT = "deployment"

    def __str__(self) -> str:
        return self.value


class LogLevel(StrEnum):
    """How much an entry matters. Accepts its string value: ``LogLevel("error")``."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """Severity order, debug=0 ... critical=4."""
        return _LEVEL_RANK[self]


_LEVEL_RANK = {level: i for i, level in enumerate(LogLevel)}

FILE_CHANGE_TYPES = frozenset(
    {ChangeType.FILE_CREATE, ChangeType.FILE_UPDATE, ChangeType.FILE_DELETE}
)


def change_type(value: ChangeType | str) -> ChangeType:
    """Coerce a string to ChangeType with a clear error."""
    if type(value) is ChangeType:
        return value
    from ledger.errors import InvalidInputError

    try:
        return ChangeType(value)
    except ValueError:
        names = ", ".join(t.value for t in ChangeType)
        raise InvalidInputError(f"unknown change type {value!r} (one of: {names})") from None


def log_level(value: LogLevel | str) -> LogLevel:
    """Coerce a string to LogLevel with a clear error."""
    if type(value) is LogLevel:
        return value
    from ledger.errors import InvalidInputError

    try:
        return LogLevel(str(value).lower() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(v.value for v in LogLevel)
        raise InvalidInputError(f"unknown level {value!r} (one of: {names})") from None
