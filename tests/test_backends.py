"""Backend plumbing: plans handed to a running MIP search, the time limit kept at the
root, and HiGHS's process-wide thread pool."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from benchmarks.generate import generate
from formulations.allocation import build
from optimizer import Dataset, load_dataset, plan
from optimizer.backends.base import Incumbents, Solution, SolveStatus, SolveThread
from optimizer.backends.highs import (
    DEADLINE_GRACE,
    HighsBackend,
    _parallel_simplex,
    _spare,
    _subscribe_deadline,
    _subscribe_found,
    _subscribe_incumbents,
)


def test_incumbents_keep_the_cheapest_and_hand_it_over_once() -> None:
    feed = Incumbents()
    assert feed.take() is None
    assert feed.best() == (float("inf"), None)
    assert feed.offer(np.array([1.0, 2.0]), 10.0)
    assert not feed.offer(np.array([9.0, 9.0]), 12.0)  # dearer: not kept
    assert feed.take(worse_than=10.0) is None  # the solver has as good a plan
    taken = feed.take(worse_than=11.0)
    assert taken is not None and taken.tolist() == [1.0, 2.0]
    assert feed.take() is None  # once only
    values = np.array([3.0, 4.0])
    assert feed.offer(values, 8.0)
    values[0] = -1.0  # the feed keeps its own copy
    best = feed.best()
    assert best[0] == 8.0 and best[1] is not None and best[1].tolist() == [3.0, 4.0]
    taken = feed.take()
    assert taken is not None and taken.tolist() == [3.0, 4.0]


class _Callbacks:
    """A stand-in for a ``highspy.Highs`` instance: records what soe subscribes."""

    def __init__(self) -> None:
        self.subscribed: dict[str, Callable[[Any], None]] = {}

    def __getattr__(self, name: str) -> Any:
        return SimpleNamespace(subscribe=lambda f: self.subscribed.__setitem__(name, f))


def _event(primal: float = float("inf")) -> Any:
    given: list[np.ndarray] = []
    data_in = SimpleNamespace(user_interrupt=False, setSolution=given.append)
    data_out = SimpleNamespace(mip_primal_bound=primal)
    return SimpleNamespace(data_out=data_out, data_in=data_in), given


def test_the_solver_takes_an_offered_plan_only_when_it_is_better() -> None:
    h = _Callbacks()
    feed = Incumbents()
    _subscribe_incumbents(h, feed)
    callback = h.subscribed["cbMipUserSolution"]
    event, given = _event()
    callback(event)
    assert given == []  # nothing offered yet
    feed.offer(np.array([1.0, 0.0]), 50.0)
    event, given = _event(primal=40.0)
    callback(event)
    assert given == []  # the solver's own plan costs less
    feed.offer(np.array([0.0, 1.0]), 30.0)
    event, given = _event(primal=40.0)
    callback(event)
    assert [g.tolist() for g in given] == [[0.0, 1.0]]


def test_the_solver_offers_its_own_better_plans() -> None:
    """Each plan is valued by its own values, not by the objective HiGHS reports beside
    them: HiGHS 1.16's first solution callback of a solve can carry the start's values
    with the new plan's objective."""
    h = _Callbacks()
    found = Incumbents()
    model = SimpleNamespace(num_cols=3, cost=np.array([1.0, 2.0, 3.0]), offset=1.0)
    _subscribe_found(h, found, model)  # type: ignore[arg-type]
    start = np.array([1.0, 1.0, 2.0])  # costs 1 + 2 + 6 + 1 = 10
    h.subscribed["cbMipImprovingSolution"](
        SimpleNamespace(data_out=SimpleNamespace(mip_solution=start, mip_primal_bound=7.0))
    )
    assert found.best()[0] == 10.0  # the start's values: its own cost, not 7
    solution = np.array([0.0, 1.0, 1.0])  # 0 + 2 + 3 + 1 = 6
    h.subscribed["cbMipSolution"](
        SimpleNamespace(data_out=SimpleNamespace(mip_solution=solution, mip_primal_bound=7.0))
    )
    solution[0] = 9.0  # HiGHS reuses its buffer: the offer is a copy
    objective, values = found.best()
    assert objective == 6.0 and values is not None and values.tolist() == [0.0, 1.0, 1.0]


def _deadline_checks(deadline: float) -> tuple[Callable[[float], bool], list[bool]]:
    """A deadline watcher on a fake clock: ``at(t)`` is HiGHS checking in at ``t``
    (returns whether it is told to stop)."""
    now = [0.0]
    h = _Callbacks()
    stopped = [False]
    _subscribe_deadline(h, deadline, stopped, clock=lambda: now[0])
    check = h.subscribed["cbMipInterrupt"]

    def at(t: float) -> bool:
        now[0] = t
        event, _ = _event()
        check(event)
        return bool(event.data_in.user_interrupt)

    return at, stopped


