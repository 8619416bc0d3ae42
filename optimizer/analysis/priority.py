"""Priority decisions: lower-tier demand cut on a resource that higher tiers were given.

For every binding line or material named as a cause of lower-tier shortage
(:mod:`optimizer.analysis.causes`), the plan made higher-tier products with that
resource in the same periods. Serving the cut demand instead would take the
resource back from them: on a line, the hours the cut units need at their rate,
converted into units of the main protected product at its rate; for a material,
the units of material the cut units need, converted at the protected product's
quantity per unit. No more can be taken back than the protected products were given
(``lost_units``), so only part of the cut may be servable (``servable_units``, the
most valuable per unit of the resource first).

In weighted mode both sides are priced in the plan's objective: the units lost at
``c_short * base^(K - k)`` (``lost_value``), the servable cut units at their entries'
marginal values (``servable_value``), which says why the plan chose as it did. In
lexicographic mode the tiers are strict (MODEL.md: a higher tier's unit is never given
up for a lower tier's, whatever the costs), so the sentence says that and neither
side is priced (``lost_value`` and ``servable_value`` are NaN).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from optimizer.analysis._util import TOL, bom_of, num, period_ranges
from optimizer.analysis.duals import ShadowPrices
from optimizer.dataset import Dataset
from optimizer.results import Plan

COLUMNS = [
    "tier_cut",
    "kind",
    "resource",
    "periods",
    "cut_units",
    "cut_products",
    "protected_tiers",
    "protected_products",
    "protected_units",
    "lost_product",
    "lost_units",
    "servable_units",
    "cut_value",
    "servable_value",
    "lost_value",
    "explanation",
]


_FLOATS = ("lost_units", "servable_units", "servable_value", "lost_value")
"""Columns that stay floats (NaN values in lexicographic mode)."""


def _units_of(
    main: str,
    product: str,
    resource: str,
    line: bool,
    rate: np.ndarray,
    routing_of: dict[tuple[str, str], int],
    per_unit: dict[tuple[str, str], float],
) -> float | None:
    """Units of ``main`` that what one unit of ``product`` takes of ``resource`` (a line's
    hours, or a material) would make; ``None`` where either cannot use it."""
    if line:
        r, m = routing_of.get((product, resource)), routing_of.get((main, resource))
        return None if r is None or m is None else float(rate[m] / rate[r])
    a, a_main = per_unit.get((product, resource)), per_unit.get((main, resource))
    return None if a is None or not a_main else a / a_main


def priority_decisions(
    dataset: Dataset, plan: Plan, shadow: ShadowPrices, causes: pd.DataFrame
) -> pd.DataFrame:
    """Lower-tier shortage on resources that higher tiers were given.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, one row per (tier cut, resource), the largest cut first.
    """
    d = shadow.data
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    if causes.empty or len(d.tier) == 0:
        return empty
    top = int(d.tier.min())
    rows = causes[causes["cause_kind"].isin(["line", "material"]) & (causes["priority"] > top)]
    if rows.empty:
        return empty
    order = list(d.period_ids)
    pos = {p: i for i, p in enumerate(order)}
    priority = dataset.settings.priority
    lexicographic = priority.mode == "lexicographic"
    base = priority.tier_weight_base
    K = int(d.tier.max())
    c_short = dict(zip(d.product_ids, dataset.products["shortage_cost"], strict=True))
    svc = plan.service
    served = svc[(svc["on_time"] + svc["late"]) > TOL]
    served_due = served["due"].map(pos).to_numpy(dtype=np.int64)
    served_tier = served["priority"].to_numpy()
    prod = plan.production
    # what the loop below asks of the plan's tables, once per distinct question: on l
    # it asks 160 times, and filtering 38,000 service rows each time took 2 s
    made_on_line = dict(tuple(prod.groupby("line", sort=False, observed=True)))
    made_of: dict[str, pd.DataFrame] = {}
    higher_than: dict[tuple[int, int], tuple[pd.DataFrame, pd.Series, set[str]]] = {}
    routing_of: dict[tuple[str, str], int] = {
        (str(d.product_ids[d.rp[i]]), str(d.line_ids[d.rl[i]])): i for i in range(len(d.rp))
    }
    per_unit: dict[tuple[str, str], float] = {}
    for i, pairs in bom_of(d).items():
        for k, a in pairs:
            per_unit[(str(d.product_ids[d.rp[i]]), str(d.material_ids[k]))] = a
    users: dict[str, set[str]] = {}
    for product, material in per_unit:
        users.setdefault(material, set()).add(product)

    out: list[dict[str, object]] = []
    for (kind, resource, tier), group in rows.groupby(
        ["cause_kind", "resource", "priority"], sort=False
    ):
        periods = sorted(
            {p for ps in group["binding_periods"] for p in str(ps).split(";") if p},
            key=lambda p: pos.get(p, -1),
        )
        if not periods:
            continue
        tier = int(tier)
        if kind == "line":
            made = made_on_line.get(resource, prod.iloc[:0])
        else:
            if resource not in made_of:
                made_of[resource] = prod[prod["product"].isin(users.get(str(resource), set()))]
            made = made_of[resource]
        made = made[made["period"].isin(periods)]
        horizon = pos[periods[-1]] + d.max_lateness
        if (tier, horizon) not in higher_than:
            higher = served[(served_tier < tier) & (served_due <= horizon)]
            got = (higher["on_time"] + higher["late"]).groupby(higher["product"], sort=False).sum()
            higher_than[tier, horizon] = higher, got, set(higher["product"])
        higher, got, higher_products = higher_than[tier, horizon]
        protected = made[made["product"].isin(higher_products)]
        if protected.empty or protected["quantity"].sum() <= TOL:
            continue
        # what the resource made of each product, but no more than the higher tiers
        # received of it (``got``: a product serves lower tiers too, and counting all it
        # made overstated the loss, on bodywash 289,539 units where tier 1 got 208,000)
        by_product = protected.groupby("product", sort=False)["quantity"].sum()
        by_product = np.minimum(by_product, got.reindex(by_product.index, fill_value=0.0))
        by_product = by_product[by_product > TOL]
        if by_product.empty:
            continue
        main = str(by_product.idxmax())
        main_tier = int(higher.loc[higher["product"] == main, "priority"].min())
        mine = higher["product"].isin(by_product.index)
        tiers = sorted({int(t) for t in higher.loc[mine, "priority"]})
        tier_words = f"{tiers[0]}-{tiers[-1]}" if len(tiers) > 1 else str(tiers[0])

        # what serving the cut demand would take from the main protected product: the
        # units of it one cut unit costs (none: the cut product cannot use the resource)
        in_main = functools.partial(
            _units_of,
            main,
            resource=str(resource),
            line=kind == "line",
            rate=d.rate,
            routing_of=routing_of,
            per_unit=per_unit,
        )

        cost = {
            p: c for p in group["product"].astype(str).unique() if (c := in_main(p)) is not None
        }
        costs = group["product"].astype(str).map(cost)
        usable = group[costs.notna()].assign(_cost=costs[costs.notna()].astype(np.float64))
        need = float((usable["quantity"] * usable["_cost"]).sum())
        if need <= TOL:
            continue
        # what the protected products made, in units of the main one: their plain sum
        # mixed products of other rates (4 R at 2 caps and 2 P at 1 cap are 5 R)
        as_main = sum(
            float(q) * (c if (c := in_main(str(p))) is not None else 1.0)
            for p, q in by_product.items()
        )
        lost = min(need, as_main)
        # the cut units the lost ones could serve, the most valuable per unit of the
        # main product first: all of the cut may need more than the higher tiers got
        usable = usable.assign(_rank=usable["unit_value"] / usable["_cost"]).sort_values(
            "_rank", ascending=False, kind="stable"
        )
        left = lost
        servable_units = servable_value = 0.0
        for qty, value, each in zip(
            usable["quantity"], usable["unit_value"], usable["_cost"], strict=True
        ):
            q = min(float(qty), left / float(each))
            servable_units += q
            servable_value += q * float(value)
            left -= q * float(each)
            if left <= TOL:
                break
        cut_units = float(group["quantity"].sum())
        cut_value = float((group["quantity"] * group["unit_value"]).sum())
        what = "line" if kind == "line" else "material"
        cut_products = ", ".join(sorted(group["product"].unique()))
        weeks = period_ranges(periods, order)
        them = (
            "them"
            if servable_units >= cut_units - TOL * max(1.0, cut_units)
            else f"{num(servable_units)} of them"
        )
        text = (
            f"tier {tier}: {num(cut_units)} units of {cut_products} cut or delayed for"
            f" {what} {resource} in {weeks}, which made {num(float(by_product.sum()))} units"
            f" for tier {tier_words}"
            f" ({', '.join(by_product.index)}). Serving {them} instead would take"
            f" {num(lost)} units from tier-{main_tier} products such as {main}"
        )
        if lexicographic:
            lost_value = servable_value = float("nan")
            tolerance = (
                f" beyond the {priority.tolerance:.1%} of its loss that priority.tolerance"
                " lets it give up"
                if priority.tolerance > 0
                else ""
            )
            text += (
                f", and in lexicographic mode a tier-{main_tier} unit is never given up for a"
                f" tier-{tier} one{tolerance}, whatever the costs"
            )
        else:
            lost_value = lost * c_short[main] * base ** (K - main_tier)
            text += (
                f": a loss worth {num(lost_value)} in the plan's priority-weighted objective,"
                f" against {num(servable_value)} for the cut units served"
            )
        out.append(
            {
                "tier_cut": tier,
                "kind": kind,
                "resource": resource,
                "periods": weeks,
                "cut_units": cut_units,
                "cut_products": cut_products,
                "protected_tiers": ",".join(str(t) for t in tiers),
                "protected_products": ", ".join(by_product.index),
                "protected_units": float(by_product.sum()),
                "lost_product": main,
                "lost_units": lost,
                "servable_units": servable_units,
                "cut_value": cut_value,
                "servable_value": servable_value,
                "lost_value": lost_value,
                "explanation": text,
            }
        )
    if not out:
        return empty
    result = pd.DataFrame(out, columns=COLUMNS)
    return result.sort_values(
        ["tier_cut", "cut_units"], ascending=[True, False], kind="stable", ignore_index=True
    ).astype({c: np.float64 for c in _FLOATS})
