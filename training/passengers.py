"""A small mixed-type data set generated reproducibly: numbers, categories and missing values.

Nothing is downloaded: the rows come from a seeded generator, so the same seed gives the
same rows on every machine. Five features (``age`` with missing values, ``fare``,
``pclass``, ``embarked`` with missing values, ``sex``) and a ``survived`` target
(``"no"``/``"yes"``) that depends on all of them, with noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TARGET", "passengers"]

TARGET = "survived"


def passengers(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """The features (a DataFrame) and the target (a Series named ``survived``)."""
    rng = np.random.default_rng(seed)
    pclass = rng.choice([1, 2, 3], size=rows, p=[0.25, 0.25, 0.5])
    sex = rng.choice(["f", "m"], size=rows)
    age = rng.normal(35.0, 12.0, size=rows).clip(1.0, 80.0).round(1)
    fare = (rng.exponential(20.0, size=rows) * (4 - pclass)).round(2)
    embarked = rng.choice(["C", "Q", "S"], size=rows, p=[0.2, 0.1, 0.7]).astype(object)
    score = (
        1.2 * (sex == "f")
        - 0.6 * (pclass - 2)
        - 0.02 * (age - 35.0)
        + 0.01 * fare
        + 0.3 * (embarked == "C")
        + rng.normal(0.0, 0.8, size=rows)
    )
    age[rng.random(rows) < 0.1] = np.nan
    embarked[rng.random(rows) < 0.05] = np.nan
    features = pd.DataFrame(
        {"age": age, "fare": fare, "pclass": pclass, "embarked": embarked, "sex": sex}
    )
    target = pd.Series(np.where(score > 0.3, "yes", "no"), name=TARGET)
    return features, target
