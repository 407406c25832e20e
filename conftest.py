"""Settings shared by the tests and the doctests."""

import os

# The numba backend's "auto" FFT is otherwise the faster one on this machine,
# timed on first use and remembered in the user's cache folder: tests and
# doctests must depend neither on the machine's speed nor on that folder.
os.environ.setdefault("SKNMR_NUMBA_TUNING", "off")
