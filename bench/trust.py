"""Cost of trust: redaction on the write path, checkpoints and verify, measured side by side.

Run by hand:  python bench/trust.py [--entries N] [--sessions N] [--dir DIR]

- log(): entries/s with redaction on (the default) against the same ledger type with
  ``ledger.redact=false``, both non-durable, interleaved in rounds; prints the ratio.
- the redactor alone: MB/s over clean text and over text full of secrets.
- entry signing: log() with and without ``ledger.signEntries`` (one ssh-keygen per entry).
- checkpoint: the first one (counts every entry) and an incremental one.
- verify: the full check (git fsck --strict --full plus every entry) and --since-checkpoint.
"""

from __future__ import annotations

import argparse
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import ChangeLogger
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.redact import Redactor
from ledger.trust.verify import verify_ledger


def output_text(rng: random.Random, lines: int) -> str:
    return "".join(
        f"{i:04d} PASSED tests/test_mod{i % 17}.py::test_case_{rng.getrandbits(32):08x}\n"
        for i in range(lines)
    )


def make_logger(path: Path, redact: bool, session: str) -> ChangeLogger:
    lg = ChangeLogger(path, session_id=session, durable=False)
    lg.log("deployment", "warm up")
    if not redact:
        subprocess.run(["git", "--git-dir", str(path), "config", "ledger.redact", "false"], check=True)
        lg = ChangeLogger(path, session_id=session, durable=False)
    return lg


def bench_log(tmp: Path, n: int) -> None:
    rng = random.Random(3)
    outputs = [output_text(rng, 40) for _ in range(50)]  # ~2.6 KB of command output each
    files = [output_text(rng, 60) for _ in range(50)]  # ~4 KB file states
    loggers = {
        True: make_logger(tmp / "on.git", True, "s"),
        False: make_logger(tmp / "off.git", False, "s"),
    }
    spent = {True: 0.0, False: 0.0}
    rounds = 6
    per_round = max(1, n // rounds)
    for r in range(rounds):
        for redact in (True, False) if r % 2 == 0 else (False, True):  # fair to both
            lg = loggers[redact]
            start = time.perf_counter()
            for i in range(per_round):
                if i % 2:
                    lg.log_command(["pytest", "-q", f"-k{i}"], output=outputs[i % 50], exit_code=0)
                else:
                    lg.log_file_change(
                        f"src/f{i % 20}.py", "file_update", after_content=files[i % 50]
                    )
            spent[redact] += time.perf_counter() - start
    total = per_round * rounds
    on, off = total / spent[True], total / spent[False]
    print(f"log() with redaction     {on:9.0f} entries/s")
    print(f"log() without redaction  {off:9.0f} entries/s")
    print(f"  ratio on/off           {on / off:9.2f}  (commands with ~2.6 KB output, 4 KB files)")


def bench_entry_signing(tmp: Path, n: int) -> None:
    key = tmp / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    plain = make_logger(tmp / "plain.git", True, "s")
    signed = make_logger(tmp / "signed.git", True, "s")
    for k, v in (("ledger.signingKey", str(key)), ("ledger.signEntries", "true")):
        subprocess.run(["git", "--git-dir", str(tmp / "signed.git"), "config", k, v], check=True)
    signed = ChangeLogger(tmp / "signed.git", session_id="s", durable=False)
    spent = {}
    for name, lg in (("unsigned", plain), ("signed", signed)):
        start = time.perf_counter()
        for i in range(n):
            lg.log("deployment", f"entry {i}")
        spent[name] = (time.perf_counter() - start) / n
    print(f"log(), entries unsigned  {spent['unsigned'] * 1000:9.2f} ms/entry")
    print(f"log(), entries signed    {spent['signed'] * 1000:9.2f} ms/entry (ledger.signEntries)")


def bench_redactor() -> None:
    rng = random.Random(5)
    red = Redactor(b"k" * 32)
    clean = output_text(rng, 20000)  # ~1.3 MB
    dirty_lines = []
    for i in range(20000):
        token = "".join(rng.choice(string.ascii_letters) for _ in range(36))
        dirty_lines.append(f"line {i} password={token} ghp_{token} ok\n" if i % 10 == 0 else f"line {i}\n")
    dirty = "".join(dirty_lines)
    for name, text in (("clean text", clean), ("10% lines with secrets", dirty)):
        start = time.perf_counter()
        red.text(text)
        elapsed = time.perf_counter() - start
        print(f"redactor, {name:24s} {len(text) / elapsed / 1e6:7.1f} MB/s")


def bench_trust(tmp: Path, sessions: int, per_session: int) -> None:
    path = tmp / "big.git"
    for s in range(sessions):
        lg = ChangeLogger(path, session_id=f"s{s:03d}", durable=False)
        with lg.batch():
            for i in range(per_session):
                lg.log_command(["step", str(i)], output="ok\n")
    total = sessions * per_session
    start = time.perf_counter()
    write_checkpoint(path)
    first = time.perf_counter() - start
    for s in range(0, sessions, 10):
        ChangeLogger(path, session_id=f"s{s:03d}", durable=False).log("deployment", "more")
    start = time.perf_counter()
    write_checkpoint(path)
    incremental = time.perf_counter() - start
    start = time.perf_counter()
    report = verify_ledger(path)
    full = time.perf_counter() - start
    assert report.ok, report.problems
    ChangeLogger(path, session_id="s000", durable=False).log("deployment", "newest")
    start = time.perf_counter()
    report = verify_ledger(path, since_checkpoint="#2")
    since = time.perf_counter() - start
    assert report.ok, report.problems
    print(f"ledger: {sessions} sessions, {total} entries")
    print(f"checkpoint, first        {first * 1000:9.0f} ms")
    print(f"checkpoint, incremental  {incremental * 1000:9.0f} ms")
    print(f"verify, full             {full * 1000:9.0f} ms  ({total / full:.0f} entries/s)")
    print(f"verify --since-checkpoint{since * 1000:9.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000, help="log() calls per variant")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--per-session", type=int, default=200)
    parser.add_argument("--dir", help="where to build the ledgers (default: the temp dir)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-trust-", dir=args.dir))
    try:
        bench_log(tmp, args.entries)
        bench_entry_signing(tmp, 50)
        bench_redactor()
        bench_trust(tmp, args.sessions, args.per_session)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
