#!/usr/bin/env python3
"""Independent JAX check of a `tangent linearize --dump DIR` audit bundle.

Usage: python tools/audit/jax_audit.py DIR

The network is rebuilt in float64 JAX from model.json and theta0.npy alone, following the
definitions of autodiff/src/mlp/net.rs: for layer l with input width n_in,

    NTK parameterisation:       z = σ_w/√n_in · W a + σ_b · b
    standard parameterisation:  z = W a + b

with a = φ(z) after every layer but the last; θ holds W (shape [out, in], row-major) and then
b, layer by layer. From that network the script recomputes

    f0_train          f(X; θ₀)
    ntk_train         K = J Jᵀ, J = ∂f(X)/∂θ at θ₀, rows ordered i·o + a         (kernel "full")
                      K̄_ij = (1/o) Σ_a K[(i,a),(j,a)]                           (kernel "traced")
    alpha             α = (K + λI)⁻¹ (Y − f0), λ as given (not scaled by n); for the traced
                      kernel each of the o output columns is solved with K̄
    pred_test_newton  f(X*; θ₀) + K(X*, X) α

and checks that the bundle's α solves the bundle's own system (K + λI) α = Y − f0. It prints
one line per quantity and exits 0 when all agree, 1 when any disagrees, and 2 when the bundle
is missing, incomplete or inconsistent (or JAX is not installed), with a message instead of a
traceback.
"""

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_BUNDLE = 0, 1, 2

# The audit is a float64 CPU computation: an accelerator backend could pick other matmul
# algorithms and make the f64 thresholds below meaningless.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
try:
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import erf
except ImportError as e:
    print(
        f"jax_audit: {e.name or 'a dependency'} is not installed; "
        "run `pip install -r tools/audit/requirements.txt`",
        file=sys.stderr,
    )
    sys.exit(EXIT_BAD_BUNDLE)

# Without this JAX silently computes in float32, which would hide exactly the errors we hunt.
jax.config.update("jax_enable_x64", True)

# Thresholds on relative errors ‖ours − bundle‖_F / ‖ours‖_F, by the bundle's dtype.
#
# forward (f0, K): an f64 bundle differs from JAX only by summation order, a few ulps per
#   layer (1e-16 to 1e-15 in practice), so 1e-8 leaves seven orders of margin and still
#   catches any real mistake (a wrong scale, layout or activation shows at 1e-4 or far above).
#   An f32 bundle carries float32 rounding (unit roundoff 6e-8, accumulated over sums as long
#   as a layer's width: about 1e-7 in practice), so 1e-3 is loose by four orders yet still far
#   below the effect of a wrong formula.
# residual: the Newton solve runs in f64 for either dtype. A backward-stable Cholesky in f64
#   leaves a normwise backward error of a few N·ε₆₄ (≤ 1e-12 for N ≤ 10⁴). For an f32 bundle
#   two float32-sized effects add to it: y_train.npy holds Y rounded to float32 while the solve
#   used Y itself, and when K + λI is not positive definite in float32 the code solves with K's
#   negative eigenvalues (≈ ε₃₂·‖K‖) clamped to 0; both are of order 1e-7, hence 1e-5.
TOLERANCE = {
    "f64": {"forward": 1e-8, "residual": 1e-10},
    "f32": {"forward": 1e-3, "residual": 1e-5},
}

# α and the predictions made from it inherit the forward discrepancies amplified by the
# conditioning of K + λI (see `audit`): their threshold is SAFETY times that first-order bound,
# the factor covering the rounding of the solves themselves, but never below the forward
# threshold and never above SOLVE_CAP. Past 1% the bundle no longer reproduces the Newton step
# of exact arithmetic, whatever the reason, and the audit says so instead of passing anything.
SAFETY = 10.0
SOLVE_CAP = 1e-2

BUNDLE_FILES = (
    "model.json",
    "theta0.npy",
    "x_train.npy",
    "y_train.npy",
    "x_test.npy",
    "f0_train.npy",
    "ntk_train.npy",
    "alpha.npy",
    "pred_test_newton.npy",
)

# Upper bound on the bytes of one block of a Jacobian, so that many inputs are differentiated
# in pieces instead of all at once.
JACOBIAN_BLOCK_BYTES = 256 << 20


class BundleError(Exception):
    """The bundle cannot be audited: a file is missing, unreadable or inconsistent."""


