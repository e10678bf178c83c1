"""Fixtures of the inputs tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def sales() -> pd.DataFrame:
    """120 rows of text, integers, floats and dates."""
    return pd.DataFrame(
        {
            "region": ["North", "South", "East", "West"] * 30,
            "units": np.arange(120),
            "price": np.linspace(1.0, 2.0, 120),
            "day": pd.date_range("2024-01-01", periods=120, freq="D"),
        }
    )
