"""The ``nnrules`` command: inspect, extract, evaluate, predict, certify.

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
import time
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError, NNRulesError, ParameterError

__all__ = ["main"]

DEFAULT_SAMPLE = 1_000_000  # = nnrules.io.stream.DEFAULT_SAMPLE (not imported: start-up)
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
    from nnrules.io.progress import stage

    with stage(f"reading {Path(path).name}"):
        data = read_data(path, target=getattr(args, "target", None), schema=schema,
                         drop_invalid=getattr(args, "drop_invalid", False),
                         encoding=getattr(args, "encoding", None), sep=getattr(args, "sep", None),
                         max_bytes=_max_bytes(args))
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


def _read_sequences(path: str, alphabet: Any, args: argparse.Namespace):
    from nnrules.io.progress import stage
    from nnrules.io.sequences import read_sequences

    with stage(f"reading {Path(path).name}"):
        return read_sequences(path, alphabet=alphabet, encoding=getattr(args, "encoding", None),
                              max_length=getattr(args, "max_length", None),
                              max_bytes=_max_bytes(args))


def _max_bytes(args: argparse.Namespace) -> int | None:
    mb = getattr(args, "max_file_size", None)
    return None if mb is None else int(mb * 2**20)


def _write(path: Path, text: str) -> None:
    from nnrules.io.files import atomic_write_text

    atomic_write_text(path, text)


def _write_artifacts(surrogate: Any, folder: Path,
                     plots: Any = "important") -> tuple[list[str], list[str]]:
    """The surrogate's extra files (plots) and the notes of what was skipped (said once)."""
    import warnings

    from nnrules.exceptions import NNRulesWarning
    from nnrules.io.progress import stage

    with warnings.catch_warnings(record=True) as caught, stage("writing plots"):
        warnings.simplefilter("always", NNRulesWarning)
        names = list(surrogate.write_artifacts(folder, plots=plots))
    notes = []
    for w in caught:
        if issubclass(w.category, NNRulesWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:  # not ours: let it through as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return names, notes


def _wrote(out: Path, names: list[str]) -> str:
    """'wrote DIR/surrogate.json, report.json, ... and 31 plots (importance.png, shape_*.png)'."""
    plain = [n for n in names if not n.endswith(".png")]
    plots = [n for n in names if n.endswith(".png")]
    text = f"wrote {out}/" + ", ".join(plain)
    if plots:
        shown = ", ".join(plots) if len(plots) <= 3 else f"{plots[0]}, {plots[1]}, ..."
        text += f" and {len(plots)} plot{'s' * (len(plots) != 1)} ({shown})"
    return text


def _methods_for(network: Any) -> list[str]:
    """Registered methods that fit the model, from ``extract.KINDS`` (no extractor imported):
    sequence methods for sequence models, table methods otherwise (white-box ones only when the
    layers are readable)."""
    from nnrules.extract import KINDS, ONE_HIDDEN_LAYER, method_names

    sequences = _reads_sequences(network)
    white_box = None
    usable = []
    for name in method_names():
        family, data_kind = KINDS.get(name, ("pedagogical", "table"))
        if (data_kind == "sequences") != sequences:
            continue
        if family != "pedagogical" and not sequences:
            if white_box is None:
                white_box = bool(network.describe().get("layers_readable"))
            if not white_box:
                continue
            if name in ONE_HIDDEN_LAYER and len(network.layers.hidden_layers()) != 1:
                continue
        usable.append(name)
    return usable


def _check_method_fits(method: str, cls: Any, network: Any) -> None:
    """A table method on a sequence model (or the reverse) is a clear error naming the
    methods that fit, before any data is read."""
    sequences = _reads_sequences(network)
    if _is_sequences(cls) == sequences:
        return
    fits = ", ".join(_methods_for(network)) or "none installed"
    if sequences:
        raise ParameterError(
            f"Method {method!r} reads tables (CSV rows), but {str(network.path)!r} is a sequence "
            f"model (a recurrent layer or a [batch, time, symbols] input). Methods that fit it: "
            f"{fits}; e.g. --method {fits.split(', ')[0]} --alphabet SYMBOLS with a file of one "
            "sequence per line.")
    raise ParameterError(
        f"Method {method!r} reads sequences, but {str(network.path)!r} takes table rows (no "
        f"recurrent layer, no [batch, time, symbols] input). Methods that fit it: {fits}.")


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
    from nnrules.io.inspect_text import inspect_text

    white_box = bool(info.get("layers_readable"))
    print(inspect_text(info, layers=_layer_summary(network.layers) if white_box else None,
                       methods=_methods_for(network)))
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
    from nnrules._validation import validate_params
    from nnrules.cli_batches import evaluate_tabular, sample, streams
    from nnrules.extract import get_extractor
    from nnrules.io import serialize
    from nnrules.io.outdir import OutputFolder
    from nnrules.io.progress import stage

    cls = get_extractor(args.method)
    params = _parse_params(args.param)
    network = _load_network(args)
    _check_method_fits(args.method, cls, network)
    extractor = _build_extractor(args.method, network, args.seed, params)
    validate_params(extractor)  # before reading data: a typo should not cost a long read
    if _is_sequences(cls):
        train = _read_sequences(args.data, args.alphabet, args)
        with stage(f"fitting {args.method}"):
            extractor.fit(train)
        evaluation = _read_sequences(args.eval, args.alphabet, args) if args.eval else train
        name = Path(args.eval or args.data).name
        with stage(f"evaluating on {name}"):
            report = extractor.report(evaluation, data_name=name)
    else:
        schema = None
        if args.schema:
            from nnrules.io.data import load_schema

            schema = load_schema(args.schema)
        train = _read_table(args.data, args, schema=schema)
        if args.labels:
            from nnrules.labels import read_labels

            train = dataclasses.replace(
                train, schema=train.schema.with_labels(read_labels(args.labels)))
        train = sample(train, network, args)
        with stage(f"fitting {args.method}"):
            extractor.fit(train, nonfinite=args.nonfinite)  # checks columns against the model
        if extractor.n_nonfinite_dropped_:
            print(f"warning: dropped {extractor.n_nonfinite_dropped_} of {train.n_samples} rows "
                  f"of {Path(args.data).name!r} before extraction: the network answered NaN or "
                  "inf on them (--nonfinite drop)", file=sys.stderr)
        name = Path(args.eval or args.data).name
        if args.eval and streams(args.eval, args):
            # A folder, a glob or --dask: read in batches (no per-leaf held-out figures).
            with stage(f"evaluating on {name}"):
                report = evaluate_tabular(extractor.surrogate_, network, args.eval, args,
                                          _label_map(args), extractor=extractor)
        else:
            # The evaluation file is read in the fitted schema (multi-input models: it knows
            # the graph input of every column), so it fits the model as the extraction data did.
            evaluation = (_read_table(args.eval, args, schema=extractor.schema_) if args.eval
                          else train)
            with stage(f"evaluating on {name}"):
                report = extractor.report(evaluation, data_name=name,
                                          label_map=_label_map(args), nonfinite=args.nonfinite)
                if args.eval:  # the surrogate file keeps the held-out rows' figures per leaf
                    extractor.attach_local_fidelity(evaluation, report)
    surrogate = extractor.surrogate_
    out = OutputFolder(args.out)  # removes the earlier run's files at the end, no others
    plots = getattr(args, "plots", "important")
    plots = int(plots) if plots.isdigit() else plots
    start = time.perf_counter()
    with out.staging() as staging:  # plots; most kinds write none
        artifacts, notes = _write_artifacts(surrogate, staging, plots)
        out.adopt(staging, artifacts)
    report.timings["artifacts_seconds"] = time.perf_counter() - start
    serialize.dump(surrogate, out.file("surrogate.json"))
    serialize.dump(report, out.file("report.json"))
    markdown = report.to_markdown()
    if artifacts:
        markdown += "\n" + "\n".join(f"![{name}]({name})" for name in artifacts) + "\n"
    out.write_text("report.md", markdown)
    text = surrogate.to_text().rstrip("\n") + "\n"
    if hasattr(surrogate, "to_rules"):  # trees: the tree, then the same model as short rules
        text += "\nThe same model as rules:\n" + surrogate.to_rules().to_text().rstrip("\n") + "\n"
    out.write_text("rules.txt", text)
    out.finish()
    fid = "n/a" if report.fidelity is None else f"{report.fidelity:.4f}"
    lo, hi = report.fidelity_ci95 or (float("nan"), float("nan"))
    written = ["surrogate.json", "report.json", "report.md", "rules.txt", *artifacts]
    print(f"{args.method}: fidelity {fid} [{lo:.4f}, {hi:.4f}] on {report.n_eval} rows of "
          f"{report.data['name']}; {_wrote(Path(args.out), written)}")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nnrules.fidelity import evaluate
    from nnrules.io import serialize
    from nnrules.io.progress import stage

    surrogate = _load_surrogate(args.surrogate)
    network = _load_network(args)
    name = Path(args.data).name
    if _is_sequences(surrogate):
        from nnrules.extract.automaton import budget_warning

        data = _read_sequences(args.data, surrogate.alphabet, args)
        with stage(f"evaluating on {name}"):
            report = evaluate(surrogate, network, data, data_name=name)
        warning = budget_warning(surrogate)
        if warning:
            report.warnings.append(warning)
    else:
        from nnrules.cli_batches import evaluate_tabular, streams

        if streams(args.data, args, one_file_too=True):
            with stage(f"evaluating on {name}"):
                report = evaluate_tabular(surrogate, network, args.data, args, _label_map(args))
        else:  # --nonfinite drop, --encoding or --sep: the whole file, read at once
            data = _read_table(args.data, args, schema=surrogate.schema, network=network)
            with stage(f"evaluating on {name}"):
                report = evaluate(surrogate, network, data, data_name=name,
                                  label_map=_label_map(args), nonfinite=args.nonfinite)
    if args.out:
        from nnrules.io.outdir import OutputFolder

        out = OutputFolder(args.out, replace=False)  # beside an extraction's files: keep them
        serialize.dump(report, out.file("report.json"))
        out.write_text("report.md", report.to_markdown())
        out.finish()
    print(report.to_markdown())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    if getattr(args, "reasons", None) is not None:
        return _predict_reasons(args)
    surrogate = _load_surrogate(args.surrogate)
    if not _is_sequences(surrogate):
        from nnrules.cli_batches import predict_tabular

        return predict_tabular(surrogate, args)
    rows = _read_sequences(args.data, surrogate.alphabet, args)
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


def _recorded_sha256(surrogate: Any, path: str) -> str | None:
    """The model hash a surrogate records, or the one in report.json beside its file."""
    sha = getattr(surrogate, "model_sha256", None)
    if sha:
        return sha
    report = Path(path).with_name("report.json")
    if report.is_file():
        try:
            return json.loads(report.read_text(encoding="utf-8")).get("model_sha256")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            return None
    return None


def cmd_certify(args: argparse.Namespace) -> int:
    from nnrules.certification import certify
    from nnrules.fidelity import evaluate
    from nnrules.io import serialize

    surrogate = _load_surrogate(args.surrogate)
    network = _load_network(args)
    schema = getattr(surrogate, "schema", None)
    if _is_sequences(surrogate):
        schema = None  # certify refuses automata with its own message
        train = evaluation = None
        X, X_eval = None, None
    else:
        train = _read_table(args.data, args, schema=schema, network=network)
        evaluation = (_read_table(args.eval, args, schema=train.schema, network=network)
                      if args.eval else train)
        X, X_eval = train, evaluation.X
    cert = certify(surrogate, network, X, eval=X_eval, margin=args.margin,
                   max_verifications=args.budget, min_width=args.min_width,
                   complete=args.complete, expected_sha256=_recorded_sha256(surrogate,
                                                                            args.surrogate),
                   force=args.force, random_state=args.seed,
                   eval_name=Path(args.eval or args.data).name, data_name=Path(args.data).name)
    report = evaluate(surrogate, network, evaluation, data_name=Path(args.eval or args.data).name)
    report.certified_fraction = cert.certified_fraction
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    serialize.dump(cert.to_dict(), out / "certificate.json")
    _write(out / "certificate.md", cert.to_markdown())
    _write(out / "counterexamples.csv", cert.counterexamples_csv())
    serialize.dump(report, out / "report.json")
    _write(out / "report.md", report.to_markdown())
    written = ["certificate.json", "certificate.md", "counterexamples.csv", "report.json",
               "report.md"]
    if args.repair:
        repaired = cert.repair(surrogate)
        serialize.dump(repaired, out / "repaired.json")
        _write(out / "repaired.txt", repaired.to_text().rstrip("\n") + "\n")
        written += ["repaired.json", "repaired.txt"]
    n = cert.n_boxes()
    frac = "n/a" if cert.certified_fraction is None else f"{cert.certified_fraction:.4f}"
    print(f"certify: {frac} of {cert.info['evaluation']['n_rows']} rows in proven boxes; "
          f"{n['proven']} proven, {n['refuted']} refuted, {n['unknown']} unknown boxes; "
          f"wrote {out}/" + ", ".join(written))
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
                  report=report, network=network, input_name=args.input_name,
                  scores=not args.label_only)
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


