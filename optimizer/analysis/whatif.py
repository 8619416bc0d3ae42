"""Options: a handful of automatic what-ifs, each priced by re-solving the plan.

The what-ifs are chosen from the plan's own bottlenecks and causes:

1. ``overtime``: run all the overtime allowed on the most valuable binding line
   that has an overtime allowance, whatever it costs (its overtime cost is set to
   zero for the solve, then charged back on the hours used);
2. ``receipt``: the receipt that ends the costliest material shortage arrives on
   time: in its original period when receipts.csv says which (a column such as
   ``original_period``), else in the period the material runs out;
3. ``shift``: one extra shift of :data:`SHIFT_HOURS` regular hours on a line-period:
   of the :data:`SHIFT_CANDIDATES` with the highest marginal values, the one whose
   re-solve lowers the objective most. A marginal value prices the first hour only: in
   a degenerate LP it can hold for a fraction of an hour (generated l: the top
   line-period's first hour was worth 6,964, its 8 h 17,793 in all), so the ranking
   by it alone can miss the shift worth most.

Each is solved like the plan (same solver and mode, about the plan's absolute
precision: :func:`_precision_gap`) and from it (an LP from its basis, a MILP's search
from its setups), with a time limit of ``min(10 s, the plan's time limit)`` (for a MILP
plan that ran past that, 5% of its limit: :mod:`optimizer.analysis`); the alternatives
of one option (the shift's line-periods) are tried while their solves fit in that one
limit. Each is compared with the plan, or, for a MILP plan not proven optimal, with the
plan searched again the same way without a change (``evaluate``'s ``control``): units
recovered per tier (shipped on time or late), the change of the objective and of the
spend (production, holding and material holding, overtime charged at its cost). A MILP
what-if that ends far above the plan it started from gives no numbers (status
:data:`FELL_SHORT`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from formulations.allocation import build
from optimizer.analysis._util import TOL, extra_column, money, num
from optimizer.analysis.causes import ORIGINAL_DATE_COLUMNS
from optimizer.analysis.duals import ShadowPrices
from optimizer.backends import SolveOptions, SolveStatus, get_backend
from optimizer.dataset import Dataset
from optimizer.exceptions import DatasetWarning
from optimizer.results import Plan

logger = logging.getLogger(__name__)

SHIFT_HOURS = 8.0
"""Regular hours of the extra shift what-if."""

MAX_SECONDS = 10.0
"""Time limit of one what-if solve (or the plan's own limit, if smaller)."""

SHIFT_CANDIDATES = 3
"""Line-periods tried for the extra shift, by marginal value, the highest first."""

SPEND_TERMS = ("production", "holding", "material_holding")


@dataclass(frozen=True)
class WhatIf:
    """A changed dataset to re-solve, and what it means for a planner."""

    option: str
    description: str
    dataset: Dataset
    free_overtime_line: str | None = None
    """The line whose overtime was made free for the solve, to charge it back."""
    overtime_cost: float = 0.0
    """Its real overtime cost per hour."""


def candidates(
    dataset: Dataset,
    shadow: ShadowPrices,
    bottlenecks: pd.DataFrame,
    causes: pd.DataFrame,
) -> tuple[list[WhatIf], list[str]]:
    """The what-ifs worth solving, and notes on those that are not.

    An option may come as several alternatives (the same ``option``, in the order to
    try them): :func:`evaluate` keeps the best.
    """
    out: list[WhatIf] = []
    notes: list[str] = []
    for make in (_overtime, _receipt, _shifts):
        with warnings.catch_warnings():
            # the scenario's dataset repeats the dataset's own warnings, said already
            warnings.simplefilter("ignore", DatasetWarning)
            what, note = make(dataset, shadow, bottlenecks, causes)
        if isinstance(what, list):  # alternatives
            out += what
        elif what is not None:
            out.append(what)
        if note:
            notes.append(note)
    return out, notes


FREE_OVERTIME = 1e-6
"""The overtime what-if's price of an hour, as a share of the line's own: enough that
the solver runs only overtime that serves something."""


def _overtime(
    dataset: Dataset, shadow: ShadowPrices, bottlenecks: pd.DataFrame, causes: pd.DataFrame
) -> tuple[WhatIf | None, str]:
    d = shadow.data
    binding = bottlenecks[
        bottlenecks["kind"].isin(["line", "overtime"]) & (bottlenecks["marginal_value"] > TOL)
    ]
    if binding.empty:
        return None, "no line binds: no overtime option"
    has_ot = {str(line) for line, ot in zip(d.line_ids, d.OT.max(axis=1), strict=True) if ot > 0}
    # the top binding line: the most valuable over the horizon (summed marginal values)
    total = (
        binding[binding["kind"] == "line"]
        .groupby("resource", sort=False)["marginal_value"]
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    lines = [str(x) for x in total.index if str(x) in has_ot]
    if not lines:
        top = str(binding["resource"].iloc[0])
        return None, f"no binding line has an overtime allowance (top: {top}): no overtime option"
    line = lines[0]
    li = list(d.line_ids).index(line)
    cost = float(d.c_ot[li])
    frame = dataset.lines.copy()
    # nearly free, not free: at 0 the solver also ran overtime that served nothing
    # (ties), and the scenario charged it back (bodywash: +5.7 h, no unit more)
    frame.loc[frame["line"] == line, "overtime_cost"] = cost * FREE_OVERTIME
    allowance = float(d.OT[li].max())
    desc = (
        f"Run all allowed overtime on line {line} (up to {num(allowance)} h a week,"
        f" {money(cost)} an hour) wherever it serves more"
    )
    return WhatIf(
        "overtime",
        desc,
        dataset.replace(lines=frame),
        free_overtime_line=line,
        overtime_cost=cost,
    ), ""


def _receipt(
    dataset: Dataset, shadow: ShadowPrices, bottlenecks: pd.DataFrame, causes: pd.DataFrame
) -> tuple[WhatIf | None, str]:
    mat = causes[causes["cause_kind"] == "material"] if not causes.empty else causes
    if mat.empty:
        return None, "no material causes a shortage: no receipt option"
    order = dataset.period_ids
    pos = {p: i for i, p in enumerate(order)}
    by_material = mat.groupby("resource", sort=False)["quantity"].sum().sort_values(ascending=False)
    receipts = dataset.receipts.drop(columns=["past_due"], errors="ignore")
    original = extra_column(receipts, ORIGINAL_DATE_COLUMNS)
    for material in by_material.index:
        rows = mat[mat["resource"] == material]
        when = min((str(p) for p in rows["cause_period"]), key=lambda p: pos[p])
        later = receipts[
            (receipts["material"] == material) & (receipts["period"].map(pos) > pos[when])
        ]
        if later.empty:
            continue
        later = later.assign(_t=later["period"].map(pos)).sort_values("_t", kind="stable")
        i = later.index[0]
        row = receipts.loc[i]
        target = when
        if original is not None:
            was = str(row[original]).strip()
            if was in pos and pos[was] < pos[str(row["period"])]:
                target = was
        frame = receipts.copy()
        frame.loc[i, "period"] = target
        po = str(row["po"]).strip()
        supplier = str(row["supplier"]).strip()
        who = ", ".join(x for x in (f"PO {po}" if po else "", supplier) if x)
        desc = (
            f"Receipt of {num(float(row['quantity']))} {material}"
            f"{f' ({who})' if who else ''} on time in {target} instead of {row['period']}"
        )
        return WhatIf("receipt", desc, dataset.replace(receipts=frame)), ""
    return None, "no receipt arrives after the material shortages: no receipt option"


def _shifts(
    dataset: Dataset, shadow: ShadowPrices, bottlenecks: pd.DataFrame, causes: pd.DataFrame
) -> tuple[list[WhatIf], str]:
    """An extra shift on each of the :data:`SHIFT_CANDIDATES` most valuable line-periods."""
    if not shadow.available or shadow.capacity.size == 0 or shadow.capacity.max() <= TOL:
        return [], "no line-period has a marginal value: no extra shift option"
    value = shadow.capacity.ravel()
    top = np.argsort(-value, kind="stable")[:SHIFT_CANDIDATES]
    cells = [np.unravel_index(int(i), shadow.capacity.shape) for i in top if value[i] > TOL]
    return [_shift(dataset, shadow, int(li), int(ti)) for li, ti in cells], ""


def _shift(dataset: Dataset, shadow: ShadowPrices, li: int, ti: int) -> WhatIf:
    d = shadow.data
    line, period = str(d.line_ids[li]), str(d.period_ids[ti])
    cal = dataset.line_calendar.copy()
    hit = (cal["line"] == line) & (cal["period"] == period)
    hours = float(d.H[li, ti]) + SHIFT_HOURS
    if hit.any():
        cal.loc[hit, "hours"] = hours
        cal.loc[hit, "overtime_hours"] = float(d.OT[li, ti])
    else:
        row = {c: "" for c in cal.columns} | {
            "line": line,
            "period": period,
            "hours": hours,
            "overtime_hours": float(d.OT[li, ti]),
        }
        cal = pd.concat([cal, pd.DataFrame([row])], ignore_index=True)
    value = float(shadow.capacity[li, ti])
    desc = (
        f"One extra {num(SHIFT_HOURS)} h shift on line {line} in {period}"
        f" (its first hour is worth {money(value)})"
    )
    return WhatIf("shift", desc, dataset.replace(line_calendar=cal))


def evaluate(
    plan: Plan,
    what_ifs: list[WhatIf],
    time_limit: float,
    *,
    workers: int = 1,
    control: Dataset | None = None,
) -> pd.DataFrame:
    """Re-solve each what-if and compare it with the plan.

    Parameters
    ----------
    plan
        The plan the what-ifs change (its basis starts each LP).
    what_ifs
        The what-ifs, by option; the alternatives of one option share ``time_limit``.
    time_limit
        Seconds for each option's alternatives together.
    workers
        Options solved at once, each in a thread of its own (HiGHS solves outside
        Python's lock). The rows come in the same order either way.
    control
        The plan's own dataset, for a MILP plan not proven optimal: it is planned again
        the way each what-if is (from the plan's setups, ``time_limit``), and the
        options are measured against that plan where it is cheaper than the plan. So
        what the search would have found anyway in that time is not counted as the
        option's.

    Returns
    -------
    pandas.DataFrame
        One row per option: ``option``, ``description``, ``status``,
        ``units_recovered``, ``recovered_tier_<k>`` for every tier,
        ``on_time_recovered``, ``objective_change``, ``spend_change``, ``seconds``.
    """
    base_svc = plan.service
    tiers = sorted({int(t) for t in base_svc["priority"]})
    by_option: dict[str, list[WhatIf]] = {}
    for what in what_ifs:
        by_option.setdefault(what.option, []).append(what)

    base = plan
    if control is not None and what_ifs:
        try:
            again = _resolve(control, plan, time_limit)
        except Exception as exc:  # the options are then measured against the plan
            logger.warning("the what-ifs' control re-plan failed: %s", exc)
        else:
            if again.has_solution and (again.summary.objective or 0.0) < (
                plan.summary.objective or 0.0
            ):
                base = again
            logger.info(
                "what-ifs' control: the plan searched %.0f s more, objective %s",
                time_limit,
                f"{again.summary.objective:,.2f}" if again.has_solution else "none",
            )

    def option(alternatives: list[WhatIf]) -> list[dict[str, object]]:
        return _evaluate_option(plan, base, alternatives, tiers, time_limit)

    if workers > 1 and len(by_option) > 1:
        with ThreadPoolExecutor(min(workers, len(by_option)), "soe-what-if") as pool:
            done = list(pool.map(option, by_option.values()))
    else:
        done = [option(alternatives) for alternatives in by_option.values()]
    rows = [row for rows in done for row in rows]
    columns = [
        "option",
        "description",
        "status",
        "units_recovered",
        *[f"recovered_tier_{k}" for k in tiers],
        "on_time_recovered",
        "objective_change",
        "spend_change",
        "seconds",
    ]
    out = pd.DataFrame(_best_alternatives(rows), columns=columns)
    for c in columns[3:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(np.float64)
    return out


def _evaluate_option(
    plan: Plan, base: Plan, alternatives: list[WhatIf], tiers: list[int], time_limit: float
) -> list[dict[str, object]]:
    """A row per alternative of one option tried, against ``base`` (the plan, or its
    control re-plan): the next is left out when it would not fit in the option's
    ``time_limit`` after the ones before it."""
    base_svc = base.service
    base_ship = _shipped_by_tier(base_svc, tiers)
    base_on_time = float(base_svc["on_time"].sum())
    base_obj = float(base.summary.objective or 0.0)
    base_spend = sum(base.summary.objective_terms.get(t, 0.0) for t in SPEND_TERMS)
    rows: list[dict[str, object]] = []
    spent = last = 0.0  # seconds on the alternatives so far, and on the last one
    for what in alternatives:
        if spent and spent + last > time_limit:
            continue  # the next alternative would not fit in the option's one limit
        started = time.perf_counter()
        try:
            result = _resolve(what.dataset, plan, time_limit)
        except Exception as exc:  # one failed what-if must not sink the report
            logger.warning("what-if %s failed: %s", what.option, exc)
            rows.append({"option": what.option, "description": what.description, "status": "error"})
            continue
        finally:
            last = time.perf_counter() - started
            spent += last
        seconds = time.perf_counter() - started
        row: dict[str, object] = {
            "option": what.option,
            "description": what.description,
            "status": result.summary.status,
            "seconds": seconds,
        }
        if not result.has_solution:
            rows.append(row)
            continue
        if _fell_short(result, base):
            logger.warning(
                "what-if %s: no plan near the plan's own in %.1f s", what.option, seconds
            )
            rows.append(row | {"status": FELL_SHORT})
            continue
        extra = 0.0
        if what.free_overtime_line is not None:
            lines = result.lines
            used = float(
                lines.loc[lines["line"] == what.free_overtime_line, "overtime_hours"].sum()
            )
            extra = used * what.overtime_cost * (1 - FREE_OVERTIME)  # the rest of its price
        obj = float(result.summary.objective or 0.0) + extra
        spend = sum(result.summary.objective_terms.get(t, 0.0) for t in SPEND_TERMS) + extra
        ship = _shipped_by_tier(result.service, tiers)
        served = float(result.service["on_time"].sum())
        gained = sum(ship.values()) - sum(base_ship.values())
        sooner = served - base_on_time
        if what.free_overtime_line is not None and max(gained, sooner) <= TOL * max(
            1.0, base_on_time
        ):
            # more overtime serves no more demand, nor sooner: "wherever it serves more"
            # is nowhere, the plan as it is (the hours the nearly free solve ran saved
            # holding or run costs only, which cost more than that at the real price)
            obj, spend, ship, served = base_obj, base_spend, dict(base_ship), base_on_time
        row["units_recovered"] = float(sum(ship.values()) - sum(base_ship.values()))
        for k in tiers:
            row[f"recovered_tier_{k}"] = ship[k] - base_ship[k]
        row["on_time_recovered"] = served - base_on_time
        row["objective_change"] = obj - base_obj
        row["spend_change"] = spend - base_spend
        rows.append(row)
        logger.info("what-if %s: %s in %.2f s", what.option, result.summary.status, seconds)
    return rows


FELL_SHORT = "no plan in time"
"""The status of a MILP what-if whose search stopped far above the plan it started
from (its first plan did not come within the time: a larger MILP, a short limit)."""


def _fell_short(result: Plan, base: Plan) -> bool:
    """Whether a MILP what-if's plan costs more than ``base`` by over its gap (at least
    5%). The automatic what-ifs only add hours, overtime or material a week sooner, so
    the plan they start from stays feasible and costs about the same (a receipt's
    earlier stock costs a little holding): far above it, the search did not get back to
    it in time. A what-if that stops with the idle plan (the search's fallback) read as
    2.2 million units lost on generated m, with 3 s each and a 5 s relaxation first."""
    if not result.summary.integer_variables or result.summary.objective is None:
        return False
    objective = base.summary.objective or 0.0
    slack = max(0.05, base.summary.gap or 0.0) * max(1.0, abs(objective))
    return result.summary.objective > objective + slack


def _resolve(dataset: Dataset, plan: Plan, time_limit: float) -> Plan:
    """``dataset`` planned from ``plan`` within ``time_limit`` (the gap giving about the
    plan's absolute precision): an LP from its basis, a MILP's search from its setups.
    From scratch, generated m's MILP what-ifs had 10 s to find a plan as good as one
    that had a minute, and getting a receipt on time read as 9,026 units lost."""
    from optimizer.solve import plan as solve

    started = time.perf_counter()
    gap = _precision_gap(dataset, plan, time_limit)
    settings = dataset.settings.with_overrides(
        solve__time_limit_s=max(0.1, time_limit - (time.perf_counter() - started)),
        solve__mip_gap=gap,
    )
    return solve(dataset, settings, verify=False, start=plan)


def _best_alternatives(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per option: of its alternatives, the one that lowers the objective most
    (the first, the highest ranked, on a tie or when none has a plan), its description
    saying how many were tried."""
    out: list[dict[str, object]] = []
    for option in dict.fromkeys(str(r["option"]) for r in rows):
        tried = [r for r in rows if r["option"] == option]
        priced = [r for r in tried if isinstance(r.get("objective_change"), float)]
        best = min(priced, key=lambda r: cast(float, r["objective_change"])) if priced else tried[0]
        if len(tried) > 1:
            best = best | {"description": f"{best['description']}; the best of {len(tried)} tried"}
        out.append(best)
    return out


def _precision_gap(dataset: Dataset, plan: Plan, time_limit: float) -> float:
    """A relative gap that gives the what-if about the plan's absolute precision.

    The plan is solved to ``gap * |objective|``; a what-if whose objective is much
    smaller (a shortage removed) would need far more search to reach the same
    *relative* gap, for no better answer. Its LP relaxation bounds its objective from
    below, so ``gap * |plan objective| / bound`` asks for about the same absolute
    precision.
    """
    base_gap = dataset.settings.solve.mip_gap
    objective = plan.summary.objective
    if dataset.settings.priority.mode != "weighted" or objective is None:
        return base_gap
    if plan.summary.integer_variables == 0:
        # an LP: a what-if changes demand, capacity or materials, never setups, so it
        # is an LP too and solves to optimality (building it to see cost 0.05 s on l)
        return base_gap
    if plan.summary.status != "optimal":
        # the plan stopped at its time limit, short of its gap: so will a what-if of it,
        # whatever its gap, and the relaxation (up to 5 s) would only take its time
        return base_gap
    model = build(dataset, window=0)
    if not model.lp.is_mip:
        return base_gap
    relaxed = dataclasses.replace(model.lp, integer=np.zeros(model.lp.num_cols, dtype=bool))
    sol = get_backend("highs").solve(relaxed, SolveOptions(time_limit=min(time_limit, 5.0)))
    if sol.status != SolveStatus.OPTIMAL or not np.isfinite(sol.objective):
        return base_gap
    tolerance = base_gap * max(1.0, abs(objective))
    return float(min(0.5, max(base_gap, tolerance / max(1.0, sol.objective))))


def _shipped_by_tier(service: pd.DataFrame, tiers: list[int]) -> dict[int, float]:
    shipped = (service["on_time"] + service["late"]).groupby(service["priority"]).sum()
    return {k: float(shipped.get(k, 0.0)) for k in tiers}
