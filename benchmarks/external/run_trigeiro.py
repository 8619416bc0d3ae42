"""Solve the Trigeiro instances with soe and compare with the reference values.

Each instance is converted into a soe dataset in a temporary folder
(:func:`benchmarks.external.trigeiro.convert`), planned with soe's Python API and
compared with its reference value: the published optimum where one exists
(``reference_values.csv``), else the value computed with HiGHS
(``computed_values_highs.csv``: a proven optimum when its status is ``optimal``,
else a best plan with a proven lower bound).

Usage::

    python -m benchmarks.external.run_trigeiro --series G --time-limit 30
    python -m benchmarks.external.run_trigeiro --instances G53,G57 --csv trigeiro.csv

The report is a Markdown table on stdout: per instance the objective, bound,
reference, relative gap to the reference, whether soe proved optimality, a check
and the seconds; then per series the number proven optimal against
``computed_values_highs.csv``'s count for the same instances, and the total time.
Progress goes to stderr. ``--engine baseline`` solves with the hand-written PuLP
model (:mod:`benchmarks.baseline_pulp`) instead of soe; ``--engine reference`` solves
the instance as ``computed_values_highs.csv`` was made (:func:`solve_with_reference`:
the reference model plus the (l,S) inequalities, straight into HiGHS), so that soe
and the csv's method can be timed side by side on the same machine.

Checks: ``ok``; ``MISMATCH`` (proven optimal but not equal to a proven reference
optimum); ``BELOW BOUND`` (cheaper than a proven lower bound: a bug); ``UNSERVED``
(demand left unserved, so the objective is not the reference model's);
``no plan``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.external.trigeiro import (
    DEFAULT_SHARED,
    TrigeiroInstance,
    computed_values,
    convert,
    instance_paths,
    read_instance,
    reference_values,
    series_of,
)

__all__ = [
    "ENGINES",
    "Job",
    "Outcome",
    "main",
    "markdown",
    "run",
    "series_totals",
    "solve_with_baseline",
    "solve_with_reference",
    "solve_with_soe",
]

_REL_TOL = 1e-5
"""Relative tolerance of the reference comparisons (objectives are integers or 4 decimals)."""


@dataclass(frozen=True)
class Outcome:
    """What a solve of one converted instance gave.

    Attributes
    ----------
    status
        ``optimal``, ``feasible``, ``infeasible``, ``no_solution`` or ``error``.
    objective
        Objective of the plan (``None`` without one).
    bound
        Proven lower bound (``None`` if not known).
    gap
        Relative gap reported by the solver (``None`` if not known).
    seconds
        Wall time of the call (load, build, solve, read back).
    unserved
        Demand quantity left unserved (``None`` if not known).
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    unserved: float | None


@dataclass(frozen=True)
class Job:
    """One instance to solve, as every engine of :data:`ENGINES` takes it."""

    folder: Path
    """The instance converted into a dataset folder."""
    instance: TrigeiroInstance
    """The instance as read (the engines that plan the dataset do not use it)."""
    solver: str
    """The solver's name (``highs``, ``cbc``, ...)."""
    time_limit: float
    """Seconds."""
    gap: float
    """Relative MIP gap."""
    threads: int
    """Solver threads (0 = the solver's default)."""


def solve_with_soe(job: Job) -> Outcome:
    """Plan a dataset folder with soe's Python API.

    All of the runner's contact with soe is here.

    An engine of :data:`ENGINES`.
    """
    import optimizer

    started = time.perf_counter()
    dataset = optimizer.load_dataset(job.folder)
    solve = dataset.settings.solve.model_copy(
        update={
            "solver": job.solver,
            "time_limit_s": job.time_limit,
            "mip_gap": job.gap,
            "threads": job.threads,
        }
    )
    settings = dataset.settings.model_copy(update={"solve": solve})
    # optimizer.plan(dataset, settings); fall back to its module while not exported.
    plan: Any = getattr(optimizer, "plan", None) or importlib.import_module("optimizer.solve").plan
    result = plan(dataset, settings)
    seconds = time.perf_counter() - started
    summary = result.summary
    unserved = None
    if summary.status in ("optimal", "feasible"):
        unserved = float(result.service["unmet"].sum())
    return Outcome(
        status=summary.status,
        objective=summary.objective,
        bound=summary.bound,
        gap=summary.gap,
        seconds=seconds,
        unserved=unserved,
    )


