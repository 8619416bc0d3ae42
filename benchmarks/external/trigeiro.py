"""Trigeiro, Thomas & McClain (1989) CLSP instances as soe datasets.

The instances live beside the project checkout, in
``shared/benchmarks/trigeiro1989/`` (see its README for provenance and format);
they are read from there and never copied into the project.

File format (whitespace separated, fixed columns, LF or CRLF)::

    N T            items and periods
    1              unused
    C              capacity per period
    a h st f       N lines: capacity per unit, holding cost, setup time, setup cost
    d ...          demand: T rows of items 1-15, then T rows of items 16-30, ...

Anything after the demand matrix (a column legend, and in the X files a line of
generation parameters) is ignored; one X file ends with a DOS EOF byte (0x1A) and
NUL padding.

The reference model (README "Model under which the reference values hold") is::

    min  sum_i sum_t f_i y_it + h_i s_it
    s.t. s_i,t-1 + x_it - s_it = d_it,  s_i0 = 0
         sum_i a_i x_it + st_i y_it <= C,   x_it <= M y_it,  y binary

:func:`convert` writes it as a soe dataset: one line ``CAP`` with ``hours = C``
and no overtime; one product per item with a routing on ``CAP`` at rate
``1 / a_i`` (written with ``repr`` so that no digit is lost), setup hours ``st_i``,
setup cost ``f_i``, no run cost or minimum lot; holding cost ``h_i``; no initial
inventory or safety stock; forecast ``d_it``; ``max_lateness = 0`` (lost sales);
one priority tier. soe's capacity row ``x / (1/a_i) + st_i y <= C`` is the
reference's, its setup link ``x <= (C - st_i) / a_i * y`` is implied by capacity,
and its objective is ``setup + holding + pi * unserved``. With all demand served
it equals the reference objective.

Shortage cost
-------------
Every item gets the same shortage cost per unit, ``pi = max(B, (T - 1) sum_i h_i)``
with ``B = T sum_i f_i + sum_i h_i sum_t (t - 1) d_it``. ``B`` bounds the cost of an
optimal plan that serves everything: it sets each item up at most once per period,
and a unit of period-t demand is never held longer than ``t - 1`` periods (the
instances are feasible: reference values exist for all). Why it is enough:

* a plan leaving ``U >= 1`` units unserved pays ``pi U >= B`` for them alone, so it
  costs at least as much as the optimal full-service plan;
* a plan leaving ``0 < U < 1`` units unserved: when every ``a_i = 1`` (all files but
  G21-G30) the model with the setups fixed is a min-cost flow with integer data, so
  a setup pattern that cannot serve all demand leaves at least one whole unit
  unserved. The plan's pattern therefore serves everything too, and within a fixed
  pattern serving one more unit costs at most the cost of a path in the flow
  network, at most ``(T - 1) sum_i h_i <= pi`` per unit.

For G21-G30 (fractional ``a_i``) the second argument does not carry over exactly;
:mod:`benchmarks.external.run_trigeiro` reports any unserved demand.
``pi`` is a few times the optimal objective (1.3e5 to 6.3e6 over the set): far
smaller than a "big M" such as 1e9, so the objective's coefficient range stays
about 1e6.

Examples
--------
>>> inst = read_instance(instance_paths(names=["G53"])[0])  # doctest: +SKIP
>>> inst.N, inst.T, inst.C  # doctest: +SKIP
(12, 15, 1456.0)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_SHARED",
    "TrigeiroInstance",
    "computed_values",
    "convert",
    "instance_paths",
    "read_instance",
    "reference_values",
    "series_of",
    "shortage_cost",
]

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
"""``shared/benchmarks`` beside the project checkout."""

_BLOCK = 15
"""Demand columns per block when N > 15."""

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eEdD][-+]?\d+)?")

_FIRST_DAY = dt.date(2024, 1, 1)
"""Start of period 1 in converted datasets (any Monday would do)."""


@dataclass(frozen=True)
class TrigeiroInstance:
    """One Trigeiro CLSP instance.

    Attributes
    ----------
    name
        File stem, e.g. ``G53``.
    N
        Number of items.
    T
        Number of periods.
    C
        Capacity per period.
    a
        Capacity used per unit of each item, shape ``(N,)``.
    h
        Holding cost per unit and period, shape ``(N,)``.
    st
        Setup time, shape ``(N,)``.
    f
        Setup cost, shape ``(N,)``.
    demand
        Demand, shape ``(T, N)`` (row = period).
    tokens
        Numeric tokens read (``4 + 4 N + N T``).
    """

    name: str
    N: int
    T: int
    C: float
    a: np.ndarray
    h: np.ndarray
    st: np.ndarray
    f: np.ndarray
    demand: np.ndarray
    tokens: int


def _is_number(token: str) -> bool:
    return _NUMBER.fullmatch(token) is not None


def read_instance(path: str | Path) -> TrigeiroInstance:
    """Parse one instance file exactly as its README describes.

    The file is read line by line: a header of three lines, ``N`` item lines of
    four numbers, then ``ceil(N / 15)`` blocks of ``T`` demand rows (15 items per
    block, the last one narrower). Every line must hold exactly the expected number
    of tokens, and the numeric tokens before the first non-numeric one (the legend)
    must be exactly ``4 + 4 N + N T``: the whole instance and nothing else.

    Parameters
    ----------
    path
        An instance file (``.DAT``).

    Returns
    -------
    TrigeiroInstance
        The instance.

    Raises
    ------
    ValueError
        If the file does not have that layout.
    """
    path = Path(path)
    raw = path.read_bytes()
    for stop in (b"\x1a", b"\x00"):  # DOS EOF and NUL padding end the text
        cut = raw.find(stop)
        if cut >= 0:
            raw = raw[:cut]
    text = raw.decode("ascii")
    rows = [(number, line.split()) for number, line in enumerate(text.splitlines(), 1)]
    rows = [(number, tokens) for number, tokens in rows if tokens]

    def take(width: int) -> list[float]:
        if not rows:
            raise ValueError(f"{path.name}: ends early, {width} more numbers expected")
        number, tokens = rows.pop(0)
        if len(tokens) != width or not all(_is_number(tok) for tok in tokens):
            raise ValueError(f"{path.name}:{number}: expected {width} numbers, got {tokens}")
        return [float(tok) for tok in tokens]

    n_items, n_periods = (int(v) for v in take(2))
    take(1)  # always 1: unused (see README)
    (capacity,) = take(1)
    items = np.array([take(4) for _ in range(n_items)]).reshape(n_items, 4)
    demand = np.zeros((n_periods, n_items))
    for first in range(0, n_items, _BLOCK):
        width = min(_BLOCK, n_items - first)
        for t in range(n_periods):
            demand[t, first : first + width] = take(width)

    expected = 4 + 4 * n_items + n_items * n_periods
    leading = 0
    for token in text.split():
        if not _is_number(token):
            break
        leading += 1
    if leading != expected:
        raise ValueError(
            f"{path.name}: {leading} numbers before the trailing text, {expected} expected"
        )
    return TrigeiroInstance(
        name=path.stem,
        N=n_items,
        T=n_periods,
        C=capacity,
        a=items[:, 0].copy(),
        h=items[:, 1].copy(),
        st=items[:, 2].copy(),
        f=items[:, 3].copy(),
        demand=demand,
        tokens=expected,
    )


def shortage_cost(inst: TrigeiroInstance) -> float:
    """Per-unit shortage cost that makes serving all demand optimal (module docstring).

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    float
        ``max(T sum f + sum_i h_i sum_t (t-1) d_it, (T-1) sum h)``, rounded up.
    """
    waits = np.arange(inst.T)  # (t - 1) for t = 1..T
    bound = inst.T * inst.f.sum() + float(inst.h @ (waits @ inst.demand))
    return float(np.ceil(max(bound, (inst.T - 1) * inst.h.sum())))


def convert(instance_path: str | Path, out_dir: str | Path) -> Path:
    """Write an instance as a soe dataset folder.

    Parameters
    ----------
    instance_path
        The instance file.
    out_dir
        Folder to write (created if missing).

    Returns
    -------
    Path
        ``out_dir``.
    """
    inst = read_instance(instance_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    products = [f"item{i + 1:02d}" for i in range(inst.N)]
    starts = [_FIRST_DAY + dt.timedelta(weeks=k) for k in range(inst.T + 1)]
    periods = [f"t{t + 1:02d}" for t in range(inst.T)]
    pi = shortage_cost(inst)

    def fmt(value: float) -> str:
        return repr(float(value))

    pd.DataFrame(
        {
            "period": periods,
            "start": [d.isoformat() for d in starts[:-1]],
            "end": [d.isoformat() for d in starts[1:]],
        }
    ).to_csv(out / "periods.csv", index=False)
    pd.DataFrame(
        {
            "product": products,
            "priority": 1,
            "initial_inventory": "0",
            "holding_cost": [fmt(v) for v in inst.h],
            "shortage_cost": fmt(pi),
            "lateness_cost": "0",
        }
    ).to_csv(out / "products.csv", index=False)
    pd.DataFrame(
        {"line": ["CAP"], "hours": [fmt(inst.C)], "overtime_hours": ["0"], "overtime_cost": ["0"]}
    ).to_csv(out / "lines.csv", index=False)
    pd.DataFrame(
        {
            "product": products,
            "line": "CAP",
            "rate": [fmt(1.0 / a) for a in inst.a],
            "setup_hours": [fmt(v) for v in inst.st],
            "setup_cost": [fmt(v) for v in inst.f],
            "run_cost": "0",
            "min_lot": "0",
        }
    ).to_csv(out / "routings.csv", index=False)
    t_index, i_index = np.nonzero(inst.demand > 0)
    pd.DataFrame(
        {
            "product": np.array(products)[i_index],
            "period": np.array(periods)[t_index],
            "quantity": [fmt(v) for v in inst.demand[t_index, i_index]],
        }
    ).to_csv(out / "forecast.csv", index=False)
    (out / "settings.toml").write_text(
        f"""\
