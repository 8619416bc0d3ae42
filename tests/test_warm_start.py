"""How soe starts HiGHS's simplex: an LP plan keeps its optimal basis, and LPs that
differ from it only in bounds (the report's dual LP, what-ifs) start from it instead of
from scratch; an LP without one starts from the formulation's just-in-time basis and is solved first
without its capacity rows."""

from __future__ import annotations

import dataclasses
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.generate import generate
from formulations.allocation import build
from optimizer.analysis.duals import shadow_prices
from optimizer.backends import base
from optimizer.backends.base import Basis, SolveOptions, SolveStatus
from optimizer.backends.highs import HighsBackend
from optimizer.dataset import Dataset, load_dataset
from optimizer.heuristics import starting_basis
from optimizer.solve import plan
from tests.conftest import DATA


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    folder = generate("s", 3, tmp_path_factory.mktemp("warm") / "s")
    return load_dataset(folder)


def test_an_lp_plan_keeps_its_basis_through_pickling(small: Dataset) -> None:
    p = plan(small)
    assert p.basis is not None
    lp = build(small).lp
    assert p.basis.fits(lp)
    assert (p.basis.row_status == 1).sum() + (p.basis.col_status == 1).sum() == lp.num_rows
    again = pickle.loads(pickle.dumps(p))
    assert again.basis is not None
    assert np.array_equal(again.basis.col_status, p.basis.col_status)


def test_a_milp_plan_has_no_basis() -> None:
    p = plan(load_dataset(DATA / "bodywash"))
    assert p.summary.integer_variables > 0
    assert p.basis is None


def test_unboxed_lp_from_the_boxed_basis(small: Dataset) -> None:
    """The report's LP (the builder's boxes taken off): from the plan's basis it reaches
    the same optimum in a fraction of the iterations."""
    model = build(small)
    highs = HighsBackend()
    boxed = highs.solve(model.lp, SolveOptions(want_basis=True))
    assert boxed.status is SolveStatus.OPTIMAL and boxed.basis is not None
    unboxed = dataclasses.replace(model.lp, upper=model.unboxed_upper())
    cold = highs.solve(unboxed, SolveOptions(want_duals=True))
    warm = highs.solve(unboxed, SolveOptions(want_duals=True, basis=boxed.basis))
    assert warm.status is SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.objective == pytest.approx(boxed.objective, rel=1e-9)
    assert warm.iterations * 5 < cold.iterations


def test_a_basis_of_another_shape_is_ignored(small: Dataset, tmp_path: Path) -> None:
    other = load_dataset(generate("s", 4, tmp_path / "other"))
    highs = HighsBackend()
    foreign = highs.solve(build(other).lp, SolveOptions(want_basis=True)).basis
    lp = build(small).lp
    assert foreign is not None and not foreign.fits(lp)
    # another dataset, not a what-if of this one: too little in common to start from
    assert foreign.for_model(lp) is None
    cold = highs.solve(lp, SolveOptions())
    warm = highs.solve(lp, SolveOptions(basis=foreign))
    assert warm.status is SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)


def _no_overtime(ds: Dataset, line: str, period: int) -> Dataset:
    """``ds`` with ``line``'s overtime taken away in its period at position ``period``
    (its overtime column for that week goes: the model has one column fewer)."""
    week = ds.periods["period"].iloc[period]
    hours = float(ds.lines.set_index("line").loc[line, "hours"])
    row = pd.DataFrame(
        {"line": [line], "period": [week], "hours": [hours], "overtime_hours": [0.0]}
    )
    return ds.replace(line_calendar=pd.concat([ds.line_calendar, row], ignore_index=True))


