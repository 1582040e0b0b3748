//! The audit bundle of `linearize --dump DIR`: standard .npy files and model.json, enough to
//! rebuild the network and recompute f₀, the kernel, α and the Newton predictions with
//! another autodiff system. The bundle is written into a temporary directory beside DIR and
//! renamed into place once complete, so DIR holds a whole bundle or nothing.

use super::Config;
use crate::data::Dataset;
use crate::model::KernelForm;
use crate::report::{npy::write_f64, write_json};
use anyhow::{bail, Context, Result};
use autodiff::mlp::Mlp;
use linalg::{Matrix, Real};
use std::path::Path;

/// What the bundle holds besides the data and the settings.
pub(super) struct Bundle<'a, T: Real> {
    pub mlp: &'a Mlp,
    pub theta0: &'a [T],
    pub f0_train: &'a Matrix<f64>,
    pub k: &'a Matrix<f64>,
    pub alpha: &'a Matrix<f64>,
    pub pred_test: &'a [f64],
    pub solver: &'a crate::tangent::RidgeSolver,
    pub form: KernelForm,
}

/// Refuses a target that would mix a new bundle with old files: it must not exist, or be an
/// empty directory.
pub(super) fn check_target(dir: &Path) -> Result<()> {
    crate::report::check_dir_path("--dump", dir)?;
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--dump {}: exists and is not a directory", dir.display());
        }
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("--dump {}: cannot read it", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "--dump {}: the directory is not empty; give a new or empty directory so the bundle is not mixed with other files",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Writes the bundle into `dir` (see the module doc).
pub(super) fn dump<T: Real>(
    dir: &Path,
    cfg: &Config,
    ds: &Dataset,
    b: &Bundle<'_, T>,
) -> Result<()> {
    check_target(dir)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let written = write_bundle(&tmp, cfg, ds, b);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        // An empty directory (checked above): rename(2) replaces it atomically.
        let _ = std::fs::remove_dir(dir);
    }
    std::fs::rename(&tmp, dir).with_context(|| {
        let _ = std::fs::remove_dir_all(&tmp);
        format!("cannot move the bundle into {}", dir.display())
    })
}

fn write_bundle<T: Real>(dir: &Path, cfg: &Config, ds: &Dataset, b: &Bundle<'_, T>) -> Result<()> {
    let (n, m, d, o) = (ds.n_train(), ds.n_test(), ds.input_dim(), ds.output_dim());
    // The inputs exactly as fed to the network: rounded to the working precision.
    let as_fed = |x: &Matrix<f64>| -> Vec<f64> {
        x.as_slice()
            .iter()
            .map(|v| T::from_f64(*v).to_f64())
            .collect()
    };
    let th: Vec<f64> = b.theta0.iter().map(|v| v.to_f64()).collect();
    write_f64(&dir.join("theta0.npy"), &[th.len()], &th)?;
    write_f64(&dir.join("x_train.npy"), &[n, d], &as_fed(&ds.x_train))?;
    write_f64(&dir.join("y_train.npy"), &[n, o], &as_fed(&ds.y_train))?;
    write_f64(&dir.join("x_test.npy"), &[m, d], &as_fed(&ds.x_test))?;
    write_f64(&dir.join("f0_train.npy"), &[n, o], b.f0_train.as_slice())?;
    write_f64(
        &dir.join("ntk_train.npy"),
        &[b.k.rows(), b.k.cols()],
        b.k.as_slice(),
    )?;
    let alpha_shape = [n, o];
    write_f64(&dir.join("alpha.npy"), &alpha_shape, b.alpha.as_slice())?;
    write_f64(&dir.join("pred_test_newton.npy"), &[m, o], b.pred_test)?;
    let mlp = b.mlp;
    let layout: Vec<serde_json::Value> = mlp
        .layout()
        .entries()
        .iter()
        .map(|e| serde_json::json!({"name": e.name, "shape": e.shape, "offset": e.offset}))
        .collect();
    let model_json = serde_json::json!({
        "widths": cfg.model.widths,
        "layer_widths": mlp.widths(),
        "activation": mlp.activation().to_string(),
        "parameterization": mlp.parameterization().to_string(),
        "sigma_w": cfg.model.sigma_w,
        "sigma_b": cfg.model.sigma_b,
        "lambda": cfg.lambda,
        "dtype": cfg.dtype.to_string(),
        "seed": cfg.model.seed,
        "kernel": match b.form { KernelForm::Full => "full", KernelForm::Traced => "traced" },
        "trace": match b.form {
            KernelForm::Full => serde_json::Value::Null,
            KernelForm::Traced => "mean over a of K[(i,a),(j,a)]".into(),
        },
        "kernel_note": match b.form {
            KernelForm::Full => "ntk_train is (n·o)×(n·o), row index i·o + a; alpha is n×o",
            KernelForm::Traced => "ntk_train is n×n, the output trace (1/o)·Σ_a K[(i,a),(j,a)]; alpha is n×o",
        },
        "loss": "1/(2n)·‖f − Y‖²_F",
        // How α was solved: "cholesky", or "eigen" with the rounding level τ below which
        // eigenvalues of K were treated as its null space (tangent/kernel_ridge.rs).
        "newton_solver": serde_json::to_value(b.solver)?,
        "layout": layout,
    });
    write_json(&dir.join("model.json"), &model_json)
}
