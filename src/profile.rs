//! Company profiles: what pedimentos do not contain. A profile folder holds CSV files,
//! each optional; see `docs/profile.md` for the columns.
//!
//! - `programas.csv`: rfc, programa, fecha_inicio, fecha_fin, fecha_cancelacion, prorroga
//!   (IMMEX program number and validity; activo fijo plazo = program validity, seed 004
//!   L5257; cancellation gives 60 days, 180 with the extension, seed 004 L2826-2834).
//!
//! Every file is validated: a bad value is an error naming file, line and field.

use crate::model;
use polars::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}:{line}: field '{field}': {reason}")]
    Field {
        file: PathBuf,
        line: usize,
        field: String,
        reason: String,
    },
    #[error("{file}: missing column(s) {missing:?}")]
    Columns { file: PathBuf, missing: Vec<String> },
    #[error("{file}: {reason}")]
    Read { file: PathBuf, reason: String },
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// Column types of the profile CSVs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Rfc,
    Text,
    Date,
    Int,
    /// Decimal(18,2), e.g. MXN amounts.
    Money,
    /// 0/1.
    Flag,
}

/// One profile table: file name, columns (name, kind, required).
pub struct TableSpec {
    pub file: &'static str,
    pub columns: &'static [(&'static str, Kind, bool)],
}

pub const PROGRAMAS: TableSpec = TableSpec {
    file: "programas.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("programa", Kind::Text, false),
        ("fecha_inicio", Kind::Date, false),
        ("fecha_fin", Kind::Date, false),
        ("fecha_cancelacion", Kind::Date, false),
        ("prorroga", Kind::Flag, false),
        ("sector", Kind::Text, false),
    ],
};

/// Loads one profile table as a typed frame; a missing file gives an empty frame.
pub fn load_table(dir: Option<&Path>, spec: &TableSpec) -> Result<DataFrame, ProfileError> {
    let mut cols: Vec<Vec<Option<String>>> = vec![vec![]; spec.columns.len()];
    if let Some(path) = dir.map(|d| d.join(spec.file)).filter(|p| p.exists()) {
        let bytes = std::fs::read(&path).map_err(|e| ProfileError::Read {
            file: path.clone(),
            reason: e.to_string(),
        })?;
        let (text, _) = crate::ingest::text::decode(&bytes);
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| ProfileError::Read {
                file: path.clone(),
                reason: e.to_string(),
            })?
            .iter()
            .map(|h| h.trim().to_lowercase())
            .collect();
        let missing: Vec<String> = spec
            .columns
            .iter()
            .filter(|(n, _, req)| *req && !headers.iter().any(|h| h == n))
            .map(|(n, _, _)| n.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ProfileError::Columns {
                file: path,
                missing,
            });
        }
        for rec in r.records() {
            let rec = rec.map_err(|e| ProfileError::Read {
                file: path.clone(),
                reason: e.to_string(),
            })?;
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            for (i, (name, kind, req)) in spec.columns.iter().enumerate() {
                let v = headers
                    .iter()
                    .position(|h| h == name)
                    .and_then(|j| rec.get(j))
                    .unwrap_or("")
                    .trim();
                let fail = |reason: String| ProfileError::Field {
                    file: path.clone(),
                    line,
                    field: name.to_string(),
                    reason,
                };
                if v.is_empty() {
                    if *req {
                        return Err(fail("required value is empty".into()));
                    }
                    cols[i].push(None);
                    continue;
                }
                let norm = match kind {
                    Kind::Rfc => model::rfc(v).map_err(|e| fail(e.0))?,
                    Kind::Text => v.to_string(),
                    Kind::Date => model::date(v).map_err(|e| fail(e.0))?.to_string(),
                    Kind::Int => v
                        .parse::<i64>()
                        .map_err(|_| fail(format!("'{v}' is not an integer")))?
                        .to_string(),
                    Kind::Money => model::decimal(v, 2).map_err(|e| fail(e.0))?.to_string(),
                    Kind::Flag => match v {
                        "0" | "1" => v.to_string(),
                        "true" | "si" | "sí" | "yes" => "1".into(),
                        "false" | "no" => "0".into(),
                        _ => return Err(fail(format!("'{v}' is not 0 or 1"))),
                    },
                };
                cols[i].push(Some(norm));
            }
        }
    }
    let columns: Vec<Column> = spec
        .columns
        .iter()
        .zip(cols)
        .map(|((n, _, _), v)| Series::new((*n).into(), v).into())
        .collect();
    let df = DataFrame::new_infer_height(columns)?;
    let casts: Vec<Expr> = spec
        .columns
        .iter()
        .map(|(n, k, _)| {
            let c = col(*n);
            match k {
                Kind::Date => c.strict_cast(DataType::Date),
                Kind::Int | Kind::Flag => c.strict_cast(DataType::Int32),
                Kind::Money => c.strict_cast(DataType::Decimal(18, 2)),
                _ => c,
            }
        })
        .collect();
    Ok(df.lazy().with_columns(casts).collect()?)
}
