//! Company profiles: what pedimentos do not contain. A profile folder holds CSV files,
//! each optional; see `docs/profile.md` for the columns.
//!
//! - `programas.csv`: rfc, programa, fecha_inicio, fecha_fin, fecha_cancelacion, prorroga
//!   (IMMEX program number and validity; activo fijo plazo = program validity, seed 004
//!   L5257; cancellation gives 60 days, 180 with the extension, seed 004 L2826-2834).
//!
//! - `empresas.csv`, `imss.csv`, `proveedores.csv`, `creditos.csv`, `devoluciones.csv`:
//!   the company facts the IVA/IEPS certification (RCGMCE 2013 regla 5.2.13, seed 002
//!   L497-L556) needs; see [`CertProfile`]. Sector (general | sensible) lives in
//!   `programas.csv` only (one place; an `empresas.csv` with a `sector` column is an error).
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
    /// `general` or `sensible` (regla 5.2.13 third paragraph of Apartado B, seed 002 L528).
    Sector,
    /// IMSS bimestre `YYYY-NN`, NN = 01..06 (06 = November-December).
    Bimestre,
    /// Certification modality: `A`, `AA` or `AAA`.
    Modality,
    /// Decimal(18,6), at most 6 decimals, not negative: quantities per unit (BOM consumo)
    /// and percentages (merma, desperdicio).
    Ratio,
    /// Decimal(18,5), at most 5 decimals, greater than zero: a quantity in the tariff unit
    /// (the dataset's `cantidad_umt` scale).
    Quantity,
    /// A pedimento number, normalized to the dataset key `YYYY-ASS-PPPP-NNNNNNN`.
    Pedimento,
    /// What discharged a lot: a pedimento (normalized as [`Kind::Pedimento`]) or a
    /// destruction acta written `ACTA <acta>` (as the ledger names destruction records).
    Descargo,
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
        ("sector", Kind::Sector, false),
    ],
};

/// Company facts for the IVA/IEPS certification (one row per company).
pub const EMPRESAS: TableSpec = TableSpec {
    file: "empresas.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("nombre", Kind::Text, false),
        ("fecha_inicio_operaciones", Kind::Date, false),
        ("capital_maquinaria_mxn", Kind::Money, false),
        ("maquinaria_mxn", Kind::Money, false),
        ("opinion_positiva", Kind::Flag, false),
        ("fecha_opinion", Kind::Date, false),
        ("en_listas", Kind::Flag, false),
        ("csd_vigente", Kind::Flag, false),
    ],
};

/// IMSS headcount with paid cuotas per bimestre.
pub const IMSS: TableSpec = TableSpec {
    file: "imss.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("bimestre", Kind::Bimestre, true),
        ("trabajadores", Kind::Int, true),
    ],
};

/// Domestic purchases of insumos per supplier and fiscal year (AA-a / AAA-a).
pub const PROVEEDORES: TableSpec = TableSpec {
    file: "proveedores.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("proveedor_rfc", Kind::Rfc, true),
        ("compras_mxn", Kind::Money, true),
        ("iva_mxn", Kind::Money, false),
        ("opinion_positiva", Kind::Flag, false),
        ("fecha_opinion", Kind::Date, false),
        ("en_listas", Kind::Flag, false),
        ("year", Kind::Int, true),
    ],
};

/// Créditos fiscales determined by SAT (AA-c / AAA-c).
pub const CREDITOS: TableSpec = TableSpec {
    file: "creditos.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("fecha", Kind::Date, true),
        ("monto_mxn", Kind::Money, false),
        ("pagado", Kind::Flag, false),
        ("convenio", Kind::Flag, false),
    ],
};

/// IVA refund requests and their outcome (AA-d / AAA-d).
pub const DEVOLUCIONES: TableSpec = TableSpec {
    file: "devoluciones.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        // Date of the refund request: the 12-month window counts requests ("devoluciones
        // del IVA solicitadas en los últimos 12 meses", RCGMCE 2013 regla 5.2.13, apartado
        // C, fr. I, inciso d)).
        ("fecha_solicitud", Kind::Date, false),
        // Date of the ruling (informative).
        ("fecha", Kind::Date, false),
        ("solicitado_mxn", Kind::Money, false),
        ("autorizado_mxn", Kind::Money, true),
        ("negado_mxn", Kind::Money, true),
    ],
};

/// The company's IVA/IEPS certification (CERT-RENEWAL): modality and the start of the
/// current term (authorization, or the last renewal), and the renewal notice if filed.
pub const CERTIFICACION: TableSpec = TableSpec {
    file: "certificacion.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("modalidad", Kind::Modality, true),
        ("fecha_autorizacion", Kind::Date, true),
        ("fecha_renovacion", Kind::Date, false),
        ("fecha_aviso_renovacion", Kind::Date, false),
    ],
};

