"""BetaVAE: a beta-variational autoencoder for curves scaled to [0, 1].

The paper (Rao et al. 2023, Appendix B3) trains a beta-VAE on spin echoes to
find a two-dimensional latent space in which the coupling strength W is
ordered along one axis (Fig. 3). :class:`BetaVAE` is that model as a
scikit-learn transformer: ``transform`` maps curves to their latent means,
``inverse_transform`` decodes latent points into curves and
:meth:`BetaVAE.latent_traversal` walks a line through the latent space.

The network is a skorch :class:`~skorch.NeuralNet` whose loss is replaced by
the beta-VAE objective; the estimator holds it in ``net_`` once fitted.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, PassthroughScoring
from skorch.dataset import ValidSplit
from skorch.utils import to_tensor
from torch import nn

from .utils._random import check_seed

__all__ = ["BetaVAE"]

# Rows pushed through the network at once in transform / inverse_transform.
_CHUNK = 4096
# Units of rounding (eps of X's dtype) by which X may leave [0, 1] and be
# clipped into it rather than refused.
_ROUNDING_ULPS = 4


class _VAEModule(nn.Module):
    """Encoder and decoder of a Gaussian-latent VAE with a Bernoulli decoder.

    Encoder ``n_features -> hidden_sizes -> (means, log-variances)``, decoder
    ``n_components -> reversed(hidden_sizes) -> n_features``. Every hidden
    layer is followed by a LeakyReLU; the latent layer is linear. The
    decoder's last layer gives logits; the decoded curve is their sigmoid
    (the loss works on the logits, which is the same objective as a sigmoid
    output with binary cross-entropy, without its round-off).
    """

    def __init__(
        self,
        n_features,
        hidden_sizes,
        n_components,
        output="sigmoid",
        negative_slope=0.01,
    ):
        super().__init__()
        self.n_components = n_components
        self.output = output
        sizes = [n_features, *hidden_sizes]
        self.encoder = nn.Sequential(*_dense_stack(sizes, negative_slope))
        self.latent = nn.Linear(sizes[-1], 2 * n_components)
        sizes = [n_components, *reversed(hidden_sizes)]
        self.decoder = nn.Sequential(
            *_dense_stack(sizes, negative_slope), nn.Linear(sizes[-1], n_features)
        )

    def encode(self, x):
        """Latent means and log-variances of ``x``."""
        mean, log_var = self.latent(self.encoder(x)).chunk(2, dim=1)
        return mean, log_var

    def decode(self, z):
        """Decoded curves of latent points ``z`` (in (0, 1) for a sigmoid output)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.output == "sigmoid" else out

    def forward(self, x):
        """``(decoder output before the sigmoid, mean, log_var)``.

        z is sampled in training, the mean otherwise.
        """
        mean, log_var = self.encode(x)
        z = mean
        if self.training:
            # Reparametrisation trick; the noise comes from torch's global
            # generator, which BetaVAE.fit seeds.
            z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        return self.decoder(z), mean, log_var


class _HalfSquaredError(nn.Module):
    """Elementwise Gaussian negative log-likelihood, unit variance, no constant."""

    def forward(self, output, target):
        return 0.5 * (output - target) ** 2


def _dense_stack(sizes, negative_slope):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(negative_slope)]
    return layers


