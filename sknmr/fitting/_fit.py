"""fit_echo: the continuous parameters of one kernel class from one echo."""

import numpy as np
from scipy.optimize import brentq, least_squares, minimize
from scipy.stats import norm

from .._paper import PAPER_PRIOR
from ..kernels import kernel_parameters
from ..prior import sample_prior
from ..utils._random import check_seed, derive_seed
from ._data import as_experiments
from ._model import DETECTIONS, EchoModel, check_simulators, gain_basis
from ._profile import profile
from ._result import EchoFit

__all__ = ["INTERVALS", "fit_echo"]

# Candidates drawn from the prior and scored in one batch before the best few
# are refined.
_N_CANDIDATES = 12
# A search whose residual noise and disorder explain this well (misfit) is
# taken without trying the other starts: another minimum could not fit
# measurably better.
_GOOD_MISFIT = 1.25
#: How fit_echo makes its intervals.
INTERVALS = ("laplace", "profile")


def _stack(y, detection):
    return y if detection == "magnitude" else np.concatenate([y.real, y.imag])


def _stack_mask(mask, detection):
    return mask if detection == "magnitude" else np.concatenate([mask, mask])


class _Problem:
    """Whitened residuals with the receiver's gain and phase profiled out."""

    def __init__(self, model, data, masks, sigmas, speculate=True):
        self.model = model
        # Simulate the Jacobian's batch with every residual: the rows of one
        # batch cost far less than separate calls, and the trust-region
        # search asks for the Jacobian wherever it accepts a step (most).
        self.speculate = speculate
        det = model.detection
        self.keep = [_stack_mask(m, det) for m in masks]
        self.targets = [
            _stack(y, det)[k] / s
            for y, k, s in zip(data, self.keep, sigmas, strict=True)
        ]
        self.sigmas = sigmas
        self.n_evaluations = 0
        self._cache = {}

    def _parts(self, values):
        """Per experiment: the whitened basis and the least-squares coefficients."""
        det = self.model.detection
        out = []
        for v, keep, b, s in zip(
            values, self.keep, self.targets, self.sigmas, strict=True
        ):
            A = gain_basis(v, det)[keep] / s
            beta = np.linalg.lstsq(A, b, rcond=None)[0]
            out.append((A, beta))
        return out

    def residuals_of(self, values):
        return np.concatenate(
            [
                b - A @ beta
                for (A, beta), b in zip(self._parts(values), self.targets, strict=True)
            ]
        )

    def _evaluate(self, u, jacobian):
        key = u.tobytes()
        if (key, jacobian) in self._cache:
            return self._cache[(key, jacobian)]
        theta = self.model.to_natural(u)
        self.n_evaluations += 1
        jacobian = jacobian or self.speculate
        if jacobian:
            values, jacs = self.model.jacobian(theta)
        else:
            values, jacs = self.model.echoes(theta), None
        r = self.residuals_of(values)
        out = (r, values, jacs)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[(key, False)] = out
        if jacobian:
            self._cache[(key, True)] = out
        return out

    def chi2(self, u):
        """The noise-whitened sum of squares at ``u``."""
        r = self.residuals(u)
        return float(r @ r)

    def loss_and_gradient(self, u):
        """Half the profiled sum of squares and its gradient, by torch autograd."""
        import torch

        det = self.model.detection
        self.n_evaluations += 1
        ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
        loss = 0.0
        for v, keep, b, s in zip(
            self.model.torch_echoes(ut),
            self.keep,
            self.targets,
            self.sigmas,
            strict=True,
        ):
            if det == "magnitude":
                A = v[:, None]
            else:
                A = torch.cat([v.real, v.imag])[:, None]
                if det == "phase-blind":
                    turned = torch.cat([-v.imag, v.real])[:, None]
                    A = torch.cat([A, turned], dim=1)
            mask = torch.as_tensor(keep)
            A = A[mask] / s
            bt = torch.as_tensor(b)
            beta = torch.linalg.lstsq(A, bt[:, None]).solution
            loss = loss + 0.5 * torch.sum((bt - (A @ beta)[:, 0]) ** 2)
        loss.backward()
        return float(loss.detach()), ut.grad.numpy().copy()

    def residuals(self, u):
        return self._evaluate(np.asarray(u, dtype=np.float64), False)[0]

    def projected_jacobian(self, values, jacs, u):
        """Jacobian of the profiled residuals in optimizer coordinates.

        The derivative of the model with the gain held at its optimum,
        projected off the span of the gain's columns (variable projection):
        exact to first order at the optimum, which is what the covariance
        needs.
        """
        det = self.model.detection
        blocks = []
        for (A, beta), J, keep, s in zip(
            self._parts(values), jacs, self.keep, self.sigmas, strict=True
        ):
            D = np.column_stack(
                [(gain_basis(J[:, i], det)[keep] / s) @ beta for i in range(J.shape[1])]
            )
            D -= A @ np.linalg.lstsq(A, D, rcond=None)[0]
            blocks.append(-D)
        theta = self.model.to_natural(u)
        chain = np.where(self.model.log, theta, 1.0)
        return np.vstack(blocks) * chain

    def jacobian(self, u):
        u = np.asarray(u, dtype=np.float64)
        _, values, jacs = self._evaluate(u, True)
        return self.projected_jacobian(values, jacs, u)

    def fitted(self, values):
        """The model's echoes with the fitted gain (and phase), per experiment."""
        det = self.model.detection
        out, gains = [], []
        for (_, beta), v in zip(self._parts(values), values, strict=True):
            gain = complex(beta[0]) if det != "phase-blind" else beta[0] + 1j * beta[1]
            gains.append(gain)
            out.append(v * (gain.real if det == "magnitude" else gain))
        return out, gains

    def deviations(self, draws, values):
        """Whitened residual changes from the fit's disorder to other draws."""
        det = self.model.detection
        parts = self._parts(values)
        out = []
        for draw in draws:
            out.append(
                np.concatenate(
                    [
                        (gain_basis(v, det)[keep] / s) @ beta
                        for v, keep, s, (_, beta) in zip(
                            draw, self.keep, self.sigmas, parts, strict=True
                        )
                    ]
                )
            )
        out = np.array(out)
        return out - out.mean(axis=0)


