"""The query index is a disposable cache: it never counts against the storage budget."""

from __future__ import annotations

from pathlib import Path

from ledger import ChangeLogger, LogQuery, LogStorage
from ledger.queryindex import INDEX_FILE


def test_storage_usage_leaves_the_query_index_out(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    for i in range(30):
        logger.log("api_call", f"call number {i} about databases")
    storage = LogStorage(ledger_path)
    before = storage.get_storage_usage()
    assert before["query_index_mb"] == 0
    assert LogQuery(ledger_path).query(search_text="databases")
    index = ledger_path / INDEX_FILE
    assert index.is_file() and index.stat().st_size > 0
    after = storage.get_storage_usage()
    assert after["query_index_mb"] > 0
    assert after["total_size_bytes"] == before["total_size_bytes"]