class _VAENet(NeuralNet):
    """skorch net trained on the beta-VAE objective.

    Loss per batch: the reconstruction loss ``criterion_`` (binary
    cross-entropy on logits, or half squared error), summed over features and
    averaged over the batch, plus ``beta`` times the KL divergence of
    ``N(mean, exp(log_var))`` from ``N(0, 1)``, summed over latent axes and
    averaged over the batch. The
    reconstruction part is recorded per batch as ``train_recon`` /
    ``valid_recon`` so that callbacks can monitor it.
    """

    def __init__(self, *args, beta=2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.beta = beta

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, mean, log_var = y_pred
        target = to_tensor(X, device=self.device)
        recon = self.criterion_(output, target).sum(dim=1).mean()
        kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(dim=1).mean()
        if self.history and self.history[-1]["batches"]:
            prefix = "train" if training else "valid"
            self.history.record_batch(prefix + "_recon", recon.item())
        return recon + self.beta * kl


class BetaVAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Beta-variational autoencoder of curves in [0, 1] (skorch/PyTorch).

    The encoder maps a curve through dense layers of ``hidden_sizes`` units to
    the means and log-variances of ``n_components`` independent Gaussian
    latent variables; the decoder mirrors it back to a curve. Hidden layers
    use LeakyReLU(0.01), the output a sigmoid. The loss is the binary
    cross-entropy of the reconstruction (summed over features, averaged over
    the batch) plus ``beta`` times the KL divergence from the standard normal
    prior. A fraction of the data is held out, and training stops once its
    reconstruction loss has not improved for ``patience`` epochs; the weights
    of the best epoch are kept. The defaults are the paper's (Appendix B3):
    ``(512, 128, 16)`` for full echoes, ``beta = 2``, patience 7; for the
    echo window the paper used ``hidden_sizes=(128, 32, 16)``.

    The input must lie in [0, 1]: scale each curve first, e.g. with
    :func:`~sknmr.curve_scaler` (the paper's per-curve min-max scaling,
    clipped so that float32 rounding cannot exceed 1).
    ``likelihood="gaussian"`` instead gives a linear output and a
    squared-error loss for real-valued data of any range. Computations are
    in float32.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(512, 128, 16)
        Units of the encoder's hidden layers; the decoder uses them reversed.
    n_components : int, default=2
        Dimension of the latent space.
    beta : float, default=2.0
        Weight of the KL term (``beta = 1`` is a plain VAE).
    likelihood : {"bernoulli", "gaussian"}, default="bernoulli"
        Decoder likelihood. ``"bernoulli"`` (the paper's): sigmoid output,
        binary cross-entropy loss, X must lie in [0, 1]. ``"gaussian"``:
        linear output, loss ``0.5 * squared error`` (unit variance), any
        real X; note that the KL term then weighs more against small-scale
        data.
    max_epochs : int, default=200
        Upper bound on the training epochs; early stopping usually ends
        training long before.
    batch_size : int, default=128
        Curves per gradient step.
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Called as ``optimizer(params, lr=lr)``.
    validation_fraction : float or None, default=0.2
        Fraction of the curves held out to monitor the reconstruction loss
        for early stopping. None trains on everything for ``max_epochs``.
    patience : int, default=7
        Epochs without improvement (relative 1e-4) of the validation
        reconstruction loss before training stops.
    device : str, default="cpu"
        Torch device, e.g. ``"cpu"``, ``"cuda"`` or ``"cuda:1"``. A model
        trained on a GPU unpickles on a machine without one (on the CPU).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the batch
        order and the reparametrisation noise. With an int, fitting twice
        on the CPU gives identical models; GPU kernels may add round-off
        level differences.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the torch module with
        ``encode`` and ``decode`` methods.
    history_ : skorch.History
        Per-epoch record of training: ``train_loss``, ``valid_loss`` and
        their reconstruction parts ``train_recon``, ``valid_recon``.
    n_epochs_ : int
        Epochs trained; the weights kept are those of the epoch with the
        lowest validation reconstruction loss.
    n_features_in_ : int
        Length of the curves seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame passed to :meth:`fit`.

    See Also
    --------
    sklearn.decomposition.PCA : The linear baseline of the paper.

    Notes
    -----
    Training samples z with the reparametrisation trick; the validation
    losses and :meth:`transform` use the latent mean, so they are
    deterministic. The paper does not give the batch size or learning rate;
    128 and Adam's 1e-3 are common choices. On a CPU shared with other work,
    ``torch.set_num_threads(1)`` can train the small networks several times
    faster than torch's default of one thread per core.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmr import BetaVAE
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 1, 50)
    >>> X = np.exp(-np.outer(rng.uniform(1, 5, 200), t))  # curves in (0, 1]
    >>> vae = BetaVAE(hidden_sizes=(16,), max_epochs=5, random_state=0).fit(X)
    >>> vae.transform(X).shape
    (200, 2)
    >>> vae.get_feature_names_out()
    array(['betavae0', 'betavae1'], dtype=object)
    >>> vae.latent_traversal(axis=0, values=[-2.0, 0.0, 2.0]).shape
    (3, 50)
    """

    _parameter_constraints = {
        "hidden_sizes": [tuple, list],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "likelihood": [StrOptions({"bernoulli", "gaussian"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_sizes=(512, 128, 16),
        n_components=2,
        beta=2.0,
        likelihood="bernoulli",
        max_epochs=200,
        batch_size=128,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        validation_fraction=0.2,
        patience=7,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.hidden_sizes = hidden_sizes
        self.n_components = n_components
        self.beta = beta
        self.likelihood = likelihood
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_settings(self):
        self._validate_params()
        sizes = tuple(self.hidden_sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
            for s in sizes
        ):
            raise ValueError(
                "hidden_sizes must be a tuple of positive ints; "
                f"got {self.hidden_sizes!r}."
            )
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(
                f"device must be a torch device such as 'cpu' or 'cuda'; "
                f"got {self.device!r}."
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available here; "
                "use device='cpu'."
            )
        return tuple(int(s) for s in sizes)

    def fit(self, X, y=None):
        """Train the VAE on curves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Curves with every value in [0, 1].
        y : None
            Ignored.

        Returns
        -------
        self : BetaVAE
        """
        hidden_sizes = self._check_settings()
        X = validate_data(self, X, dtype=np.float32)
        X = self._check_range(X, "fit")
        n_samples = X.shape[0]
        if self.validation_fraction is not None:
            n_valid = math.ceil(self.validation_fraction * n_samples)
            if n_samples < 2 or n_valid >= n_samples:
                raise ValueError(
                    f"BetaVAE got {n_samples} sample(s) (n_samples={n_samples}); "
                    f"with validation_fraction={self.validation_fraction} that "
                    "leaves no curve to train on. Pass more curves or "
                    "validation_fraction=None."
                )

        rng = check_random_state(self.random_state)
        # Two seeds from the one seed helper (the same draws as before).
        torch_seed, split_seed = check_seed(rng), check_seed(rng)
        self.net_ = self._build_net(X.shape[1], hidden_sizes, split_seed)
        # Seed torch's generators (init, batch order, noise) inside a fork so
        # that the caller's torch random state is left untouched.
        device = torch.device(self.device)
        devices = []
        if device.type == "cuda":
            index = (
                torch.cuda.current_device() if device.index is None else device.index
            )
            devices = [index]
        with torch.random.fork_rng(devices=devices):
            torch.default_generator.manual_seed(torch_seed)
            for index in devices:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(torch_seed)
            self.net_.fit(X, None)
        self.history_ = self.net_.history
        self.n_epochs_ = len(self.history_)
        return self

    def _build_net(self, n_features, hidden_sizes, split_seed):
        callbacks = [("train_recon", PassthroughScoring("train_recon", on_train=True))]
        train_split = None
        if self.validation_fraction is not None:
            train_split = ValidSplit(
                self.validation_fraction, stratified=False, random_state=split_seed
            )
            callbacks += [
                ("valid_recon", PassthroughScoring("valid_recon")),
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_recon", patience=self.patience, load_best=True
                    ),
                ),
            ]
        bernoulli = self.likelihood == "bernoulli"
        return _VAENet(
            module=_VAEModule,
            module__n_features=n_features,
            module__hidden_sizes=hidden_sizes,
            module__n_components=self.n_components,
            module__output="sigmoid" if bernoulli else "linear",
            # Elementwise losses; _VAENet.get_loss sums them over features.
            criterion=nn.BCEWithLogitsLoss if bernoulli else _HalfSquaredError,
            **({"criterion__reduction": "none"} if bernoulli else {}),
            optimizer=self.optimizer,
            lr=self.lr,
            beta=self.beta,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            device=self.device,
            verbose=self.verbose,
        )

    def _apply(self, fn, X, n_out):
        """``fn`` (a torch function of a batch) over X in chunks, as float32."""
        module = self.net_.module_
        module.eval()
        out = np.empty((X.shape[0], n_out), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, X.shape[0], _CHUNK):
                batch = to_tensor(X[start : start + _CHUNK], device=self.net_.device)
                out[start : start + _CHUNK] = fn(module, batch).cpu().numpy()
        return out

    def transform(self, X):
        """Latent means of curves (deterministic).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Curves with every value in [0, 1].

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), float32
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        X = self._check_range(X, "transform")
        return self._apply(lambda m, x: m.encode(x)[0], X, self.n_components)

    def inverse_transform(self, X):
        """Decode latent points into curves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Points of the latent space.

        Returns
        -------
        curves : ndarray of shape (n_samples, n_features_in_), float32
            Values in (0, 1) for the Bernoulli likelihood.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float32)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} latent coordinates, but this BetaVAE has "
                f"n_components={self.n_components}."
            )
        return self._apply(lambda m, z: m.decode(z), Z, self.n_features_in_)

    def latent_traversal(self, axis=0, values=None, *, origin=None):
        """Curves decoded along a line through the latent space.

        The line runs parallel to latent axis ``axis`` through ``origin``
        (the prior mean, 0, by default), as in the paper's Fig. 3(b), (d).

        Parameters
        ----------
        axis : int, default=0
            Latent axis to walk along.
        values : array-like of shape (n_points,) or None, default=None
            Coordinates along ``axis``; None means 11 points from -2.5 to 2.5.
        origin : array-like of shape (n_components,) or None, default=None
            Coordinates of the other axes; None means all zero.

        Returns
        -------
        curves : ndarray of shape (n_points, n_features_in_), float32
        """
        check_is_fitted(self)
        if not (
            isinstance(axis, Integral)
            and not isinstance(axis, bool)
            and 0 <= axis < self.n_components
        ):
            raise ValueError(
                f"axis must be an int in [0, {self.n_components - 1}]; got {axis!r}."
            )
        values = np.linspace(-2.5, 2.5, 11) if values is None else values
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 1 or not np.all(np.isfinite(values)):
            raise ValueError("values must be a 1-d array of finite floats.")
        if origin is None:
            origin = np.zeros(self.n_components, dtype=np.float32)
        origin = np.asarray(origin, dtype=np.float32)
        if origin.shape != (self.n_components,):
            raise ValueError(
                f"origin must have shape ({self.n_components},); got {origin.shape}."
            )
        points = np.tile(origin, (len(values), 1))
        points[:, axis] = values
        return self.inverse_transform(points)

    def _check_range(self, X, method):
        """X for the Bernoulli likelihood: in [0, 1], or said clearly.

        Values within a few units of rounding of [0, 1] are clipped into it:
        the most common scalers round there (``minmax_scale`` in float32 gives
        1.0000001), and that is not bad input.
        """
        if self.likelihood != "bernoulli" or X.size == 0:
            return X
        low, high = X.min(), X.max()
        if low >= 0 and high <= 1:
            return X
        rounding = _ROUNDING_ULPS * np.finfo(X.dtype).eps
        if low >= -rounding and high <= 1 + rounding:
            return np.clip(X, 0, 1)
        problem = "Negative values in data" if low < 0 else "Values above 1 in data"
        # 9 significant digits tell every float32 apart: 1.00000012 is not 1.
        raise ValueError(
            f"{problem} passed to BetaVAE.{method}: with likelihood='bernoulli' "
            "every value of X must lie in [0, 1] (the sigmoid output and "
            f"binary cross-entropy assume it); got values in [{float(low):.9g}, "
            f"{float(high):.9g}]. Scale each curve first, e.g. with "
            "sknmr.curve_scaler() (sklearn.preprocessing.minmax_scale(X, axis=1) "
            "clipped to [0, 1]), or use likelihood='gaussian'."
        )

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.likelihood == "bernoulli"
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags
