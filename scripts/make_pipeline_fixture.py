"""Make the multi-input census-like fixture: tests/fixtures/pipeline_census.{csv,onnx}.

A synthetic table (age, hours_per_week numeric; workclass, education strings) labelled by a
known rule plus 5% label noise, an sklearn Pipeline(ColumnTransformer(OneHotEncoder for strings,
StandardScaler for numerics), MLPClassifier), converted with skl2onnx so the graph has one
[None, 1] input per raw column (strings as StringTensorType). Seeded: reruns give the same CSV.

Run: python scripts/make_pipeline_fixture.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
WORKCLASS = ("Private", "Self-emp", "Gov", "Never-worked")
EDUCATION = ("HS-grad", "Some-college", "Bachelors", "Masters", "Doctorate")


def make_table(n: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows and the label ``income`` (">50K" / "<=50K") from a known rule plus noise."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 71, size=n).astype(np.float64)
    hours = rng.integers(10, 71, size=n).astype(np.float64)
    workclass = rng.choice(WORKCLASS, size=n, p=[0.6, 0.15, 0.2, 0.05])
    education = rng.choice(EDUCATION, size=n, p=[0.35, 0.25, 0.25, 0.1, 0.05])
    degree = np.isin(education, ("Bachelors", "Masters", "Doctorate"))
    rich = (degree & (age > 30) & (hours > 35)) | ((workclass == "Self-emp") & (hours > 50))
    flip = rng.random(n) < 0.05
    rich = rich ^ flip
    income = np.where(rich, ">50K", "<=50K")
    return {
        "age": age,
        "hours_per_week": hours,
        "workclass": workclass,
        "education": education,
        "income": income,
    }


def main() -> None:
    import pandas as pd
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = make_table()
    frame = pd.DataFrame(table)
    numeric = ["age", "hours_per_week"]
    strings = ["workclass", "education"]
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), strings),
                        ("num", StandardScaler(), numeric),
                    ]
                ),
            ),
            ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=0)),
        ]
    )
    X = frame[numeric + strings]
    pipe.fit(X, frame["income"])
    inputs = [(c, FloatTensorType([None, 1])) for c in numeric]
    inputs += [(c, StringTensorType([None, 1])) for c in strings]
    onx = to_onnx(pipe, initial_types=inputs, options={id(pipe): {"zipmap": False}},
                  target_opset=17)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pipeline_census.onnx").write_bytes(onx.SerializeToString())
    with open(OUT / "pipeline_census.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        names = [*numeric, *strings, "income"]
        writer.writerow(names)
        for i in range(len(frame)):
            row = [table[c][i] for c in names]
            writer.writerow([f"{v:g}" if isinstance(v, float) else str(v) for v in row])
    print(f"train accuracy {pipe.score(X, frame['income']):.3f}; wrote {OUT}")


if __name__ == "__main__":
    main()