def _start_from_model(model, estimator, echo, simulators):
    """A start from a fitted EchoInference's estimates of the (first) echo."""
    first = echo if not isinstance(echo, list | tuple) else echo[0]
    X = first if not isinstance(first, np.ndarray) else np.abs(first)[None]
    table = estimator.predict(X)
    row = table.iloc[0]
    start = {}
    for name in ("alpha_xy", "alpha_z"):
        if name in row:
            start[name] = float(row[name])
    if "alpha_xy" not in start and "W" in row:
        start["alpha_xy"] = max(0.5 * (row["W"] - start.get("alpha_z", 0.0)), 1e-3)
    if "L" in row and "length" in model.parameters:
        low, high = model.bounds["length"]
        target = float(row["L"])
        f = lambda x: model.length_scale(x) - target  # noqa: E731
        try:
            start["length"] = brentq(f, low, high, xtol=1e-3)
        except ValueError:  # L outside what the box reaches: its nearer end
            start["length"] = low if abs(f(low)) < abs(f(high)) else high
    for name in ("alpha_x", "alpha_y"):
        if name in model.parameters and "alpha_xy" in start:
            start[name] = start["alpha_xy"]
    return start


def _vector(model, start):
    """A parameter vector from a dict of values, the rest at their defaults."""
    theta = model.middle()
    sim = model.simulators[0]
    defaults = kernel_parameters(model.kernel)
    for k, name in enumerate(model.parameters):
        if name in start:
            theta[k] = start[name]
        elif name == "linewidth":
            theta[k] = sim.linewidth
        elif name == "t2" and sim.t2 is not None:
            theta[k] = sim.t2
        elif name in defaults:
            theta[k] = defaults[name]
    return model.clip(theta)


