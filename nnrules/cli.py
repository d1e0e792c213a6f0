"""The ``nnrules`` command: inspect, extract, evaluate, predict, certify.

The CLI wires: it reads every data file once into a ``Dataset`` (or ``Sequences``) and hands it
on as it is, builds the extractor named by ``--method`` from the registry (``fit`` checks the
columns against the model), reports through ``nnrules.fidelity.evaluate``, and writes results
atomically. Every error a user can cause ends in one line on stderr and a non-zero exit code;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any

from nnrules._cli.common import (  # noqa: F401 (re-exported: nnrules.cli.<name> as before)
    DEFAULT_SAMPLE,
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_USAGE,
    _build_extractor,
    _check_method_fits,
    _is_sequences,
    _label_map,
    _layer_summary,
    _load_network,
    _load_surrogate,
    _max_bytes,
    _methods_for,
    _parse_params,
    _read_sequences,
    _read_table,
    _reads_sequences,
    _write,
    _write_artifacts,
    _wrote,
    cmd_inspect,
)
from nnrules._cli.verbs import (  # noqa: F401
    _key_columns,
    _predict_reasons,
    _reason_cell,
    _recorded_sha256,
    cmd_card,
    cmd_certify,
    cmd_evaluate,
    cmd_export,
    cmd_extract,
    cmd_predict,
)
from nnrules.exceptions import NNRulesError, NNRulesWarning

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from nnrules._cli.batches import add_dask_options
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
    p.add_argument("--sample", type=_positive(int, zero=True), default=DEFAULT_SAMPLE,
                   metavar="N",
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


def _positive(kind: type, *, zero: bool = False) -> Any:
    """An argparse type: a number of ``kind`` above 0 (or at least 0 with ``zero``)."""
    what = "a number >= 0" if zero else "a positive number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (value >= 0 if zero else value > 0):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
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
    program = argv is None  # run as the program (console script, python -m nnrules.cli)
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
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
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
        if program:
            _quick_exit()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """nnrules' own warnings (and UserWarnings raised in its code) as one ``warning: ...`` line on
    stderr; others as Python shows them."""
    if issubclass(category, NNRulesWarning) or (
            issubclass(category, UserWarning) and f"{os.sep}nnrules{os.sep}" in str(filename)):
        print(f"warning: {_one_line(message)}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _quick_exit() -> None:
    """Make the interpreter's exit cheap once the command is done.

    With scikit-learn (which loads scipy.stats and pandas) imported, Python's shutdown spent
    0.25-0.4 s in cyclic garbage collections over the objects of ~1,600 modules, after every
    file was already written (atomically) and closed. ``gc.freeze`` moves the objects alive now
    out of those collections; the normal shutdown still runs (atexit handlers, streams flushed,
    modules cleared), only cycles among these objects are left to the OS instead of being
    collected, and nothing of nnrules' waits for a finaliser of a cycle. Only when ``main``
    runs as the program: a Python caller's process keeps its collector as it was.
    """
    import gc

    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