/// Bill of materials (relación insumo-producto): per company and product fracción, the
/// quantity of each insumo (in the insumo's UMT) one unit of product consumes, with its
/// merma and desperdicio percentages, valid from/to. A discharge of the product discharges
/// the insumos (see `queries/views/ledger_movements.sql`). Extra rule: two rows for the same
/// (rfc, producto_fraccion, insumo_fraccion) must not overlap in time.
pub const BOM: TableSpec = TableSpec {
    file: "bom.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("producto_fraccion", Kind::Text, true),
        ("producto_parte", Kind::Text, false),
        ("insumo_fraccion", Kind::Text, true),
        ("umt", Kind::Text, true),
        ("consumo", Kind::Ratio, true),
        ("merma_pct", Kind::Ratio, true),
        ("desperdicio_pct", Kind::Ratio, false),
        ("valid_from", Kind::Date, true),
        ("valid_to", Kind::Date, false),
    ],
};

/// Destruction records of desperdicios (actas de destrucción): what the company destroyed,
/// per acta and fracción, in the insumo's tariff unit. Each row discharges that quantity
/// from the fracción's open insumo lots by PEPS (or from the import pedimento it names);
/// see `queries/views/ledger_movements.sql`. Extra rule: one row per (acta, fraccion).
pub const DESPERDICIOS: TableSpec = TableSpec {
    file: "desperdicios.csv",
    columns: &[
        ("rfc", Kind::Rfc, true),
        ("fecha", Kind::Date, true),
        ("acta", Kind::Text, true),
        ("fraccion", Kind::Text, true),
        ("umt", Kind::Text, true),
        ("cantidad", Kind::Quantity, true),
        ("pedimento", Kind::Pedimento, false),
    ],
};

/// The company's own descargo report from its Anexo 24 inventory control system: which
/// return (or other discharge) discharged how much of which import pedimento. Reconciled
/// against the computed ledger by SALDO-DIFF (`queries/SALDO-DIFF.sql`).
pub const ANEXO24: TableSpec = TableSpec {
    file: "descargos_anexo24.csv",
    columns: &[
        ("pedimento_descargo", Kind::Descargo, true),
        ("pedimento_importacion", Kind::Pedimento, true),
        ("partida", Kind::Int, false),
        ("fraccion", Kind::Text, true),
        ("cantidad", Kind::Quantity, true),
    ],
};

/// Every profile table, in the order the docs list them.
pub const TABLES: [&TableSpec; 10] = [
    &PROGRAMAS,
    &EMPRESAS,
    &IMSS,
    &PROVEEDORES,
    &CREDITOS,
    &DEVOLUCIONES,
    &CERTIFICACION,
    &BOM,
    &DESPERDICIOS,
    &ANEXO24,
];

/// The file names a profile folder may hold (`programas.csv`, ...).
pub fn known_files() -> Vec<&'static str> {
    // inpc.csv: the report's regularization estimate reads it (report::regularization).
    let mut v: Vec<&'static str> = TABLES.iter().map(|t| t.file).collect();
    v.push("inpc.csv");
    v
}

/// Checks a `--profiles` path before any work: it must be an existing folder (a missing
/// path or a file is an error, never "no profiles"). Returns the names of the files in it
/// that are not profile tables (e.g. `programa.csv`, a typo that would otherwise be
/// ignored), for the caller to warn about. Hidden files are not listed.
pub fn check_dir(dir: &Path) -> Result<Vec<String>, ProfileError> {
    let fail = |reason: String| ProfileError::Read {
        file: dir.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(dir).map_err(|e| {
        fail(format!(
            "profile folder not found ({e}); pass the folder that holds {}",
            known_files().join(", ")
        ))
    })?;
    if !meta.is_dir() {
        return Err(fail(format!(
            "--profiles must be a folder (holding {}), not a file",
            known_files().join(", ")
        )));
    }
    let known = known_files();
    let mut unknown: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| fail(format!("cannot list the profile folder: {e}")))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.') && !known.contains(&n.as_str()))
        .collect();
    unknown.sort();
    Ok(unknown)
}

/// The certification profile: each table, and whether its file exists (a missing file
/// makes the requirements that need it `unknown`, naming the file).
pub struct CertProfile {
    pub dir: Option<PathBuf>,
    pub programas: DataFrame,
    pub empresas: DataFrame,
    pub imss: DataFrame,
    pub proveedores: DataFrame,
    pub creditos: DataFrame,
    pub devoluciones: DataFrame,
    pub certificacion: DataFrame,
    /// File names (e.g. `imss.csv`) present in the folder.
    pub present: Vec<&'static str>,
}

