"""Make ``notebooks/data/sales.csv``, the example notebooks' dataset.

Why a script and not a download: the notebooks must run offline and give the
same stored outputs on every machine, so the table is synthetic, small, kept in
the repository, and reproducible from a fixed seed.  It has what makes a
question worth asking: a growth trend, a December peak and a summer dip,
regions and product lines that behave differently, a price change, and a few
missing values (months a region did not report).

Usage: ``python scripts/make_dataset.py [OUTPUT]`` (default: the notebooks' copy).
Running it again rewrites an identical file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240501
OUTPUT = Path(__file__).resolve().parent.parent / "notebooks" / "data" / "sales.csv"

MONTHS = pd.date_range("2023-01-01", "2024-12-01", freq="MS")

# Region -> (baseline scale, yearly growth).  The West grows fastest, the South is flat.
REGIONS = {
    "North": (1.00, 0.06),
    "South": (0.80, 0.00),
    "East": (1.15, 0.04),
    "West": (0.90, 0.18),
}

# Product line -> (units per month at scale 1, list price in EUR, seasonality strength).
PRODUCT_LINES = {
    "Coffee machines": (120, 249.0, 0.45),
    "Grinders": (160, 89.0, 0.30),
    "Beans": (2400, 12.5, 0.10),
    "Accessories": (900, 19.0, 0.35),
    "Service plans": (70, 129.0, 0.05),
}

# How many rows lose their figures (a region that did not report that month).
MISSING_REPORTS = 6


def seasonality(month: pd.Timestamp, strength: float) -> float:
    """Return the seasonal factor: a December (gift) peak and an August dip."""
    peak = {11: 0.35, 12: 1.0, 1: -0.15, 7: -0.25, 8: -0.45}.get(month.month, 0.0)
    return 1.0 + strength * peak


def make_sales(seed: int = SEED) -> pd.DataFrame:
    """Build the monthly sales table: one row per month, region and product line."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, month in enumerate(MONTHS):
        years = i / 12
        for region, (scale, growth) in REGIONS.items():
            for line, (base_units, list_price, strength) in PRODUCT_LINES.items():
                expected = base_units * scale * (1 + growth) ** years
                expected *= seasonality(month, strength)
                units = int(rng.poisson(expected * rng.lognormal(0.0, 0.08)))
                # A 6 % price rise on machines in 2024; small promotions elsewhere.
                rise = 1.06 if line == "Coffee machines" and month.year == 2024 else 1.0
                price = list_price * rise
                discount = rng.choice([0.0, 0.0, 0.0, 0.05, 0.10])
                price = round(price * (1 - discount), 2)
                rows.append(
                    {
                        "month": month.strftime("%Y-%m"),
                        "region": region,
                        "product_line": line,
                        "units": units,
                        "unit_price": price,
                        "revenue": round(units * price, 2),
                        "discount": discount,
                    }
                )
    sales = pd.DataFrame(rows)
    missing = rng.choice(len(sales), size=MISSING_REPORTS, replace=False)
    sales["units"] = sales["units"].astype("Int64")
    sales.loc[missing, ["units", "revenue"]] = pd.NA
    return sales


def main(argv: list[str]) -> int:
    """Write the table to the path in ``argv`` (or the notebooks' copy)."""
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    sales = make_sales()
    sales.to_csv(output, index=False, lineterminator="\n")
    print(f"wrote {len(sales)} rows to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
