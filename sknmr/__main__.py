"""``python -m sknmr``: the command line (see :mod:`sknmr.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