# Trigeiro instance {inst.name} (N={inst.N}, T={inst.T}, C={inst.C:g}); lost sales,
# shortage cost {pi:g} per unit so that serving all demand is optimal.
[solve]
solver = "highs"
time_limit_s = 60
mip_gap = 1e-6
threads = 0

[demand]
signal = "forecast"
max_lateness = 0

[priority]
mode = "weighted"
""",
        encoding="utf-8",
    )
    return out


def series_of(name: str) -> str:
    """The series letter(s) of an instance name: ``G53`` -> ``G``, ``X11117A`` -> ``X``."""
    return _natural_key(Path(name))[0].upper()


def _natural_key(path: Path) -> tuple[str, int, str]:
    match = re.fullmatch(r"([A-Za-z]+)(\d+)(.*)", path.stem)
    if match is None:
        return (path.stem, 0, "")
    return (match.group(1), int(match.group(2)), match.group(3))


def instance_paths(
    shared: Path = DEFAULT_SHARED,
    series: list[str] | None = None,
    names: list[str] | None = None,
) -> list[Path]:
    """Instance files, in natural order (G1, G2, ..., G10, ...).

    Parameters
    ----------
    shared
        The ``shared/benchmarks`` folder.
    series
        Keep these series only (``G``, ``F``, ``X``).
    names
        Keep these instances only (file stems, e.g. ``G53``); unknown names raise.

    Returns
    -------
    list of Path
        The instance files.
    """
    folder = Path(shared) / "trigeiro1989" / "instances"
    paths = sorted(folder.glob("*.DAT"), key=_natural_key)
    if not paths:
        raise FileNotFoundError(f"no Trigeiro instances in {folder}")
    if names:
        by_name = {p.stem.upper(): p for p in paths}
        missing = [n for n in names if n.upper() not in by_name]
        if missing:
            raise ValueError(f"unknown instances: {', '.join(missing)}")
        paths = [by_name[n.upper()] for n in names]
    if series:
        wanted = {s.upper() for s in series}
        paths = [p for p in paths if series_of(p.stem) in wanted]
    return paths


def reference_values(shared: Path = DEFAULT_SHARED) -> pd.DataFrame:
    """Published optima (``reference_values.csv``), indexed by instance.

    Parameters
    ----------
    shared
        The ``shared/benchmarks`` folder.

    Returns
    -------
    pandas.DataFrame
        Columns ``alias``, ``objective``, ``status``, ``lower_bound_listed``,
        ``source``, ``note``.
    """
    frame = pd.read_csv(
        Path(shared) / "trigeiro1989" / "reference_values.csv", dtype={"instance": str}
    )
    return frame.set_index("instance")


def computed_values(shared: Path = DEFAULT_SHARED) -> pd.DataFrame:
    """HiGHS values computed for the collection (``computed_values_highs.csv``).

    These are not published values: ``status`` ``optimal`` means proven optimal,
    ``time_limit`` that ``objective`` is the best plan found and ``dual_bound`` a
    proven lower bound.

    Parameters
    ----------
    shared
        The ``shared/benchmarks`` folder.

    Returns
    -------
    pandas.DataFrame
        Indexed by instance; columns ``items``, ``periods``, ``status``,
        ``objective``, ``dual_bound``, ``seconds``, ``time_limit_s``, ``solver``,
        ``note``.
    """
    frame = pd.read_csv(
        Path(shared) / "trigeiro1989" / "computed_values_highs.csv", dtype={"instance": str}
    )
    return frame.set_index("instance")