def solve_with_baseline(job: Job) -> Outcome:
    """Solve a dataset folder with the hand-written PuLP model.

    An engine of :data:`ENGINES`; ``threads`` is not used (the baseline takes ``solve.threads``
    from the dataset's settings), and the bound is HiGHS's only.
    """
    from benchmarks.baseline_pulp import solve_baseline

    started = time.perf_counter()
    result = solve_baseline(job.folder, solver=job.solver, time_limit=job.time_limit, gap=job.gap)
    seconds = time.perf_counter() - started
    unserved = None
    if result.objective is not None:
        products = pd.read_csv(job.folder / "products.csv")
        unserved = result.objective_terms["shortage"] / float(products["shortage_cost"].iloc[0])
    gap_value = None
    if result.objective is not None and result.bound is not None:
        gap_value = abs(result.objective - result.bound) / max(abs(result.objective), 1e-10)
    return Outcome(
        status=result.status,
        objective=result.objective,
        bound=result.bound,
        gap=gap_value,
        seconds=seconds,
        unserved=unserved,
    )


def solve_with_reference(job: Job) -> Outcome:
    """Solve the instance as ``computed_values_highs.csv`` was made: the reference model
    of the shared README with the (l,S) inequalities ``x_it <= D_i(t..l) y_it + s_il``
    (every ``t <= l``), passed straight to HiGHS through highspy.

    An engine of :data:`ENGINES` for ``solver`` ``highs`` only; the csv ran with ``gap`` 0 (and
    HiGHS's absolute gap 1e-6) and ``threads`` 1. Nothing is unserved: the model serves
    every demand on time.
    """
    hp: Any = importlib.import_module("highspy")
    if job.solver != "highs":
        raise ValueError("the reference engine solves an instance with HiGHS")
    instance = job.instance
    started = time.perf_counter()
    N, T = instance.N, instance.T
    d = instance.demand.T.astype(np.float64)  # (N, T)
    rest = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]  # D_i(t..T)
    cap = np.maximum(instance.C - instance.st, 0.0) / instance.a  # most of i one period holds
    big_m = np.minimum(rest, cap[:, None])
    # columns: x (N*T), s (N*T), y (N*T), each item by period
    x = np.arange(N * T).reshape(N, T)
    st = x + N * T
    y = x + 2 * N * T
    h = hp.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(job.time_limit))
    h.setOptionValue("mip_rel_gap", float(job.gap))
    h.setOptionValue("random_seed", 0)
    inf = hp.kHighsInf
    n = 3 * N * T
    cost = np.concatenate([np.zeros(N * T), np.repeat(instance.h, T), np.repeat(instance.f, T)])
    upper = np.concatenate([big_m.ravel(), rest.ravel(), np.ones(N * T)])
    h.addVars(n, np.zeros(n), upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    h.changeColsIntegrality(N * T, y.ravel().astype(np.int32), np.ones(N * T, dtype=np.uint8))
    rows: list[tuple[float, float, list[int], list[float]]] = []
    for i in range(N):
        for t in range(T):  # s_i,t-1 + x_it - s_it = d_it
            idx = [int(x[i, t]), int(st[i, t])] + ([int(st[i, t - 1])] if t else [])
            rows.append((d[i, t], d[i, t], idx, [1.0, -1.0] + ([1.0] if t else [])))
            rows.append((-inf, 0.0, [int(x[i, t]), int(y[i, t])], [1.0, -float(big_m[i, t])]))
            for last in range(t, T):  # (l,S): x_it <= D_i(t..l) y_it + s_il
                demand = float(d[i, t : last + 1].sum())
                rows.append(
                    (
                        -inf,
                        0.0,
                        [int(x[i, t]), int(y[i, t]), int(st[i, last])],
                        [1.0, -demand, -1.0],
                    )
                )
    for t in range(T):  # capacity
        idx = [int(x[i, t]) for i in range(N)] + [int(y[i, t]) for i in range(N)]
        rows.append((-inf, float(instance.C), idx, list(instance.a) + list(instance.st)))
    for lower, upper_, idx, val in rows:
        h.addRow(lower, upper_, len(idx), np.array(idx, dtype=np.int32), np.array(val))
    # through soe's scheduler guard only so that a process that solved with another
    # number of threads before (a test run) can still set this one
    from optimizer.backends.highs import SCHEDULER

    SCHEDULER.run(hp, h, job.threads)
    seconds = time.perf_counter() - started
    info = h.getInfo()
    status_ = h.getModelStatus()
    if info.primal_solution_status != 2:  # no feasible plan
        return Outcome("no_solution", None, None, None, seconds, None)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    optimal = status_ == hp.HighsModelStatus.kOptimal
    return Outcome(
        status="optimal" if optimal else "feasible",
        objective=objective,
        bound=bound,
        gap=abs(objective - bound) / max(abs(objective), 1e-10),
        seconds=seconds,
        unserved=0.0,
    )


ENGINES: dict[str, Callable[[Job], Outcome]] = {
    "soe": solve_with_soe,
    "baseline": solve_with_baseline,
    "reference": solve_with_reference,
}


def _reference(
    name: str, published: pd.DataFrame, computed: pd.DataFrame
) -> tuple[float | None, str, float | None, str]:
    """Reference value, its kind, a proven lower bound and the computed status."""
    comp_status = str(computed.at[name, "status"]) if name in computed.index else ""
    comp_bound = float(computed.at[name, "dual_bound"]) if name in computed.index else None
    if name in published.index:
        value = float(published.at[name, "objective"])
        return value, "published", max(value, comp_bound or value), comp_status
    if name in computed.index:
        value = float(computed.at[name, "objective"])
        kind = "highs optimal" if comp_status == "optimal" else f"highs {comp_status}"
        return value, kind, comp_bound, comp_status
    return None, "none", None, ""


def _check(outcome: Outcome, reference: float | None, kind: str, lower: float | None) -> str:
    if outcome.objective is None:
        return "no plan"
    if outcome.unserved is not None and outcome.unserved > 1e-6:
        return "UNSERVED"
    objective = outcome.objective
    if lower is not None and objective < lower - _REL_TOL * max(1.0, abs(lower)):
        return "BELOW BOUND"
    proven_reference = kind in ("published", "highs optimal")
    if (
        outcome.status == "optimal"
        and proven_reference
        and reference is not None
        and abs(objective - reference) > _REL_TOL * max(1.0, abs(reference))
    ):
        return "MISMATCH"
    return "ok"


def run(
    paths: list[Path],
    engine: str = "soe",
    solver: str = "highs",
    time_limit: float = 30.0,
    gap: float = 1e-6,
    threads: int = 0,
    shared: Path = DEFAULT_SHARED,
    keep: Path | None = None,
) -> pd.DataFrame:
    """Convert and solve instances; one row per instance.

    Parameters
    ----------
    paths
        Instance files (:func:`benchmarks.external.trigeiro.instance_paths`).
    engine
        ``soe``, ``baseline`` or ``reference`` (:data:`ENGINES`).
    solver
        Solver name passed to the engine.
    time_limit
        Seconds per instance.
    gap
        Relative MIP gap.
    threads
        Solver threads (0 = solver default).
    shared
        The ``shared/benchmarks`` folder (for the reference values).
    keep
        Write the converted datasets here (default: a temporary folder, removed).

    Returns
    -------
    pandas.DataFrame
        Columns ``series, instance, items, periods, status, objective, bound,
        solver_gap, reference, reference_kind, reference_bound, gap_to_reference,
        proven_optimal, computed_status, check, seconds``.
    """
    published = reference_values(shared)
    computed = computed_values(shared)
    solve = ENGINES[engine]
    rows = []
    with tempfile.TemporaryDirectory(prefix="trigeiro-") as tmp:
        base = keep if keep is not None else Path(tmp)
        for path in paths:
            inst = read_instance(path)
            folder = convert(path, base / inst.name)
            try:
                outcome = solve(Job(folder, inst, solver, time_limit, gap, threads))
            except Exception as exc:  # report and go on with the next instance
                print(f"{inst.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                outcome = Outcome("error", None, None, None, math.nan, None)
            reference, kind, lower, comp_status = _reference(inst.name, published, computed)
            check = _check(outcome, reference, kind, lower)
            gap_to_ref = (
                (outcome.objective - reference) / reference
                if outcome.objective is not None and reference
                else None
            )
            rows.append(
                {
                    "series": series_of(inst.name),
                    "instance": inst.name,
                    "items": inst.N,
                    "periods": inst.T,
                    "status": outcome.status,
                    "objective": outcome.objective,
                    "bound": outcome.bound,
                    "solver_gap": outcome.gap,
                    "reference": reference,
                    "reference_kind": kind,
                    "reference_bound": lower,
                    "gap_to_reference": gap_to_ref,
                    "proven_optimal": outcome.status == "optimal",
                    "computed_status": comp_status,
                    "check": check,
                    "seconds": outcome.seconds,
                    "unserved": outcome.unserved,
                }
            )
            print(
                f"{inst.name:>8} {outcome.status:<9} {_num(outcome.objective):>12} "
                f"ref {_num(reference):>12} {check:<8} {outcome.seconds:6.1f}s",
                file=sys.stderr,
                flush=True,
            )
    return pd.DataFrame(rows)


def series_totals(results: pd.DataFrame) -> pd.DataFrame:
    """Per-series totals: instances, proven optimal (ours and computed), checks, time.

    Parameters
    ----------
    results
        The output of :func:`run`.

    Returns
    -------
    pandas.DataFrame
        One row per series and a final ``all`` row.
    """

    def totals(group: pd.DataFrame, name: str) -> dict[str, object]:
        gaps = group["gap_to_reference"].dropna()
        return {
            "series": name,
            "instances": len(group),
            "proven_optimal": int(group["proven_optimal"].sum()),
            "computed_optimal": int((group["computed_status"] == "optimal").sum()),
            "ok": int((group["check"] == "ok").sum()),
            "failed_checks": int((group["check"] != "ok").sum()),
            "mean_gap_to_reference": float(gaps.mean()) if len(gaps) else math.nan,
            "max_gap_to_reference": float(gaps.max()) if len(gaps) else math.nan,
            "seconds": float(group["seconds"].sum()),
        }

    rows = [totals(group, str(name)) for name, group in results.groupby("series", sort=False)]
    rows.append(totals(results, "all"))
    return pd.DataFrame(rows)


def _num(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    percent = 100 * float(value)  # type: ignore[arg-type]
    return f"{0.0 if abs(percent) < 5e-4 else percent:.3f}%"


def markdown(results: pd.DataFrame, totals: pd.DataFrame) -> str:
    """The report as Markdown tables.

    Parameters
    ----------
    results
        The output of :func:`run`.
    totals
        The output of :func:`series_totals`.

    Returns
    -------
    str
        Two Markdown tables.
    """
    head = (
        "| instance | N x T | status | objective | bound | reference | ref. kind "
        "| gap to ref. | proven | check | seconds |\n"
        "|---|---|---|--:|--:|--:|---|--:|---|---|--:|\n"
    )
    lines = [
        f"| {r.instance} | {r.items} x {r.periods} | {r.status} | {_num(r.objective)} "
        f"| {_num(r.bound)} | {_num(r.reference)} | {r.reference_kind} "
        f"| {_pct(r.gap_to_reference)} | {_num(bool(r.proven_optimal))} | {r.check} "
        f"| {_num(r.seconds, 1)} |"
        for r in results.itertuples()
    ]
    summary = (
        "\n| series | instances | proven optimal | computed optimal (HiGHS csv) | checks ok "
        "| failed | mean gap to ref. | max gap to ref. | seconds |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    summary_lines = [
        f"| {t.series} | {t.instances} | {t.proven_optimal} | {t.computed_optimal} | {t.ok} "
        f"| {t.failed_checks} | {_pct(t.mean_gap_to_reference)} "
        f"| {_pct(t.max_gap_to_reference)} | {_num(t.seconds, 1)} |"
        for t in totals.itertuples()
    ]
    return head + "\n".join(lines) + "\n" + summary + "\n".join(summary_lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring).

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every check passed, 1 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.external.run_trigeiro",
        description="Solve Trigeiro CLSP instances with soe and compare with reference values.",
    )
    parser.add_argument("--series", default="G,F,X", help="comma-separated series (G,F,X)")
    parser.add_argument("--instances", default=None, help="comma-separated names, e.g. G53,G57")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    parser.add_argument("--gap", type=float, default=1e-6, help="relative MIP gap")
    parser.add_argument("--threads", type=int, default=0, help="solver threads (0 = default)")
    parser.add_argument("--solver", default="highs")
    parser.add_argument("--engine", choices=list(ENGINES), default="soe")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/benchmarks")
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    parser.add_argument("--keep", type=Path, default=None, help="keep converted datasets here")
    args = parser.parse_args(argv)

    names = args.instances.split(",") if args.instances else None
    series = None if names else args.series.split(",")
    paths = instance_paths(args.shared, series=series, names=names)
    print(
        f"{len(paths)} instances, engine {args.engine}, solver {args.solver}, "
        f"{args.time_limit:g} s each",
        file=sys.stderr,
    )
    results = run(
        paths,
        engine=args.engine,
        solver=args.solver,
        time_limit=args.time_limit,
        gap=args.gap,
        threads=args.threads,
        shared=args.shared,
        keep=args.keep,
    )
    totals = series_totals(results)
    print(markdown(results, totals), end="")
    if args.csv is not None:
        results.to_csv(args.csv, index=False)
    return 0 if (results["check"] == "ok").all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
