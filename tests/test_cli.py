"""The command line: exit codes, messages without tracebacks, atomic output folders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from optimizer.cli import main
from tests.conftest import BASE, DATA, run_cli, write_tables


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "ds", BASE)


def test_validate_ok(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out
    assert "tier 1: 2 entries, 120 units" in out
    assert "240 units of demand need 24 line hours" in out


def test_validate_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_tables(tmp_path / "bad", {**BASE, "lines": "line,hours\nL1,ten\nL1,5"})
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "lines.csv, row 2, column hours: 'ten' is not a number" in err
    assert "lines.csv, row 3, column line: duplicate line 'L1'" in err
    assert "Traceback" not in err


def test_validate_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_plan_writes_the_folder(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert main(["plan", str(dataset), "--out", str(out), "--no-report"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "production.csv",
        "inventory.csv",
        "service.csv",
        "shipments.csv",
        "lines.csv",
        "materials.csv",
        "summary.json",
    } <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    # B (tier 2) is short 20 a week: 40 x 5 x 10^0 = 200
    assert summary["objective"] == pytest.approx(200)
    assert summary["fill_rate"]["1"] == 1.0
    text = capsys.readouterr().out
    assert "status     optimal" in text
    assert "short in the first 2 periods, the exceptions window (W1–W2; 1 entry):" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plan")]


def test_plan_says_the_reports_steps_once_it_runs_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a large plan the reports take tens of seconds after the solve's last line
    (generated xl: 21 s): each step is said as it starts, once the command has run
    REPORT_PROGRESS_AFTER seconds. The demo's reports take a second, and say nothing."""
    import optimizer.cli as cli

    demo = str(DATA / "bodywash")
    assert main(["plan", demo, "--out", str(tmp_path / "quiet")]) == 0
    assert "the reports:" not in capsys.readouterr().err
    monkeypatch.setattr(cli, "REPORT_PROGRESS_AFTER", 0.0)
    assert main(["plan", demo, "--out", str(tmp_path / "said")]) == 0
    steps = [
        line[line.index("the reports:") :]
        for line in capsys.readouterr().err.splitlines()
        if re.match(r" +[0-9]+\.[0-9] s  the reports: ", line)
    ]
    assert steps == [
        "the reports: marginal values, shortage causes, stock moves",
        "the reports: 5 what-ifs re-solved",
        "the reports: tradeoffs.md, report.html, plan.xlsx",
    ]


@pytest.mark.parametrize(
    ("option", "value", "key", "expected"),
    [("--solver", "cbc", "solver", "cbc"), ("--mode", "lexicographic", "mode", "lexicographic")],
)
def test_plan_options_override_settings(
    dataset: Path, tmp_path: Path, option: str, value: str, key: str, expected: str
) -> None:
    out = tmp_path / "plan"
    assert main(["plan", str(dataset), "--out", str(out), "--no-report", option, value]) == 0
    assert json.loads((out / "summary.json").read_text())[key] == expected


