//! `findings.parquet`: the report's findings with exactly the schema of
//! `src/findings.rs` (Decimal(18,5) quantities, Decimal(18,2) money, Date dates), so any
//! tool that reads the audit's findings.parquet reads this one.

use super::ReportError;
use super::model::ReportData;
use polars::prelude::*;
use std::path::Path;

pub fn frame(d: &ReportData) -> PolarsResult<DataFrame> {
    crate::findings::Finding::to_frame(d.findings.iter().map(|rf| &rf.f))
}

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let mut df = frame(d).map_err(|e| ReportError::polars(path, e))?;
    let f = std::fs::File::create(path).map_err(ReportError::io(path))?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map_err(|e| ReportError::polars(path, e))?;
    Ok(())
}
