"""Solver trouble: no plan in time, a backend not installed, a solver that crashes.

``soe plan`` answers each with a clear message and its documented exit status (1 no
plan, 2 a solver that is not installed), writes nothing and leaves an existing plan
folder as it was. A time limit that stops a MILP after it found a plan gives that plan,
``feasible``, with its gap. The last tests are regressions for backend defects found
while writing these.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.generate import generate
from formulations.allocation import build
from optimizer.backends import (
    BACKENDS,
    Limit,
    Solution,
    SolveStatus,
    available,
    get_backend,
)
from optimizer.backends.cbc import CbcBackend
from optimizer.backends.highs import HighsBackend
from optimizer.backends.scip import ScipBackend
from optimizer.dataset import Dataset, load_dataset
from optimizer.exceptions import BackendUnavailable
from optimizer.solve import plan
from optimizer.verify import verify_folder, verify_plan
from tests.conftest import DATA, run_cli

CLASSES = {"highs": HighsBackend, "cbc": CbcBackend, "scip": ScipBackend}

needs = {
    name: pytest.mark.skipif(name not in available(), reason=f"{name} not installed")
    for name in BACKENDS
}


@pytest.fixture(scope="module")
def milp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated MILP (20 products, 3 lines, 8 weeks, setups and minimum lots) that
    no solver proves optimal within a second."""
    return generate("s", seed=1, out=tmp_path_factory.mktemp("milp") / "s1", setups=True)


