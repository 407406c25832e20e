"""The reference backend: the model, written plainly in numpy.

It simulates one echo at a time and favours clarity over speed; the other
backends are checked against it.
"""

import numpy as np

name = "numpy"


def is_available():
    return True


def mean_field(spins, spectrum):
    """``w_i = sum_j Khat(r_j - r_i) <I_j>``: a periodic convolution, done by FFT.

    ``spectrum`` is what multiplies the DFT of the spins (see
    :func:`sknmr.kernels.kernel_spectrum`); it is complex for a kernel that is
    not even under ``r -> -r``, and then the real transform's half spectrum is
    still the right one, as the kernel itself is real.
    """
    shape = spectrum.shape  # the lattice's cells: 2 or 3 axes
    axes = tuple(range(-len(shape), 0))
    half_spectrum = spectrum[..., : shape[-1] // 2 + 1]
    transform = np.fft.rfftn(spins, axes=axes) * half_spectrum
    return np.fft.irfftn(transform, s=shape, axes=axes)


def rotate(spins, field, angle_per_mhz):
    """Rotate each Bloch vector by ``angle_per_mhz * |B|`` about its field ``B``."""
    norm = np.sqrt((field**2).sum(axis=0))
    safe_norm = np.where(norm > 0, norm, 1.0)
    axis = field / safe_norm  # zero where the field vanishes: no rotation
    angle = angle_per_mhz * norm
    cos, sin = np.cos(angle), np.sin(angle)
    along = (axis * spins).sum(axis=0)
    return spins * cos + np.cross(axis, spins, axis=0) * sin + axis * along * (1 - cos)


def relax(spins, transverse_decay, longitudinal_decay):
    """Bloch relaxation over one step, exactly: an affine map of each vector.

    ``<I^x>, <I^y>`` decay by ``exp(-dt / T2)`` and ``<I^z>`` relaxes to the
    thermal value ``+1/2`` as ``1/2 + (<I^z> - 1/2) exp(-dt / T1)``.
    """
    spins[:2] *= transverse_decay
    if longitudinal_decay != 1.0:
        spins[2] = spins[2] * longitudinal_decay + 0.5 * (1.0 - longitudinal_decay)
    return spins


def simulate_echo(spectrum, offsets, alphas, decays, batch):
    """One echo: returns ``M(t)`` (complex) and ``<I^z>(t)``.

    ``alphas`` is ``(alpha_x, alpha_y, alpha_z)`` and ``decays`` the step's
    ``(transverse, longitudinal)`` relaxation factors.
    """
    dtype = batch.dtype
    alpha_x, alpha_y, alpha_z = alphas
    transverse, longitudinal = (dtype.type(d) for d in decays)
    spins = np.zeros((3, *offsets.shape), dtype=dtype)
    spins[2] = 0.5  # every nucleus starts along +z
    # a rotation of every Bloch vector: "ab,bij->aij" on a 2-D lattice
    cells = "ijk"[: offsets.ndim]
    rotate_all = f"ab,b{cells}->a{cells}"
    pulses = {}
    for step, rotation in batch.pulses:
        if step == 0:
            spins = np.einsum(rotate_all, rotation.astype(dtype), spins)
        else:
            pulses[step] = rotation.astype(dtype)
    offsets = offsets.astype(dtype)
    if np.iscomplexobj(spectrum):
        spectrum = spectrum.astype(np.result_type(dtype, np.complex64))
    else:
        spectrum = spectrum.astype(dtype)
    angle_per_mhz = dtype.type(2 * np.pi * batch.dt)

    m = np.empty(batch.n_times, dtype=np.result_type(dtype, np.complex64))
    mz = np.empty(batch.n_times, dtype=dtype)
    m[0], mz[0] = spins[0].mean() + 1j * spins[1].mean(), spins[2].mean()
    for k in range(1, batch.n_times):
        w = mean_field(spins, spectrum)
        # H_i = B_i . I with B_i = (-a_x w_x, -a_y w_y, -(nu_i + a_z w_z))
        field = np.stack(
            [-alpha_x * w[0], -alpha_y * w[1], -(offsets + alpha_z * w[2])]
        ).astype(dtype)
        spins = rotate(spins, field, angle_per_mhz)
        spins = relax(spins, transverse, longitudinal)
        if k in pulses:  # a pulse just before this sample
            spins = np.einsum(rotate_all, pulses[k], spins)
        m[k] = spins[0].mean() + 1j * spins[1].mean()
        mz[k] = spins[2].mean()
    return m, mz


def simulate(batch):
    """Simulate every echo of an :class:`~sknmr._physics.EchoBatch`."""
    mxy, mz = [], []
    for b in range(batch.n_echoes):
        m, z = simulate_echo(
            batch.spectra[b],
            batch.offsets[b],
            (batch.alpha_x[b], batch.alpha_y[b], batch.alpha_z[b]),
            (batch.transverse_decay[b], batch.longitudinal_decay[b]),
            batch,
        )
        mxy.append(m)
        mz.append(z)
    return np.array(mxy), np.array(mz)
