"""The ``nnrules`` command: inspect, extract, evaluate, predict.

The CLI wires: it reads every data file once into a ``Dataset`` (or ``Sequences``) and hands it
on as it is, builds the extractor named by ``--method`` from the registry (``fit`` checks the
columns against the model), reports through ``nnrules.fidelity.evaluate``, and writes results
atomically. Every error a user can cause ends in one line on stderr and a non-zero exit code;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from pathlib import Path
from typing import Any

from nnrules._validation import validate_params
from nnrules.exceptions import FormatError, NNRulesError, ParameterError

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_ERROR = 1
EXIT_INTERNAL = 3


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values are read as JSON when they parse, else as text."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param takes KEY=VALUE; got {pair!r}. Example: --param max_leaves=8.")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = value
    return params


def _build_extractor(method: str, network: Any, seed: int | None, params: dict) -> Any:
    from nnrules.extract import get_extractor

    cls = get_extractor(method)
    valid = sorted(p for p in cls._get_param_names() if p != "network")
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ParameterError(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))} for method {method!r}. "
            f"Valid: {', '.join(valid)}."
        )
    if "random_state" in valid:
        params = {"random_state": seed, **params}
    return cls(network, **params)


def _is_sequences(obj: Any) -> bool:
    """Whether an extractor class (or a surrogate: ``Surrogate.data_kind``) reads sequences."""
    return getattr(obj, "data_kind", "table") == "sequences"


def _load_surrogate(path: str):
    """The surrogate in ``path``; another nnrules file (a report, a schema) is a FormatError."""
    from nnrules.io import serialize
    from nnrules.surrogates.base import Surrogate

    obj = serialize.load(path)
    if not isinstance(obj, Surrogate):
        raise FormatError(
            f"{path!r} is an {obj.to_dict().get('format')!r} file, not a surrogate. Pass the "
            "surrogate.json that nnrules extract wrote.")
    return obj


def _read_table(path: str, args: argparse.Namespace, schema: Any = None, network: Any = None):
    from nnrules.io.columns import check_columns
    from nnrules.io.data import read_data

    data = read_data(path, target=getattr(args, "target", None), schema=schema,
                     drop_invalid=getattr(args, "drop_invalid", False))
    if network is not None:
        # Multi-input models: the returned schema knows which graph input each column feeds.
        data = dataclasses.replace(data, schema=check_columns(data, network))
    return data


def _label_map(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--label-map cls0=0,cls1=1`` (or a JSON object) as a dict data label -> class."""
    text = getattr(args, "label_map", None)
    if not text:
        return None
    if text.lstrip().startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"--label-map is not valid JSON ({exc.msg}): {text!r}.") from None
        if not isinstance(mapping, dict):
            raise ParameterError(f"--label-map must be a JSON object; got {text!r}.")
        return mapping
    mapping = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"--label-map takes DATA=CLASS pairs separated by commas; got {pair!r}. "
                "Example: --label-map cls0=0,cls1=1."
            )
        value = value.strip()
        mapping[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return mapping


def _read_sequences(path: str, alphabet: Any):
    from nnrules.io.sequences import read_sequences

    return read_sequences(path, alphabet=alphabet)


def _write(path: Path, text: str) -> None:
    from nnrules.io.files import atomic_write_text

    atomic_write_text(path, text)


def _load_network(args: argparse.Namespace):
    from nnrules.io.model import load

    classes = None
    if getattr(args, "classes", None):
        classes = [c.strip() for c in args.classes.split(",")]
        classes = [int(c) if c.lstrip("-").isdigit() else c for c in classes]
    return load(args.model, task=getattr(args, "task", None), classes=classes)


# -- commands ----------------------------------------------------------------------------

def cmd_inspect(args: argparse.Namespace) -> int:
    network = _load_network(args)
    info = network.describe()
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True, default=str))
        return 0
    from nnrules.extract import get_extractor, method_names

    for key in sorted(info):
        value = info[key]
        if isinstance(value, (list, tuple)):
            print(f"{key}:")
            for item in value:
                print(f"  - {item}")
        elif isinstance(value, dict):
            print(f"{key}:")
            for k in sorted(value):
                print(f"  {k}: {value[k]}")
        else:
            print(f"{key}: {value}")
    white_box = bool(info.get("layers_readable"))
    if white_box:
        print(f"layer IR: {_layer_summary(network.layers)}")
    usable = []
    sequences = _reads_sequences(network)
    for name in method_names():
        try:
            cls = get_extractor(name)
        except ImportError:  # a method whose optional dependencies are missing
            continue
        family = getattr(cls, "family", "pedagogical")
        if _is_sequences(cls) != sequences:  # sequence methods for sequence models only
            continue
        if family == "pedagogical" or white_box or sequences:
            usable.append(name)
    print(f"methods: {', '.join(usable)}")
    return 0