@pytest.mark.parametrize("period", [1, 3])
def test_a_what_if_of_another_shape_starts_from_what_it_shares(
    small: Dataset, period: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A what-if that takes a column away (a line-week's overtime) no longer fits the
    plan's basis position by position; matched by label, it still starts the what-if,
    which reaches the same optimum as from scratch in far fewer iterations. In the
    second period the column was at its bound; in the fourth it was basic, so what is
    left of the basis is one basic column short, which HiGHS makes good (``alien``).
    (Size s is under the size from which soe matches bases: the test lowers it.)"""
    monkeypatch.setattr(base, "MATCH_MIN_ROWS", 0)
    model = build(small)
    highs = HighsBackend()
    first = highs.solve(model.lp, SolveOptions(want_basis=True))
    assert first.basis is not None
    overtime = model.lp.variables["overtime"]
    at = overtime.start + int(np.flatnonzero(overtime.index["line"] == "L03")[period])
    assert (first.basis.col_status[at] == 1) == (period == 3)
    changed = build(_no_overtime(small, "L03", period)).lp
    assert changed.num_cols == model.lp.num_cols - 1
    assert not first.basis.fits(changed)
    mapped = first.basis.for_model(changed)
    assert mapped is not None and mapped.alien
    assert len(mapped.col_status) == changed.num_cols
    assert len(mapped.row_status) == changed.num_rows
    basic = int((mapped.col_status == 1).sum() + (mapped.row_status == 1).sum())
    assert basic == changed.num_rows - (period == 3)
    cold = highs.solve(changed, SolveOptions())
    warm = highs.solve(changed, SolveOptions(basis=first.basis))
    assert warm.status is SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations * 5 < cold.iterations


def test_a_basis_is_matched_by_label_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared members keep their status and the bounds the basis was found under; a
    column it does not know starts at its own finite bound, a row with its slack
    basic; a block whose labels repeat is left to those defaults."""
    monkeypatch.setattr(base, "MATCH_MIN_ROWS", 0)
    from formulations.lp import Block, LinearModel

    def model(cols: list[str], rows: list[str], lower: list[float], dup: int) -> LinearModel:
        n, m = len(cols) + dup, len(rows)
        variables = {"x": Block("x", 0, len(cols), pd.DataFrame({"k": cols}))}
        if dup:  # a block with the same label twice
            variables["d"] = Block("d", len(cols), dup, pd.DataFrame({"k": ["same"] * dup}))
        return LinearModel(
            cost=np.zeros(n),
            lower=np.array(lower + [0.0] * dup),
            upper=np.full(n, 10.0),
            integer=np.zeros(n, dtype=bool),
            row_lower=np.zeros(m),
            row_upper=np.ones(m),
            a_start=np.zeros(n + 1, dtype=np.int64),
            a_index=np.zeros(0, dtype=np.int64),
            a_value=np.zeros(0),
            variables=variables,
            constraints={"r": Block("r", 0, m, pd.DataFrame({"k": rows}))},
        )

    labels = [f"a{i}" for i in range(30)]
    old = model(labels, ["r1", "r2"], [0.0] * 30, 2)
    status = np.array([1, 2, 0] * 10 + [1, 2], dtype=np.int8)
    basis = Basis(
        col_status=status,
        row_status=np.array([0, 2], dtype=np.int8),
        lower=np.arange(32.0) - 50,  # the bounds it was found under: not the model's
        upper=np.arange(32.0) + 50,
        variables=old.variables,
        constraints=old.constraints,
    )
    assert basis.for_model(old) is basis  # it fits
    # a0 gone, "new" added (lower bound 3), the rest in reverse order; a row added
    kept = labels[1:][::-1]
    new = model([*kept, "new"], ["r2", "r0", "r1"], [0.0] * 29 + [3.0], 2)
    got = basis.for_model(new)
    assert got is not None and got.alien
    at = [int(k[1:]) for k in kept]  # each kept label's column in the old model
    assert got.col_status[:29].tolist() == status[at].tolist()
    assert got.lower[:29].tolist() == (np.array(at) - 50.0).tolist()
    assert got.upper[:29].tolist() == (np.array(at) + 50.0).tolist()
    assert (got.col_status[29], got.lower[29], got.upper[29]) == (0, 3.0, 10.0)  # its own
    assert got.col_status[30:].tolist() == [0, 0]  # repeated labels: not matched
    assert got.row_status.tolist() == [2, 1, 0]
    # sharing under 90% of the columns: another dataset, no start
    other = model(labels[:25] + [f"b{i}" for i in range(5)], ["r1"], [0.0] * 30, 2)
    assert basis.for_model(other) is None
    # a model under MATCH_MIN_ROWS rows is solved from scratch instead
    monkeypatch.setattr(base, "MATCH_MIN_ROWS", new.num_rows + 1)
    assert basis.for_model(new) is None
    monkeypatch.setattr(base, "MATCH_MIN_ROWS", 0)
    # without its model's labels, a basis starts only a model of its own shape
    smaller = model(labels[1:], ["r1"], [0.0] * 29, 2)
    assert basis.for_model(smaller) is not None
    assert dataclasses.replace(basis, variables={}).for_model(smaller) is None


def test_report_duals_are_the_same_warm_or_cold(small: Dataset) -> None:
    p = plan(small)
    warm = shadow_prices(small, p)
    cold = shadow_prices(small, dataclasses.replace(p, basis=None))
    assert warm.available and cold.available
    # duals of a degenerate LP need not be unique; these instances have unique ones
    for name in ("capacity", "material", "stock", "entry"):
        assert np.allclose(getattr(warm, name), getattr(cold, name), atol=1e-6), name


def test_a_replan_from_last_weeks_basis_has_the_same_optimum(small: Dataset) -> None:
    """A changed dataset of the same shape (10% more forecast) planned from the first
    plan's basis: the same objective as from scratch, and a verified plan."""
    first = plan(small)
    more = small.replace(forecast=small.forecast.assign(quantity=small.forecast["quantity"] * 1.1))
    cold = plan(more)
    warm = plan(more, basis=first.basis)
    assert warm.summary.status == "optimal"
    assert warm.summary.objective == pytest.approx(cold.summary.objective, rel=1e-9)


def test_capacity_rows_relaxed_first_give_the_same_optimum(small: Dataset) -> None:
    lp = build(small).lp
    highs = HighsBackend()
    whole = highs.solve(lp, SolveOptions(want_duals=True))
    staged = highs.solve(lp, SolveOptions(want_duals=True, relax_first=("capacity",)))
    assert staged.status is SolveStatus.OPTIMAL
    # two runs, not one: the iterations differ from the single solve's
    assert staged.iterations != whole.iterations
    assert staged.objective == pytest.approx(whole.objective, rel=1e-9)
    assert staged.values is not None and staged.duals is not None
    # the restored rows hold
    activity = lp.row_activity(staged.values)
    assert (activity <= lp.row_upper + 1e-6).all() and (activity >= lp.row_lower - 1e-6).all()
    # capacity binds here: without its rows the LP is cheaper, so the second solve,
    # from the first one's basis, had rows to restore
    free_rows = np.arange(lp.constraints["capacity"].start, lp.constraints["capacity"].stop)
    lower, upper = lp.row_lower.copy(), lp.row_upper.copy()
    lower[free_rows], upper[free_rows] = -np.inf, np.inf
    free = highs.solve(dataclasses.replace(lp, row_lower=lower, row_upper=upper), SolveOptions())
    assert free.objective < whole.objective - 1.0


def test_a_milp_is_solved_whole(make: Callable[..., Dataset]) -> None:
    """The staged solve is for LPs (it slowed the MILP's relaxations down)."""
    ds = make(routings="product,line,rate,setup_hours\nA,L1,10,1\nB,L1,10,2")
    lp = build(ds).lp
    assert lp.is_mip
    highs = HighsBackend()
    a = highs.solve(lp, SolveOptions())
    b = highs.solve(lp, SolveOptions(relax_first=("capacity",)))
    assert a.status is b.status is SolveStatus.OPTIMAL
    assert a.objective == pytest.approx(b.objective)
    assert a.iterations == b.iterations


def test_a_basis_starts_a_model_with_rows_added(small: Dataset) -> None:
    """A lexicographic stage's limit row appended: the previous basis still starts it
    (the new row's slack basic), at the same optimum, in a few iterations."""
    model = build(small)
    highs = HighsBackend()
    first = highs.solve(model.lp, SolveOptions(want_basis=True))
    assert first.basis is not None and first.values is not None
    short = model.short
    limit = float(first.values[short].sum()) + 1.0
    more = model.lp.with_rows(
        [short],
        [np.ones(len(short))],
        np.array([-np.inf]),
        np.array([limit]),
        "limit",
        pd.DataFrame({"k": [1]}),
    )
    assert first.basis.fits(more)
    cold = highs.solve(more, SolveOptions())
    warm = highs.solve(more, SolveOptions(basis=first.basis))
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations < 5


def _basis_matrix(model: Any, basis: Basis) -> np.ndarray:
    """The basis matrix [A I] restricted to the basic columns and slacks, dense."""
    lp = model.lp
    a = np.zeros((lp.num_rows, lp.num_cols))
    for j in range(lp.num_cols):
        rows = lp.a_index[lp.a_start[j] : lp.a_start[j + 1]]
        a[rows, j] = lp.a_value[lp.a_start[j] : lp.a_start[j + 1]]
    full = np.hstack([a, np.eye(lp.num_rows)])
    return full[:, np.concatenate([basis.col_status == 1, basis.row_status == 1])]


# JIT: A on L1 (2 a unit) or L2 (1 a unit); L2 is down in W2, so A's W2 comes from L1.
# B has no routing: its balance rows have its closing stock basic.
JIT = dict(
    base=False,
    periods="period,start\nW1,2026-11-30\nW2,2026-12-07",
    products="product,shortage_cost,initial_inventory\nA,10,0\nB,10,5",
    lines="line,hours\nL1,10\nL2,10",
    line_calendar="line,period,hours\nL2,W2,0",
    routings="product,line,rate,run_cost\nA,L1,10,2\nA,L2,10,1",
    forecast="product,period,quantity\nA,W1,30\nA,W2,30\nB,W1,5",
)


def test_the_crash_basis_makes_demand_just_in_time_on_the_cheapest_line(
    make: Callable[..., Dataset],
) -> None:
    model = build(make(**JIT))
    col, row = model.crash_basis()
    lp = model.lp
    assert (col == 1).sum() + (row == 1).sum() == lp.num_rows
    d = model.data
    a, b = (list(d.product_ids).index(p) for p in ("A", "B"))
    on = {str(line): r for r, line in enumerate(d.line_ids[d.rl])}
    x = model.x
    # A: L2 in W1 (cheaper), L1 in W2 (L2 has no hours); the other is nonbasic
    assert col[x[on["L2"], 0]] == 1 and col[x[on["L1"], 0]] == 0
    assert col[x[on["L1"], 1]] == 1 and col[x[on["L2"], 1]] == 0
    # B: its closing stock
    assert col[model.inv[b]].tolist() == [1, 1]
    assert col[model.inv[a]].tolist() == [0, 0]
    # every on-time shipment basic, every late one and every shortage nonbasic
    due = d.et[model.group_entry][model.f_group]
    assert (col[model.f[model.f_period == due]] == 1).all()
    assert (col[model.f[model.f_period != due]] == 0).all()
    assert (col[model.short] == 0).all()
    # balance and service rows nonbasic, capacity rows' slacks basic
    for block, status in (("balance", 0), ("service", 0), ("capacity", 1)):
        rows = lp.constraints[block]
        assert (row[rows.start : rows.stop] == status).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_crash_basis_is_never_singular(seed: int, tmp_path: Path) -> None:
    """Materials, safety stock, overtime and late shipments included (generated s)."""
    model = build(load_dataset(generate("s", seed, tmp_path / "s")))
    basis = starting_basis(model)
    matrix = _basis_matrix(model, basis)
    assert matrix.shape == (model.lp.num_rows, model.lp.num_rows)
    assert np.linalg.matrix_rank(matrix) == model.lp.num_rows


def test_the_crash_basis_starts_near_the_optimum(small: Dataset) -> None:
    """Same optimum as from the slack basis, staged or not, in far fewer iterations."""
    model = build(small)
    highs = HighsBackend()
    cold = highs.solve(model.lp, SolveOptions(threads=1))
    crash = starting_basis(model)
    warm = highs.solve(model.lp, SolveOptions(threads=1, crash=crash))
    staged = highs.solve(model.lp, SolveOptions(threads=1, crash=crash, relax_first=("capacity",)))
    for s in (warm, staged):
        assert s.status is SolveStatus.OPTIMAL
        assert s.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations < cold.iterations / 2
    # a crash that does not fit is ignored; a given basis wins over the crash
    other = Basis(crash.col_status[:-1], crash.row_status, crash.lower[:-1], crash.upper[:-1])
    ignored = highs.solve(model.lp, SolveOptions(threads=1, crash=other))
    assert ignored.iterations == cold.iterations
    best = highs.solve(model.lp, SolveOptions(want_basis=True, threads=1))
    assert best.basis is not None
    again = highs.solve(model.lp, SolveOptions(threads=1, basis=best.basis, crash=crash))
    assert again.iterations == 0


def test_plan_starts_an_lp_from_the_crash_basis(
    small: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``plan()`` hands the formulation's basis to the backend for an LP (not a MILP)."""
    seen: list[SolveOptions] = []
    original = HighsBackend.solve

    def spy(self: HighsBackend, model: Any, options: SolveOptions) -> Any:
        seen.append(options)
        return original(self, model, options)

    monkeypatch.setattr(HighsBackend, "solve", spy)
    plan(small)
    plan(load_dataset(DATA / "bodywash"))
    lp_options, milp_options = seen[0], seen[-1]
    assert lp_options.crash is not None and lp_options.relax_first == ("capacity",)
    assert milp_options.crash is None


@pytest.mark.parametrize("boxed", [True, False])
def test_the_basis_read_back_is_highs_own(small: Dataset, boxed: bool) -> None:
    """soe rebuilds the optimal basis from HiGHS's basic variables and the solution
    (faster than reading its statuses): it is the basis ``getBasis()`` gives, entry for
    entry, nonbasic fixed rows (the balances) and unbounded columns included."""
    import highspy

    from optimizer.backends.highs import _get_basis, pass_model

    model = build(small)
    lp = model.lp if boxed else dataclasses.replace(model.lp, upper=model.unboxed_upper())
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_model(highspy, h, lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    sol = h.getSolution()
    ours = _get_basis(highspy, h, lp, sol, np.asarray(sol.col_value))
    assert ours is not None
    theirs = h.getBasis()
    assert ours.col_status.tolist() == [s.value for s in theirs.col_status]
    assert ours.row_status.tolist() == [s.value for s in theirs.row_status]
    fixed_rows = lp.row_lower == lp.row_upper
    assert {0, 2} <= set(ours.row_status[fixed_rows].tolist())  # both signs occur


def test_a_free_row_and_column_read_back_as_highs_says() -> None:
    """A hand-made LP: min -x + 0 y  s.t.  x + y free row, x - y <= 1, x <= 2, y free."""
    import highspy

    from formulations.lp import LinearModel
    from optimizer.backends.highs import _get_basis, pass_model

    lp = LinearModel(
        cost=np.array([-1.0, 0.0]),
        lower=np.array([0.0, -np.inf]),
        upper=np.array([2.0, np.inf]),
        integer=np.zeros(2, dtype=bool),
        row_lower=np.array([-np.inf, -np.inf]),
        row_upper=np.array([np.inf, 1.0]),
        a_start=np.array([0, 2, 4]),
        a_index=np.array([0, 1, 0, 1]),
        a_value=np.array([1.0, 1.0, 1.0, -1.0]),
    )
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_model(highspy, h, lp)
    h.run()
    sol = h.getSolution()
    ours = _get_basis(highspy, h, lp, sol, np.asarray(sol.col_value))
    assert ours is not None
    theirs = h.getBasis()
    assert ours.col_status.tolist() == [s.value for s in theirs.col_status]
    assert ours.row_status.tolist() == [s.value for s in theirs.row_status]


@pytest.mark.parametrize("tied", [False, True])
def test_fixed_columns_read_back_on_the_side_highs_puts_them(tied: bool) -> None:
    """A fixed column sits at the bound its reduced cost's sign says; soe works that
    sign out from the row duals. min x0 + 3 x1 - 2 x2 + c3 x3  s.t.  x0 + x1 + x2 + x3
    >= 5, x1 = 1, x2 = 2, x3 = 0: x0 = 2 is basic and the row's dual is 1, so the
    reduced costs are 2 (x1, at its lower side), -3 (x2, upper) and c3 - 1 (x3). With
    ``tied`` (c3 = 1) that one is 0, too near to tell, and HiGHS's own duals are read."""
    import highspy

    from formulations.lp import LinearModel
    from optimizer.backends.highs import _get_basis, _negative_reduced_cost, pass_model

    lp = LinearModel(
        cost=np.array([1.0, 3.0, -2.0, 1.0 if tied else 4.0]),
        lower=np.array([0.0, 1.0, 2.0, 0.0]),
        upper=np.array([4.0, 1.0, 2.0, 0.0]),
        integer=np.zeros(4, dtype=bool),
        row_lower=np.array([5.0]),
        row_upper=np.array([np.inf]),
        a_start=np.array([0, 1, 2, 3, 4]),
        a_index=np.array([0, 0, 0, 0]),
        a_value=np.array([1.0, 1.0, 1.0, 1.0]),
    )
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pass_model(highspy, h, lp)
    h.run()
    sol = h.getSolution()
    negative = _negative_reduced_cost(lp, np.asarray(sol.row_dual), sol)
    assert negative[1:3].tolist() == [False, True]
    if not tied:
        assert not negative[3]
    ours = _get_basis(highspy, h, lp, sol, np.asarray(sol.col_value))
    assert ours is not None
    theirs = h.getBasis()
    assert ours.col_status.tolist() == [s.value for s in theirs.col_status]
    assert ours.col_status[1:3].tolist() == [0, 2]  # lower, upper


@pytest.mark.parametrize("case", ["numbered", "missing label", "too many labels"])
def test_rows_are_matched_by_their_labels(case: str) -> None:
    """The keys that match a block's rows to the old block's: equal exactly where all
    the labels are, whichever way they are made (numbered labels combined into one
    integer; the rows as a MultiIndex where a label is missing or the numbers would
    not fit in 62 bits)."""
    from optimizer.backends.base import label_keys

    n = 2**16 if case == "too many labels" else 6
    cols = ["a", "b", "c", "d"]
    # every row distinct in every column: n ** 4 combinations
    old = pd.DataFrame({c: [f"{c}{i}" for i in range(n)] for c in cols})
    new = old.iloc[::-1].reset_index(drop=True)  # the same rows, reversed
    new.loc[0, "b"] = "b-new"  # ... but the first one (old's last) is not there
    if case == "missing label":
        old.loc[1, "c"] = None
        new.loc[n - 2, "c"] = None  # old's row 1, reversed: the same labels
    known, keys = label_keys(old, new)
    assert isinstance(known, pd.MultiIndex) == (case != "numbered")
    at = known.get_indexer(keys)
    assert at[0] == -1
    assert at[1:].tolist() == list(range(n - 2, -1, -1))


SETUPS = "product,line,rate,setup_hours\nA,L1,10,1\nB,L1,10,1"
"""Both products on L1 (10 h a week, 10 an hour) with a setup of 1 h."""


def _setups(*keys: tuple[str, str, str]) -> pd.DataFrame:
    """A previous plan's production table with setups at ``keys``."""
    rows = [(p, ln, t, 50.0, 5.0, True) for p, ln, t in keys]
    return pd.DataFrame(rows, columns=["product", "line", "period", "quantity", "hours", "setup"])


def _open(model: Any, values: np.ndarray) -> set[tuple[str, str, str]]:
    block = model.lp.variables["setup"]
    on = np.flatnonzero(values[block.start : block.stop] > 0.5)
    return {tuple(r) for r in block.index.iloc[on][["product", "line", "period"]].to_numpy()}


def test_a_milp_starts_from_the_previous_plans_setups(make: Callable[..., Dataset]) -> None:
    """The first plan has the previous plan's setups, matched by label, and makes its
    products only there: A in W1 all that fits after the setup (9 h, 90 units: 60 for
    W1, 30 kept for W2) and B in W2 the 60 that can still ship (its W1 demand may not
    be late). A setup this model has no binary for (product C, week W9) is left out."""
    from optimizer.heuristics import previous_setups_start

    ds = make(routings=SETUPS)
    model = build(ds)
    previous = _setups(("A", "L1", "W1"), ("B", "L1", "W2"), ("C", "L1", "W1"), ("A", "L1", "W9"))
    got = previous_setups_start(model, previous, time.perf_counter() + 10)
    assert got is not None
    values = got[0]
    assert _open(model, values) == {("A", "L1", "W1"), ("B", "L1", "W2")}
    x = values[model.x]  # routings A, B by weeks W1, W2
    assert x.tolist() == [[90.0, 0.0], [0.0, 60.0]]
    # the plan keeps every row of the model
    activity = model.lp.row_activity(values)
    assert (activity <= model.lp.row_upper + 1e-6).all()
    assert (activity >= model.lp.row_lower - 1e-6).all()
    # none of the previous setups here: no start
    assert (
        previous_setups_start(model, _setups(("C", "L1", "W1")), time.perf_counter() + 10) is None
    )


def test_a_previous_lot_at_its_minimum_is_kept(make: Callable[..., Dataset]) -> None:
    """The previous plan made A's minimum lot, 50, in W1 for a demand of 20 there (the
    setup, 1, and the 30 left over held two weeks, 0.60, cost less than 20 short at 100).
    Its first plan from that setup makes the 50 again, and costs what the plan did, 1.60.
    (Solved with lots from 0, the LP made 20, under the minimum, and the setup was
    closed: A went short, 2,000.)"""
    from optimizer.heuristics import previous_setups_start

    ds = make(
        base=False,
        products="product,priority,shortage_cost,holding_cost\nA,1,100,0.01",
        lines="line,hours\nL1,10",
        routings="product,line,rate,setup_hours,setup_cost,min_lot\nA,L1,10,1,1,50",
        forecast="product,period,quantity\nA,W1,20",
    )
    first = plan(ds)
    assert first.summary.status == "optimal"
    assert first.production["quantity"].tolist() == [50.0]
    model = build(ds)
    got = previous_setups_start(model, first.production, time.perf_counter() + 10)
    assert got is not None
    assert got[0][model.x].tolist() == [[50.0, 0.0]]
    assert first.summary.objective == pytest.approx(1.6)
    assert float(model.lp.cost @ got[0] + model.lp.offset) == pytest.approx(1.6)


def test_a_previous_lot_under_its_minimum_is_closed(make: Callable[..., Dataset]) -> None:
    """B's minimum lot is 70 but only 40 of it can go anywhere (30 for W2's demand, its
    last week, and 10 into stock, B's room): with its setup fixed open and its lot at its
    minimum the LP is infeasible, so the lots start from 0; the LP makes 30, under the
    minimum, so that setup is closed and the LP solved again; A's stays."""
    from optimizer.heuristics import previous_setups_start

    ds = make(
        products="product,priority,shortage_cost,max_inventory\nA,1,5,\nB,2,5,10",
        routings="product,line,rate,setup_hours,min_lot\nA,L1,10,1,0\nB,L1,10,1,70",
        forecast="product,period,quantity\nA,W1,60\nA,W2,60\nB,W2,30",
    )
    model = build(ds)
    got = previous_setups_start(
        model, _setups(("A", "L1", "W1"), ("B", "L1", "W2")), time.perf_counter() + 10
    )
    assert got is not None
    assert _open(model, got[0]) == {("A", "L1", "W1")}
    assert got[0][model.x].tolist() == [[90.0, 0.0], [0.0, 0.0]]


def test_a_milp_what_if_from_the_plan_it_changes(make: Callable[..., Dataset]) -> None:
    """``plan(what_if, start=plan)``: the what-if's search starts from the plan's setups
    and reaches the optimum it reaches from scratch."""
    ds = make(routings=SETUPS)
    first = plan(ds)
    assert first.summary.integer_variables > 0 and first.basis is None
    down = ds.replace(lines=ds.lines.assign(hours=8.0))
    logs: list[str] = []
    warm = plan(down, start=first, log=logs.append)
    cold = plan(down)
    assert any("first plan from the previous plan's setups" in line for line in logs)
    assert warm.summary.status == cold.summary.status == "optimal"
    assert warm.summary.objective == pytest.approx(cold.summary.objective, rel=1e-6)
