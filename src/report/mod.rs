//! Reports: one writer per format behind one entry point. (Stub until issue #7 lands.)

pub mod format;

use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Findings produced by `audit` (its --out folder).
    #[arg(long, default_value = "out/audit")]
    pub audit: PathBuf,
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Other(String),
}

pub fn run(_a: &ReportArgs) -> Result<(), ReportError> {
    Err(ReportError::Other(
        "reports are not implemented yet: use `audit` (findings.parquet and the terminal summary)"
            .into(),
    ))
}
