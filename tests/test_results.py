"""Plan tables as CSV: plain decimals in full precision, minimal quoting."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.reports import report_folder_problem
from optimizer.results import Summary, plain_decimals, replace_problem, write_csv


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (400.0, "400"),
        (-3.25, "-3.25"),
        (0.00005, "0.00005"),
        (1e-7, "0.0000001"),
        (0.0001, "0.0001"),
        (1.5e16, "15000000000000000"),
        (123456.789, "123456.789"),
        (float("nan"), ""),
    ],
)
def test_plain_decimals(value: float, text: str) -> None:
    assert plain_decimals(np.array([value])) == [text]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=20))
def test_plain_decimals_read_back_to_the_same_number_without_an_exponent(
    values: list[float],
) -> None:
    texts = plain_decimals(np.array(values, dtype=np.float64))
    for v, t in zip(values, texts, strict=True):
        assert "e" not in t.lower()
        assert float(t) == v


@given(
    st.lists(
        st.one_of(
            st.integers(-(10**18), 10**18).map(float),
            st.floats(allow_nan=True, allow_infinity=False, width=64),
        ),
        max_size=30,
    )
)
def test_plain_decimals_of_whole_and_other_numbers(values: list[float]) -> None:
    """Whole numbers (written by the int path) and the rest (by repr) mixed in one
    column: each reads back, NaN is blank, a whole number has no decimal point below
    1e16 (repr's own limit) and none ends in ``.0``."""
    texts = plain_decimals(np.array(values, dtype=np.float64))
    for v, t in zip(values, texts, strict=True):
        if v != v:
            assert t == ""
            continue
        assert float(t) == v and "e" not in t.lower() and not t.endswith(".0")
        if v == int(v) and abs(v) < 1e16:
            assert t == str(int(v))


def test_csv_quotes_only_what_needs_it_and_reads_back(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["0042", "x,y", 'say "hi"', None, "two\nlines"],
            "quantity": [1.0, float("nan"), 0.0, 1e-7, 3.5],
            "setup": [True, False, True, False, True],
            "count": [1, 2, 3, 4, 5],
            "tier": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        }
    )
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    text = path.read_text()
    assert text.splitlines()[0] == "id,quantity,setup,count,tier"
    assert text.splitlines()[1] == "0042,1,true,1,1"  # no quotes where none are needed
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1:] == [
        ["0042", "1", "true", "1", "1"],
        ["x,y", "", "false", "2", ""],
        ['say "hi"', "0", "true", "3", "3"],
        ["", "0.0000001", "false", "4", "4"],
        ["two\nlines", "3.5", "true", "5", "5"],
    ]


def test_round_off_of_a_difference_is_no_unit_unmet() -> None:
    """Found by a tester: bodywash's service.csv had ``unmet`` 7.3e-12 (99 units due,
    98.99999999999999 shipped); a shortfall below 1e-9 of its quantity is 0."""
    from optimizer import load_dataset, plan
    from tests.conftest import DATA

    result = plan(load_dataset(DATA / "bodywash"))
    for table, column in [(result.service, "unmet"), (result.inventory, "below_safety_stock")]:
        values = table[column].to_numpy()
        assert not ((values > 0) & (values < 1e-6)).any(), table[values < 1e-6]


def test_plans_compare_by_identity_and_hash() -> None:
    """``==`` on two plans raised "The truth value of a DataFrame is ambiguous"."""
    import pickle

    from optimizer import load_dataset, plan
    from tests.conftest import DATA

    result = plan(load_dataset(DATA / "tiny"))
    again = pickle.loads(pickle.dumps(result))
    assert result == result and result != again
    assert len({result, again}) == 2
    assert all(t.equals(again.tables()[n]) for n, t in result.tables().items())


def test_summary_has_none_for_an_unknown_bound_or_gap() -> None:
    s = Summary(
        status="feasible",
        objective=10.0,
        bound=-math.inf,
        gap=math.inf,
        stages=[{"stage": "tier 1", "objective": math.nan, "seconds": 1.0}],
    )
    assert (s.objective, s.bound, s.gap) == (10.0, None, None)
    assert s.stages == [{"stage": "tier 1", "objective": None, "seconds": 1.0}]


@pytest.mark.parametrize(
    ("files", "free"),
    [
        ((), True),
        ((".DS_Store",), True),  # Finder's, in any folder a Mac user opened
        (("Thumbs.db", "desktop.ini"), True),
        ((".DS_Store", "notes.txt"), False),
        ((".git",), False),  # a hidden file of the user's own is not ours to delete
    ],
)
def test_a_folder_with_only_a_file_browser_s_files_is_empty(
    tmp_path: Path, files: tuple[str, ...], free: bool
) -> None:
    """A plan or report replaces its folder as a whole: one holding only what a file
    browser leaves was refused as "holds files"."""
    out = tmp_path / "out"
    out.mkdir()
    for name in files:
        (out / name).write_text("x")
    assert (replace_problem(out) is None) is free
    assert (report_folder_problem(out, tmp_path / "plan") is None) is free
