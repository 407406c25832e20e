"""Does a model trained on square lattices read a triangular material's W and L?

Run from the repository root: ``python doc/user_guide/lattices_transfer.py``
(``--n-train``, ``--n-test``, ``--size``; about a minute on 2 cores).

A regressor of W (and one of L) is trained on echoes of the paper's prior
simulated on the ``size x size`` square lattice, then tested on two sets of
the same materials: the same draws of the prior (kernels, lengths, couplings)
and the same disorder (offsets; both lattices have ``size x size`` cells), on
the square lattice and on the triangular one. The targets are each lattice's
own: W does not depend on the lattice, L is computed on it. The numbers go
into the user guide's page on lattices.
"""

import argparse

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.pipeline import make_pipeline

from sknmr import EchoSimulator, EchoWindow, PolynomialSectionFeaturizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=150)
    parser.add_argument("--size", type=int, default=16)
    args = parser.parse_args(argv)

    def simulator(lattice):
        return EchoSimulator(
            lattice=lattice, lattice_size=args.size, backend="numba", n_jobs=2
        )

    square, triangular = simulator("square"), simulator("triangular")
    X_train, train = square.sample(args.n_train, random_state=1)
    X_square, test_square = square.sample(args.n_test, random_state=2)
    X_tri, test_tri = triangular.sample(args.n_test, random_state=2)
    assert test_square[["alpha_xy", "alpha_z", "length"]].equals(
        test_tri[["alpha_xy", "alpha_z", "length"]]
    )

    print(
        f"train: {args.n_train} square {args.size} x {args.size} echoes; "
        f"test: the same {args.n_test} materials on each lattice"
    )
    print(f"{'target':6s} {'test lattice':12s} {'R2':>6s} {'MAE':>8s} {'bias':>8s}")
    for target in ("W", "L"):
        model = make_pipeline(
            EchoWindow(times=square.times),
            PolynomialSectionFeaturizer(),
            HistGradientBoostingRegressor(random_state=0),
        )
        model.fit(X_train, train[target])
        for name, X, table in [
            ("square", X_square, test_square),
            ("triangular", X_tri, test_tri),
        ]:
            y, pred = table[target].to_numpy(), model.predict(X)
            print(
                f"{target:6s} {name:12s} {r2_score(y, pred):6.3f} "
                f"{mean_absolute_error(y, pred):8.4f} {np.mean(pred - y):+8.4f}"
            )


if __name__ == "__main__":
    main()
