"""The trade-off analysis on hand-made instances whose answers are worked out by hand.

Every marginal value is also checked against a finite difference: the plan re-solved
with one more hour (or unit received) must lose exactly that much objective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd
import pytest

from optimizer import Dataset
from optimizer.analysis import (
    BOTTLENECK_COLUMNS,
    CAUSE_COLUMNS,
    EXCEPTION_COLUMNS,
    Analysis,
    analyse,
)
from optimizer.analysis.duals import shadow_prices
from optimizer.results import Plan
from optimizer.solve import plan as solve

TWO = "period,start\nW1,2026-11-30\nW2,2026-12-07"
THREE = "period,start\nW1,2026-11-30\nW2,2026-12-07\nW3,2026-12-14"

# LINE: one line of 10 h at 10 units/h makes 100 a week; A (tier 1) and B (tier 2) each
# want 60 a week. Weighted, base 10, K = 2: pi(A) = 5 x 10 = 50, pi(B) = 5 x 1 = 5.
# The plan serves A in full and B 40 of 60: B short 20 in W1 and W2, objective 200.
# One more hour makes 10 more B: worth 10 x 5 = 50 an hour.
LINE = dict(
    base=False,
    periods=TWO,
    products="product,priority,shortage_cost\nA,1,5\nB,2,5",
    lines="line,hours\nL1,10",
    routings="product,line,rate\nA,L1,10\nB,L1,10",
    forecast="product,period,quantity\nA,W1,60\nA,W2,60\nB,W1,60\nB,W2,60",
)
# LINE_HELD: LINE with holding at 0.01 a unit and week. LINE has a second optimal plan
# (holding is free: 20 A made in W1 for W2 leave B short 40 in W1 only, also 200); here
# nothing is built ahead, so the plan is the one above: B short 20 in W1 and in W2.
LINE_HELD = {
    **LINE,
    "products": "product,priority,shortage_cost,holding_cost\nA,1,5,0.01\nB,2,5,0.01",
}

# RECEIPT: A (one cap M per unit, 50 a week) on an ample line. 60 caps in stock, the
# next 100 arrive in W3 (PO 4500001182 from CapCo). Holding a cap costs 0.01 a week,
# an A 0.02, so caps are used early but A is not built ahead: W1 makes 50, W2 makes
# 10 (caps run out), 40 short in W2 (shortage cost 10: 400), W3 makes 50. Caps held:
# 10 at the end of W1 (0.10) and 50 at the end of W3 (0.50): objective 400.60. One
# more cap received in W2 is worth 10 (one more A), in W1 9.99 (held a week), in W3
# -0.01 (only held).
RECEIPT = dict(
    base=False,
    periods=THREE,
    products="product,shortage_cost,holding_cost\nA,10,0.02",
    lines="line,hours\nL1,100",
    routings="product,line,rate\nA,L1,10",
    materials="material,initial_inventory,holding_cost\nM,60,0.01",
    bom="product,material,quantity_per_unit\nA,M,1",
    receipts="material,period,quantity,po,supplier\nM,W3,100,4500001182,CapCo",
    forecast="product,period,quantity\nA,W1,50\nA,W2,50\nA,W3,50",
)


def run(ds: Dataset) -> Plan:
    settings = ds.settings.with_overrides(solve__mip_gap=0.0)
    result = solve(ds.replace(settings=settings), verify=False)
    assert result.summary.status == "optimal"
    return result


def objective(ds: Dataset) -> float:
    value = run(ds).summary.objective
    assert value is not None
    return value


def analysed(ds: Dataset, what_ifs: bool = False) -> tuple[Plan, Analysis]:
    p = run(ds)
    return p, analyse(
        ds.replace(settings=ds.settings.with_overrides(solve__mip_gap=0.0)), p, what_ifs=what_ifs
    )


def with_hours(ds: Dataset, line: str, period: str, hours: float, overtime: float = 0.0) -> Dataset:
    cal = pd.DataFrame(
        {"line": [line], "period": [period], "hours": [hours], "overtime_hours": [overtime]}
    )
    return ds.replace(line_calendar=cal)


# ------------------------------------------------------------------ exceptions


def test_exceptions_match_the_service_table(make: Callable[..., Dataset]) -> None:
    """B is short 20 in W1 (now) and W2 (projected); tier 2 escalates only above the
    escalation value (20 x 5 = 100 of shortage)."""
    ds = make(**LINE_HELD)
    p, a = analysed(ds)
    exc = a.exceptions
    assert list(exc.columns[: len(EXCEPTION_COLUMNS)]) == EXCEPTION_COLUMNS
    assert list(exc["kind"]) == ["out_of_stock_now", "projected_out_of_stock"]
    assert list(exc["entry"]) == ["forecast:B:W1", "forecast:B:W2"]
    assert list(exc["period"]) == ["W1", "W2"]
    assert exc["quantity"].tolist() == pytest.approx([20, 20])
    assert not exc["escalate"].any()
    # the flags agree with the plan's own service table
    svc = p.service
    short = svc[(svc["unmet"] + svc["late"]) > 1e-6]
    assert set(short["entry"]) == set(exc["entry"])

    strict = ds.replace(
        settings=ds.settings.model_copy(
            update={"exceptions": ds.settings.exceptions.model_copy(update={"escalate_value": 50})}
        )
    )
    _, a2 = analysed(strict)
    assert a2.exceptions["escalate"].all()


def test_exceptions_horizon_and_priority_one_escalates(make: Callable[..., Dataset]) -> None:
    """With the horizon at 0 only the first period counts; priority 1 always escalates."""
    ds = make(**{**LINE, "products": "product,priority,shortage_cost\nA,2,5\nB,1,1"})
    settings = ds.settings.model_copy(
        update={"exceptions": ds.settings.exceptions.model_copy(update={"horizon_periods": 0})}
    )
    _, a = analysed(ds.replace(settings=settings))
    # B is now tier 1: pi(B) = 1 x 10 = 10 > pi(A) = 5 x 1, so A (tier 2) is short
    assert list(a.exceptions["entry"]) == ["forecast:A:W1"]
    assert list(a.exceptions["escalate"]) == [False]
    ds2 = make(**{**LINE, "products": "product,priority,shortage_cost\nA,1,5\nB,1,1"})
    _, a2 = analysed(ds2)
    assert list(a2.exceptions["entry"]) == ["forecast:B:W1", "forecast:B:W2"]
    assert a2.exceptions["escalate"].all()


# STOCKED: 100 A in stock, no hours on L1 to make more; 100 due in W1, W2 and W3.
STOCKED = dict(
    base=False,
    periods="period,start\nW1,2026-11-30\nW2,2026-12-07\nW3,2026-12-14",
    products="product,priority,initial_inventory,holding_cost,shortage_cost\nA,2,100,0.1,5",
    lines="line,hours\nL1,0",
    routings="product,line,rate\nA,L1,10",
    forecast="product,period,quantity\nA,W1,100\nA,W3,100",
    customers="customer,priority\nC,1",
    orders="order,customer,product,period,quantity\nO1,C,A,W2,100",
)


def test_an_entry_short_while_in_stock_is_not_out_of_stock(
    make: Callable[..., Dataset],
) -> None:
    """The 100 A are kept for order O1 (tier 1, pi = 5 x 10 = 50) due in W2: the W1
    forecast (tier 2, 5) is short with 100 in stock, which the report called "out of
    stock now". It is a choice of the costs (not ``indifferent``: the later entry
    served is of a higher tier)."""
    from optimizer.reports.render import markdown

    ds = make(**STOCKED)
    plan, a = analysed(ds)
    exc = a.exceptions
    assert list(exc["entry"]) == ["forecast:A:W1", "forecast:A:W3"]
    assert exc["in_stock"].tolist() == pytest.approx([100, 0])
    assert not exc["indifferent"].any()
    page = markdown(a)
    assert (
        "1 entry is projected out of stock in the next 2 periods"
        " (100 units); 1 entry is short while its product is in stock (100 units short), kept for"
        " later demand or safety stock; **0 need an executive decision**."
    ) in page.splitlines()
    assert "|  | now (100 in stock) | W1 | 2 | A | (forecast) | 100 | 0 | 500 |" in page
    from optimizer.reports.text import plan_summary

    console = [line.split() for line in plan_summary(ds, plan).splitlines()]
    assert "W1 tier 2 A (forecast) 100 due: 100 unmet, 100 in stock kept".split() in console


def test_a_shortage_now_the_costs_do_not_require_says_so(
    make: Callable[..., Dataset],
) -> None:
    """Holding costs nothing and all three weeks are tier 2: any one of them may get
    the 100 in stock, at the same objective (1,000). HiGHS keeps them for W3 and
    shorts W1 and W2 with the stock on hand, and the report said "2 entries are out of
    stock now and projected", as if the costs forced it. (A tie-break towards early
    service in the model would serve W1: then this test changes.)"""
    from optimizer.reports.render import markdown

    ds = make(
        **{
            **STOCKED,
            "products": "product,priority,initial_inventory,holding_cost,shortage_cost\n"
            "A,2,100,0,5",
            "forecast": "product,period,quantity\nA,W1,100\nA,W2,100\nA,W3,100",
            "orders": "order,customer,product,period,quantity",
        }
    )
    plan, a = analysed(ds)
    assert plan.summary.objective == pytest.approx(1000)
    exc = a.exceptions
    closing = plan.inventory.set_index("period")["closing"]
    # whichever weeks HiGHS shorts: the stock it holds is told, and is a tie
    assert exc["in_stock"].tolist() == pytest.approx(
        [min(q, closing[t]) for q, t in zip(exc["quantity"], exc["period"], strict=True)]
    )
    assert (exc["indifferent"] == (exc["in_stock"] > 0)).all()
    assert list(exc["entry"]) == ["forecast:A:W1", "forecast:A:W2"]
    assert exc["in_stock"].tolist() == pytest.approx([100, 100])
    assert (
        "2 entries are short while their product is in stock (200 units short), kept for later"
        " demand or safety stock; for all of them the costs do not say which period to"
        " short: holding A costs nothing and later demand of the same tier is served, so a"
        " plan as good may serve these and short it instead; **0 need an executive"
        " decision**."
    ) in markdown(a).splitlines()


# ------------------------------------------------------------------ marginal values


def test_line_marginal_value_matches_finite_difference(make: Callable[..., Dataset]) -> None:
    ds = make(**LINE)
    p, a = analysed(ds)
    assert p.summary.objective == pytest.approx(200)
    b = a.bottlenecks
    assert list(b.columns[: len(BOTTLENECK_COLUMNS)]) == BOTTLENECK_COLUMNS
    line = b[b["kind"] == "line"].set_index("period")
    assert line.loc["W1", "resource"] == "L1"
    assert line.loc["W1", "slack"] == pytest.approx(0)
    assert line.loc["W1", "marginal_value"] == pytest.approx(50)
    # finite difference: one more hour in W1
    gain = objective(ds) - objective(with_hours(ds, "L1", "W1", 11))
    assert gain == pytest.approx(line.loc["W1", "marginal_value"])
    assert "LP" in a.notes[0] and "MILP" not in a.notes[0]


def test_maintenance_week_gets_the_value_of_an_hour(make: Callable[..., Dataset]) -> None:
    """L1 is down in W1: A (tier 1, 50 a unit) and B are short 60 each there; an hour
    in W1 would make 10 A: worth 500, as a re-solve with 1 h in W1 says."""
    ds = make(**LINE)
    cal = pd.DataFrame(
        {
            "line": ["L1"],
            "period": ["W1"],
            "hours": [0.0],
            "overtime_hours": [0.0],
            "reason": ["planned maintenance"],
        }
    )
    down = ds.replace(line_calendar=cal)
    _, a = analysed(down)
    line = a.bottlenecks[a.bottlenecks["kind"] == "line"].set_index("period")
    assert line.loc["W1", "marginal_value"] == pytest.approx(500)
    gain = objective(down) - objective(with_hours(down, "L1", "W1", 1))
    assert gain == pytest.approx(500)
    c = a.causes.set_index("entry")
    text = c.loc["forecast:A:W1", "explanation"]
    assert "line L1 has no hours in W1 (planned maintenance)" in text


def test_overtime_marginal_value_is_net_of_its_cost(make: Callable[..., Dataset]) -> None:
    """B wants 80: 2 h of overtime at 1/h are both used and B is still 20 short (an hour
    is worth 10 B x 5 = 50); one more overtime hour nets 50 - 1 = 49, one more regular
    hour 50."""
    ds = make(
        **{
            **LINE,
            "lines": "line,hours,overtime_hours,overtime_cost\nL1,10,2,1",
            "forecast": "product,period,quantity\nA,W1,60\nA,W2,60\nB,W1,80\nB,W2,80",
        }
    )
    p, a = analysed(ds)
    b = a.bottlenecks.set_index(["kind", "period"])
    assert b.loc[("overtime", "W1"), "marginal_value"] == pytest.approx(49)
    assert b.loc[("overtime", "W1"), "slack"] == pytest.approx(0)
    assert b.loc[("line", "W1"), "marginal_value"] == pytest.approx(50)
    base = objective(ds)
    assert base - objective(with_hours(ds, "L1", "W1", 10, overtime=3)) == pytest.approx(49)
    assert base - objective(with_hours(ds, "L1", "W1", 11, overtime=2)) == pytest.approx(50)
    # ranked: most valuable first
    assert a.bottlenecks["marginal_value"].is_monotonic_decreasing


def test_material_marginal_value_matches_finite_difference(
    make: Callable[..., Dataset],
) -> None:
    ds = make(**RECEIPT)
    p, a = analysed(ds)
    assert p.summary.objective == pytest.approx(400.6)
    mat = a.bottlenecks[a.bottlenecks["kind"] == "material"].set_index("period")
    assert list(a.bottlenecks["kind"]) == ["material", "material"]  # no line binds
    assert mat.loc["W2", "marginal_value"] == pytest.approx(10)
    assert mat.loc["W2", "slack"] == pytest.approx(0)
    assert mat.loc["W1", "marginal_value"] == pytest.approx(9.99)
    assert mat.loc["W1", "slack"] == pytest.approx(10)
    extra = pd.concat(
        [
            ds.receipts.drop(columns="past_due"),
            pd.DataFrame({"material": ["M"], "period": ["W2"], "quantity": [1.0]}),
        ],
        ignore_index=True,
    )
    gain = objective(ds) - objective(ds.replace(receipts=extra))
    assert gain == pytest.approx(mat.loc["W2", "marginal_value"])


def test_milp_values_are_those_of_the_fixed_setup_lp(make: Callable[..., Dataset]) -> None:
    """A setup of 1 h (cost 10) leaves 9 h: 90 of 120 made, 30 short x 5 = 150, plus
    the setup 10 a week: 320. An hour is worth 10 units x 5 = 50 with the setup made,
    and re-solving with one more hour agrees (the setup stays)."""
    ds = make(
        base=False,
        periods=TWO,
        products="product,shortage_cost\nA,5",
        lines="line,hours\nL1,10",
        routings="product,line,rate,setup_hours,setup_cost\nA,L1,10,1,10",
        forecast="product,period,quantity\nA,W1,120\nA,W2,120",
    )
    p, a = analysed(ds)
    assert p.summary.objective == pytest.approx(320)
    assert a.shadow.is_mip
    assert "MILP" in a.notes[0]
    line = a.bottlenecks[a.bottlenecks["kind"] == "line"].set_index("period")
    assert line.loc["W1", "marginal_value"] == pytest.approx(50)
    gain = objective(ds) - objective(with_hours(ds, "L1", "W1", 11))
    assert gain == pytest.approx(50)


def test_lexicographic_mode_gets_values(make: Callable[..., Dataset]) -> None:
    ds = make(**LINE)
    lex = ds.replace(settings=ds.settings.with_overrides(priority__mode="lexicographic"))
    p = run(lex)
    sp = shadow_prices(lex, p)
    assert sp.available
    assert "lexicographic" in sp.note
    # final stage prices B at its own shortage cost: 5 a unit, 50 an hour
    assert sp.capacity[0, 0] == pytest.approx(50)


def test_entry_values_when_tiers_share_a_service_row(make: Callable[..., Dataset]) -> None:
    """Order O1 (tier 1, 50) and A's forecast remainder (tier 3, 90 - 50 = 40) due W1
    share one service row (weighted mode). The line makes 10 a week, so O1 is 30 short
    (1,000 a unit: 10 x 10^2) and the remainder is short whole (10 a unit). One more
    unit of O1 is one more short at 1,000; of the remainder, one more short at 10 (the
    row's value, 1,000, is not its own: it is shorted whole)."""

    def dataset(order: int, forecast: int) -> Dataset:
        return make(
            base=False,
            periods=TWO,
            products="product,priority,shortage_cost\nA,3,10",
            lines="line,hours\nL1,1",
            routings="product,line,rate\nA,L1,10",
            customers="customer,priority\nC1,1",
            forecast=f"product,period,quantity\nA,W1,{forecast}",
            orders=f"order,customer,product,period,quantity\nO1,C1,A,W1,{order}",
            settings="[demand]\nmax_lateness = 1",
        )

    ds = dataset(50, 90)
    p = run(ds)
    assert p.summary.objective == pytest.approx(30 * 1000 + 40 * 10)
    value = dict(zip(p.service["entry"], shadow_prices(ds, p).entry, strict=True))
    assert value == pytest.approx({"O1": 1000, "forecast:A:W1": 10})
    assert objective(dataset(51, 91)) - p.summary.objective == pytest.approx(1000)
    assert objective(dataset(50, 91)) - p.summary.objective == pytest.approx(10)


# ------------------------------------------------------------------ why short


def test_causes_name_the_line(make: Callable[..., Dataset]) -> None:
    ds = make(**LINE_HELD)
    _, a = analysed(ds)
    c = a.causes
    assert list(c.columns[: len(CAUSE_COLUMNS)]) == CAUSE_COLUMNS
    assert list(c["entry"]) == ["forecast:B:W1", "forecast:B:W2"]
    assert set(c["cause_kind"]) == {"line"}
    assert set(c["resource"]) == {"L1"}
    assert list(c["cause_period"]) == ["W1", "W2"]
    assert c["quantity"].tolist() == pytest.approx([20, 20])
    assert "line L1 is at capacity" in c["explanation"].iloc[0]


def test_causes_name_the_late_receipt(make: Callable[..., Dataset]) -> None:
    ds = make(**RECEIPT)
    _, a = analysed(ds)
    c = a.causes
    assert len(c) == 1
    row = c.iloc[0]
    assert (row["entry"], row["period"], row["cause_kind"], row["resource"]) == (
        "forecast:A:W2",
        "W2",
        "material",
        "M",
    )
    assert row["quantity"] == pytest.approx(40)
    assert row["cause_period"] == "W2"
    text = row["explanation"]
    assert "M runs out in W2" in text
    assert "PO 4500001182 from CapCo" in text
    assert "arrives in W3" in text


def test_causes_split_between_line_and_material(make: Callable[..., Dataset]) -> None:
    """30 A due in W2; the line makes 10 a week. W1 could build ahead but has caps for
    5 only (the next caps arrive in W2), W2 is limited by the line: 15 short, caused by
    the caps (W1) and the line (W2), each blocking its slot at 10 a unit."""
    ds = make(
        **{
            **RECEIPT,
            "periods": TWO,
            "products": "product,shortage_cost\nA,10",
            "lines": "line,hours\nL1,1",
            "materials": "material,initial_inventory\nM,5",
            "receipts": "material,period,quantity,po,supplier\nM,W2,100,4500001182,CapCo",
            "forecast": "product,period,quantity\nA,W2,30",
        }
    )
    p, a = analysed(ds)
    c = a.causes.set_index("cause_kind")
    assert p.service["unmet"].sum() == pytest.approx(15)
    assert set(c.index) == {"line", "material"}
    assert c["quantity"].sum() == pytest.approx(15)
    assert c.loc["line", "quantity"] == pytest.approx(7.5)
    assert (c.loc["line", "resource"], c.loc["line", "cause_period"]) == ("L1", "W2")
    assert (c.loc["material", "resource"], c.loc["material", "cause_period"]) == ("M", "W1")
    assert "arrives in W2" in c.loc["material", "explanation"]


def test_cost_and_no_routing_causes(make: Callable[..., Dataset]) -> None:
    """A costs 20 to run but only 5 to leave short; B has no routing at all."""
    ds = make(
        base=False,
        periods=TWO,
        products="product,shortage_cost\nA,5\nB,5",
        lines="line,hours\nL1,10",
        routings="product,line,rate,run_cost\nA,L1,10,20",
        forecast="product,period,quantity\nA,W1,10\nB,W1,10",
    )
    _, a = analysed(ds)
    kinds = dict(zip(a.causes["entry"], a.causes["cause_kind"], strict=True))
    assert kinds == {"forecast:A:W1": "cost", "forecast:B:W1": "no_routing"}


# ------------------------------------------------------------------ priorities, stock


def test_priority_decision_prices_the_cut(make: Callable[..., Dataset]) -> None:
    """B (tier 2) loses 20 a week on L1 while A (tier 1) is served; serving B instead
    would take 20 units of A a week (same rate): 40 x 50 = 2000 against 40 x 5 = 200."""
    _, a = analysed(make(**LINE))
    pr = a.priorities
    assert len(pr) == 1
    row = pr.iloc[0]
    assert (row["tier_cut"], row["kind"], row["resource"]) == (2, "line", "L1")
    assert row["cut_units"] == pytest.approx(40)
    assert row["lost_product"] == "A"
    assert row["lost_units"] == pytest.approx(40)
    assert row["cut_value"] == pytest.approx(200)
    assert row["lost_value"] == pytest.approx(2000)
    assert row["servable_units"] == pytest.approx(40)  # all of the cut could be served
    assert row["servable_value"] == pytest.approx(200)


# SCARCE: caps M are shared by P (tier 1, shortage cost 10) and Q (tier 2, 50), one per
# unit; 10 in stock, the next 1,000 arrive in W3. Weighted, base 10, K = 2: pi(P) = 100,
# pi(Q) = 50. The 10 caps make 10 P in W1; P is short 40 + 50 and Q 50 + 50 in W1-W2.
# Q's 100 cut units could take back only those 10 caps: 10 Q (worth 10 x 50 = 500)
# for 10 P lost (10 x 100 = 1,000).
SCARCE = dict(
    base=False,
    periods="period,start\nW1,2026-01-05\nW2,2026-01-12\nW3,2026-01-19",
    products="product,priority,holding_cost,shortage_cost\nP,1,0.1,10\nQ,2,0.1,50",
    lines="line,hours\nL1,100",
    routings="product,line,rate,run_cost\nP,L1,10,1\nQ,L1,10,1",
    materials="material,initial_inventory,holding_cost\nM,10,0.01",
    bom="product,material,quantity_per_unit\nP,M,1\nQ,M,1",
    receipts="material,period,quantity,po,supplier\nM,W3,1000,PO1,Sup",
    forecast="product,period,quantity\n"
    + "\n".join(f"{p},W{t},50" for p in "PQ" for t in (1, 2, 3)),
)


def test_priority_decision_compares_only_the_servable_cut(make: Callable[..., Dataset]) -> None:
    """The cut's side was all 100 cut units (5,000) against the 10 P the caps made
    (1,000): the report's own numbers said the plan gave up 5,000 to save 1,000. Only
    10 Q could be served with those caps, worth 500."""
    _, a = analysed(make(**SCARCE))
    row = a.priorities.iloc[0]
    assert (row["tier_cut"], row["kind"], row["resource"], row["periods"]) == (
        2,
        "material",
        "M",
        "W1–W2",
    )
    assert row["cut_units"] == pytest.approx(100)
    assert row["lost_units"] == pytest.approx(10)
    assert row["servable_units"] == pytest.approx(10)
    assert row["servable_value"] == pytest.approx(500)
    assert row["lost_value"] == pytest.approx(1000)
    assert row["explanation"] == (
        "tier 2: 100 units of Q cut or delayed for material M in W1–W2, which made 10 units"
        " for tier 1 (P). Serving 10 of them instead would take 10 units from tier-1"
        " products such as P: a loss worth 1,000 in the plan's priority-weighted objective,"
        " against 500 for the cut units served"
    )


def test_lexicographic_priority_decision_says_the_tiers_are_strict(
    make: Callable[..., Dataset],
) -> None:
    """Lexicographic mode priced the loss with the weighted mode's base^(K - k), which it
    never uses: "a loss worth 1,000 in the plan's priority-weighted objective"."""
    ds = make(**SCARCE)
    _, a = analysed(ds.replace(settings=ds.settings.with_overrides(priority__mode="lexicographic")))
    row = a.priorities.iloc[0]
    # the tier limit's slack of 1e-6 x 900 lets Q take 0.00009 caps from P
    assert row["servable_units"] == pytest.approx(10, abs=1e-3)
    assert pd.isna(row["lost_value"]) and pd.isna(row["servable_value"])
    text = str(row["explanation"])
    assert "priority-weighted" not in text and "worth" not in text
    assert text.endswith(
        "Serving 10.00 of them instead would take 10.00 units from tier-1 products such as"
        " P, and in lexicographic mode a tier-1 unit is never given up for a tier-2 one,"
        " whatever the costs"
    )


def test_builds_and_depletions(make: Callable[..., Dataset]) -> None:
    """Capacity 100 a week, demand 50 then 150: 50 built in W1 ahead of the full line
    in W2. A safety stock of 20 (shortfall cost 0.5) is drawn to 0 in W2."""
    ds = make(
        base=False,
        periods=TWO,
        products="product,shortage_cost,holding_cost,safety_stock,safety_stock_cost\nA,10,1,20,0.5",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W1,50\nA,W2,150",
    )
    _, a = analysed(ds)
    build = a.builds.iloc[0]
    assert (build["product"], build["periods"], build["drawn_in"]) == ("A", "W1", "W2")
    assert build["built"] == pytest.approx(30)  # 50 closing, 20 of it safety stock
    assert (build["for_kind"], build["for_resource"], build["for_period"]) == ("line", "L1", "W2")
    dep = a.depletions.iloc[0]
    assert (dep["product"], dep["periods"]) == ("A", "W2")
    assert dep["shortfall"] == pytest.approx(20)


def test_a_depletion_names_the_periods_at_its_lowest(make: Callable[..., Dataset]) -> None:
    """S has 200 on hand, a safety stock of 300 and no routing (T, without demand, has
    the line); 50 a week ship in W1-W4:
    closing 150, 100, 50, 0, 0. It read "drawn to 0 ... in W1–W5: cheaper than keeping
    the safety stock", for stock at 0 in W4-W5 only, of a product that cannot be made."""
    ds = make(
        base=False,
        periods="period,start\nW1,2026-11-30\nW2,2026-12-07\nW3,2026-12-14\nW4,2026-12-21"
        "\nW5,2026-12-28",
        products="product,initial_inventory,safety_stock,safety_stock_cost,shortage_cost\n"
        "S,200,300,1,10\nT,0,0,0,10",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nT,L1,10",
        forecast="product,period,quantity\n" + "\n".join(f"S,W{t},50" for t in range(1, 5)),
    )
    _, a = analysed(ds)
    dep = a.depletions.iloc[0]
    assert (dep["periods"], dep["lowest"], dep["shortfall"]) == ("W1–W5", 0, 300)
    assert dep["explanation"] == (
        "S is below its safety stock of 300 in W1–W5, down to 0 in W4–W5: it has no"
        " routing, so it can only ship from stock"
    )


def test_family_rollup(make: Callable[..., Dataset]) -> None:
    ds = make(
        **{**LINE, "products": "product,family,priority,shortage_cost\nA,soap,1,5\nB,soap,2,5"}
    )
    _, a = analysed(ds)
    fam = a.families.set_index("family")
    assert fam.loc["soap", "demand"] == pytest.approx(240)
    assert fam.loc["soap", "unmet"] == pytest.approx(40)
    assert fam.loc["soap", "fill_rate"] == pytest.approx(200 / 240)
    assert fam.loc["soap", "unmet_top_tier"] == pytest.approx(0)


# ------------------------------------------------------------------ options


def test_receipt_on_time_recovers_the_shortage(make: Callable[..., Dataset]) -> None:
    ds = make(**RECEIPT)
    _, a = analysed(ds, what_ifs=True)
    opts = a.options.set_index("option")
    assert "receipt" in opts.index
    r = opts.loc["receipt"]
    assert "4500001182" in r["description"] and "in W2 instead of W3" in r["description"]
    assert r["units_recovered"] == pytest.approx(40)
    assert r["recovered_tier_1"] == pytest.approx(40)
    # 400 of shortage gone; caps held 10, 60 and 10 weeks-units (0.8) instead of 10 and 50
    assert r["objective_change"] == pytest.approx(-400 + 0.8 - 0.6)


def test_shift_and_overtime_options(make: Callable[..., Dataset]) -> None:
    """An 8 h shift on L1 in W1 makes 80 more units: 20 for B in W1 and 20 built ahead
    for B in W2 (holding is free): 40 x 5 = -200. Overtime (2 h a week at 60/h) is not
    worth 10 B x 5 = 50 an hour, so the plan leaves it; running it all serves 40 more B
    for 4 h x 60 = 240 of overtime against 200 of shortage: +40."""
    ds = make(**{**LINE, "lines": "line,hours,overtime_hours,overtime_cost\nL1,10,2,60"})
    p, a = analysed(ds, what_ifs=True)
    opts = a.options.set_index("option")
    shift = opts.loc["shift"]
    assert "8 h shift on line L1 in W1" in shift["description"]
    assert shift["recovered_tier_2"] == pytest.approx(40)
    assert shift["recovered_tier_1"] == pytest.approx(0)
    assert shift["objective_change"] == pytest.approx(-200)
    ot = opts.loc["overtime"]
    assert ot["recovered_tier_2"] == pytest.approx(40)
    assert ot["objective_change"] == pytest.approx(40)
    assert ot["spend_change"] == pytest.approx(240)


def test_what_if_options_solved_at_once_give_the_same_table(
    bodywash: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's options (overtime, a receipt on time, shifts: three options, five
    what-ifs) solved one at a time and in three threads: the same rows, in the same
    order, to the solver's precision."""
    import optimizer.analysis as analysis_module

    p = run(bodywash)
    tables = []
    for workers in (1, 3):
        monkeypatch.setattr(analysis_module, "_what_if_workers", lambda d, p, w=workers: w)
        tables.append(analyse(bodywash, p, what_ifs=True).options.drop(columns="seconds"))
    assert len(tables[0]) == 3
    pd.testing.assert_frame_equal(tables[0], tables[1], rtol=1e-6)


def test_what_ifs_at_once_one_per_two_cores_of_an_lp_plan(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An LP what-if uses two cores (HiGHS's parallel simplex): on 8 usable cores four
    run at once, on as many as ``solve.threads`` allows when it is set, and a MILP
    plan's one at a time."""
    import optimizer.analysis as analysis_module

    monkeypatch.setattr(analysis_module, "usable_cores", lambda: 8)
    ds = make(**LINE)
    p = run(ds)
    assert p.summary.integer_variables == 0

    def workers(threads: int, plan: Plan = p) -> int:
        limited = ds.replace(settings=ds.settings.with_overrides(solve__threads=threads))
        return analysis_module._what_if_workers(limited, plan)

    assert [workers(t) for t in (0, 1, 2, 3, 4, 16)] == [4, 1, 1, 1, 2, 4]
    milp = dataclasses.replace(p, summary=p.summary.model_copy(update={"integer_variables": 4}))
    assert workers(0, milp) == 1


def test_what_ifs_of_a_milp_plan_start_from_its_setups(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """LINE with a 1 h setup a product and week (a MILP): each what-if's search starts
    from the plan's setups (``plan(start=...)``; from scratch, generated m's what-ifs
    had 10 s to match a plan that had a minute, and a receipt on time read as 9,026
    units lost), and reaches the optimum of the changed dataset: the shift's
    objective change is that optimum less the plan's."""
    import optimizer.solve as solve_module

    ds = make(**{**LINE, "routings": "product,line,rate,setup_hours\nA,L1,10,1\nB,L1,10,1"})
    p = run(ds)
    assert p.summary.integer_variables > 0
    starts: list[object] = []
    real = solve_module.plan

    def spy(*args: object, **kwargs: object) -> Plan:
        starts.append(kwargs.get("start"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solve_module, "plan", spy)
    a = analyse(ds.replace(settings=ds.settings.with_overrides(solve__mip_gap=0.0)), p)
    monkeypatch.undo()
    assert starts and all(start is p for start in starts)
    shift = a.options.set_index("option").loc["shift"]
    line, period = shift["description"].split("on line ")[1].split(" (")[0].split(" in ")
    shifted = with_hours(ds, line, period, 18.0)  # the 8 h shift on the line's 10
    assert shift["objective_change"] == pytest.approx(objective(shifted) - objective(ds), abs=1e-6)


def test_a_milp_what_if_far_above_its_plan_is_no_option(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MILP what-if whose search stops far above the plan it started from (here made
    to: ten times the plan's cost more, as a what-if stopped with the idle plan is)
    gives no numbers, and says so in its status, rather than millions of units lost."""
    import optimizer.analysis.whatif as whatif

    ds = make(**{**LINE, "routings": "product,line,rate,setup_cost\nA,L1,10,1\nB,L1,10,1"})
    p = run(ds)
    real = whatif._resolve

    def stopped_far_above(dataset: Dataset, plan: Plan, time_limit: float) -> Plan:
        got = real(dataset, plan, time_limit)
        assert got.summary.objective is not None
        assert plan.summary.objective is not None
        far = got.summary.objective + 10 * abs(plan.summary.objective) + 1000
        worse = got.summary.model_copy(update={"objective": far})
        return dataclasses.replace(got, summary=worse)

    monkeypatch.setattr(whatif, "_resolve", stopped_far_above)
    options = analyse(ds, p).options
    assert len(options) and (options["status"] == whatif.FELL_SHORT).all()
    assert options["units_recovered"].isna().all() and options["objective_change"].isna().all()
    monkeypatch.undo()
    assert (analyse(ds, p).options["status"] == "optimal").all()


def test_shift_goes_where_the_whole_shift_is_worth_most(make: Callable[..., Dataset]) -> None:
    """L1 makes 100 a week; nothing is stored (max_inventory 0), nothing is late. W1:
    105 A wanted at 10 a unit, so W1's first hour is worth 100 but only half an hour
    of it serves (-50). W2: 180 B at 5, an hour worth 50 for all 8 (-400). Ranked by
    marginal value alone the shift went to W1."""
    ds = make(
        base=False,
        periods=TWO,
        products="product,shortage_cost,max_inventory\nA,10,0\nB,5,0",
        lines="line,hours\nL1,10",
        routings="product,line,rate\nA,L1,10\nB,L1,10",
        forecast="product,period,quantity\nA,W1,105\nB,W2,180",
    )
    p, a = analysed(ds, what_ifs=True)
    assert a.shadow.capacity.tolist() == [[pytest.approx(100), pytest.approx(50)]]
    shift = a.options.set_index("option").loc["shift"]
    assert shift["description"] == (
        "One extra 8 h shift on line L1 in W2 (its first hour is worth 50.00); the best of 2 tried"
    )
    assert shift["objective_change"] == pytest.approx(-400)
    assert shift["units_recovered"] == pytest.approx(80)


def test_what_ifs_of_a_slow_lp_plan_start_from_its_basis(make: Callable[..., Dataset]) -> None:
    """A plan that took longer than a what-if may take has its what-ifs skipped, unless
    it is an LP plan: they then start from its basis (the plan's own, or for a plan
    read back from its folder, the one the marginal values' LP found), with the same
    answers."""
    ds = make(**{**LINE, "lines": "line,hours,overtime_hours,overtime_cost\nL1,10,2,60"})
    ds = ds.replace(settings=ds.settings.with_overrides(solve__mip_gap=0.0))
    p = run(ds)
    assert p.basis is not None
    slow = dataclasses.replace(p, summary=p.summary.model_copy(update={"solve_seconds": 1e6}))
    for plan_ in (slow, dataclasses.replace(slow, basis=None)):
        a = analyse(ds, plan_, what_ifs=True, what_if_seconds=5.0)
        shift = a.options.set_index("option").loc["shift"]
        assert shift["objective_change"] == pytest.approx(-200)
    assert analyse(ds, dataclasses.replace(slow, basis=None)).shadow.plan_basis is not None


def test_no_shortage_gives_empty_tables(make: Callable[..., Dataset]) -> None:
    ds = make(**{**LINE, "forecast": "product,period,quantity\nA,W1,10\nB,W2,10"})
    _, a = analysed(ds, what_ifs=True)
    assert a.exceptions.empty and a.causes.empty and a.priorities.empty
    assert list(a.causes.columns[: len(CAUSE_COLUMNS)]) == CAUSE_COLUMNS
    assert a.options.empty


def test_without_duals_causes_come_from_the_plan(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the fixed-setup LP cannot be solved, the report says so and still names
    the resources the plan uses up."""

    def no_backend(name: str) -> object:
        raise RuntimeError("no solver today")

    ds = make(**RECEIPT)
    p = run(ds)
    monkeypatch.setattr("optimizer.analysis.duals.get_backend", no_backend)
    a = analyse(ds, p, what_ifs=False)
    assert not a.shadow.available
    assert "unavailable" in a.notes[0]
    assert (a.bottlenecks["marginal_value"] == 0).all()
    row = a.causes.iloc[0]
    assert (row["entry"], row["cause_kind"], row["resource"]) == ("forecast:A:W2", "material", "M")
    assert "PO 4500001182 from CapCo" in row["explanation"]


def test_a_slow_milp_plans_what_ifs_start_from_its_setups(
    make: Callable[..., Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MILP plan that took longer than a what-if may take still gets its what-ifs:
    they start from its setups, whose fixed LP (timed by the marginal values' LP) takes
    a fraction of a what-if's time. A plan not proven optimal is also planned again the
    same way, without a change, and the options are measured against that (the report
    says so): here it finds the same optimum, so the options are the same. Where the
    fixed LP takes more than a third of a what-if's time, or in lexicographic mode (which
    plans a MILP from scratch), they are skipped, and the report says why. (An LP plan
    gets them from its basis: the test above.)"""
    import optimizer.analysis as analysis_module
    import optimizer.solve as solve_module

    ds = make(**{**LINE, "routings": "product,line,rate,setup_cost\nA,L1,10,1\nB,L1,10,1"})
    p = run(ds)
    assert p.summary.integer_variables > 0
    slow = Plan(p.summary.model_copy(update={"solve_seconds": 60.0}), p.tables(), p.dataset_name)
    solves: list[object] = []
    real_plan = solve_module.plan

    def counted(*args: object, **kwargs: object) -> Plan:
        solves.append(args[0])
        return real_plan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solve_module, "plan", counted)
    a = analyse(ds, slow)
    what_ifs = len(solves)
    assert not a.options.empty and what_ifs >= len(a.options)
    assert not any("what-ifs skipped" in n or "measured against" in n for n in a.notes)
    unproven = dataclasses.replace(
        slow, summary=slow.summary.model_copy(update={"status": "feasible", "gap": 0.02})
    )
    b = analyse(ds, unproven)
    monkeypatch.undo()
    assert len(solves) == what_ifs + 1 + what_ifs  # the control, then the same what-ifs
    assert any("measured against the plan searched the same way" in n for n in b.notes)
    pd.testing.assert_frame_equal(
        a.options.drop(columns="seconds"), b.options.drop(columns="seconds"), rtol=1e-6
    )

    real = analysis_module.shadow_prices

    def slow_duals(*args: object, **kwargs: object) -> object:
        return dataclasses.replace(real(*args, **kwargs), seconds=4.0)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis_module, "shadow_prices", slow_duals)
    a = analyse(ds, slow)  # 4 s x 3 > the 10 s a what-if may take
    assert a.options.empty
    assert any(
        "what-ifs skipped" in n and "a what-if's first plan, took 4.0 s" in n for n in a.notes
    )
    assert not analyse(ds, slow, what_if_seconds=120).options.empty
    monkeypatch.undo()

    lex = ds.replace(settings=ds.settings.with_overrides(priority__mode="lexicographic"))
    slow_lex = Plan(
        run(lex).summary.model_copy(update={"solve_seconds": 60.0}), p.tables(), p.dataset_name
    )
    a = analyse(lex, slow_lex)
    assert a.options.empty
    assert any("in lexicographic mode a MILP what-if is planned from scratch" in n for n in a.notes)


def test_overtime_that_serves_nothing_more_is_no_option_cost(
    make: Callable[..., Dataset],
) -> None:
    """Found by a tester: the overtime what-if made overtime free, so the solve ran it
    where it serves nothing (here: 5 h in W2, to save building 50 A ahead at 1 a unit)
    and then charged it back: "+0 units, +450". More overtime serves no more demand, so
    the option is the plan as it is: no units, no change."""
    ds = make(
        base=False,
        periods=TWO,
        products="product,priority,shortage_cost,holding_cost\nA,1,1000,1",
        lines="line,hours,overtime_hours,overtime_cost\nL1,5,5,100",
        routings="product,line,rate\nA,L1,10",
        forecast="product,period,quantity\nA,W2,100",
    )
    p, a = analysed(ds, what_ifs=True)
    assert p.summary.objective == pytest.approx(50 + 100 * float(ds.routings["run_cost"].iloc[0]))
    ot = a.options.set_index("option").loc["overtime"]
    assert ot["units_recovered"] == pytest.approx(0)
    assert ot["objective_change"] == pytest.approx(0)
    assert ot["spend_change"] == pytest.approx(0)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_material_cause_names_the_week_it_runs_out(seed: int, tmp_path: object) -> None:
    """Found by a tester: on generated s (seeds 1, 2) shortage causes said "RM-0002 is
    short in 2026-W03" with 1,016 left at the end of W03; it runs out in W04, the week
    a unit received in W03 is worth something for. Every material cause now names a
    week whose closing stock is 0."""
    from pathlib import Path

    from benchmarks.generate import generate
    from optimizer import load_dataset

    ds = load_dataset(generate("s", seed, Path(str(tmp_path)) / "s"))
    p, a = analysed(ds)
    causes = a.causes[a.causes["cause_kind"] == "material"]
    assert len(causes)
    stock = p.materials.set_index(["material", "period"])["closing"]
    for material, week in zip(causes["resource"], causes["cause_period"], strict=True):
        assert stock[(material, week)] <= 1e-6 * max(1.0, float(stock.abs().max())), (
            material,
            week,
        )


def test_priority_decision_counts_protected_products_in_the_main_one_s_units(
    make: Callable[..., Dataset],
) -> None:
    """SCARCE with R (tier 1, 2 caps a unit) beside P (1 cap): the 10 caps make 4 R and
    2 P. In units of R, the main protected product, that is 4 + 2 / 2 = 5, which is what
    serving Q would take; the plain sum, 6, said 12 Q could be served with 10 caps."""
    tables = dict(SCARCE)
    tables["products"] += "\nR,1,0.1,30"
    tables["routings"] += "\nR,L1,10,1"
    tables["bom"] += "\nR,M,2"
    tables["forecast"] += "".join(f"\nR,W{t},2" for t in (1, 2, 3))
    _, a = analysed(make(**tables))
    row = a.priorities.iloc[0]
    assert (row["protected_products"], row["protected_units"]) == ("P, R", pytest.approx(6))
    assert row["lost_product"] == "R"
    assert row["lost_units"] == pytest.approx(5)
    assert row["servable_units"] == pytest.approx(10)  # the 10 caps, one a Q
    assert row["servable_value"] == pytest.approx(500)
    assert row["lost_value"] == pytest.approx(1500)  # 5 R at 30 x 10 (tier 1 of 2)
