"""Settings: every number finite, costs no larger than the tables' own limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydantic
import pytest

from optimizer import DatasetError, load_dataset
from optimizer.settings import Settings

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("stability", "change_cost", 1e20),  # solved to 'error' (HiGHS: Unknown) before
        ("stability", "frozen_shortfall_cost", float("inf")),
        ("priority", "tier_weight_base", float("inf")),
        ("priority", "tolerance", float("nan")),
        ("solve", "time_limit_s", float("inf")),
        ("exceptions", "escalate_value", 2e12),
    ],
)
def test_settings_refuse_infinite_and_huge_numbers(section: str, field: str, value: float) -> None:
    with pytest.raises(pydantic.ValidationError, match=f"{section}.{field}"):
        Settings.model_validate({section: {field: value}})


def test_settings_accept_the_largest_cost() -> None:
    assert Settings(stability={"change_cost": 1e12}).stability.change_cost == 1e12  # type: ignore[arg-type]


def test_settings_toml_names_every_huge_number(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "settings.toml").write_text(
        "[stability]\nchange_cost = 1e20\n[solve]\ntime_limit_s = inf\n"
    )
    with pytest.raises(DatasetError) as raised:
        load_dataset(folder)
    located = {(p.file, p.row, p.column) for p in raised.value.problems}
    assert located == {
        ("settings.toml", 2, "stability.change_cost"),
        ("settings.toml", 4, "solve.time_limit_s"),
    }