@pytest.fixture(scope="module")
def big_milp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 products, 8 lines, 13 weeks with setups: 4,823 binaries."""
    return generate("m", seed=1, out=tmp_path_factory.mktemp("milp") / "m1", setups=True)


@pytest.fixture
def existing(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """An output folder holding an earlier plan; yields a check that it is untouched and
    that no temporary folder is left beside it."""
    out = tmp_path / "out" / "plan"
    code, text = run_cli(["plan", str(DATA / "tiny"), "--out", str(out), "--no-report"])
    assert code == 0, text
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def untouched() -> None:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert [p.name for p in out.parent.iterdir()] == ["plan"]

    yield untouched


def _plan_into_existing(tmp_path: Path, dataset: Path, *options: str) -> tuple[int, str]:
    out = tmp_path / "out" / "plan"
    return run_cli(["plan", str(dataset), "--out", str(out), "--no-report", *options])


# --------------------------------------------------------------------------- no plan in time


@needs["scip"]
def test_time_limit_without_a_plan(
    tmp_path: Path, big_milp: Path, existing: Callable[[], None]
) -> None:
    """SCIP given 1 ms for 4,823 binaries stops before any plan (no warm start)."""
    code, text = _plan_into_existing(tmp_path, big_milp, "--solver", "scip", "--time-limit", "1e-3")
    assert code == 1
    assert "status     no_solution (time limit)" in text
    assert "no plan: the solver ended 'no_solution'; nothing was written." in text
    assert "The time limit (0.001 s) stopped the solve: no plan was found in that time." in text
    assert "Traceback" not in text
    existing()


def test_an_lp_stopped_by_its_time_limit_says_what_to_do(
    tmp_path: Path, existing: Callable[[], None]
) -> None:
    """HiGHS's dual simplex has no plan before its optimum: 10 ms for generated m (which
    needs some 2,000 iterations) ends without one, and the message says to give time."""
    lp = generate("m", seed=1, out=tmp_path / "m1")
    code, text = _plan_into_existing(tmp_path, lp, "--time-limit", "0.01")
    assert code == 1
    assert "status     no_solution (time limit)" in text
    assert "an LP's simplex has no plan to give before its optimum" in text
    assert "Give more time (--time-limit, or solve.time_limit_s in settings.toml)." in text
    existing()


@pytest.mark.parametrize("solver", available())
def test_no_solution_from_any_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: Callable[[], None], solver: str
) -> None:
    """Whatever the backend, a solve stopped by its limit without a plan is exit 1."""
    monkeypatch.setattr(
        CLASSES[solver], "solve", lambda *_: Solution(SolveStatus.NO_SOLUTION, Limit.TIME)
    )
    code, text = _plan_into_existing(tmp_path, DATA / "tiny", "--solver", solver)
    assert code == 1
    assert "no plan: the solver ended 'no_solution'; nothing was written." in text
    existing()


def test_time_limit_with_a_plan(tmp_path: Path, milp: Path) -> None:
    """Stopped by --time-limit after finding plans: the best one, ``feasible``, its gap."""
    out = tmp_path / "plan"
    code, text = run_cli(
        ["plan", str(milp), "--out", str(out), "--time-limit", "0.5", "--gap", "0", "--no-report"]
    )
    assert code == 0, text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "feasible"
    assert summary["limit"] == "time"
    assert summary["gap"] > 0 and summary["bound"] < summary["objective"]
    assert f"status     feasible, gap {summary['gap']:.2%}" in text
    assert "(stopped by the time limit)" in text
    assert verify_folder(load_dataset(milp), out) == []


# --------------------------------------------------------------------------- not installed

_BLOCK = {
    "highs": (["highspy"], "pip install highspy"),
    "cbc": (["pulp", "pulp.apis", "pulp.apis.coin_api"], "pip install pulp"),
    "scip": (["ortools.linear_solver.python"], "pip install ortools"),
}


@pytest.mark.parametrize("solver", BACKENDS)
def test_backend_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: Callable[[], None], solver: str
) -> None:
    """A backend whose package cannot be imported says what to install: exit 2."""
    modules, hint = _BLOCK[solver]
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # ``import`` now raises ImportError
    with pytest.raises(BackendUnavailable, match=hint):
        get_backend(solver)
    assert solver not in available()
    code, text = _plan_into_existing(tmp_path, DATA / "tiny", "--solver", solver)
    assert code == 2
    assert f"error: the {solver} backend needs" in text and hint in text
    assert "Traceback" not in text
    existing()


def test_cbc_binary_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulp.apis import coin_api

    monkeypatch.setattr(coin_api, "pulp_cbc_path", "/nowhere/cbc", raising=False)
    monkeypatch.setattr(coin_api.COIN_CMD, "path", None, raising=False)
    monkeypatch.setattr(coin_api.COIN_CMD, "__init__", lambda self, *a, **k: None)
    with pytest.raises(BackendUnavailable, match=r"pip install 'pulp\[cbc\]'"):
        get_backend("cbc")


def test_unknown_backend_name() -> None:
    with pytest.raises(BackendUnavailable, match="choose one of highs, cbc, scip"):
        get_backend("gurobi")


# --------------------------------------------------------------------------- crashes


def test_solver_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: Callable[[], None]
) -> None:
    """An exception inside the solver: exit 1, one line naming it, no traceback."""

    def crash(*_: object) -> Solution:
        raise RuntimeError("HiGHS: segmentation fault in presolve")

    monkeypatch.setattr(HighsBackend, "solve", crash)
    code, text = _plan_into_existing(tmp_path, DATA / "tiny")
    assert code == 1
    assert "RuntimeError: HiGHS: segmentation fault in presolve" in text
    assert "Traceback" not in text
    existing()


@pytest.mark.parametrize("solver", available())
def test_solver_reports_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: Callable[[], None], solver: str
) -> None:
    monkeypatch.setattr(
        CLASSES[solver],
        "solve",
        lambda *_: Solution(SolveStatus.ERROR, message=f"{solver}: out of memory"),
    )
    code, text = _plan_into_existing(tmp_path, DATA / "tiny", "--solver", solver)
    assert code == 1
    assert f"no plan: the solver ended 'error' ({solver}: out of memory); nothing was written." in (
        text
    )
    existing()


@needs["cbc"]
def test_cbc_process_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: Callable[[], None]
) -> None:
    """The CBC binary killed by a signal mid-solve: its exit status is in the message."""
    binary = tmp_path / "cbc"
    binary.write_text("#!/bin/sh\necho 'Welcome to the CBC MILP Solver'\nkill -SEGV $$\n")
    binary.chmod(0o755)
    monkeypatch.setattr("optimizer.backends.cbc.cbc_path", lambda: str(binary))
    code, text = _plan_into_existing(tmp_path, DATA / "tiny", "--solver", "cbc")
    assert code == 1
    assert "no plan: the solver ended 'error' (CBC failed (exit -11)" in text
    assert "Traceback" not in text
    existing()


# --------------------------------------------------------------------------- regressions


@needs["cbc"]
def test_cbc_reads_and_returns_a_larger_milp(milp: Path) -> None:
    """Two CBC defects. The free MPS file was read as fixed format wherever a line fit
    its columns (`` LO BND C320 0.0``: bound set ``BND C320``, column ``0.0``), so every
    MILP whose first bounded column was C100..C999 ended 'error: Current model not
    valid'. And CBC's text solution has 8 significant digits, which broke stock
    balances by 1e-5 and failed verification; values now come from its binary file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset(milp)
    result = plan(ds, ds.settings.with_overrides(solve__solver="cbc", solve__time_limit_s=2))
    assert result.summary.status in ("optimal", "feasible")
    assert verify_plan(ds, result) == []


