"""The S&OP trade-off analysis of a plan: who is short, why, what would fix it, what it costs.

:func:`analyse` reads a dataset and its plan and computes, each in its own module:

* :mod:`~optimizer.analysis.stockouts`: exceptions (out of stock now, projected out
  of stock within the next periods), with escalation;
* :mod:`~optimizer.analysis.duals`: marginal values (duals of the plan's LP with its
  setups fixed);
* :mod:`~optimizer.analysis.bottlenecks`: the binding lines, overtime and materials,
  ranked by marginal value;
* :mod:`~optimizer.analysis.causes`: why each short entry is short;
* :mod:`~optimizer.analysis.priority`: lower-tier demand cut for higher tiers;
* :mod:`~optimizer.analysis.inventory`: builds above and depletions below safety stock;
* :mod:`~optimizer.analysis.whatif`: a few what-ifs priced by re-solving;
* :mod:`~optimizer.analysis.rollup`: the family roll-up.

Examples
--------
>>> from optimizer import load_dataset
>>> from optimizer.solve import plan
>>> dataset = load_dataset("data/tiny")  # doctest: +SKIP
>>> result = analyse(dataset, plan(dataset))  # doctest: +SKIP
>>> result.bottlenecks.head()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from optimizer.analysis import bottlenecks as _bottlenecks
from optimizer.analysis import causes as _causes
from optimizer.analysis import stockouts as _stockouts
from optimizer.analysis.duals import ShadowPrices, shadow_prices
from optimizer.analysis.inventory import stock_moves
from optimizer.analysis.priority import priority_decisions
from optimizer.analysis.rollup import families
from optimizer.analysis.whatif import MAX_SECONDS, candidates, evaluate
from optimizer.backends import BACKENDS
from optimizer.backends.base import usable_cores
from optimizer.dataset import Dataset
from optimizer.exceptions import NoSolutionError
from optimizer.results import Plan, Summary, write_csv

logger = logging.getLogger(__name__)

EXCEPTION_COLUMNS = _stockouts.COLUMNS
BOTTLENECK_COLUMNS = _bottlenecks.COLUMNS
CAUSE_COLUMNS = _causes.COLUMNS


@dataclass(frozen=True)
class Analysis:
    """Everything the S&OP reports show, as tables indexed by domain labels.

    Attributes
    ----------
    dataset_name
        Name of the planned dataset.
    periods
        Period ids in time order.
    horizon_periods
        Periods after the first in which an exception is "projected".
    summary
        The plan's summary.
    shadow
        The marginal values (:class:`~optimizer.analysis.duals.ShadowPrices`).
    exceptions, bottlenecks, causes
        The tables of ``exceptions.csv``, ``bottlenecks.csv`` and
        ``shortage_causes.csv`` (with a few more columns for the reports).
    priorities
        Lower-tier demand cut for higher tiers, and what serving it would cost them.
    builds, depletions
        Stock built above, and drawn below, safety stock.
    options
        The what-ifs, priced by re-solving.
    families
        The family roll-up.
    notes
        What the reader must know to trust the numbers (MILP duals, time limits).
    seconds
        Time the analysis took.
    """

    dataset_name: str
    periods: tuple[str, ...]
    horizon_periods: int
    summary: Summary
    shadow: ShadowPrices
    exceptions: pd.DataFrame
    bottlenecks: pd.DataFrame
    causes: pd.DataFrame
    priorities: pd.DataFrame
    builds: pd.DataFrame
    depletions: pd.DataFrame
    options: pd.DataFrame
    families: pd.DataFrame
    notes: tuple[str, ...]
    seconds: float

    def write_tables(self, folder: str | Path) -> list[Path]:
        """Write ``exceptions.csv``, ``bottlenecks.csv`` and ``shortage_causes.csv``."""
        folder = Path(folder)
        written = []
        for name, frame, columns in (
            ("exceptions.csv", self.exceptions, EXCEPTION_COLUMNS),
            ("bottlenecks.csv", self.bottlenecks, BOTTLENECK_COLUMNS),
            ("shortage_causes.csv", self.causes, CAUSE_COLUMNS),
        ):
            write_csv(frame[columns], folder / name)
            written.append(folder / name)
        return written


FIRST_PLAN_SHARE = 3.0
"""A MILP plan that took longer than a what-if may take gets its what-ifs when their
first plan (the LP with the plan's setups fixed, timed by the marginal values' LP) takes
at most a third of a what-if's time: the search has the rest. From scratch, 10 s of
search did not get back to a plan that had a minute (generated m with setups: a receipt
on time read as 4,354 units lost); from its setups, it read 1,674 units recovered."""


SLOW_MILP_WHAT_IF_SHARE = 0.05
"""Each what-if of a MILP plan that took longer than the default what-if time (and its
control) gets this share of the plan's time limit, at most that default: after a 60 s
plan, 3 s each, so that ``soe plan --time-limit 60`` ends in about 75 s with its reports
rather than 100 s."""


def _what_if_workers(dataset: Dataset, plan: Plan) -> int:
    """What-if options solved at once: for an LP plan, one per two usable cores
    (``solve.threads`` caps the cores), since a lone LP what-if uses two (HiGHS's
    parallel simplex). On two cores, two at once gained little (generated l's analysis
    4.0-4.5 s against 4.7 s) and, on xl, nothing for 1.7 times the memory (``soe plan``
    with its reports 57.8 s and 1,846 MB peak against 57.7 s and 1,090 MB). One for a
    MILP plan, whose what-ifs
    each run the search beside branch and cut to their time limit (two at once would
    each find a worse plan in it)."""
    if plan.summary.integer_variables:
        return 1
    threads = dataset.settings.solve.threads
    cores = min(usable_cores(), threads) if threads > 0 else usable_cores()
    return max(1, cores // 2)


def analyse(
    dataset: Dataset,
    plan: Plan,
    *,
    what_ifs: bool = True,
    what_if_seconds: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Analysis:
    """The trade-off analysis of a plan.

    Parameters
    ----------
    dataset
        The dataset the plan was made from.
    plan
        A plan with tables (:func:`optimizer.solve.plan`).
    what_ifs
        Re-solve the automatic what-ifs (the slow part); ``False`` leaves
        :attr:`Analysis.options` empty.
    what_if_seconds
        Time limit of each what-if solve; default ``min(10, the plan's time limit)``.
    progress
        Called with a short line as the what-ifs start (the slow part), for a console.

    Raises
    ------
    NoSolutionError
        The plan has no tables.
    """
    if not plan.has_solution:
        raise NoSolutionError(f"the plan ended '{plan.summary.status}': nothing to analyse")
    started = time.perf_counter()
    dataset = _as_planned(dataset, plan.summary)
    limit = dataset.settings.solve.time_limit_s
    seconds = what_if_seconds if what_if_seconds is not None else min(MAX_SECONDS, limit)
    # from the plan's basis the fixed-setup LP takes a fraction of the plan's time: give
    # it what the plan took, at least MAX_SECONDS; from scratch (a plan read back from
    # its folder) it can take longer than the plan did (without the builder's boxes):
    # the plan's own limit
    dual_seconds = (
        min(limit, max(MAX_SECONDS, plan.summary.solve_seconds))
        if plan.basis is not None
        else limit
    )
    shadow = shadow_prices(dataset, plan, time_limit=dual_seconds)
    notes = [shadow.note]
    if plan.summary.status != "optimal":
        notes.append(
            f"the plan is {plan.summary.status} (gap {plan.summary.gap or 0:.2%}), not proven"
            " optimal: its trade-offs may move when solved to optimality"
        )
    exc = _stockouts.exceptions(dataset, plan)
    bn = _bottlenecks.bottlenecks(shadow, plan)
    causes = _causes.shortage_causes(dataset, plan, shadow)
    prio = priority_decisions(dataset, plan, shadow, causes)
    builds, depletions = stock_moves(dataset, plan, shadow)
    fam = families(dataset, plan)
    options = pd.DataFrame()
    # an LP plan's basis starts each what-if near its optimum: the plan's own solve time
    # then says nothing about theirs
    if plan.basis is None and shadow.plan_basis is not None:
        plan = dataclasses.replace(plan, basis=shadow.plan_basis)
    if (
        what_ifs
        and what_if_seconds is None
        and plan.summary.integer_variables > 0
        and plan.summary.solve_seconds > seconds
    ):
        # a MILP plan that ran to its limit: the control and the options together add
        # about a fifth of that limit to soe plan, not a fixed 40 s
        seconds = min(seconds, max(1.0, SLOW_MILP_WHAT_IF_SHARE * limit))
    # a MILP plan's what-ifs start from its setups: their first plan is the LP with them
    # fixed, which takes about as long as the marginal values' LP did
    from_setups = (
        plan.summary.integer_variables > 0
        and dataset.settings.priority.mode == "weighted"
        and shadow.available
        and shadow.seconds * FIRST_PLAN_SHARE <= seconds
    )
    if what_ifs and plan.summary.solve_seconds > seconds and plan.basis is None and not from_setups:
        why = ""
        if plan.summary.integer_variables and dataset.settings.priority.mode != "weighted":
            why = " (in lexicographic mode a MILP what-if is planned from scratch)"
        elif plan.summary.integer_variables and shadow.available:
            why = (
                f", and the LP with its setups fixed, a what-if's first plan, took"
                f" {shadow.seconds:.1f} s, more than a third of that"
            )
        notes.append(
            f"what-ifs skipped: the plan took {plan.summary.solve_seconds:.0f} s to solve, more"
            f" than the {seconds:g} s each what-if may take{why} (soe report runs them with"
            " the plan's time limit)"
        )
    elif what_ifs:
        todo, skipped = candidates(dataset, shadow, bn, causes)
        notes += skipped
        if progress is not None and todo:
            progress(f"the reports: {len(todo)} what-if{'s' if len(todo) > 1 else ''} re-solved")
        # a MILP plan not proven optimal: its what-ifs' search may find better plans
        # that owe nothing to the option; a re-plan of the plan's own dataset, searched
        # the same way, is what they are measured against
        control = (
            dataset
            if plan.summary.integer_variables
            and plan.summary.status != "optimal"
            and dataset.settings.priority.mode == "weighted"
            else None
        )
        options = evaluate(
            plan, todo, seconds, workers=_what_if_workers(dataset, plan), control=control
        )
        if len(options) and (options["status"] != "optimal").any():
            notes.append(
                f"some what-ifs stopped at their {seconds:g} s limit before proving optimality"
            )
        if control is not None and len(options):
            notes.append(
                f"the what-ifs start from the plan's setups and search on for up to {seconds:g}"
                " s; each is measured against the plan searched the same way without its"
                " change, so that what the search finds anyway is not counted as the option's"
            )
    elapsed = time.perf_counter() - started
    logger.info("analysis of %s in %.2f s", dataset.name, elapsed)
    return Analysis(
        dataset_name=dataset.name,
        periods=tuple(dataset.period_ids),
        horizon_periods=dataset.settings.exceptions.horizon_periods,
        summary=plan.summary,
        shadow=shadow,
        exceptions=exc,
        bottlenecks=bn,
        causes=causes,
        priorities=prio,
        builds=builds,
        depletions=depletions,
        options=options,
        families=fam,
        notes=tuple(notes),
        seconds=elapsed,
    )


def _as_planned(dataset: Dataset, summary: Summary) -> Dataset:
    """The dataset with the solver and priority mode the plan was made with."""
    overrides: dict[str, object] = {}
    if summary.mode and summary.mode != dataset.settings.priority.mode:
        overrides["priority__mode"] = summary.mode
    if summary.solver in BACKENDS and summary.solver != dataset.settings.solve.solver:
        overrides["solve__solver"] = summary.solver
    if not overrides:
        return dataset
    return dataset.replace(settings=dataset.settings.with_overrides(**overrides))


__all__ = [
    "BOTTLENECK_COLUMNS",
    "CAUSE_COLUMNS",
    "EXCEPTION_COLUMNS",
    "Analysis",
    "ShadowPrices",
    "analyse",
    "shadow_prices",
]
