"""Benchmark fixtures: generated datasets by size, and a ratio table at the end.

``pytest benchmarks`` times each phase of ``soe plan`` (load, build, solve, extract,
verify, write, end to end) on generated datasets of sizes s, m and l, and the
hand-written PuLP baseline (:mod:`benchmarks.baseline_pulp`) on the same datasets in
the same run. Options:

- ``--sizes s,m,l`` (default), add ``xl`` for the largest; ``--setups`` benchmarks
  the MILP variants (setup times and minimum lots) instead of the LPs;
- ``--baselines cbc,highs`` (default; ``none`` to skip them);
- ``--time-limit S`` for every solve (soe and baselines alike; default 600).

CI runs ``pytest benchmarks --benchmark-disable --sizes s`` once, as a smoke test.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate

SEED = 1
TIMES: defaultdict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
"""(size, what) -> figures, filled by the benchmarks for the closing ratio table."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("soe benchmarks")
    group.addoption("--sizes", default="s,m,l", help="dataset sizes: s,m,l,xl")
    group.addoption("--setups", action="store_true", help="MILP datasets (setups, min lots)")
    group.addoption("--baselines", default="cbc,highs", help="PuLP baselines, or none")
    group.addoption("--time-limit", type=float, default=600.0, help="seconds per solve")
    group.addoption(
        "--seed", type=int, default=SEED, help="generator seed (1: the published tables)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        sizes = [s for s in metafunc.config.getoption("--sizes").split(",") if s]
        metafunc.parametrize("size", sizes, scope="session")
    if "baseline" in metafunc.fixturenames:
        names = metafunc.config.getoption("--baselines")
        chosen = [] if names == "none" else [b for b in names.split(",") if b]
        metafunc.parametrize("baseline", chosen, scope="session")


@pytest.fixture(scope="session")
def time_limit(pytestconfig: pytest.Config) -> float:
    return float(pytestconfig.getoption("--time-limit"))


@pytest.fixture(scope="session")
def dataset_dir(
    size: str, pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A generated dataset folder (``--seed``, default 1), its time limit set to
    ``--time-limit``."""
    setups = bool(pytestconfig.getoption("--setups"))
    out = tmp_path_factory.mktemp(f"{size}{'-setups' if setups else ''}")
    folder = generate(size, int(pytestconfig.getoption("--seed")), out / "dataset", setups=setups)
    limit = float(pytestconfig.getoption("--time-limit"))
    toml = folder / "settings.toml"
    text = toml.read_text()
    lines = [
        f"time_limit_s = {limit}" if line.startswith("time_limit_s") else line
        for line in text.splitlines()
    ]
    toml.write_text("\n".join(lines) + "\n")
    return folder


PHASES = ("load", "build", "solve", "extract", "verify", "write")
"""The phases ``test_phases`` times; all but the solve are soe's overhead."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Ratios of soe's end to end against each baseline, measured in this run."""
    if not TIMES:
        return
    tr = terminalreporter
    seed = tr.config.getoption("--seed")
    tr.section(f"soe against the baselines (seed {seed}: same datasets, same run)")
    sizes = sorted({s for s, _ in TIMES}, key="s m l xl".split().index)
    tr.write_line(
        "size | soe end to end s | soe objective | baseline | baseline s (read+build+solve) |"
        " baseline objective | speed-up | objective rel. diff | soe peak MB (fresh process)"
    )
    for size in sizes:
        soe = TIMES.get((size, "soe"), {})
        if soe and not any((size, f"baseline-{b}") in TIMES for b in ("cbc", "highs")):
            tr.write_line(
                f"{size} | {soe.get('seconds', float('nan')):.2f} |"
                f" {soe.get('objective', float('nan')):,.2f} | (no baseline) | | | | |"
                f" {soe.get('peak_mb', float('nan')):.0f}"
            )
        for name in ("cbc", "highs"):
            base = TIMES.get((size, f"baseline-{name}"))
            if not soe or not base:
                continue
            ratio = base["seconds"] / soe["seconds"] if soe["seconds"] else float("nan")
            diff = (
                abs(soe["objective"] - base["objective"]) / max(1.0, abs(base["objective"]))
                if base.get("objective") is not None and soe.get("objective") is not None
                else float("nan")
            )
            tr.write_line(
                f"{size} | {soe['seconds']:.2f} | {soe.get('objective', float('nan')):,.2f} |"
                f" pulp+{name} ({base['status']}) | {base['seconds']:.2f} |"
                f" {base.get('objective') or float('nan'):,.2f} | {ratio:.1f}x | {diff:.2e} |"
                f" {soe.get('peak_mb', float('nan')):.0f}"
            )
    for size in sizes:
        plain = TIMES.get((size, "soe"), {}).get("seconds")
        reports = TIMES.get((size, "soe-reports"), {}).get("seconds")
        if plain and reports:
            tr.write_line(
                f"{size} soe plan with its reports (analysis and what-ifs, tradeoffs.md,"
                f" report.html, plan.xlsx) {reports:.2f} s, without {plain:.2f} s"
            )
    for size in sizes:
        fresh = TIMES.get((size, "soe-process"), {}).get("seconds")
        for name in ("cbc", "highs"):
            other = TIMES.get((size, f"baseline-{name}-process"), {}).get("seconds")
            if fresh and other:
                tr.write_line(
                    f"{size} fresh process (Python start and imports included) |"
                    f" soe {fresh:.2f} s | pulp+{name} {other:.2f} s | {other / fresh:.1f}x"
                )
    for size in sizes:
        soe = TIMES.get((size, "soe"), {})
        for name in ("cbc", "highs"):
            base = TIMES.get((size, f"baseline-{name}"), {})
            if soe.get("seconds") and base.get("solve_seconds"):
                tr.write_line(
                    f"{size} | soe end to end {soe['seconds']:.2f} s | {name} alone on the"
                    f" baseline's model {base['solve_seconds']:.2f} s (solver time only) |"
                    f" {base['solve_seconds'] / soe['seconds']:.1f}x"
                )
    for size in sizes:
        whatif = TIMES.get((size, "whatif"), {})
        if whatif.get("milp") and "warm_objective" in whatif and "cold_objective" in whatif:

            def gap(g: float | None) -> str:
                return "no bound" if g is None else f"gap {g:.2%}"

            tr.write_line(
                f"{size} MILP what-if ({whatif['what']}), to the time limit: from scratch"
                f" {whatif['cold_objective']:,.2f} ({gap(whatif['cold_gap'])}), from the"
                f" plan's setups {whatif['warm_objective']:,.2f} ({gap(whatif['warm_gap'])});"
                f" the plan {whatif['plan_objective']:,.2f} ({gap(whatif['plan_gap'])})"
            )
        elif whatif.get("cold") and whatif.get("warm"):
            cold, warm = whatif["cold"], whatif["warm"]
            tr.write_line(
                f"{size} what-if ({whatif['what']}): plan() from scratch {cold:.3f} s,"
                f" from the plan's basis {warm:.3f} s, {cold / warm:.1f}x;"
                f" objective {whatif['cold_objective']:,.2f} (the plan's"
                f" {whatif['plan_objective']:,.2f})"
            )
    for (size, what), figures in sorted(TIMES.items()):
        if what == "phases":
            parts = ", ".join(f"{k} {v:.3f} s" for k, v in figures.items())
            outside = sum(v for k, v in figures.items() if k != "solve")
            if figures.get("solve") and len(figures) == len(PHASES):
                parts += f"; outside the solver {outside:.3f} s = {outside / figures['solve']:.1%}"
                parts += " of the solve"
            tr.write_line(f"{size} phases: {parts}")
    for size in sizes:
        soe = TIMES.get((size, "soe"), {})
        if soe.get("integers"):
            bound, gap = soe.get("bound"), soe.get("gap")
            tr.write_line(
                f"{size} MILP ({soe['integers']:,} integer variables): soe's plan"
                f" {soe['objective']:,.2f}, "
                + (f"its bound {bound:,.2f}, gap {gap:.2%}" if gap is not None else "no bound")
                + f" ({soe['status']}, summary.json)"
            )
        if soe.get("solver"):
            tr.write_line(
                f"{size} end to end (soe plan --no-report, in this process): the solver"
                f" {soe['solver']:.3f} s (summary.json's solve_seconds), everything else"
                f" {soe['outside']:.3f} s = {soe['outside'] / soe['solver']:.1%} of it"
                " (median over the rounds)"
            )