def _reads_sequences(network: Any) -> bool:
    """Whether the model reads sequences: a recurrent op, or a rank-3 input ([batch, time, |Σ|])."""
    from nnrules.io.sequences import RECURRENT_OPS

    if any(n.op_type in RECURRENT_OPS for n in network.model.graph.node):
        return True
    return len(network.inputs) == 1 and len(network.inputs[0].shape) == 3


def _layer_summary(ir: Any) -> str:
    """'30 -> affine 16 -> relu -> affine 2 -> softmax' from the layer IR."""
    parts = [str(ir.n_inputs)]
    for layer in ir.layers:
        if hasattr(layer, "weight"):
            parts.append(f"affine {layer.weight.shape[0]}")
        else:
            parts.append(layer.kind)
    if ir.head != "none":
        parts.append(ir.head)
    return " -> ".join(parts)


def cmd_extract(args: argparse.Namespace) -> int:
    from nnrules.extract import get_extractor
    from nnrules.io import serialize

    cls = get_extractor(args.method)
    params = _parse_params(args.param)
    network = _load_network(args)
    extractor = _build_extractor(args.method, network, args.seed, params)
    validate_params(extractor)  # before reading data: a typo should not cost a long read
    if _is_sequences(cls):
        train = _read_sequences(args.data, args.alphabet)
        extractor.fit(train)
        evaluation = _read_sequences(args.eval, args.alphabet) if args.eval else train
        report = extractor.report(evaluation, data_name=Path(args.eval or args.data).name)
    else:
        schema = None
        if args.schema:
            from nnrules.io.data import load_schema

            schema = load_schema(args.schema)
        train = _read_table(args.data, args, schema=schema)
        extractor.fit(train, nonfinite=args.nonfinite)  # checks columns against the model
        if extractor.n_nonfinite_dropped_:
            print(f"warning: dropped {extractor.n_nonfinite_dropped_} of {train.n_samples} rows "
                  f"of {Path(args.data).name!r} before extraction: the network answered NaN or "
                  "inf on them (--nonfinite drop)", file=sys.stderr)
        # The evaluation file is read in the fitted schema (multi-input models: it knows the
        # graph input of every column), so it fits the model as the extraction data did.
        evaluation = _read_table(args.eval, args, schema=extractor.schema_) if args.eval else train
        report = extractor.report(evaluation, data_name=Path(args.eval or args.data).name,
                                  label_map=_label_map(args), nonfinite=args.nonfinite)
        if args.eval:  # the surrogate file keeps the held-out rows' figures per leaf / rule
            extractor.attach_local_fidelity(evaluation, report)
    surrogate = extractor.surrogate_
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    artifacts = list(surrogate.write_artifacts(out))  # plots etc.; most kinds write none
    serialize.dump(surrogate, out / "surrogate.json")
    serialize.dump(report, out / "report.json")
    markdown = report.to_markdown()
    if artifacts:
        markdown += "\n" + "\n".join(f"![{name}]({name})" for name in artifacts) + "\n"
    _write(out / "report.md", markdown)
    _write(out / "rules.txt", surrogate.to_text().rstrip("\n") + "\n")
    fid = "n/a" if report.fidelity is None else f"{report.fidelity:.4f}"
    lo, hi = report.fidelity_ci95 or (float("nan"), float("nan"))
    print(f"{args.method}: fidelity {fid} [{lo:.4f}, {hi:.4f}] on {report.n_eval} rows of "
          f"{report.data['name']}; wrote {out}/surrogate.json, report.json, report.md, rules.txt")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nnrules.fidelity import evaluate
    from nnrules.io import serialize

    surrogate = _load_surrogate(args.surrogate)
    network = _load_network(args)
    if _is_sequences(surrogate):
        from nnrules.extract.automaton import budget_warning

        data = _read_sequences(args.data, surrogate.alphabet)
        report = evaluate(surrogate, network, data, data_name=Path(args.data).name)
        warning = budget_warning(surrogate)
        if warning:
            report.warnings.append(warning)
    else:
        data = _read_table(args.data, args, schema=surrogate.schema, network=network)
        report = evaluate(surrogate, network, data, data_name=Path(args.data).name,
                          label_map=_label_map(args), nonfinite=args.nonfinite)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        serialize.dump(report, out / "report.json")
        _write(out / "report.md", report.to_markdown())
    print(report.to_markdown())
    return 0


