"""The prior as an object: :class:`Prior`, and the functions that build one."""

import copy
from numbers import Integral

from .._paper import PAPER_PRIOR
from ..kernels import KERNELS
from ..lattices import Lattice
from ..utils._random import check_seed
from ..utils._resources import check_fits_in_memory
from ._sampling import (
    PRIOR_SETTINGS,
    _resolve,
    add_targets,
    check_count,
    check_kernels,
    draw_table,
    split_counts,
)

__all__ = ["Prior", "check_prior", "sample_prior"]

_BYTES_PER_ROW = 200  # a parameter table's row with its targets, generously


def _check_lattice(lattice_size):
    """The lattice ``L`` is computed on: a square side (int >= 2) or a Lattice."""
    if not isinstance(lattice_size, Lattice) and (
        isinstance(lattice_size, bool)
        or not isinstance(lattice_size, Integral)
        or lattice_size < 2
    ):
        raise ValueError(
            f"lattice_size must be an int >= 2 or a Lattice; got {lattice_size!r}."
        )


class Prior:
    """The prior over interaction parameters: kernels and ranges, checked.

    The one place the prior's ranges are written: :func:`sample_prior`,
    :func:`check_prior`, :meth:`sknmr.EchoSimulator.sample` and
    :func:`sknmr.datasets.make_echoes` take the same keywords and build a
    ``Prior`` from them. With the defaults it is the paper's prior.

    Parameters
    ----------
    kernels : sequence of str, default=("gaussian", "power", "rkky")
        Names from :func:`sknmr.kernels.available_kernels`.
    alpha_xy : (float, float) or None, default=None
        Uniform range of the in-plane coupling (MHz), ``alpha_x = alpha_y =
        alpha_xy``. None means the paper's, (0.01, 0.1), unless ``alpha_x``
        and ``alpha_y`` are given; giving it with them is an error.
    alpha_z : (float, float), default=(0.01, 0.1)
        Uniform range of the out-of-plane coupling (MHz).
    lengths : dict, default=None
        Range of each kernel's length parameter; the paper's kernels
        default to the paper's ranges, the others have none and must be given.
    W : (float, float), default=(0.1, 0.3)
        Window (MHz) of ``W = 2 alpha_xy + alpha_z`` (``alpha_x + alpha_y +
        alpha_z``) a draw must land in.
    alpha_x, alpha_y : (float, float) or None, default=None
        Give both to draw the in-plane couplings separately, each uniform in
        its range (MHz).
    t1, t2 : (float, float) or None, default=None
        Uniform ranges (us, > 0) of per-echo relaxation times. With both,
        pairs with ``t2 > 2 t1`` are redrawn; ranges where that is hopeless
        are refused.
    linewidth : (float, float) or None, default=None
        Range (MHz, > 0) of each echo's linewidth, the full width at half
        maximum of its offsets, drawn log-uniformly (a scale: e.g. (0.02, 0.2)
        gives as many echoes in each half-decade); it overrides the
        simulator's ``linewidth`` for that echo.
    kernel_params : dict or None, default=None
        Kernel parameter name -> ``(low, high)``: drawn uniformly for every
        echo whose kernel takes the parameter
        (:func:`sknmr.kernels.kernel_parameters`). ``staggered`` (0 or 1)
        takes a probability instead: each echo's kernel is staggered with it.

    Attributes
    ----------
    kernels : tuple of str
    ranges : dict
        The resolved ranges: ``alpha_xy`` (or ``alpha_x`` and ``alpha_y``),
        ``alpha_z``, ``lengths`` (each of ``kernels``), ``W``, then ``t1``,
        ``t2``, ``linewidth`` and ``kernel_params`` when given, as lists
        (JSON-able).
    acceptance : float
        The fraction of uniform draws whose ``W`` lands in the window.

    Examples
    --------
    >>> from sknmr.prior import Prior, sample_prior
    >>> prior = Prior(("gaussian", "power"), t2=(20.0, 40.0))
    >>> prior.ranges["lengths"]
    {'gaussian': [8.0, 32.0], 'power': [1.0, 3.0]}
    >>> table = prior.sample(4, lattice_size=10, random_state=0)
    >>> table.equals(sample_prior(4, ("gaussian", "power"), t2=(20.0, 40.0),
    ...                           lattice_size=10, random_state=0))
    True
    >>> Prior.from_dict(prior.to_dict()) == prior
    True
    >>> Prior() == Prior(alpha_xy=(0.01, 0.1))
    True
    """

    def __init__(
        self,
        kernels=KERNELS,
        *,
        alpha_xy=None,
        alpha_z=PAPER_PRIOR["alpha_z"],
        lengths=None,
        W=PAPER_PRIOR["W"],
        alpha_x=None,
        alpha_y=None,
        t1=None,
        t2=None,
        kernel_params=None,
        linewidth=None,
    ):
        self.kernels = check_kernels(kernels)
        self.ranges, self.acceptance = _resolve(
            self.kernels,
            alpha_xy=alpha_xy,
            alpha_z=alpha_z,
            lengths=lengths,
            W=W,
            alpha_x=alpha_x,
            alpha_y=alpha_y,
            t1=t1,
            t2=t2,
            kernel_params=kernel_params,
            linewidth=linewidth,
        )

    @classmethod
    def from_settings(cls, kernels=KERNELS, settings=None, *, caller="the prior"):
        """A prior from a dict of range keywords, unknown ones refused.

        Examples
        --------
        >>> Prior.from_settings(settings={"alpha_xz": (0.0, 0.1)})
        Traceback (most recent call last):
        ...
        TypeError: the prior got unknown settings ['alpha_xz']; ...
        """
        settings = {} if settings is None else dict(settings)
        unknown = sorted(set(settings) - set(PRIOR_SETTINGS))
        if unknown:
            raise TypeError(
                f"{caller} got unknown settings {unknown}; the prior takes "
                f"{', '.join(PRIOR_SETTINGS)}."
            )
        return cls(kernels, **settings)

    def to_dict(self):
        """The prior as a JSON-able dict: ``kernels`` and the resolved ranges."""
        return {"kernels": list(self.kernels), **copy.deepcopy(self.ranges)}

    @classmethod
    def from_dict(cls, d):
        """The prior :meth:`to_dict` gave (checked again)."""
        d = dict(d)
        kernels = d.pop("kernels", KERNELS)
        return cls.from_settings(kernels, d, caller="Prior.from_dict")

    def __eq__(self, other):
        if not isinstance(other, Prior):
            return NotImplemented
        return self.kernels == other.kernels and self.ranges == other.ranges

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        ranges = ", ".join(f"{k}={v!r}" for k, v in self.ranges.items())
        return f"Prior({self.kernels!r}, {ranges})"

    def draw(self, seed, counts):
        """The parameter table of ``counts[i]`` echoes of each kernel, and ids.

        See :func:`sknmr.prior.draw_table`; ``seed`` is an int.
        """
        return draw_table(seed, self.kernels, counts, self.ranges, self.acceptance)

    def sample(self, n_samples, *, lattice_size=100, random_state=None):
        """Draw ``n_samples`` parameter sets, split evenly over the kernels.

        The table :func:`sample_prior` returns (the same rows for the same
        seed); ``L`` is computed on ``lattice_size``.
        """
        n_samples = check_count(n_samples, "n_samples")
        _check_lattice(lattice_size)
        seed = check_seed(random_state)
        check_fits_in_memory(
            n_samples * _BYTES_PER_ROW,
            f"drawing {n_samples} parameter sets",
            "n_samples",
        )
        table, _ = self.draw(seed, split_counts(n_samples, self.kernels))
        return add_targets(table, lattice_size)