def _candidates(model, seed):
    """Parameter vectors drawn from the paper's prior for this kernel."""
    if model.kernel not in PAPER_PRIOR["length"]:
        return [model.middle()]
    table = sample_prior(
        _N_CANDIDATES,
        kernels=(model.kernel,),
        lattice_size=model.lattice(),
        random_state=seed,
    )
    starts = []
    for _, row in table.iterrows():
        start = {k: float(row[k]) for k in ("length", "alpha_xy", "alpha_z")}
        start["alpha_x"] = start["alpha_y"] = start["alpha_xy"]
        starts.append(_vector(model, start))
    return starts


def _check_options(
    confidence, n_starts, disorder_draws, disorder_factor, max_iter, interval
):
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}.")
    if not isinstance(interval, str) or interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}; got {interval!r}.")
    for name, value, low in (
        ("n_starts", n_starts, 1),
        ("disorder_draws", disorder_draws, 0),
        ("max_iter", max_iter, 1),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if disorder_draws == 1:
        raise ValueError(
            "disorder_draws must be 0 (ignore the lattice's disorder) or at least 2 "
            "(a covariance needs two draws); got 1."
        )
    if not (isinstance(disorder_factor, float | int) and disorder_factor >= 0):
        raise ValueError(
            f"disorder_factor must be a number >= 0; got {disorder_factor!r}."
        )


def fit_echo(
    echo,
    simulator,
    kernel="gaussian",
    parameters=("length", "alpha_xy", "alpha_z"),
    init=None,
    random_state=None,
    *,
    fixed=None,
    bounds=None,
    detection="magnitude",
    noise=None,
    confidence=0.9,
    interval="laplace",
    n_starts=2,
    disorder_draws=8,
    disorder_factor=2.0,
    max_iter=40,
    gradient="finite-difference",
):
    """Fit the physics' continuous parameters to a measured or simulated echo.

    The echo is compared with the simulator's echo of one kernel class at
    fixed disorder draws; the receiver's gain (and, for ``"phase-blind"``
    detection, its phase) is solved in closed form at every step, so only
    the physical parameters are searched. The search is a bounded
    least-squares (trust region, scipy) in log coordinates of the positive
    parameters, with the model's Jacobian.

    A finite lattice's echo depends on its random offsets: echoes of one
    material with other draws differ by more than the noise of a good
    measurement. After the fit, ``disorder_draws`` simulations with other
    draws at the estimate measure that spread, and the intervals include it
    (the covariance of the least-squares estimate under noise plus disorder,
    a Laplace approximation with the residual's covariance ``sigma^2 I +
    disorder_factor * C_disorder``). If the residual is larger than noise and
    disorder explain (a wrong kernel class, say), the intervals widen by the
    ratio. With ``interval="profile"`` the noise's part of each interval
    comes instead from the profile likelihood: the parameter is moved away
    from its estimate, the others re-fitted at each point, until the
    chi-square (divided by that ratio when above 1) rises by the chi-square
    quantile of ``confidence``; it follows a likelihood that is far from
    quadratic, and a parameter the echo does not pin down gets the whole
    search box. The disorder's part is added to it as in the Laplace
    intervals.

    Parameters
    ----------
    echo : MeasuredEcho, ndarray of shape (n_times,) or list of them
        The echo, or several echoes of one sample from different
        experiments (fitted jointly, each with its own gain). A
        :class:`~sknmr.io.MeasuredEcho` is resampled onto the simulator's
        grid; an array must already be on it.
    simulator : EchoSimulator or list of EchoSimulator
        The experiment (sequence, grid, lattice) of each echo.
    kernel : str, default="gaussian"
        The kernel class (:func:`sknmr.kernels.available_kernels`).
    parameters : sequence of str, default=("length", "alpha_xy", "alpha_z")
        What is fitted: any of ``alpha_xy`` (or ``alpha_x`` and
        ``alpha_y``), ``alpha_z``, ``length``, ``t2``, ``linewidth`` and the
        kernel's extra parameters (:func:`sknmr.kernels.kernel_parameters`).
    init : None, dict or fitted EchoInference, default=None
        Where the search starts. None: ``n_starts`` of 12 draws from the
        paper's prior, the ones that fit best. A dict: those values (others
        at the middle of their range). A fitted
        :class:`~sknmr.inference.EchoInference`: its estimates for the
        (first) echo, length from its L.
    random_state : int, RandomState instance or None, default=None
        Seeds the model's disorder draws and the starts.
    fixed : dict or None, default=None
        Values of the columns not fitted (e.g. ``{"length": 2.0}``); a
        coupling neither fitted nor fixed is 0.
    bounds : dict or None, default=None
        ``{name: (low, high)}`` overriding the default search box (the paper's
        prior widened twice each way: couplings 0.005 to 0.2 MHz, the
        kernel's length range likewise).
    detection : {"magnitude", "quadrature", "phase-blind"}, default="magnitude"
        ``|M|``; ``M`` with a calibrated receiver phase; or ``M`` with an
        unknown one (profiled out like the gain).
    noise : float, sequence of float or None, default=None
        Noise standard deviation (per quadrature) of each echo, in its own
        units; None estimates it from the echo's sample-to-sample scatter.
    confidence : float, default=0.9
        Probability content of the intervals.
    interval : {"laplace", "profile"}, default="laplace"
        How the intervals are made. ``"laplace"``: normal in the optimizer's
        coordinates with the covariance above (no simulation beyond the
        disorder draws). ``"profile"``: each fitted parameter's noise part
        from its profile likelihood (a few re-fits of the others per point,
        about as many simulations again as the search), the disorder part
        added in quadrature; ``EchoFit.profiles`` holds the points.
    n_starts : int, default=2
        Local searches from the best prior draws (ignored with ``init``).
        The next start is tried only when the best search so far leaves more
        residual than noise and disorder explain.
    disorder_draws : int, default=8
        Simulations with other disorder draws at the estimate, run as one
        batch (0: intervals from the noise only).
    disorder_factor : float, default=2.0
        How many lattices' disorder the residual holds: 2 for an echo
        simulated on a lattice of the model's size (its draws and the
        model's), 1 for a macroscopic sample (only the model's).
    max_iter : int, default=40
        Largest number of residual evaluations per local search.
    gradient : {"finite-difference", "autodiff"}, default="finite-difference"
        Where the search's derivatives come from. ``"finite-difference"``:
        the model's Jacobian from a batch of ``n_parameters + 1`` simulations
        (the fast numba backend), searched by trust-region least squares.
        ``"autodiff"``: the gradient of the profiled sum of squares from
        :func:`sknmr.autodiff.simulate` (torch), searched by L-BFGS-B; on
        the CPU a gradient costs several forward passes of the slower torch
        model, so it pays on a GPU (the simulator's ``device``) or with many
        fitted parameters. The intervals use the Jacobian either way.

    Returns
    -------
    result : EchoFit
        ``params``, ``intervals``, ``loss``, ``success``, ``fitted``,
        ``plot()``; see :class:`EchoFit`.

    Examples
    --------
    >>> from sknmr import EchoSimulator
    >>> from sknmr.fitting import fit_echo
    >>> sim = EchoSimulator(lattice_size=6, tau=4.0, random_state=0)
    >>> truth = {"kernel": "gaussian", "length": 3.0, "alpha_xy": 0.1, "alpha_z": 0.05}
    >>> echo = sim.simulate(truth)[0]
    >>> fit = fit_echo(echo, sim, parameters=["alpha_xy"],
    ...                fixed={"length": 3.0, "alpha_z": 0.05}, random_state=0)
    >>> print(f"{fit.params['alpha_xy']:.2f}")
    0.10
    """
    _check_options(
        confidence, n_starts, disorder_draws, disorder_factor, max_iter, interval
    )
    if detection not in DETECTIONS:
        raise ValueError(f"detection must be one of {DETECTIONS}; got {detection!r}.")
    if gradient not in ("finite-difference", "autodiff"):
        raise ValueError(
            f"gradient must be 'finite-difference' or 'autodiff'; got {gradient!r}."
        )
    simulators = check_simulators(simulator)
    seed = check_seed(random_state)
    # names and values first, then the data: every check before any simulation
    model = EchoModel.build(
        simulators,
        kernel,
        parameters,
        fixed,
        detection,
        derive_seed(seed, 0),
        bounds,
    )
    data, masks, sigmas = as_experiments(echo, simulators, detection, noise)
    problem = _Problem(model, data, masks, sigmas)
    if init is None:
        candidates = np.array(_candidates(model, derive_seed(seed, 1)))
        values = model.read(model.simulate(candidates))
        scores = [
            np.sum(problem.residuals_of([v[k] for v in values]) ** 2)
            for k in range(len(candidates))
        ]
        starts = candidates[np.argsort(scores)[:n_starts]]
    elif isinstance(init, dict):
        unknown = sorted(set(init) - set(model.parameters))
        if unknown:
            raise ValueError(
                f"init sets {unknown}, which are not fitted ({model.parameters})."
            )
        starts = [_vector(model, init)]
    elif hasattr(init, "predict") and hasattr(init, "targets_"):
        starts = [_vector(model, _start_from_model(model, init, echo, simulators))]
    else:
        raise TypeError(
            "init must be None (starts from the prior), a dict of starting values or "
            f"a fitted EchoInference; got {type(init).__name__}."
        )
    low, high = (model.to_internal(b) for b in model.box())
    problem.speculate = gradient == "finite-difference"
    best, spread = None, None
    for theta0 in starts:
        u0 = np.clip(model.to_internal(theta0), low, high)
        run = _search(problem, u0, low, high, gradient, max_iter)
        if best is None or run.cost < best.cost:
            best, spread = run, None
        if spread is None:
            # the disorder at the best estimate: its intervals need it, and
            # it tells whether another start could fit measurably better
            spread = _Spread(problem, best.x, disorder_draws, disorder_factor)
        if spread.misfit <= _GOOD_MISFIT:
            break
    return _result(
        problem, best, spread, confidence, interval, disorder_factor, (low, high)
    )


def _search(problem, u0, low, high, gradient, max_iter):
    """One local search from ``u0`` within the box (optimizer coordinates)."""
    if gradient == "autodiff":
        run = minimize(
            problem.loss_and_gradient,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(low, high, strict=True)),
            options={"maxfun": max_iter},
        )
        run.cost = run.fun
        return run
    return least_squares(
        problem.residuals,
        u0,
        jac=problem.jacobian,
        bounds=(low, high),
        method="trf",
        x_scale="jac",
        max_nfev=max_iter,
    )


