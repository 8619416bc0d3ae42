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


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("demand", "max_lateness"),  # 10^20 overflowed a C long in the model: exit 1
        ("stability", "frozen_periods"),
        ("exceptions", "horizon_periods"),
        ("solve", "threads"),
    ],
)
def test_settings_refuse_huge_whole_numbers(section: str, field: str) -> None:
    """The limit of docs/dataset.md holds for every number of settings.toml, counts too:
    ``max_lateness = 10^20`` passed validation and ``soe plan`` ended "internal error:
    OverflowError: Python int too large to convert to C long"."""
    with pytest.raises(pydantic.ValidationError, match=f"{section}.{field}"):
        Settings.model_validate({section: {field: 10**20}})
    assert getattr(Settings.model_validate({section: {field: 10**12}}), section) is not None


def test_a_huge_max_lateness_is_located_not_an_internal_error(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "settings.toml").write_text("[demand]\nmax_lateness = 100000000000000000000\n")
    code, text = run_cli(["plan", str(folder), "--out", str(tmp_path / "plan"), "--no-report"])
    assert code == 2, text
    assert "settings.toml, row 2, column demand.max_lateness: input should be less than" in text
    assert not (tmp_path / "plan").exists()


def test_a_settings_message_has_no_pydantic_prefix(tmp_path: Path) -> None:
    """A boolean for a number read "value error, a number is required, not true or
    false, got True": pydantic's "value error, " is no planner's word."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "settings.toml").write_text("[solve]\ntime_limit_s = true\n")
    with pytest.raises(DatasetError) as raised:
        load_dataset(folder)
    (problem,) = raised.value.problems
    assert problem.message == "a number is required, not true or false, got True"
