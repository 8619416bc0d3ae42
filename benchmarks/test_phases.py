"""Each phase of ``soe plan`` timed separately, end to end, and the PuLP baselines.

Phases: load + validate, build, solve, extract (tables and terms), verify, write; end
to end (load, build, solve, extract, verify, write: what ``soe plan --no-report``
does) in a fresh process, whose peak memory is recorded. The baselines read the same
folder and solve the same weighted model with PuLP (CBC, HiGHS); their build and
solve seconds are taken from the run itself.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from benchmarks.baseline_pulp import solve_baseline
from benchmarks.conftest import TIMES
from formulations.allocation import build
from optimizer import load_dataset
from optimizer.backends import SolveOptions, get_backend
from optimizer.heuristics import starting_basis
from optimizer.solve import RELAX_FIRST, clean, plan
from optimizer.verify import verify_plan

ROUNDS = {"s": 5, "m": 3, "l": 3, "xl": 1}
"""Timed rounds per phase but the solve (one round); the median is reported. Size l's
phases outside the solver take 0.05-0.4 s each, where one round on a shared 2-core
machine swings by a third."""
END_TO_END_ROUNDS = {"s": 5, "m": 5, "l": 1, "xl": 1}
"""Timed rounds of soe end to end and of each baseline (the same for both, after one
untimed warm-up round where there is more than one): a size m solve takes under a
second, so a single round is mostly noise on a shared 2-core machine."""


def _rounds(size: str) -> int:
    return ROUNDS.get(size, 1)


def _e2e_rounds(size: str, config: pytest.Config) -> tuple[int, int]:
    """(rounds, warm-up rounds) for end to end and the baselines; one round for the
    MILPs (``--setups``), which run to their time limit."""
    rounds = 1 if config.getoption("--setups") else END_TO_END_ROUNDS.get(size, 1)
    return rounds, 1 if rounds > 1 else 0


def _load(folder: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(folder)


def _phase(size: str, name: str, seconds: float) -> None:
    TIMES[(size, "phases")][name] = seconds


def test_load(benchmark: Any, size: str, dataset_dir: Path) -> None:
    benchmark.group = f"{size}: phases"
    ds = benchmark.pedantic(_load, args=(dataset_dir,), rounds=_rounds(size), iterations=1)
    assert len(ds.products)
    if benchmark.stats:
        _phase(size, "load", benchmark.stats.stats.median)


def test_build(benchmark: Any, size: str, dataset_dir: Path) -> None:
    benchmark.group = f"{size}: phases"
    ds = _load(dataset_dir)
    model = benchmark.pedantic(build, args=(ds,), rounds=_rounds(size), iterations=1)
    assert model.lp.num_cols > 0
    if benchmark.stats:
        _phase(size, "build", benchmark.stats.stats.median)


def _solve_options(model: Any, ds: Any, time_limit: float) -> SolveOptions:
    """As ``plan()`` solves an LP model: from the formulation's starting basis, the
    capacity rows relaxed in a first run."""
    return SolveOptions(
        time_limit=time_limit,
        mip_gap=ds.settings.solve.mip_gap,
        relax_first=() if model.lp.is_mip else RELAX_FIRST,
        crash=None if model.lp.is_mip else starting_basis(model),
    )


@pytest.fixture(scope="session")
def solved(size: str, dataset_dir: Path, time_limit: float) -> dict[str, Any]:
    """One solve of the built model, shared by the solve/extract/verify benchmarks."""
    ds = _load(dataset_dir)
    model = build(ds)
    started = time.perf_counter()
    solution = get_backend("highs").solve(model.lp, _solve_options(model, ds, time_limit))
    return {
        "dataset": ds,
        "model": model,
        "solution": solution,
        "seconds": time.perf_counter() - started,
    }


def test_solve(benchmark: Any, size: str, solved: dict[str, Any], time_limit: float) -> None:
    """The solver alone (HiGHS on the built model, without soe's MIP start), timed once:
    it dominates. End to end (below) is what a planner gets."""
    benchmark.group = f"{size}: phases"
    model = solved["model"]
    ds = solved["dataset"]

    def run() -> Any:
        return get_backend("highs").solve(model.lp, _solve_options(model, ds, time_limit))

    solution = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(status=solution.status.value, objective=solution.objective)
    if not solution.status.has_solution:
        pytest.skip(f"raw HiGHS found no plan in the time limit ({solution.status.value})")
    if benchmark.stats:
        _phase(size, "solve", benchmark.stats.stats.median)


def test_extract(benchmark: Any, size: str, solved: dict[str, Any]) -> None:
    benchmark.group = f"{size}: phases"
    model = solved["model"]
    values = solved["solution"].values
    if values is None:
        pytest.skip("no solution to extract (see test_solve)")

    def run() -> Any:
        v = clean(model.lp, values)
        return model.tables(v), model.objective_terms(v)

    tables, _ = benchmark.pedantic(run, rounds=_rounds(size), iterations=1)
    assert len(tables["inventory"])
    if benchmark.stats:
        _phase(size, "extract", benchmark.stats.stats.median)


@pytest.fixture(scope="session")
def planned(size: str, dataset_dir: Path) -> Any:
    ds = _load(dataset_dir)
    return ds, plan(ds, verify=False)


def test_verify(benchmark: Any, size: str, planned: Any) -> None:
    benchmark.group = f"{size}: phases"
    ds, result = planned
    violations = benchmark.pedantic(
        verify_plan, args=(ds, result), rounds=_rounds(size), iterations=1
    )
    assert violations == []
    if benchmark.stats:
        _phase(size, "verify", benchmark.stats.stats.median)


def test_write(benchmark: Any, size: str, planned: Any, tmp_path: Path) -> None:
    benchmark.group = f"{size}: phases"
    _, result = planned
    out = benchmark.pedantic(
        result.write, args=(tmp_path / "plan",), rounds=_rounds(size), iterations=1
    )
    assert (out / "summary.json").exists()
    if benchmark.stats:
        _phase(size, "write", benchmark.stats.stats.median)


_END_TO_END = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
started = time.perf_counter()
from optimizer.cli import main
code = main(["plan", sys.argv[1], "--out", sys.argv[2], "--no-report"])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak}))
"""


def test_end_to_end(
    benchmark: Any, size: str, dataset_dir: Path, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """``soe plan --no-report`` in this process (as the baseline runs): load, build,
    solve, verify, write. Each round's solver seconds (``summary.json``) are read after
    it, untimed, so that the run's own overhead is reported beside the phases': the
    round's wall time less its solver time, everything a planner waits for outside
    the solver (the console summary too)."""
    from optimizer.cli import main

    benchmark.group = f"{size}: end to end"
    out = tmp_path / "plan"
    rounds, warmup = _e2e_rounds(size, pytestconfig)
    solver: list[float] = []  # each round's solver seconds, read after it (not timed)

    def read_summary(args: list[str]) -> None:
        solver.append(json.loads((out / "summary.json").read_text())["solve_seconds"])

    started = time.perf_counter()
    code = benchmark.pedantic(
        main,
        args=(["plan", str(dataset_dir), "--out", str(out), "--no-report"],),
        teardown=read_summary,
        rounds=rounds,
        warmup_rounds=warmup,
        iterations=1,
    )
    seconds = time.perf_counter() - started
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    benchmark.extra_info.update(objective=summary["objective"], status=summary["status"])
    TIMES[(size, "soe")].update(
        seconds=benchmark.stats.stats.median if benchmark.stats else seconds,
        objective=summary["objective"],
        status=summary["status"],
        bound=summary["bound"],
        gap=summary["gap"],
        integers=summary["integer_variables"],
    )
    if benchmark.stats and len(solver) == warmup + rounds:
        walls = benchmark.stats.stats.data
        TIMES[(size, "soe")].update(
            outside=statistics.median(w - s for w, s in zip(walls, solver[warmup:], strict=True)),
            solver=statistics.median(solver[warmup:]),
        )


def test_end_to_end_with_reports(
    benchmark: Any, size: str, dataset_dir: Path, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """``soe plan`` as a planner runs it, reports included: the plan, then the trade-off
    analysis (its what-ifs are re-solves), ``tradeoffs.md``, ``report.html`` and
    ``plan.xlsx``. Timed for the table beside the plan alone; the baselines write no
    reports, so the ratios use ``--no-report``."""
    from optimizer.cli import main

    if pytestconfig.getoption("--setups"):
        pytest.skip("the reports' what-ifs of a MILP plan run to their own time limit")
    benchmark.group = f"{size}: end to end"
    out = tmp_path / "plan"
    rounds, warmup = _e2e_rounds(size, pytestconfig)
    code = benchmark.pedantic(
        main,
        args=(["plan", str(dataset_dir), "--out", str(out)],),
        rounds=rounds,
        warmup_rounds=warmup,
        iterations=1,
    )
    assert code == 0
    assert (out / "plan.xlsx").is_file() and (out / "report.html").is_file()
    if benchmark.stats:
        TIMES[(size, "soe-reports")]["seconds"] = benchmark.stats.stats.median


def test_peak_memory(size: str, dataset_dir: Path, tmp_path: Path) -> None:
    """Peak resident memory of ``soe plan --no-report`` in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", _END_TO_END, str(dataset_dir), str(tmp_path / "plan")],
        capture_output=True,
        text=True,
        check=False,
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["code"] == 0
    TIMES[(size, "soe")]["peak_mb"] = figures["peak_mb"]
    TIMES[(size, "soe")]["process_seconds"] = figures["seconds"]


FRESH_PROCESS_SIZES = ("s", "m")
"""Sizes also timed as fresh processes (``soe plan`` against ``python -m
benchmarks.baseline_pulp``), Python's start and imports included: what a planner
waits for at the command line. On l and xl the solve dwarfs them."""


def _time_fresh(
    benchmark: Any, size: str, config: pytest.Config, command: list[str], key: str
) -> None:
    """Time ``command`` as a new process (median of 3, sizes ``FRESH_PROCESS_SIZES``
    of the LP benchmarks only) into ``TIMES[(size, key)]``.

    The process runs as on a user's machine: with Python's bytecode cache, which the
    warm-up run writes where it is missing (``PYTHONDONTWRITEBYTECODE``, which some
    sandboxes set, is dropped: without the cache every run compiles soe's modules
    again, about 0.1 s, and the baseline's one module)."""
    if size not in FRESH_PROCESS_SIZES or config.getoption("--setups"):
        pytest.skip("fresh-process timings are taken on sizes s and m only")
    benchmark.group = f"{size}: fresh process"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = benchmark.pedantic(
        subprocess.run,
        args=(command,),
        kwargs={"capture_output": True, "env": env},
        rounds=3,
        warmup_rounds=1,
        iterations=1,
    )
    assert proc.returncode == 0, proc.stderr
    if benchmark.stats:
        TIMES[(size, key)]["seconds"] = benchmark.stats.stats.median


def test_fresh_process(
    benchmark: Any, size: str, dataset_dir: Path, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """``soe plan --no-report`` as a new process, timed from outside: Python's start,
    the imports (pandas, pydantic, highspy) and the plan."""
    command = [sys.executable, "-m", "optimizer.cli", "plan", str(dataset_dir)]
    command += ["--out", str(tmp_path / "plan"), "--no-report"]
    _time_fresh(benchmark, size, pytestconfig, command, "soe-process")


def test_fresh_process_baseline(
    benchmark: Any,
    size: str,
    baseline: str,
    dataset_dir: Path,
    time_limit: float,
    pytestconfig: pytest.Config,
) -> None:
    """The baseline's command line as a new process, timed the same way."""
    command = [sys.executable, "-m", "benchmarks.baseline_pulp", str(dataset_dir)]
    command += ["--solver", baseline, "--time-limit", str(time_limit)]
    _time_fresh(benchmark, size, pytestconfig, command, f"baseline-{baseline}-process")


def test_baseline(
    benchmark: Any,
    size: str,
    baseline: str,
    dataset_dir: Path,
    time_limit: float,
    pytestconfig: pytest.Config,
) -> None:
    """What an analyst would write by hand: read with pandas, model in PuLP, solve."""
    benchmark.group = f"{size}: end to end"
    rounds, warmup = _e2e_rounds(size, pytestconfig)
    started = time.perf_counter()
    result = benchmark.pedantic(
        solve_baseline,
        args=(dataset_dir,),
        kwargs={"solver": baseline, "time_limit": time_limit},
        rounds=rounds,
        warmup_rounds=warmup,
        iterations=1,
    )
    benchmark.extra_info.update(status=result.status, objective=result.objective)
    TIMES[(size, f"baseline-{baseline}")] = {
        "seconds": benchmark.stats.stats.median
        if benchmark.stats
        else time.perf_counter() - started,
        "objective": result.objective,
        "status": result.status,
        "solve_seconds": result.solve_seconds,  # the solver alone (the last round)
    }
