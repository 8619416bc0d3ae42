"""Typed planning settings (``settings.toml``), with DATASET.md's defaults."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from optimizer.schema import MAX_MAGNITUDE

SolverName = Literal["highs", "cbc", "scip"]


class _Section(BaseModel):
    # no inf or nan anywhere, and every number at most MAX_MAGNITUDE as in the tables:
    # beyond that the solver has no digits left for the rest of the objective, and a
    # count of periods beyond a C long (max_lateness = 10^20) overflowed in the model
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_truth_value_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """``time_limit_s = true`` read as 1 s (pydantic takes a bool for a number)."""
        name = info.field_name
        if isinstance(value, bool) and name and cls.model_fields[name].annotation in (int, float):
            raise ValueError("a number is required, not true or false")
        return value


class SolveSettings(_Section):
    """``[solve]``: which solver and how long."""

    solver: SolverName = "highs"
    time_limit_s: float = Field(60.0, gt=0, le=MAX_MAGNITUDE, description="for the whole plan")
    mip_gap: float = Field(0.005, ge=0, le=1, description="relative MIP gap")
    threads: int = Field(0, ge=0, le=MAX_MAGNITUDE, description="0 = solver default")


class DemandSettings(_Section):
    """``[demand]``: which signal makes the demand entries, and lateness."""

    signal: Literal["max", "orders", "forecast"] = "max"
    max_lateness: int = Field(
        0, ge=0, le=MAX_MAGNITUDE, description="periods an entry may be served late"
    )


class PrioritySettings(_Section):
    """``[priority]``: how tiers trade off."""

    mode: Literal["weighted", "lexicographic"] = "weighted"
    tier_weight_base: float = Field(10.0, ge=1, le=MAX_MAGNITUDE)
    tolerance: float = Field(0.0, ge=0, le=MAX_MAGNITUDE)


class StabilitySettings(_Section):
    """``[stability]``: frozen fence and plan nervousness."""

    frozen_periods: int = Field(0, ge=0, le=MAX_MAGNITUDE)
    frozen_shortfall_cost: float = Field(0.0, ge=0, le=MAX_MAGNITUDE)
    change_cost: float = Field(0.0, ge=0, le=MAX_MAGNITUDE)


class ExceptionSettings(_Section):
    """``[exceptions]`` (soe's own section): when the S&OP report escalates."""

    horizon_periods: int = Field(
        2, ge=0, le=MAX_MAGNITUDE, description="projected out of stock within N periods"
    )
    escalate_value: float = Field(
        0.0,
        ge=0,
        le=MAX_MAGNITUDE,
        description="escalate an exception whose shortage value exceeds this (0 = off)",
    )


class Settings(_Section):
    """All planning settings; every field has DATASET.md's default."""

    solve: SolveSettings = SolveSettings()
    demand: DemandSettings = DemandSettings()
    priority: PrioritySettings = PrioritySettings()
    stability: StabilitySettings = StabilitySettings()
    exceptions: ExceptionSettings = ExceptionSettings()

    def with_overrides(self, **dotted: Any) -> Settings:
        """A copy with ``solve__time_limit_s=30``-style overrides (``None`` ignored); an
        unknown section or field fails validation, as in ``settings.toml``.

        Examples
        --------
        >>> Settings().with_overrides(solve__solver="cbc").solve.solver
        'cbc'
        """
        data = self.model_dump()
        for key, value in dotted.items():
            if value is None:
                continue
            section, _, field = key.partition("__")
            if not field:
                raise ValueError(
                    f"override {key!r}: name it section__field, as solve__time_limit_s"
                )
            sub = data.setdefault(section, {})  # an unknown section fails validation
            if not isinstance(sub, dict):  # pragma: no cover - every section is a model
                raise ValueError(f"override {key!r}: {section} is not a section")
            sub[field] = value
        return Settings.model_validate(data)