def _two_week_case() -> Dataset:
    """Tier 1 served in full, P0 partly late at no cost."""
    return Dataset.from_frames(
        periods=pd.DataFrame({"period": ["W1", "W2"], "start": ["2026-11-30", "2026-12-07"]}),
        products=pd.DataFrame(
            {"product": ["P0", "P1"], "shortage_cost": [2.0, 2.0], "lateness_cost": [0.0, 0.5]}
        ),
        lines=pd.DataFrame({"line": ["L0"], "hours": [8.0]}),
        routings=pd.DataFrame({"product": ["P0", "P1"], "line": ["L0", "L0"], "rate": [5.0, 5.0]}),
        forecast=pd.DataFrame(
            {"product": ["P0", "P1"], "period": ["W1", "W1"], "quantity": [40.0, 10.0]}
        ),
        settings={
            "solve": {"solver": "scip", "mip_gap": 0},
            "demand": {"max_lateness": 1},
            "priority": {"mode": "lexicographic"},
        },
    )


def _two_tier_case(rate: float) -> Dataset:
    """Tiers 1 and 2 served in full; a minimum lot makes it a MILP."""
    weeks = ["W1", "W2", "W3", "W4"]
    return Dataset.from_frames(
        periods=pd.DataFrame(
            {"period": weeks, "start": ["2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"]}
        ),
        products=pd.DataFrame(
            {
                "product": ["P0", "P1"],
                "initial_inventory": [10.0, 10.0],
                "holding_cost": [0.0, 0.1],
                "shortage_cost": [2.0, 5.0],
            }
        ),
        lines=pd.DataFrame({"line": ["L0"], "hours": [8.0], "overtime_hours": [2.0]}),
        line_calendar=pd.DataFrame({"line": ["L0"], "period": ["W4"], "hours": [0.0]}),
        routings=pd.DataFrame(
            {
                "product": ["P0", "P1"],
                "line": ["L0", "L0"],
                "rate": [rate, 5.0],
                "min_lot": [0.0, 15.0],
            }
        ),
        forecast=pd.DataFrame(
            {"product": ["P0", "P0", "P1"], "period": ["W1", "W4", "W3"], "quantity": [40, 25, 60]}
        ),
        orders=pd.DataFrame(
            {
                "order": ["O0", "O1", "O2", "O3"],
                "product": ["P1", "P1", "P1", "P0"],
                "period": ["W1", "W1", "W1", "W2"],
                "quantity": [5.0, 5.0, 20.0, 5.0],
                "priority": [np.nan, np.nan, 2.0, np.nan],
            }
        ),
        settings={"solve": {"solver": "scip", "mip_gap": 0}, "priority": {"mode": "lexicographic"}},
    )


