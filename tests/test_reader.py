"""io.reader: the pyarrow reader reads every CSV exactly as the pure-Python reader does.

Differential tests: the same file through both paths gives the same X (bytes), y, schema and
row count -- or the same error message. Plus pyarrow Tables accepted as they are.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnrules.io.reader as reader
from nnrules.exceptions import DataError
from nnrules.io.data import read_data
from nnrules.schema import Feature, FeatureSchema

pa = pytest.importorskip("pyarrow")

TOKENS = ["1", " 2 ", "-3", "0", "1.5", "1e5", ".5", "5.", "+3", "007", "1_000", "inf",
          "-Infinity", "nan", "NaN", "", "NA", " na ", "None", "null", "N/A", "red", "Blue",
          " red ", "true", "False", "2020-01-01", "12:30", '"a,b"', '"7"', "18446744073709551617",
          "1.7976931348623157e309", "0x10", "1,5"]


def _read(path, monkeypatch, fast: bool, **kw):
    if not fast:
        monkeypatch.setattr(reader, "read_csv_arrow", lambda *a, **k: None)
    try:
        d = read_data(path, **kw)
    except DataError as exc:
        out = ("error", str(exc))
    else:
        y = None if d.y is None else (d.y.dtype.str, d.y.tolist())
        out = (d.X.tobytes(), d.X.shape, d.schema, y, d.n_dropped)
    monkeypatch.undo()
    return out


def _same_both_ways(path, monkeypatch, **kw):
    fast = _read(path, monkeypatch, True, **kw)
    slow = _read(path, monkeypatch, False, **kw)
    assert fast == slow
    return fast


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TOKENS), min_size=3, max_size=3), min_size=1,
                max_size=6), st.booleans())
def test_random_cells_read_alike(tmp_path_factory, rows, drop):
    path = tmp_path_factory.mktemp("r") / "d.csv"
    path.write_text("a, b ,y\n" + "\n".join(",".join(r) for r in rows) + "\n")
    mp = pytest.MonkeyPatch()
    try:
        _same_both_ways(path, mp, target="y", drop_invalid=drop)
        _same_both_ways(path, mp, drop_invalid=drop)
    finally:
        mp.undo()


@pytest.mark.parametrize("text", [
    "a,b\n1,2\n3\n",                       # a short line: the Python reader names it
    "\n\na,b\n\n1,2\n\n3,4\n",             # blank lines
    "\ufeffa,b\n1,x\n2,y\n",                # BOM, a categorical column
    'a,b\n"1\n2",3\n4,5\n',                 # a line break inside a quoted cell
    "a\tb\n1\t2\n",                         # tab in a .csv: one column named 'a\tb'
    "a,b\n1,2\nred,3\n",                    # a word in a numeric column
    "a,b\n1,NA\n2,3\n",                     # a missing cell
    "a,b\n1,true\n2,false\n",               # booleans stay text
    "a,b\n1,2020-01-01\n2,2020-01-02\n",    # dates stay text
    "a,b\n",                                # no rows
    "1,2\n3,4\n",                           # no header
])
def test_tricky_files_read_alike(tmp_path, monkeypatch, text):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    _same_both_ways(path, monkeypatch, drop_invalid=True)


def test_schema_categorical_column_of_digits_is_read_as_text(tmp_path, monkeypatch):
    # Under a schema, category "1.0" must stay the string "1.0" (not the number 1 -> "1").
    schema = FeatureSchema((Feature("a", "continuous", 0, 9),
                            Feature("c", "categorical", 0, 1, categories=("1.0", "2"))))
    path = tmp_path / "d.csv"
    path.write_text("a,c\n1,1.0\n2,2\n")
    got = _same_both_ways(path, monkeypatch, schema=schema)
    assert np.frombuffer(got[0]).reshape(got[1]).tolist() == [[1, 0], [2, 1]]


def test_arrow_table_and_pandas_frame_read_alike(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.5, None], "c": ["x ", None, "y"], "n": [1, 2, 3]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    d1 = read_data(frame, drop_invalid=True)
    d2 = read_data(table, drop_invalid=True)
    assert d1.X.tobytes() == d2.X.tobytes() and d1.schema == d2.schema
    assert d2.name == "Table" and d2.n_dropped == 2
    path = tmp_path / "d.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    d3 = read_data(path, drop_invalid=True)
    assert d3.X.tobytes() == d1.X.tobytes() and d3.schema == d1.schema


def test_missing_tokens_cover_every_letter_case():
    assert "nOnE" in reader.MISSING_TOKENS and "N/a" in reader.MISSING_TOKENS
    assert len(reader.MISSING_TOKENS) == 1 + 4 + 4 + 8 + 16 + 16


def test_numbers_read_from_buffers_equal_pyarrows_conversion():
    pd = pytest.importorskip("pandas")
    full = pa.table({
        "f64": pa.array([1.5, None, -2.0, 4.25, None, 7.0, 8.0, 9.5, 10.0]),
        "f32": pa.array([1.5, 2.5, None, 0.1, 5, 6, 7, 8, 9], type=pa.float32()),
        "i64": pa.array([1, None, 3, 2**40, 5, 6, 7, 8, 9]),
        "u8": pa.array([1, 2, 3, 4, 5, 255, 7, 8, None], type=pa.uint8()),
        "b": pa.array([True, False, None, True, True, False, True, False, True]),
        "nul": pa.array([None] * 9, type=pa.null()),
    })
    for table in (full, full.slice(3, 5), pa.concat_tables([full.slice(0, 4), full.slice(4)])):
        got = reader.arrow_columns(table)
        frame = table.to_pandas()
        for name, col in zip(table.column_names, got):
            want = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            np.testing.assert_array_equal(col, want, err_msg=name)
            assert col.dtype == np.float64


def test_contains_finds_a_needle_across_chunk_boundaries(tmp_path):
    path = tmp_path / "d.csv"
    for where in range(0, 12):
        path.write_bytes(b"a" * where + b"0x" + b"b" * 7)
        assert reader._contains(path, b'"', b"0x", chunk=4)
    path.write_bytes(b"0" * 9 + b"x")                     # '0' and 'x' apart: no '0x' ...
    assert reader._contains(path, b"0x", chunk=4)         # ... except the last pair
    path.write_bytes(b"0y" * 10)
    assert not reader._contains(path, b'"', b"0x", chunk=3)
