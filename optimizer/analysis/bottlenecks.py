"""Binding constraints: line-periods at capacity, overtime used up, materials run out.

Each row says how much of the resource is left (``slack``) and what one more unit
of it is worth (``marginal_value``: the decrease of the objective per extra hour or
unit, positive when more would help; :mod:`optimizer.analysis.duals`):

* ``line``: regular hours of ``line`` in ``period``; slack = regular hours unused;
* ``overtime``: the overtime allowance; slack = overtime hours unused; the value is
  net of the overtime cost;
* ``material``: one more unit of ``material`` received in ``period`` (usable then or
  later); slack = the material's closing stock of the period.

A row is listed when the resource is used up (a line with hours at capacity,
overtime all used, a material consumed down to zero) or when more of it would
help. Rows are ranked by marginal value, the most valuable first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.analysis._util import TOL, grid
from optimizer.analysis.duals import ShadowPrices
from optimizer.results import Plan

COLUMNS = ["kind", "resource", "period", "slack", "marginal_value"]
"""The columns of ``bottlenecks.csv``."""

_KIND_ORDER = {"line": 0, "overtime": 1, "material": 2}


def _rows(
    kind: str,
    ids: np.ndarray,
    keep: np.ndarray,
    slack: np.ndarray,
    value: np.ndarray,
    used: np.ndarray,
    available: np.ndarray,
    periods: np.ndarray,
) -> pd.DataFrame:
    """One row per (resource, period) in ``keep``: its slack, value, use and supply."""
    i, t = np.nonzero(keep)
    return pd.DataFrame(
        {
            "kind": kind,
            "resource": ids[i],
            "period": periods[t],
            "slack": slack[i, t],
            "marginal_value": value[i, t],
            "used": used[i, t],
            "available": available[i, t],
            "_t": t,
        }
    )


def bottlenecks(shadow: ShadowPrices, plan: Plan) -> pd.DataFrame:
    """Binding resources of a plan, ranked by marginal value.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, plus ``used`` and ``available`` (hours or units) for reports.
    """
    d = shadow.data
    per = d.period_ids
    lines = plan.lines
    used = grid(lines, "line", d.line_ids, per, "used_hours")
    ot = grid(lines, "line", d.line_ids, per, "overtime_hours")
    H, OT = d.H, d.OT
    regular_slack = np.maximum(0.0, H + ot - used)
    regular_slack[regular_slack < TOL * np.maximum(1.0, H)] = 0.0
    value = shadow.capacity
    parts = [
        _rows(
            "line",
            d.line_ids,
            ((H > 0) & (regular_slack == 0)) | (value > TOL),
            regular_slack,
            value,
            np.minimum(used, H),
            H,
            per,
        )
    ]
    ot_slack = np.maximum(0.0, OT - ot)
    ot_slack[ot_slack < TOL * np.maximum(1.0, OT)] = 0.0
    ot_value = shadow.overtime_value()
    parts.append(
        _rows(
            "overtime",
            d.line_ids,
            ((OT > 0) & (ot_slack == 0)) | (ot_value > TOL),
            ot_slack,
            ot_value,
            ot,
            OT,
            per,
        )
    )
    if len(d.material_ids):
        mats = plan.materials
        closing = grid(mats, "material", d.material_ids, per, "closing")
        consumed = grid(mats, "material", d.material_ids, per, "consumed")
        closing[np.abs(closing) < TOL * np.maximum(1.0, consumed)] = 0.0
        mvalue = shadow.material
        parts.append(
            _rows(
                "material",
                d.material_ids,
                ((closing == 0) & (consumed > TOL)) | (mvalue > TOL),
                closing,
                mvalue,
                consumed,
                consumed + closing,
                per,
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["_k"] = out["kind"].map(_KIND_ORDER)
    out = out.sort_values(
        ["marginal_value", "slack", "_k", "resource", "_t"],
        ascending=[False, True, True, True, True],
        kind="stable",
        ignore_index=True,
    )
    return out.drop(columns=["_k", "_t"])