def test_the_search_stops_before_a_step_would_overrun_the_time_limit() -> None:
    at, stopped = _deadline_checks(100.0)
    assert not at(1.0)  # a 1 s step, 99 s left
    assert not at(50.0)  # a 49 s step: the next would end at 99 s, in time
    assert not at(60.0)
    assert not stopped[0]
    assert at(95.0)  # the last step took 35 s: the next would end long after 100 s
    assert stopped[0]


def test_a_step_ending_within_the_grace_goes_on() -> None:
    assert DEADLINE_GRACE * 100.0 == pytest.approx(2.0)
    at, stopped = _deadline_checks(100.0)
    for t in range(10, 100, 10):
        assert not at(float(t))  # 10 s steps, each ending in time
    assert not at(96.0)  # a 6 s step: the next would end at 102 s, within the grace
    assert at(101.5)
    assert stopped[0]


@pytest.mark.parametrize("threads", [[0, 1, 2, 0, 1], [2, 1]])
def test_plans_with_other_thread_counts_in_one_process(
    bodywash: Dataset, threads: list[int]
) -> None:
    """HiGHS's thread pool is started once per process; a later plan asking for another
    number of threads still gets its plan (it failed with status "Not Set")."""
    objectives: list[float] = []
    for n in threads:
        result = plan(bodywash, bodywash.settings.with_overrides(solve__threads=n))
        assert result.summary.status == "optimal", result.summary.message
        assert result.summary.objective is not None
        objectives.append(result.summary.objective)
    assert max(objectives) - min(objectives) <= 1e-6 * abs(objectives[0])


def test_plans_at_once_in_threads_with_other_thread_counts(bodywash: Dataset) -> None:
    """Found by a tester: HiGHS keeps a pool per calling thread, so two plans at once in
    a thread pool, one with ``threads = 0`` and one with ``1`` (or ``3``), came back
    "Not Set" now and then (5 of 20) when a thread's pool had been started by the other
    kind of plan."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [bodywash.settings.with_overrides(solve__threads=n) for n in (0, 1, 3, 1)] * 4
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: plan(bodywash, s), jobs))
    assert [r.summary.status for r in results] == ["optimal"] * len(jobs)
    objectives = [r.summary.objective or 0.0 for r in results]
    assert max(objectives) - min(objectives) <= 1e-6 * abs(objectives[0])


@pytest.mark.parametrize(
    ("cpus", "loadavg", "quota", "spare"),
    [
        (2, "0.95 1.01 0.99 1/76 27249", None, 1),  # only the reader runs
        (2, "1.90 1.50 1.20 3/77 27297", None, 0),  # another process holds a core
        (8, "2.00 2.00 2.00 3/300 1", None, 5),
        (8, "0.10 0.10 0.10 1/300 1", 1.5, 0),  # a cgroup quota of 1.5 CPUs
        (1, "0.00 0.00 0.00 1/10 1", None, 0),
        (2, "garbled", None, 0),
    ],
)
def test_spare_cores_from_the_kernels_figures(
    cpus: int, loadavg: str, quota: float | None, spare: int
) -> None:
    assert _spare(cpus, loadavg, quota) == spare


def test_parallel_simplex_when_asked_for_or_a_core_is_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import optimizer.backends.highs as highs

    monkeypatch.setattr(highs, "spare_cores", lambda: 0)
    assert _parallel_simplex(2) and not _parallel_simplex(0) and not _parallel_simplex(1)
    monkeypatch.setattr(highs, "spare_cores", lambda: 1)
    assert _parallel_simplex(0) and not _parallel_simplex(1)
    # never beside another HiGHS solve of the process (a search beside branch and cut)
    monkeypatch.setattr(highs, "SCHEDULER", SimpleNamespace(busy=True))
    assert not any(_parallel_simplex(n) for n in (0, 1, 2))


def test_the_parallel_simplex_finds_the_same_plan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The choice depends on the machine's load at that moment; the plan must not."""
    import optimizer.backends.highs as highs
    from optimizer.backends import SolveOptions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build(load_dataset(generate("s", 2, tmp_path / "s"))).lp
    values = []
    for spare in (0, 1):
        monkeypatch.setattr(highs, "spare_cores", lambda spare=spare: spare)
        solution = HighsBackend().solve(model, SolveOptions(relax_first=("capacity",)))
        assert solution.values is not None
        values.append(solution.values)
    np.testing.assert_array_equal(values[0], values[1])


