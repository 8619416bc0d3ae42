"""``soe check DATASET PLAN``: a plan folder the checker rejects is rejected (exit 1).

The plan is the optimal plan of the fuzzing suite's ``RICH`` dataset (every table,
setups, overtime, materials, lateness, a frozen fence), written by ``soe plan``. Each
test corrupts a copy of its folder the way a hand edit or another tool would, and
checks that ``soe check`` exits 1 printing exactly the violations of
:func:`optimizer.verify.verify_folder`, never a traceback; the untouched plan exits 0.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from optimizer.dataset import Dataset, load_dataset
from optimizer.exceptions import NOT_CHECKED
from optimizer.verify import verify_folder
from tests.conftest import run_cli, write_tables
from tests.test_fuzz import RICH


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tmp_path_factory.mktemp("check") / "rich", RICH)


@pytest.fixture(scope="module")
def dataset(dataset_folder: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(dataset_folder)


@pytest.fixture(scope="module")
def good_plan(dataset_folder: Path) -> Path:
    folder = dataset_folder.parent / "plan"
    code, text = run_cli(["plan", str(dataset_folder), "--out", str(folder), "--no-report"])
    assert code == 0, text
    return folder


@pytest.fixture
def plan_copy(good_plan: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(good_plan, tmp_path / "plan"))


def _check(dataset_folder: Path, dataset: Dataset, folder: Path) -> list[str]:
    """Run ``soe check``; assert it agrees with ``verify_folder``; return the violations."""
    violations = verify_folder(dataset, folder)
    code, text = run_cli(["check", str(dataset_folder), str(folder)])
    assert "Traceback" not in text and "internal error" not in text, text
    if violations:
        assert code == 1, text
        n = len(violations)
        if violations[-1] == NOT_CHECKED:
            assert text.startswith(f"the plan cannot be checked against {dataset.name}:\n")
        else:
            assert f"the plan breaks {n} constraint{'s' if n != 1 else ''}:" in text
        assert [line[4:] for line in text.splitlines() if line.startswith("  - ")] == violations
    else:
        assert code == 0, text
        assert "the plan holds every constraint of the model" in text
    return violations


def test_good_plan_holds(dataset_folder: Path, dataset: Dataset, good_plan: Path) -> None:
    assert _check(dataset_folder, dataset, good_plan) == []


# --------------------------------------------------------------------------- corruptions


def _edit(file: Path, change: Callable[[pd.DataFrame], None]) -> None:
    frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(file, index=False)


def _first(frame: pd.DataFrame, **where: str) -> int:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.any(), where
    return int(frame.index[mask][0])


def _over_capacity(folder: Path) -> None:
    """Line L1 makes twice as much A in W1 as the plan says (and books the hours)."""

    def change(p: pd.DataFrame) -> None:
        i = _first(p, product="A", line="L1")
        p.loc[i, "quantity"] = str(2 * float(p.loc[i, "quantity"]))
        p.loc[i, "hours"] = str(2 * float(p.loc[i, "quantity"]) / 10 + 1)  # rate 10, setup 1 h

    _edit(folder / "production.csv", change)


def _shipped_early(folder: Path) -> None:
    """O4 (due W3) shipped in W1."""

    def change(s: pd.DataFrame) -> None:
        s.loc[_first(s, entry="O4"), "period"] = "W1"

    _edit(folder / "shipments.csv", change)


def _shipped_more_than_made(folder: Path) -> None:
    """Every shipment of product A doubled: more than was made and held."""

    def change(s: pd.DataFrame) -> None:
        a = s["entry"].isin(["O1", "O4"]) | s["entry"].str.startswith("forecast:A:")
        s.loc[a, "quantity"] = (s.loc[a, "quantity"].astype(float) * 2).astype(str)

    _edit(folder / "shipments.csv", change)


def _closing_changed(folder: Path) -> None:
    def change(inv: pd.DataFrame) -> None:
        i = _first(inv, product="B", period="W2")
        inv.loc[i, "closing"] = str(float(inv.loc[i, "closing"]) + 7)

    _edit(folder / "inventory.csv", change)


def _negative_stock(folder: Path) -> None:
    """A ships 10 more in W2 (late for its W1 forecast) than it has in stock."""

    def change(s: pd.DataFrame) -> None:
        s.loc[len(s)] = ["forecast:A:W1", "W2", "10"]

    _edit(folder / "shipments.csv", change)


def _objective_changed(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["objective"] = summary["objective"] * 0.9
    (folder / "summary.json").write_text(json.dumps(summary))


def _term_changed(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["objective_terms"]["production"] += 1
    (folder / "summary.json").write_text(json.dumps(summary))


def _bound_above_objective(folder: Path) -> None:
    """A lower bound above the plan's own cost (and a gap to match): no plan costs less."""
    summary = json.loads((folder / "summary.json").read_text())
    summary["bound"] = summary["objective"] * 1.1 + 1
    summary["gap"] = (summary["bound"] - summary["objective"]) / max(1.0, summary["objective"])
    (folder / "summary.json").write_text(json.dumps(summary))


