"""The Trigeiro converter and runner (``benchmarks/external``) on a hand-made instance.

Two items, three periods, capacity 6 a period; each item uses 1 hour a unit and 1
hour a setup, and costs 10 a setup and 1 a unit held over a period. Item 1 needs 2
units every period, item 2 needs 3 units in period 2.

Item 1 cannot be made in one lot: 6 units and the setup are 7 hours. With two setups
(20), 4 units in period 1 and 2 in period 3 hold 2 units over one period (2): 22. Item 2
is made in period 2 (10); in period 1 it would leave item 1 one unit there. The optimum
is 32: 4 units of item 1 in period 1, 3 of item 2 in period 2, 2 of item 1 in period 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.external.run_trigeiro import run
from benchmarks.external.trigeiro import read_instance

INSTANCE = """\
    2    3
    1
    6
 1.00 1.00  1. 10.
 1.00 1.00  1. 10.
    2    0
    2    3
    2    0
"""


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    path = tmp_path / "H1.DAT"
    path.write_text(INSTANCE.replace("\n", "\r\n"))
    return path


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A ``shared/benchmarks`` folder whose reference values give H1's optimum as
    published, so that the runner's check compares with it."""
    folder = tmp_path / "shared" / "trigeiro1989"
    folder.mkdir(parents=True)
    (folder / "reference_values.csv").write_text(
        "instance,alias,objective,status,lower_bound_listed,source,note\n"
        "H1,h1,32,optimal,,by hand,this module's docstring\n"
    )
    (folder / "computed_values_highs.csv").write_text(
        "instance,items,periods,status,objective,dual_bound,seconds,time_limit_s,solver,note\n"
    )
    return folder.parent


def test_the_instance_reads_as_written(instance: Path) -> None:
    inst = read_instance(instance)
    assert (inst.N, inst.T, inst.C) == (2, 3, 6.0)
    assert inst.demand.tolist() == [[2.0, 0.0], [2.0, 3.0], [2.0, 0.0]]


@pytest.mark.parametrize("engine", ["soe", "reference"])
def test_soe_and_the_reference_model_find_the_hand_computed_optimum(
    instance: Path, shared: Path, engine: str
) -> None:
    """soe on the converted dataset (setup plus holding cost, every demand served) and
    the reference model with the (l,S) inequalities both prove 32."""
    rows = run([instance], engine=engine, time_limit=30, threads=1, shared=shared)
    row = rows.iloc[0]
    assert row["status"] == "optimal"
    assert row["objective"] == pytest.approx(32.0, abs=1e-6)
    assert row["unserved"] == pytest.approx(0.0, abs=1e-9)
    assert row["check"] == "ok"
    assert row["reference_kind"] == "published"


def test_a_wrong_published_optimum_is_a_mismatch(instance: Path, shared: Path) -> None:
    """The runner's check is not a formality: a proven 32 against a published 31 reads
    MISMATCH."""
    table = shared / "trigeiro1989" / "reference_values.csv"
    table.write_text(table.read_text().replace("H1,h1,32,", "H1,h1,31,"))
    rows = run([instance], engine="reference", time_limit=30, threads=1, shared=shared)
    assert rows.iloc[0]["check"] == "MISMATCH"
