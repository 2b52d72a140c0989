"""In-process: an XGBoost and a LightGBM classifier as irisserve serves them, beside the library.

Each model (``models``: a few hundred trees on a 30-feature ``make_classification`` set) is
packaged with ``irisserve.packaging`` and opened as serving opens it (``auto``: the fast
path when its pickle-free export was written, else scikit-learn's wrapper unpickled; the
row says which). Beside irisserve's figures, in the same run, the library's own booster:
``xgboost.Booster.inplace_predict`` and ``lightgbm.Booster.predict``, with every thread and
with one. Figures depend on the machine: nothing here is asserted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import best as _best
from bench.timing import cold

__all__ = [
    "FEATURES",
    "BoosterRow",
    "booster_of",
    "library_predict",
    "markdown",
    "measure",
    "models",
]

FEATURES = 30


@dataclass(frozen=True)
class BoosterRow:
    """One booster's figures: irisserve's (with the backend that served it), the library's."""

    family: str
    backend: str
    irisserve_rows_per_s: float
    library_rows_per_s: float
    library_1_thread_rows_per_s: float
    irisserve_single_us: float
    library_single_us: float
    max_difference: float
    irisserve_cold_ms: float
    library_cold_ms: float
    irisserve_rss_mib: float
    library_rss_mib: float


def models(trees: int) -> list[tuple[str, Any, Any]]:
    """(family, fitted classifier, training rows): XGBoost and LightGBM, ``trees`` each."""
    import lightgbm
    import xgboost
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=2000, n_features=FEATURES, n_informative=12, random_state=0
    )
    return [
        (
            f"XGBClassifier ({trees} trees)",
            xgboost.XGBClassifier(n_estimators=trees, max_depth=6, random_state=0).fit(x, y),
            x,
        ),
        (
            f"LGBMClassifier ({trees} trees)",
            lightgbm.LGBMClassifier(n_estimators=trees, random_state=0, verbose=-1).fit(x, y),
            x,
        ),
    ]


def booster_of(estimator: Any) -> Any:
    """The library's booster inside its scikit-learn wrapper."""
    return estimator.get_booster() if hasattr(estimator, "get_booster") else estimator.booster_


def library_predict(estimator: Any, threads: int | None) -> Callable[[Any], Any]:
    """The booster's own prediction (the positive class's probability), on ``threads``
    threads (None: the library's default, every core)."""
    booster = booster_of(estimator)
    if hasattr(estimator, "get_booster"):
        if threads is None:
            return booster.inplace_predict
        single = booster.copy()
        single.set_param({"nthread": threads})
        return single.inplace_predict
    return lambda rows: booster.predict(rows, num_threads=threads or 0)


#: A fresh process: first import to first answer, then peak RSS (KiB, ``VmHWM``).
_COLD = """
import json, sys, time
started = time.perf_counter()
folder, row, way = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
if way == "irisserve":
    from pathlib import Path
    from irisserve.artifact.folder import open_artifact
    open_artifact(Path(folder)).predict_rows([row])
elif way == "xgboost":
    import numpy, xgboost
    xgboost.Booster(model_file=folder + "/booster.json").inplace_predict(numpy.array([row]))
else:
    import lightgbm, numpy
    lightgbm.Booster(model_file=folder + "/booster.txt").predict(numpy.array([row]))
elapsed = time.perf_counter() - started
print(elapsed, open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def _cold(folder: Path, row: list[float], way: str, repeats: int) -> tuple[float, float]:
    """Best milliseconds to the first answer, and the peak RSS in MiB, of ``way``."""
    return cold(_COLD, str(folder), row, way, repeats, timeout=300)


def measure(family: str, estimator: Any, training: Any, batch: Any, repeats: int) -> BoosterRow:
    """Package ``estimator``, open it as serving does, and time it and its library on
    ``batch`` (10,000 rows by default) and on one row."""
    import pandas as pd

    from irisserve.artifact.folder import open_artifact
    from irisserve.packaging import write_artifact

    library = "xgboost" if hasattr(estimator, "get_booster") else "lightgbm"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        columns = [f"x{i}" for i in range(training.shape[1])]
        write_artifact(
            estimator,
            pd.DataFrame(training, columns=columns),
            folder,
            name="b",
            version="1",
            random_seed=0,
        )
        booster_of(estimator).save_model(
            str(folder / ("booster.json" if library == "xgboost" else "booster.txt"))
        )
        model = open_artifact(folder)
        one = batch[:1].tolist()
        served = model.predict_rows(batch)
        library_all, library_one = library_predict(estimator, None), library_predict(estimator, 1)
        expected = np.asarray(library_all(batch))
        difference = np.abs(np.asarray(served.probabilities)[:, 1] - expected).max()
        irisserve_cold, irisserve_rss = _cold(folder, one[0], "irisserve", repeats)
        library_cold, library_rss = _cold(folder, one[0], library, repeats)
        return BoosterRow(
            family=family,
            backend=model.backend,
            irisserve_rows_per_s=len(batch) / _best(lambda: model.predict_rows(batch), repeats),
            library_rows_per_s=len(batch) / _best(lambda: library_all(batch), repeats),
            library_1_thread_rows_per_s=len(batch) / _best(lambda: library_one(batch), repeats),
            irisserve_single_us=_best(lambda: model.predict_rows(one), repeats * 20) * 1e6,
            library_single_us=_best(lambda: library_all(batch[:1]), repeats * 20) * 1e6,
            max_difference=float(difference),
            irisserve_cold_ms=irisserve_cold,
            library_cold_ms=library_cold,
            irisserve_rss_mib=irisserve_rss,
            library_rss_mib=library_rss,
        )


def markdown(rows: list[BoosterRow]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| model | served by | irisserve rows/s | library rows/s | library 1 thread rows/s "
        "| irisserve 1 row µs | library 1 row µs | max abs. diff | irisserve cold ms "
        "| library cold ms | irisserve RSS MiB | library RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.family} | {r.backend} | {r.irisserve_rows_per_s:,.0f} "
        f"| {r.library_rows_per_s:,.0f} | {r.library_1_thread_rows_per_s:,.0f} "
        f"| {r.irisserve_single_us:,.0f} | {r.library_single_us:,.0f} "
        f"| {r.max_difference:.1e} | {r.irisserve_cold_ms:,.0f} | {r.library_cold_ms:,.0f} "
        f"| {r.irisserve_rss_mib:,.0f} | {r.library_rss_mib:,.0f} |"
        for r in rows
    ]
    return "\n".join(lines)