impl CertProfile {
    pub fn has(&self, file: &str) -> bool {
        self.present.contains(&file)
    }
}

/// Loads every certification table. Extra rule: `empresas.csv` has one row per RFC and
/// no `sector` column (sector is read from `programas.csv` only).
pub fn load_cert(dir: Option<&Path>) -> Result<CertProfile, ProfileError> {
    let mut present = vec![];
    for spec in TABLES {
        if dir.map(|d| d.join(spec.file).exists()).unwrap_or(false) {
            present.push(spec.file);
        }
    }
    if let Some(path) = dir.map(|d| d.join(EMPRESAS.file)).filter(|p| p.exists()) {
        let bytes = std::fs::read(&path).map_err(|e| ProfileError::Read {
            file: path.clone(),
            reason: e.to_string(),
        })?;
        let (text, _) = crate::model::text::decode(&bytes);
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
        if headers.iter().any(|h| h == "sector") {
            return Err(ProfileError::Field {
                file: path,
                line: 1,
                field: "sector".into(),
                reason: "sector is read from programas.csv only (one place); remove it here".into(),
            });
        }
        let i = headers.iter().position(|h| h == "rfc");
        let mut seen = std::collections::HashMap::new();
        for rec in r.records().flatten() {
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            let rfc = i
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .trim()
                .to_uppercase();
            if let Some(first) = seen.insert(rfc.clone(), line) {
                return Err(ProfileError::Field {
                    file: path,
                    line,
                    field: "rfc".into(),
                    reason: format!("RFC {rfc} already given at line {first}"),
                });
            }
        }
    }
    Ok(CertProfile {
        dir: dir.map(Path::to_path_buf),
        programas: load_table(dir, &PROGRAMAS)?,
        empresas: load_table(dir, &EMPRESAS)?,
        imss: load_table(dir, &IMSS)?,
        proveedores: load_table(dir, &PROVEEDORES)?,
        creditos: load_table(dir, &CREDITOS)?,
        devoluciones: load_table(dir, &DEVOLUCIONES)?,
        certificacion: load_table(dir, &CERTIFICACION)?,
        present,
    })
}

/// Loads one profile table as a typed frame; a missing file gives an empty frame.
// size-exception: one pass reading, validating and typing a profile CSV, per-column rules inline
pub fn load_table(dir: Option<&Path>, spec: &TableSpec) -> Result<DataFrame, ProfileError> {
    let mut cols: Vec<Vec<Option<String>>> = vec![vec![]; spec.columns.len()];
    if let Some(path) = dir.map(|d| d.join(spec.file)).filter(|p| p.exists()) {
        let bytes = std::fs::read(&path).map_err(|e| ProfileError::Read {
            file: path.clone(),
            reason: e.to_string(),
        })?;
        let (text, _) = crate::model::text::decode(&bytes);
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
        let mut periods = BomPeriods::default();
        let mut actas: std::collections::HashMap<(String, String), usize> = Default::default();
        for rec in r.records() {
            let rec = rec.map_err(|e| ProfileError::Read {
                file: path.clone(),
                reason: e.to_string(),
            })?;
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            if spec.file == BOM.file {
                check_bom_row(&headers, &rec, line, &path, &mut periods)?;
            }
            if spec.file == DESPERDICIOS.file {
                // One row per (acta, fraccion): the row is the ledger movement's key.
                let get = |n: &str| {
                    headers
                        .iter()
                        .position(|h| h == n)
                        .and_then(|j| rec.get(j))
                        .unwrap_or("")
                        .trim()
                        .to_string()
                };
                if let Some(first) = actas.insert((get("acta"), get("fraccion")), line) {
                    return Err(ProfileError::Field {
                        file: path.clone(),
                        line,
                        field: "fraccion".into(),
                        reason: format!(
                            "acta {} already has a row for fraccion {} (line {first}): add the \
                             quantities in one row",
                            get("acta"),
                            get("fraccion")
                        ),
                    });
                }
            }
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
                    Kind::Rfc => model::rfc(v).map_err(|e| fail(e.to_string()))?.into(),
                    Kind::Text => v.to_string(),
                    Kind::Date => model::date(v).map_err(|e| fail(e.to_string()))?.to_string(),
                    Kind::Int => v
                        .parse::<i64>()
                        .map_err(|_| fail(format!("'{v}' is not an integer")))?
                        .to_string(),
                    Kind::Money => model::decimal(v, 2)
                        .map_err(|e| fail(e.to_string()))?
                        .to_string(),
                    Kind::Ratio => {
                        let d = model::decimal(v, 6).map_err(|e| fail(e.to_string()))?;
                        if d.is_sign_negative() && !d.is_zero() {
                            return Err(fail(format!("'{v}' is negative")));
                        }
                        d.to_string()
                    }
                    Kind::Quantity => {
                        let d = model::decimal(v, 5).map_err(|e| fail(e.to_string()))?;
                        if d.is_sign_negative() || d.is_zero() {
                            return Err(fail(format!("'{v}' is not greater than zero")));
                        }
                        d.to_string()
                    }
                    Kind::Pedimento => model::PedimentoKey::parse(v)
                        .map_err(|e| fail(e.to_string()))?
                        .id(),
                    Kind::Descargo => match v.get(..5) {
                        Some(p) if p.eq_ignore_ascii_case("ACTA ") => {
                            format!("ACTA {}", v[5..].trim())
                        }
                        _ => model::PedimentoKey::parse(v)
                            .map_err(|e| fail(format!("{} (or ACTA <acta> for a destruction)", e)))?
                            .id(),
                    },
                    Kind::Flag => match v {
                        "0" | "1" => v.to_string(),
                        "true" | "si" | "sí" | "yes" => "1".into(),
                        "false" | "no" => "0".into(),
                        _ => return Err(fail(format!("'{v}' is not 0 or 1"))),
                    },
                    Kind::Sector => match v.to_lowercase().as_str() {
                        "general" => "general".into(),
                        "sensible" | "sensitive" => "sensible".into(),
                        _ => return Err(fail(format!("'{v}' is not general or sensible"))),
                    },
                    Kind::Modality => match v.to_uppercase().as_str() {
                        m @ ("A" | "AA" | "AAA") => m.to_string(),
                        _ => return Err(fail(format!("'{v}' is not A, AA or AAA"))),
                    },
                    Kind::Bimestre => {
                        let ok = v.len() == 7
                            && v.as_bytes()[4] == b'-'
                            && v[..4].parse::<i32>().is_ok()
                            && matches!(v[5..].parse::<u32>(), Ok(1..=6));
                        if !ok {
                            return Err(fail(format!(
                                "'{v}' is not a bimestre YYYY-NN with NN 01..06"
                            )));
                        }
                        v.to_string()
                    }
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
                Kind::Ratio => c.strict_cast(DataType::Decimal(18, 6)),
                Kind::Quantity => c.strict_cast(DataType::Decimal(18, 5)),
                _ => c,
            }
        })
        .collect();
    Ok(df.lazy().with_columns(casts).collect()?)
}

