"""The verbs extract, evaluate, predict, certify, export, card (moved out of ``nnrules.cli``)."""

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

from nnrules._cli.common import (
    _build_extractor,
    _check_method_fits,
    _is_sequences,
    _label_map,
    _load_network,
    _load_surrogate,
    _max_bytes,
    _parse_params,
    _read_sequences,
    _read_table,
    _write,
    _write_artifacts,
    _wrote,
)
from nnrules.exceptions import ParameterError


def cmd_extract(args: argparse.Namespace) -> int:
    from nnrules._cli.batches import evaluate_tabular, sample, streams
    from nnrules._validation import validate_params
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
        train, labels = sample(train, network, args)  # labels: the network's, if it sampled
        name = Path(args.eval or args.data).name
        if not args.eval:
            # The report is on the extraction rows: one call fits and reports, so the
            # network's labels from the fit serve the report (nothing runs in between).
            with stage(f"fitting {args.method} and evaluating on {name}"):
                report = extractor._fit_and_report(train, data_name=name,
                                                   label_map=_label_map(args),
                                                   nonfinite=args.nonfinite, labels=labels)
            _warn_dropped(extractor, train, args)
        else:
            with stage(f"fitting {args.method}"):
                # fit (checks columns against the model), given the sample's labels if any
                extractor._fit_data(train, nonfinite=args.nonfinite, labels=labels)
            _warn_dropped(extractor, train, args)
            with stage(f"evaluating on {name}"):
                if streams(args.eval, args):
                    # A folder, a glob or --dask: read in batches (no per-leaf held-out figures).
                    report = evaluate_tabular(extractor.surrogate_, network, args.eval, args,
                                              _label_map(args), extractor=extractor)
                else:
                    # Read in the fitted schema (multi-input models: it knows the graph input
                    # of every column), so it fits the model as the extraction data did.
                    evaluation = _read_table(args.eval, args, schema=extractor.schema_)
                    # The surrogate file keeps the held-out rows' figures per leaf, from the
                    # network's answers the report asked for (one pass over the rows).
                    report = extractor._report_and_attach(evaluation, data_name=name,
                                                          label_map=_label_map(args),
                                                          nonfinite=args.nonfinite)
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

    surrogate = _load_surrogate(args.surrogate, args)
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
        from nnrules._cli.batches import evaluate_tabular, streams

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
    surrogate = _load_surrogate(args.surrogate, args)
    if not _is_sequences(surrogate):
        from nnrules._cli.batches import predict_tabular

        return predict_tabular(surrogate, args)
    rows = _read_sequences(args.data, surrogate.alphabet, args)
    predictions = surrogate.predict(rows)
    # Sequence files get one prediction per line, aligned with their lines (no header).
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    reasons = surrogate.reasons(rows) if args.explain else None
    for i, value in enumerate(predictions.tolist()):
        writer.writerow([value] + ([reasons[i]] if reasons is not None else []))
    if args.output:
        _write(Path(args.output), buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def _warn_dropped(extractor: Any, train: Any, args: argparse.Namespace) -> None:
    """The warning for extraction rows dropped by ``--nonfinite drop``, if any."""
    if extractor.n_nonfinite_dropped_:
        print(f"warning: dropped {extractor.n_nonfinite_dropped_} of {train.n_samples} rows "
              f"of {Path(args.data).name!r} before extraction: the network answered NaN or "
              "inf on them (--nonfinite drop)", file=sys.stderr)


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

    surrogate = _load_surrogate(args.surrogate, args)
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

    surrogate = _load_surrogate(args.surrogate, args)
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
    surrogate = _load_surrogate(args.surrogate, args)
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
