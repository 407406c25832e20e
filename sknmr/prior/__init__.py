"""The prior over interaction parameters, and the one sampler that draws from it.

The paper's prior: per kernel type, ``alpha_xy`` and ``alpha_z`` uniform in
[0.01, 0.1] MHz and the length parameter uniform in its range (``xi`` in
[8, 32], ``p`` in [1, 3], ``gamma`` in [13, 52]); a draw is kept only if
``W = 2 alpha_xy + alpha_z`` lies in [0.1, 0.3] MHz, else redrawn. It is the
default everywhere, and with the default settings every draw is exactly the
one sknmr has always made.

Beyond the paper (all off by default; :data:`PRIOR_SETTINGS` names every
setting):

* ``alpha_x`` and ``alpha_y`` ranges replace ``alpha_xy``: the in-plane
  couplings are drawn separately and the window is on
  ``W = alpha_x + alpha_y + alpha_z``;
* ``t1`` and ``t2`` ranges (us) draw per-echo relaxation times (with both,
  pairs with ``t2 > 2 t1`` are redrawn);
* a ``linewidth`` range (MHz) draws each echo's inhomogeneous linewidth
  (the full width at half maximum of its offsets), log-uniformly: a scale
  that may span a decade, from a few kHz to hundreds of kHz;
* ``kernel_params`` draws the kernels' optional parameters
  (:func:`sknmr.kernels.kernel_parameters`), e.g. the gaussian's
  ``exponent`` or the angular weights, uniformly in given ranges;
  ``staggered`` takes the probability that an echo's kernel is staggered;
* kernels other than the paper's three (``"uniform"``, registered ones) may
  be drawn when ``lengths`` gives their range.

The prior is an object, :class:`Prior` (its ranges written once, checked,
compared, stored with :meth:`Prior.to_dict`); every draw of sknmr goes
through :func:`draw_table`. Echo ``j`` of the kernel
with code ``k`` (:func:`kernel_code`: 0 gaussian, 1 power, 2 rkky; another
kernel ``3 + zlib.crc32(name) % 997``, so a code never depends on the order
kernels were registered in) has the echo id ``k * ECHO_ID_STRIDE + j`` and
draws from its own streams:

* its length and couplings from ``SeedSequence(seed, spawn_key=(2, k, j))``
  (:func:`draw_params`);
* its ``t1``/``t2`` from ``SeedSequence(seed, spawn_key=(3, k, j))``;
* its ``linewidth`` from ``SeedSequence(seed, spawn_key=(5, k, j))``;
* each kernel parameter ``name`` from
  ``SeedSequence(seed, spawn_key=(4, k, j, zlib.crc32(name)))``
  (:func:`draw_extras`).

So :func:`sample_prior`, :meth:`sknmr.EchoSimulator.sample` and
:func:`sknmr.datasets.make_echoes` give the same materials for the same seed,
whatever the batch, chunk or job count, and turning on a relaxation or kernel
parameter range (or a linewidth range) leaves the couplings and lengths drawn
as they were.

Examples
--------
>>> from sknmr.prior import sample_prior
>>> table = sample_prior(6, random_state=0)
>>> list(table.columns)
['kernel', 'length', 'alpha_xy', 'alpha_z', 'W', 'L', 'power']
>>> table["kernel"].tolist()
['gaussian', 'gaussian', 'power', 'power', 'rkky', 'rkky']
>>> bool(table["W"].between(0.1, 0.3).all())
True
>>> table = sample_prior(4, ("gaussian", "power"), alpha_x=(0.01, 0.1),
...                      alpha_y=(0.0, 0.05), t2=(20.0, 40.0),
...                      kernel_params={"exponent": (1.0, 2.0)},
...                      lattice_size=10, random_state=0)
>>> list(table.columns)
['kernel', 'length', 'alpha_x', 'alpha_y', 'alpha_z', 't2', 'exponent',
 'W', 'L', 'power']
>>> table["exponent"].isna().tolist()
[False, False, True, True]
"""

from ._prior import Prior, check_prior, sample_prior
from ._sampling import (
    ECHO_ID_STRIDE,
    PAPER_PRIOR,
    PARAM_COLUMNS,
    PRIOR_SETTINGS,
    TARGET_COLUMNS,
    _acceptance_anisotropic,  # noqa: F401 (the tests check it)
    add_targets,
    check_count,
    check_kernels,
    draw_extras,
    draw_params,
    draw_table,
    kernel_code,
    prior_echo_ids,
    split_counts,
)

#: The paper's prior: ``alpha_xy`` and ``alpha_z`` ranges (MHz), each kernel's
#: length-parameter range (``"length"``), and the window of ``W`` (MHz) a draw
#: must land in.
PAPER_PRIOR = PAPER_PRIOR
#: The columns that define one echo of the paper's prior.
PARAM_COLUMNS = PARAM_COLUMNS
#: The derived learning targets added to a parameter table.
TARGET_COLUMNS = TARGET_COLUMNS
#: Echo ids of kernel code ``k`` are ``k * ECHO_ID_STRIDE + j``.
ECHO_ID_STRIDE = ECHO_ID_STRIDE
#: Every keyword range of :class:`Prior` (and so of :func:`sample_prior`,
#: :func:`check_prior`, :meth:`sknmr.EchoSimulator.sample` and
#: :func:`sknmr.datasets.make_echoes`).
PRIOR_SETTINGS = PRIOR_SETTINGS

__all__ = [
    "ECHO_ID_STRIDE",
    "PAPER_PRIOR",
    "PARAM_COLUMNS",
    "PRIOR_SETTINGS",
    "TARGET_COLUMNS",
    "Prior",
    "add_targets",
    "check_count",
    "check_kernels",
    "check_prior",
    "draw_extras",
    "draw_params",
    "draw_table",
    "kernel_code",
    "prior_echo_ids",
    "sample_prior",
    "split_counts",
]
