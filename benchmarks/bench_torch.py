"""Benchmark of the torch backend and of gradients through it (sknmr.autodiff).

Run::

    python benchmarks/bench_torch.py                    # CPU: all sections
    python benchmarks/bench_torch.py --grad-tau 20      # a shorter gradient echo
    python benchmarks/bench_torch.py --grad-segment 24  # checkpointed gradient
    python benchmarks/bench_torch.py --device cuda      # GPU: 15000 float32 echoes,
                                                        # torch beside numba-cuda
    python benchmarks/bench_torch.py --json out.json    # keep the numbers

It reports

1. agreement of the torch backend with the numpy reference (max |difference|)
   over every kernel form, the model tests' sequences (Hahn, CPMG,
   stimulated, pulses at step 0) and T1/T2 relaxation, in float64 (goal
   1e-12) and float32 (goal 2e-5), and of ``sknmr.autodiff.simulate``'s
   forward pass (float64);
2. gradients against central finite differences (float64, 16 x 16) for
   every differentiable input: the largest relative difference (goal 1e-6);
3. the CPU cost: forward seconds per echo and step of the torch and numba
   backends in one run, and the gradient of one paper-size echo against
   its forward pass (timed in turn ``--repeats`` times, the fastest of each
   kept, as ratios of wall and of CPU time), with the peak resident memory
   of the gradient (one more run, before them);
4. with ``--device cuda``: the paper's 15000 echoes (float32) with the torch
   backend on the GPU beside the numba-cuda backend (``bench_cuda.py``'s
   end-to-end convention: ``EchoSimulator.simulate`` on a prior table), and
   a paper-size gradient on the GPU.
"""

import argparse
import json
import math
import os
import sys
import threading
import time

import numpy as np
import torch

from sknmr import EchoSimulator
from sknmr._backends import available_backends
from sknmr.autodiff import DifferentiableSequence, plan_segments, simulate
from sknmr.prior import sample_prior
from sknmr.sequences import Pulse, PulseSequence, cpmg, stimulated_echo

PAPER_ECHOES = 15000
F64 = torch.float64
KERNEL_ROWS = {
    "kernel": ["gaussian", "power", "rkky", "uniform", "gaussian", "power", "rkky"],
    "length": [3.0, 2.0, 13.0, 2.0, 2.5, 1.5, 20.0],
    "alpha_x": [0.05, 0.04, 0.03, 0.06, 0.05, 0.02, 0.1],
    "alpha_y": [0.03, 0.05, 0.02, 0.01, 0.05, 0.04, 0.1],
    "alpha_z": [0.02, 0.0, 0.05, 0.03, 0.04, 0.06, 0.05],
    "t1": [50.0, np.nan, 80.0, np.nan, np.nan, 40.0, np.nan],
    "t2": [30.0, 20.0, np.nan, np.nan, np.nan, 60.0, np.nan],
    "exponent": [np.nan, np.nan, np.nan, np.nan, 1.3, np.nan, np.nan],
    "p_wave": [np.nan, 0.4, np.nan, np.nan, np.nan, np.nan, np.nan],
    "d_wave": [np.nan, np.nan, np.nan, 0.3, np.nan, np.nan, 0.2],
    "staggered": [np.nan, np.nan, np.nan, np.nan, 1.0, np.nan, np.nan],
}
SEQUENCES = {
    "hahn": None,
    "cpmg": cpmg(2.0, n_echoes=3),
    "stimulated": stimulated_echo(2.0, mixing_time=1.0),
    "step0": PulseSequence(
        [Pulse(0.0, 120.0, 45.0), Pulse(0.1, 30.0, "y"), Pulse(2.0, 200.0, "-y")], 6.0
    ),
}


def _small(backend, sequence, dtype, n=16, **kw):
    settings = {"lattice_size": n, "dt": 0.1, "random_state": 0, "output": "complex"}
    if sequence is None:
        settings["tau"] = 2.0
    return EchoSimulator(
        backend=backend, sequence=sequence, dtype=dtype, **settings, **kw
    )