def check_prior(kernels=KERNELS, **ranges):
    """Validate prior ranges; return them as plain lists, and the W acceptance.

    The ranges of a :class:`Prior` as a dict.

    Parameters
    ----------
    kernels : sequence of str, default=("gaussian", "power", "rkky")
        Names from :func:`sknmr.kernels.available_kernels`.
    **ranges
        The range keywords of :class:`Prior` (``alpha_xy``, ``alpha_z``,
        ``lengths``, ``W``, ``alpha_x``, ``alpha_y``, ``t1``, ``t2``,
        ``linewidth``, ``kernel_params``), with the same meaning and defaults.

    Returns
    -------
    prior : dict
        ``alpha_xy`` (or ``alpha_x`` and ``alpha_y``), ``alpha_z``, ``W`` as
        ``[low, high]`` and ``lengths`` mapping each of ``kernels`` to its
        ``[low, high]``; then ``t1``, ``t2``, ``linewidth`` and
        ``kernel_params`` when given (JSON-able). With the defaults it is
        exactly the paper's prior.
    acceptance : float
        The fraction of uniform draws whose ``W`` lands in the window.

    Examples
    --------
    >>> prior, acceptance = check_prior()
    >>> prior["alpha_xy"], prior["W"]
    ([0.01, 0.1], [0.1, 0.3])
    >>> prior, _ = check_prior(("gaussian", "uniform"), alpha_x=(0.0, 0.1),
    ...                        alpha_y=(0.0, 0.1), t1=(50.0, 100.0),
    ...                        lengths={"uniform": (1.0, 3.0)},
    ...                        kernel_params={"exponent": (1.0, 3.0),
    ...                                       "staggered": 0.5})
    >>> list(prior)
    ['alpha_x', 'alpha_y', 'alpha_z', 'lengths', 'W', 't1', 'kernel_params']
    >>> prior["kernel_params"]
    {'exponent': [1.0, 3.0], 'staggered': 0.5}
    >>> check_prior(alpha_xy=(0.01, 0.1), alpha_x=(0.0, 0.1), alpha_y=(0.0, 0.1))
    Traceback (most recent call last):
    ...
    ValueError: Give either alpha_xy or both alpha_x and alpha_y, not both; ...
    """
    prior = Prior.from_settings(kernels, ranges, caller="check_prior()")
    return copy.deepcopy(prior.ranges), prior.acceptance


