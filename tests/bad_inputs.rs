//! The bad-input table: hostile files and absurd option values given to the `tangent` binary.
//!
//! Every case must end with exit code 1 (a refused run) or 2 (a bad command line), never a
//! panic (101), an abort (134), a signal or success; print a clear `error:` line on stderr that
//! names what is wrong (the case's substrings); and leave nothing behind: the case's directory
//! holds exactly the files its setup wrote, before and after the run (no run directory under
//! `--out`, no audit files mixed into a `--dump` directory).
//!
//! Each case runs under a virtual-memory cap (`ulimit -v`) so that a header or option that
//! makes the binary try to allocate terabytes fails fast instead of swapping the machine, and
//! under a time limit so that a loop of 2⁶⁴ steps is a failure rather than a hung test. One
//! test per group runs every case of its group and reports all failures at once.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One row of the table.
struct Case {
    /// Unique name.
    name: &'static str,
    /// Arguments; `{d}` is replaced by the case's own scratch directory.
    args: &'static [&'static str],
    /// Writes the hostile files into the scratch directory.
    setup: fn(&Path),
    /// Acceptable exit codes.
    codes: &'static [i32],
    /// Substrings stderr must contain (all of them; `a|b` is satisfied by either).
    needles: &'static [&'static str],
}

/// Refused run.
const RUN: &[i32] = &[1];
/// Bad command line (clap).
const USAGE: &[i32] = &[2];
/// Either: a check that may live in clap (a value range) or in the run's validation.
const EITHER: &[i32] = &[1, 2];

/// Per-case wall-clock limit.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Virtual-memory cap of each run, KiB.
const VMEM_KIB: u64 = 4 << 20;

/// `linearize` with tiny settings and no files written, then the case's own arguments.
macro_rules! lin {
    ($($a:expr),* $(,)?) => {
        &["linearize", "-q", "--no-write", "--no-kernel-change", "--n-train", "10", "--n-test",
          "5", "--widths", "8", "--steps", "2", $($a),*]
    };
}

/// `linearize` on the case's data files with tiny settings.
macro_rules! lin_data {
    ($spec:expr) => {
        lin!("--data", $spec)
    };
}

fn nothing(_: &Path) {}

// ---------------------------------------------------------------- file builders

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn idx_images(n: u32, r: u32, c: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, r, c] {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend((0..n * r * c).map(|i| (i * 7 % 256) as u8));
    v
}

fn idx_labels(n: u32, classes: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend_from_slice(&n.to_be_bytes());
    v.extend((0..n).map(|i| (i % classes) as u8));
    v
}

/// An IDX images header with the given dimensions followed by `tail` bytes of data.
fn idx_header(dims: &[u32], tail: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend(std::iter::repeat_n(0u8, tail));
    v
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid gzip member holding `data` in stored (uncompressed) deflate blocks.
fn gz(data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        v.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        v.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&(!len).to_le_bytes());
        v.extend_from_slice(c);
    }
    v.extend_from_slice(&crc32(data).to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v
}

/// A version 1.0 `.npy` file.
fn npy(descr: &str, fortran: bool, shape: &[u64], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let fortran = if fortran { "True" } else { "False" };
    npy_raw(
        &format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"),
        data,
    )
}

/// A version 1.0 `.npy` file with the header text as given.
fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(data);
    v
}

fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A good (30, 4) f8 inputs file.
fn npy_x() -> Vec<u8> {
    let v: Vec<f64> = (0..120).map(|k| (k % 11) as f64 * 0.5).collect();
    npy("<f8", false, &[30, 4], &f8(&v))
}

/// Good (30,) i8 labels in 0..3.
fn npy_y() -> Vec<u8> {
    let v: Vec<u8> = (0..30i64).flat_map(|i| (i % 3).to_le_bytes()).collect();
    npy("<i8", false, &[30], &v)
}

fn good_idx(d: &Path) {
    write(d, "img.idx", &idx_images(30, 4, 4));
    write(d, "lab.idx", &idx_labels(30, 3));
}

fn good_npy(d: &Path) {
    write(d, "x.npy", &npy_x());
    write(d, "y.npy", &npy_y());
}

/// Rows `a,b,label` with two classes.
fn csv_rows(n: usize) -> String {
    (0..n)
        .map(|i| format!("{},{},{}\n", i % 5, i as f64 * 0.1, i % 2))
        .collect()
}

fn mnist_dir(d: &Path, train_images: &[u8]) {
    let m = d.join("mnist");
    std::fs::create_dir(&m).unwrap();
    write(&m, "train-images-idx3-ubyte.gz", train_images);
    write(&m, "train-labels-idx1-ubyte.gz", &gz(&idx_labels(30, 3)));
    write(&m, "t10k-images-idx3-ubyte", &idx_images(10, 4, 4));
    write(&m, "t10k-labels-idx1-ubyte", &idx_labels(10, 3));
}

// ---------------------------------------------------------------- the table