def agreement():
    print("== agreement with the numpy reference (16x16, every kernel form) ==")
    out = {}
    for name, sequence in SEQUENCES.items():
        for dtype in ("float64", "float32"):
            ref = _small("numpy", sequence, dtype).simulate(KERNEL_ROWS)
            got = _small("torch", sequence, dtype).simulate(KERNEL_ROWS)
            out[f"{name}_{dtype}"] = diff = float(np.abs(got - ref).max())
            print(f"  backend  {name:10s} {dtype}: max |diff| {diff:.2e}")
        rows = {
            k: v
            if k == "kernel"
            else torch.tensor(np.nan_to_num(v, nan=1e9), dtype=F64)
            for k, v in KERNEL_ROWS.items()
            if k not in ("exponent", "p_wave", "d_wave", "staggered")
        }
        rows["t2"] = torch.where(rows["t2"] > 1e8, 2 * rows["t1"], rows["t2"])
        plain = {k: v if k == "kernel" else v.numpy() for k, v in rows.items()}
        ref = _small("numpy", sequence, "float64").simulate(plain)
        got = simulate(_small("torch", sequence, "float64"), rows).numpy()
        out[f"{name}_autodiff"] = diff = float(np.abs(got - ref).max())
        print(f"  autodiff {name:10s} float64: max |diff| {diff:.2e}")
    return out


GRAD_INPUTS = [
    ("alpha_x", "power", {"alpha_x": 0.3, "alpha_y": 0.2}),
    ("alpha_y", "power", {"alpha_x": 0.3, "alpha_y": 0.2}),
    ("alpha_xy", "rkky", {"alpha_xy": 0.3}),
    ("alpha_z", "gaussian", {"alpha_xy": 0.3}),
    ("length", "gaussian", {"alpha_xy": 0.3}),
    ("length", "power", {"alpha_xy": 0.3}),
    ("length", "rkky", {"alpha_xy": 0.3}),
    ("exponent", "gaussian", {"alpha_xy": 0.3, "exponent": 1.4}),
    ("s_wave", "gaussian", {"alpha_xy": 0.3, "s_wave": 0.8, "p_wave": 0.3}),
    ("p_wave", "power", {"alpha_xy": 0.3, "p_wave": 0.4}),
    ("d_wave", "gaussian", {"alpha_xy": 0.3, "d_wave": 0.3}),
    ("t1", "gaussian", {"alpha_xy": 0.3, "t1": 3.0}),
    ("t2", "gaussian", {"alpha_xy": 0.3, "t1": 3.0, "t2": 2.0}),
    ("linewidth", "gaussian", {"alpha_xy": 0.3, "linewidth": 0.5}),
]
LENGTHS = {"gaussian": 1.5, "power": 1.5, "rkky": 5.0}


