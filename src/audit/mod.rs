//! The audit: one orchestration used by `pedimento-audit audit`, `report --run-audit` and
//! the tests.
//!
//! [`run`] plans company batches (from a memory budget or a batch size), runs the selected
//! checks over each batch and the cross-company pass ([`checks::run_with`]), and writes the
//! findings, the persisted shared tables ([`checks::shared::Persist`]) and
//! `audit_manifest.json` into the output folder as one unit ([`manifest`]): earlier runs'
//! files are removed first, the manifest naming every file written comes last.
//!
//! Layer: above `checks` and `findings`, below `report` and the CLI.

pub mod manifest;

use crate::checks::shared::Persisted;
use crate::checks::{self, AuditContext, AuditOptions, Batching, CheckDef, CheckError, Pass};
use chrono::NaiveDate;
use polars::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The output folder's manifest (unreadable, or the folder mixes runs).
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: PolarsError },
}

impl AuditError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
        move |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What to audit and where to write it.
pub struct AuditConfig {
    pub dataset: PathBuf,
    /// Output folder (findings, persisted tables, manifest).
    pub out: PathBuf,
    pub options: AuditOptions,
    pub checks: Vec<&'static CheckDef>,
    pub batching: Batching,
    /// The manifest's `tool` (the command that ran the audit).
    pub tool: String,
}

/// What [`run`] produced (the files are in the output folder).
pub struct AuditOutput {
    /// The evaluation date used.
    pub as_of: NaiveDate,
    pub findings: DataFrame,
    /// Company batches run (1 = everything at once).
    pub batches: usize,
    /// The files written (names inside the output folder), the manifest excluded.
    pub files: Vec<String>,
}

/// Runs the audit and writes its outputs (see the module doc).
pub fn run(cfg: &AuditConfig) -> Result<AuditOutput, AuditError> {
    // Before the run, so an unwritable folder fails early and a failed run leaves no
    // earlier run's tables.
    manifest::begin(&cfg.out)?;
    // Shared tables are written batch by batch: kept until the end, they made the batched
    // audit's memory grow with the number of batches.
    let mut tables: Vec<(String, TableOut)> = vec![];
    let mut write_err: Option<AuditError> = None;
    let selected = &cfg.checks;
    let mut each = |ctx: &AuditContext, pass: Pass| -> Result<(), CheckError> {
        let (passes, which): (&[bool], _) = match pass {
            Pass::Whole => (&[false, true], Persisted::All),
            Pass::CompaniesOpen => (&[false], Persisted::Views),
            Pass::Companies => (&[false], Persisted::Computed),
            Pass::CrossCompany => (&[true], Persisted::All),
        };
        for &cross in passes {
            for (name, df) in checks::shared::persisted(ctx, selected, cross, which)? {
                let i = match tables.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        let path = cfg.out.join(&name);
                        tables.push((name, TableOut::new(path)));
                        tables.len() - 1
                    }
                };
                let out = &mut tables[i].1;
                if let Err(e) = out.push(&df) {
                    let msg = e.to_string();
                    write_err = Some(e);
                    return Err(CheckError::Other(msg));
                }
            }
        }
        Ok(())
    };
    let run = checks::run_with(
        &cfg.dataset,
        &cfg.options,
        selected,
        cfg.batching,
        &mut each,
    );
    if let Some(e) = write_err {
        return Err(e);
    }
    let run = run?;
    let mut findings = run.findings;
    let mut files = vec!["findings.parquet".to_string()];
    write_df(&mut findings, &cfg.out.join("findings.parquet"))?;
    for (name, t) in tables {
        t.finish()?;
        files.push(name);
    }
    let m = manifest::AuditManifest {
        tool: cfg.tool.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        dataset: cfg.dataset.display().to_string(),
        as_of: run.as_of.to_string(),
        as_of_option: cfg.options.as_of.map(|d| d.to_string()),
        companies: Some(match &cfg.options.company {
            Some(c) => vec![c.clone()],
            // The plan's list when the run was batched (no second read of the dataset).
            None => match &run.companies {
                Some(c) => c.clone(),
                None => checks::company_batches(&cfg.dataset, usize::MAX)?.concat(),
            },
        }),
        checks: selected.iter().map(|c| c.code.to_string()).collect(),
        expiring_days: cfg.options.expiring_days,
        profiles: cfg
            .options
            .profiles
            .as_ref()
            .map(|p| p.display().to_string()),
        batch_companies: match cfg.batching {
            Batching::Companies(n) => n,
            _ => 0,
        },
        cert_options: files
            .iter()
            .any(|f| f.starts_with("cert_"))
            .then(|| cfg.options.cert.describe()),
        files: vec![],
    };
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    manifest::finish(&cfg.out, m, &names)?;
    Ok(AuditOutput {
        as_of: run.as_of,
        findings,
        batches: run.batches,
        files,
    })
}

/// Writes `df` as Parquet at `path`.
pub fn write_df(df: &mut DataFrame, path: &Path) -> Result<(), AuditError> {
    let f = std::fs::File::create(path).map_err(AuditError::io(path))?;
    ParquetWriter::new(f)
        .with_compression(crate::checks::fast_zstd())
        .finish(df)
        .map_err(|source| AuditError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(())
}

/// Reads one Parquet table the audit wrote.
pub fn read_table(path: &Path) -> Result<DataFrame, AuditError> {
    let f = std::fs::File::open(path).map_err(AuditError::io(path))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|source| AuditError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// One output table written batch by batch.
struct TableOut {
    path: PathBuf,
    w: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>,
}

impl TableOut {
    fn new(path: PathBuf) -> TableOut {
        TableOut { path, w: None }
    }

    fn push(&mut self, df: &DataFrame) -> Result<(), AuditError> {
        let err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let w = match &mut self.w {
            Some(w) => w,
            None => {
                let f = std::fs::File::create(&self.path).map_err(AuditError::io(&self.path))?;
                let w = ParquetWriter::new(f)
                    .with_compression(crate::checks::fast_zstd())
                    .batched(df.schema())
                    .map_err(err)?;
                self.w.insert(w)
            }
        };
        w.write_batch(df).map_err(|source| AuditError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Closes the file.
    fn finish(self) -> Result<(), AuditError> {
        if let Some(w) = self.w {
            w.finish().map_err(|source| AuditError::Write {
                path: self.path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}
