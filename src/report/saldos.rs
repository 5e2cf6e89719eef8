//! `saldos.csv`: every temporary-import partida of the company with something open at the
//! as-of date (from `ledger_balances.parquet`), ordered by plazo end. Decimals exactly as
//! stored, dates ISO, nulls as empty cells. Headers follow `--lang` ([`HEADER_ES`], default,
//! or [`HEADER`]); `estado` values are the ledger's (`vigente`, `por vencer`, `vencido`, ...)
//! in both languages.

use super::ReportError;
use super::model::{ReportData, open_value};
use crate::model::lang::Lang;
use std::path::Path;

pub const HEADER: [&str; 16] = [
    "rfc",
    "pedimento_id",
    "partida",
    "clave",
    "fraccion",
    "tipo_bien",
    "fecha_operacion",
    "imported",
    "discharged",
    "open_qty",
    "umt",
    "valor_aduana",
    "open_value",
    "vence",
    "days_to_vence",
    "estado",
];

/// [`HEADER`] in Spanish, same order.
pub const HEADER_ES: [&str; 16] = [
    "rfc",
    "pedimento",
    "partida",
    "clave",
    "fraccion",
    "tipo_bien",
    "fecha_operacion",
    "importado",
    "descargado",
    "saldo",
    "umt",
    "valor_aduana",
    "valor_saldo",
    "fin_plazo",
    "dias_al_fin_plazo",
    "estado",
];

/// The header row in `l`.
pub fn header(l: Lang) -> [&'static str; 16] {
    match l {
        Lang::Es => HEADER_ES,
        Lang::En => HEADER,
    }
}

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| ReportError::csv(path, e))?;
    w.write_record(header(d.meta.lang))
        .map_err(|e| ReportError::csv(path, e))?;
    let s = |v: Option<String>| v.unwrap_or_default();
    for b in &d.saldos {
        w.write_record([
            b.rfc.clone(),
            b.pedimento_id.clone(),
            b.partida.to_string(),
            s(b.clave.clone()),
            s(b.fraccion.clone()),
            s(b.tipo_bien.clone()),
            b.fecha_operacion.to_string(),
            b.imported.to_string(),
            s(b.discharged.map(|x| x.to_string())),
            b.open_qty.to_string(),
            s(b.umt.clone()),
            b.valor_aduana.to_string(),
            open_value(b, b.open_qty).to_string(),
            s(b.vence.map(|x| x.to_string())),
            s(b.vence.map(|v| (v - d.as_of).num_days().to_string())),
            s(b.estado.clone()),
        ])
        .map_err(|e| ReportError::csv(path, e))?;
    }
    w.flush().map_err(ReportError::io(path))
}