@dataclass
class Bundle:
    """The parsed bundle, checked for internal consistency."""

    path: Path
    widths: list  # [n₀ (input), n₁, …, n_L (output)]
    activation: str
    slope: float  # leaky-ReLU slope for negative inputs; unused otherwise
    parameterization: str
    sigma_w: float
    sigma_b: float
    lam: float
    dtype: str
    kernel: str
    theta0: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    f0_train: np.ndarray
    ntk_train: np.ndarray
    alpha: np.ndarray
    pred_test: np.ndarray
    # τ: eigenvalues of K at or below it were treated as its null space by the Newton step's
    # fallback (model.json's newton_solver, method "eigen"); 0 for a Cholesky solve.
    rounding_level: float = 0.0


# --------------------------------------------------------------------------------------------
# The activations of autodiff/src/unary.rs, φ(z, leaky slope)


def _relu(z):
    # A `where` on z > 0 has derivative 0 at z = 0, as in autodiff/src/unary.rs; jnp.maximum
    # would give 1/2 there.
    return jnp.where(z > 0, z, 0.0)


ACTIVATIONS = {
    "identity": lambda z, _: z,
    "relu": lambda z, _: _relu(z),
    "leaky-relu": lambda z, slope: jnp.where(z > 0, z, slope * z),
    "tanh": lambda z, _: jnp.tanh(z),
    "sigmoid": lambda z, _: jax.nn.sigmoid(z),
    "softplus": lambda z, _: jax.nn.softplus(z),
    "erf": lambda z, _: erf(z),
    # The exact (erf) GELU x·Φ(x); the tanh approximation differs by up to 1e-3.
    "gelu": lambda z, _: jax.nn.gelu(z, approximate=False),
}


# --------------------------------------------------------------------------------------------
# Reading the bundle


def expected_layout(widths):
    """The parameter layout of autodiff/src/mlp/layout.rs: per layer W [out, in], then b."""
    layout, offset = [], 0
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        layout.append({"name": f"W{layer}", "shape": [n_out, n_in], "offset": offset})
        offset += n_out * n_in
        layout.append({"name": f"b{layer}", "shape": [n_out], "offset": offset})
        offset += n_out
    return layout, offset


def parse_activation(name):
    """(activation, leaky slope) from model.json's name, e.g. 'relu' or 'leaky-relu(0.01)'."""
    name = name.strip().lower()
    leaky = re.fullmatch(r"leaky[-_]relu(?:\((.+)\))?", name)
    if leaky:
        # The bare name is what the CLI accepts; its slope is then the CLI's default, 0.01.
        try:
            slope = float(leaky.group(1)) if leaky.group(1) else 0.01
        except ValueError:
            slope = float("nan")
        if not np.isfinite(slope):
            raise BundleError(f"model.json: cannot read a finite slope in activation '{name}'")
        return "leaky-relu", slope
    if name == "linear":
        name = "identity"
    if name not in ACTIVATIONS:
        known = ", ".join(sorted(ACTIVATIONS))
        raise BundleError(f"model.json: unknown activation '{name}' (expected one of {known})")
    return name, 0.0


def load_array(path, shape):
    """A float .npy file as float64, checked against `shape`: ints are exact sizes, names
    (such as "n") stand for any positive size."""
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise BundleError(f"{path.name}: not a readable .npy file ({e})")
    if not np.issubdtype(a.dtype, np.floating):
        raise BundleError(f"{path.name}: dtype {a.dtype}, expected floating point")
    fits = len(a.shape) == len(shape) and all(
        size == want if isinstance(want, int) else size > 0 for size, want in zip(a.shape, shape)
    )
    if not fits:
        expected = "(" + ", ".join(str(w) for w in shape) + ("," if len(shape) == 1 else "") + ")"
        raise BundleError(f"{path.name}: shape {a.shape}, expected {expected}")
    return a.astype(np.float64)


def field(model, key, kind):
    if key not in model:
        raise BundleError(f"model.json: missing key '{key}'")
    value = model[key]
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise BundleError(f"model.json: '{key}' = {value!r} is not a finite number")
        return float(value)
    if not isinstance(value, kind):
        raise BundleError(f"model.json: '{key}' = {value!r} is not a {kind.__name__}")
    return value