@needs["scip"]
@pytest.mark.parametrize(
    ("case", "objective"),
    [
        (_two_week_case, 0.0),
        (lambda: _two_tier_case(10.0), 1.5),
        (lambda: _two_tier_case(5.0), 1.5),
    ],
    ids=["presolve", "negative tier result", "demand rows off"],
)
def test_scip_lexicographic_after_a_tier_served_in_full(
    case: Callable[[], Dataset], objective: float
) -> None:
    """Found by the solver-agreement property: once a tier is served in full its limit
    row is ``U_k <= 1e-6``, at SCIP's default feasibility tolerance. SCIP's presolve then
    called the next stage infeasible (the plan came back 'feasible' with "a lexicographic
    stage found no plan"), or returned ``U_2 = -3.5e-6``, which made the final stage
    infeasible, or shipments 2.5e-6 off the demand rows, which failed verification."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = case()
    result = plan(ds, verify=False)
    assert [s["status"] for s in result.summary.stages] == ["optimal"] * len(result.summary.stages)
    assert result.summary.status == "optimal"
    assert verify_plan(ds, result) == []
    assert result.summary.objective == pytest.approx(objective, abs=1e-6)


def test_lexicographic_final_stage_without_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The final stage of a lexicographic LP stopped by the time limit without a plan
    (simulated): the tier stages' plan is a valid plan and should be returned as such."""
    ds = Dataset.from_frames(
        periods=pd.DataFrame({"period": ["W1", "W2"], "start": ["2026-11-30", "2026-12-07"]}),
        products=pd.DataFrame(
            {
                "product": ["A", "B"],
                "priority": [1, 2],
                "shortage_cost": [5.0, 5.0],
                "safety_stock": [10.0, 10.0],
                "safety_stock_cost": [1.0, 1.0],
                "initial_inventory": [20.0, 20.0],
                "holding_cost": [0.1, 0.1],
            }
        ),
        lines=pd.DataFrame(
            {"line": ["L1"], "hours": [0.0], "overtime_hours": [2.0], "overtime_cost": [1.0]}
        ),
        routings=pd.DataFrame({"product": ["A", "B"], "line": ["L1", "L1"], "rate": [10.0, 10.0]}),
        forecast=pd.DataFrame(
            {"product": ["A", "A", "B", "B"], "period": ["W1", "W2"] * 2, "quantity": [10.0] * 4}
        ),
        settings={"priority": {"mode": "lexicographic"}},
    )
    solve = HighsBackend.solve
    calls: list[int] = []

    def final_stage_times_out(self: HighsBackend, model: object, options: object) -> Solution:
        calls.append(1)
        if len(calls) == 3:  # tier 1, tier 2, final
            return Solution(SolveStatus.NO_SOLUTION, Limit.TIME)
        return solve(self, model, options)  # type: ignore[arg-type]

    monkeypatch.setattr(HighsBackend, "solve", final_stage_times_out)
    result = plan(ds, verify=False)
    assert [st["stage"] for st in result.summary.stages] == ["tier 1", "tier 2", "final"]
    assert (result.summary.status, result.summary.limit) == ("feasible", "time")
    assert verify_plan(ds, result) == []


def test_highs_lexicographic_milp_after_a_tier_served_in_full(tmp_path: Path) -> None:
    """Found by a tester: on generated s with setups (seed 1) tier 1 is served in full,
    and with its limit as a row ``U_1 <= 1e-6`` HiGHS's MIP presolve proved a tier-2
    optimum of 1,136,245 (CBC and SCIP: 0; HiGHS without presolve: 0), so the plan gave up
    half of tiers 2 and 3 and called it optimal. A tier that loses nothing now has its
    loss columns fixed at 0 instead."""
    ds = load_dataset(generate("s", seed=1, out=tmp_path / "s1", setups=True))
    result = plan(ds, ds.settings.with_overrides(priority__mode="lexicographic"))
    stages = {s["stage"]: s for s in result.summary.stages}
    assert stages["tier 1"]["objective"] == pytest.approx(0.0, abs=1e-6)
    assert stages["tier 2"]["status"] == "optimal"
    assert stages["tier 2"]["objective"] == pytest.approx(0.0, abs=1e-3)
    assert result.summary.fill_rate["2"] > 0.99


def test_lexicographic_says_the_time_limit_stopped_it() -> None:
    """A stage cut short by the time limit: the plan's ``limit`` is ``time``, as in
    weighted mode (it was the last finished stage's, None)."""
    ds = load_dataset(DATA / "bodywash")
    settings = ds.settings.with_overrides(
        solve__solver="cbc", solve__time_limit_s=0.001, priority__mode="lexicographic"
    )
    summary = plan(ds, settings).summary
    assert (summary.status, summary.limit) == ("no_solution", "time")


