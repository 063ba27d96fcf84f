"""ROUT-style outlier detection for dose-response fits (Motulsky & Brown, BMC Bioinformatics 2006, 7:123).

For every curve:
1. screen: after the least-squares fit, a curve is examined only when some |weighted residual| exceeds
   SCREEN x its robust SD (below that no point can reach the test's threshold, so this only saves time);
2. robust fit: the same model refitted by iteratively reweighted least squares with Cauchy (Lorentzian) weights
   1 / (1 + (r / s)^2) (s = the robust SD of the residuals; ROUT's robust fit is a Lorentzian maximum-likelihood
   fit, which these iterations solve), ROBUST_ITER rounds;
3. test: the robust SD of the residuals, RSDR = P68.27(|r|) x n / (n - K) (K = free parameters), t_i =
   |r_i| / RSDR, two-sided p_i from Student's t on n - K df, and the Benjamini-Hochberg false-discovery-rate rule at
   Q (default 1 %, Prism's default): the points with the k smallest p-values are outliers, k the largest rank with
   p_(k) <= Q k / n. At most a quarter of a curve's points are removed, largest residual first;
4. refit without the outliers, which the results report (``n_outliers`` and flag ``outliers:k``). The outlier
   points stay in every data table with ``outlier = True`` and are drawn with their own marker; nothing is dropped.
"""

from __future__ import annotations

import numpy as np

DEFAULT_Q = 0.01  # false-discovery rate
SCREEN = 3.0  # examine a curve only when a residual exceeds this many robust SDs
ROBUST_ITER = 4
MAX_FRACTION = 0.25  # never remove more than this fraction of a curve's points
ROUNDING = 1e-12  # a robust SD below this x the largest |response| of the curve is rounding, not noise


def robust_sd(r: np.ndarray, valid: np.ndarray, k: np.ndarray) -> np.ndarray:
    """ROUT's RSDR per row: the 68.27th percentile of |r| over the valid points, times n / (n - k)."""
    a = np.where(valid, np.abs(r), np.nan)
    n = valid.sum(axis=1)
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (nothing measured) give NaN
        p68 = np.nanpercentile(a, 68.27, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        return p68 * n / np.maximum(n - k, 1)


def cauchy_weights(r: np.ndarray, valid: np.ndarray, k: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The robust fit's Cauchy (Lorentzian) weights 1 / (1 + (r / s)^2) per point, s = robust_sd of the row.

    y: the (weighted) responses the residuals r come from. A robust SD below ROUNDING x the row's largest |y| is
    rounding error, not noise (an exactly fitted curve), so s is at least that (1.0 when the row is all zero):
    without this floor a residual of ordinary size over an SD of ~1e-200 overflows (r / s)^2. |r| / s is also
    capped at 1e100 (weight ~1e-200, i.e. zero) so extreme weights cannot overflow either.
    """
    s = robust_sd(r, valid, k)
    with np.errstate(invalid="ignore"):
        big = np.max(np.where(valid, np.abs(y), 0.0), axis=1, initial=0.0)
    floor = ROUNDING * np.where(np.isfinite(big), big, 0.0)
    s = np.where(np.isfinite(s) & (s > floor), s, floor)
    s = np.where(s > 0, s, 1.0)
    z = np.minimum(np.abs(np.where(valid, r, 0.0)) / s[:, None], 1e100)
    return 1.0 / (1.0 + z * z)


def rout_mask(r: np.ndarray, valid: np.ndarray, k: np.ndarray, q: float = DEFAULT_Q) -> np.ndarray:
    """(n_curves, n_points) bool: the points the FDR rule calls outliers, from robust-fit residuals r."""
    from scipy import special  # not scipy.stats: its import costs ~1 s of CLI start-up

    n = valid.sum(axis=1)
    df = np.maximum(n - k, 1)
    s = robust_sd(r, valid, k)
    with np.errstate(all="ignore"):
        t = np.abs(r) / s[:, None]
        p = 2.0 * special.stdtr(df[:, None], -t)
    p = np.where(valid & np.isfinite(p), p, np.inf)
    order = np.argsort(p, axis=1, kind="stable")
    ps = np.take_along_axis(p, order, axis=1)
    ranks = np.arange(1, p.shape[1] + 1)[None, :]
    passed = ps <= q * ranks / np.maximum(n[:, None], 1)
    kmax = np.where(passed.any(axis=1), p.shape[1] - np.argmax(passed[:, ::-1], axis=1), 0)
    kmax = np.minimum(kmax, np.floor(MAX_FRACTION * n).astype(int))
    out = np.zeros_like(valid)
    rows = np.repeat(np.arange(len(p)), p.shape[1]).reshape(p.shape)
    take = ranks <= kmax[:, None]
    out[rows[take], order[take]] = True
    return out & valid
