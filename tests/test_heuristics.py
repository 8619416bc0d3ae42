"""The MILP start: the idle plan and LP rounding give plans feasible for the model."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from formulations.allocation import build
from formulations.lp import LinearModel
from optimizer import Dataset
from optimizer.backends import get_backend
from optimizer.heuristics import idle_plan, mip_start

RICH = dict(
    products="product,priority,shortage_cost,safety_stock,safety_stock_cost,initial_inventory\n"
    "A,1,5,20,1,5\nB,2,5,0,0,0",
    lines="line,hours,overtime_hours,overtime_cost\nL1,10,2,3",
    routings="product,line,rate,setup_hours,setup_cost,min_lot\nA,L1,10,1,5,30\nB,L1,10,0.5,2,0",
    materials="material,initial_inventory,holding_cost\nCAP,50,0.1",
    bom="product,material,quantity_per_unit\nA,CAP,1",
    receipts="material,period,quantity,po\nCAP,W2,100,PO-9",
    previous_plan="product,line,period,quantity\nA,L1,W1,40\nB,L1,W2,10",
    settings="[stability]\nfrozen_periods = 1\nfrozen_shortfall_cost = 1\nchange_cost = 0.5",
)


def _feasible(lp: LinearModel, v: np.ndarray) -> bool:
    act = lp.row_activity(v)
    tol = 1e-6
    return bool(
        np.all(v >= lp.lower - tol)
        and np.all(v <= lp.upper + tol)
        and np.all(act >= lp.row_lower - tol)
        and np.all(act <= lp.row_upper + tol)
        and np.all(np.abs(v[lp.integer] - np.round(v[lp.integer])) < tol)
    )


def test_idle_plan_is_feasible(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    assert model.lp.is_mip
    v = idle_plan(model)
    assert _feasible(model.lp, v)
    # nothing made, every entry short
    assert v[model.x].sum() == 0
    assert v[model.short].sum() == pytest.approx(240)


def test_mip_start_is_feasible_and_beats_idle(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    v = mip_start(model, get_backend("highs"), time.perf_counter() + 30)
    assert v is not None
    assert _feasible(model.lp, v)
    assert model.lp.cost @ v < model.lp.cost @ idle_plan(model)


def test_mip_start_out_of_time_falls_back_to_idle(make: Callable[..., Dataset]) -> None:
    model = build(make(**RICH))
    v = mip_start(model, get_backend("highs"), time.perf_counter() - 1)
    assert v is not None
    np.testing.assert_array_equal(v, idle_plan(model))
