//! `findings.csv`: one row per finding of the report, the findings columns in order
//! plus `filed_date` and, for findings about a temporary-import partida, its key facts
//! from the ledger (plazo end, days overdue, imported and open quantity, unit and its
//! Apéndice 7 name). Decimals are written exactly as stored (no separators, `.` decimal
//! point), dates ISO, nulls as empty cells. The file starts with a UTF-8 BOM so
//! spreadsheet programs read the accents (fracción, descripción) correctly.
//!
//! Headers follow `--lang`: [`HEADER_ES`] (default) or [`HEADER`]; the text column holds
//! `mensaje` or `message` accordingly. Values stay machine-readable in both languages
//! (`check_code`, severity codes, ISO dates, plain decimals).

use super::ReportError;
use super::model::ReportData;
use crate::model::lang::Lang;
use std::path::Path;

pub const HEADER: [&str; 24] = [
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
    "plazo_end",
    "days_overdue",
    "imported_qty",
    "open_qty",
    "umt",
    "unit",
];

/// [`HEADER`] in Spanish, same order.
pub const HEADER_ES: [&str; 24] = [
    "clave_revision",
    "severidad",
    "rfc",
    "pedimento",
    "partida",
    "pedimento_relacionado",
    "fraccion",
    "inicio_periodo",
    "fecha_corte",
    "cantidad",
    "monto",
    "igi",
    "iva",
    "ieps",
    "descripcion",
    "fundamento_legal",
    "evidencia",
    "fecha_archivo",
    "fin_plazo",
    "dias_vencido",
    "cantidad_importada",
    "saldo",
    "umt",
    "unidad",
];

/// The header row in `l`.
pub fn header(l: Lang) -> [&'static str; 24] {
    match l {
        Lang::Es => HEADER_ES,
        Lang::En => HEADER,
    }
}

/// A CSV file that opens in Excel as UTF-8: a byte-order mark, then `header`. Shared by
/// findings.csv, kardex.csv and rejects.csv.
pub fn with_bom<I, T>(path: &Path, header: I) -> Result<csv::Writer<std::fs::File>, ReportError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(ReportError::io(path))?;
    file.write_all("\u{feff}".as_bytes())
        .map_err(ReportError::io(path))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(header)
        .map_err(|e| ReportError::csv(path, e))?;
    Ok(w)
}

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let l = d.meta.lang;
    let mut w = with_bom(path, header(l))?;
    let s = |v: Option<String>| v.unwrap_or_default();
    for rf in &d.findings {
        let f = &rf.f;
        let b = rf.balance.as_ref();
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
            f.text(l).to_string(),
            f.cite(l),
            f.evidence.clone(),
            rf.date.to_string(),
            s(b.and_then(|b| b.vence).map(|x| x.to_string())),
            s(b.and_then(|b| b.vence)
                .map(|v| (d.as_of - v).num_days().max(0).to_string())),
            s(b.map(|b| b.imported.to_string())),
            s(b.map(|b| b.open_qty.to_string())),
            s(b.and_then(|b| b.umt.clone())),
            s(b.and_then(|b| b.umt.as_deref())
                .and_then(super::format::unit_name)
                .map(str::to_string)),
        ])
        .map_err(|e| ReportError::csv(path, e))?;
    }
    w.flush().map_err(ReportError::io(path))
}
