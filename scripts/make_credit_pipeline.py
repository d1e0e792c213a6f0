"""Make the German-credit-like pipeline fixture: tests/fixtures/credit/{credit.onnx, train.csv,
test.csv}.

A generated stand-in for the Statlog German credit data (1,000 rows, its 20 columns with their
types and codes: 13 categorical columns coded A11..A202, 7 numeric ones; target good/bad, about
70% good), labelled by a known logistic score plus noise. The model is an sklearn Pipeline
(ColumnTransformer: OneHotEncoder for the strings, StandardScaler for the numbers; then an
MLPClassifier) converted with skl2onnx, so the graph reads one [None, 1] input per raw column,
strings as StringTensorType. Seeded: reruns give the same CSVs.

Run: python scripts/make_credit_pipeline.py   ([train] extra: skl2onnx, pandas)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "credit"

# name -> (codes, probabilities) for the 13 categorical columns, in the data set's order
CATEGORICAL = {
    "checking_account": (("A11", "A12", "A13", "A14"), (0.27, 0.27, 0.06, 0.40)),
    "credit_history": (("A30", "A31", "A32", "A33", "A34"), (0.04, 0.05, 0.53, 0.09, 0.29)),
    "purpose": (("A40", "A41", "A410", "A42", "A43", "A44", "A45", "A46", "A48", "A49"),
                (0.23, 0.10, 0.01, 0.18, 0.28, 0.01, 0.02, 0.05, 0.01, 0.11)),
    "savings": (("A61", "A62", "A63", "A64", "A65"), (0.60, 0.10, 0.06, 0.05, 0.19)),
    "employment_since": (("A71", "A72", "A73", "A74", "A75"), (0.06, 0.17, 0.34, 0.17, 0.26)),
    "personal_status_sex": (("A91", "A92", "A93", "A94"), (0.05, 0.31, 0.55, 0.09)),
    "other_debtors": (("A101", "A102", "A103"), (0.91, 0.04, 0.05)),
    "property": (("A121", "A122", "A123", "A124"), (0.28, 0.23, 0.33, 0.16)),
    "other_installment_plans": (("A141", "A142", "A143"), (0.14, 0.05, 0.81)),
    "housing": (("A151", "A152", "A153"), (0.18, 0.71, 0.11)),
    "job": (("A171", "A172", "A173", "A174"), (0.02, 0.20, 0.63, 0.15)),
    "telephone": (("A191", "A192"), (0.60, 0.40)),
    "foreign_worker": (("A201", "A202"), (0.96, 0.04)),
}
COLUMNS = ("checking_account", "duration", "credit_history", "purpose", "credit_amount",
           "savings", "employment_since", "installment_rate", "personal_status_sex",
           "other_debtors", "residence_since", "property", "age", "other_installment_plans",
           "housing", "existing_credits", "job", "people_liable", "telephone", "foreign_worker")
NUMERIC = ("duration", "credit_amount", "installment_rate", "residence_since", "age",
           "existing_credits", "people_liable")


def make_table(n: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows and the label ``risk`` ("good" / "bad") from a known score plus noise."""
    rng = np.random.default_rng(seed)
    t: dict[str, np.ndarray] = {}
    for name, (codes, p) in CATEGORICAL.items():
        t[name] = rng.choice(codes, size=n, p=np.asarray(p) / np.sum(p))
    t["duration"] = np.clip(np.round(rng.gamma(3.0, 7.0, n)), 4, 72)
    t["credit_amount"] = np.clip(np.round(rng.lognormal(7.8, 0.75, n)), 250, 18424)
    t["installment_rate"] = rng.integers(1, 5, n).astype(float)
    t["residence_since"] = rng.integers(1, 5, n).astype(float)
    t["age"] = np.clip(np.round(19 + rng.gamma(2.2, 7.0, n)), 19, 75)
    t["existing_credits"] = rng.choice([1.0, 2.0, 3.0, 4.0], size=n, p=[0.63, 0.33, 0.03, 0.01])
    t["people_liable"] = rng.choice([1.0, 2.0], size=n, p=[0.85, 0.15])
    score = (1.3
             - 1.1 * (t["checking_account"] == "A11") - 0.6 * (t["checking_account"] == "A12")
             + 0.9 * (t["checking_account"] == "A14")
             - 0.035 * (t["duration"] - 20) - 0.00006 * (t["credit_amount"] - 3000)
             + 0.7 * (t["credit_history"] == "A34") - 0.9 * np.isin(t["credit_history"],
                                                                    ("A30", "A31"))
             - 0.5 * (t["savings"] == "A61") + 0.5 * np.isin(t["savings"], ("A64", "A65"))
             + 0.02 * (t["age"] - 35) - 0.25 * (t["installment_rate"] - 2.5)
             - 0.4 * (t["purpose"] == "A40") + 0.3 * (t["purpose"] == "A41")
             - 0.5 * (t["other_installment_plans"] == "A141")
             + 0.3 * (t["housing"] == "A152") - 0.4 * (t["employment_since"] == "A71"))
    p_good = 1.0 / (1.0 + np.exp(-score))
    good = rng.random(n) < p_good
    t["risk"] = np.where(good, "good", "bad")
    return t


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
    strings = [c for c in COLUMNS if c in CATEGORICAL]
    numeric = [c for c in COLUMNS if c in NUMERIC]
    pipe = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), strings),
                                    ("num", StandardScaler(), numeric)])),
        ("mlp", MLPClassifier(hidden_layer_sizes=(8,), alpha=3.0, max_iter=3000,
                              random_state=0)),
    ])
    n_train = 700
    X = frame[list(COLUMNS)]
    pipe.fit(X.iloc[:n_train], frame["risk"].iloc[:n_train])
    inputs = [(c, StringTensorType([None, 1]) if c in CATEGORICAL else FloatTensorType([None, 1]))
              for c in COLUMNS]
    onx = to_onnx(pipe, initial_types=inputs, options={id(pipe): {"zipmap": False}},
                  target_opset=17)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "credit.onnx").write_bytes(onx.SerializeToString())
    names = [*COLUMNS, "risk"]
    for part, rows in (("train", range(n_train)), ("test", range(n_train, len(frame)))):
        with open(OUT / f"{part}.csv", "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["applicant_id", *names])
            for i in rows:
                values = [table[c][i] for c in names]
                writer.writerow([f"{i:04d}"] + [f"{v:g}" if isinstance(v, float) else str(v)
                                                for v in values])
    acc_train = pipe.score(X.iloc[:n_train], frame["risk"].iloc[:n_train])
    acc_test = pipe.score(X.iloc[n_train:], frame["risk"].iloc[n_train:])
    print(f"accuracy train {acc_train:.3f}, test {acc_test:.3f}; "
          f"{(frame['risk'] == 'good').mean():.2f} good; wrote {OUT}")


if __name__ == "__main__":
    main()
