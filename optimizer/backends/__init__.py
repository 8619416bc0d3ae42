"""Solver backends behind one interface (:class:`~optimizer.backends.base.Backend`)."""

from __future__ import annotations

from optimizer.backends.base import (
    Backend,
    Capabilities,
    Limit,
    Solution,
    SolveOptions,
    SolveStatus,
)
from optimizer.exceptions import BackendUnavailable

BACKENDS = ("highs", "cbc", "scip")


def get_backend(name: str) -> Backend:
    """The backend called ``name``; :class:`BackendUnavailable` says what to install."""
    if name == "highs":
        from optimizer.backends.highs import HighsBackend

        return HighsBackend()
    if name == "cbc":
        from optimizer.backends.cbc import CbcBackend

        return CbcBackend()
    if name == "scip":
        from optimizer.backends.scip import ScipBackend

        return ScipBackend()
    raise BackendUnavailable(f"unknown solver '{name}'; choose one of {', '.join(BACKENDS)}")


def available() -> list[str]:
    """Names of the backends whose packages are installed."""
    names = []
    for name in BACKENDS:
        try:
            get_backend(name)
        except BackendUnavailable:
            continue
        names.append(name)
    return names


__all__ = [
    "BACKENDS",
    "Backend",
    "Capabilities",
    "Limit",
    "Solution",
    "SolveOptions",
    "SolveStatus",
    "available",
    "get_backend",
]
