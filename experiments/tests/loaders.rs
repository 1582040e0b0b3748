//! Loaders reject truncated and corrupted files with an error that names the file and says what
//! is wrong; nothing panics.

use experiments::data::{self, DataConfig, DataSpec};
use std::io::Write;
use std::path::Path;

fn idx_images(n: u32, r: u32, c: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, r, c] {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend((0..n * r * c).map(|i| (i * 7 % 256) as u8));
    v
}

fn idx_labels(n: u32, classes: u8) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend_from_slice(&n.to_be_bytes());
    v.extend((0..n).map(|i| (i % classes as u32) as u8));
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn load_idx(
    dir: &Path,
    images: &[u8],
    labels: &[u8],
    n_train: usize,
    n_test: usize,
) -> anyhow::Result<data::Dataset> {
    let ip = dir.join("images.idx");
    let lp = dir.join("labels.idx");
    std::fs::write(&ip, images).unwrap();
    std::fs::write(&lp, labels).unwrap();
    data::load(&DataConfig {
        spec: DataSpec::Idx {
            images: ip,
            labels: lp,
        },
        n_train,
        n_test,
        seed: 0,
    })
}

#[test]
fn good_idx_files_load_gzipped_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let ds = load_idx(
        dir.path(),
        &idx_images(30, 4, 4),
        &idx_labels(30, 3),
        20,
        10,
    )
    .unwrap();
    assert_eq!(ds.x_train.shape(), (20, 16));
    assert_eq!(ds.y_train.shape(), (20, 3));
    let ds = load_idx(
        dir.path(),
        &gz(&idx_images(30, 4, 4)),
        &gz(&idx_labels(30, 3)),
        20,
        10,
    )
    .unwrap();
    assert_eq!(ds.x_test.shape(), (10, 16));
}

#[test]
fn truncated_and_corrupted_idx_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let img = idx_images(30, 4, 4);
    let lab = idx_labels(30, 3);
    let cases: Vec<(Vec<u8>, Vec<u8>, &str, &str)> = vec![
        (
            img[..img.len() - 5].to_vec(),
            lab.clone(),
            "images.idx",
            "truncated",
        ),
        (img[..10].to_vec(), lab.clone(), "images.idx", "truncated"),
        (img[..2].to_vec(), lab.clone(), "images.idx", "too short"),
        (
            img.clone(),
            lab[..lab.len() - 1].to_vec(),
            "labels.idx",
            "truncated",
        ),
        (img.clone(), idx_labels(29, 3), "labels.idx", "29 labels"),
        (
            {
                let mut b = img.clone();
                b[0] = 0x42;
                b
            },
            lab.clone(),
            "images.idx",
            "not an IDX",
        ),
        (
            {
                let mut b = img.clone();
                b[2] = 0x0b;
                b
            },
            lab.clone(),
            "images.idx",
            "not supported",
        ),
        (
            {
                let mut b = img.clone();
                b.push(0);
                b
            },
            lab.clone(),
            "images.idx",
            "corrupt header",
        ),
        (
            {
                let g = gz(&img);
                g[..g.len() / 2].to_vec()
            },
            lab.clone(),
            "images.idx",
            "gzip",
        ),
        (
            {
                let mut g = gz(&img);
                let k = g.len() / 2;
                g[k] ^= 0xff;
                g[k + 1] ^= 0xff;
                g
            },
            lab.clone(),
            "images.idx",
            "",
        ),
        (
            img.clone(),
            {
                let mut l = lab.clone();
                l[20] = 150;
                l
            },
            "labels.idx",
            "implausibly large",
        ),
    ];
    for (k, (i, l, file, what)) in cases.into_iter().enumerate() {
        let e = match load_idx(dir.path(), &i, &l, 20, 10) {
            Ok(_) => panic!("case {k}: a damaged file was accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            e.contains(file),
            "case {k}: error does not name {file}: {e}"
        );
        assert!(
            e.contains(what),
            "case {k}: error does not say `{what}`: {e}"
        );
    }
}

