//! Helpers shared by the reliability tests (kill, hostile input, conflicts).
#![allow(dead_code)]

use arrow::util::display::{ArrayFormatter, FormatOptions};
use pedaudit::dataset;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Tables compared per year (conflicts included: it is part of the audit trail).
pub const TABLES: [&str; 5] = [
    "pedimentos",
    "partidas",
    "identificadores",
    "descargos",
    "conflicts",
];

/// Rows and a content digest (SHA-256 over every cell, formatted) of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    pub rows: usize,
    pub digest: String,
}

/// year → table → digest (a missing table file is absent from the inner map).
pub type Snapshot = BTreeMap<i32, BTreeMap<String, TableDigest>>;

pub fn table_digest(path: &Path) -> TableDigest {
    let batches = dataset::read_parquet(path).unwrap();
    let mut h = Sha256::new();
    let mut rows = 0;
    let opts = FormatOptions::default().with_null("<null>");
    for b in &batches {
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            for f in &fmts {
                h.update(f.value(r).to_string().as_bytes());
                h.update([0x1f]);
            }
            h.update([0x1e]);
            rows += 1;
        }
    }
    TableDigest {
        rows,
        digest: format!("{:x}", h.finalize()),
    }
}

/// Digests of every `year=*` partition as it is on disk (no recovery applied).
pub fn snapshot(root: &Path) -> Snapshot {
    let mut s = Snapshot::new();
    for y in dataset::years(root) {
        let dir = dataset::year_dir(root, y);
        let mut t = BTreeMap::new();
        for table in TABLES {
            let p = dir.join(format!("{table}.parquet"));
            if p.exists() {
                t.insert(table.to_string(), table_digest(&p));
            }
        }
        s.insert(y, t);
    }
    s
}

/// Names in `root`, `root/rejects`, `root/_manifest` starting with `.tmp-` or `.old-`.
pub fn leftovers(root: &Path) -> Vec<String> {
    let mut v = vec![];
    for d in [
        root.to_path_buf(),
        root.join("rejects"),
        root.join("_manifest"),
    ] {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with(".tmp-") || n.starts_with(".old-") {
                v.push(n);
            }
        }
    }
    v.sort();
    v
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            fs::copy(&p, &t).unwrap();
        }
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pedimento-audit"))
}

/// Runs `pedimento-audit ingest <input> --dataset <root>` to completion.
pub fn ingest_cmd(input: &Path, root: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("ingest").arg(input).arg("--dataset").arg(root);
    c.env_remove("PEDAUDIT_CRASH_AT");
    c
}

pub fn ingest_ok(input: &Path, root: &Path) -> Output {
    let out = ingest_cmd(input, root).output().unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes a generated history as Data Stage files under `dir`.
pub fn gen_datastage(dir: &Path, seed: u64, start_year: i32, years: i32, partidas: usize) {
    let cfg = pedaudit::generate::Config {
        seed,
        companies: 3,
        start_year,
        years,
        partidas,
        inject: vec![],
    };
    let h = pedaudit::generate::generate(&cfg);
    pedaudit::generate::writers::write_datastage(&h, dir).unwrap();
}

/// Tiny deterministic PRNG (splitmix64) for delays and mutations.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}
