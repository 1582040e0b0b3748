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
            dir: dir.path().join("nope"),
        },
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a directory"), "{e}");
    let e = data::load(&DataConfig {
        spec: DataSpec::Mnist {
            dir: dir.path().to_path_buf(),
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
                dir: dir.path().to_path_buf()
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
