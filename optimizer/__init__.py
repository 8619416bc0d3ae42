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
from optimizer.settings import Settings

__all__ = [
    "BackendUnavailable",
    "Dataset",
    "DatasetError",
    "DatasetWarning",
    "NoSolutionError",
    "Problem",
    "Settings",
    "SoeError",
    "SolverError",
    "VerificationError",
    "load_dataset",
]
