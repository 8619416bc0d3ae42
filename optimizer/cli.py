"""The ``soe`` command line.

Exit status: 0 a plan was written (or the check passed), 1 no plan (the solver found
none, or the plan failed verification), 2 invalid input (dataset, settings, options,
or a solver that is not installed). Errors are printed without a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from pydantic import ValidationError

from optimizer.exceptions import (
    BackendUnavailable,
    DatasetError,
    SoeError,
    VerificationError,
)

if TYPE_CHECKING:
    from optimizer.results import Summary
    from optimizer.settings import Settings

EXIT_OK, EXIT_NO_PLAN, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="soe",
        description="Weekly production prioritization for S&OE: plan, check and report.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a dataset and summarise it")
    v.add_argument("dataset", type=Path, help="folder of CSV files or an .xlsx workbook")

    pl = sub.add_parser("plan", help="solve the allocation and write the plan folder")
    pl.add_argument("dataset", type=Path, help="folder of CSV files or an .xlsx workbook")
    pl.add_argument("--out", type=Path, required=True, help="plan folder to write")
    pl.add_argument("--solver", choices=["highs", "cbc", "scip"])
    pl.add_argument("--time-limit", type=float, metavar="S", help="seconds for the whole plan")
    pl.add_argument("--gap", type=float, metavar="G", help="relative MIP gap, e.g. 0.005")
    pl.add_argument("--threads", type=int, metavar="N", help="solver threads (0 = default)")
    pl.add_argument("--mode", choices=["weighted", "lexicographic"])
    pl.add_argument("--verbose", action="store_true", help="stream the solver log")
    pl.add_argument("--excel", type=Path, metavar="XLSX", help="also write one workbook")
    pl.add_argument("--no-report", action="store_true", help="write the plan tables only")
    pl.add_argument(
        "--start",
        type=Path,
        metavar="PLAN",
        help="an earlier plan folder this dataset is a what-if of: a MILP's search starts"
        " from its setups (an LP solves as without it)",
    )

    c = sub.add_parser("check", help="verify a plan folder against its dataset")
    c.add_argument("dataset", type=Path)
    c.add_argument("plan", type=Path)

    r = sub.add_parser("report", help="write the S&OP trade-off report for an existing plan")
    r.add_argument("dataset", type=Path)
    r.add_argument("plan", type=Path)
    r.add_argument("--out", type=Path, required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        with _terminate_as_interrupt(), _reader_may_leave():
            if args.command == "validate":
                return _validate(args)
            if args.command == "plan":
                return _plan(args)
            if args.command == "check":
                return _check(args)
            return _report(args)
    except DatasetError as exc:
        _err(str(exc))
        return EXIT_INVALID
    except BackendUnavailable as exc:
        _err(f"error: {exc}")
        return EXIT_INVALID
    except VerificationError as exc:
        _err(f"error: {exc}\nnothing was written.")
        return EXIT_NO_PLAN
    except SoeError as exc:
        _err(f"error: {exc}")
        return EXIT_NO_PLAN
    except KeyboardInterrupt:
        _err("interrupted; nothing was written.")
        return EXIT_NO_PLAN
    except Exception as exc:  # the last line of defence: no traceback for a planner
        if args.debug:
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return EXIT_NO_PLAN


def console_main() -> NoReturn:
    """The ``soe`` command: :func:`main`, then a quick exit.

    After :func:`main` returns, the command's work is done: the plan folder is written
    and in place, every file closed. Python's own shutdown would still take apart every
    module and object one by one (pandas, HiGHS, the plan's frames): 0.1-0.2 s after a
    size-m plan, a tenth of the whole command. So the output and the log are flushed
    and the process ends at once with :func:`main`'s status. Callers of :func:`main`
    (tests, the library) keep Python's normal shutdown."""
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that left; closed
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``timeout``, a scheduler, a service stop) ends the command as Ctrl-C
    does: the plan folder being written is removed, nothing half-written is left."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _reader_may_leave() -> Iterator[None]:
    """A reader that stops early (``soe validate DS | head -1``) is not an error of
    ours: output to the closed pipe is dropped and the command ends with its own
    status (it was "internal error: BrokenPipeError", exit 1)."""
    stdout = sys.stdout
    sys.stdout = _PipeSafe(stdout)
    try:
        yield
    finally:
        sys.stdout = stdout


