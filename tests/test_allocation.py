"""Hand-computable instances of MODEL.md, each solved by every installed backend.

Every instance states its optimum, worked out by hand, and the test asserts the
quantities, not just the status.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from formulations.allocation import build
from optimizer import Dataset
from optimizer.solve import plan

ONE_PERIOD = """
    period,start
    W1,2026-11-30
"""
THREE_PERIODS = """
    period,start
    W1,2026-11-30
    W2,2026-12-07
    W3,2026-12-14
"""


def qty(p: object, product: str, period: str, line: str | None = None) -> float:
    prod = p.production  # type: ignore[attr-defined]
    rows = prod[(prod["product"] == product) & (prod["period"] == period)]
    if line is not None:
        rows = rows[rows["line"] == line]
    return float(rows["quantity"].sum())


def unmet(p: object, entry: str) -> float:
    svc = p.service  # type: ignore[attr-defined]
    return float(svc.loc[svc["entry"] == entry, "unmet"].sum())


def run(ds: Dataset, solver: str, **overrides: object) -> object:
    settings = ds.settings.with_overrides(solve__solver=solver, solve__mip_gap=0.0, **overrides)
    result = plan(ds, settings)
    assert result.summary.status == "optimal"
    return result


def test_single_product_within_capacity(make: Callable[..., Dataset], solver: str) -> None:
    """Demand 50 fits the line (10 h x 10/h = 100): make exactly 50, run cost 2 x 50 = 100."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products="product,shortage_cost,holding_cost\nA,10,1",
        lines="line,hours\nL1,10",
        routings="product,line,rate,run_cost\nA,L1,10,2",
        forecast="product,period,quantity\nA,W1,50",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(50)
    assert p.summary.objective == pytest.approx(100)
    assert p.summary.objective_terms["production"] == pytest.approx(100)
    assert p.summary.fill_rate == {"overall": 1.0, "1": 1.0}