def gradients(n=16):
    print(f"\n== gradients against central finite differences ({n}x{n}, float64) ==")
    simulator = EchoSimulator(
        lattice_size=n,
        dt=0.1,
        tau=1.0,
        random_state=0,
        output="complex",
        pulse_angle=70.0,
    )
    worst = {}
    for name, kernel, extra in GRAD_INPUTS:
        row = {"length": LENGTHS[kernel], "alpha_z": 0.2, **extra}

        def loss(value, grad, name=name, row=row, kernel=kernel):
            x = torch.tensor(value, dtype=F64, requires_grad=grad)
            params = {k: torch.tensor(v, dtype=F64) for k, v in row.items()}
            params[name] = x
            echo = torch.view_as_real(simulate(simulator, {"kernel": kernel, **params}))
            w = torch.linspace(-1, 1, echo.numel(), dtype=F64).reshape(echo.shape)
            return (w * echo).sum(), x

        value = row[name]
        out, x = loss(value, True)
        out.backward()
        h = 1e-5 * abs(value)
        fd = float((loss(value + h, False)[0] - loss(value - h, False)[0]) / (2 * h))
        rel = abs(float(x.grad) - fd) / abs(fd)
        worst[f"{name}_{kernel}"] = rel
        print(
            f"  d/d{name:9s} ({kernel:8s}): autograd {float(x.grad):+.10e}  "
            f"FD {fd:+.10e}  rel {rel:.1e}"
        )
    # pulse angles and phases
    sequence = PulseSequence([Pulse(0.0, 80.0, 10.0), Pulse(1.0, 150.0, 100.0)], 3.0)
    params = {"kernel": "gaussian", "length": 1.5, "alpha_xy": 0.3, "alpha_z": 0.2}
    for which, base in (("angles", [80.0, 150.0]), ("phases", [10.0, 100.0])):

        def loss(values, which=which):
            seq = DifferentiableSequence(sequence, **{which: values})
            echo = torch.view_as_real(simulate(simulator, params, seq))
            w = torch.linspace(-1, 1, echo.numel(), dtype=F64).reshape(echo.shape)
            return (w * echo).sum()

        x = torch.tensor(base, dtype=F64, requires_grad=True)
        loss(x).backward()
        for i in range(2):
            e = torch.zeros(2, dtype=F64)
            e[i] = 1e-4
            b = torch.tensor(base, dtype=F64)
            fd = float((loss(b + e) - loss(b - e)) / 2e-4)
            rel = abs(float(x.grad[i]) - fd) / abs(fd)
            worst[f"{which}_{i}"] = rel
            print(
                f"  d/d{which}[{i}]           : autograd {float(x.grad[i]):+.10e}  "
                f"FD {fd:+.10e}  rel {rel:.1e}"
            )
    print(f"  largest relative difference: {max(worst.values()):.1e} (goal 1e-6)")
    return worst


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled)."""

    def __enter__(self):
        self.peak = self.base = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def _prior(n, seed):
    columns = ["kernel", "length", "alpha_xy", "alpha_z"]
    return sample_prior(n, random_state=seed)[columns].reset_index(drop=True)


def cpu_cost(n, tau, grad_tau, n_echoes, seed, threads, repeats=3, segment=None):
    print(f"\n== CPU cost ({n}x{n}; {threads} thread(s)) ==")
    out = {}
    params = _prior(n_echoes, seed)
    for backend in [b for b in ("numba", "torch") if b in available_backends()]:
        sim = EchoSimulator(
            lattice_size=n,
            tau=tau,
            backend=backend,
            random_state=seed,
            n_jobs=threads,
            batch_size=n_echoes,
        )
        # compile / warm up on a small lattice first
        EchoSimulator(lattice_size=8, tau=2.0, backend=backend).simulate(
            _prior(2, seed)
        )
        t0 = time.perf_counter()
        sim.simulate(params)
        seconds = time.perf_counter() - t0
        per = seconds / (n_echoes * (sim.n_times - 1))
        out[f"{backend}_seconds_per_echo_step"] = per
        print(
            f"  forward {backend:6s}: {n_echoes} echoes x {sim.n_times - 1} steps in "
            f"{seconds:.2f} s = {per * 1e3:.3f} ms per echo-step (float64)"
        )
    sim = EchoSimulator(lattice_size=n, tau=grad_tau, random_state=seed, n_jobs=threads)
    row = params.iloc[0]
    plain = {name: float(row[name]) for name in ("length", "alpha_xy", "alpha_z")}
    if segment is None:
        segment = plan_segments(1, n, sim.n_times, np.float64)

    def forward():
        with torch.no_grad():
            simulate(sim, {"kernel": row["kernel"], **plain})

    def gradient():
        tensors = {
            name: torch.tensor(value, dtype=F64, requires_grad=True)
            for name, value in plain.items()
        }
        tensors["linewidth"] = torch.tensor(0.08, dtype=F64, requires_grad=True)
        echo = simulate(sim, {"kernel": row["kernel"], **tensors}, segment=segment)
        echo[0, 2 * sim.n_tau].backward()

    # autograd's first backward pass sets things up once (seconds): warm it
    small = EchoSimulator(lattice_size=8, tau=2.0, random_state=seed)
    warm = torch.tensor(0.05, dtype=F64, requires_grad=True)
    simulate(
        small, {"kernel": "gaussian", "length": 2.0, "alpha_xy": warm, "alpha_z": 0.0}
    )[0, -1].backward()
    # the forward pass runs on the simulator's n_jobs threads, the backward
    # pass on torch's: the same count for both
    torch.set_num_threads(threads)
    # the memory first, before the timed runs leave freed memory resident; the
    # sampling thread costs CPU time, so this run is not timed
    with PeakRSS() as rss:
        gradient()
    # forward and gradient in turn, so that a load on the machine weighs on
    # both alike; the fastest of each, in wall and in CPU time
    best = {key: math.inf for key in ("fw", "fc", "gw", "gc")}
    for _ in range(repeats):
        for key, run in (("f", forward), ("g", gradient)):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            best[key + "w"] = min(best[key + "w"], time.perf_counter() - t0)
            best[key + "c"] = min(best[key + "c"], time.process_time() - c0)
    torch.set_num_threads(1)
    out.update(
        grad_tau=grad_tau,
        grad_steps=sim.n_times - 1,
        repeats=repeats,
        forward_s=best["fw"],
        gradient_s=best["gw"],
        gradient_over_forward=best["gw"] / best["fw"],
        forward_cpu_s=best["fc"],
        gradient_cpu_s=best["gc"],
        gradient_over_forward_cpu=best["gc"] / best["fc"],
        gradient_peak_rss_bytes=rss.peak,
        gradient_rss_growth_bytes=rss.peak - rss.base,
        segment=segment,
    )
    print(
        f"  one echo, {sim.n_times - 1} steps (tau={grad_tau}), gradient of 4 inputs, "
        f"fastest of {repeats}; segments of {segment} steps (goal <= 5x):"
    )
    print(
        f"    wall time: forward {best['fw']:.2f} s, gradient {best['gw']:.2f} s = "
        f"{best['gw'] / best['fw']:.2f}x"
    )
    print(
        f"    CPU time (this process): forward {best['fc']:.2f} s, gradient "
        f"{best['gc']:.2f} s = {best['gc'] / best['fc']:.2f}x"
    )
    growth = (rss.peak - rss.base) / 2**20
    print(
        f"    peak RSS {rss.peak / 2**30:.2f} GiB (+{growth:.0f} MiB during the "
        "gradient; goal 4 GB)"
    )
    return out


def gpu(device, n_echoes, batch_size, seed, grad_tau):
    print(
        f"\n== GPU ({torch.cuda.get_device_name(device)}): {n_echoes} paper echoes, "
        "float32 =="
    )
    out = {}
    params = _prior(n_echoes, seed)
    runs = [("torch", {"backend": "torch", "device": device})]
    if "cuda" in available_backends():
        runs.append(("numba-cuda", {"backend": "cuda"}))
    else:
        print("  (numba-cuda is not usable here: only torch is measured)")
    for name, kw in runs:
        warm = EchoSimulator(lattice_size=8, tau=2.0, dtype="float32", **kw)
        warm.simulate(_prior(2, seed))
        sim = EchoSimulator(
            dtype="float32", random_state=seed, batch_size=batch_size, **kw
        )
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        echoes = sim.simulate(params)
        seconds = time.perf_counter() - t0
        out[f"{name}_seconds"] = seconds
        out[f"{name}_echoes"] = echoes
        print(
            f"  {name:10s}: {n_echoes} echoes in {seconds:.1f} s "
            f"({n_echoes / seconds:.0f} echoes/s, 15000 ~ "
            f"{PAPER_ECHOES * seconds / n_echoes:.1f} s; batch {batch_size})"
        )
    if len(runs) == 2:
        diff = float(np.abs(out["torch_echoes"] - out["numba-cuda_echoes"]).max())
        out["torch_vs_numba_cuda_max_diff"] = diff
        print(f"  torch vs numba-cuda echoes: max |diff| {diff:.1e}")
    for name, _ in runs:
        out.pop(f"{name}_echoes")
    sim = EchoSimulator(tau=grad_tau, random_state=seed, device=device, backend="torch")
    tensors = {
        k: torch.tensor(v, dtype=F64, device=device, requires_grad=True)
        for k, v in (("alpha_xy", 0.05), ("alpha_z", 0.05), ("length", 12.0))
    }
    for _ in range(2):  # the first includes CUDA's start-up
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        echo = simulate(sim, {"kernel": "gaussian", **tensors})
        echo[0, 2 * sim.n_tau].backward()
        torch.cuda.synchronize()
        gradient = time.perf_counter() - t0
    out.update(
        gpu_gradient_s=gradient,
        gpu_gradient_peak_bytes=torch.cuda.max_memory_allocated(device),
    )
    print(
        f"  gradient of one 100x100 float64 echo, tau={grad_tau}: {gradient:.2f} s, "
        f"peak {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB"
    )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lattice-size", type=int, default=100)
    parser.add_argument(
        "--tau", type=float, default=20.0, help="tau (us) of the forward timing echoes"
    )
    parser.add_argument(
        "--grad-tau",
        type=float,
        default=100.0,
        help="tau (us) of the gradient echo (paper: 100)",
    )
    parser.add_argument(
        "--echoes", type=int, default=8, help="echoes of the CPU forward timing"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="forward and gradient timings, taken in turn (the fastest kept)",
    )
    parser.add_argument(
        "--grad-segment",
        type=int,
        default=None,
        help="steps per checkpointed segment of the gradient (default: planned)",
    )
    parser.add_argument("--gpu-echoes", type=int, default=PAPER_ECHOES)
    parser.add_argument("--gpu-batch", type=int, default=1024)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["agreement", "gradients", "cpu"]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    report = {"torch": torch.__version__, "device": args.device}
    if args.device != "cpu":
        if not torch.cuda.is_available():
            sys.exit(f"bench_torch: torch sees no GPU for --device {args.device}.")
        report["gpu"] = gpu(
            args.device, args.gpu_echoes, args.gpu_batch, args.seed, args.grad_tau
        )
    else:
        if "agreement" not in args.skip:
            report["agreement"] = agreement()
        if "gradients" not in args.skip:
            report["gradients"] = gradients()
        if "cpu" not in args.skip:
            report["cpu"] = cpu_cost(
                args.lattice_size,
                args.tau,
                args.grad_tau,
                args.echoes,
                args.seed,
                args.threads,
                args.repeats,
                args.grad_segment,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
