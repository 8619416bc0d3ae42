"""soe: weekly production prioritization for sales & operations execution."""

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
from optimizer.solve import plan

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
