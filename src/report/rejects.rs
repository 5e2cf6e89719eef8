//! `rejects.csv`: the rows ingest rejected (`<dataset>/rejects/<run>.parquet`, see
//! docs/reliability.md), with the file, line, record type, field and reason, so the filer
//! can correct them at the source. Rejects are dataset-wide (a rejected row may have no
//! readable RFC): every report of the dataset carries the same list. UTF-8 BOM; also the
//! `Rechazos` (`Rejects`) sheet of report.xlsx. Headers follow `--lang` ([`HEADER_ES`],
//! default, or [`HEADER`]); the reason is stored in English by ingest and shown in the
//! report language ([`Lang::reject_reason`]).

use super::ReportError;
use crate::model::lang::Lang;
use polars::prelude::*;
use std::path::Path;

/// One rejected input row.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The ingest run (the rejects file name without `.parquet`).
    pub run: String,
    pub file: String,
    pub line: i64,
    pub record_type: String,
    pub field: String,
    pub reason: String,
    /// The raw line as read (truncated by ingest if very long).
    pub raw: String,
}

pub const HEADER: [&str; 7] = [
    "run",
    "source_file",
    "line",
    "record_type",
    "field",
    "reason",
    "raw",
];

/// [`HEADER`] in Spanish, same order.
pub const HEADER_ES: [&str; 7] = [
    "ejecucion",
    "archivo",
    "linea",
    "tipo_registro",
    "campo",
    "motivo",
    "renglon_original",
];

/// The header row in `l`.
pub fn header(l: Lang) -> [&'static str; 7] {
    match l {
        Lang::Es => HEADER_ES,
        Lang::En => HEADER,
    }
}

/// Every reject of the dataset, by run, file and line.
pub fn read(root: &Path) -> Result<Vec<Reject>, ReportError> {
    let dir = root.join("rejects");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(vec![]);
    };
    let mut paths: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let mut out = vec![];
    for p in paths {
        let f = std::fs::File::open(&p).map_err(ReportError::io(&p))?;
        let df = ParquetReader::new(f)
            .finish()
            .map_err(|e| ReportError::polars(&p, e))?;
        let col = |n: &str| -> Result<Vec<Option<String>>, ReportError> {
            let c = df.column(n).map_err(|e| ReportError::polars(&p, e))?;
            let c = c
                .cast(&DataType::String)
                .map_err(|e| ReportError::polars(&p, e))?;
            Ok(c.str()
                .map_err(|e| ReportError::polars(&p, e))?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect())
        };
        let (file, line, rt, field, reason, raw) = (
            col("source_file")?,
            col("line")?,
            col("record_type")?,
            col("field")?,
            col("reason")?,
            col("raw")?,
        );
        let run = p
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        for i in 0..df.height() {
            let line_s = line[i].clone().unwrap_or_default();
            out.push(Reject {
                run: run.clone(),
                file: file[i].clone().unwrap_or_default(),
                line: line_s.parse().map_err(|_| ReportError::Value {
                    path: p.clone(),
                    column: "line".into(),
                    row: i,
                    value: line_s.clone(),
                })?,
                record_type: rt[i].clone().unwrap_or_default(),
                field: field[i].clone().unwrap_or_default(),
                reason: reason[i].clone().unwrap_or_default(),
                raw: raw[i].clone().unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

pub fn write(rejects: &[Reject], lang: Lang, path: &Path) -> Result<(), ReportError> {
    let mut w = super::csv::with_bom(path, header(lang))?;
    for r in rejects {
        w.write_record([
            r.run.as_str(),
            &r.file,
            &r.line.to_string(),
            &r.record_type,
            &r.field,
            &lang.reject_reason(&r.reason),
            &r.raw,
        ])
        .map_err(|e| ReportError::csv(path, e))?;
    }
    w.flush().map_err(ReportError::io(path))
}
