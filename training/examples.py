"""Two reproducible examples of your own model, fitted and packaged through ``irisserve.packaging``.

    python -m training.examples diabetes --output build/diabetes
    python -m training.examples passengers --output build/passengers

``diabetes``: a ``GradientBoostingRegressor`` on scikit-learn's diabetes data (shipped with
scikit-learn). ``passengers``: a ``ColumnTransformer`` pipeline (median imputation and
scaling on numbers, one-hot encoding on strings) and a ``LogisticRegression`` on the
mixed-type rows of ``training.passengers``, generated from a seed, fitted at the exact
optimum (``training.exact_logistic``). Nothing is downloaded; the same seed gives the same
model on any CPU. ``SOURCE_DATE_EPOCH`` fixes the manifest's time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from irisserve.artifact.manifest import Manifest
from irisserve.packaging import write_artifact
from training.exact_logistic import fit_pipeline_at_optimum
from training.passengers import passengers

__all__ = ["EXAMPLES", "diabetes", "main", "passengers_model", "passengers_pipeline"]

DEFAULT_SEED = 0
DEFAULT_VERSION = "1.0.0"
TEST_SIZE = 0.2


def passengers_pipeline() -> Pipeline:
    """Imputation and scaling on numbers, one-hot on strings, then a logistic regression.

    ``embarked``'s encoder ignores a port it never saw; ``sex``'s refuses one.
    """
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    columns = ColumnTransformer(
        [
            ("numbers", numbers, ["age", "fare", "pclass"]),
            ("embarked", OneHotEncoder(handle_unknown="ignore"), ["embarked"]),
            ("sex", OneHotEncoder(), ["sex"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=500))])


def _package(
    estimator: Any,
    x: pd.DataFrame,
    y: pd.Series,
    output: Path,
    *,
    name: str,
    seed: int,
    version: str,
    data: str,
    score: Callable[[Any, Any], dict[str, float]],
    fit: Callable[[Any, Any, Any], Any] = lambda estimator, x, y: estimator.fit(x, y),
) -> Manifest:
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=seed
    )
    fit(estimator, x_train, y_train)
    return write_artifact(
        estimator,
        x_train,
        output,
        name=name,
        version=version,
        y=y_train,
        metrics={"split": "test", **score(y_test, estimator.predict(x_test))},
        training_data={"name": data, "rows": len(x), "train_rows": len(x_train)},
        random_seed=seed,
    )


def diabetes(output: Path, seed: int = DEFAULT_SEED, version: str = DEFAULT_VERSION) -> Manifest:
    """Fit and package the diabetes regressor."""
    data = load_diabetes(as_frame=True)
    return _package(
        GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=seed),
        data.data,
        data.target.rename("progression"),
        output,
        name="diabetes",
        seed=seed,
        version=version,
        data="diabetes (scikit-learn load_diabetes)",
        score=lambda y, p: {
            "r2": float(metrics.r2_score(y, p)),
            "mae": float(metrics.mean_absolute_error(y, p)),
        },
    )


def passengers_model(
    output: Path, seed: int = DEFAULT_SEED, version: str = DEFAULT_VERSION
) -> Manifest:
    """Fit and package the mixed-type passengers pipeline."""
    x, y = passengers(rows=800, seed=seed)
    return _package(
        passengers_pipeline(),
        x,
        y,
        output,
        name="passengers",
        seed=seed,
        version=version,
        data=f"passengers (training.passengers, seed {seed})",
        score=lambda y, p: {"accuracy": float(metrics.accuracy_score(y, p))},
        fit=fit_pipeline_at_optimum,  # lbfgs alone stops where the CPU's BLAS lets it
    )


EXAMPLES: dict[str, Callable[..., Manifest]] = {
    "diabetes": diabetes,
    "passengers": passengers_model,
}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("example", choices=sorted(EXAMPLES))
    parser.add_argument("--output", type=Path, required=True, help="artifact folder to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--model-version", default=DEFAULT_VERSION)
    args = parser.parse_args(argv)
    manifest = EXAMPLES[args.example](args.output, args.seed, args.model_version)
    print(
        f"wrote {args.output}: {manifest.model_type}, test {manifest.metrics}, "
        f"files {sorted(manifest.files)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
