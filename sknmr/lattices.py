"""Periodic Bravais lattices of nuclei: square, triangular, layered, cubic.

A :class:`Lattice` is a set of primitive vectors ``a_1 .. a_d`` (``d`` = 2 or
3, in units of the nearest-neighbour distance, or as given) and the number of
cells along each, ``shape``. The site of cell index ``(i_1, .., i_d)`` sits at
``r = sum_k i_k a_k``, one nucleus per cell, and the lattice is periodic along
every vector. Arrays over the lattice (offsets, spins, kernels) have shape
``lattice.shape``, indexed by cell.

Conventions:

* The displacement of cell index ``i`` from cell 0 is the real-space vector to
  the *nearest* periodic image of that cell: the shortest of
  ``sum_k (m_k + s_k n_k) a_k`` over ``s_k`` in ``{-1, 0, 1}``, where
  ``m_k`` is the wrapped index in ``(-n_k/2, n_k/2]``. On a skewed cell
  (triangular, oblique) wrapping the indices alone is not the nearest image.
  Ties keep the wrapped index (``s = 0``) first, then the first shorter image
  in the order of the search; for the square lattice this is the convention
  of :mod:`sknmr.kernels` (``dx`` in ``(-n/2, n/2]``).
* :meth:`Lattice.cell_offsets` gives the integer offsets ``m + s n`` of those
  images (the staggered sign of a kernel is ``(-1) ** sum(offsets)``).
* Angular weights of kernels are measured in the plane of ``a_1`` and
  ``a_2``, from ``a_1``: see :meth:`Lattice.plane_coordinates`.

Examples
--------
>>> from sknmr.lattices import Lattice
>>> lat = Lattice.triangular(8)
>>> lat
Lattice(vectors=((1.0, 0.0), (0.5, 0.8660254037844386)), shape=(8, 8))
>>> lat.n_sites, lat.ndim
(64, 2)
>>> d = lat.displacements()
>>> d.shape
(8, 8, 2)
>>> print(f"{np.hypot(*d[0, 7]):.3f}")  # cell (0, -1): a nearest neighbour
1.000
>>> Lattice.from_dict(lat.to_dict()) == lat
True
"""

import itertools
import math
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["LATTICE_NAMES", "Lattice", "LatticeRangeWarning", "resolve_lattice"]

#: Names accepted by :meth:`Lattice.from_name` (and the simulator's
#: ``lattice``), each with ``n`` cells along every vector.
LATTICE_NAMES = ("square", "triangular", "cubic")

# Cells along one vector: at least 2 (with 1 a site is its own neighbour).
_CELLS = [Interval(Integral, 2, None, closed="left")]

# Below this |det| (relative to the product of the vectors' lengths) the
# vectors are taken as collinear / coplanar.
_DEGENERATE = 1e-9
# Images closer than this (relative) count as equally near: the tie-break
# then keeps the earlier one, so rounding cannot flip it.
_TIE = 1e-12


class LatticeRangeWarning(UserWarning):
    """A kernel's length exceeds half the lattice's smallest periodic extent.

    Each spin then couples to its own periodic images through the kernel's
    range. :meth:`sknmr.EchoSimulator.simulate` warns with it, once a call,
    for the gaussian's ``xi`` and the uniform ``radius`` of its table (the
    power and rkky kernels' power-law tails reach round any lattice by
    design); a larger lattice removes it.

    Examples
    --------
    >>> import warnings
    >>> from sknmr import EchoSimulator
    >>> sim = EchoSimulator(lattice_size=8, tau=1.0, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = sim.simulate({"kernel": "gaussian", "length": 6.0,
    ...                       "alpha_xy": 0.05, "alpha_z": 0.0})
    >>> [w.category.__name__ for w in caught]
    ['LatticeRangeWarning']
    """


def _check_shape(shape, ndim):
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        raise TypeError(
            f"shape must be a sequence of {ndim} integers >= 2 (cells along each "
            f"vector); got the single integer {shape}."
        )
    try:
        cells = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be a sequence of {ndim} integers >= 2; got "
            f"{type(shape).__name__}."
        ) from None
    if len(cells) != ndim:
        raise ValueError(
            f"shape must have one entry per lattice vector ({ndim}); got {cells!r}."
        )
    for n in cells:
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 2:
            raise ValueError(
                f"shape must hold integers >= 2 (cells along each vector); got "
                f"{cells!r}."
            )
    return tuple(int(n) for n in cells)