def test_capacity_crunch_forces_prebuild(make: Callable[..., Dataset], solver: str) -> None:
    """Capacity 100/week, demand 50 then 150: build 100 in W1 (50 to stock for W2) and
    100 in W2. Holding 1 x 50 = 50 beats shortage 10 x 50 = 500."""
    ds = make(
        base=False,
        products="product,shortage_cost,holding_cost\nA,10,1",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,50\nA,W2,150",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(100)
    assert qty(p, "A", "W2") == pytest.approx(100)
    inv = p.inventory.set_index("period")
    assert inv.loc["W1", "closing"] == pytest.approx(50)
    assert p.summary.objective == pytest.approx(50)


@pytest.mark.parametrize(
    ("receipt_period", "made", "short"),
    [
        # caps arrive in W2: make 40 in W2 and 40 in W3 (40 held one week: 40)
        ("W2", {"W2": 40, "W3": 40}, 0),
        # caps arrive late, in W3: only 40 can be made in W3; 40 short x 10 = 400
        ("W3", {"W2": 0, "W3": 40}, 40),
    ],
)
def test_late_material_receipt_moves_production(
    make: Callable[..., Dataset],
    solver: str,
    receipt_period: str,
    made: dict[str, float],
    short: float,
) -> None:
    """Line makes 40/week; 80 due in W3; each unit needs one cap, and the 80 caps arrive
    in ``receipt_period``."""
    ds = make(
        base=False,
        periods=THREE_PERIODS,
        products="product,shortage_cost,holding_cost\nA,10,1",
        lines="line,hours\nL1,4",
        routings="product,line,rate\nA,L1,10",
        materials="material\nCAP",
        bom="product,material,quantity_per_unit\nA,CAP,1",
        receipts=f"material,period,quantity,po\nCAP,{receipt_period},80,PO-1",
        forecast="product,period,quantity\nA,W3,80",
    )
    p = run(ds, solver)
    for period, q in made.items():
        assert qty(p, "A", period) == pytest.approx(q)
    assert unmet(p, "forecast:A:W3") == pytest.approx(short)
    assert p.summary.objective == pytest.approx(40 if short == 0 else 400)
    mat = p.materials.set_index("period")
    assert (mat["closing"] >= -1e-9).all()


TWO_TIERS = dict(
    base=False,
    periods=ONE_PERIOD,
    # A is tier 1 with a low shortage cost, B tier 2 with a 100x higher one
    products="product,priority,shortage_cost\nA,1,1\nB,2,100",
    lines="line,hours\nL1,10",
    routings="product,line,rate\nA,L1,10\nB,L1,10",
    forecast="product,period,quantity\nA,W1,100\nB,W1,100",
)


def test_two_tiers_weighted_costs_decide(make: Callable[..., Dataset], solver: str) -> None:
    """Weighted, base 10, K = 2: pi(A) = 1 x 10 = 10, pi(B) = 100 x 1 = 100. The line
    makes 100 units: all B; A short 100 x 10 = 1000."""
    p = run(make(**TWO_TIERS), solver)
    assert qty(p, "B", "W1") == pytest.approx(100)
    assert qty(p, "A", "W1") == pytest.approx(0)
    assert p.summary.objective == pytest.approx(1000)
    assert p.summary.fill_rate["1"] == pytest.approx(0.0)


def test_two_tiers_lexicographic_tier1_wins(make: Callable[..., Dataset], solver: str) -> None:
    """Lexicographic: tier 1 first, whatever the costs: all A; B short 100 at c_short
    100 = 10000 in the final objective."""
    p = run(make(**TWO_TIERS), solver, priority__mode="lexicographic")
    # MODEL.md lets a later stage use a 1e-6 relative slack on earlier tiers
    assert qty(p, "A", "W1") == pytest.approx(100, abs=1e-5)
    assert qty(p, "B", "W1") == pytest.approx(0, abs=1e-5)
    assert p.summary.objective == pytest.approx(10000, abs=1e-3)
    assert p.summary.fill_rate["1"] == pytest.approx(1.0)
    assert [s["stage"] for s in p.summary.stages] == ["tier 1", "tier 2", "final"]


def test_lexicographic_lateness_of_tier1_before_shortage_of_tier2(
    make: Callable[..., Dataset], solver: str
) -> None:
    """Line makes 100/week. A (tier 1) needs 100 in W1; B (tier 2) 100 in W1; lateness of
    one week allowed. Tier 1 on time comes first: A gets W1's 100 on time; B is
    served late in W2 (lateness 1 x 100 at c_late 1 = 100)."""
    ds = make(
        products="product,priority,shortage_cost,lateness_cost\nA,1,1,1\nB,2,100,1",
        forecast="product,period,quantity\nA,W1,100\nB,W1,100",
        settings="[demand]\nmax_lateness = 1\n[priority]\nmode = 'lexicographic'",
    )
    p = run(ds, solver)
    svc = p.service.set_index("entry")
    assert svc.loc["forecast:A:W1", "on_time"] == pytest.approx(100)
    assert svc.loc["forecast:B:W1", "late"] == pytest.approx(100)
    assert p.summary.objective == pytest.approx(100)


@pytest.mark.parametrize(("lateness", "objective"), [(1, 50), (0, 500)])
def test_lateness_allowed_vs_lost_sales(
    make: Callable[..., Dataset], solver: str, lateness: int, objective: float
) -> None:
    """Line makes 50/week; 100 due in W1. With one week of lateness, 50 ship on time and
    50 a week late (50 x c_late 1 = 50); without, 50 are lost (50 x 10 = 500)."""
    ds = make(
        products="product,shortage_cost,lateness_cost\nA,10,1",
        lines="line,hours\nL1,5",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,100",
        settings=f"[demand]\nmax_lateness = {lateness}",
    )
    p = run(ds, solver)
    svc = p.service.set_index("entry")
    assert svc.loc["forecast:A:W1", "on_time"] == pytest.approx(50)
    assert svc.loc["forecast:A:W1", "late"] == pytest.approx(50 if lateness else 0)
    assert svc.loc["forecast:A:W1", "unmet"] == pytest.approx(0 if lateness else 50)
    assert p.summary.objective == pytest.approx(objective)
    if lateness:
        ship = p.shipments.set_index("period")
        assert ship.loc["W2", "quantity"] == pytest.approx(50)


@pytest.mark.parametrize(
    ("max_inventory", "made", "closing", "objective"), [("", 80, 30, 30), ("20", 70, 20, 40)]
)
def test_safety_stock_built_when_its_cost_beats_holding(
    make: Callable[..., Dataset],
    solver: str,
    max_inventory: str,
    made: float,
    closing: float,
    objective: float,
) -> None:
    """Safety stock 30 costs 2 per unit short of it, holding 1: after serving 50, the
    line (100 a week) builds the stock: 80 made, 30 held, 30 x 1 = 30. With storage for
    20 only: 70 made, 20 held and 10 below target, 20 x 1 + 10 x 2 = 40."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products=(
            "product,shortage_cost,holding_cost,safety_stock,safety_stock_cost,max_inventory\n"
            f"A,10,1,30,2,{max_inventory}"
        ),
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,50",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(made)
    inv = p.inventory.set_index("period")
    assert inv.loc["W1", "closing"] == pytest.approx(closing)
    assert inv.loc["W1", "below_safety_stock"] == pytest.approx(30 - closing)
    assert p.summary.objective == pytest.approx(objective)
    assert p.summary.objective_terms["safety_stock"] == pytest.approx(2 * (30 - closing))
    assert p.summary.objective_terms["holding"] == pytest.approx(closing)


def test_entries_of_one_class_fill_in_file_order(make: Callable[..., Dataset], solver: str) -> None:
    """Orders O2 (40) and O1 (30) and a forecast remainder (100 - 70 = 30) of one
    product, due W1, all tier 1 (the product's and the customers' priority): they cost
    the same, so the model treats them as one class of 100. The line makes 50 a week
    and one week of lateness is allowed: 50 ship in W1, 50 in W2 (all of W2's output;
    nothing else is due). The class's shipments fill entries in file order, orders
    before the forecast: O2 40 on time; O1 10 on time, 20 late; the forecast 30 late.
    Objective: lateness 50 x 1 = 50."""
    ds = make(
        products="product,shortage_cost,lateness_cost\nA,10,1",
        lines="line,hours\nL1,5",
        routings="product,line,rate\nA,L1,10",
        customers="customer,priority\nC1,1",
        forecast="product,period,quantity\nA,W1,100",
        orders="order,customer,product,period,quantity\nO2,C1,A,W1,40\nO1,C1,A,W1,30",
        settings="[demand]\nmax_lateness = 1",
    )
    p = run(ds, solver)
    svc = p.service.set_index("entry")
    assert svc.loc["O2", ["on_time", "late", "unmet"]].tolist() == pytest.approx([40, 0, 0])
    assert svc.loc["O1", ["on_time", "late", "unmet"]].tolist() == pytest.approx([10, 20, 0])
    fc = svc.loc["forecast:A:W1", ["on_time", "late", "unmet"]].tolist()
    assert fc == pytest.approx([0, 30, 0])
    ship = p.shipments.groupby(["entry", "period"])["quantity"].sum()
    assert ship.to_dict() == pytest.approx(
        {("O2", "W1"): 40, ("O1", "W1"): 10, ("O1", "W2"): 20, ("forecast:A:W1", "W2"): 30}
    )
    assert p.summary.objective == pytest.approx(50)


def test_tiers_of_one_product_and_week_share_shipments_by_priority(
    make: Callable[..., Dataset], solver: str
) -> None:
    """Order O1 (customer tier 1, 50) and the forecast remainder (90 - 50 = 40, the
    product's tier 3) of A, both due W1; one week of lateness allowed. The line makes
    40 a week and nothing else is due: 80 ship (40 in W1, 40 in W2) and 10 are short.
    Weighted, base 10, K = 3: a tier-3 unit short costs 10, a tier-1 unit 1,000, so the
    forecast remainder takes the shortage (100); lateness 40 x 1 = 40; objective 140.
    The two tiers share one service row; the on-time units go to tier 1 first: O1 40 on
    time and 10 late, the forecast 30 late and 10 unmet."""
    ds = make(
        products="product,priority,shortage_cost,lateness_cost\nA,3,10,1",
        lines="line,hours\nL1,4",
        routings="product,line,rate\nA,L1,10",
        customers="customer,priority\nC1,1",
        forecast="product,period,quantity\nA,W1,90",
        orders="order,customer,product,period,quantity\nO1,C1,A,W1,50",
        settings="[demand]\nmax_lateness = 1",
    )
    p = run(ds, solver)
    svc = p.service.set_index("entry")
    assert svc.loc["O1", ["on_time", "late", "unmet"]].tolist() == pytest.approx([40, 10, 0])
    fc = svc.loc["forecast:A:W1", ["on_time", "late", "unmet"]].tolist()
    assert fc == pytest.approx([0, 30, 10])
    ship = p.shipments.groupby(["entry", "period"])["quantity"].sum()
    assert ship.to_dict() == pytest.approx(
        {("O1", "W1"): 40, ("O1", "W2"): 10, ("forecast:A:W1", "W2"): 30}
    )
    assert p.summary.objective_terms["shortage"] == pytest.approx(100)
    assert p.summary.objective == pytest.approx(140)
    # lexicographic mode keeps a row per tier and gives the same plan here
    lex = run(ds, solver, priority__mode="lexicographic")
    assert lex.service.set_index("entry")["unmet"].to_dict() == pytest.approx(
        {"O1": 0, "forecast:A:W1": 10}
    )


def test_setup_time_makes_small_lot_not_worth_it(make: Callable[..., Dataset], solver: str) -> None:
    """10 h; A needs all of them (100 at 10/h, c_short 5). B's 10 units take 1 h plus a
    3 h setup: 40 units of A lost (200) to save 10 of B (80). So B is not made: 80."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products="product,shortage_cost\nA,5\nB,8",
        lines="line,hours\nL1,10",
        routings="product,line,rate,setup_hours\nA,L1,10,0\nB,L1,10,3",
        forecast="product,period,quantity\nA,W1,100\nB,W1,10",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(100)
    assert qty(p, "B", "W1") == pytest.approx(0)
    assert p.summary.objective == pytest.approx(80)
    assert p.summary.integer_variables == 1


def test_setup_time_worth_it_when_demand_is_larger(
    make: Callable[..., Dataset], solver: str
) -> None:
    """Same line, B now 30 units at c_short 8: 3 h run + 3 h setup cost 60 units of A
    (300) and save 240 of B: still not worth it. At c_short 20 B saves 600 > 300: made.
    Objective then: 60 of A short x 5 = 300."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products="product,shortage_cost\nA,5\nB,20",
        lines="line,hours\nL1,10",
        routings="product,line,rate,setup_hours\nA,L1,10,0\nB,L1,10,3",
        forecast="product,period,quantity\nA,W1,100\nB,W1,30",
    )
    p = run(ds, solver)
    assert qty(p, "B", "W1") == pytest.approx(30)
    assert qty(p, "A", "W1") == pytest.approx(40)
    prod = p.production.set_index("product")
    assert prod.loc["B", "hours"] == pytest.approx(6)
    assert bool(prod.loc["B", "setup"]) is True
    assert p.summary.objective == pytest.approx(300)


def test_min_lot(make: Callable[..., Dataset], solver: str) -> None:
    """Demand 30, min lot 50: making 50 leaves 20 in stock (holding 1 x 20 = 20), cheaper
    than losing 30 x 10 = 300."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products="product,shortage_cost,holding_cost\nA,10,1",
        lines="line,hours\nL1,10",
        routings="product,line,rate,min_lot\nA,L1,10,50",
        forecast="product,period,quantity\nA,W1,30",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(50)
    assert p.inventory["closing"].iloc[0] == pytest.approx(20)
    assert p.summary.objective == pytest.approx(20)


@pytest.mark.parametrize(("ot_cost", "overtime", "objective"), [(20, 5, 100), (40, 0, 150)])
def test_overtime_only_when_cheaper_than_shortage(
    make: Callable[..., Dataset],
    solver: str,
    ot_cost: float,
    overtime: float,
    objective: float,
) -> None:
    """10 h + 5 h overtime at rate 10, demand 150, c_short 3: an overtime hour saves 30.
    At 20/h use all 5 h (100); at 40/h none, lose 50 units (150)."""
    ds = make(
        base=False,
        periods=ONE_PERIOD,
        products="product,shortage_cost\nA,3",
        lines=f"line,hours,overtime_hours,overtime_cost\nL1,10,5,{ot_cost}",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,150",
    )
    p = run(ds, solver)
    assert p.lines["overtime_hours"].iloc[0] == pytest.approx(overtime)
    assert p.summary.objective == pytest.approx(objective)


def test_frozen_fence(make: Callable[..., Dataset], solver: str) -> None:
    """Last cycle planned 80 of A in W1; W1 is frozen: at most 80, though 100 are due and
    the line could make 100. 20 lost x 5 = 100. In W2 (not frozen) 100 made;
    prev 100 there, no shortfall cost outside the fence."""
    ds = make(
        products="product,shortage_cost\nA,5",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,100\nA,W2,100",
        previous_plan="product,line,period,quantity\nA,L1,W1,80\nA,L1,W2,100",
        settings="[stability]\nfrozen_periods = 1\nfrozen_shortfall_cost = 1",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(80)
    assert qty(p, "A", "W2") == pytest.approx(100)
    assert unmet(p, "forecast:A:W1") == pytest.approx(20)
    assert p.summary.objective == pytest.approx(100)
    assert p.summary.objective_terms["stability"] == pytest.approx(0)


def test_frozen_fence_shortfall_cost(make: Callable[..., Dataset], solver: str) -> None:
    """Frozen W1 planned 80 but only 50 are due (no holding cost): making 80 avoids the
    frozen shortfall cost 2 x 30 = 60 and costs nothing; objective 0 with 80 made."""
    ds = make(
        products="product,shortage_cost\nA,5",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,50",
        previous_plan="product,line,period,quantity\nA,L1,W1,80",
        settings="[stability]\nfrozen_periods = 1\nfrozen_shortfall_cost = 2",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(80)
    assert p.summary.objective == pytest.approx(0)


@pytest.mark.parametrize(("holding", "made", "objective"), [(0.25, 50, 5), (1, 40, 10)])
def test_change_cost(
    make: Callable[..., Dataset], solver: str, holding: float, made: float, objective: float
) -> None:
    """Previous plan 50 in W1; demand 40 in W1 only; change cost 1 per unit; 2 weeks.
    Making 50 keeps 10 in stock both weeks (holding 20 h); making 40 costs 10 of change;
    in between is linear, so an end wins: h = 0.25 -> make 50 (5); h = 1 -> 40 (10)."""
    ds = make(
        base=False,
        products=f"product,shortage_cost,holding_cost\nA,5,{holding}",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,40",
        previous_plan="product,line,period,quantity\nA,L1,W1,50",
        settings="[stability]\nchange_cost = 1",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(made)
    assert qty(p, "A", "W2") == pytest.approx(0)
    assert p.summary.objective == pytest.approx(objective)
    assert p.summary.objective_terms["stability"] == pytest.approx(0 if made == 50 else 10)


@pytest.mark.parametrize(
    ("material_holding", "made", "objective", "bound"),
    [
        # a unit made saves 2 x 1 of the material's holding and costs 2 x 0.1 of A's:
        # make all 100 caps into A (90 held both weeks: 18) plus the setup: 19
        (1.0, 100, 19.0, 1000.0),
        # saves 2 x 0.01, costs 0.2: make the 10 due; 90 caps held both weeks (1.8) + 1
        (0.01, 10, 2.8, 10.0),
    ],
)
def test_excess_output_only_where_it_saves_dearer_material_stock(
    make: Callable[..., Dataset],
    solver: str,
    material_holding: float,
    made: float,
    objective: float,
    bound: float,
) -> None:
    """10 of A due in W1 of two weeks; 100 caps in stock, one a unit of A; the line could
    make 1,000. Making more than can ship only pays while the caps cost more to hold than
    A does, and only then may the model let A's output above the 10 it can ship."""
    ds = make(
        base=False,
        products="product,shortage_cost,holding_cost\nA,10,0.1",
        lines="line,hours\nL1,10",
        routings="product,line,rate,setup_cost\nA,L1,100,1",
        materials=f"material,initial_inventory,holding_cost\nCAP,100,{material_holding}",
        bom="product,material,quantity_per_unit\nA,CAP,1",
        forecast="product,period,quantity\nA,W1,10",
    )
    p = run(ds, solver)
    assert qty(p, "A", "W1") == pytest.approx(made)
    assert p.summary.objective == pytest.approx(objective)
    model = build(ds)
    assert model.lp.upper[model.x[0, 0]] == pytest.approx(bound)


@pytest.mark.parametrize(
    ("mode", "material_holding", "stock_bound", "objective"),
    [
        # closing stock above what can still ship after the week (entries due from the
        # week itself on, one week late allowed) plus the safety stock never ships:
        # W1 10 + 20 + 30 + 5, W2 20 + 30 + 5, W3 nothing after it: max(I0 8, ss 5).
        # The optimum makes each week's demand (8 of W1's from stock): 0
        ("weighted", 0.0, [65.0, 55.0, 8.0], 0.0),
        # caps dearer to hold than A: stock that never ships may pay, so no such bound
        # (8 in stock plus all the line can make, 100 a week). The optimum makes 100 a
        # week: caps 900 + 800 + 700 held (2,400), A 98 + 178 + 248 held at 0.1 (52.4)
        ("weighted", 1.0, [108.0, 208.0, 308.0], 2452.4),
        # lexicographic mode goes without it (its interior-point stages were slower):
        # 8 in stock plus what A's output bound lets in (60 + 5, 60 + 5, 50 + 5)
        ("lexicographic", 0.0, [73.0, 138.0, 193.0], 0.0),
    ],
)
def test_stock_bound_where_excess_stock_cannot_pay(
    make: Callable[..., Dataset],
    solver: str,
    mode: str,
    material_holding: float,
    stock_bound: list[float],
    objective: float,
) -> None:
    """A pure LP: A's closing stock is bounded by what can still ship, unless making
    stock that never ships saves its materials' holding."""
    ds = make(
        base=False,
        periods=THREE_PERIODS,
        products=(
            "product,shortage_cost,holding_cost,initial_inventory,safety_stock\nA,10,0.1,8,5"
        ),
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10",
        materials=f"material,initial_inventory,holding_cost\nCAP,1000,{material_holding}",
        bom="product,material,quantity_per_unit\nA,CAP,1",
        forecast="product,period,quantity\nA,W1,10\nA,W2,20\nA,W3,30",
        settings=f"[demand]\nmax_lateness = 1\n[priority]\nmode = '{mode}'",
    )
    model = build(ds)
    assert model.lp.upper[model.inv[0]].tolist() == pytest.approx(stock_bound)
    assert run(ds, solver).summary.objective == pytest.approx(objective)