const IDX_CASES: &[Case] = &[
    Case {
        name: "idx images truncated",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            let i = idx_images(30, 4, 4);
            write(d, "img.idx", &i[..i.len() - 5]);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "truncated"],
    },
    Case {
        name: "idx images with trailing bytes",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &[idx_images(30, 4, 4), vec![0; 7]].concat());
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "487 follow"],
    },
    Case {
        name: "idx header promises 600 TB",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &idx_header(&[60_000, 100_000, 100_000], 64));
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "600000000000000 bytes"],
    },
    Case {
        name: "idx dimensions overflow",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &idx_header(&[u32::MAX; 4], 0));
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "overflow"],
    },
    Case {
        name: "idx images with zero pixels",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &idx_header(&[30, 0, 4], 0));
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "no pixels"],
    },
    Case {
        name: "idx garbage bytes",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(
                d,
                "img.idx",
                b"GIF89a\x01\x00\x01\x00garbage garbage garbage",
            );
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "not an IDX file"],
    },
    Case {
        name: "idx empty images file",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", b"");
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "too short"],
    },
    Case {
        name: "idx empty labels file",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &idx_images(30, 4, 4));
            write(d, "lab.idx", b"");
        },
        codes: RUN,
        needles: &["lab.idx", "too short"],
    },
    Case {
        name: "idx float element type",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            let mut i = idx_images(30, 4, 4);
            i[2] = 0x0d;
            write(d, "img.idx", &i);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "0x0d is not supported"],
    },
    Case {
        name: "idx nine dimensions",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            let mut i = idx_images(30, 4, 4);
            i[3] = 9;
            write(d, "img.idx", &i);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx", "9 dimensions"],
    },
    Case {
        name: "idx fewer labels than images",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx", &idx_images(30, 4, 4));
            write(d, "lab.idx", &idx_labels(29, 3));
        },
        codes: RUN,
        needles: &["lab.idx", "29 labels"],
    },
    Case {
        name: "idx images given as labels",
        args: lin_data!("idx:{d}/img.idx,{d}/img.idx"),
        setup: good_idx,
        codes: RUN,
        needles: &["img.idx", "must be 1-dimensional"],
    },
    Case {
        name: "idx implausible label",
        args: lin_data!("idx:{d}/img.idx,{d}/lab.idx"),
        setup: |d| {
            let mut l = idx_labels(30, 3);
            l[20] = 200;
            write(d, "img.idx", &idx_images(30, 4, 4));
            write(d, "lab.idx", &l);
        },
        codes: RUN,
        needles: &["lab.idx", "implausibly large"],
    },
    Case {
        name: "idx gz truncated",
        args: lin_data!("idx:{d}/img.idx.gz,{d}/lab.idx"),
        setup: |d| {
            let g = gz(&idx_images(30, 4, 4));
            write(d, "img.idx.gz", &g[..g.len() / 2]);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx.gz", "gzip"],
    },
    Case {
        name: "idx gz bad checksum",
        args: lin_data!("idx:{d}/img.idx.gz,{d}/lab.idx"),
        setup: |d| {
            let mut g = gz(&idx_images(30, 4, 4));
            let k = g.len() - 6;
            g[k] ^= 0xff;
            write(d, "img.idx.gz", &g);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx.gz", "gzip"],
    },
    Case {
        name: "idx gz header promises 600 TB",
        args: lin_data!("idx:{d}/img.idx.gz,{d}/lab.idx"),
        setup: |d| {
            let h = idx_header(&[60_000, 100_000, 100_000], 64);
            write(d, "img.idx.gz", &gz(&h));
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx.gz", "600000000000000 bytes"],
    },
    Case {
        name: "idx gz magic only",
        args: lin_data!("idx:{d}/img.idx.gz,{d}/lab.idx"),
        setup: |d| {
            write(d, "img.idx.gz", &[0x1f, 0x8b]);
            write(d, "lab.idx", &idx_labels(30, 3));
        },
        codes: RUN,
        needles: &["img.idx.gz"],
    },
    Case {
        name: "idx missing file",
        args: lin_data!("idx:{d}/nope.idx,{d}/lab.idx"),
        setup: good_idx,
        codes: RUN,
        needles: &["nope.idx"],
    },
    Case {
        name: "idx directory as images file",
        args: lin_data!("idx:{d},{d}/lab.idx"),
        setup: good_idx,
        codes: RUN,
        needles: &["is a directory"],
    },
    Case {
        name: "idx more samples than the file has",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--no-kernel-change",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-train",
            "25",
            "--n-test",
            "10",
            "--data",
            "idx:{d}/img.idx,{d}/lab.idx",
        ],
        setup: good_idx,
        codes: RUN,
        needles: &["only 30"],
    },
    Case {
        name: "mnist directory missing",
        args: lin_data!("mnist:{d}/nowhere"),
        setup: nothing,
        codes: RUN,
        needles: &["nowhere", "not a directory"],
    },
    Case {
        name: "mnist directory empty",
        args: lin_data!("mnist:{d}"),
        setup: nothing,
        codes: RUN,
        needles: &["train-images-idx3-ubyte"],
    },
    Case {
        name: "mnist truncated gz training images",
        args: lin_data!("fashion-mnist:{d}/mnist"),
        setup: |d| {
            let g = gz(&idx_images(30, 4, 4));
            mnist_dir(d, &g[..40]);
        },
        codes: RUN,
        needles: &["train-images-idx3-ubyte.gz", "gzip"],
    },
    Case {
        name: "mnist more training samples than the file",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--no-kernel-change",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-train",
            "100",
            "--n-test",
            "5",
            "--data",
            "mnist:{d}/mnist",
        ],
        setup: |d| mnist_dir(d, &gz(&idx_images(30, 4, 4))),
        codes: RUN,
        needles: &["100 training samples", "only 30"],
    },
];

const CSV_CASES: &[Case] = &[
    Case {
        name: "csv ragged row",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,4,1\n5,6\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 3", "expected 3 fields"],
    },
    Case {
        name: "csv non-numeric field",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,abc,1\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 2, column 2", "`abc` is not a number"],
    },
    Case {
        name: "csv empty field",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,,1\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 2, column 2"],
    },
    Case {
        name: "csv garbage on the first line is not a header",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", format!("1,x,0\n{}", csv_rows(30)).as_bytes()),
        codes: RUN,
        needles: &["x.csv", "line 1, column 2"],
    },
    Case {
        name: "csv empty file",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", b""),
        codes: RUN,
        needles: &["x.csv", "no data rows"],
    },
    Case {
        name: "csv header only",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", b"a,b,label\n"),
        codes: RUN,
        needles: &["x.csv", "no data rows"],
    },
    Case {
        name: "csv NaN feature",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,NaN,1\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 2, column 2", "not finite"],
    },
    Case {
        name: "csv infinite target",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,4,1\n5,6,-inf\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 3, column 3", "not finite"],
    },
    Case {
        name: "csv literal overflowing f64",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                format!("1,2,0\n3,1e400,1\n{}", csv_rows(30)).as_bytes(),
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 2, column 2", "not finite"],
    },
    Case {
        name: "csv values too large to standardise",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            let rows: String = (0..40)
                .map(|i| format!("{:e},{i},{}\n", 1e300 * (i % 3) as f64, i % 2))
                .collect();
            write(d, "x.csv", rows.as_bytes());
        },
        codes: RUN,
        needles: &["x.csv", "feature 1", "standardised"],
    },
    Case {
        name: "csv one column",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", "1\n2\n3\n".repeat(10).as_bytes()),
        codes: RUN,
        needles: &["x.csv", "at least one feature and a target"],
    },
    Case {
        name: "csv binary garbage",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| {
            write(
                d,
                "x.csv",
                b"\xff\xfe\x00\x01\x80\x81,\xc3\x28\n\xa0\xa1,1\n",
            )
        },
        codes: RUN,
        needles: &["x.csv", "line 1"],
    },
    Case {
        name: "csv gz truncated",
        args: lin_data!("csv:{d}/x.csv.gz"),
        setup: |d| {
            let g = gz(csv_rows(40).as_bytes());
            write(d, "x.csv.gz", &g[..g.len() / 2]);
        },
        codes: RUN,
        needles: &["x.csv.gz", "gzip"],
    },
    Case {
        name: "csv every label zero",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", "1,2,0\n3,4,0\n".repeat(10).as_bytes()),
        codes: RUN,
        needles: &["x.csv", "two classes"],
    },
    Case {
        name: "csv too few rows",
        args: lin_data!("csv:{d}/x.csv"),
        setup: |d| write(d, "x.csv", csv_rows(4).as_bytes()),
        codes: RUN,
        needles: &["x.csv", "only 4"],
    },
    Case {
        name: "csv missing file",
        args: lin_data!("csv:{d}/missing.csv"),
        setup: nothing,
        codes: RUN,
        needles: &["missing.csv"],
    },
];

