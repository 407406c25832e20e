"""The torch backend: the model in torch, on any device torch has, differentiable.

The step is the numpy reference's, written on a whole batch at once: the mean
fields of the three spin components come from one batched real FFT over the
lattice's axes (``rfft2`` of a ``(B, 3, n, n)`` tensor, or ``rfftn`` of a
``(B, 3, *lattice)`` one, times each echo's half spectrum), then
every Bloch vector is rotated exactly about its field (Rodrigues' formula),
relaxed exactly (T2, T1) and turned by the step's pulse, if any. The lattice
means of ``<I^x>``, ``<I^y>`` and ``<I^z>`` are the samples.

Written with differentiable operations only, the same step serves
:func:`sknmr.autodiff.simulate`: :func:`evolve` takes tensors that may require
grad and can checkpoint the time loop in segments, so that the graph kept for
the backward pass holds a segment of steps, not all of them. For reverse-mode
gradients the step is one operation with a hand-written backward pass
(``fused``), of the same values: it keeps three lattices per step (the spins,
their mean field and, for a kernel's gradient, the spins' spectrum) rather
than autograd's sixteen, and takes the derivatives in a few fused passes.

Every transform is of at least three lattices, so a lone echo rounds as it
does in a batch (torch's FFT takes another code path for a batch of one), and
the per-echo sums are reductions over each echo's own lattice: an echo's
result does not depend on the batch it is in.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

try:
    import torch
    from torch.utils.checkpoint import checkpoint as _checkpoint
except ImportError:  # pragma: no cover - torch is a dependency
    torch = None

name = "torch"
default_dtype = np.float64
#: Echoes per batch on the CPU (a batch of 100 x 100 lattices in float64 is
#: about 2 MB of state per echo and step in flight).
default_batch_size = 8

#: Bumped whenever the backend's arithmetic rounds its echoes differently
#: (the model unchanged): cached datasets are keyed on it.
NUMERICS_REVISION = 1


def is_available():
    return torch is not None


def unavailable_reason():
    return None if torch is not None else "torch is not installed"


def _device_available(device):
    if device.type == "cpu":
        return True
    module = getattr(torch, device.type, None)
    if module is None or not getattr(module, "is_available", lambda: False)():
        return False
    if device.index is not None and hasattr(module, "device_count"):
        return device.index < module.device_count()
    return True


def check_device(device):
    """``device`` as a :class:`torch.device` this torch can use, else ValueError.

    None is the CPU; ``"cuda"`` is the current CUDA device, made explicit
    (``"cuda:0"``) so that equal devices have equal names.

    Examples
    --------
    >>> check_device(None)
    device(type='cpu')
    >>> check_device("cuda:99")
    Traceback (most recent call last):
    ...
    ValueError: device='cuda:99' is not available to torch here ...
    """
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device must be None or a torch device such as 'cpu', 'cuda' or "
            f"'cuda:1'; got {device!r} ({exc})."
        ) from None
    if not _device_available(dev):
        cuda = (
            f"{torch.cuda.device_count()} CUDA device(s)"
            if torch.cuda.is_available()
            else "no CUDA device"
        )
        raise ValueError(
            f"device={device!r} is not available to torch here (torch "
            f"{torch.__version__}, {cuda}); use device='cpu' or None."
        )
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return dev


def device_name(device):
    """The canonical name of a device setting: ``'cpu'``, ``'cuda:0'``, ..."""
    return str(check_device(device))


def torch_dtype(dtype):
    """The torch floating type of a numpy one."""
    return {np.float32: torch.float32, np.float64: torch.float64}[np.dtype(dtype).type]


@contextmanager
def threads(n_jobs):
    """torch's intra-op threads set to ``n_jobs`` for the duration."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n_jobs)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def half_spectra(spectra, n):
    """The real transform's half of each full spectrum: ``S[..., :n // 2 + 1]``.

    As in the numpy reference, this is right for complex spectra too (the
    kernel itself is real).
    """
    return spectra[..., : n // 2 + 1]


def _transform(spins):
    """The real FFT of a ``(B, 3, *lattice)`` state over its 2 or 3 lattice axes."""
    if spins.dim() == 4:
        return torch.fft.rfft2(spins)
    return torch.fft.rfftn(spins, dim=tuple(range(2, spins.dim())))


def _inverse(spectrum, lattice):
    """The inverse of :func:`_transform`, onto a lattice of shape ``lattice``."""
    if len(lattice) == 2:
        return torch.fft.irfft2(spectrum, s=lattice)
    axes = tuple(range(-len(lattice), 0))
    return torch.fft.irfftn(spectrum, s=lattice, dim=axes)


def mean_field(spins, half):
    """``w = Khat * <I>`` of a ``(B, 3, *lattice)`` state, by one batched FFT
    over the lattice's 2 or 3 axes."""
    return _inverse(_transform(spins) * half[:, None], tuple(spins.shape[2:]))


def _rotate(spins, field, angle_per_mhz):
    """Rotate each Bloch vector by ``angle_per_mhz * |B|`` about its field ``B``.

    The norm is taken where it is positive only (a zero field turns nothing),
    so that its derivative stays finite there.
    """
    bx, by, bz = field
    sq = bx * bx + by * by + bz * bz
    positive = sq > 0
    norm = torch.sqrt(torch.where(positive, sq, 1.0))
    ux = torch.where(positive, bx / norm, 0.0)
    uy = torch.where(positive, by / norm, 0.0)
    uz = torch.where(positive, bz / norm, 0.0)
    angle = angle_per_mhz * torch.where(positive, norm, 0.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy, sz = spins.unbind(1)
    along = (ux * sx + uy * sy + uz * sz) * (1 - cos)
    return (
        sx * cos + (uy * sz - uz * sy) * sin + ux * along,
        sy * cos + (uz * sx - ux * sz) * sin + uy * along,
        sz * cos + (ux * sy - uy * sx) * sin + uz * along,
    )


def _column(values, ndim=2):
    """A per-echo ``(B,)`` tensor shaped to broadcast over ``(B, *lattice)``."""
    return values.reshape(-1, *(1,) * ndim)


def apply_pulse(spins, rotation):
    """Apply a ``(3, 3)`` or per-echo ``(B, 3, 3)`` rotation to every vector."""
    cells = "ij" if spins.dim() == 4 else "ijk"  # a 2-D or 3-D lattice
    if rotation.dim() == 2:
        return torch.einsum(f"ab,zb{cells}->za{cells}", rotation, spins)
    return torch.einsum(f"zab,zb{cells}->za{cells}", rotation, spins)


def _step_values(spins, half, offsets, couplings, decays, angle_per_mhz, relax_z):
    """One step: the spins' spectrum, the mean field and the new spins."""
    ax, ay, az = couplings
    e2, e1 = decays
    spectrum = _transform(spins)
    w = _inverse(spectrum * half[:, None], tuple(spins.shape[2:]))
    # H_i = B_i . I with B_i = (-a_x w_x, -a_y w_y, -(nu_i + a_z w_z))
    field = (-ax * w[:, 0], -ay * w[:, 1], -(offsets + az * w[:, 2]))
    sx, sy, sz = _rotate(spins, field, angle_per_mhz)
    sx, sy = sx * e2, sy * e2
    if relax_z:
        sz = sz * e1 + 0.5 * (1.0 - e1)
    return spectrum, w, torch.stack((sx, sy, sz), dim=1)


def step(spins, half, offsets, couplings, decays, angle_per_mhz, relax_z, fused=False):
    """One step of every echo: rotate about the field, then relax (T2, T1).

    ``fused`` takes the step as one operation with a hand-written backward
    pass (reverse mode only; the same values).
    """
    if fused:
        return _Step.apply(
            spins, half, offsets, *couplings, *decays, angle_per_mhz, relax_z
        )
    return _step_values(
        spins, half, offsets, couplings, decays, angle_per_mhz, relax_z
    )[2]


def _cross(a, b):
    """``a x b`` of ``(B, 3, ...)`` tensors, by components (torch.linalg.cross
    and rolled copies are several times slower on the CPU)."""
    ax, ay, az = a.unbind(1)
    bx, by, bz = b.unbind(1)
    out = torch.empty_like(a)
    cx, cy, cz = out.unbind(1)
    torch.mul(ay, bz, out=cx).addcmul_(az, by, value=-1.0)
    torch.mul(az, bx, out=cy).addcmul_(ax, bz, value=-1.0)
    torch.mul(ax, by, out=cz).addcmul_(ay, bx, value=-1.0)
    return out


def _rotation_backward(spins, field, grad, angle_per_mhz):
    """``(R^T g, dL/dB)`` of the rotation of ``spins`` about ``field`` (both
    ``(B, 3, *lattice)``), ``g = grad`` the derivative of the rotated spins.

    With ``r = R(w) s`` the rotation by ``theta = |w|`` about ``u = w / theta``
    (``w = angle_per_mhz * B``): ``dL/ds = h = R^T g`` (the rotation by
    ``-theta``) and ``dL/dw = J^T v``, ``v = s x h``, with ``J`` the right
    Jacobian of the rotation, ``J^T v = v + (1 - cos)/theta (u x v) +
    (1 - sin/theta) (u (u . v) - v)``; ``u x v = s (u . g) - h (u . s)``
    since ``u . h = u . g``.

    ``theta`` is floored at the square root of the smallest normal number, so
    that a zero field (``u = 0``) turns nothing and has the derivative ``v``
    without a division by zero; below the floor every term but ``v`` is
    smaller than the rounding of ``v``.
    """
    a = angle_per_mhz
    floor = math.sqrt(torch.finfo(field.dtype).tiny)
    theta = torch.sqrt((field * field).sum(1)).mul_(a).clamp_min_(floor)
    u = field * (a / theta)[:, None]
    cos, sin = torch.cos(theta), torch.sin(theta)
    one_cos = 1.0 - cos
    ug = (u * grad).sum(1)
    # R^T g: g turned by -theta about u
    h = u * (ug * one_cos)[:, None]
    h.addcmul_(grad, cos[:, None])
    h.addcmul_(_cross(u, grad), sin[:, None], value=-1.0)
    v = _cross(spins, h)
    first = one_cos.div_(theta).mul_(a)  # a (1 - cos) / theta
    second = sin.div_(theta).sub_(1.0).mul_(-a)  # a (1 - sin / theta)
    us = (u * spins).sum(1)
    # a J^T v = (a - second) v + first (s (u.g) - h (u.s)) + second u (u.v)
    dw = u * ((u * v).sum(1) * second)[:, None]
    dw.addcmul_(v, (a - second)[:, None])
    dw.addcmul_(spins, (first * ug)[:, None])
    dw.addcmul_(h, (first * us)[:, None], value=-1.0)
    return h, dw


class _Step(torch.autograd.Function if torch is not None else object):
    """:func:`step` as one operation with a hand-written backward pass.

    Autograd would keep and traverse every intermediate of the step (some 16
    lattices per step, a node each); this keeps the spins, the mean field
    (and, when their derivatives are asked for, the spins' spectrum and the
    new spins) and takes the derivatives in one pass: the rotation's (see
    :func:`_rotation_backward`), then the mean field's, which is the
    convolution by the kernel's reflection, ``dL/ds = irfft(rfft(dL/dw)
    conj(Khat))``, with ``dL/dKhat`` from the same ``rfft(dL/dw)`` and the
    spins' spectrum.
    """

    @staticmethod
    def forward(ctx, spins, half, offsets, ax, ay, az, e2, e1, angle, relax_z):
        spectrum, w, out = _step_values(
            spins, half, offsets, (ax, ay, az), (e2, e1), angle, relax_z
        )
        needs = ctx.needs_input_grad
        ctx.angle, ctx.relax_z = angle, relax_z
        ctx.save_for_backward(
            spins,
            w,
            half,
            offsets,
            ax,
            ay,
            az,
            e2,
            e1,
            spectrum if needs[1] else None,
            out if needs[6] or (relax_z and needs[7]) else None,
        )
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        spins, w, half, offsets, ax, ay, az, e2, e1, spectrum, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        lattice = tuple(spins.shape[2:])
        cells = tuple(range(2, spins.dim()))  # the lattice axes of (B, 3, ...)
        minus = torch.stack((ax, ay, az), dim=1).neg_()  # (B, 3, 1, ..)
        field = minus * w
        field[:, 2] -= offsets  # the forward pass's field, value for value
        decay = torch.stack((e2, e2, e1 if ctx.relax_z else torch.ones_like(e1)), 1)
        h, d_field = _rotation_backward(spins, field, grad * decay, ctx.angle)
        grads = [None] * 10
        if needs[0] or needs[1]:
            d_spectrum = _transform(minus * d_field)  # of dL/dw
            if needs[0]:
                back = _inverse(d_spectrum * half.conj()[:, None], lattice)
                grads[0] = h.add_(back)
            if needs[1]:
                grads[1] = _half_gradient(d_spectrum, spectrum, half, lattice)
        if needs[2]:
            grads[2] = -d_field[:, 2]
        if any(needs[3:6]):
            d_coupling = (d_field * w).sum(cells).neg_()  # (B, 3)
            for i in range(3):
                if needs[3 + i]:
                    grads[3 + i] = d_coupling[:, i].reshape(ax.shape)
        per_echo = tuple(range(1, spins.dim() - 1))
        if needs[6]:
            both = (grad[:, :2] * out[:, :2]).sum(1)
            grads[6] = both.sum(per_echo).reshape(e2.shape) / e2
        if needs[7] and ctx.relax_z:
            along = (grad[:, 2] * (out[:, 2] - 0.5)).sum(per_echo)
            grads[7] = along.reshape(e1.shape) / e1
        elif needs[7]:
            grads[7] = torch.zeros_like(e1)
        return tuple(grads)


@lru_cache(maxsize=8)
def _half_weight(lattice, dtype, device):
    """``2 / N`` at the frequencies of the last axis that stand for two, ``1 / N``
    at those that stand for themselves (0 and, for an even size, ``n / 2``)."""
    n = lattice[-1]
    weight = torch.full((n // 2 + 1,), 2.0 / math.prod(lattice), dtype=dtype)
    weight[0] /= 2
    if n % 2 == 0:
        weight[-1] /= 2
    return weight.to(device)


def _half_gradient(d_spectrum, spectrum, half, lattice):
    """``dL/dhalf`` of ``w = irfft(rfft(s) half)`` from ``rfft(dL/dw)``.

    torch's convention for the derivative of the inverse real transform: the
    forward transform of ``dL/dw`` over the lattice's size, doubled at the
    frequencies whose mirror image the half spectrum leaves out; times the
    conjugate spectrum of the spins, summed over the three components (its
    real part for a real ``half``).
    """
    weight = _half_weight(lattice, half.real.dtype, half.device)
    product = (d_spectrum * spectrum.conj()).sum(1)
    return product.mul_(weight) if half.is_complex() else product.real * weight


def _means(spins):
    """Lattice means of the three components, ``(B, 3)``."""
    return spins.mean(dim=tuple(range(2, spins.dim())))


def evolve(
    state,
    half,
    offsets,
    couplings,
    decays,
    pulses,
    n_times,
    angle_per_mhz,
    relax_z=True,
    segment=None,
    fused=False,
):
    """Run every echo of a batch over ``n_times - 1`` steps; return the samples.

    Parameters
    ----------
    state : tensor of shape (B, 3, *lattice)
        The Bloch vectors at sample 0 (after the pulses at step 0), on a 2-D
        or 3-D lattice.
    half : tensor of shape (B, *lattice[:-1], lattice[-1] // 2 + 1)
        Half spectra of the normalised kernels (real or complex).
    offsets : tensor of shape (B, *lattice)
    couplings : three tensors of shape (B,)
        ``alpha_x``, ``alpha_y``, ``alpha_z``.
    decays : two tensors of shape (B,)
        ``exp(-dt / T2)`` and ``exp(-dt / T1)``.
    pulses : dict of int to tensor of shape (3, 3) or (B, 3, 3)
        The rotation of each pulse at a step >= 1.
    n_times : int
    angle_per_mhz : float
        ``2 pi dt``.
    relax_z : bool, default=True
        Apply the T1 relaxation (False when every ``exp(-dt / T1)`` is 1).
    segment : int or None, default=None
        Checkpoint the loop in segments of this many steps (only the state
        at each segment's start is kept for the backward pass; a segment's
        steps are recomputed then). None: no checkpointing.
    fused : bool, default=False
        Take each step as one operation with a hand-written backward pass
        (reverse-mode gradients only; forward-mode differentiation needs the
        plain operations). The values are the same.

    Returns
    -------
    means : tensor of shape (B, n_times, 3)
        Lattice means of ``<I^x>``, ``<I^y>``, ``<I^z>`` at every sample.
    """
    ndim = offsets.dim() - 1
    couplings = tuple(_column(c, ndim) for c in couplings)
    decays = tuple(_column(d, ndim) for d in decays)

    def run(spins, start, stop):
        samples = []
        for k in range(start, stop):
            spins = step(
                spins,
                half,
                offsets,
                couplings,
                decays,
                angle_per_mhz,
                relax_z,
                fused,
            )
            if k in pulses:  # a pulse just before this sample
                spins = apply_pulse(spins, pulses[k])
            samples.append(_means(spins))
        return spins, torch.stack(samples, dim=1)

    spins = state
    samples = [_means(state)[:, None]]
    stride = n_times if segment is None else max(1, int(segment))
    for start in range(1, n_times, stride):
        stop = min(start + stride, n_times)
        if segment is None:
            spins, part = run(spins, start, stop)
        else:
            spins, part = _checkpoint(run, spins, start, stop, use_reentrant=False)
        samples.append(part)
    return torch.cat(samples, dim=1)


def initial_state(rotation, shape, dtype, device):
    """Every nucleus at ``rotation @ (0, 0, 1/2)``: ``(B, 3, n, n)``.

    ``rotation`` is ``(3, 3)`` or per-echo ``(B, 3, 3)`` (the product of the
    step-0 pulses), or None for the thermal state ``+z``.
    """
    state = torch.zeros(tuple(shape), dtype=dtype, device=device)
    state[:, 2] = 0.5
    if rotation is not None:
        state = apply_pulse(state, rotation)
    return state


def _simulate_group(batch, rows, device):
    """Simulate the echoes ``rows`` of a batch on ``device``; ``(B, n_times, 3)``."""
    dtype = torch_dtype(batch.dtype)
    lattice = tuple(batch.lattice_shape)
    n = lattice[-1]

    def tensor(values):  # a copy: the batch's arrays may be read-only
        return torch.from_numpy(np.array(values)).to(device=device, dtype=dtype)

    half = torch.from_numpy(np.array(half_spectra(batch.spectra[rows], n)))
    if half.is_complex():
        half = half.to(torch.complex64 if dtype == torch.float32 else torch.complex128)
    else:
        half = half.to(dtype)
    # the rotations in the state's dtype, as the reference applies them
    pulses = {k: tensor(rotation) for k, rotation in batch.pulses if k > 0}
    with torch.no_grad():
        state = torch.zeros((len(rows), 3, *lattice), dtype=dtype, device=device)
        state[:, 2] = 0.5
        for k, rotation in batch.pulses:  # one at a time, as the reference does
            if k == 0:
                state = apply_pulse(state, tensor(rotation))
        means = evolve(
            state,
            half.to(device),
            tensor(batch.offsets[rows]),
            tuple(
                tensor(a[rows]) for a in (batch.alpha_x, batch.alpha_y, batch.alpha_z)
            ),
            (
                tensor(batch.transverse_decay[rows]),
                tensor(batch.longitudinal_decay[rows]),
            ),
            pulses,
            batch.n_times,
            float(np.dtype(batch.dtype).type(2 * math.pi * batch.dt)),
            relax_z=batch.relaxes_z,
        )
        return means.cpu().numpy()


def _one_thread_group(batch, rows, device):
    torch.set_num_threads(1)  # on this worker thread too (see simulate)
    return _simulate_group(batch, rows, device)


def simulate(batch):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch`.

    On the CPU, torch runs on one thread, and ``batch.n_jobs > 1`` splits the
    echoes into that many groups, each simulated on its own thread (torch
    releases the GIL): a thread count changes how torch splits its
    transforms and sums, and so their rounding, whereas echoes never
    interact, so this split leaves every result as it is.
    """
    device = check_device(getattr(batch, "device", None))
    rows = np.arange(batch.n_echoes)
    n_groups = max(1, min(int(batch.n_jobs), batch.n_echoes))
    if device.type != "cpu":
        n_groups = 1  # the device is the parallelism
    with threads(1):
        if n_groups == 1:
            means = _simulate_group(batch, rows, device)
        else:
            with ThreadPoolExecutor(n_groups) as pool:
                parts = pool.map(
                    _one_thread_group,
                    [batch] * n_groups,
                    np.array_split(rows, n_groups),
                    [device] * n_groups,
                )
                means = np.concatenate(list(parts))
    return means[..., 0] + 1j * means[..., 1], means[..., 2]