def test_invalid_input_writes_nothing_and_keeps_old_plan(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    assert main(["plan", str(dataset), "--out", str(out), "--no-report"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (dataset / "routings.csv").write_text("product,line,rate\nA,L1,-1\n")
    assert main(["plan", str(dataset), "--out", str(out), "--no-report"]) == 2
    assert "routings.csv, row 2, column rate" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failed_report_leaves_no_half_plan(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optimizer.reports

    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(optimizer.reports, "write_reports", broken)
    out = tmp_path / "plan"
    assert main(["plan", str(dataset), "--out", str(out)]) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [dataset]


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 2
    assert main(["plan", "x", "--out", "y", "--solver", "gurobi"]) == 2


def test_unknown_solver_in_settings(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dataset / "settings.toml").write_text("[solve]\nsolver = 'gurobi'\n")
    assert main(["plan", str(dataset), "--out", str(tmp_path / "p")]) == 2
    assert "settings.toml, row 2, column solve.solver" in capsys.readouterr().err


def test_sigterm_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a tester: SIGTERM (``timeout``, a scheduler) while the plan folder was
    written left the hidden temporary folder behind, one per run; it now ends the
    command as Ctrl-C does."""
    import os
    import signal

    from optimizer import results

    folder = write_tables(tmp_path / "ds", BASE)
    write = results.write_csv
    calls: list[int] = []

    def terminated_midway(frame: object, path: Path) -> None:
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        write(frame, path)  # type: ignore[arg-type]

    class Unhandled(Exception):
        pass

    def unhandled(signum: int, frame: object) -> None:
        raise Unhandled  # without soe's handler: fail the test, not kill pytest

    monkeypatch.setattr(results, "write_csv", terminated_midway)
    before = signal.signal(signal.SIGTERM, unhandled)
    try:
        out = tmp_path / "out" / "plan"
        assert main(["plan", str(folder), "--out", str(out), "--no-report"]) == 1
        assert "interrupted; nothing was written." in capsys.readouterr().err
        assert list((tmp_path / "out").iterdir()) == []
        assert signal.getsignal(signal.SIGTERM) is unhandled  # the handler is put back
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """Found by a tester: ``soe validate DS | true`` ended "internal error:
    BrokenPipeError", exit 1; the output to the closed pipe is dropped instead."""
    import subprocess
    import sys

    folder = write_tables(tmp_path / "ds", BASE)
    reader = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", "validate", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # the reader leaves before the first line
    err = reader.stderr.read().decode()
    assert reader.wait() == 0, err
    assert "internal error" not in err


def test_the_command_flushes_all_its_output_before_its_quick_exit(tmp_path: Path) -> None:
    """``soe`` ends with ``os._exit`` (no slow teardown): what it printed to a pipe or a
    file still arrives whole, and its status is main's (0 plan written, 2 bad input)."""
    import os
    import subprocess
    import sys

    folder = write_tables(tmp_path / "ds", BASE)
    out = tmp_path / "plan"
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    ran = subprocess.run(
        [sys.executable, "-m", "optimizer.cli", "plan", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        env=buffered,  # as a planner's shell runs it: output to a pipe waits in a buffer
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.rstrip().splitlines()[-1].startswith(f"plan written to {out}")
    assert (out / "summary.json").is_file() and (out / "tradeoffs.md").is_file()
    with (tmp_path / "log.txt").open("w") as log:
        bad = subprocess.run(
            [sys.executable, "-m", "optimizer.cli", "validate", str(tmp_path / "nowhere")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=buffered,
        )
    assert bad.returncode == 2
    assert "no such file or folder" in (tmp_path / "log.txt").read_text()


def test_the_soe_command_is_the_quick_exit_entry_point() -> None:
    """The installed ``soe`` script runs :func:`console_main` (main, then the quick
    exit), as ``python -m optimizer.cli`` does."""
    from importlib.metadata import entry_points

    from optimizer.cli import console_main

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "soe"]
    assert script.load() is console_main


def test_an_infeasible_ending_says_it_is_the_solvers_trouble(
    monkeypatch: pytest.MonkeyPatch,
    dataset: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A valid dataset always has a plan, so a solver that calls it infeasible has
    numerical trouble (SCIP at the input limits): the message says to try another."""
    from optimizer.backends import Solution, SolveStatus
    from optimizer.backends.highs import HighsBackend

    monkeypatch.setattr(HighsBackend, "solve", lambda *a, **k: Solution(SolveStatus.INFEASIBLE))
    out = tmp_path / "plan"
    assert main(["plan", str(dataset), "--out", str(out), "--no-report"]) == 1
    err = capsys.readouterr().err
    assert "no plan: the solver ended 'infeasible'" in err
    assert "numerical trouble in highs" in err and "try --solver cbc." in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("ds/products.csv", "is inside the dataset folder"),
        ("plan/production.xlsx", "is inside the plan folder"),
        ("book.csv", "is not an .xlsx file name"),
    ],
)
def test_excel_never_overwrites_an_input_or_plan_file(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, words: str
) -> None:
    """Found by a tester: ``--excel ds/products.csv`` replaced the dataset's products
    with a workbook (exit 0). Refused before solving, nothing written."""
    before = {p.name: p.read_bytes() for p in dataset.iterdir()}
    code = main(
        ["plan", str(dataset), "--out", str(tmp_path / "plan"), "--excel", str(tmp_path / where)]
    )
    assert code == 2
    assert words in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in dataset.iterdir()} == before
    assert not (tmp_path / "plan").exists()


def test_the_excel_copy_is_the_plan_workbook(dataset: Path, tmp_path: Path) -> None:
    """``--excel FILE`` is another copy of plan.xlsx, its trade-off sheets included
    (it held the plan tables only); without the reports, the plan tables."""
    import openpyxl

    out, book = tmp_path / "plan", tmp_path / "copy" / "week.xlsx"
    assert main(["plan", str(dataset), "--out", str(out), "--excel", str(book)]) == 0
    assert book.read_bytes() == (out / "plan.xlsx").read_bytes()
    assert "tradeoffs" in openpyxl.load_workbook(book, read_only=True).sheetnames
    assert main(["plan", str(dataset), "--out", str(out), "--excel", str(book), "--no-report"]) == 0
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert "production" in sheets and "tradeoffs" not in sheets


def test_a_workbook_that_cannot_be_written_leaves_no_plan(
    dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A locked --excel target (Excel holds it open): the plan folder was written and
    the run ended "internal error: PermissionError", exit 1; now nothing is written."""
    import os

    real = os.replace

    def locked(src: object, dst: object) -> None:
        if str(dst).endswith("week.xlsx"):
            raise PermissionError(13, "Permission denied", str(dst))
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", locked)
    out = tmp_path / "plan"
    assert (
        main(["plan", str(dataset), "--out", str(out), "--excel", str(tmp_path / "week.xlsx")]) == 1
    )
    err = capsys.readouterr().err
    assert "cannot write the workbook" in err and "nothing was written" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_check_of_a_missing_plan_folder_is_bad_input(tmp_path: Path) -> None:
    code, out = run_cli(["check", str(DATA / "tiny"), str(tmp_path / "nowhere")])
    assert code == 2
    assert out.strip() == f"error: {tmp_path / 'nowhere'}: no such plan folder"


@pytest.mark.parametrize("name", ["plan", "orders.csv"])
def test_the_plan_folder_is_never_inside_the_dataset(
    dataset: Path, tmp_path: Path, name: str
) -> None:
    """``--out ds/orders.csv`` wrote a plan folder there, and the next load took the
    folder for no orders table (its demand gone without a word); ``--out ds/plan`` made
    every later load warn about it. Refused before solving, as ``--excel`` inside is."""
    before = sorted(p.name for p in dataset.iterdir())
    code, text = run_cli(["plan", str(dataset), "--out", str(dataset / name), "--no-report"])
    assert code == 2
    assert f"--out {dataset / name}: is inside the dataset folder; give a folder elsewhere" in text
    assert sorted(p.name for p in dataset.iterdir()) == before


def test_a_what_if_starts_from_an_earlier_plan_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--start PLAN``: the demo (a MILP) planned, then a what-if of it (the caps'
    line at 80% of its hours) from that plan's setups, as the solver log says; a
    folder that is no plan is bad input, and nothing is written."""
    import shutil

    first = tmp_path / "plan"
    assert main(["plan", str(DATA / "bodywash"), "--out", str(first), "--no-report"]) == 0
    what_if = tmp_path / "what-if"
    shutil.copytree(DATA / "bodywash", what_if)
    lines = (what_if / "lines.csv").read_text().splitlines()
    header = lines[0].split(",")
    hours = header.index("hours")
    rows = [r.split(",") for r in lines[1:]]
    for r in rows:
        r[hours] = str(float(r[hours]) * 0.8)
    (what_if / "lines.csv").write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n")
    capsys.readouterr()
    out = tmp_path / "what-if-plan"
    args = ["plan", str(what_if), "--out", str(out), "--no-report", "--verbose"]
    assert main([*args, "--start", str(first)]) == 0
    assert "first plan from the previous plan's setups" in capsys.readouterr().err
    assert (out / "summary.json").is_file()
    # not a plan folder: exit 2 before solving, the message names it, nothing written
    bad = tmp_path / "bad-plan"
    assert main([*args[:3], str(bad), "--no-report", "--start", str(what_if)]) == 2
    err = capsys.readouterr().err
    assert "--start" in err and "production.csv" in err and "Traceback" not in err
    assert not bad.exists()
