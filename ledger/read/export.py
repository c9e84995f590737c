"""Streaming export of matching entries as json, jsonl, csv or otlp, through LogQuery.

An export is a query written to a file: LogStorage.export_logs and the CLI delegate here.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from ledger._outfile import STDOUT, open_output
from ledger.entry import Entry
from ledger.errors import InvalidInputError

EXPORT_FORMATS = ("json", "jsonl", "csv", "otlp")
CSV_FIELDS = [
    "id",
    "timestamp",
    "session_id",
    "agent_id",
    "change_type",
    "level",
    "description",
    "file_path",
    "file_hash_before",
    "file_hash_after",
    "metadata",
]
FILTER_KEYS = frozenset(
    {"change_types", "levels", "session_id", "agent_id", "file_path", "search_text", "repo"}
)

Progress = Callable[[str, int, int | None], None]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return


def iter_entries(
    ledger_dir: Path,
    start_date: dt.datetime | dt.date | str | None = None,
    end_date: dt.datetime | dt.date | str | None = None,
    *,
    live_only: bool = False,
    warnings: list[str] | None = None,
    **filters: Any,
) -> Iterator[Entry]:
    """Entries matching the filters, newest first, streamed from the commit graph.

    The filters are :meth:`LogQuery.query`'s (change_types, levels, session_id,
    agent_id, file_path, search_text) and match exactly as they do there. Archived
    sessions are included unless ``live_only``; a line for each bundle that could not be
    read is added to ``warnings``.
    """
    from ledger.read.query import LogQuery  # deferred: LogStorage users need not load it

    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise InvalidInputError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    query = LogQuery(ledger_dir, use_index=False, live_only=live_only)
    found = query.iter_query(start_date=start_date, end_date=end_date, **filters)
    if warnings is not None:
        warnings.extend(query.warnings())
    return found


_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def format_for(output_file: str | os.PathLike[str] | None, format: str | None = None) -> str:
    """The export format: ``format`` when given, else the file's extension, else json.

    ``export week.csv`` writes CSV and ``export errors.jsonl`` JSON lines without saying so
    twice; ``-`` (standard output) and unknown extensions default to json.
    """
    if format is not None:
        return _check_format(format)
    suffix = Path(os.fspath(output_file)).suffix.lower() if output_file else ""
    return _EXTENSIONS.get(suffix, "json")


def _check_format(format: str) -> str:
    fmt = format.lower()
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(
            f"unknown export format {format!r} (one of: {', '.join(EXPORT_FORMATS)})"
        )
    if fmt == "otlp":
        from ledger.read.otlp import require

        require()  # the one-line install hint, before anything is written
    return fmt


def export_to_stream(
    ledger_dir: Path,
    out: TextIO,
    start_date: dt.datetime | dt.date | str | None = None,
    end_date: dt.datetime | dt.date | str | None = None,
    format: str = "json",
    include_states: bool = False,
    *,
    progress: Progress = _no_progress,
    **filters: Any,
) -> dict[str, Any]:
    """Write matching entries (newest first) to an open text stream (standard output).

    The same formats and filters as :func:`export_logs`; what is written is never held
    in memory, so ``git ledger export - | jq`` starts printing at once.
    """
    fmt = _check_format(format)
    warnings: list[str] = []
    entries = iter_entries(ledger_dir, start_date, end_date, warnings=warnings, **filters)
    count = _WRITERS[fmt](out, entries, include_states, progress)
    out.flush()
    return {"output_file": "-", "format": fmt, "entries": count, "warnings": warnings}


def export_logs(
    ledger_dir: Path,
    output_file: str | os.PathLike[str],
    start_date: dt.datetime | dt.date | str | None = None,
    end_date: dt.datetime | dt.date | str | None = None,
    format: str = "json",
    include_states: bool = False,
    *,
    progress: Progress = _no_progress,
    **filters: Any,
) -> dict[str, Any]:
    """Write matching entries (newest first) as json, jsonl, csv or otlp, streaming.

    Entries are written one at a time to a temporary file renamed into place at the
    end, so memory stays flat and a failed export leaves nothing behind; ``-`` is
    standard output, a device or FIFO is written through, a symbolic link or other
    non-regular file is refused (see :mod:`ledger._outfile`). Filters:
    change_types, levels, session_id, agent_id, file_path (a folder with a trailing
    ``/``), search_text.
    """
    fmt = _check_format(format)
    warnings: list[str] = []
    entries = iter_entries(ledger_dir, start_date, end_date, warnings=warnings, **filters)
    name = os.fspath(output_file)
    target = name if name == STDOUT else str(Path(name).absolute())
    with open_output(target) as out:
        count = _WRITERS[fmt](out, entries, include_states, progress)
    return {"output_file": target, "format": fmt, "entries": count, "warnings": warnings}


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


def _write_json(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    n = 0
    out.write("[")
    for entry in entries:
        out.write(",\n  " if n else "\n  ")
        out.write(_dump(entry.to_dict(include_states=states)))
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    out.write("\n]\n" if n else "]\n")
    return n


def _write_jsonl(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    n = 0
    for entry in entries:
        out.write(_dump(entry.to_dict(include_states=states)) + "\n")
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    return n


def _write_csv(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    fields = CSV_FIELDS + (["before_state", "after_state"] if states else [])
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for entry in entries:
        row = entry.to_dict(include_states=states)
        row["metadata"] = json.dumps(row["metadata"], ensure_ascii=False, sort_keys=True)
        for key in ("before_state", "after_state"):
            if isinstance(row.get(key), dict):
                row[key] = json.dumps(row[key])
        writer.writerow(row)
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    return n


def _write_otlp(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    from ledger.read.otlp_io import write_otlp  # the OpenTelemetry SDK: the otel extra

    return write_otlp(out, entries, lambda n: tick("exporting", n, None))


_WRITERS: dict[str, Callable[[TextIO, Iterable[Entry], bool, Progress], int]] = {
    "json": _write_json,
    "jsonl": _write_jsonl,
    "csv": _write_csv,
    "otlp": _write_otlp,
}