def _warn_outside_domain(surrogate: Any, rows: Any, name: str) -> None:
    """One stderr line when rows lie outside the domain the surrogate was extracted on."""
    schema = getattr(surrogate, "schema", None)
    if schema is None:
        return
    mask, counts = schema.outside_domain(rows)
    if mask.any():
        shown = ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:8])
        print(f"warning: {int(mask.sum())} of {len(mask)} rows of {name!r} lie outside the "
              f"domain the surrogate was extracted on ({shown}); its answers there were not "
              "fitted", file=sys.stderr)


def cmd_predict(args: argparse.Namespace) -> int:
    if getattr(args, "reasons", None) is not None:
        return _predict_reasons(args)
    surrogate = _load_surrogate(args.surrogate)
    if _is_sequences(surrogate):
        rows = _read_sequences(args.data, surrogate.alphabet)
    else:
        rows = _read_table(args.data, args, schema=surrogate.schema).X
        _warn_outside_domain(surrogate, rows, Path(args.data).name)
    predictions = surrogate.predict(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["prediction"] + (["reason"] if args.explain else [])
    if not _is_sequences(surrogate):
        # Sequence files get one prediction per line, aligned with their lines (no header).
        writer.writerow(header)
    reasons = surrogate.reasons(rows) if args.explain else None
    for i, value in enumerate(predictions.tolist()):
        writer.writerow([value] + ([reasons[i]] if reasons is not None else []))
    if args.output:
        _write(Path(args.output), buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from nnrules.io import serialize
    from nnrules.io.export import export

    surrogate = _load_surrogate(args.surrogate)
    report = None
    report_path = Path(args.report or Path(args.surrogate).with_name("report.json"))
    if args.report or report_path.is_file():
        report = serialize.load(report_path).to_dict()  # InputFileError when --report is missing
    network = _load_network(args) if args.model else None
    path = export(surrogate, args.to, args.output, table=args.table, key=args.key,
                  report=report, network=network, input_name=args.input_name)
    print(f"wrote {path} ({args.to})")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from nnrules.io.export.modelcard import update_card

    path = update_card(args.card, args.out_dirs, model_name=args.model_name,
                       json_path=args.json)
    extra = f" and {args.json}" if args.json else ""
    print(f"updated {path}{extra} with {len(args.out_dirs)} surrogate(s)")
    return 0


def _reason_cell(reason: dict) -> str:
    c = reason["contribution"]
    return reason["text"] if c is None else f"{reason['text']} ({c:+.3g})"


def _key_columns(path: str, keys: list[str], n_rows: int) -> list[list[str]]:
    """The values of the ``--key`` columns, read as text from the CSV."""
    from nnrules.exceptions import DataError

    if Path(path).suffix.lower() not in (".csv", ".tsv"):
        raise DataError(f"--key reads key columns from CSV or TSV files; {path!r} is not one.")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t" if path.lower().endswith(".tsv") else ",")
        missing = [k for k in keys if k not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"Key column(s) {missing} are not in {path!r}; its columns are "
                            f"{reader.fieldnames}.")
        rows = [[row[k] for k in keys] for row in reader]
    if len(rows) != n_rows:
        raise DataError(f"{path!r} has {len(rows)} rows but {n_rows} were read as data; key "
                        "columns cannot be matched (drop invalid rows from the file first).")
    return rows


def _predict_reasons(args: argparse.Namespace) -> int:
    from nnrules.io import serialize
    from nnrules.io.data import read_data
    from nnrules.surrogates.reasons import MAX_REASONS, reasons

    k = args.reasons
    if not 1 <= k <= MAX_REASONS:
        raise ParameterError(f"--reasons takes a number of reasons in 1..{MAX_REASONS}; got {k}. "
                             "Adverse-action notices usually give 4 (the default).")
    surrogate = _load_surrogate(args.surrogate)
    schema = getattr(surrogate, "schema", None)
    if _is_sequences(surrogate) or schema is None:
        raise ParameterError("--reasons needs a tree, rule set, box or additive surrogate with a "
                             "schema; use --explain for automata.")
    data = read_data(args.data, target=args.target, schema=schema, feature_names=schema.names,
                     drop_invalid=args.drop_invalid)
    keys = _key_columns(args.data, args.key, data.n_samples + data.n_dropped) if args.key else []
    if keys and data.n_dropped:
        raise ParameterError("--key cannot be combined with dropped rows (--drop-invalid dropped "
                             f"{data.n_dropped}); clean the file first.")
    rows = reasons(surrogate, data.X, k)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*args.key, "prediction", *[f"reason_{i + 1}" for i in range(k)],
                     "local_fidelity", "local_fidelity_low", "local_fidelity_high", "local_n"])

    def num(v):
        return "" if v is None else f"{v:.4f}"

    for i, row in enumerate(rows):
        texts = [_reason_cell(r) for r in row["reasons"]]
        pred = row["prediction"]
        writer.writerow([*(keys[i] if keys else []), "" if pred is None else pred,
                         *texts, *[""] * (k - len(texts)), num(row["local_fidelity"]),
                         num(row["local_fidelity_low"]), num(row["local_fidelity_high"]),
                         "" if row["local_n"] is None else row["local_n"]])
    if args.output:
        _write(Path(args.output), buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


# -- parser ------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    from nnrules.extract import method_names

    parser = argparse.ArgumentParser(
        prog="nnrules",
        description="Turn a trained neural network (ONNX) into readable rules with a fidelity report.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"nnrules {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--task", choices=["classification", "regression"],
                       help="override the task inferred from the graph")
        p.add_argument("--classes", help="override class labels, comma-separated (e.g. no,yes)")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--target", help="column with true labels (accuracy is then reported)")
        p.add_argument("--drop-invalid", action="store_true",
                       help="drop rows with NaN or inf instead of refusing the data")

    def label_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--label-map", metavar="DATA=CLASS,...",
                       help="map the target column's labels to the network's classes "
                            "(e.g. cls0=0,cls1=1, or a JSON object)")
        p.add_argument("--nonfinite", choices=["raise", "drop"], default="raise",
                       help="rows the network answers NaN or inf on: refuse the data (default) "
                            "or drop them, counted in the report")

    p = sub.add_parser("inspect", help="inputs, outputs, task, layer IR, usable methods")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print JSON")
    model_options(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("extract", help="extract a surrogate and its fidelity report")
    p.add_argument("model")
    p.add_argument("--data", required=True, help="extraction data (CSV, .npy, .parquet, text)")
    p.add_argument("--method", required=True, metavar="METHOD",
                   help=f"one of: {', '.join(method_names())}")
    p.add_argument("--eval", help="held-out data for the fidelity report")
    p.add_argument("--out", default="nnrules-out", help="output folder (default: nnrules-out)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--schema", help="feature schema JSON overriding the inferred one")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="method parameter, repeatable (e.g. --param max_leaves=8)")
    p.add_argument("--alphabet", help="sequence alphabet: characters, or a JSON list of tokens")
    model_options(p)
    data_options(p)
    label_options(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("evaluate", help="a fresh fidelity report for a saved surrogate")
    p.add_argument("surrogate")
    p.add_argument("model")
    p.add_argument("--data", required=True)
    p.add_argument("--out", help="also write report.json and report.md into this folder")
    model_options(p)
    data_options(p)
    label_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="CSV of the surrogate's predictions (and reasons); "
                       "for sequence files one prediction per line, no header")
    p.add_argument("surrogate")
    p.add_argument("--data", required=True, help="CSV / .npy / .parquet rows, or a sequence "
                   "file (the surrogate's alphabet is used)")
    p.add_argument("--explain", action="store_true", help="add a 'reason' column")
    p.add_argument("--reasons", type=int, nargs="?", const=4, metavar="K",
                   help="principal reasons (1..10, default 4) with their signed contributions "
                   "and the deciding rule's local fidelity")
    p.add_argument("--key", action="append", default=[], metavar="COLUMN",
                   help="with --reasons: carry this CSV column through (repeatable)")
    p.add_argument("-o", "--output", help="write the CSV here instead of stdout")
    data_options(p)
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("export", help="the surrogate as ONNX, SQL or a Python module "
                       "(automata: transition table as JSON / CSV, or regex)")
    p.add_argument("surrogate")
    p.add_argument("--to", required=True, choices=["onnx", "sql", "python", "json", "csv", "regex"])
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--table", default="data", help="SQL: the table to read (default: data)")
    p.add_argument("--key", help="SQL: a key column carried through before 'prediction'")
    p.add_argument("--report", help="report.json for the metadata (default: the one beside "
                   "the surrogate, if any)")
    p.add_argument("--model", help="ONNX: the original network, whose inputs the export reads")
    p.add_argument("--input-name", default="input",
                   help="ONNX without --model: name of the single input (default: input)")
    p.set_defaults(func=cmd_export, task=None, classes=None)
    p = sub.add_parser("card", help="add the surrogates' fidelity to a Hugging Face model "
                       "card (and a Model Card Toolkit-style JSON)")
    p.add_argument("out_dirs", nargs="+", metavar="OUT_DIR", help="folders written by extract")
    p.add_argument("--card", required=True, help="the model card (README.md); created if missing")
    p.add_argument("--json", help="also write a Model Card Toolkit-style JSON here")
    p.add_argument("--model-name", help="model-index name (default: the card's model_name, "
                   "else its folder's name)")
    p.set_defaults(func=cmd_card)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _version() -> str:
    from nnrules import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nnrules`` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NNRulesError as exc:
        if args.debug:
            raise
        print(f"nnrules: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"nnrules: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        print(f"nnrules: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(run with --debug for the traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