def _key_columns(path: str, keys: list[str], n_rows: int,
                 args: argparse.Namespace) -> list[list[str]]:
    """The values of the ``--key`` columns, read as text from the CSV (in ``--encoding``,
    separated by ``--sep``, as the data were)."""
    from nnrules.exceptions import DataError
    from nnrules.io.data import parse_separator

    if Path(path).suffix.lower() not in (".csv", ".tsv"):
        raise DataError(f"--key reads key columns from CSV or TSV files; {path!r} is not one.")
    sep = parse_separator(args.sep) or ("\t" if path.lower().endswith(".tsv") else ",")
    with open(path, newline="", encoding=args.encoding or "utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=sep)
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
                     drop_invalid=args.drop_invalid, encoding=args.encoding, sep=args.sep,
                     max_bytes=_max_bytes(args))
    keys = (_key_columns(args.data, args.key, data.n_samples + data.n_dropped, args)
            if args.key else [])
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
    from nnrules.cli_batches import add_dask_options
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
        p.add_argument("--encoding", help="text encoding of CSV / sequence files (default "
                       "utf-8; e.g. latin-1, cp1252)")
        p.add_argument("--sep", help="CSV separator (default ',', tab for .tsv; e.g. ';' or tab)")
        p.add_argument("--max-file-size", type=_positive(float), metavar="MB",
                       help=f"largest data file read, in MiB (default {_limit('bytes')})")
        p.add_argument("--max-length", type=_positive(int), metavar="N",
                       help=f"longest sequence read, in symbols (default {_limit('length')})")
        common_options(p)

    def common_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quiet", action="store_true",
                       help="no progress bars (they show only on a terminal anyway)")

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
    common_options(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("methods", help="the extraction methods; with METHOD, its parameters "
                       "(defaults, accepted values, meaning)")
    p.add_argument("method", nargs="?", help="a method name")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("extract", help="extract a surrogate and its fidelity report",
                       epilog="nnrules extract --method METHOD --help also lists METHOD's "
                       "parameters.")
    _SUBPARSERS["extract"] = p
    p.add_argument("model")
    p.add_argument("--data", required=True, help="extraction data (CSV, .npy, .parquet, text)")
    p.add_argument("--method", required=True, metavar="METHOD",
                   help=f"one of: {', '.join(method_names())}")
    p.add_argument("--eval", help="held-out data for the fidelity report (a file, folder or "
                   "glob, read in batches)")
    p.add_argument("--out", default="nnrules-out", help="output folder (default: nnrules-out)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--schema", help="feature schema JSON overriding the inferred one")
    p.add_argument("--labels", help="value labels JSON (format nnrules/labels): display names, "
                   "code meanings and units, embedded in the surrogate (docs/formats.md)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="method parameter, repeatable (e.g. --param max_leaves=8)")
    p.add_argument("--alphabet", help="sequence alphabet: characters, or a JSON list of tokens")
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N",
                   help=f"learn from a stratified sample (by the network's label) of N rows "
                   f"when the data has more (default: {DEFAULT_SAMPLE}; 0: all rows)")
    add_dask_options(p)
    p.add_argument("--plots", default="important", metavar="WHICH",
                   help="additive: shape plots for the terms that matter ('important', the "
                   "default), 'all', or the top N")
    model_options(p)
    data_options(p)
    label_options(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("evaluate", help="a fresh fidelity report for a saved surrogate")
    p.add_argument("surrogate")
    p.add_argument("model")
    p.add_argument("--data", required=True, help="CSV / .npy / .parquet file, a folder of "
                   "them, or a glob such as 'data/*.parquet' (read in batches)")
    p.add_argument("--out", help="also write report.json and report.md into this folder")
    model_options(p)
    data_options(p)
    add_dask_options(p)
    label_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="CSV of the surrogate's predictions (and reasons); "
                       "for sequence files one prediction per line, no header")
    p.add_argument("surrogate")
    p.add_argument("--data", required=True, help="CSV / .npy / .parquet rows (a file, folder "
                   "or glob, read in batches), or a sequence "
                   "file (the surrogate's alphabet is used)")
    p.add_argument("--explain", action="store_true", help="add a 'reason' column")
    p.add_argument("--reasons", type=int, nargs="?", const=4, metavar="K",
                   help="principal reasons (1..10, default 4) with their signed contributions "
                   "and the deciding rule's local fidelity")
    p.add_argument("--key", action="append", default=[], metavar="COLUMN",
                   help="with --reasons: carry this CSV column through (repeatable)")
    p.add_argument("-o", "--output", help="write the CSV here instead of stdout; a folder "
                   "(no suffix, or ending in /) gets Parquet partitions part-FFFFF-BBBBB.parquet")
    data_options(p)
    add_dask_options(p)
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
    p.add_argument("--label-only", action="store_true",
                   help="ONNX: output the label only, no scores (faster: onnxruntime computes "
                   "every output whichever are fetched)")
    common_options(p)
    p.set_defaults(func=cmd_export, task=None, classes=None)
    p = sub.add_parser("card", help="add the surrogates' fidelity to a Hugging Face model "
                       "card (and a Model Card Toolkit-style JSON)")
    p.add_argument("out_dirs", nargs="+", metavar="OUT_DIR", help="folders written by extract")
    p.add_argument("--card", required=True, help="the model card (README.md); created if missing")
    p.add_argument("--json", help="also write a Model Card Toolkit-style JSON here")
    p.add_argument("--model-name", help="model-index name (default: the card's model_name, "
                   "else its folder's name)")
    common_options(p)
    p.set_defaults(func=cmd_card)

    p = sub.add_parser("certify", help="prove, refute (with counterexamples) or leave unknown "
                       "every rule of a surrogate, box by box")
    p.add_argument("surrogate")
    p.add_argument("model")
    p.add_argument("--data", required=True, help="rows whose box is the domain (CSV, .npy, ...)")
    p.add_argument("--eval", help="held-out rows for certified_fraction (default: --data)")
    p.add_argument("--out", default="nnrules-certificate", help="output folder")
    p.add_argument("--complete", action="store_true",
                   help="settle boxes the bounds leave open by MILP (ReLU networks)")
    p.add_argument("--budget", type=int, default=2000, help="box verifications (default 2000)")
    p.add_argument("--min-width", type=float, default=1 / 64,
                   help="smallest split, as a share of a feature's range (default 1/64)")
    p.add_argument("--margin", type=float, default=0.0,
                   help="widen the data's box by this share of each range (default 0)")
    p.add_argument("--repair", action="store_true",
                   help="also write repaired.json: refuted / unknown boxes defer to the network")
    p.add_argument("--force", action="store_true",
                   help="certify even when the surrogate records another model's SHA-256")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    model_options(p)
    data_options(p)
    p.set_defaults(func=cmd_certify)
    return parser


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def _limit(which: str) -> str:
    from nnrules.io import limits

    if which == "bytes":
        return f"{limits.MAX_DATA_BYTES / 2**20:g}"
    return str(limits.MAX_SEQUENCE_LENGTH)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _version() -> str:
    from nnrules import __version__

    return __version__


def _method_in(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--method" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--method="):
            return a.split("=", 1)[1]
    return None


def _extract_help(parser: argparse.ArgumentParser, method: str) -> int:
    from nnrules.extract import method_help

    try:
        text = method_help(method)
    except NNRulesError as exc:
        print(f"nnrules: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    print(_SUBPARSERS["extract"].format_help())
    print(text)
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    from nnrules.extract import get_extractor, method_help, method_names

    if args.method:
        print(method_help(args.method))
        return 0
    rows = []
    for name in method_names():
        try:
            cls = get_extractor(name)
        except ImportError:  # optional dependencies missing
            continue
        doc = (cls.__doc__ or "").strip().splitlines()
        rows.append((name, getattr(cls, "family", ""), doc[0] if doc else ""))
    w = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, family, summary in rows:
        print(f"{name.ljust(w[0])}  {family.ljust(w[1])}  {summary}")
    print("\nParameters of one method: nnrules methods METHOD (or nnrules extract --method "
          "METHOD --help)")
    return 0


_SUBPARSERS: dict[str, argparse.ArgumentParser] = {}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nnrules`` command; returns the exit code."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if argv[:1] == ["extract"] and ({"-h", "--help"} & set(argv)):
        method = _method_in(argv)
        if method is not None:  # extract --method M --help: extract's help, then M's parameters
            return _extract_help(parser, method)
    args = parser.parse_args(argv)
    from nnrules.io import progress

    enabled = progress.ENABLED
    progress.ENABLED = enabled and not getattr(args, "quiet", False)
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
    finally:
        progress.ENABLED = enabled


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
