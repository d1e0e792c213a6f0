"""``python -m nnrules``: the same command line as the ``nnrules`` script."""

from __future__ import annotations

import sys

from nnrules.cli import main

if __name__ == "__main__":
    sys.exit(main())
