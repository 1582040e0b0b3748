"""Audit: rebuild the network of a `tangent linearize --dump DIR` bundle in JAX (float64)
and compare f0, the empirical NTK, alpha and the Newton-step test predictions with the bundle.

Usage: python jax_audit.py DIR   -> exit 0 when every figure agrees; prints the worst relative error last.
Conventions (see model.json and ARCHITECTURE.md): W stored [out, in] row-major, then b, layer by layer;
NTK parameterization h = sigma_w/sqrt(n_in) * W a + sigma_b * b; standard h = W a + b.
"""
import json, sys, os
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from jax.scipy.special import erf

d = sys.argv[1]
m = json.load(open(os.path.join(d, "model.json")))
def load(name):
    return np.load(os.path.join(d, name)).astype(np.float64)

theta0 = load("theta0.npy").reshape(-1)
x = load("x_train.npy"); y = load("y_train.npy")
n, o = y.shape

def find(keys, default=None):
    for k in keys:
        if k in m: return m[k]
    return default

act_name = str(find(["activation"])).lower()
param = str(find(["parameterization", "parametrization"])).lower()
sw = float(find(["sigma_w", "sigmaW", "sigma-w"], 1.0)); sb = float(find(["sigma_b", "sigmaB", "sigma-b"], 0.0))
lam = float(find(["lambda", "ridge", "lam"], 0.0))
layout = find(["layout", "parameter_layout", "params"])
acts = {
    "relu": jax.nn.relu, "tanh": jnp.tanh, "erf": erf, "identity": lambda z: z, "linear": lambda z: z,
    "softplus": jax.nn.softplus, "gelu": lambda z: jax.nn.gelu(z, approximate=False), "sigmoid": jax.nn.sigmoid,
}
act = acts[act_name]
# group layout entries into layers: (W entry, b entry) in offset order
ents = sorted(layout, key=lambda e: e["offset"])
layers = []
i = 0
while i < len(ents):
    w = ents[i]; b = ents[i + 1] if i + 1 < len(ents) and len(ents[i + 1]["shape"]) == 1 else None
    layers.append((w, b)); i += 2 if b is not None else 1
assert sum(int(np.prod(e["shape"])) for e in ents) == theta0.size, "layout does not cover theta"

def f(theta, xs):
    h = xs
    for li, (w, b) in enumerate(layers):
        out_, in_ = w["shape"]
        W = theta[w["offset"]: w["offset"] + out_ * in_].reshape(out_, in_)
        bb = theta[b["offset"]: b["offset"] + out_] if b is not None else 0.0
        if "ntk" in param:
            h = sw / jnp.sqrt(in_) * h @ W.T + sb * bb
        else:
            h = h @ W.T + bb
        if li < len(layers) - 1:
            h = act(h)
    return h

worst = 0.0
def cmp(name, ours, ref):
    global worst
    ours = np.asarray(ours, dtype=np.float64); ref = np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        ours = ours.reshape(ref.shape)
    err = np.linalg.norm(ours - ref) / max(np.linalg.norm(ref), 1e-300)
    worst = max(worst, err)
    print(f"{name}: relative error {err:.3e}")

f0 = f(jnp.asarray(theta0), jnp.asarray(x))
cmp("f0_train", load("f0_train.npy"), f0)
J = jax.jacrev(lambda t: f(t, jnp.asarray(x)).reshape(-1))(jnp.asarray(theta0))  # (n*o, p), row i*o+a
K = np.asarray(J @ J.T)
Kd = load("ntk_train.npy")
traced = Kd.shape == (n, n)
Kref = np.einsum('iaja->ij', K.reshape(n, o, n, o)) / o if traced else K
cmp("ntk_train" + (" (traced)" if traced else ""), Kd, Kref)
r = (y - np.asarray(f0))
if traced:
    alpha = np.linalg.solve(Kref + lam * np.eye(n), r)
else:
    alpha = np.linalg.solve(K + lam * np.eye(n * o), r.reshape(-1)).reshape(n, o)
if os.path.exists(os.path.join(d, "alpha.npy")):
    cmp("alpha", load("alpha.npy"), alpha)
if os.path.exists(os.path.join(d, "x_test.npy")) and os.path.exists(os.path.join(d, "pred_test_newton.npy")):
    xt = jnp.asarray(load("x_test.npy"))
    Jt = jax.jacrev(lambda t: f(t, xt).reshape(-1))(jnp.asarray(theta0))
    Kx = np.asarray(Jt @ J.T)
    nt = xt.shape[0]
    if traced:
        pred = np.asarray(f(jnp.asarray(theta0), xt)) + np.einsum('iaja->ij', Kx.reshape(nt, o, n, o)) / o @ alpha
    else:
        pred = np.asarray(f(jnp.asarray(theta0), xt)) + (Kx @ alpha.reshape(-1)).reshape(nt, o)
    cmp("pred_test_newton", load("pred_test_newton.npy"), pred)
tol = 1e-8 if "64" in str(m.get("dtype", "f64")) else 1e-4
print(f"worst relative error {worst:.3e} (tolerance {tol:g})")
sys.exit(0 if worst <= tol else 1)
