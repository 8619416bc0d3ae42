"""soe: weekly production prioritization for sales & operations execution."""

from typing import TYPE_CHECKING, Any

from optimizer.dataset import Dataset, load_dataset
from optimizer.exceptions import (
    BackendUnavailable,
    DatasetError,
    DatasetWarning,
    NoSolutionError,
    Problem,
    SoeError,
    SolverError,
    VerificationError,
)
from optimizer.results import Plan, Summary
from optimizer.settings import Settings

if TYPE_CHECKING:
    from optimizer.solve import plan


def __getattr__(name: str) -> Any:
    # ``plan`` lives above the formulations, which import this package's dataset layer:
    # importing it lazily lets ``import formulations.allocation`` come first.
    if name == "plan":
        from optimizer.solve import plan

        return plan
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "BackendUnavailable",
    "Dataset",
    "DatasetError",
    "DatasetWarning",
    "NoSolutionError",
    "Plan",
    "Problem",
    "Settings",
    "SoeError",
    "SolverError",
    "Summary",
    "VerificationError",
    "load_dataset",
    "plan",
]
