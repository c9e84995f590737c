"""Deep paths, huge integers, NaN/inf options and a deleted working folder: one line each
(or it works), never a traceback, nothing half written."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, LogQuery
from ledger._names import MAX_PATH_DEPTH
from ledger.cli.main import load_commands, main
from ledger.errors import InvalidMetadataError, InvalidPathError
from tests.conftest import fsck_clean, git, run_cli

load_commands()  # commands register when first used; these tests walk them all

HUGE = 10**5000


def _one_line(out: subprocess.CompletedProcess[str], code: int) -> str:
    assert out.returncode == code, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


# -- deep paths ------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 12_000), name=st.sampled_from(["a", "é", "dir", "-", "a b"]))
@example(depth=1000, name="a")
@example(depth=10_000, name="a")
@example(depth=MAX_PATH_DEPTH, name="a")
@example(depth=MAX_PATH_DEPTH + 1, name="a")
def test_deep_paths_work_or_are_refused_in_one_line(tmp_path: Path, depth: int, name: str) -> None:
    ledger = tmp_path / "ledger.git"
    logger = ChangeLogger(ledger, session_id="deep", workdir=tmp_path, durable=False)
    path = "/".join([name] * depth) + "/f.txt"
    try:
        entry = logger.log_file_change(path, "file_create", None, "x\n")
    except InvalidPathError as exc:
        assert "\n" not in str(exc)
        assert depth + 1 > MAX_PATH_DEPTH or len(path.encode()) > 4096
        return
    assert LogQuery(ledger).get_entry(entry.id).file_path == path
    assert LogQuery(ledger).get_file_history(path)[-1].id == entry.id


def test_the_deepest_accepted_path_is_read_back_by_git(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    path = "/".join(["d"] * (MAX_PATH_DEPTH - 1)) + "/f.txt"
    ChangeLogger(ledger, session_id="deep", workdir=tmp_path, durable=False).log_file_change(
        path, "file_create", None, "deep\n"
    )
    assert git(ledger, "show", f"refs/heads/sessions/deep:files/{path}") == "deep\n"
    fsck_clean(ledger)


@pytest.mark.parametrize("depth", [1000, 10_000])
def test_cli_deep_path_is_one_line(ledger_path: Path, tmp_path: Path, depth: int) -> None:
    path = "/".join(["a"] * depth)
    out = run_cli("--ledger", str(ledger_path), "log", "--type", "file_update", "-m", "x",
                  "--file", path, cwd=tmp_path)
    assert "path" in _one_line(out, 2)


# -- huge integers ------------------------------------------------------------------------------

@pytest.mark.parametrize("meta", [{"x": HUGE}, {"x": [1, {"y": -HUGE}]}, {HUGE: 1}])
def test_huge_integers_in_metadata_are_one_line_errors(ledger_path: Path, meta: dict) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", durable=False)
    logger.log("api_call", "first")
    with pytest.raises(InvalidMetadataError) as caught:
        logger.log("api_call", "huge", meta)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200
    assert git(ledger_path, "rev-list", "--count", "refs/heads/sessions/s").strip() == "1"


def test_the_largest_integer_allowed_round_trips(ledger_path: Path) -> None:
    big = 10**4299 + 7
    entry = ChangeLogger(ledger_path, session_id="s", durable=False).log("api_call", "b", {"n": big})
    assert LogQuery(ledger_path).get_entry(entry.id).metadata["n"] == big
    blob = git(ledger_path, "show", f"{entry.id}:entry.json")
    assert json.loads(blob)["metadata"]["n"] == big


def test_import_of_a_huge_integer_is_one_line(ledger_path: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"id": "a", "timestamp": "2025-01-01T00:00:00+00:00", "session_id": "i", '
                    '"change_type": "api_call", "metadata": {"x": 1' + "0" * 5000 + "}}\n")
    line = _one_line(run_cli("--ledger", str(ledger_path), "import", str(seed)), 2)
    assert "seed.jsonl:1" in line
    assert not ledger_path.exists()


# -- NaN, inf and huge numbers in every number option ----------------------------------------

def _number_options() -> list[tuple[list[str], str, bool]]:
    found = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        for param in cmd.params:
            if isinstance(param, click.Option):
                if isinstance(param.type, click.types.FloatParamType):
                    found.append((path, param.opts[0], True))
                elif isinstance(param.type, click.types.IntParamType):
                    found.append((path, param.opts[0], False))

    walk(main, [])
    return found


NUMBER_OPTIONS = _number_options()


def test_the_option_census_found_the_known_ones() -> None:
    names = {(" ".join(p), o) for p, o, _ in NUMBER_OPTIONS}
    assert {("recent", "--hours"), ("maintenance", "--max-age-days"), ("export", "--interval"),
            ("metrics health", "--window-hours"), ("recent", "--limit")} <= names


@pytest.mark.parametrize(("path", "option", "is_float"), NUMBER_OPTIONS,
                         ids=[f"{' '.join(p)} {o}" for p, o, _ in NUMBER_OPTIONS])
def test_every_number_option_refuses_non_numbers_in_one_line(
    path: list[str], option: str, is_float: bool, capsys: pytest.CaptureFixture[str],
    ledger_path: Path,
) -> None:
    values = ["nan", "inf", "-inf", "1e400", "NaN"] if is_float else ["1" + "0" * 30, "1" + "0" * 5000]
    for value in values:
        with pytest.raises(SystemExit) as done:
            main.main(["--ledger", str(ledger_path), *path, f"{option}={value}"],
                      prog_name="git-ledger")
        err = capsys.readouterr().err
        assert done.value.code == 2, (value, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and option in lines[0], (value, err)
        assert len(lines[0]) < 300
    assert not ledger_path.exists()


def test_finite_numbers_still_work(ledger_path: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", durable=False).log("api_call", "x")
    for args in (["recent", "--hours", "0.5"], ["metrics", "health", "--window-hours", "1.5",
                 "--max-storage-mb", "10"], ["maintenance", "--max-age-days", "0"]):
        out = run_cli("--ledger", str(ledger_path), *args)
        assert out.returncode in (0, 1), out.stderr  # health may grade; never a usage error
        assert "Traceback" not in out.stderr
    assert math.isfinite(1.0)


# -- a deleted working folder --------------------------------------------------------------------

@pytest.mark.parametrize("command", [["recent"], ["log", "--type", "api_call", "-m", "x"],
                                     ["verify"], ["sessions"], ["export", "-"], ["--version"]])
def test_a_deleted_working_folder_is_one_line(ledger_path: Path, tmp_path: Path,
                                              command: list[str]) -> None:
    ChangeLogger(ledger_path, session_id="s", durable=False).log("api_call", "x")
    gone = tmp_path / "gone"
    gone.mkdir()
    out = subprocess.run(
        [sys.executable, "-c",
         "import os, sys; os.rmdir(os.getcwd()); sys.argv[0] = 'git-ledger';"
         " from ledger.__main__ import entry; entry()", *command],
        cwd=gone, capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_LEDGER_DIR": str(ledger_path)},
    )
    assert not gone.exists()
    assert "no longer exists" in _one_line(out, 3)


def test_the_api_from_a_deleted_folder(ledger_path: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os\n"
        "os.rmdir(os.getcwd())\n"
        "from ledger import ChangeLogger\n"
        "from ledger.errors import LedgerLocationError\n"
        f"ledger = {str(ledger_path)!r}\n"
        "try:\n"
        "    ChangeLogger(ledger)\n"
        "except LedgerLocationError as exc:\n"
        "    print('refused:', exc)\n"
        f"ChangeLogger(ledger, workdir={str(tmp_path)!r}, session_id='s').log('api_call', 'x')\n"
        "print('written')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=gone, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "refused: the current folder no longer exists" in out.stdout
    assert "written" in out.stdout
    assert git(ledger_path, "rev-parse", "refs/heads/sessions/s").strip()