class _Spread:
    """Noise and disorder at an estimate: the Laplace covariance's parts."""

    def __init__(self, problem, u, disorder_draws, disorder_factor):
        model = problem.model
        theta = model.to_natural(u)
        r, values, jacs = problem._evaluate(u, True)
        J = problem.projected_jacobian(values, jacs, u)
        n = J.shape[0]
        Ginv = np.linalg.pinv(J.T @ J)
        deviations = np.zeros((0, n))
        if disorder_draws:
            # every draw in one batch (one id per row): the backend
            # simulates them together
            ids = np.arange(1, disorder_draws + 1)
            echoes = model.read(model.simulate(np.tile(theta, (len(ids), 1)), ids))
            draws = [[e[k] for e in echoes] for k in range(len(ids))]
            deviations = problem.deviations(draws, values)
        H = J.T @ deviations.T  # (p, draws): each draw's pull on the estimate
        scale = max(len(deviations) - 1, 1)
        self.noise_part = Ginv
        self.disorder_part = disorder_factor * Ginv @ (H @ H.T / scale) @ Ginv
        # What noise and disorder explain of the residual; more means misfit.
        n_gain = (
            n
            - np.linalg.matrix_rank(J)
            - sum((2 if model.detection == "phase-blind" else 1) for _ in values)
        )
        expected = max(n_gain, 1) + disorder_factor * np.sum(deviations**2) / scale
        self.misfit = float(np.sum(r**2) / expected)
        self.r, self.values, self.deviations = r, values, deviations