const NPY_CASES: &[Case] = &[
    Case {
        name: "npy empty inputs file",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", b"");
        },
        codes: RUN,
        needles: &["x.npy", "too short"],
    },
    Case {
        name: "npy bad magic",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(
                d,
                "x.npy",
                b"PK\x03\x04 this is a zip archive, not an array",
            );
        },
        codes: RUN,
        needles: &["x.npy", "not a .npy file"],
    },
    Case {
        name: "npy unknown version",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            let mut x = npy_x();
            x[6] = 9;
            write(d, "x.npy", &x);
        },
        codes: RUN,
        needles: &["x.npy", "version 9.0"],
    },
    Case {
        name: "npy truncated header",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy_x()[..40]);
        },
        codes: RUN,
        needles: &["x.npy", "truncated"],
    },
    Case {
        name: "npy truncated data",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            let x = npy_x();
            write(d, "x.npy", &x[..x.len() - 3]);
        },
        codes: RUN,
        needles: &["x.npy", "truncated"],
    },
    Case {
        name: "npy trailing bytes",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &[npy_x(), vec![0; 8]].concat());
        },
        codes: RUN,
        needles: &["x.npy", "trailing"],
    },
    Case {
        name: "npy header promises 8 TB",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(
                d,
                "x.npy",
                &npy("<f8", false, &[1_000_000, 1_000_000], &[0; 96]),
            );
        },
        codes: RUN,
        needles: &["x.npy", "8000000000000 bytes"],
    },
    Case {
        name: "npy shape overflows",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(
                d,
                "x.npy",
                &npy("<f8", false, &[1 << 40, 1 << 40], &[0; 96]),
            );
        },
        codes: RUN,
        needles: &["x.npy", "overflows"],
    },
    Case {
        name: "npy header length beyond the file",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            let mut x = npy_x();
            x[6] = 2;
            x[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
            write(d, "x.npy", &x);
        },
        codes: RUN,
        needles: &["x.npy", "header claims"],
    },
    Case {
        name: "npy malformed header dictionary",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(
                d,
                "x.npy",
                &npy_raw("{'descr': '<f8', 'shape': (30, 4)", &[0; 960]),
            );
        },
        codes: RUN,
        needles: &["x.npy", "malformed .npy header"],
    },
    Case {
        name: "npy fortran order",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy("<f8", true, &[30, 4], &[0; 960]));
        },
        codes: RUN,
        needles: &["x.npy", "Fortran"],
    },
    Case {
        name: "npy big-endian floats",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy(">f8", false, &[30, 4], &[0; 960]));
        },
        codes: RUN,
        needles: &["x.npy", "big-endian"],
    },
    Case {
        name: "npy pickled objects",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy("|O", false, &[30, 4], &[0; 960]));
        },
        codes: RUN,
        needles: &["x.npy", "pickled"],
    },
    Case {
        name: "npy integer inputs",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy("<i8", false, &[30, 4], &[0; 960]));
        },
        codes: RUN,
        needles: &["x.npy", "float32 or float64"],
    },
    Case {
        name: "npy one-dimensional inputs",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &npy("<f8", false, &[120], &[0; 960]));
        },
        codes: RUN,
        needles: &["x.npy", "2-dimensional"],
    },
    Case {
        name: "npy NaN input",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            let mut v = vec![0.5; 120];
            v[4 * 7 + 2] = f64::NAN;
            write(d, "x.npy", &npy("<f8", false, &[30, 4], &f8(&v)));
        },
        codes: RUN,
        needles: &["x.npy", "[7, 2] is NaN"],
    },
    Case {
        name: "npy infinite target",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            let mut v = vec![0.5; 30];
            v[3] = f64::INFINITY;
            write(d, "y.npy", &npy("<f8", false, &[30], &f8(&v)));
        },
        codes: RUN,
        needles: &["y.npy", "[3] is inf"],
    },
    Case {
        name: "npy fewer targets than samples",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "y.npy", &npy("<f8", false, &[29, 1], &[0; 232]));
        },
        codes: RUN,
        needles: &["y.npy", "29 target rows"],
    },
    Case {
        name: "npy negative label",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "y.npy", &npy("<i2", false, &[30], &[0xff; 60]));
        },
        codes: RUN,
        needles: &["y.npy", "label -1"],
    },
    Case {
        name: "npy gzipped file",
        args: lin_data!("npy:{d}/x.npy,{d}/y.npy"),
        setup: |d| {
            good_npy(d);
            write(d, "x.npy", &gz(&npy_x()));
        },
        codes: RUN,
        needles: &["x.npy", "gzip"],
    },
    Case {
        name: "npy missing targets file",
        args: lin_data!("npy:{d}/x.npy,{d}/nope.npy"),
        setup: good_npy,
        codes: RUN,
        needles: &["nope.npy"],
    },
];

const DATA_SPEC_CASES: &[Case] = &[
    Case {
        name: "unknown data set",
        args: lin_data!("cifar10"),
        setup: nothing,
        codes: USAGE,
        needles: &["unknown data set `cifar10`"],
    },
    Case {
        name: "idx spec with one file",
        args: lin_data!("idx:{d}/img.idx"),
        setup: good_idx,
        codes: USAGE,
        needles: &["--data", "two files"],
    },
    Case {
        name: "idx spec with an empty file name",
        args: lin_data!("idx:,{d}/lab.idx"),
        setup: good_idx,
        codes: USAGE,
        needles: &["--data", "two files"],
    },
    Case {
        name: "npy spec with one file",
        args: lin_data!("npy:{d}/x.npy"),
        setup: good_npy,
        codes: USAGE,
        needles: &["--data", "npy:X.npy,Y.npy"],
    },
    Case {
        name: "csv spec without a path",
        args: lin_data!("csv:"),
        setup: nothing,
        codes: USAGE,
        needles: &["--data", "needs a file"],
    },
    Case {
        name: "digits spec with an argument",
        args: lin_data!("digits:extra"),
        setup: nothing,
        codes: USAGE,
        needles: &["--data", "takes no argument"],
    },
    Case {
        name: "--n-train 0",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-train",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--n-train"],
    },
    Case {
        name: "--n-test 0",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-test",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--n-test"],
    },
    Case {
        name: "--n-train u64::MAX",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-test",
            "5",
            "--n-train",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--n-train"],
    },
    Case {
        name: "--n-test u64::MAX",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-train",
            "10",
            "--n-test",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--n-test"],
    },
    Case {
        name: "--n-train negative",
        args: &["linearize", "-q", "--no-write", "--n-train=-1"],
        setup: nothing,
        codes: USAGE,
        needles: &["--n-train"],
    },
    Case {
        name: "--n-train 1e3",
        args: &["linearize", "-q", "--no-write", "--n-train", "1e3"],
        setup: nothing,
        codes: USAGE,
        needles: &["--n-train"],
    },
    Case {
        name: "--n-train beyond the digits",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--n-train",
            "5000",
        ],
        setup: nothing,
        codes: RUN,
        needles: &["only 1797"],
    },
    Case {
        name: "teacher with 10^12 samples",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "8",
            "--steps",
            "2",
            "--data",
            "teacher",
            "--n-test",
            "5",
            "--n-train",
            "1000000000000",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--n-train"],
    },
    Case {
        name: "--data-seed 2^64",
        args: lin!("--data-seed", "18446744073709551616"),
        setup: nothing,
        codes: USAGE,
        needles: &["--data-seed"],
    },
];