def test_lp_progress_counts_the_iterations_of_both_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The staged solve's second run logs its iterations from 0; the progress line goes
    on from the first run's count instead of falling back to "0 iterations"."""
    import optimizer.backends.highs as highs

    callbacks: list[Callable[[Any], None]] = []
    h = SimpleNamespace(
        cbLogging=SimpleNamespace(subscribe=callbacks.append),
        setOptionValue=lambda *args: None,
    )
    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    lines: list[str] = []
    highs._subscribe_lp_progress(h, lines.append, logged=True)
    (on_log,) = callbacks
    for seconds, message in [
        (5.0, "      5000     1.0e+06 Ph1: 10(20); Du: 0(0) 5s"),
        (11.0, "    126035     2.0e+06 Pr: 0(0) 11s"),
        (12.0, "Model status        : Optimal"),  # not an iteration line
        (21.5, "         0     2.0e+06 Du: 3(4) 21s"),
        (33.0, "      7459     2.1e+06 Du: 1(2) 33s"),
    ]:
        clock[0] = seconds
        on_log(SimpleNamespace(message=message))
    assert lines == [
        "    11.0 s  solving the LP: 126,035 iterations",
        "    21.5 s  solving the LP: 126,035 iterations",
        "    33.0 s  solving the LP: 133,494 iterations",
    ]


def test_mip_progress_lines_count_from_the_plans_clock_and_keep_a_known_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A branch and cut started after soe's first plan: its lines count the plan's
    seconds, not its own, and show soe's bound where HiGHS has none or a lower one."""
    import optimizer.backends.highs as highs

    subscribed: dict[str, Callable[[Any], None]] = {}

    def channel(name: str) -> SimpleNamespace:
        return SimpleNamespace(subscribe=lambda f: subscribed.setdefault(name, f))

    h = SimpleNamespace(
        cbMipImprovingSolution=channel("better"),
        cbMipLogging=channel("log"),
        cbMipInterrupt=channel("interrupt"),
    )
    clock = [100.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    lines: list[str] = []
    highs._subscribe_progress(h, lines.append, clock=60.0, floor=90.0)

    def event(primal: float, dual: float) -> SimpleNamespace:
        out = SimpleNamespace(mip_primal_bound=primal, mip_dual_bound=dual, running_time=7.0)
        return SimpleNamespace(data_out=out)

    subscribed["better"](event(120.0, float("-inf")))
    clock[0] = 111.0
    subscribed["interrupt"](event(110.0, 99.0))
    assert lines == [
        "    40.0 s  better    plan 120.00, bound 90.00, gap 25.00%",
        "    51.0 s  searching plan 110.00, bound 99.00, gap 10.00%",
    ]
    lines.clear()
    subscribed.clear()
    highs._subscribe_progress(h, lines.append)  # no clock, no floor: HiGHS's own figures
    subscribed["better"](event(float("inf"), float("-inf")))
    assert lines == ["     7.0 s  better    no plan yet, no bound yet"]


class _Interrupted(BaseException):
    """Stands for Ctrl-C (a ``KeyboardInterrupt`` would stop pytest itself)."""


def test_a_solve_thread_hands_back_its_result_or_its_error() -> None:

    worker = SolveThread("test-ok")
    worker.start(lambda: Solution(SolveStatus.OPTIMAL, objective=3.0))
    worker.wait()
    assert not worker.running and worker.result().objective == 3.0

    def fails() -> Solution:
        raise RuntimeError("solver crashed")

    worker = SolveThread("test-error")
    worker.start(fails)
    worker.wait()
    assert worker.solution is None
    with pytest.raises(RuntimeError, match="solver crashed"):
        worker.result()


def test_an_interrupted_wait_cancels_the_solve_and_re_raises() -> None:
    import threading
    import time

    worker = SolveThread("test-cancel")

    def until_cancelled() -> Solution:
        ends = time.perf_counter() + 30
        while not worker.cancelled.is_set() and time.perf_counter() < ends:
            threading.Event().wait(0.01)
        return Solution(SolveStatus.NO_SOLUTION if worker.cancelled.is_set() else SolveStatus.ERROR)

    worker.start(until_cancelled)
    thread = worker._thread
    assert thread is not None
    real_join = thread.join
    calls = []

    def interrupted_once(timeout: float | None = None) -> None:
        calls.append(timeout)
        if len(calls) == 1:
            raise _Interrupted
        real_join(timeout)

    thread.join = interrupted_once  # type: ignore[method-assign]
    with pytest.raises(_Interrupted):
        worker.wait()
    assert worker.cancelled.is_set() and not worker.running
    assert worker.result().status is SolveStatus.NO_SOLUTION  # stopped, not run to 30 s