def _result(problem, run, spread, confidence, interval, disorder_factor, box):
    """The covariance with noise and disorder, intervals and the result object."""
    model = problem.model
    u = run.x
    theta = model.to_natural(u)
    r, values, deviations = spread.r, spread.values, spread.deviations
    widen = max(spread.misfit, 1.0)
    cov_u = (spread.noise_part + spread.disorder_part) * widen
    z = norm.ppf(0.5 + confidence / 2)
    se = np.sqrt(np.clip(np.diag(cov_u), 0, None))
    profiles = None
    if interval == "profile":
        below, above, profiles = profile(problem, u, spread, confidence, box)
        # the lattice's disorder on top of the noise, as in the Laplace path
        disorder = z**2 * np.clip(np.diag(spread.disorder_part), 0, None) * widen
        lower_u = np.where(np.isfinite(below), u - np.sqrt(below**2 + disorder), box[0])
        upper_u = np.where(np.isfinite(above), u + np.sqrt(above**2 + disorder), box[1])
    else:
        lower_u, upper_u = u - z * se, u + z * se
    # an interval reaching past the search box ends at its edge: the box is
    # all the fit can say of a parameter the echo does not pin down
    lower = model.clip(model.to_natural(np.clip(lower_u, -700, 700)))
    upper = model.clip(model.to_natural(np.clip(upper_u, -700, 700)))
    chain = np.where(model.log, theta, 1.0)
    cov = cov_u * np.outer(chain, chain)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.diag(spread.disorder_part) / np.diag(
            spread.noise_part + spread.disorder_part
        )
    fitted, gains = problem.fitted(values)
    log_likelihood = _log_likelihood(r, deviations, disorder_factor)
    n_samples = [int(k.sum()) for k in problem.keep]
    log_likelihood -= sum(
        k * np.log(s) for k, s in zip(n_samples, problem.sigmas, strict=True)
    )
    return EchoFit(
        model=model,
        theta=theta,
        lower=lower,
        upper=upper,
        covariance=cov,
        disorder_share=share,
        confidence=confidence,
        interval=interval,
        profiles=profiles,
        loss=float(run.cost),
        log_likelihood=float(log_likelihood),
        misfit=spread.misfit,
        success=bool(run.success) and bool(np.all(np.isfinite(se))),
        message=str(run.message),
        n_evaluations=problem.n_evaluations,
        data=[
            np.where(k, y, np.nan)
            for y, k in zip(_data_back(problem), _masks_back(problem), strict=True)
        ],
        fitted=fitted,
        gains=gains,
        noise=list(problem.sigmas),
        n_residuals=r.size,
    )