def test_shortage_prices_at_the_limit_solve_with_highs() -> None:
    """Found by a tester: shortage prices of 1e12 (the documented limit; here from a
    shortage cost of 1e4 and nine tiers) made HiGHS's staged solve fail ("dual simplex
    ratio test failed due to excessive dual values": status error); the LP is solved
    again from HiGHS's own start."""
    ds = Dataset.from_frames(
        periods=pd.DataFrame({"period": ["W1", "W2"], "start": ["2026-11-30", "2026-12-07"]}),
        products=pd.DataFrame(
            {"product": ["A", "B", "C"], "shortage_cost": [1e4] * 3, "priority": [1, 1, 9]}
        ),
        lines=pd.DataFrame({"line": ["L1"], "hours": [10.0]}),
        routings=pd.DataFrame({"product": ["A", "B", "C"], "line": ["L1"] * 3, "rate": [10.0] * 3}),
        forecast=pd.DataFrame(
            {"product": ["A", "B", "C"], "period": ["W1", "W2", "W2"], "quantity": [200, 200, 50]}
        ),
    )
    summary = plan(ds).summary
    assert summary.status == "optimal", summary.message
    # the line makes 100 a week: 100 of A and of B short at 1e12 each, all of C at 1e4
    assert summary.objective == pytest.approx(200 * 1e12 + 50 * 1e4, rel=1e-12)


@pytest.mark.parametrize(
    ("seconds", "status", "limit"),
    [(0.05, SolveStatus.NO_SOLUTION, Limit.TIME), (0.01, SolveStatus.INFEASIBLE, None)],
)
def test_cbc_infeasible_at_the_time_limit_is_no_plan_in_time(
    seconds: float, status: SolveStatus, limit: Limit | None
) -> None:
    """Found by a tester: CBC's preprocessing, cut short by the time limit, says
    "infeasible or unbounded" of a MILP with plans (generated s with setups, seed 3, at
    0.04 s) and writes "Integer infeasible": that is no plan in time. Before the limit,
    infeasible stays infeasible."""
    from optimizer.backends.cbc import _read_solution

    model = build(load_dataset(DATA / "tiny")).lp
    text = "Integer infeasible - objective value 0.00000000\n"
    log = "Pre-processing says infeasible or unbounded\n"
    solution = _read_solution(model, text, log, seconds, None, time_limit=0.04)
    assert (solution.status, solution.limit) == (status, limit)


def test_highs_keeping_a_start_it_did_not_prove_is_solved_again() -> None:
    """Found by a tester: a frozen fence below a minimum lot (W1 capped at 5 < 6, W2 at
    0). Given soe's start (460), HiGHS valued it at 300 in its presolved space, ended
    "optimal" and handed back the start itself: objective 460, bound 300, status
    optimal. By hand: W2's 15 short at 20 = 300, 8 made in W3 and 15 in W4."""
    ds = Dataset.from_frames(
        periods=pd.DataFrame(
            {
                "period": ["W1", "W2", "W3", "W4"],
                "start": ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"],
            }
        ),
        products=pd.DataFrame(
            {
                "product": ["B"],
                "shortage_cost": [20.0],
                "max_inventory": [4.0],
                "holding_cost": [0.6],
            }
        ),
        lines=pd.DataFrame({"line": ["L1"], "hours": [20.0]}),
        routings=pd.DataFrame({"product": ["B"], "line": ["L1"], "rate": [2.0], "min_lot": [6.0]}),
        forecast=pd.DataFrame(
            {"product": ["B"] * 3, "period": ["W2", "W3", "W4"], "quantity": [15.0, 8.0, 15.0]}
        ),
        previous_plan=pd.DataFrame(
            {"product": ["B"], "line": ["L1"], "period": ["W1"], "quantity": [5.0]}
        ),
        settings={"stability": {"frozen_periods": 2}, "solve": {"threads": 1}},
    )
    summary = plan(ds).summary
    assert summary.status == "optimal"
    assert summary.objective == pytest.approx(300.0, abs=1e-6)
    assert summary.gap <= ds.settings.solve.mip_gap


def test_cbc_is_stopped_when_its_log_reader_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception while CBC's log is read (Ctrl-C, SIGTERM, a failing callback) kills
    the CBC process and closes its pipe instead of leaving both behind."""
    import subprocess

    from optimizer.backends.base import SolveOptions

    started: list[subprocess.Popen[str]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)

    def log(line: str) -> None:
        raise KeyboardInterrupt

    model = build(load_dataset(DATA / "bodywash")).lp
    with pytest.raises(KeyboardInterrupt):
        CbcBackend().solve(model, SolveOptions(time_limit=60, log=log))
    (proc,) = started
    assert proc.returncode is not None and proc.stdout is not None and proc.stdout.closed
