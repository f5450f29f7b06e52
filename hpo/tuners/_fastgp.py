"""Keras Tuner's Bayesian oracle with a cheaper, bit-identical acquisition search.

Keras Tuner picks each Bayesian trial by minimising an upper confidence bound
with L-BFGS-B from 50 random starts, with finite-difference gradients: about
5,000 one-point GP predictions per trial, each mostly Python overhead. Here the
same minimisation hands each gradient's shifted points to the GP as one batch,
through the map-like `workers` hook scipy's L-BFGS-B offers for exactly this,
and skips scikit-learn's re-validation of inputs that are already float64
matrices. The batch's kernel rows come from one call (each row is the same as
alone), but each point's product with alpha and triangular solve still run
alone, with the calls scikit-learn's `predict` makes on one point, because BLAS
sums a batch in another order; so every value, every L-BFGS-B step and every
chosen trial is bit for bit Keras Tuner's (tests/test_fastgp.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.optimize
from keras_tuner.engine import trial as trial_module
from keras_tuner.oracles import BayesianOptimizationOracle
from scipy.linalg import get_lapack_funcs
from sklearn.gaussian_process import GaussianProcessRegressor

NUM_RESTARTS = 50  # Keras Tuner's starts of the acquisition search (a literal in its code)


class QuickPredictGPR(GaussianProcessRegressor):
    """scikit-learn's GP regressor, with `mean_std` for points known to be clean."""

    def predict(  # noqa: N803 (sklearn's name)
        self, X: Any, return_std: bool = False, return_cov: bool = False
    ) -> Any:
        if return_std and not return_cov and self._clean(X):
            return self.mean_std(X)
        return super().predict(X, return_std=return_std, return_cov=return_cov)

    def _clean(self, X: Any) -> bool:  # noqa: N803
        return (
            hasattr(self, "X_train_")
            and isinstance(X, np.ndarray)
            and X.dtype == np.float64
            and X.ndim == 2
            and X.shape[1] == self.X_train_.shape[1]
            and bool(np.all(np.isfinite(X)))
        )

    def mean_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        """Posterior mean and deviation of each row of X, each as `predict` gives it alone.

        scikit-learn's posterior branch of `predict`, step for step; the steps that
        BLAS or LAPACK would sum in another order for a batch (the kernel row's
        product with alpha, the triangular solve and its sum of squares) run per
        row, with the very calls `predict` makes on one row.
        """
        k_all = self.kernel_(X, self.X_train_)  # pairwise distances: per row, as alone
        trtrs, a, lower, trans = self._solver()
        mean = np.empty(len(X))
        explained = np.empty(len(X))
        for i in range(len(X)):
            k_trans = k_all[i : i + 1]
            mean[i] = (k_trans @ self.alpha_)[0]
            v, info = trtrs(a, k_trans.T, lower=lower, trans=trans)
            if info != 0:  # singular: let scikit-learn raise its own error
                return self._alone(X)
            explained[i] = np.einsum("ij,ji->i", v.T, v)[0]
        mean = self._y_train_std * mean + self._y_train_mean
        y_var = self.kernel_.diag(X).copy()
        y_var -= explained
        if np.any(y_var < 0):  # scikit-learn warns and clips; let it do both
            return self._alone(X)
        return mean, np.sqrt(y_var * self._y_train_std**2)

    def _solver(self) -> tuple[Any, np.ndarray, bool, int]:
        """LAPACK's trtrs and its arguments as `solve_triangular(L_, b, lower=True)` calls it."""
        (trtrs,) = get_lapack_funcs(("trtrs",), (self.L_,))
        if self.L_.flags.f_contiguous:
            return trtrs, self.L_, True, 0
        return trtrs, self.L_.T, False, 1  # the transposed system, as scipy solves it

    def _alone(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        pairs = [super(QuickPredictGPR, self).predict(x[None, :], return_std=True) for x in X]
        return np.array([m[0] for m, _ in pairs]), np.array([s[0] for _, s in pairs])


class QuickBayesianOracle(BayesianOptimizationOracle):
    """Keras Tuner's BayesianOptimizationOracle: the same trials, found faster, resumable.

    Keras Tuner's oracle draws the starting points of its acquisition search from
    a NumPy generator it does not save, so a resumed search would propose other
    trials than an uninterrupted one; here the generator's state is saved with
    the oracle's and restored on reload.
    """

    def _make_gpr(self) -> GaussianProcessRegressor:
        return QuickPredictGPR(**super()._make_gpr().get_params(deep=False))

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        # Keras Tuner's populate_space, line for line, but for the `workers` option.
        completed = [t for t in self.trials.values() if t.status == "COMPLETED"]
        dimensions = len(self.hyperparameters.space)
        num_initial_points = self.num_initial_points or max(3 * dimensions, 3)
        if len(completed) < num_initial_points:
            return self._random_populate_space()
        x, y = self._vectorize_trials()
        x = np.nan_to_num(x, posinf=0, neginf=0)
        y = np.nan_to_num(y, posinf=0, neginf=0)
        self.gpr.fit(x, y)

        def upper_confidence_bound(x: np.ndarray) -> np.ndarray:
            mu, sigma = self.gpr.predict(x.reshape(1, -1), return_std=True)
            return mu - self.beta * sigma

        optimal_val, optimal_x = float("inf"), None
        bounds = self._get_hp_bounds()
        x_seeds = self._random_state.uniform(
            bounds[:, 0], bounds[:, 1], size=(NUM_RESTARTS, bounds.shape[0])
        )
        options = {"workers": self._batch_map()}
        for x_try in x_seeds:
            result = scipy.optimize.minimize(
                upper_confidence_bound, x0=x_try, bounds=bounds, method="L-BFGS-B", options=options
            )
            result_fun = float(np.ravel(result.fun)[0])  # a scalar or a one-element array
            if result_fun < optimal_val:
                optimal_val, optimal_x = result_fun, result.x
        values = self._vector_to_values(optimal_x)
        return {"status": trial_module.TrialStatus.RUNNING, "values": values}

    def _batch_map(self) -> Callable[[Any, Iterable[np.ndarray]], list[np.ndarray]]:
        """A map for scipy's finite differences: their points' bounds in one GP call."""
        gpr = self.gpr

        def batch(fun: Any, points: Iterable[np.ndarray]) -> list[np.ndarray]:
            xs = np.array(list(points), dtype=np.float64)
            if not isinstance(gpr, QuickPredictGPR) or not gpr._clean(xs):
                return list(map(fun, xs))
            mu, sigma = gpr.mean_std(xs)
            return [np.atleast_1d(v) for v in mu - self.beta * sigma]

        return batch

    def get_state(self) -> dict[str, Any]:
        name, keys, pos, has_gauss, cached = self._random_state.get_state()
        return {
            **super().get_state(),
            "random_state": [name, keys.tolist(), pos, has_gauss, cached],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if "random_state" in state:
            name, keys, pos, has_gauss, cached = state["random_state"]
            self._random_state.set_state(
                (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached)
            )
