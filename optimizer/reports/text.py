"""Plain-text summaries the CLI prints: a dataset at a glance, a plan at a glance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optimizer.analysis._util import num
from optimizer.analysis.stockouts import stock_held
from optimizer.demand import entries
from optimizer.schema import OBJECTIVE_TERMS

if TYPE_CHECKING:
    from optimizer.dataset import Dataset
    from optimizer.results import Plan


def customer_label(customer: object, kind: object) -> str:
    """An entry's customer as a report shows it: ``(forecast)`` for a forecast entry,
    ``(no customer)`` for an order without one (DATASET.md allows a blank customer)."""
    if isinstance(customer, str) and customer:
        return customer
    return "(forecast)" if kind == "forecast" else "(no customer)"


def capacity_hours(dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regular and overtime hours per line (rows) and period (columns)."""
    per = list(dataset.periods["period"])
    lines = dataset.lines.set_index("line")
    reg = pd.DataFrame(
        np.repeat(lines["hours"].to_numpy()[:, None], len(per), axis=1),
        index=lines.index,
        columns=per,
    )
    ot = pd.DataFrame(
        np.repeat(lines["overtime_hours"].to_numpy()[:, None], len(per), axis=1),
        index=lines.index,
        columns=per,
    )
    for row in dataset.line_calendar.itertuples(index=False):
        reg.loc[row.line, row.period] = row.hours
        if not pd.isna(row.overtime_hours):
            ot.loc[row.line, row.period] = row.overtime_hours
    return reg, ot


def dataset_summary(dataset: Dataset) -> str:
    """What ``soe validate`` prints: sizes, demand by tier, load against capacity."""
    ent = entries(dataset)
    per = dataset.periods
    out = [
        f"dataset {dataset.name}: valid",
        f"  periods    {len(per)} ({per['period'].iloc[0]} .. {per['period'].iloc[-1]}, "
        f"{per['start'].iloc[0]:%Y-%m-%d} to {per['end'].iloc[-1]:%Y-%m-%d})",
        f"  products   {len(dataset.products)} in {dataset.products['family'].nunique()} families,"
        f" {len(dataset.routings)} routings",
        f"  lines      {len(dataset.lines)}",
        f"  materials  {len(dataset.materials)} ({len(dataset.bom)} BOM rows,"
        f" {len(dataset.receipts)} receipts)",
        f"  demand     {len(ent)} entries ({(ent['kind'] == 'order').sum()} orders,"
        f" {(ent['kind'] == 'forecast').sum()} forecast),"
        f" signal '{dataset.settings.demand.signal}'",
    ]
    by_tier = ent.groupby("priority")["quantity"].agg(["count", "sum"])
    for tier, row in by_tier.iterrows():
        out.append(f"    tier {tier}: {int(row['count'])} entries, {num(row['sum'])} units")
    best = dataset.routings.groupby("product")["rate"].max()
    q = ent.groupby("product")["quantity"].sum()
    hours = (q / best.reindex(q.index)).dropna().sum()
    unrouted = q[~q.index.isin(best.index)].sum()
    reg, ot = capacity_hours(dataset)
    total = float(reg.to_numpy().sum())
    load = f"{hours / total:.0%}" if total > 0 else "n/a"
    out.append(
        f"  load       {num(q.sum())} units of demand need {num(hours)} line hours at the best"
        f" rates; lines have {num(total)} regular + {num(float(ot.to_numpy().sum()))} overtime"
        f" hours ({load} of regular)"
    )
    if unrouted > 0:
        out.append(f"             {num(unrouted)} units are of products without a routing")
    return "\n".join(out)


def plan_summary(dataset: Dataset, plan: Plan) -> str:
    """What ``soe plan`` prints: status, objective by term, fill by tier, and the
    shortages of the exceptions' window (:func:`_early_shortages`)."""

    s = plan.summary
    if not plan.has_solution:
        return f"status     {s.status}" + (f" ({s.limit} limit)" if s.limit else "")
    finite = s.gap is not None and math.isfinite(s.gap)
    gap = f", gap {s.gap:.2%}" if finite else ", gap unknown"
    has_bound = s.bound is not None and math.isfinite(s.bound)
    bound = f", bound {s.bound:,.2f}" if has_bound else ", no bound yet"
    out = [
        f"status     {s.status}{gap}{bound}"
        + (f" (stopped by the {s.limit} limit)" if s.limit else ""),
        f"solver     {s.solver}, {s.mode} mode: build {s.build_seconds:.2f} s, solve"
        f" {s.solve_seconds:.2f} s; {s.variables:,} variables ({s.integer_variables:,} integer),"
        f" {s.constraints:,} constraints",
        f"objective  {s.objective:,.2f}",
    ]
    for term in OBJECTIVE_TERMS:
        value = s.objective_terms.get(term, 0.0)
        if value:
            out.append(f"  {term:<17}{value:>14,.2f}")
    fill = "  ".join(
        f"{'overall' if k == 'overall' else 'tier ' + k} {v:.1%}" for k, v in s.fill_rate.items()
    )
    out.append(f"fill rate  {fill}")
    out.extend(_early_shortages(dataset, plan))
    return "\n".join(out)


def _early_shortages(dataset: Dataset, plan: Plan, shown: int = 12) -> list[str]:
    """The entries short in the first period and the ``[exceptions] horizon_periods``
    after it: the window of the report's exceptions (``exceptions.csv``), tier 1
    first, then by due period."""
    order = list(dataset.periods["period"])
    window = order[: 1 + dataset.settings.exceptions.horizon_periods]
    span = window[0] if len(window) == 1 else f"{window[0]}–{window[-1]}"
    where = "in the first period" if len(window) == 1 else f"in the first {len(window)} periods"
    where += f", the exceptions window ({span}"
    svc = plan.service
    pos = pd.Series(pd.Index(window).get_indexer(svc["due"]), index=svc.index)
    early = svc[(pos >= 0) & ((svc["unmet"] > 1e-6) | (svc["late"] > 1e-6))]
    if early.empty:
        return [f"no shortage {where})"]
    n = len(early)
    out = [f"short {where}; {n:,} entr{'y' if n == 1 else 'ies'}):"]
    early = early.assign(_t=pos[early.index]).sort_values(
        ["priority", "_t", "unmet"], ascending=[True, True, False], kind="stable"
    )
    early = early.head(shown)
    # short while the product is in stock: the plan keeps it for later demand
    held = stock_held(
        plan, early["product"], early["due"], (early["unmet"] + early["late"]).to_numpy()
    )
    for row, kept in zip(early.itertuples(index=False), held, strict=True):
        what = []
        if row.unmet > 1e-6:
            what.append(f"{num(row.unmet)} unmet")
        if row.late > 1e-6:
            what.append(f"{num(row.late)} late")
        if kept > 0:
            what.append(f"{num(kept)} in stock kept")
        who = customer_label(row.customer, row.kind)
        out.append(
            f"  {row.due:<10} tier {row.priority}  {row.product:<12} {who:<14}"
            f" {num(row.quantity)} due: {', '.join(what)}"
        )
    if n > shown:
        out.append(f"  ... and {n - shown:,} more (service.csv)")
    return out
