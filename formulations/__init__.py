"""MILP model builders, one module per model."""