#[test]
fn mnist_directory_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = data::load(&DataConfig {
        spec: DataSpec::Mnist {
            dir: Some(dir.path().join("nope")),
        },
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a directory"), "{e}");
    let e = data::load(&DataConfig {
        spec: DataSpec::Mnist {
            dir: Some(dir.path().to_path_buf()),
        },
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");
    // A directory of the standard names with a truncated training images file.
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte.gz"),
        &gz(&idx_images(30, 4, 4))[..40],
    )
    .unwrap();
    std::fs::write(
        dir.path().join("train-labels-idx1-ubyte.gz"),
        gz(&idx_labels(30, 3)),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t10k-images-idx3-ubyte"),
        idx_images(10, 4, 4),
    )
    .unwrap();
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx_labels(10, 3)).unwrap();
    let e = format!(
        "{:#}",
        data::load(&DataConfig {
            spec: DataSpec::Mnist {
                dir: Some(dir.path().to_path_buf())
            },
            n_train: 5,
            n_test: 5,
            seed: 0
        })
        .unwrap_err()
    );
    assert!(
        e.contains("train-images-idx3-ubyte.gz") && e.contains("gzip"),
        "{e}"
    );
}

#[test]
fn csv_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.csv");
    let load = |text: &[u8]| {
        std::fs::write(&p, text).unwrap();
        data::load(&DataConfig {
            spec: DataSpec::Csv { path: p.clone() },
            n_train: 2,
            n_test: 1,
            seed: 0,
        })
    };
    assert!(load(b"1,2,0\n3,4,1\n5,6,0\n").is_ok());
    let e = load(b"1,2,0\n3,4,1\n5,6").unwrap_err().to_string();
    assert!(e.contains("d.csv") && e.contains("line 3"), "{e}");
    let e = load(b"1,2,0\n3,nan?,1\n5,6,0\n").unwrap_err().to_string();
    assert!(e.contains("d.csv") && e.contains("line 2"), "{e}");
    let e = load(b"1,2,0\n3,4,1\n5,6,inf\n").unwrap_err().to_string();
    assert!(e.contains("not finite"), "{e}");
    let e = load(&[0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap_err().to_string();
    assert!(e.contains("d.csv") && e.contains("gzip"), "{e}");
    let e = load(b"1,2,0\n3,4,1\n").unwrap_err().to_string();
    assert!(e.contains("only 2"), "{e}");
    let e = data::load(&DataConfig {
        spec: DataSpec::Csv {
            path: dir.path().join("missing.csv"),
        },
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}

#[test]
fn synthetic_tasks_are_seeded() {
    for spec in [DataSpec::Teacher, DataSpec::Spirals, DataSpec::Sine] {
        let cfg = DataConfig {
            spec: spec.clone(),
            n_train: 50,
            n_test: 20,
            seed: 4,
        };
        let a = data::load(&cfg).unwrap();
        let b = data::load(&cfg).unwrap();
        assert_eq!(a.x_train.as_slice(), b.x_train.as_slice(), "{spec:?}");
        let c = data::load(&DataConfig { seed: 5, ..cfg }).unwrap();
        assert_ne!(a.x_train.as_slice(), c.x_train.as_slice(), "{spec:?}");
    }
}

fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn npy_x(n: usize, d: usize) -> Vec<u8> {
    let v: Vec<f64> = (0..n * d).map(|k| ((k * 37) % 11) as f64 * 0.5).collect();
    data::npy::encode("<f8", false, &[n, d], &f8(&v))
}

fn npy_labels(n: usize, classes: i64) -> Vec<u8> {
    let v: Vec<u8> = (0..n as i64)
        .flat_map(|i| (i % classes).to_le_bytes())
        .collect();
    data::npy::encode("<i8", false, &[n], &v)
}

fn load_npy(
    dir: &Path,
    x: &[u8],
    y: &[u8],
    n_train: usize,
    n_test: usize,
) -> anyhow::Result<data::Dataset> {
    let xp = dir.join("x.npy");
    let yp = dir.join("y.npy");
    std::fs::write(&xp, x).unwrap();
    std::fs::write(&yp, y).unwrap();
    data::load(&DataConfig {
        spec: DataSpec::Npy { x: xp, y: yp },
        n_train,
        n_test,
        seed: 0,
    })
}

#[test]
fn npy_files_load() {
    let dir = tempfile::tempdir().unwrap();
    // f8 inputs with integer labels: classification.
    let ds = load_npy(dir.path(), &npy_x(30, 4), &npy_labels(30, 3), 20, 10).unwrap();
    assert_eq!(ds.x_train.shape(), (20, 4));
    assert_eq!(ds.y_train.shape(), (20, 3));
    assert!(ds.is_classification());
    // f4 inputs with (n, 2) float targets: regression.
    let x: Vec<u8> = (0..30 * 3)
        .flat_map(|k| (k as f32 * 0.25).to_le_bytes())
        .collect();
    let y: Vec<u8> = (0..30 * 2)
        .flat_map(|k| (k as f32 - 7.0).to_le_bytes())
        .collect();
    let ds = load_npy(
        dir.path(),
        &data::npy::encode("<f4", false, &[30, 3], &x),
        &data::npy::encode("<f4", false, &[30, 2], &y),
        25,
        5,
    )
    .unwrap();
    assert_eq!(ds.y_test.shape(), (5, 2));
    assert!(!ds.is_classification());
    // Files written by the audit bundle's writer read back: (n,) float targets are regression.
    let xp = dir.path().join("w_x.npy");
    let yp = dir.path().join("w_y.npy");
    let xv: Vec<f64> = (0..12).map(|k| k as f64).collect();
    experiments::report::npy::write_f64(&xp, &[6, 2], &xv).unwrap();
    experiments::report::npy::write_f64(&yp, &[6], &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]).unwrap();
    let a = data::npy::read_npy(&xp).unwrap();
    assert_eq!(a.header.shape, vec![6, 2]);
    assert_eq!(a.values, data::npy::Values::Float(xv));
    let ds = data::load(&DataConfig {
        spec: DataSpec::Npy { x: xp, y: yp },
        n_train: 4,
        n_test: 2,
        seed: 0,
    })
    .unwrap();
    assert_eq!(ds.y_train.shape(), (4, 1));
    // A version 2.0 header (4-byte length) is accepted.
    let mut v2 = npy_x(30, 4);
    let hl = u16::from_le_bytes([v2[8], v2[9]]) as u32;
    v2[6] = 2;
    v2.splice(8..10, (hl - 2).to_le_bytes());
    // keep the total length: drop two padding spaces before the newline
    let nl = 12 + hl as usize - 1;
    v2.drain(nl - 2..nl);
    assert!(load_npy(dir.path(), &v2, &npy_labels(30, 3), 20, 10).is_ok());
}

#[test]
fn damaged_npy_files_are_named_errors_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let x = npy_x(30, 4);
    let y = npy_labels(30, 3);
    let enc = data::npy::encode;
    let body = &x[x.len() - 960..];
    let mut nan = (0..120).map(|k| k as f64).collect::<Vec<_>>();
    nan[4 * 7 + 2] = f64::NAN;
    let mut inf = (0..120).map(|k| k as f64).collect::<Vec<_>>();
    inf[5] = f64::NEG_INFINITY;
    let cases: Vec<(Vec<u8>, Vec<u8>, &str, &str)> = vec![
        (vec![], y.clone(), "x.npy", "too short"),
        (
            b"PK\x03\x04 not numpy at all".to_vec(),
            y.clone(),
            "x.npy",
            "not a .npy file",
        ),
        (x[..8].to_vec(), y.clone(), "x.npy", "truncated"),
        (x[..40].to_vec(), y.clone(), "x.npy", "truncated"),
        (x[..x.len() - 3].to_vec(), y.clone(), "x.npy", "truncated"),
        (
            [x.clone(), vec![0; 8]].concat(),
            y.clone(),
            "x.npy",
            "trailing",
        ),
        (
            {
                let mut b = x.clone();
                b[6] = 9;
                b
            },
            y.clone(),
            "x.npy",
            "version 9.0",
        ),
        (
            {
                let mut b = x.clone();
                b[8] = 0xff;
                b[9] = 0xff;
                b
            },
            y.clone(),
            "x.npy",
            "truncated",
        ),
        (
            {
                let mut b = x.clone();
                b[6] = 2;
                b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
                b
            },
            y.clone(),
            "x.npy",
            "header claims",
        ),
        (
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
            y.clone(),
            "x.npy",
            "gzipped",
        ),
        (
            enc("<f8", true, &[30, 4], body),
            y.clone(),
            "x.npy",
            "Fortran",
        ),
        (
            enc(">f8", false, &[30, 4], body),
            y.clone(),
            "x.npy",
            "big-endian",
        ),
        (
            enc("|O", false, &[30, 4], body),
            y.clone(),
            "x.npy",
            "pickled",
        ),
        (
            enc("<c16", false, &[15, 4], body),
            y.clone(),
            "x.npy",
            "not supported",
        ),
        (
            enc("<f2", false, &[120, 4], body),
            y.clone(),
            "x.npy",
            "not supported",
        ),
        (
            enc("<i8", false, &[30, 4], body),
            y.clone(),
            "x.npy",
            "float32 or float64",
        ),
        (
            enc("<f8", false, &[120], body),
            y.clone(),
            "x.npy",
            "2-dimensional",
        ),
        (
            enc("<f8", false, &[30, 2, 2], body),
            y.clone(),
            "x.npy",
            "2-dimensional",
        ),
        (
            enc("<f8", false, &[0, 4], &[]),
            y.clone(),
            "x.npy",
            "no samples",
        ),
        (
            enc("<f8", false, &[30, 0], &[]),
            y.clone(),
            "x.npy",
            "no features",
        ),
        // Terabytes promised by a 100-byte file: refused from the header alone.
        (
            enc("<f8", false, &[1_000_000, 1_000_000], &[0; 100]),
            y.clone(),
            "x.npy",
            "8000000000000 bytes",
        ),
        (
            enc("<f8", false, &[1 << 33, 1 << 33], &[0; 100]),
            y.clone(),
            "x.npy",
            "overflows",
        ),
        (
            enc("<f8", false, &[30, 4], &f8(&nan)),
            y.clone(),
            "x.npy",
            "[7, 2] is NaN",
        ),
        (
            enc("<f8", false, &[30, 4], &f8(&inf)),
            y.clone(),
            "x.npy",
            "[1, 1] is -inf",
        ),
        (x.clone(), npy_labels(29, 3), "y.npy", "29 target rows"),
        (x.clone(), npy_labels(30, 1), "y.npy", "two classes"),
        (
            x.clone(),
            enc("<i2", false, &[30], &[0xff; 60]),
            "y.npy",
            "label -1",
        ),
        (
            x.clone(),
            enc("<u2", false, &[30], &[0x10; 60]),
            "y.npy",
            "label 4112",
        ),
        (
            x.clone(),
            enc("<f8", false, &[30, 0], &[]),
            "y.npy",
            "no target columns",
        ),
        (
            x.clone(),
            enc("<f8", false, &[30, 1, 1], &[0; 240]),
            "y.npy",
            "(n,) or (n, outputs)",
        ),
        (
            x.clone(),
            enc("<f8", false, &[30], &f8(&[f64::INFINITY; 30])),
            "y.npy",
            "is inf",
        ),
    ];
    for (k, (xb, yb, file, what)) in cases.into_iter().enumerate() {
        let e = match load_npy(dir.path(), &xb, &yb, 20, 10) {
            Ok(_) => panic!("case {k}: a damaged file was accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            e.contains(file),
            "case {k}: error does not name {file}: {e}"
        );
        assert!(
            e.contains(what),
            "case {k}: error does not say `{what}`: {e}"
        );
    }
    let e = data::load(&DataConfig {
        spec: DataSpec::Npy {
            x: dir.path().join("missing.npy"),
            y: dir.path().join("y.npy"),
        },
        ..Default::default()
    })
    .unwrap_err();
    assert!(format!("{e:#}").contains("missing.npy"), "{e:#}");
    for bad in ["npy", "npy:", "npy:x.npy", "npy:,y.npy", "npy:x.npy,"] {
        assert!(DataSpec::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        DataSpec::parse("npy:a.npy,b.npy").unwrap(),
        DataSpec::Npy {
            x: "a.npy".into(),
            y: "b.npy".into()
        }
    );
}

#[test]
fn idx_headers_that_promise_more_than_the_file_holds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lab = idx_labels(30, 3);
    let mut tb = vec![0, 0, 8, 3];
    for d in [60_000u32, 100_000, 100_000] {
        tb.extend_from_slice(&d.to_be_bytes());
    }
    tb.extend_from_slice(&[0; 64]);
    let mut zero = vec![0, 0, 8, 3];
    for d in [30u32, 0, 4] {
        zero.extend_from_slice(&d.to_be_bytes());
    }
    for (img, what) in [
        (tb.clone(), "600000000000000 bytes"),
        (gz(&tb), "600000000000000 bytes"),
        (zero, "no pixels"),
    ] {
        let e = format!(
            "{:#}",
            load_idx(dir.path(), &img, &lab, 20, 10).unwrap_err()
        );
        assert!(e.contains("images.idx") && e.contains(what), "{e}");
    }
}

#[test]
fn csv_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.csv");
    let load = |text: &[u8]| {
        std::fs::write(&p, text).unwrap();
        data::load(&DataConfig {
            spec: DataSpec::Csv { path: p.clone() },
            n_train: 3,
            n_test: 1,
            seed: 0,
        })
        .map_err(|e| format!("{e:#}"))
    };
    // A byte-order mark and a header are skipped.
    assert!(load(b"\xef\xbb\xbfa,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n").is_ok());
    // A first line with some numbers is data, and its garbage is an error, not a header.
    let e = load(b"1,x,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n").unwrap_err();
    assert!(e.contains("line 1, column 2") && e.contains("`x`"), "{e}");
    let e = load(b"a,b,y\n").unwrap_err();
    assert!(e.contains("e.csv") && e.contains("no data rows"), "{e}");
    let e = load(b"").unwrap_err();
    assert!(e.contains("no data rows"), "{e}");
    let e = load(b"1,2,0\n3,1e400,1\n5,6,0\n7,8,1\n").unwrap_err();
    assert!(
        e.contains("line 2, column 2") && e.contains("not finite"),
        "{e}"
    );
    // Finite values too large to standardise.
    let e = load(b"1e300,2,0\n-1e300,4,1\n1e300,6,0\n7,8,1\n").unwrap_err();
    assert!(e.contains("feature 1") && e.contains("standardised"), "{e}");
}

#[test]
fn sample_counts_are_checked() {
    let e = data::load(&DataConfig {
        n_test: 0,
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("--n-test"), "{e}");
    let e = data::load(&DataConfig {
        n_train: usize::MAX,
        n_test: 5,
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("too large"), "{e}");
    let e = data::load(&DataConfig {
        n_train: usize::MAX - 10,
        n_test: 5,
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("only 1797"), "{e}");
    for spec in [DataSpec::Teacher, DataSpec::Spirals, DataSpec::Sine] {
        let e = data::load(&DataConfig {
            spec,
            n_train: 1 << 40,
            n_test: 5,
            seed: 0,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("synthetic samples"), "{e}");
    }
}

/// Digits are 8×8 images: with one pooled σ no test pixel can be blown up by a pixel that is
/// (almost) never lit in a small training subset, which per-feature scaling did (|z| = 142).
#[test]
fn digits_test_inputs_stay_on_the_training_scale() {
    for seed in 0..8 {
        let ds = experiments::data::load(&experiments::data::DataConfig {
            spec: experiments::data::DataSpec::Digits,
            n_train: 50,
            n_test: 500,
            seed,
        })
        .unwrap();
        let z = ds.max_abs_test_input();
        assert!(z.is_finite() && z < 10.0, "seed {seed}: max |z| = {z}");
        // Pooled: the training inputs have unit variance on average over features.
        let n = ds.x_train.rows() as f64;
        let var: f64 =
            ds.x_train.as_slice().iter().map(|v| v * v).sum::<f64>() / (n * ds.input_dim() as f64);
        assert!((var - 1.0).abs() < 1e-9, "mean variance {var}");
    }
}