def _material_consumed_changed(folder: Path) -> None:
    def change(m: pd.DataFrame) -> None:
        i = _first(m, material="M1", period="W1")
        m.loc[i, "consumed"] = "0"

    _edit(folder / "materials.csv", change)


def _service_misreported(folder: Path) -> None:
    def change(s: pd.DataFrame) -> None:
        i = _first(s, entry="O1")
        s.loc[i, "unmet"] = str(float(s.loc[i, "unmet"]) + 5)

    _edit(folder / "service.csv", change)


def _frozen_fence(folder: Path) -> None:
    """More A in the frozen W1 than the previous plan's 60."""

    def change(p: pd.DataFrame) -> None:
        i = _first(p, product="A", period="W1")
        p.loc[i, "quantity"] = "70"
        p.loc[i, "hours"] = "8"

    _edit(folder / "production.csv", change)


def _missing(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def _garbage(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(b"\x00\xff\xfe garbage \x81\n1,2,3,4,5,6,7\n")


def _summary_not_object(folder: Path) -> None:
    (folder / "summary.json").write_text("[1, 2, 3]")


def _column_dropped(folder: Path) -> None:
    frame = pd.read_csv(folder / "production.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["hours"]).to_csv(folder / "production.csv", index=False)


CORRUPTIONS: list[tuple[str, Callable[[Path], None], str]] = [
    ("above capacity", _over_capacity, "line L1, period W1: 13 h used of 10 h"),
    ("shipped early", _shipped_early, "shipped in W1, before its due period"),
    ("shipped more than made", _shipped_more_than_made, "product A"),
    ("negative stock", _negative_stock, "product A"),
    ("closing changed", _closing_changed, "inventory.csv says closing"),
    ("objective", _objective_changed, "summary objective is"),
    ("objective term", _term_changed, "summary objective term production is"),
    ("bound above objective", _bound_above_objective, "is above the plan's objective"),
    ("material consumed", _material_consumed_changed, "materials.csv says consumed 0"),
    ("service", _service_misreported, "entry O1: service.csv says unmet"),
    ("frozen fence", _frozen_fence, "inside the frozen fence"),
    ("missing shipments", _missing("shipments.csv"), "missing file shipments.csv"),
    ("missing summary", _missing("summary.json"), "missing file summary.json"),
    ("missing production", _missing("production.csv"), "missing file production.csv"),
    ("garbage inventory", _garbage("inventory.csv"), "inventory.csv"),
    ("garbage summary", _garbage("summary.json"), "summary.json cannot be read"),
    ("summary a list", _summary_not_object, "summary.json does not hold an object"),
    ("column dropped", _column_dropped, "production.csv lacks column hours"),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_corrupted_plan_is_rejected(
    dataset_folder: Path,
    dataset: Dataset,
    plan_copy: Path,
    corrupt: Callable[[Path], None],
    expected: str,
) -> None:
    corrupt(plan_copy)
    violations = _check(dataset_folder, dataset, plan_copy)
    assert any(expected in v for v in violations), violations


def test_no_plan_folder(dataset_folder: Path, dataset: Dataset, tmp_path: Path) -> None:
    """The library lists it as the folder's one problem; soe check calls it bad input."""
    nowhere = tmp_path / "nowhere"
    assert verify_folder(dataset, nowhere) == [f"{nowhere}: no such plan folder"]
    code, text = run_cli(["check", str(dataset_folder), str(nowhere)])
    assert (code, text.strip()) == (2, f"error: {nowhere}: no such plan folder")


def test_invalid_dataset_exits_2(dataset_folder: Path, good_plan: Path, tmp_path: Path) -> None:
    broken = Path(shutil.copytree(dataset_folder, tmp_path / "broken"))
    (broken / "lines.csv").write_text("line,hours\nL1,ten\n")
    code, text = run_cli(["check", str(broken), str(good_plan)])
    assert code == 2
    assert "lines.csv, row 2, column hours: 'ten' is not a number" in text


def test_plan_of_another_dataset(dataset: Dataset, good_plan: Path, tmp_path: Path) -> None:
    """RICH's plan checked against data/tiny: rejected without a crash, by the rows that
    name what tiny does not have, and only those (the hours, stock and service checks
    that follow from them read the plan wrongly: a cascade of dozens more)."""
    from tests.conftest import DATA

    code, text = run_cli(["check", str(DATA / "tiny"), str(good_plan)])
    assert code == 1 and "Traceback" not in text
    lines = text.splitlines()
    assert lines[0] == "the plan cannot be checked against tiny:"
    assert lines[-1] == f"  - {NOT_CHECKED}"
    assert "  - production.csv, row 7: unknown product 'C'" in lines
    assert all(re.match(r"  - (\w+\.csv, row \d+: unknown|\.\.\. and)", x) for x in lines[1:-1])


def test_one_misspelt_id_is_the_one_problem(dataset_folder: Path, plan_copy: Path) -> None:
    """One product misspelt in production.csv read as 51 broken constraints of
    bodywash's plan (hours, materials, stock) after the one to act on; the same here."""
    production = plan_copy / "production.csv"
    rows = production.read_text().splitlines()
    product = rows[1].split(",")[0]
    rows[1] = rows[1].replace(product, product + "X", 1)
    production.write_text("\n".join(rows) + "\n")
    code, text = run_cli(["check", str(dataset_folder), str(plan_copy)])
    assert code == 1
    assert text.splitlines()[1:] == [
        f"  - production.csv, row 2: unknown product '{product}X'",
        f"  - {NOT_CHECKED}",
    ]


# --------------------------------------------------------------------------- random edits


def _random_edit(rng: random.Random, folder: Path) -> str:
    """One cell of one plan table changed; returns what was done."""
    file = rng.choice(sorted(folder.glob("*.csv")))
    frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    if frame.empty:
        return f"{file.name}: empty, unchanged"
    i = rng.randrange(len(frame))
    column = rng.choice(list(frame.columns))
    old = frame.loc[i, column]
    try:
        number = float(old)
    except ValueError:
        number = None
    if number is not None and old != "":
        new = rng.choice([number + 1, number - 0.5, number * 3 + 1, -number - 1])
        frame.loc[i, column] = repr(new)
    elif old in ("true", "false"):
        frame.loc[i, column] = {"true": "false", "false": "true"}[old]
    else:
        frame.loc[i, column] = rng.choice([old + "X", "", "W9", "A"])
    if frame.loc[i, column] == old:
        return f"{file.name}: unchanged"
    frame.to_csv(file, index=False)
    return f"{file.name}, row {i + 2}, column {column}: {old!r} -> {frame.loc[i, column]!r}"


def test_random_edits_are_rejected(
    dataset_folder: Path, dataset: Dataset, good_plan: Path, tmp_path: Path
) -> None:
    """150 single-cell edits of the plan tables (any column, ids and flags included):
    ``soe check`` agrees with the checker on every one, and every edit is caught (1,500
    edits were, when this test was written)."""
    missed = []
    for seed in range(150):
        rng = random.Random(seed)
        folder = Path(shutil.copytree(good_plan, tmp_path / f"p{seed}"))
        what = _random_edit(rng, folder)
        violations = _check(dataset_folder, dataset, folder)
        if not violations and "unchanged" not in what:
            missed.append(what)
        shutil.rmtree(folder)
    assert missed == []


def _as_excel_saves(folder: Path) -> None:
    """Every number of the plan's CSVs as Excel's "Save as CSV" writes a cell of a
    default-width column: 8 characters (80044.44444444447 becomes 80044.44)."""
    for file in folder.glob("*.csv"):
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        for col in frame.columns:
            numbers = pd.to_numeric(frame[col], errors="coerce")
            if col in {"product", "material", "line", "period", "entry", "due", "order"}:
                continue
            if numbers.notna().all() and len(frame):
                frame[col] = [_eight(v) for v in numbers]
        frame.to_csv(file, index=False)


def _eight(value: float) -> str:
    for digits in range(8, -1, -1):
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        if len(text) <= 8 or digits == 0:
            return text or "0"
    return str(value)


def test_a_plan_saved_back_from_excel_holds(tmp_path: Path) -> None:
    """Found by a tester: bodywash's plan saved back from Excel failed ``soe check``
    with "closing 0, expected 0.044": each period's round-off carried into every later
    stock, judged against that period's flows alone (0 there). The allowance is now
    relative to all the flows the stock is the sum of; 5 units shipped too many are
    still caught."""
    from tests.conftest import DATA

    plan = tmp_path / "plan"
    code, text = run_cli(["plan", str(DATA / "bodywash"), "--out", str(plan), "--no-report"])
    assert code == 0, text
    _as_excel_saves(plan)
    dataset = load_dataset(DATA / "bodywash")
    assert verify_folder(dataset, plan) == []
    shipments = pd.read_csv(plan / "shipments.csv", dtype=str, keep_default_na=False)
    row = int(pd.to_numeric(shipments["quantity"]).idxmax())
    shipments.loc[row, "quantity"] = str(float(shipments.loc[row, "quantity"]) + 5)
    shipments.to_csv(plan / "shipments.csv", index=False)
    assert verify_folder(dataset, plan) != []
