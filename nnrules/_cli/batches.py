"""The CLI's batched data paths: ``--sample``, folders and globs read in batches, ``--dask``.

Kept apart from ``nnrules.cli`` (which wires the commands) and ``nnrules._cli.verbs`` so those
files stay small; nothing but the CLI imports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nnrules.exceptions import ParameterError

__all__ = ["add_dask_options", "evaluate_tabular", "predict_tabular", "sample",
           "streams"]


def add_dask_options(p: argparse.ArgumentParser) -> None:
    """``--dask`` and ``--dask-timeout`` on a subcommand."""
    p.add_argument("--dask", metavar="ADDRESS",
                   help="score on a Dask cluster: 'local' (a local cluster) or "
                   "tcp://host:port (needs pip install nnrules[dask])")
    p.add_argument("--dask-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up connecting to the scheduler after this long (default: 10)")


def sample(train: Any, network: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """``--sample N``: a stratified sample (by the network's label) of larger extraction data,
    and the network's labels on the sampled rows (None when nothing was sampled), which the
    fit then need not ask again."""
    n = getattr(args, "sample", 0)
    if not n or train.n_samples <= n or getattr(network, "task", "") != "classification":
        return train, None
    from nnrules.io.columns import check_columns, in_model_order
    from nnrules.io.stream import stratified_sample
    from nnrules.oracles import as_oracle

    train = in_model_order(train, network)
    labels = as_oracle(network, check_columns(train, network)).predict(train.X)
    rows, idx = stratified_sample(train, labels, n, seed=args.seed, return_index=True)
    print(f"extract: learning from a stratified sample of {rows.n_samples} of "
          f"{train.n_samples} rows (--sample {n}; --sample 0 for all rows)", file=sys.stderr)
    return rows, labels[idx]


def evaluate_tabular(surrogate: Any, network: Any, source: str, args: argparse.Namespace,
                     label_map: Any = None, extractor: Any = None) -> Any:
    """Fidelity over a file, folder or glob, in batches (``--dask``: on a Dask cluster)."""
    options = {"target": getattr(args, "target", None), "label_map": label_map,
               "drop_invalid": getattr(args, "drop_invalid", False)}
    if extractor is not None:  # its oracle (schema, task) and its record of the extraction
        options.update(oracle=extractor.oracle_, provenance=extractor.provenance_)
    if getattr(args, "dask", None):
        from nnrules.io.dask_eval import evaluate_files_dask

        return evaluate_files_dask(surrogate, network, source, address=args.dask,
                                   timeout=args.dask_timeout, **options)
    from nnrules.batch_eval import evaluate_files

    return evaluate_files(surrogate, network, source, **options)


def streams(source: str, args: argparse.Namespace, *, one_file_too: bool = False) -> bool:
    """Whether tabular evaluation data is read in batches: always for a folder, a glob or
    ``--dask``; one file too when ``one_file_too`` (``evaluate``) unless ``--nonfinite drop``
    asks for the whole-file path, which a folder, glob or --dask cannot take."""
    whole = [flag for flag, on in (("--nonfinite drop", getattr(args, "nonfinite", "raise") != "raise"),
                                   ("--encoding", getattr(args, "encoding", None)),
                                   ("--sep", getattr(args, "sep", None))) if on]
    many = bool(getattr(args, "dask", None)) or not Path(source).is_file()
    if many and whole:
        raise ParameterError(
            f"{whole[0]} needs the data in one file read at once; it does not work with a "
            f"folder, a glob or --dask (got {source!r}). Give one file, or leave it out."
        )
    return many or (one_file_too and not whole)


def predict_tabular(surrogate: Any, args: argparse.Namespace) -> int:
    """``predict`` on rows: a file, folder or glob in batches, to stdout, a CSV or Parquet
    partitions (``--dask``: on a Dask cluster); one warning for rows outside the domain."""
    if getattr(args, "encoding", None) or getattr(args, "sep", None):
        # The batched reader reads UTF-8 with the file's own separator (',' or tab for .tsv).
        raise ParameterError(
            "predict reads rows in batches as UTF-8 with ',' (tab for .tsv); --encoding and "
            "--sep are not supported here yet. Re-save the file as UTF-8 comma-separated CSV "
            "(Python: pandas.read_csv(path, sep=..., encoding=...).to_csv(new_path, index=False))."
        )
    options = {"output": args.output, "target": getattr(args, "target", None),
               "drop_invalid": args.drop_invalid, "explain": args.explain}
    if args.dask:
        from nnrules.io.dask_eval import predict_files_dask

        predict_files_dask(surrogate, args.data, address=args.dask,
                           timeout=args.dask_timeout, **options)
        return 0
    from nnrules.batch_eval import predict_files
    from nnrules.evaluation_checks import DomainCount

    schema, outside = getattr(surrogate, "schema", None), DomainCount()
    predict_files(surrogate, args.data, on_batch=lambda X: outside.add(schema, X), **options)
    if outside.rows:
        print(f"warning: {outside.warning(Path(args.data).name, schema)}", file=sys.stderr)
    return 0