const LINEARIZE_CASES: &[Case] = &[
    Case {
        name: "--lambda 0",
        args: lin!("--lambda", "0"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "--lambda -1",
        args: lin!("--lambda", "-1"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "--lambda NaN",
        args: lin!("--lambda", "NaN"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "--lambda inf",
        args: lin!("--lambda", "inf"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "--lambda 1e300",
        args: lin!("--lambda", "1e300"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "--lambda not a number",
        args: lin!("--lambda", "small"),
        setup: nothing,
        codes: USAGE,
        needles: &["--lambda"],
    },
    Case {
        name: "--lr 0",
        args: lin!("--lr", "0"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lr"],
    },
    Case {
        name: "--lr -1",
        args: lin!("--lr", "-1"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lr"],
    },
    Case {
        name: "--lr NaN",
        args: lin!("--lr", "NaN"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lr"],
    },
    Case {
        name: "--lr inf",
        args: lin!("--lr", "inf"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lr"],
    },
    Case {
        name: "--lr 1e300",
        args: lin!("--lr", "1e300"),
        setup: nothing,
        codes: EITHER,
        needles: &["--lr", "largest stable step"],
    },
    Case {
        name: "--steps 0",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--no-kernel-change",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--widths",
            "8",
            "--steps",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--steps"],
    },
    Case {
        name: "--steps u64::MAX",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--no-kernel-change",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--widths",
            "8",
            "--steps",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--steps"],
    },
    Case {
        name: "--steps -1",
        args: &["linearize", "-q", "--no-write", "--steps=-1"],
        setup: nothing,
        codes: USAGE,
        needles: &["--steps"],
    },
    Case {
        name: "--steps 1e3",
        args: &["linearize", "-q", "--no-write", "--steps", "1e3"],
        setup: nothing,
        codes: USAGE,
        needles: &["--steps"],
    },
    Case {
        name: "--sigma-w -1",
        args: lin!("--sigma-w", "-1"),
        setup: nothing,
        codes: EITHER,
        needles: &["sigma"],
    },
    Case {
        name: "--sigma-w NaN",
        args: lin!("--sigma-w", "NaN"),
        setup: nothing,
        codes: EITHER,
        needles: &["sigma"],
    },
    Case {
        name: "--sigma-w inf",
        args: lin!("--sigma-w", "inf"),
        setup: nothing,
        codes: EITHER,
        needles: &["sigma"],
    },
    Case {
        name: "--sigma-w 1e300",
        args: lin!("--sigma-w", "1e300"),
        setup: nothing,
        codes: EITHER,
        needles: &["σ_w|--sigma-w"],
    },
    Case {
        name: "--sigma-b -1",
        args: lin!("--sigma-b", "-1"),
        setup: nothing,
        codes: EITHER,
        needles: &["sigma_b"],
    },
    Case {
        name: "--sigma-b NaN",
        args: lin!("--sigma-b", "NaN"),
        setup: nothing,
        codes: EITHER,
        needles: &["sigma_b"],
    },
    Case {
        name: "--sigma-b 1e300",
        args: lin!("--sigma-b", "1e300"),
        setup: nothing,
        codes: EITHER,
        needles: &["σ_b|--sigma-b"],
    },
    Case {
        name: "--max-memory-mib 0",
        args: lin!("--max-memory-mib", "0"),
        setup: nothing,
        codes: EITHER,
        needles: &["--max-memory-mib"],
    },
    Case {
        name: "--max-memory-mib -1",
        args: lin!("--max-memory-mib=-1"),
        setup: nothing,
        codes: USAGE,
        needles: &["--max-memory-mib"],
    },
    Case {
        // A budget beyond the machine's memory must not let a 320 GB kernel through.
        name: "--max-memory-mib u64::MAX",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--no-kernel-change",
            "--widths",
            "8",
            "--steps",
            "2",
            "--data",
            "teacher",
            "--n-train",
            "200000",
            "--n-test",
            "5",
            "--max-memory-mib",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--max-memory-mib"],
    },
    Case {
        name: "--threads 0",
        args: lin!("--threads", "0"),
        setup: nothing,
        codes: USAGE,
        needles: &["--threads"],
    },
    Case {
        name: "--threads 1025",
        args: lin!("--threads", "1025"),
        setup: nothing,
        codes: USAGE,
        needles: &["--threads"],
    },
    Case {
        name: "--threads u64::MAX",
        args: lin!("--threads", "18446744073709551615"),
        setup: nothing,
        codes: USAGE,
        needles: &["--threads"],
    },
    Case {
        name: "--seed -1",
        args: lin!("--seed=-1"),
        setup: nothing,
        codes: USAGE,
        needles: &["--seed"],
    },
    Case {
        name: "unknown activation",
        args: lin!("--activation", "swishy"),
        setup: nothing,
        codes: EITHER,
        needles: &["activation", "swishy"],
    },
    Case {
        name: "empty activation",
        args: lin!("--activation="),
        setup: nothing,
        codes: EITHER,
        needles: &["activation"],
    },
    Case {
        name: "unknown parameterization",
        args: lin!("--parameterization", "mup"),
        setup: nothing,
        codes: USAGE,
        needles: &["--parameterization"],
    },
    Case {
        name: "unknown dtype",
        args: lin!("--dtype", "f16"),
        setup: nothing,
        codes: USAGE,
        needles: &["--dtype"],
    },
    Case {
        name: "unknown kernel",
        args: lin!("--kernel", "none"),
        setup: nothing,
        codes: USAGE,
        needles: &["--kernel"],
    },
    Case {
        name: "unknown flag",
        args: lin!("--bogus"),
        setup: nothing,
        codes: USAGE,
        needles: &["--bogus"],
    },
    Case {
        name: "--widths ,",
        args: &["linearize", "-q", "--no-write", "--widths", ","],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths"],
    },
    Case {
        name: "--widths 64,,64",
        args: &["linearize", "-q", "--no-write", "--widths", "64,,64"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "64,,64"],
    },
    Case {
        name: "--widths a",
        args: &["linearize", "-q", "--no-write", "--widths", "a"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "`a`"],
    },
    Case {
        name: "--widths -1",
        args: &["linearize", "-q", "--no-write", "--widths=-1"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "-1"],
    },
    Case {
        name: "--widths 1e3",
        args: &["linearize", "-q", "--no-write", "--widths", "1e3"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "1e3"],
    },
    Case {
        name: "--widths 99999999999999",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "99999999999999",
        ],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "maximum"],
    },
    Case {
        name: "--widths 2^64",
        args: &[
            "linearize",
            "-q",
            "--no-write",
            "--widths",
            "16,18446744073709551616",
        ],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths"],
    },
    Case {
        name: "--widths 0",
        args: &["linearize", "-q", "--no-write", "--widths", "0"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths", "width 0"],
    },
    Case {
        name: "--widths empty",
        args: &["linearize", "-q", "--no-write", "--widths="],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths"],
    },
];

const OTHER_COMMAND_CASES: &[Case] = &[
    Case {
        name: "newton-vs-gd --rows 0",
        args: &["newton-vs-gd", "-q", "--no-write", "--rows", "0"],
        setup: nothing,
        codes: EITHER,
        needles: &["--rows"],
    },
    Case {
        name: "newton-vs-gd --rows u64::MAX",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--rows"],
    },
    Case {
        name: "newton-vs-gd --cols 0",
        args: &["newton-vs-gd", "-q", "--no-write", "--cols", "0"],
        setup: nothing,
        codes: EITHER,
        needles: &["--cols"],
    },
    Case {
        name: "newton-vs-gd --cols 99999",
        args: &["newton-vs-gd", "-q", "--no-write", "--cols", "99999"],
        setup: nothing,
        codes: EITHER,
        needles: &["--cols"],
    },
    Case {
        name: "newton-vs-gd --kappa NaN",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--kappa",
            "NaN",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--kappa"],
    },
    Case {
        name: "newton-vs-gd --kappa -1",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--kappa",
            "-1",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--kappa"],
    },
    Case {
        name: "newton-vs-gd --kappa inf",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--kappa",
            "inf",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--kappa"],
    },
    Case {
        name: "newton-vs-gd --kappa 1e300",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--kappa",
            "1e300",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--kappa"],
    },
    Case {
        name: "newton-vs-gd --eps 0",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--eps",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--eps"],
    },
    Case {
        name: "newton-vs-gd --eps NaN",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--eps",
            "NaN",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--eps"],
    },
    Case {
        name: "newton-vs-gd --eps 1e300",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--eps",
            "1e300",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--eps"],
    },
    Case {
        name: "newton-vs-gd --eps -inf",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--rows",
            "20",
            "--cols",
            "10",
            "--eps=-inf",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--eps"],
    },
    Case {
        name: "newton-vs-gd --network-n-train u64::MAX",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--network",
            "--network-n-train",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--network-n-train"],
    },
    Case {
        name: "newton-vs-gd --network-width 0",
        args: &[
            "newton-vs-gd",
            "-q",
            "--no-write",
            "--network",
            "--network-width",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--network-width"],
    },
    Case {
        name: "imbalance --k 0",
        args: &["imbalance", "-q", "--no-write", "--steps", "5", "--k", "0"],
        setup: nothing,
        codes: EITHER,
        needles: &["--k"],
    },
    Case {
        name: "imbalance --k u64::MAX",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--k",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--k"],
    },
    Case {
        name: "imbalance --m u64::MAX",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--m",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--m"],
    },
    Case {
        name: "imbalance --features 0",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--features",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--features"],
    },
    Case {
        name: "imbalance --features u64::MAX",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--features",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["features"],
    },
    Case {
        name: "imbalance --steps 0",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--features",
            "16",
            "--steps",
            "0",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--steps"],
    },
    Case {
        name: "imbalance --steps u64::MAX",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--features",
            "16",
            "--steps",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--steps"],
    },
    Case {
        name: "imbalance --lambda NaN",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--lambda",
            "NaN",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "imbalance --lambda 1e300",
        args: &[
            "imbalance",
            "-q",
            "--no-write",
            "--steps",
            "5",
            "--lambda",
            "1e300",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "width-sweep --depth 0",
        args: &["width-sweep", "-q", "--no-write", "--depth", "0"],
        setup: nothing,
        codes: USAGE,
        needles: &["--depth"],
    },
    Case {
        name: "width-sweep --depth 17",
        args: &["width-sweep", "-q", "--no-write", "--depth", "17"],
        setup: nothing,
        codes: USAGE,
        needles: &["--depth"],
    },
    Case {
        name: "width-sweep --seeds 0",
        args: &["width-sweep", "-q", "--no-write", "--seeds", "0"],
        setup: nothing,
        codes: USAGE,
        needles: &["--seeds"],
    },
    Case {
        name: "width-sweep --seeds u64::MAX",
        args: &[
            "width-sweep",
            "-q",
            "--no-write",
            "--seeds",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: USAGE,
        needles: &["--seeds"],
    },
    Case {
        name: "width-sweep --widths 64,,64",
        args: &["width-sweep", "-q", "--no-write", "--widths", "64,,64"],
        setup: nothing,
        codes: USAGE,
        needles: &["--widths"],
    },
    Case {
        name: "width-sweep --lambda inf",
        args: &[
            "width-sweep",
            "-q",
            "--no-write",
            "--widths",
            "4",
            "--seeds",
            "1",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--steps",
            "2",
            "--lambda",
            "inf",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--lambda"],
    },
    Case {
        name: "width-sweep --lr NaN",
        args: &[
            "width-sweep",
            "-q",
            "--no-write",
            "--widths",
            "4",
            "--seeds",
            "1",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--steps",
            "2",
            "--lr",
            "NaN",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--lr"],
    },
    Case {
        name: "width-sweep --steps u64::MAX",
        args: &[
            "width-sweep",
            "-q",
            "--no-write",
            "--widths",
            "4",
            "--seeds",
            "1",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--steps",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--steps"],
    },
    Case {
        name: "width-sweep unknown activation",
        args: &[
            "width-sweep",
            "-q",
            "--no-write",
            "--widths",
            "4",
            "--seeds",
            "1",
            "--n-train",
            "10",
            "--n-test",
            "5",
            "--steps",
            "2",
            "--activation",
            "swishy",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["activation", "swishy"],
    },
    Case {
        name: "bench-jacobian --reps 0",
        args: &["bench-jacobian", "-q", "--no-write", "--reps", "0"],
        setup: nothing,
        codes: USAGE,
        needles: &["--reps"],
    },
    Case {
        name: "bench-jacobian --reps u64::MAX",
        args: &[
            "bench-jacobian",
            "-q",
            "--no-write",
            "--reps",
            "18446744073709551615",
        ],
        setup: nothing,
        codes: USAGE,
        needles: &["--reps"],
    },
    Case {
        name: "bench-jacobian --dtype f32,,f64",
        args: &["bench-jacobian", "-q", "--no-write", "--dtype", "f32,,f64"],
        setup: nothing,
        codes: USAGE,
        needles: &["--dtype"],
    },
    Case {
        name: "bench-jacobian with nothing to measure",
        args: &[
            "bench-jacobian",
            "-q",
            "--no-write",
            "--reference-only",
            "--no-reference",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--reference-only", "--no-reference"],
    },
    Case {
        name: "data fetch of an unknown data set",
        args: &["data", "fetch", "cifar", "-q", "--dir", "{d}"],
        setup: nothing,
        codes: USAGE,
        needles: &["cifar", "mnist"],
    },
    Case {
        name: "data fetch --dir under a regular file",
        args: &["data", "fetch", "mnist", "-q", "--dir", "{d}/file/sub"],
        setup: a_file,
        codes: RUN,
        needles: &["cannot create the cache folder", "file/sub"],
    },
    Case {
        name: "data fetch --base-url malformed",
        args: &[
            "data",
            "fetch",
            "mnist",
            "-q",
            "--dir",
            "{d}",
            "--base-url",
            "ftp//nowhere",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--base-url", "http"],
    },
    Case {
        name: "data fetch --base-url without a host",
        args: &[
            "data",
            "fetch",
            "mnist",
            "-q",
            "--dir",
            "{d}",
            "--base-url",
            "http:///x",
        ],
        setup: nothing,
        codes: EITHER,
        needles: &["--base-url", "host"],
    },
];

/// A directory that refuses writes: a 0555 directory, or, when running as root (who may write
/// there anyway), a regular file in its place so that `ro/out` cannot be created either.
fn read_only_dir(d: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = ro.join(".probe");
    if std::fs::write(&probe, b"").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir(&ro).unwrap();
        write(
            d,
            "ro",
            b"root may write into a 0555 directory; this file blocks `ro/out`\n",
        );
    }
}

fn a_file(d: &Path) {
    write(d, "file", b"not a directory\n");
}

/// Small linearize arguments without `--no-write`, then the case's own.
macro_rules! lin_out {
    ($($a:expr),* $(,)?) => {
        &["linearize", "-q", "--no-kernel-change", "--n-train", "10", "--n-test", "5",
          "--widths", "8", "--steps", "2", $($a),*]
    };
}

/// `tickets` with tiny settings and no files written, then the case's own arguments.
macro_rules! tix {
    ($($a:expr),* $(,)?) => {
        &["tickets", "-q", "--no-write", "--n-train", "20", "--n-test", "20", "--widths", "8",
          "--width-scales", "1", "--keep", "0.5", "--iterations", "5", "--seeds", "1", $($a),*]
    };
}

const TICKETS_CASES: &[Case] = &[
    Case {
        name: "tickets --keep 1",
        args: tix!("--keep", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--keep"],
    },
    Case {
        name: "tickets --keep 0",
        args: tix!("--keep", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--keep"],
    },
    Case {
        name: "tickets --keep nan",
        args: tix!("--keep", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["--keep"],
    },
    Case {
        name: "tickets --keep abc",
        args: tix!("--keep", "abc"),
        setup: nothing,
        codes: USAGE,
        needles: &["--keep"],
    },
    Case {
        name: "tickets --width-scales -1",
        args: tix!("--width-scales", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["--width-scales"],
    },
    Case {
        name: "tickets --width-scales 1e9",
        args: tix!("--width-scales", "1e9"),
        setup: nothing,
        codes: RUN,
        needles: &["--width-scales"],
    },
    Case {
        name: "tickets --lr-scale 2",
        args: tix!("--lr-scale", "2"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr-scale"],
    },
    Case {
        name: "tickets --lambda -1",
        args: tix!("--lambda", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["--lambda"],
    },
    Case {
        name: "tickets --lambda inf",
        args: tix!("--lambda", "inf"),
        setup: nothing,
        codes: RUN,
        needles: &["--lambda"],
    },
    Case {
        name: "tickets --iterations 0",
        args: tix!("--iterations", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--iterations"],
    },
    Case {
        name: "tickets --seeds 0",
        args: tix!("--seeds", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--seeds"],
    },
    Case {
        name: "tickets --activation identity",
        args: tix!("--activation", "identity"),
        setup: nothing,
        codes: RUN,
        needles: &["linear network"],
    },
    Case {
        name: "tickets on regression data",
        args: tix!("--data", "sine"),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
    Case {
        name: "tickets --max-memory-mib 1",
        args: tix!("--n-train", "1500", "--max-memory-mib", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["memory budget"],
    },
    Case {
        name: "tickets more samples than digits",
        args: tix!("--n-train", "5000"),
        setup: nothing,
        codes: RUN,
        needles: &["samples"],
    },
];

/// `stability` with tiny settings and no files written, then the case's own arguments.
macro_rules! stab {
    ($($a:expr),* $(,)?) => {
        &["stability", "-q", "--no-write", "--n-train", "100", "--n-val", "20", "--n-test", "20",
          "--widths", "8", "--iterations", "20", "--batch-size", "10", "--ks", "0,5",
          "--ticket-rounds", "1", "--alphas", "3", "--kernel-samples", "10", "--seeds", "1",
          $($a),*]
    };
}

const STABILITY_CASES: &[Case] = &[
    Case {
        name: "stability --ks past the end",
        args: stab!("--ks", "0,20"),
        setup: nothing,
        codes: RUN,
        needles: &["--ks"],
    },
    Case {
        name: "stability --ks decreasing",
        args: stab!("--ks", "5,0"),
        setup: nothing,
        codes: RUN,
        needles: &["increasing"],
    },
    Case {
        name: "stability --ks -1",
        args: stab!("--ks", "-1"),
        setup: nothing,
        codes: USAGE,
        needles: &["--ks"],
    },
    Case {
        name: "stability --ticket-rounds 0",
        args: stab!("--ticket-rounds", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--ticket-rounds"],
    },
    Case {
        name: "stability --ticket-rounds 1000",
        args: stab!("--ticket-rounds", "1000"),
        setup: nothing,
        codes: RUN,
        needles: &["--ticket-rounds"],
    },
    Case {
        name: "stability --alphas 1",
        args: stab!("--alphas", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--alphas"],
    },
    Case {
        name: "stability --kernel-samples 0",
        args: stab!("--kernel-samples", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--kernel-samples"],
    },
    Case {
        name: "stability --kernel-samples above n",
        args: stab!("--kernel-samples", "101"),
        setup: nothing,
        codes: RUN,
        needles: &["--kernel-samples"],
    },
    Case {
        name: "stability --seeds 0",
        args: stab!("--seeds", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--seeds"],
    },
    Case {
        name: "stability --lr nan",
        args: stab!("--lr", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["step size"],
    },
    Case {
        name: "stability on regression data",
        args: stab!(
            "--data",
            "sine",
            "--n-train",
            "40",
            "--n-val",
            "10",
            "--n-test",
            "10",
            "--kernel-samples",
            "10"
        ),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
];

/// `supermask` with tiny settings and no files written, then the case's own arguments.
macro_rules! sup {
    ($($a:expr),* $(,)?) => {
        &["supermask", "-q", "--no-write", "--n-train", "40", "--n-test", "20", "--widths", "8",
          "--keep", "0.5", "--iterations", "3", "--batch-size", "10", "--seeds", "1", $($a),*]
    };
}

const SUPERMASK_CASES: &[Case] = &[
    Case {
        name: "supermask --keep 0",
        args: sup!("--keep", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--keep"],
    },
    Case {
        name: "supermask --keep 2",
        args: sup!("--keep", "2"),
        setup: nothing,
        codes: RUN,
        needles: &["--keep"],
    },
    Case {
        name: "supermask --batch-size above n",
        args: sup!("--batch-size", "500"),
        setup: nothing,
        codes: RUN,
        needles: &["--batch-size"],
    },
    Case {
        name: "supermask --lr inf",
        args: sup!("--lr", "inf"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr"],
    },
    Case {
        name: "supermask --momentum 1",
        args: sup!("--momentum", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--momentum"],
    },
    Case {
        name: "supermask --iterations 0",
        args: sup!("--iterations", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--iterations"],
    },
    Case {
        name: "supermask --activation identity",
        args: sup!("--activation", "identity"),
        setup: nothing,
        codes: RUN,
        needles: &["linear network"],
    },
    Case {
        name: "supermask on regression data",
        args: sup!("--data", "sine"),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
];

/// `linearize --loss cross-entropy` with tiny settings, then the case's own arguments.
macro_rules! lce {
    ($($a:expr),* $(,)?) => {
        &["linearize", "--loss", "cross-entropy", "-q", "--no-write", "--n-train", "20",
          "--n-test", "20", "--steps", "3", $($a),*]
    };
}

const CROSS_ENTROPY_CASES: &[Case] = &[
    Case {
        name: "linearize --loss cross-entropy --lambda 0",
        args: lce!("--lambda", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["finite minimiser"],
    },
    Case {
        name: "linearize --loss cross-entropy --lr -1",
        args: lce!("--lr", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr"],
    },
    Case {
        name: "linearize --loss cross-entropy on regression data",
        args: lce!("--data", "sine"),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
    Case {
        name: "linearize --loss cross-entropy --adam-lr nan",
        args: lce!("--adam-lr", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["--adam-lr"],
    },
    Case {
        name: "linearize --loss cross-entropy too wide for the budget",
        args: lce!("--widths", "20000,20000", "--max-memory-mib", "100"),
        setup: nothing,
        codes: RUN,
        needles: &["memory"],
    },
];

/// `probe` with tiny settings and no files written, then the case's own arguments.
macro_rules! prb {
    ($($a:expr),* $(,)?) => {
        &["probe", "-q", "--no-write", "--n-train", "40", "--n-test", "40", "--widths", "8",
          "--iterations", "3", "--features-per-layer", "5", "--seeds", "1", $($a),*]
    };
}

const PROBE_CASES: &[Case] = &[
    Case {
        name: "probe --depth 0",
        args: prb!("--depth", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--depth"],
    },
    Case {
        name: "probe --lr-scale 2",
        args: prb!("--lr-scale", "2"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr-scale"],
    },
    Case {
        name: "probe --ridge 0",
        args: prb!("--ridge", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--ridge"],
    },
    Case {
        name: "probe --ridge nan",
        args: prb!("--ridge", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["--ridge"],
    },
    Case {
        name: "probe --features-per-layer 0",
        args: prb!("--features-per-layer", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--features-per-layer"],
    },
    Case {
        name: "probe --iterations 0",
        args: prb!("--iterations", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--iterations"],
    },
    Case {
        name: "probe --n-test 1",
        args: prb!("--n-test", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--n-test"],
    },
    Case {
        name: "probe --sigma-w -1",
        args: prb!("--sigma-w", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["sigma-w"],
    },
    Case {
        name: "probe --activation identity",
        args: prb!("--activation", "identity"),
        setup: nothing,
        codes: RUN,
        needles: &["linear network"],
    },
    Case {
        name: "probe on regression data",
        args: prb!("--data", "sine"),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
    Case {
        name: "probe --max-memory-mib 1",
        args: prb!("--max-memory-mib", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["memory"],
    },
];

/// `sgd-noise` with tiny settings and no files written, then the case's own arguments.
macro_rules! sgn {
    ($($a:expr),* $(,)?) => {
        &["sgd-noise", "-q", "--no-write", "--n-train", "20", "--n-test", "20", "--widths", "8",
          "--batch-sizes", "5", "--steps", "3", "--inits", "2", "--orders", "2", $($a),*]
    };
}

const SGD_NOISE_CASES: &[Case] = &[
    Case {
        name: "sgd-noise --inits 1",
        args: sgn!("--inits", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--inits"],
    },
    Case {
        name: "sgd-noise --orders 0",
        args: sgn!("--orders", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--orders"],
    },
    Case {
        name: "sgd-noise --batch-sizes 0",
        args: sgn!("--batch-sizes", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--batch-sizes"],
    },
    Case {
        name: "sgd-noise --steps 0",
        args: sgn!("--steps", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--steps"],
    },
    Case {
        name: "sgd-noise --lr-scale 2",
        args: sgn!("--lr-scale", "2"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr-scale"],
    },
    Case {
        name: "sgd-noise --lr-scale nan",
        args: sgn!("--lr-scale", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["--lr-scale"],
    },
    Case {
        name: "sgd-noise --newton-ridge 0",
        args: sgn!("--newton-ridge", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--newton-ridge"],
    },
    Case {
        name: "sgd-noise --depth 0",
        args: sgn!("--depth", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--depth"],
    },
    Case {
        name: "sgd-noise --sigma-w -1",
        args: sgn!("--sigma-w", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["sigma-w"],
    },
    Case {
        name: "sgd-noise --n-train 1",
        args: sgn!("--n-train", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--n-train"],
    },
    Case {
        name: "sgd-noise --max-memory-mib 1",
        args: sgn!("--max-memory-mib", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["memory"],
    },
    Case {
        name: "sgd-noise --batch-sizes x",
        args: sgn!("--batch-sizes", "x"),
        setup: nothing,
        codes: USAGE,
        needles: &["batch-sizes"],
    },
];

/// `lottery` with tiny settings and no files written, then the case's own arguments.
macro_rules! lot {
    ($($a:expr),* $(,)?) => {
        &["lottery", "-q", "--no-write", "--n-train", "100", "--n-val", "20", "--n-test", "20",
          "--widths", "8", "--iterations", "20", "--eval-every", "10", "--batch-size", "10",
          "--rounds", "1", "--seeds", "1", $($a),*]
    };
}

const LOTTERY_CASES: &[Case] = &[
    Case {
        name: "lottery --prune-hidden 1.5",
        args: lot!("--prune-hidden", "1.5"),
        setup: nothing,
        codes: RUN,
        needles: &["--prune-hidden"],
    },
    Case {
        name: "lottery --prune-hidden -0.1",
        args: lot!("--prune-hidden", "-0.1"),
        setup: nothing,
        codes: RUN,
        needles: &["--prune-hidden"],
    },
    Case {
        name: "lottery --prune-output 1",
        args: lot!("--prune-output", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["--prune-output"],
    },
    Case {
        name: "lottery --prune-hidden 0",
        args: lot!("--prune-hidden", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["prunes nothing"],
    },
    Case {
        name: "lottery --rewind-iter past the end",
        args: lot!("--rewind-iter", "50"),
        setup: nothing,
        codes: RUN,
        needles: &["--rewind-iter"],
    },
    Case {
        name: "lottery --rounds 1000",
        args: lot!("--rounds", "1000"),
        setup: nothing,
        codes: RUN,
        needles: &["--rounds"],
    },
    Case {
        name: "lottery --seeds 0",
        args: lot!("--seeds", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--seeds"],
    },
    Case {
        name: "lottery --batch-size 0",
        args: lot!("--batch-size", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["batch"],
    },
    Case {
        name: "lottery --batch-size above n",
        args: lot!("--batch-size", "5000"),
        setup: nothing,
        codes: RUN,
        needles: &["--batch-size"],
    },
    Case {
        name: "lottery --lr nan",
        args: lot!("--lr", "nan"),
        setup: nothing,
        codes: RUN,
        needles: &["step size"],
    },
    Case {
        name: "lottery --lr -1",
        args: lot!("--lr", "-1"),
        setup: nothing,
        codes: RUN,
        needles: &["step size"],
    },
    Case {
        name: "lottery sgd --momentum 1.5",
        args: lot!("--optimizer", "sgd", "--momentum", "1.5"),
        setup: nothing,
        codes: RUN,
        needles: &["momentum"],
    },
    Case {
        name: "lottery --weight-decay inf",
        args: lot!("--weight-decay", "inf"),
        setup: nothing,
        codes: RUN,
        needles: &["weight decay"],
    },
    Case {
        name: "lottery --iterations 0",
        args: lot!("--iterations", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["iterations"],
    },
    Case {
        name: "lottery --iterations 10^11",
        args: lot!("--iterations", "100000000000"),
        setup: nothing,
        codes: RUN,
        needles: &["--iterations"],
    },
    Case {
        name: "lottery --eval-every 0",
        args: lot!("--eval-every", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["evaluation period"],
    },
    Case {
        name: "lottery --activation identity",
        args: lot!("--activation", "identity"),
        setup: nothing,
        codes: RUN,
        needles: &["linear network"],
    },
    Case {
        name: "lottery on regression data",
        args: lot!(
            "--data",
            "sine",
            "--n-train",
            "40",
            "--n-val",
            "10",
            "--n-test",
            "10",
            "--batch-size",
            "10"
        ),
        setup: nothing,
        codes: RUN,
        needles: &["class labels"],
    },
    Case {
        name: "lottery --n-val 0",
        args: lot!("--n-val", "0"),
        setup: nothing,
        codes: RUN,
        needles: &["--n-val"],
    },
    Case {
        name: "lottery more samples than digits",
        args: lot!("--n-train", "5000"),
        setup: nothing,
        codes: RUN,
        needles: &["samples"],
    },
    Case {
        name: "lottery --widths 0",
        args: lot!("--widths", "0"),
        setup: nothing,
        codes: EITHER,
        needles: &["width"],
    },
    Case {
        name: "lottery --init bogus",
        args: lot!("--init", "bogus"),
        setup: nothing,
        codes: USAGE,
        needles: &["unknown initialisation"],
    },
    Case {
        name: "lottery --pruning bogus",
        args: lot!("--pruning", "bogus"),
        setup: nothing,
        codes: USAGE,
        needles: &["--pruning"],
    },
    Case {
        name: "lottery --max-memory-mib 1",
        args: lot!("--widths", "4000", "--max-memory-mib", "1"),
        setup: nothing,
        codes: RUN,
        needles: &["memory budget"],
    },
    Case {
        name: "lottery with a diverging Adam step",
        args: lot!("--iterations", "50", "--lr", "1e6"),
        setup: nothing,
        codes: RUN,
        needles: &["diverged", "seed 0, round 0"],
    },
    Case {
        name: "lottery with a diverging SGD step",
        args: lot!("--iterations", "50", "--optimizer", "sgd", "--lr", "1e4"),
        setup: nothing,
        codes: RUN,
        needles: &["diverged"],
    },
    Case {
        name: "bench-train --thread-counts 0",
        args: &["bench-train", "-q", "--no-write", "--thread-counts", "0"],
        setup: nothing,
        codes: RUN,
        needles: &["--threads"],
    },
    Case {
        name: "bench-train --batch 0",
        args: &["bench-train", "-q", "--no-write", "--batch", "0"],
        setup: nothing,
        codes: RUN,
        needles: &["--batch"],
    },
    Case {
        name: "bench-train --blocks 0",
        args: &["bench-train", "-q", "--no-write", "--blocks", "0"],
        setup: nothing,
        codes: RUN,
        needles: &["--blocks"],
    },
    Case {
        name: "bench-train --batch above n",
        args: &[
            "bench-train",
            "-q",
            "--no-write",
            "--n",
            "100",
            "--batch",
            "200",
        ],
        setup: nothing,
        codes: RUN,
        needles: &["--batch"],
    },
];

const OUTPUT_CASES: &[Case] = &[
    Case {
        name: "--out is a file",
        args: lin_out!("--out", "{d}/file"),
        setup: a_file,
        codes: EITHER,
        needles: &["--out", "file"],
    },
    Case {
        name: "--out under a file",
        args: lin_out!("--out", "{d}/file/sub"),
        setup: a_file,
        codes: RUN,
        needles: &["file/sub"],
    },
    Case {
        name: "--out is /dev/null",
        args: lin_out!("--out", "/dev/null"),
        setup: nothing,
        codes: EITHER,
        needles: &["--out", "/dev/null"],
    },
    Case {
        name: "--out in a read-only directory",
        args: lin_out!("--out", "{d}/ro/out"),
        setup: read_only_dir,
        codes: RUN,
        needles: &["ro/out"],
    },
    Case {
        name: "--out empty",
        args: lin_out!("--out="),
        setup: nothing,
        codes: USAGE,
        needles: &["--out"],
    },
    Case {
        name: "imbalance --out under a file",
        args: &[
            "imbalance",
            "-q",
            "--steps",
            "5",
            "--features",
            "16",
            "--out",
            "{d}/file/sub",
        ],
        setup: a_file,
        codes: RUN,
        needles: &["file/sub"],
    },
    Case {
        name: "newton-vs-gd --out is a file",
        args: &[
            "newton-vs-gd",
            "-q",
            "--rows",
            "20",
            "--cols",
            "10",
            "--out",
            "{d}/file",
        ],
        setup: a_file,
        codes: EITHER,
        needles: &["--out", "file"],
    },
    Case {
        name: "--dump into a non-empty directory",
        args: lin!("--dump", "{d}/bundle"),
        setup: |d| {
            std::fs::create_dir(d.join("bundle")).unwrap();
            write(&d.join("bundle"), "notes.txt", b"someone else's files\n");
        },
        codes: EITHER,
        needles: &["--dump", "bundle"],
    },
    Case {
        name: "--dump is a file",
        args: lin!("--dump", "{d}/file"),
        setup: a_file,
        codes: EITHER,
        needles: &["file"],
    },
    Case {
        name: "--dump under a file",
        args: lin!("--dump", "{d}/file/sub"),
        setup: a_file,
        codes: EITHER,
        needles: &["file/sub"],
    },
    Case {
        name: "--dump empty",
        args: lin!("--dump="),
        setup: nothing,
        codes: USAGE,
        needles: &["--dump"],
    },
];

// ---------------------------------------------------------------- the driver

fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static K: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "tangent-bad-{}-{}",
        std::process::id(),
        K.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every path under `root` (relative), directories included.
fn tree(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(root).unwrap().to_path_buf());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out
}

fn remove_scratch(d: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // Undo read-only directories so that the tree can be removed.
    for p in tree(d) {
        let p = d.join(p);
        if p.is_dir() {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    stderr: String,
}

/// Runs the binary under a virtual-memory cap and a time limit, in directory `cwd`.
fn run(args: &[String], cwd: &Path) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("ulimit -v {VMEM_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tangent"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break (s, false);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            break (child.wait().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        code: status.code(),
        signal: status.signal(),
        timed_out,
        stderr: reader.join().unwrap_or_default(),
    }
}

/// Runs one case; returns a description of what went wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let d = scratch_dir();
    (case.setup)(&d);
    let before = tree(&d);
    let ds = d.display().to_string();
    let args: Vec<String> = case.args.iter().map(|a| a.replace("{d}", &ds)).collect();
    let out = run(&args, &d);
    let after = tree(&d);
    remove_scratch(&d);

    let mut problems = Vec::new();
    if out.timed_out {
        problems.push(format!("did not finish within {TIMEOUT:?} (killed)"));
    } else if let Some(sig) = out.signal {
        problems.push(format!("killed by signal {sig}"));
    } else if !out.code.is_some_and(|c| case.codes.contains(&c)) {
        let what = match out.code {
            Some(0) => " (success: the bad input was accepted)".to_string(),
            Some(101) => " (panic)".to_string(),
            Some(134) => " (abort)".to_string(),
            _ => String::new(),
        };
        problems.push(format!(
            "exit code {:?}{what}, expected one of {:?}",
            out.code, case.codes
        ));
    }
    let err = out.stderr.trim();
    if err.contains("panicked") {
        problems.push("stderr reports a panic".into());
    }
    let first = err.lines().next().unwrap_or("");
    if !first.starts_with("error:") {
        problems.push("stderr does not start with `error:`".into());
    }
    if out.code == Some(1) && err.lines().count() != 1 {
        problems.push(format!(
            "a refused run should print one line, printed {}",
            err.lines().count()
        ));
    }
    for n in case.needles {
        if !n.split('|').any(|alt| err.contains(alt)) {
            problems.push(format!("stderr does not mention `{n}`"));
        }
    }
    let left: Vec<_> = after.difference(&before).collect();
    if !left.is_empty() {
        problems.push(format!("left files behind: {left:?}"));
    }
    let gone: Vec<_> = before.difference(&after).collect();
    if !gone.is_empty() {
        problems.push(format!("removed the case's own files: {gone:?}"));
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "[{}] tangent {}\n    {}\n    stderr: {}",
        case.name,
        args.join(" "),
        problems.join("\n    "),
        if err.is_empty() {
            "(empty)".to_string()
        } else {
            err.lines()
                .take(6)
                .collect::<Vec<_>>()
                .join("\n            ")
        }
    ))
}

fn run_group(cases: &[Case]) {
    let mut names = BTreeSet::new();
    for c in cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
    }
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n\n{}\n",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn idx_and_mnist_files() {
    run_group(IDX_CASES);
}

#[test]
fn csv_files() {
    run_group(CSV_CASES);
}

#[test]
fn npy_files() {
    run_group(NPY_CASES);
}

#[test]
fn data_specs_and_sample_counts() {
    run_group(DATA_SPEC_CASES);
}

#[test]
fn linearize_options() {
    run_group(LINEARIZE_CASES);
}

#[test]
fn options_of_the_other_commands() {
    run_group(OTHER_COMMAND_CASES);
}

#[test]
fn lottery_and_bench_train_options() {
    run_group(LOTTERY_CASES);
}

#[test]
fn tickets_options() {
    run_group(TICKETS_CASES);
}

#[test]
fn stability_options() {
    run_group(STABILITY_CASES);
}

#[test]
fn supermask_options() {
    run_group(SUPERMASK_CASES);
}

#[test]
fn cross_entropy_options() {
    run_group(CROSS_ENTROPY_CASES);
}

#[test]
fn probe_options() {
    run_group(PROBE_CASES);
}

#[test]
fn sgd_noise_options() {
    run_group(SGD_NOISE_CASES);
}

#[test]
fn output_paths() {
    run_group(OUTPUT_CASES);
}

#[test]
fn the_table_is_large_and_names_are_unique() {
    let all: Vec<&Case> = [
        IDX_CASES,
        CSV_CASES,
        NPY_CASES,
        DATA_SPEC_CASES,
        LINEARIZE_CASES,
        OTHER_COMMAND_CASES,
        LOTTERY_CASES,
        TICKETS_CASES,
        STABILITY_CASES,
        SUPERMASK_CASES,
        PROBE_CASES,
        SGD_NOISE_CASES,
        CROSS_ENTROPY_CASES,
        OUTPUT_CASES,
    ]
    .iter()
    .flat_map(|g| g.iter())
    .collect();
    assert!(all.len() >= 45, "only {} cases", all.len());
    let names: BTreeSet<_> = all.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), all.len(), "case names must be unique");
}