def sample_prior(
    n_samples, kernels=KERNELS, *, lattice_size=100, random_state=None, **ranges
):
    """Draw interaction parameters from the prior (by default the paper's).

    Parameters
    ----------
    n_samples : int
        Total number of parameter sets, split evenly over ``kernels``
        (see :func:`split_counts`); rows are grouped kernel by kernel.
    kernels : sequence of str, default=("gaussian", "power", "rkky")
        Names from :func:`sknmr.kernels.available_kernels`; kernels other
        than the paper's three need their range in ``lengths``.
    alpha_xy : (float, float) or None, default=None
        Uniform range of the in-plane coupling (MHz); None means the paper's,
        (0.01, 0.1), unless ``alpha_x`` and ``alpha_y`` are given (giving it
        with them is an error).
    alpha_z : (float, float), default=(0.01, 0.1)
        Uniform range of the out-of-plane coupling (MHz).
    lengths : dict, default=None
        Range of each kernel's length parameter; the paper's kernels missing
        from it take the paper's range (``PAPER_PRIOR["length"]``).
    W : (float, float), default=(0.1, 0.3)
        Window of ``W = 2 alpha_xy + alpha_z`` (``alpha_x + alpha_y +
        alpha_z``) (MHz) a draw must land in.
    alpha_x, alpha_y : (float, float) or None, default=None
        Give both to draw the in-plane couplings separately (MHz): the table
        then has ``alpha_x`` and ``alpha_y`` columns instead of ``alpha_xy``.
    t1, t2 : (float, float) or None, default=None
        Uniform ranges (us) of per-echo relaxation times, added as columns.
        With both, pairs with ``t2 > 2 t1`` are redrawn.
    linewidth : (float, float) or None, default=None
        Range (MHz, > 0) of per-echo linewidths, drawn log-uniformly and added
        as the column ``linewidth``.
    kernel_params : dict or None, default=None
        Kernel parameter name -> ``(low, high)``, drawn uniformly for the
        rows whose kernel takes it (:func:`sknmr.kernels.kernel_parameters`)
        and NaN on the others; ``staggered`` takes the probability that a
        row's kernel is staggered (1) rather than not (0).
    lattice_size : int or Lattice, default=100
        Lattice on which ``L`` is computed.
    random_state : int, RandomState, Generator or None
        Seed of the draw: row ``j`` of kernel ``k`` comes from its own streams
        of this seed (see the module's description), so the same seed gives
        the same rows as :func:`sknmr.datasets.make_echoes`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``kernel, length, alpha_xy, alpha_z`` (or ``alpha_x,
        alpha_y`` for ``alpha_xy``), the drawn ``t1``, ``t2``, ``linewidth``
        and kernel parameters, then ``W, L, power``.

    Examples
    --------
    >>> t = sample_prior(3, ("power",), t1=(50.0, 60.0), t2=(80.0, 120.0),
    ...                  lattice_size=10, random_state=0)
    >>> list(t.columns)
    ['kernel', 'length', 'alpha_xy', 'alpha_z', 't1', 't2', 'W', 'L', 'power']
    >>> bool((t["t2"] <= 2 * t["t1"]).all())
    True
    >>> t = sample_prior(2, ("uniform",), lengths={"uniform": (1.0, 1.3)},
    ...                  kernel_params={"staggered": 0.5}, lattice_size=10,
    ...                  random_state=0)
    >>> t["kernel"].tolist(), sorted(set(t["staggered"]) - {0.0, 1.0})
    (['uniform', 'uniform'], [])
    >>> t = sample_prior(4, linewidth=(0.02, 0.2), lattice_size=10,
    ...                  random_state=0)
    >>> list(t.columns)
    ['kernel', 'length', 'alpha_xy', 'alpha_z', 'linewidth', 'W', 'L', 'power']
    >>> bool(t["linewidth"].between(0.02, 0.2).all())
    True
    """
    n_samples = check_count(n_samples, "n_samples")
    _check_lattice(lattice_size)
    prior = Prior.from_settings(kernels, ranges, caller="sample_prior()")
    return prior.sample(n_samples, lattice_size=lattice_size, random_state=random_state)