/// bom.csv lines seen so far: (rfc, producto_fraccion, insumo_fraccion) -> (valid_from,
/// valid_to, line).
type BomPeriods = std::collections::HashMap<Vec<String>, Vec<(String, Option<String>, usize)>>;

/// bom.csv rules beyond the column kinds: valid_to not before valid_from, and no two rows
/// of the same (rfc, producto_fraccion, insumo_fraccion) in force on the same day (the
/// BOM in force on a discharge's date must be one).
fn check_bom_row(
    headers: &[String],
    rec: &csv::StringRecord,
    line: usize,
    path: &Path,
    periods: &mut BomPeriods,
) -> Result<(), ProfileError> {
    let get = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|j| rec.get(j))
            .unwrap_or("")
            .trim()
    };
    let fail = |field: &str, reason: String| ProfileError::Field {
        file: path.to_path_buf(),
        line,
        field: field.to_string(),
        reason,
    };
    let date = |field: &str| -> Result<Option<String>, ProfileError> {
        let v = get(field);
        if v.is_empty() {
            return Ok(None);
        }
        model::date(v)
            .map(|d| Some(d.to_string()))
            .map_err(|e| fail(field, e.to_string()))
    };
    let (Some(from), to) = (date("valid_from")?, date("valid_to")?) else {
        return Ok(()); // the column check reports the empty valid_from
    };
    if let Some(t) = &to
        && *t < from
    {
        return Err(fail("valid_to", format!("{t} is before valid_from {from}")));
    }
    let key: Vec<String> = ["rfc", "producto_fraccion", "insumo_fraccion"]
        .iter()
        .map(|f| get(f).to_uppercase())
        .collect();
    let list = periods.entry(key).or_default();
    for (f2, t2, l2) in list.iter() {
        // [from, to] and [f2, t2] overlap (None = open-ended).
        let a = to.as_ref().is_none_or(|t| *t >= *f2);
        let b = t2.as_ref().is_none_or(|t| *t >= from);
        if a && b {
            return Err(fail(
                "valid_from",
                format!(
                    "this BOM line overlaps the one at line {l2} (same rfc, producto_fraccion \
                     and insumo_fraccion): only one may be in force on a date"
                ),
            ));
        }
    }
    list.push((from, to, line));
    Ok(())
}