def _check_vectors(vectors):
    try:
        rows = np.asarray(vectors, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"vectors must be 2 vectors of 2 numbers or 3 vectors of 3 numbers; "
            f"got {vectors!r}."
        ) from None
    if rows.ndim != 2 or rows.shape[0] not in (2, 3) or rows.shape[1] != rows.shape[0]:
        raise ValueError(
            "vectors must be 2 vectors of 2 components (a 2-D lattice) or 3 vectors "
            f"of 3 components (a 3-D lattice); got an array of shape {rows.shape}."
        )
    if not np.isfinite(rows).all():
        raise ValueError(f"vectors must be finite; got {rows.tolist()}.")
    lengths = np.linalg.norm(rows, axis=1)
    if np.any(lengths == 0):
        raise ValueError(f"vectors must be non-zero; got {rows.tolist()}.")
    if abs(np.linalg.det(rows)) <= _DEGENERATE * np.prod(lengths):
        kind = "collinear" if rows.shape[0] == 2 else "coplanar"
        raise ValueError(
            f"vectors are {kind} (a degenerate cell, zero volume); got {rows.tolist()}."
        )
    return tuple(tuple(float(x) for x in row) for row in rows)


class Lattice:
    """A periodic Bravais lattice: primitive vectors and cells along each.

    Immutable and hashable, equal by value (usable as a cache key); it
    round-trips through :meth:`to_dict` / :meth:`from_dict` (JSON-safe).

    Parameters
    ----------
    vectors : sequence of 2 or 3 sequences of float
        Primitive vectors ``a_k``: two 2-component ones (a 2-D lattice) or
        three 3-component ones (3-D), in units of the nearest-neighbour
        distance (or as given); not collinear (coplanar).
    shape : sequence of int
        Cells along each vector, each >= 2; the lattice is periodic along
        every vector.

    Attributes
    ----------
    vectors : tuple of tuple of float
    shape : tuple of int
    ndim : int
        2 or 3.
    n_sites : int
        Number of nuclei, the product of ``shape``.

    See Also
    --------
    sknmr.kernels.kernel_on_lattice : Kernel values on a lattice.

    Examples
    --------
    >>> Lattice([[1, 0], [0, 2]], (4, 3))
    Lattice(vectors=((1.0, 0.0), (0.0, 2.0)), shape=(4, 3))
    >>> Lattice.tetragonal(4, 3, c=2.0).shape
    (4, 4, 3)
    >>> Lattice([[1, 0], [2, 0]], (4, 4))
    Traceback (most recent call last):
    ...
    ValueError: vectors are collinear (a degenerate cell, zero volume); ...
    """

    __slots__ = ("_shape", "_vectors")

    def __init__(self, vectors, shape):
        vectors = _check_vectors(vectors)
        object.__setattr__(self, "_vectors", vectors)
        object.__setattr__(self, "_shape", _check_shape(shape, len(vectors)))

    def __setattr__(self, name, value):
        raise AttributeError("Lattice is immutable.")

    def __reduce__(self):
        return (type(self), (self._vectors, self._shape))

    @property
    def vectors(self):
        return self._vectors

    @property
    def shape(self):
        return self._shape

    @property
    def ndim(self):
        return len(self._shape)

    @property
    def n_sites(self):
        return math.prod(self._shape)

    def __eq__(self, other):
        if not isinstance(other, Lattice):
            return NotImplemented
        return self._vectors == other._vectors and self._shape == other._shape

    def __hash__(self):
        return hash((Lattice, self._vectors, self._shape))

    def __repr__(self):
        return f"Lattice(vectors={self._vectors!r}, shape={self._shape!r})"

    # -- constructors --------------------------------------------------------
    @classmethod
    @validate_params({"n": _CELLS}, prefer_skip_nested_validation=True)
    def square(cls, n):
        """The ``n x n`` square lattice of unit spacing (the default model).

        Examples
        --------
        >>> Lattice.square(4)
        Lattice(vectors=((1.0, 0.0), (0.0, 1.0)), shape=(4, 4))
        """
        return cls(((1.0, 0.0), (0.0, 1.0)), (n, n))

    @classmethod
    @validate_params({"n": _CELLS}, prefer_skip_nested_validation=True)
    def triangular(cls, n):
        """The ``n x n``-cell triangular lattice: ``a_2`` at 60 degrees from ``a_1``.

        Every site has 6 nearest neighbours at distance 1.

        Examples
        --------
        >>> Lattice.triangular(6).vectors[1]
        (0.5, 0.8660254037844386)
        """
        return cls(((1.0, 0.0), (0.5, math.sqrt(3.0) / 2.0)), (n, n))

    @classmethod
    @validate_params({"n1": _CELLS, "n2": _CELLS}, prefer_skip_nested_validation=True)
    def rectangular(cls, n1, n2, ratio):
        """``n1 x n2`` cells of sides 1 (along ``a_1``) and ``ratio`` (``a_2``).

        Examples
        --------
        >>> Lattice.rectangular(4, 6, 1.5)
        Lattice(vectors=((1.0, 0.0), (0.0, 1.5)), shape=(4, 6))
        """
        _check_positive(ratio, "ratio")
        return cls(((1.0, 0.0), (0.0, float(ratio))), (n1, n2))

    @classmethod
    @validate_params({"n": _CELLS}, prefer_skip_nested_validation=True)
    def cubic(cls, n):
        """The ``n x n x n`` simple cubic lattice of unit spacing.

        Examples
        --------
        >>> Lattice.cubic(3).n_sites
        27
        """
        return cls(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), (n, n, n))

    @classmethod
    @validate_params(
        {"n": _CELLS, "n_layers": _CELLS}, prefer_skip_nested_validation=True
    )
    def tetragonal(cls, n, n_layers, c):
        """``n_layers`` square ``n x n`` layers stacked at spacing ``c``.

        Examples
        --------
        >>> Lattice.tetragonal(8, 2, c=3.0).vectors[2]
        (0.0, 0.0, 3.0)
        """
        _check_positive(c, "c")
        return cls(
            ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, float(c))),
            (n, n, n_layers),
        )

    @classmethod
    @validate_params(
        {"name": [StrOptions(set(LATTICE_NAMES))], "n": _CELLS},
        prefer_skip_nested_validation=True,
    )
    def from_name(cls, name, n):
        """A lattice from its name, with ``n`` cells along each vector.

        Parameters
        ----------
        name : {"square", "triangular", "cubic"}
        n : int

        Examples
        --------
        >>> Lattice.from_name("cubic", 4).shape
        (4, 4, 4)
        """
        return getattr(cls, name)(n)

    # -- serialisation -------------------------------------------------------
    def to_dict(self):
        """A JSON-safe description: ``{"vectors": [[...], ...], "shape": [...]}``.

        Examples
        --------
        >>> Lattice.square(3).to_dict()
        {'vectors': [[1.0, 0.0], [0.0, 1.0]], 'shape': [3, 3]}
        """
        return {
            "vectors": [list(row) for row in self._vectors],
            "shape": list(self._shape),
        }

    @classmethod
    def from_dict(cls, data):
        """The lattice :meth:`to_dict` described.

        Examples
        --------
        >>> Lattice.from_dict({"vectors": [[1, 0], [0, 1]], "shape": [3, 3]})
        Lattice(vectors=((1.0, 0.0), (0.0, 1.0)), shape=(3, 3))
        """
        if not isinstance(data, dict) or set(data) != {"vectors", "shape"}:
            raise ValueError(
                "A lattice's dict must have exactly the keys 'vectors' and "
                f"'shape'; got {data!r}."
            )
        return cls(data["vectors"], data["shape"])

    # -- geometry ------------------------------------------------------------
    def square_size(self):
        """``n`` when this is the ``n x n`` unit square lattice, else None.

        Examples
        --------
        >>> Lattice.square(5).square_size(), Lattice.triangular(5).square_size()
        (5, None)
        """
        if (
            self._vectors == ((1.0, 0.0), (0.0, 1.0))
            and self._shape[0] == (self._shape[1])
        ):
            return self._shape[0]
        return None

    def displacements(self):
        """Real-space displacement of every cell from cell 0, to its nearest image.

        Returns
        -------
        d : ndarray of shape (*shape, ndim)
            ``d[i]`` is the shortest vector from the site of cell 0 to a
            periodic image of the site of cell ``i`` (see the module's
            conventions); zero at index 0. Read-only and cached.

        Examples
        --------
        >>> Lattice.square(4).displacements()[:, 0, 0]
        array([ 0.,  1.,  2., -1.])
        """
        return _nearest_images(self)[1]

    def cell_offsets(self):
        """Integer cell offsets of the nearest images of :meth:`displacements`.

        Returns
        -------
        m : ndarray of int64, shape (*shape, ndim)
            ``displacements() == m @ vectors``. Read-only and cached.

        Examples
        --------
        >>> Lattice.square(4).cell_offsets()[:, 0, 0]
        array([ 0,  1,  2, -1])
        """
        return _nearest_images(self)[0]

    def distances(self):
        """Distance from site 0 to the nearest image of every site.

        Examples
        --------
        >>> Lattice.square(4).distances()[0]
        array([0., 1., 2., 1.])
        """
        return np.linalg.norm(self.displacements(), axis=-1)

    def plane_coordinates(self):
        """Coordinates ``(u, v)`` of every displacement in the plane of ``a_1, a_2``.

        ``u`` is along ``a_1`` and ``v`` perpendicular to it, towards ``a_2``;
        the angle ``theta = atan2(v, u)`` is that of the angular weights of
        the kernels. Rotating all the vectors together leaves ``(u, v)``
        unchanged.

        Returns
        -------
        u, v : ndarray of shape (*shape,)

        Examples
        --------
        >>> u, v = Lattice.triangular(4).plane_coordinates()
        >>> print(f"{u[0, 1]:.2f} {v[0, 1]:.3f}")
        0.50 0.866
        """
        a1, a2 = (np.asarray(a) for a in self._vectors[:2])
        e1 = a1 / np.linalg.norm(a1)
        perpendicular = a2 - (a2 @ e1) * e1
        e2 = perpendicular / np.linalg.norm(perpendicular)
        d = self.displacements()
        return d @ e1, d @ e2


