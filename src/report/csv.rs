//! `findings.csv`: one row per finding of the report, the findings columns in order
//! plus `filed_date`. Decimals are written exactly as stored (no separators, `.` decimal
//! point), dates ISO, nulls as empty cells.

use super::ReportError;
use super::model::ReportData;
use std::path::Path;

pub const HEADER: [&str; 18] = [
    "check_code",
    "severity",
    "rfc",
    "pedimento_id",
    "partida",
    "related_pedimento_id",
    "fraccion",
    "period_start",
    "as_of",
    "quantity",
    "amount",
    "igi",
    "iva",
    "ieps",
    "message",
    "citation",
    "evidence",
    "filed_date",
];

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| ReportError::csv(path, e))?;
    w.write_record(HEADER)
        .map_err(|e| ReportError::csv(path, e))?;
    let s = |v: Option<String>| v.unwrap_or_default();
    for rf in &d.findings {
        let f = &rf.f;
        w.write_record([
            f.check_code.clone(),
            f.severity.clone(),
            f.rfc.clone(),
            s(f.pedimento_id.clone()),
            s(f.partida.map(|x| x.to_string())),
            s(f.related_pedimento_id.clone()),
            s(f.fraccion.clone()),
            s(f.period_start.map(|x| x.to_string())),
            f.as_of.to_string(),
            s(f.quantity.map(|x| x.to_string())),
            s(f.amount.map(|x| x.to_string())),
            s(f.igi.map(|x| x.to_string())),
            s(f.iva.map(|x| x.to_string())),
            s(f.ieps.map(|x| x.to_string())),
            f.message.clone(),
            f.citation.clone(),
            f.evidence.clone(),
            rf.date.to_string(),
        ])
        .map_err(|e| ReportError::csv(path, e))?;
    }
    w.flush().map_err(ReportError::io(path))
}