def _log_likelihood(r, deviations, factor, shrinkage=0.5):
    """Gaussian log-likelihood of whitened residuals under noise and disorder.

    The disorder's covariance is that of the draws' deviations, shrunk
    halfway to its diagonal: a few draws span few directions, and a
    residual outside them would otherwise count as pure noise. Woodbury's
    identity keeps it to a small solve.
    """
    n = r.size
    if len(deviations) < 2 or factor == 0:
        return -0.5 * (float(r @ r) + n * np.log(2 * np.pi))
    k = len(deviations) - 1
    diag = 1.0 + factor * shrinkage * np.sum(deviations**2, axis=0) / k
    U = np.sqrt(factor * (1 - shrinkage) / k) * deviations.T / np.sqrt(diag)[:, None]
    w = r / np.sqrt(diag)
    small = np.eye(U.shape[1]) + U.T @ U
    proj = U.T @ w
    quad = float(w @ w) - float(proj @ np.linalg.solve(small, proj))
    logdet = float(np.sum(np.log(diag)) + np.linalg.slogdet(small)[1])
    return -0.5 * (quad + logdet + n * np.log(2 * np.pi))


def _masks_back(problem):
    det = problem.model.detection
    return [k if det == "magnitude" else k[: k.size // 2] for k in problem.keep]


def _data_back(problem):
    """The echoes on the grid (NaN where not covered), as given."""
    det = problem.model.detection
    out = []
    for b, keep, s in zip(problem.targets, problem.keep, problem.sigmas, strict=True):
        full = np.zeros(keep.size)
        full[keep] = b * s
        if det == "magnitude":
            out.append(full)
        else:
            half = keep.size // 2
            out.append(full[:half] + 1j * full[half:])
    return out