class _PipeSafe(io.TextIOBase):
    """``stream`` that stops writing once its reader has gone."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._gone = True
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone = True

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _load(path: Path) -> Any:
    import warnings

    from optimizer.dataset import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CLI prints dataset.warnings itself
        return load_dataset(path)


def _print_warnings(dataset: Any) -> None:
    for w in dataset.warnings:
        print(f"warning: {w}")


def _validate(args: argparse.Namespace) -> int:
    from optimizer.reports.text import dataset_summary

    dataset = _load(args.dataset)
    print(dataset_summary(dataset))
    _print_warnings(dataset)
    return EXIT_OK


def _no_plan_hint(summary: Summary, settings: Settings) -> str:
    """What to do when the solver ended without a plan."""
    if summary.status == "infeasible":
        other = "cbc" if settings.solve.solver == "highs" else "highs"
        return (
            " A valid dataset always has a plan (MODEL.md), so this is numerical trouble"
            f" in {settings.solve.solver} (numbers near the limits of docs/dataset.md);"
            f" try --solver {other}."
        )
    if summary.status != "no_solution" or summary.limit != "time":
        return ""
    what = (
        "an LP's simplex has no plan to give before its optimum"
        if not summary.integer_variables
        else "no plan was found in that time"
    )
    return (
        f" The time limit ({settings.solve.time_limit_s:g} s) stopped the solve: {what}."
        " Give more time (--time-limit, or solve.time_limit_s in settings.toml)."
    )


def _plan(args: argparse.Namespace) -> int:
    from optimizer.reports.text import plan_summary
    from optimizer.solve import plan

    dataset = _load(args.dataset)
    try:
        settings = dataset.settings.with_overrides(
            solve__solver=args.solver,
            solve__time_limit_s=args.time_limit,
            solve__mip_gap=args.gap,
            solve__threads=args.threads,
            priority__mode=args.mode,
        )
    except ValidationError as exc:
        for e in exc.errors():
            option = _OPTIONS.get(str(e["loc"][-1]), ".".join(map(str, e["loc"])))
            _err(f"error: {option}: {e['msg'].lower()}, got {e.get('input')!r}")
        return EXIT_INVALID
    for path, option in ((args.out, "--out"), (args.excel, "--excel")):
        if path is not None and (
            problem := _unwritable(
                path, folder=option == "--out", dataset=args.dataset, out=args.out
            )
        ):
            _err(f"error: {option} {path}: {problem}")
            return EXIT_INVALID
    previous = None
    if args.start is not None:
        from optimizer.reports import read_plan

        try:
            previous = read_plan(args.start)
        except SoeError as exc:  # names the folder and the file it lacks
            _err(f"error: --start: {exc}")
            return EXIT_INVALID
        except (OSError, ValueError, KeyError) as exc:
            _err(f"error: --start {args.start}: cannot be read as a plan folder ({exc})")
            return EXIT_INVALID
    _print_warnings(dataset)
    s = settings.solve
    print(
        f"solving {dataset.name} with {s.solver} ({settings.priority.mode} mode, "
        f"time limit {s.time_limit_s:g} s, gap {s.mip_gap:.2%})...",
        file=sys.stderr,
        flush=True,
    )

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    result = plan(
        dataset,
        settings,
        log=say if args.verbose else None,
        progress=None if args.verbose else say,
        start=previous,
    )
    if not result.has_solution:
        print(plan_summary(dataset, result))
        _err(
            f"no plan: the solver ended '{result.summary.status}'"
            + (f" ({result.summary.message})" if result.summary.message else "")
            + "; nothing was written."
            + _no_plan_hint(result.summary, settings)
        )
        return EXIT_NO_PLAN
    dataset = dataset.replace(settings=settings)  # the what-ifs re-solve with the same options

    report_step = _report_steps(started, REPORT_PROGRESS_AFTER)

    def extra(folder: Path) -> None:
        """The reports, then the --excel workbook, inside the plan folder's atomic step:
        a workbook that cannot be written leaves no plan folder either."""
        if not args.no_report:
            from optimizer.reports import write_reports

            write_reports(dataset, result, folder, progress=report_step)
        if args.excel:
            try:
                _write_workbook(result, folder / "plan.xlsx", args.excel)
            except OSError as exc:
                raise _WorkbookError(exc) from exc

    try:
        out = result.write(args.out, extra=extra)
    except _WorkbookError as exc:
        _err(f"error: cannot write the workbook {args.excel}: {exc}; nothing was written.")
        return EXIT_NO_PLAN
    except OSError as exc:
        _err(f"error: cannot write the plan folder {args.out}: {exc}; nothing was written.")
        return EXIT_NO_PLAN
    print(plan_summary(dataset, result))
    print(f"plan written to {out} ({time.perf_counter() - started:.1f} s)")
    return EXIT_OK


REPORT_PROGRESS_AFTER = 3.0
"""Seconds into ``soe plan`` after which the reports' steps are said as they start (the
demo's reports take a second; a 1,000-product plan's, several). ``soe report``, which
does nothing else, says them all."""


def _report_steps(started: float, after: float) -> Callable[[str], None]:
    """Says a step of the reports on stderr, with the seconds since ``started``, once
    the command has run ``after`` seconds."""

    def step(line: str) -> None:
        elapsed = time.perf_counter() - started
        if elapsed >= after:
            print(f"  {elapsed:6.1f} s  {line}", file=sys.stderr, flush=True)

    return step


class _WorkbookError(OSError):
    """The --excel workbook could not be written."""


def _write_workbook(result: Any, report: Path, target: Path) -> None:
    """``target``: a copy of the plan folder's ``plan.xlsx`` (``report``, with the
    trade-off sheets) when the reports were written, else the plan tables' workbook;
    through a temporary file beside it, so a failed copy leaves the old one."""
    if not report.is_file():
        result.to_excel(target)
        return
    from optimizer.reports.excel import write_beside

    write_beside(target, lambda tmp: shutil.copyfile(report, tmp))


_OPTIONS = {
    "solver": "--solver",
    "time_limit_s": "--time-limit",
    "mip_gap": "--gap",
    "threads": "--threads",
    "mode": "--mode",
}
"""The command-line option behind each overridable setting, for error messages."""


def _unwritable(
    path: Path,
    folder: bool,
    dataset: Path,
    out: Path | None = None,
    *,
    replaces: Callable[[Path], str | None] | None = None,
    writes: str = "plan",
) -> str | None:
    """Why ``path`` cannot be written (a plan or report folder, or the workbook), or
    ``None``; never over the ``dataset`` or a folder holding it, never inside the
    dataset folder, nor over a folder that ``replaces`` (default: a plan folder's
    :func:`~optimizer.results.replace_problem`) must not replace (``writes``, a plan or
    a report, replaces its folder as a whole); a workbook never inside the plan folder
    ``out``, and only as an ``.xlsx``."""
    from optimizer.results import replace_problem

    target, source = path.resolve(), dataset.resolve()
    if target == source or (folder and target in source.parents):
        return f"{'is' if target == source else 'holds'} the dataset; give another " + (
            f"folder (the {writes} replaces it as a whole)" if folder else "file"
        )
    if source.is_dir() and source in target.parents:
        # a plan folder there is read with the dataset next time: as an unknown file, or
        # named orders.csv, as a table that is a folder
        return f"is inside the dataset folder; give a {'folder' if folder else 'file'} elsewhere"
    if not folder and out is not None and out.resolve() in target.parents:
        return (
            "is inside the plan folder, which is replaced as a whole (it holds plan.xlsx"
            " already); give a file elsewhere"
        )
    if not folder and target.suffix.lower() != ".xlsx":
        return "is not an .xlsx file name; give one ending in .xlsx"
    if path.exists() and path.is_dir() != folder:
        return "is a folder" if path.is_dir() else "is a file, not a folder"
    if folder and (problem := (replaces or replace_problem)(target)):
        return problem
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a folder"
    return None


def _no_plan_folder(path: Path) -> str | None:
    """Why ``path`` given as a plan folder is not one, or ``None``."""
    if path.is_dir():
        return None
    return "is a file, not a plan folder" if path.exists() else "no such plan folder"


def _check(args: argparse.Namespace) -> int:
    from optimizer.exceptions import NOT_CHECKED
    from optimizer.verify import verify_folder

    dataset = _load(args.dataset)
    if missing := _no_plan_folder(args.plan):  # input that is not there, not a broken plan
        _err(f"error: {args.plan}: {missing}")
        return EXIT_INVALID
    violations = verify_folder(dataset, args.plan)
    if violations:
        n = len(violations)
        if violations[-1] == NOT_CHECKED:
            print(f"the plan cannot be checked against {dataset.name}:")
        else:
            print(f"the plan breaks {n} constraint{'s' if n != 1 else ''}:")
        for v in violations:
            print(f"  - {v}")
        return EXIT_NO_PLAN
    print(f"{args.plan}: the plan holds every constraint of the model")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from optimizer.reports import report_folder_problem, report_from_folder

    started = time.perf_counter()
    dataset = _load(args.dataset)
    if missing := _no_plan_folder(args.plan):
        _err(f"error: {args.plan}: {missing}; no report was written.")
        return EXIT_INVALID
    # the guards of soe plan --out, but an earlier report's folder may be replaced, and
    # the plan folder itself takes the reports beside its tables
    if problem := _unwritable(
        args.out,
        folder=True,
        dataset=args.dataset,
        replaces=lambda target: report_folder_problem(target, args.plan),
        writes="report",
    ):
        _err(f"error: --out {args.out}: {problem}")
        return EXIT_INVALID
    try:
        out = report_from_folder(dataset, args.plan, args.out, progress=_report_steps(started, 0.0))
    except VerificationError as exc:  # the plan folder is the bad input here
        _err(f"error: {args.plan}: {exc}\nno report was written (see soe check).")
        return EXIT_INVALID
    except OSError as exc:
        _err(f"error: cannot write the report folder {args.out}: {exc}; nothing was written.")
        return EXIT_NO_PLAN
    print(f"report written to {out}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    console_main()
