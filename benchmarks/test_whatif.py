"""What-if re-solves, cold and from the plan's basis, side by side in one run.

Every what-if a planner asks is a solve: a line down for a week, a packaging material
a week late. The scenario here is both at once, on the generated dataset: the line
with the most regular hours stops in the second week (no hours, no overtime), and the
largest receipt due that week arrives a week later. It is planned twice: from scratch
(``plan(scenario)``), and from the plan (``plan(scenario, start=plan)``: from its
optimal basis, what ``soe``'s report does for its own what-ifs and what an
integrator's scenario sweep would do). Both are whole ``plan()`` calls (build, solve,
tables, verification); the optimal objectives must agree.

With ``--setups`` (a MILP: no basis) the what-if is planned to the time limit from
scratch and from the plan's setups (``plan(scenario, start=plan)``), one round each,
and what is compared is the plan each reaches and its gap, not the time.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from benchmarks.conftest import TIMES
from optimizer import load_dataset
from optimizer.dataset import Dataset
from optimizer.results import Plan
from optimizer.solve import plan

ROUNDS = {"s": 5, "m": 5, "l": 3, "xl": 1}
"""Timed rounds of each re-solve (the median is reported), after one untimed warm-up
where there is more than one."""


@dataclass(frozen=True)
class Scenario:
    """The plan's dataset, its plan, and the what-if dataset with what was changed."""

    dataset: Dataset
    plan: Plan
    changed: Dataset
    line: str
    week: str
    what: str


def line_down_receipt_late(dataset: Dataset) -> tuple[Dataset, str, str, str]:
    """``dataset`` with the line of the most regular hours down in the second period
    and the largest receipt due then a period later; the line, the period, and a
    sentence saying what changed."""
    periods = list(dataset.periods["period"])
    if len(periods) < 3:
        raise ValueError("the scenario needs at least three periods")
    week, later = periods[1], periods[2]
    lines = dataset.lines
    line = str(lines["line"].iloc[int(lines["hours"].to_numpy().argmax())])
    calendar = dataset.line_calendar
    kept = calendar[~((calendar["line"] == line) & (calendar["period"] == week))]
    down = pd.DataFrame({"line": [line], "period": [week], "hours": [0.0], "overtime_hours": [0.0]})
    changes: dict[str, Any] = {"line_calendar": pd.concat([kept, down], ignore_index=True)}
    what = f"line {line} down in {week}"
    receipts = dataset.receipts
    due = receipts.index[(receipts["period"] == week) & ~receipts["past_due"].astype(bool)]
    if len(due):
        late = receipts.copy()
        row = int(receipts.loc[due, "quantity"].idxmax())
        late.loc[row, "period"] = later
        changes["receipts"] = late
        what += (
            f", receipt {late.loc[row, 'po']} ({late.loc[row, 'quantity']:,.0f}"
            f" {late.loc[row, 'material']}) due {week} arrives in {later}"
        )
    return dataset.replace(**changes), line, week, what


@pytest.fixture(scope="session")
def scenario(size: str, dataset_dir: Path) -> Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset(dataset_dir)
        changed, line, week, what = line_down_receipt_late(dataset)
    base = plan(dataset)
    assert (base.basis is None) == (base.summary.integer_variables > 0)
    return Scenario(dataset, base, changed, line, week, what)


def _resolve(benchmark: Any, size: str, scenario: Scenario, warm: bool) -> Plan:
    milp = scenario.plan.basis is None
    rounds = 1 if milp else ROUNDS.get(size, 1)
    result: Plan = benchmark.pedantic(
        plan,
        args=(scenario.changed,),
        kwargs={"start": scenario.plan if warm else None},
        rounds=rounds,
        warmup_rounds=1 if rounds > 1 else 0,
        iterations=1,
    )
    assert result.summary.status in (("optimal", "feasible") if milp else ("optimal",))
    lines = result.lines
    down = lines[(lines["line"] == scenario.line) & (lines["period"] == scenario.week)]
    assert down["used_hours"].sum() == 0.0  # the line is down that week
    key = "warm" if warm else "cold"
    figures = TIMES[(size, "whatif")]
    figures.update(what=scenario.what, plan_objective=scenario.plan.summary.objective)
    figures.update(milp=milp, plan_gap=scenario.plan.summary.gap)
    figures[f"{key}_objective"] = result.summary.objective
    figures[f"{key}_gap"] = result.summary.gap
    if benchmark.stats:
        figures[key] = benchmark.stats.stats.median
    return result


def test_whatif_cold(benchmark: Any, size: str, scenario: Scenario) -> None:
    benchmark.group = f"{size}: what-if"
    _resolve(benchmark, size, scenario, warm=False)


def test_whatif_from_basis(benchmark: Any, size: str, scenario: Scenario) -> None:
    """An LP: the same optimum as the cold solve (taken again when that test did not
    run). A MILP's plans, stopped by the time limit, are compared in the summary."""
    benchmark.group = f"{size}: what-if"
    result = _resolve(benchmark, size, scenario, warm=True)
    if scenario.plan.basis is None:
        return
    cold = TIMES[(size, "whatif")].get("cold_objective")
    if cold is None:
        cold = plan(scenario.changed).summary.objective
    assert result.summary.objective == pytest.approx(cold, rel=1e-7)