def load_bundle(path):
    if not path.is_dir():
        raise BundleError(f"{path}: not a directory")
    missing = [f for f in BUNDLE_FILES if not (path / f).is_file()]
    if missing:
        raise BundleError(f"{path}: incomplete bundle, missing {', '.join(missing)}")
    try:
        model = json.loads((path / "model.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"model.json: not valid JSON ({e})")
    if not isinstance(model, dict):
        raise BundleError("model.json: expected a JSON object")

    widths = field(model, "layer_widths", list)
    positive = all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths)
    if len(widths) < 2 or not positive:
        raise BundleError(f"model.json: layer_widths {widths} must be two or more positive sizes")
    if "widths" in model and model["widths"] != widths[1:-1]:
        raise BundleError(
            f"model.json: hidden widths {model['widths']} disagree with layer_widths {widths}"
        )
    layout, p = expected_layout(widths)
    given = field(model, "layout", list)
    if given != layout:
        raise BundleError(
            "model.json: the parameter layout is not W [out, in] then b, layer by layer, "
            f"for layer_widths {widths}"
        )

    activation, slope = parse_activation(field(model, "activation", str))
    parameterization = field(model, "parameterization", str).lower()
    if parameterization not in ("ntk", "standard"):
        raise BundleError(
            f"model.json: unknown parameterization '{parameterization}' (expected ntk or standard)"
        )
    dtype = field(model, "dtype", str).lower()
    if dtype not in TOLERANCE:
        raise BundleError(f"model.json: unknown dtype '{dtype}' (expected f32 or f64)")
    kernel = field(model, "kernel", str).lower()
    if kernel not in ("full", "traced"):
        raise BundleError(f"model.json: unknown kernel '{kernel}' (expected full or traced)")
    lam = field(model, "lambda", float)
    if lam <= 0:
        raise BundleError(f"model.json: lambda = {lam} must be positive")
    sigma_w, sigma_b = field(model, "sigma_w", float), field(model, "sigma_b", float)

    d, o = widths[0], widths[-1]
    theta0 = load_array(path / "theta0.npy", (p,))
    x_train = load_array(path / "x_train.npy", ("n", d))
    x_test = load_array(path / "x_test.npy", ("m", d))
    n, m = x_train.shape[0], x_test.shape[0]
    y_train = load_array(path / "y_train.npy", (n, o))
    f0_train = load_array(path / "f0_train.npy", (n, o))
    side = n * o if kernel == "full" else n
    ntk_train = load_array(path / "ntk_train.npy", (side, side))
    alpha = load_array(path / "alpha.npy", (n, o))
    pred_test = load_array(path / "pred_test_newton.npy", (m, o))
    # Non-finite inputs leave nothing to compare; non-finite outputs are simply disagreements.
    inputs = {"theta0": theta0, "x_train": x_train, "y_train": y_train, "x_test": x_test}
    for name, a in inputs.items():
        if not np.all(np.isfinite(a)):
            raise BundleError(f"{name}.npy: holds non-finite values")

    solver = model.get("newton_solver", {"method": "cholesky"})
    method = solver.get("method") if isinstance(solver, dict) else None
    if method not in ("cholesky", "eigen"):
        raise BundleError(f"model.json: unknown newton_solver {solver!r}")
    tau = 0.0
    if method == "eigen":
        tau = field(solver, "rounding_level", float)
        if not (np.isfinite(tau) and tau >= 0):
            raise BundleError(f"model.json: newton_solver rounding_level {tau} must be ≥ 0")

    return Bundle(
        path, widths, activation, slope, parameterization, sigma_w, sigma_b, lam, dtype,
        kernel, theta0, x_train, y_train, x_test, f0_train, ntk_train, alpha, pred_test, tau,
    )


# --------------------------------------------------------------------------------------------
# The network and its kernel


def network(b):
    """f(θ, X) → (n, o) for the bundle's architecture."""
    phi = ACTIVATIONS[b.activation]
    layers = []
    offset = 0
    for n_in, n_out in zip(b.widths[:-1], b.widths[1:]):
        if b.parameterization == "ntk":
            scales = (b.sigma_w / np.sqrt(n_in), b.sigma_b)
        else:
            scales = (1.0, 1.0)
        layers.append((offset, n_in, n_out, scales))
        offset += n_out * (n_in + 1)

    def f(theta, x):
        h = x
        for index, (off, n_in, n_out, (w_scale, b_scale)) in enumerate(layers):
            w = theta[off : off + n_out * n_in].reshape(n_out, n_in)
            bias = theta[off + n_out * n_in : off + n_out * (n_in + 1)]
            h = w_scale * (h @ w.T) + b_scale * bias
            if index + 1 < len(layers):
                h = phi(h, b.slope)
        return h

    return f


def jacobian_blocks(f, theta, x, o):
    """∂f(X)/∂θ as (rows, o, p) arrays over consecutive blocks of rows of X, to bound memory."""
    # One reverse pass per sample and output, each through its own sample only: jacrev of the
    # batched f would push every cotangent through the whole block.
    per_sample = jax.jacrev(lambda t, xi: f(t, xi[None, :])[0])
    jac = jax.jit(jax.vmap(per_sample, in_axes=(None, 0)))
    rows = max(1, JACOBIAN_BLOCK_BYTES // (8 * o * theta.size))
    for start in range(0, x.shape[0], rows):
        yield np.asarray(jac(theta, x[start : start + rows]))


def jacobian(f, theta, x, o):
    """The whole (n, o, p) Jacobian, filled block by block."""
    out = np.empty((x.shape[0], o, theta.size))
    start = 0
    for block in jacobian_blocks(f, theta, x, o):
        out[start : start + block.shape[0]] = block
        start += block.shape[0]
    return out


def kernel(j1, j2, form):
    """Θ(X₁, X₂) = J₁ J₂ᵀ: full ((n₁·o)×(n₂·o), row i·o + a) or output-traced (n₁×n₂)."""
    if form == "full":
        return j1.reshape(-1, j1.shape[2]) @ j2.reshape(-1, j2.shape[2]).T
    o = j1.shape[1]
    return sum(j1[:, a, :] @ j2[:, a, :].T for a in range(o)) / o


def ridge(k, lam, rhs, tau=0.0):
    """(α, λ_min(K), λ_max(K)) for (K + λI) α = rhs, by the eigendecomposition of K.

    As experiments/src/tangent/kernel_ridge.rs: for τ > 0 (the bundle's fallback) the
    eigenvalues at or below τ are K's null space and drop out of α; otherwise negative ones
    are clamped to 0, which for the positive semi-definite K of f64 autodiff is the plain solve.
    λ_min is that of the eigenvalues kept.
    """
    values, vectors = np.linalg.eigh((k + k.T) / 2)
    keep = values > tau if tau > 0 else np.ones_like(values, dtype=bool)
    values = np.maximum(values, 0.0)
    scale = np.where(keep, 1.0 / (values + lam), 0.0)
    alpha = vectors @ ((vectors.T @ rhs) * scale[:, None])
    kept = values[keep]
    return alpha, kept[0], kept[-1]


def kept_projector(k, tau):
    """P = V_kept V_keptᵀ for K's eigenvalues above τ, or None when nothing was dropped."""
    if tau <= 0:
        return None
    values, vectors = np.linalg.eigh((k + k.T) / 2)
    v = vectors[:, values > tau]
    return v @ v.T


# --------------------------------------------------------------------------------------------
# The comparison


def norm(a):
    return float(np.linalg.norm(np.ravel(a)))


def rel_err(ours, theirs):
    """‖ours − theirs‖ / ‖ours‖, JAX's value as the reference; NaN anywhere gives NaN."""
    diff, scale = norm(np.asarray(ours) - np.asarray(theirs)), norm(ours)
    if scale == 0.0:
        return diff
    return diff / scale


@dataclass
class Row:
    quantity: str
    against: str
    error: float
    threshold: float

    @property
    def ok(self):
        # Written so that a NaN error fails.
        return bool(self.error <= self.threshold)


def audit(b):
    """The comparison rows, κ(K + λI), and notes explaining a failure where one is known."""
    tol = TOLERANCE[b.dtype]
    f = network(b)
    theta = jnp.asarray(b.theta0)
    n, o = b.y_train.shape
    x_train, x_test = jnp.asarray(b.x_train), jnp.asarray(b.x_test)

    # The full kernel's system has one right-hand side of length n·o (index i·o + a); the
    # traced one has o right-hand sides of length n sharing K̄.
    def as_rhs(a):
        return a.reshape(-1, 1) if b.kernel == "full" else a

    f0 = np.asarray(f(theta, x_train))
    j_train = jacobian(f, theta, x_train, o)
    k = kernel(j_train, j_train, b.kernel)
    r = as_rhs(b.y_train - f0)
    alpha, k_min, k_max = ridge(k, b.lam, r, b.rounding_level)
    alpha = alpha.reshape(n, o)
    a_norm = k_max + b.lam
    kappa = a_norm / (k_min + b.lam)
    f0_test = np.asarray(f(theta, x_test))
    # Block by block: the whole test Jacobian would be the largest array of the audit.
    k_test = np.concatenate(
        [kernel(j, j_train, b.kernel) for j in jacobian_blocks(f, theta, x_test, o)]
    )
    pred = f0_test + (k_test @ as_rhs(alpha)).reshape(f0_test.shape)

    # First-order perturbation of α = A⁻¹r when A = K + λI and r = Y − f0 are off by E and Δr:
    #   ‖Δα‖/‖α‖ ≤ κ(A)·(‖E‖₂/‖A‖₂ + ‖Δr‖/‖r‖),
    # with E and Δr the measured differences between the bundle's K, f0 and ours (‖E‖_F ≥ ‖E‖₂
    # keeps it an upper bound); SAFETY also covers the float32 rounding of Y in an f32 run,
    # which is of the same order. Usually far below the forward threshold in f64; it matters for
    # f32 bundles and for a λ near the bottom of K's spectrum.
    perturbation = norm(k - b.ntk_train) / a_norm + norm(f0 - b.f0_train) / max(norm(r), 1e-300)
    solve_bound = SAFETY * kappa * perturbation
    solve_tol = min(max(tol["forward"], solve_bound), SOLVE_CAP)

    # The bundle's α in the bundle's own system: the normwise backward error
    # ‖Aα − r‖ / (‖A‖·‖α‖ + ‖r‖) does not grow with κ, so it pins α tightly even where the
    # end-to-end comparison must allow for float32 rounding. ‖A‖₂ is ours: the bundle's agrees
    # with it to the forward threshold.
    a_b = b.ntk_train + b.lam * np.eye(b.ntk_train.shape[0])
    r_b, alpha_b = as_rhs(b.y_train - b.f0_train), as_rhs(b.alpha)
    res_b = a_b @ alpha_b - r_b
    # After the fallback, α solves the system on the eigenvectors above τ only; the residual
    # in the dropped directions is the part of Y − f0 left unfit by design.
    p_kept = kept_projector(b.ntk_train, b.rounding_level)
    if p_kept is not None:
        res_b, r_b = p_kept @ res_b, p_kept @ r_b
    residual = norm(res_b) / (a_norm * norm(alpha_b) + norm(r_b))

    forward_rows = [
        Row("f0_train", "JAX f(X; θ₀)", rel_err(f0, b.f0_train), tol["forward"]),
        Row("ntk_train", f"JAX J Jᵀ ({b.kernel})", rel_err(k, b.ntk_train), tol["forward"]),
    ]
    alpha_row = Row("alpha", "JAX (K + λI)⁻¹(Y − f0)", rel_err(alpha, b.alpha), solve_tol)
    residual_row = Row("alpha residual", "bundle's (K + λI)α = Y − f0", residual, tol["residual"])
    # f0* + K*α has no bound as simple as α's. K* mostly maps away the directions in which α is
    # least determined (those of K's smallest eigenvalues); in every bundle we tried its error
    # stayed within a few times α's, well inside α's threshold, which it shares.
    pred_err = rel_err(pred, b.pred_test)
    pred_row = Row("pred_test_newton", "JAX f(X*) + K(X*, X) α", pred_err, solve_tol)
    rows = [*forward_rows, alpha_row, residual_row, pred_row]

    notes = []
    forward_ok = all(row.ok for row in forward_rows)
    solve_ok = alpha_row.ok and pred_row.ok
    if forward_ok and not solve_ok and solve_bound > SOLVE_CAP:
        notes.append(
            f"κ(K + λI) = {kappa:.3g} amplifies this bundle's discrepancy in K and f0 to as much "
            f"as {solve_bound:.1e} in α: λ is too small for the bundle's precision, so its α and "
            "Newton predictions are dominated by rounding, not by a mistake in the formulas "
            "(the alpha residual row shows whether the solve itself was right)"
        )
    return rows, kappa, notes


def describe(b, kappa):
    arch = "-".join(str(w) for w in b.widths)
    act = b.activation if b.activation != "leaky-relu" else f"leaky-relu({b.slope:g})"
    side = b.ntk_train.shape[0]
    return (
        f"bundle {b.path}: MLP {arch} {act} {b.parameterization}, {b.dtype}, "
        f"{b.kernel} kernel ({side}×{side}), λ = {b.lam:g}, κ(K + λI) = {kappa:.3g}"
    )


def print_table(rows):
    header = ("quantity", "recomputed as", "rel. error", "threshold", "ok")
    body = [
        (r.quantity, r.against, f"{r.error:.3e}", f"{r.threshold:.1e}", "yes" if r.ok else "NO")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    for line in [header, None, *body]:
        if line is None:
            print("  ".join("-" * w for w in widths))
            continue
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="directory written by `tangent linearize --dump`")
    args = parser.parse_args(argv)
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as e:
        print(f"jax_audit: {e}", file=sys.stderr)
        return EXIT_BAD_BUNDLE
    rows, kappa, notes = audit(bundle)
    print(describe(bundle, kappa))
    print_table(rows)
    for note in notes:
        print(f"note: {note}")
    bad = [r.quantity for r in rows if not r.ok]
    if bad:
        print(f"DISAGREE: {', '.join(bad)}")
        return EXIT_DISAGREE
    print("all agree")
    return EXIT_AGREE


if __name__ == "__main__":
    sys.exit(main())
