"""COIN-OR CBC through PuLP: the ``cbc`` binary that ships with PuLP, fed an MPS file."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from formulations.lp import LinearModel
from optimizer.backends.base import (
    Capabilities,
    Limit,
    Solution,
    SolveOptions,
    SolveStatus,
    relative_gap,
)
from optimizer.backends.mps import to_mps
from optimizer.exceptions import BackendUnavailable


def cbc_path() -> str:
    """The CBC binary PuLP ships (or the one ``pulp[cbc]`` installs for PuLP >= 4)."""
    try:
        from pulp.apis import coin_api
    except ImportError as exc:
        raise BackendUnavailable("the cbc backend needs PuLP: pip install pulp") from exc
    candidates = [getattr(coin_api, "pulp_cbc_path", None)]
    try:
        candidates.append(coin_api.COIN_CMD().path)
    except Exception:  # noqa: BLE001 - COIN_CMD may find no binary at all
        pass
    for path in candidates:
        if path and Path(path).is_file():
            return str(path)
    raise BackendUnavailable(
        "the cbc backend needs the CBC binary of PuLP: pip install 'pulp[cbc]'"
    )


class CbcBackend:
    """CBC (branch and cut, Clp for LPs); no duals are read back."""

    name = "cbc"
    capabilities = Capabilities(integers=True, duals=False, time_limit=True, warm_start=False)

    def __init__(self) -> None:
        self._path = cbc_path()

    def solve(self, model: LinearModel, options: SolveOptions) -> Solution:
        with tempfile.TemporaryDirectory(prefix="soe-cbc-") as tmp:
            mps = Path(tmp) / "model.mps"
            sol = Path(tmp) / "model.sol"
            mps.write_text(to_mps(model))
            cmd = [self._path, str(mps)]
            if options.time_limit is not None:
                cmd += ["-sec", f"{max(options.time_limit, 0.01):.3f}", "-timeMode", "elapsed"]
            cmd += ["-ratioGap", repr(float(options.mip_gap))]
            if options.threads:
                cmd += ["-threads", str(options.threads)]
            exact = Path(tmp) / "model.bin"
            cmd += ["-solve", "-solu", str(sol), "-saveSolution", str(exact)]
            started = time.perf_counter()
            lines: list[str] = []
            try:
                proc = subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            except OSError as exc:
                return Solution(SolveStatus.ERROR, message=f"CBC could not start: {exc}")
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    lines.append(line)
                    if options.log is not None:
                        options.log(line.rstrip("\n"))
                code = proc.wait()
            except BaseException:  # Ctrl-C, SIGTERM, a failing log callback: no CBC left
                proc.kill()
                proc.wait()
                raise
            finally:
                proc.stdout.close()
            seconds = time.perf_counter() - started
            if code != 0 or not sol.exists():
                tail = "".join(lines[-5:]).strip()
                return Solution(
                    SolveStatus.ERROR, seconds=seconds, message=f"CBC failed (exit {code}): {tail}"
                )
            values = _binary_values(exact, model) if exact.exists() else None
            return _read_solution(
                model, sol.read_text(), "".join(lines), seconds, values, options.time_limit
            )


def _binary_values(file: Path, model: LinearModel) -> np.ndarray | None:
    """The column values of CBC's binary solution file (``-saveSolution``): two int32
    (rows, columns), the objective, then row activities, row duals, column values and
    reduced costs as doubles. ``None`` if the file does not match the model."""
    data = file.read_bytes()
    m, n = model.num_rows, model.num_cols
    if len(data) != 16 + 8 * (2 * m + 2 * n):
        return None
    if tuple(np.frombuffer(data[:8], dtype=np.int32)) != (m, n):
        return None
    return np.frombuffer(data, dtype=np.float64, count=n, offset=16 + 16 * m).copy()


def _read_solution(
    model: LinearModel,
    text: str,
    log: str,
    seconds: float,
    exact: np.ndarray | None = None,
    time_limit: float | None = None,
) -> Solution:
    """A solution from CBC's text solution file; ``exact`` (the binary file's values)
    replaces the text's values, which CBC prints with 8 significant digits only: enough
    to break a stock balance by 1e-5 on a plan of 100 000 units.

    "Infeasible" at the time limit is read as no plan in time: CBC's preprocessing,
    cut short by the limit, says "infeasible or unbounded" of a MILP that has plans
    (generated s with setups at 0.04 s, m at 0.8 s), and soe's models always have one."""
    first, _, body = text.partition("\n")
    head = first.strip().lower()
    if head.startswith("optimal"):
        status, limit = SolveStatus.OPTIMAL, None
    elif "infeasible" in head and not head.startswith("stopped"):
        if time_limit is not None and seconds >= time_limit:
            return Solution(SolveStatus.NO_SOLUTION, Limit.TIME, seconds=seconds)
        return Solution(SolveStatus.INFEASIBLE, seconds=seconds)
    elif head.startswith("stopped"):
        limit = Limit.TIME if "time" in head else Limit.OTHER
        if "no integer solution" in head or "continuous used" in head or not model.is_mip:
            # an LP stopped early holds no plan to trust (simplex may be mid phase 1)
            return Solution(SolveStatus.NO_SOLUTION, limit, seconds=seconds)
        status = SolveStatus.FEASIBLE
    else:
        return Solution(SolveStatus.ERROR, seconds=seconds, message=f"CBC: {first.strip()}")
    values = np.zeros(model.num_cols)
    for line in body.splitlines():
        parts = line.split()
        if parts and parts[0] == "**":
            parts = parts[1:]
        if len(parts) >= 3 and parts[1].startswith("C"):
            values[int(parts[1][1:])] = float(parts[2])
    if exact is not None:
        values = exact
    objective = float(model.cost @ values + model.offset)
    if status is SolveStatus.OPTIMAL and not model.is_mip:
        bound = objective
    else:
        found = re.findall(r"(?:Lower bound|Best possible):\s*(-?[\d.eE+-]+)", log)
        bound = float(found[-1]) + model.offset if found else float("nan")
        if status is SolveStatus.OPTIMAL and not np.isfinite(bound):
            bound = objective
    gap = relative_gap(objective, bound) if np.isfinite(bound) else float("inf")
    return Solution(status, limit, values, objective, bound, gap, seconds)
