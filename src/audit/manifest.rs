//! `audit_manifest.json`: an audit's outputs as one unit.
//!
//! An audit writes into its `--out` folder in three steps: [`begin`] removes the manifest
//! and every output file an earlier run may have left (so no earlier certification or
//! virtual-pair table survives next to new findings), the outputs are written, and
//! [`finish`] writes the manifest last (atomically) naming every file written (with its
//! size) and the options used. An audit that dies midway leaves no manifest.
//!
//! `report` calls [`verify`]: every output file in the folder must be named by the
//! manifest and every file the manifest names must be there with its recorded size;
//! otherwise it refuses, naming the files.

use super::AuditError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name inside an audit output folder.
pub const FILE: &str = "audit_manifest.json";

/// Every file an audit may write (the manifest itself excluded).
pub const OUTPUTS: [&str; 6] = [
    "findings.parquet",
    "ledger_allocations.parquet",
    "ledger_balances.parquet",
    "cert_ratio_series.parquet",
    "cert_assessment.parquet",
    "virtual_pairs.parquet",
];

/// One file an audit wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: u64,
}

/// The options an audit ran with and the files it wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditManifest {
    pub tool: String,
    pub version: String,
    pub dataset: String,
    /// Evaluation date actually used (YYYY-MM-DD).
    pub as_of: String,
    /// `--as-of` as given (None = latest payment date in the dataset).
    pub as_of_option: Option<String>,
    /// The companies audited: `--company` (normalized), else every company of the dataset.
    pub companies: Option<Vec<String>>,
    /// Check codes run.
    pub checks: Vec<String>,
    pub expiring_days: i64,
    pub profiles: Option<String>,
    pub batch_companies: usize,
    /// Certification options (`CertOptions::describe`), when certification checks ran.
    pub cert_options: Option<String>,
    pub files: Vec<OutputFile>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    AuditError::io(path)
}

/// Prepares `out` for a new audit: creates it, then removes the manifest and every known
/// output file of an earlier run (manifest first: a run killed after this point leaves a
/// folder that `report` refuses).
pub fn begin(out: &Path) -> Result<(), AuditError> {
    if out.exists() && !out.is_dir() {
        return Err(AuditError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::other("--out must be a folder, not a file"),
        });
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    for name in std::iter::once(FILE).chain(OUTPUTS) {
        let p = out.join(name);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AuditError::Io { path: p, source: e }),
        }
    }
    Ok(())
}

/// Writes the manifest naming `written` (file names inside `out`), with their sizes.
pub fn finish(out: &Path, mut m: AuditManifest, written: &[&str]) -> Result<(), AuditError> {
    m.files = written
        .iter()
        .map(|name| {
            let p = out.join(name);
            let bytes = std::fs::metadata(&p).map_err(io(&p))?.len();
            Ok(OutputFile {
                name: name.to_string(),
                bytes,
            })
        })
        .collect::<Result<_, AuditError>>()?;
    let text = serde_json::to_string_pretty(&m).expect("manifest serializes");
    let p = out.join(FILE);
    let tmp = out.join(format!(".tmp-{FILE}"));
    std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
    std::fs::rename(&tmp, &p).map_err(io(&p))?;
    Ok(())
}

/// Reads `<audit>/audit_manifest.json`; `Ok(None)` when there is none.
pub fn read(audit: &Path) -> Result<Option<AuditManifest>, AuditError> {
    let p = audit.join(FILE);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AuditError::Io { path: p, source: e }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| AuditError::Manifest {
            path: p,
            reason: format!("unreadable ({e}); re-run the audit"),
        })
}

/// Checks that the audit folder is one audit's complete output. With `require`, a folder
/// without a manifest (an interrupted audit, or one written by an older version) is
/// refused; without it such a folder is accepted as is (library callers that write the
/// tables themselves).
pub fn verify(audit: &Path, require: bool) -> Result<Option<AuditManifest>, AuditError> {
    let p = audit.join(FILE);
    let Some(m) = read(audit)? else {
        if require && audit.join("findings.parquet").exists() {
            return Err(AuditError::Manifest {
                path: p,
                reason: "missing: the audit folder was written by an interrupted audit or an older version, \
                         so its files may come from different runs; re-run `pedimento-audit audit`"
                    .into(),
            });
        }
        return Ok(None);
    };
    let named: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    let extra: Vec<&str> = OUTPUTS
        .iter()
        .copied()
        .filter(|n| !named.contains(n) && audit.join(n).exists())
        .collect();
    let mut missing = vec![];
    for f in &m.files {
        let fp = audit.join(&f.name);
        match std::fs::metadata(&fp) {
            Ok(md) if md.len() == f.bytes => {}
            Ok(md) => missing.push(format!(
                "{} ({} bytes, the manifest says {})",
                f.name,
                md.len(),
                f.bytes
            )),
            Err(_) => missing.push(format!("{} (absent)", f.name)),
        }
    }
    if extra.is_empty() && missing.is_empty() {
        return Ok(Some(m));
    }
    let mut why = vec![];
    if !extra.is_empty() {
        why.push(format!(
            "not written by the audit the manifest describes: {}",
            extra.join(", ")
        ));
    }
    if !missing.is_empty() {
        why.push(format!(
            "named by the manifest but missing or changed: {}",
            missing.join(", ")
        ));
    }
    Err(AuditError::Manifest {
        path: p,
        reason: format!(
            "the audit folder mixes runs ({}); re-run `pedimento-audit audit --out {}`",
            why.join("; "),
            audit.display()
        ),
    })
}

/// The path of the manifest inside `audit`.
pub fn path(audit: &Path) -> PathBuf {
    audit.join(FILE)
}