def _check_positive(value, name):
    # by hand: sklearn's Interval(Real, ...) would take a bool
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}.")


@lru_cache(maxsize=16)
def _nearest_images(lattice):
    vectors = np.asarray(lattice.vectors)
    grids = []
    for n in lattice.shape:
        index = np.arange(n)
        grids.append(np.where(index <= n // 2, index, index - n))
    wrapped = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1)
    best = wrapped
    best_d = wrapped @ vectors
    best_r2 = (best_d**2).sum(axis=-1)
    cells = np.asarray(lattice.shape)
    for shift in itertools.product((0, -1, 1), repeat=lattice.ndim):
        if not any(shift):
            continue
        offsets = wrapped + np.asarray(shift) * cells
        d = offsets @ vectors
        r2 = (d**2).sum(axis=-1)
        shorter = r2 < best_r2 * (1.0 - _TIE)
        best = np.where(shorter[..., None], offsets, best)
        best_d = np.where(shorter[..., None], d, best_d)
        best_r2 = np.where(shorter, r2, best_r2)
    best = best.astype(np.int64)
    best.setflags(write=False)
    best_d.setflags(write=False)
    return best, best_d


@validate_params(
    {"lattice": [Lattice, StrOptions(set(LATTICE_NAMES)), None]},
    prefer_skip_nested_validation=True,
)
def resolve_lattice(lattice, lattice_size):
    """The :class:`Lattice` a simulator's ``lattice`` and ``lattice_size`` mean.

    Parameters
    ----------
    lattice : Lattice, str or None
        A lattice (``lattice_size`` is then not used), a name from
        :data:`LATTICE_NAMES` with ``lattice_size`` cells along each vector,
        or None for the ``lattice_size x lattice_size`` square lattice.
    lattice_size : int

    Examples
    --------
    >>> resolve_lattice(None, 8) == Lattice.square(8)
    True
    >>> resolve_lattice("triangular", 6).shape
    (6, 6)
    """
    if isinstance(lattice, Lattice):
        return lattice
    if lattice is None:
        return Lattice.square(lattice_size)
    return Lattice.from_name(lattice, lattice_size)
