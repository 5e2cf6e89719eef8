//! Reading what earlier stages wrote: the audit output folder, the dataset's pedimento
//! headers and the ingest manifests. Nothing here evaluates a check.
//!
//! Every column is read through one path (cast to text by polars, then parsed), so money
//! and quantities go Parquet Decimal → text → `rust_decimal::Decimal` without touching f64.

#![allow(clippy::needless_range_loop)] // column-major reads: row i of several columns

use super::ReportError;
use crate::dataset;
use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;

/// One finding as read from `findings.parquet`: the one findings row type.
pub use crate::findings::Finding;

/// One row of `ledger_balances.parquet` (only the columns a report uses; the optional ones
/// are `None` when an older audit folder lacks them).
#[derive(Debug, Clone)]
pub struct Balance {
    pub rfc: String,
    pub pedimento_id: String,
    pub partida: i32,
    pub fecha_operacion: NaiveDate,
    pub imported: Decimal,
    pub open_qty: Decimal,
    pub valor_aduana: Decimal,
    pub fraccion: Option<String>,
    pub umt: Option<String>,
    pub clave: Option<String>,
    /// Quantity discharged up to the as-of date.
    pub discharged: Option<Decimal>,
    /// `insumo`, `activo_fijo`, ... (from the plazos catalogue).
    pub tipo_bien: Option<String>,
    /// End of the plazo (the earlier of the plazo and the program-cancellation limit).
    pub vence: Option<NaiveDate>,
    /// `vigente`, `por vencer`, `vencido`, `plazo desconocido` or `saldado`.
    pub estado: Option<String>,
}

/// One row of `ledger_allocations.parquet` that discharged an import.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub import_id: String,
    pub import_partida: i32,
    pub discharge_fecha: NaiveDate,
    pub cantidad: Decimal,
    /// The discharge partida (`None` when an older audit folder lacks the column).
    pub discharge_id: Option<String>,
    pub discharge_partida: Option<i32>,
    pub discharge_clave: Option<String>,
    /// `EXPLICIT` (the descargo names the import) or `FIFO`.
    pub method: Option<String>,
    /// Bill of materials: the product whose discharge consumed this insumo, and the
    /// line's merma and desperdicio percentages (`None` off BOM rows).
    pub producto_fraccion: Option<String>,
    pub bom_merma_pct: Option<Decimal>,
    pub bom_desperdicio_pct: Option<Decimal>,
}

/// A pedimento header from the dataset (rectified originals removed).
#[derive(Debug, Clone)]
pub struct Pedimento {
    pub pedimento_id: String,
    pub rfc: String,
    pub nombre: Option<String>,
    pub clave: String,
    pub fecha_pago: NaiveDate,
    pub fecha_operacion: NaiveDate,
    pub valor_aduana: Decimal,
}

/// One point of `cert_ratio_series.parquet` (written by the certification checks).
#[derive(Debug, Clone)]
pub struct RatioPoint {
    pub rfc: String,
    /// `YYYY-MM` of the month the 12-month window ends in.
    pub month: String,
    /// Percent (60 = 60 %).
    pub ratio_pct: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    /// The company's own threshold, percent (60 or 80), when the series has it.
    pub threshold_pct: Option<Decimal>,
    /// `pass`, `fail`, `exempt`, ... when the series has it.
    pub status: Option<String>,
    /// Value missing to reach the threshold (MXN with the default value basis).
    pub shortfall: Option<Decimal>,
    /// False when the 12-month window starts before the first month with data (a partial
    /// window); None when the series has no `full_window` column.
    pub full_window: Option<bool>,
}

/// One row of `cert_assessment.parquet`: one requirement of one modality for one
/// company (the frame built by `checks::cert::Assessment::assessment_frame`).
#[derive(Debug, Clone)]
pub struct Assessment {
    pub rfc: String,
    /// The company's overall verdict (`AAA`, `AA`, `A` or `none`), repeated on every row.
    pub verdict: String,
    /// `A`, `AA` or `AAA`.
    pub modality: String,
    /// Requirement code (`B-I-d`, `S-b`, `AA-c`, ...).
    pub code: String,
    pub requirement: String,
    /// `pass`, `fail`, `unknown` or `n/a`.
    pub status: String,
    pub measured: String,
    pub threshold: String,
    pub window: String,
    /// `pedimentos`, `profile`, `pedimentos+profile`, `manual` or `-`.
    pub basis: String,
    /// The missing file or field when the status is unknown for lack of data.
    pub missing: Option<String>,
    pub amount: Option<Decimal>,
    pub citation: String,
    pub as_of: Option<NaiveDate>,
}

/// Totals over every ingest manifest of the dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestTotals {
    pub runs: usize,
    pub files: usize,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// Everything read from disk, for every company. Built once per `report` run.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub findings: Vec<Finding>,
    pub balances: Vec<Balance>,
    pub allocations: Vec<Allocation>,
    pub pedimentos: Vec<Pedimento>,
    pub ratio: Option<Vec<RatioPoint>>,
    pub assessment: Option<Vec<Assessment>>,
    pub ingest: IngestTotals,
    pub dataset_years: Vec<i32>,
    /// Rows ingest rejected (dataset-wide), shared by every report.
    pub rejects: std::sync::Arc<Vec<super::rejects::Reject>>,
}

fn read_df(path: &Path) -> Result<DataFrame, ReportError> {
    let f = std::fs::File::open(path).map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| ReportError::polars(path, e))
}

/// Column `name` as text; `None` when the column is absent.
fn text(
    df: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<Option<String>>>, ReportError> {
    let Ok(c) = df.column(name) else {
        return Ok(None);
    };
    let c = c
        .cast(&DataType::String)
        .map_err(|e| ReportError::polars(path, e))?;
    let ca = c.str().map_err(|e| ReportError::polars(path, e))?;
    Ok(Some(ca.iter().map(|v| v.map(str::to_string)).collect()))
}

fn req(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<String>>, ReportError> {
    text(df, name, path)?.ok_or_else(|| ReportError::Column {
        path: path.to_path_buf(),
        column: name.into(),
        found: df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The first of `names` that exists.
fn any_of(
    df: &DataFrame,
    names: &[&str],
    path: &Path,
) -> Result<Option<Vec<Option<String>>>, ReportError> {
    for n in names {
        if let Some(v) = text(df, n, path)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

fn bad(path: &Path, column: &str, row: usize, value: &str) -> ReportError {
    ReportError::Value {
        path: path.to_path_buf(),
        column: column.into(),
        row,
        value: value.into(),
    }
}

fn dec(
    v: &Option<String>,
    path: &Path,
    column: &str,
    row: usize,
) -> Result<Option<Decimal>, ReportError> {
    match v {
        None => Ok(None),
        Some(s) => Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .map(Some)
            .map_err(|_| bad(path, column, row, s)),
    }
}

fn date(
    v: &Option<String>,
    path: &Path,
    column: &str,
    row: usize,
) -> Result<Option<NaiveDate>, ReportError> {
    match v {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(&s[..s.len().min(10)], "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad(path, column, row, s)),
    }
}

fn int(
    v: &Option<String>,
    path: &Path,
    column: &str,
    row: usize,
) -> Result<Option<i32>, ReportError> {
    match v {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| bad(path, column, row, s)),
    }
}

fn need<T>(v: Option<T>, path: &Path, column: &str, row: usize) -> Result<T, ReportError> {
    v.ok_or_else(|| bad(path, column, row, "null"))
}

pub fn read_findings(path: &Path) -> Result<Vec<Finding>, ReportError> {
    let df = read_df(path)?;
    Finding::from_frame(&df).map_err(|e| column_error(path, &df, e))
}

/// A [`crate::findings::ColumnError`] of the file at `path`.
fn column_error(path: &Path, df: &DataFrame, e: crate::findings::ColumnError) -> ReportError {
    use crate::findings::ColumnError as E;
    match e {
        E::Missing { column, .. } => ReportError::Column {
            path: path.to_path_buf(),
            column,
            found: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        },
        E::Value { column, row, value } => bad(path, &column, row, &value),
        E::Polars(e) => ReportError::polars(path, e),
    }
}

pub fn read_balances(path: &Path) -> Result<Vec<Balance>, ReportError> {
    let df = read_df(path)?;
    let names = [
        "rfc",
        "pedimento_id",
        "partida",
        "fecha_operacion",
        "imported",
        "open_qty",
        "valor_aduana",
    ];
    let c: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|n| req(&df, n, path))
        .collect::<Result<_, _>>()?;
    let opt = |n: &str| text(&df, n, path);
    let (fraccion, umt, clave, discharged, tipo, vence, estado) = (
        opt("fraccion")?,
        opt("umt")?,
        opt("clave")?,
        opt("discharged")?,
        opt("tipo_bien")?,
        opt("vence")?,
        opt("estado")?,
    );
    let get = |c: &Option<Vec<Option<String>>>, i: usize| c.as_ref().and_then(|v| v[i].clone());
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        out.push(Balance {
            rfc: need(c[0][i].clone(), path, names[0], i)?,
            pedimento_id: need(c[1][i].clone(), path, names[1], i)?,
            partida: need(int(&c[2][i], path, names[2], i)?, path, names[2], i)?,
            fecha_operacion: need(date(&c[3][i], path, names[3], i)?, path, names[3], i)?,
            imported: need(dec(&c[4][i], path, names[4], i)?, path, names[4], i)?,
            open_qty: need(dec(&c[5][i], path, names[5], i)?, path, names[5], i)?,
            valor_aduana: need(dec(&c[6][i], path, names[6], i)?, path, names[6], i)?,
            fraccion: get(&fraccion, i),
            umt: get(&umt, i),
            clave: get(&clave, i),
            discharged: dec(&get(&discharged, i), path, "discharged", i)?,
            tipo_bien: get(&tipo, i),
            vence: date(&get(&vence, i), path, "vence", i)?,
            estado: get(&estado, i),
        });
    }
    Ok(out)
}

pub fn read_allocations(path: &Path) -> Result<Vec<Allocation>, ReportError> {
    let df = read_df(path)?;
    let names = ["import_id", "import_partida", "discharge_fecha", "cantidad"];
    let c: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|n| req(&df, n, path))
        .collect::<Result<_, _>>()?;
    let opt = |n: &str| text(&df, n, path);
    let (did, dpart, dclave, method, prod, merma, desp) = (
        opt("discharge_id")?,
        opt("discharge_partida")?,
        opt("discharge_clave")?,
        opt("method")?,
        opt("producto_fraccion")?,
        opt("bom_merma_pct")?,
        opt("bom_desperdicio_pct")?,
    );
    let get = |c: &Option<Vec<Option<String>>>, i: usize| c.as_ref().and_then(|v| v[i].clone());
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        // EXCESS rows discharge nothing (no import): not part of any balance.
        let Some(import_id) = c[0][i].clone() else {
            continue;
        };
        out.push(Allocation {
            import_id,
            import_partida: need(int(&c[1][i], path, names[1], i)?, path, names[1], i)?,
            discharge_fecha: need(date(&c[2][i], path, names[2], i)?, path, names[2], i)?,
            cantidad: need(dec(&c[3][i], path, names[3], i)?, path, names[3], i)?,
            discharge_id: get(&did, i),
            discharge_partida: int(&get(&dpart, i), path, "discharge_partida", i)?,
            discharge_clave: get(&dclave, i),
            method: get(&method, i),
            producto_fraccion: get(&prod, i),
            bom_merma_pct: dec(&get(&merma, i), path, "bom_merma_pct", i)?,
            bom_desperdicio_pct: dec(&get(&desp, i), path, "bom_desperdicio_pct", i)?,
        });
    }
    Ok(out)
}

/// Pedimento headers of every year, without the originals a rectificación replaced
/// (the same rule as `queries/views/current_pedimentos.sql`).
pub fn read_pedimentos(root: &Path) -> Result<Vec<Pedimento>, ReportError> {
    let cols = [
        "pedimento_id",
        "rfc",
        "nombre",
        "clave",
        "fecha_pago",
        "fecha_operacion",
        "valor_aduana",
        "rectifica_id",
    ];
    let mut out = vec![];
    let mut rectified = std::collections::HashSet::new();
    for y in dataset::years(root) {
        for path in dataset::table_files(&dataset::year_dir(root, y), "pedimentos") {
            let f = std::fs::File::open(&path).map_err(|e| ReportError::Io {
                path: path.clone(),
                source: e,
            })?;
            let df = ParquetReader::new(f)
                .with_columns(Some(cols.iter().map(|s| s.to_string()).collect()))
                .finish()
                .map_err(|e| ReportError::polars(&path, e))?;
            let c: Vec<Vec<Option<String>>> = cols
                .iter()
                .map(|n| req(&df, n, &path))
                .collect::<Result<_, _>>()?;
            for i in 0..df.height() {
                if let Some(r) = &c[7][i] {
                    rectified.insert(r.clone());
                }
                out.push(Pedimento {
                    pedimento_id: need(c[0][i].clone(), &path, cols[0], i)?,
                    rfc: need(c[1][i].clone(), &path, cols[1], i)?,
                    nombre: c[2][i].clone(),
                    clave: c[3][i].clone().unwrap_or_default(),
                    fecha_pago: need(date(&c[4][i], &path, cols[4], i)?, &path, cols[4], i)?,
                    fecha_operacion: need(date(&c[5][i], &path, cols[5], i)?, &path, cols[5], i)?,
                    valor_aduana: need(dec(&c[6][i], &path, cols[6], i)?, &path, cols[6], i)?,
                });
            }
        }
    }
    out.retain(|p| !rectified.contains(&p.pedimento_id));
    out.sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
    out.dedup_by(|a, b| a.pedimento_id == b.pedimento_id);
    Ok(out)
}

/// `cert_ratio_series.parquet`, if the certification checks wrote it. Column names are
/// matched leniently (`month`/`period_end`/`window_end`; `ratio_pct`/`ratio`); a ratio
/// column whose values are all ≤ 1.5 is read as a fraction and shown as percent.
pub fn read_ratio(path: &Path) -> Result<Option<Vec<RatioPoint>>, ReportError> {
    if !path.exists() {
        return Ok(None);
    }
    let df = read_df(path)?;
    let rfc = req(&df, "rfc", path)?;
    let month = any_of(
        &df,
        &["month", "period_end", "window_end", "mes", "period"],
        path,
    )?
    .ok_or_else(|| bad(path, "month", 0, "no month/period_end/window_end column"))?;
    let ratio_pct = any_of(&df, &["ratio_pct", "return_ratio_pct", "pct"], path)?;
    let ratio_frac = any_of(&df, &["ratio", "return_ratio"], path)?;
    let num = any_of(&df, &["numerator", "returned_value", "retornos"], path)?;
    let den = any_of(
        &df,
        &["denominator", "imported_value", "importaciones"],
        path,
    )?;
    let threshold = text(&df, "threshold", path)?;
    let status = text(&df, "status", path)?;
    let shortfall = text(&df, "shortfall", path)?;
    let full_window = text(&df, "full_window", path)?;
    let mut out = vec![];
    let (ratio_col, name) = match (&ratio_pct, &ratio_frac) {
        (Some(p), _) => (Some(p), "ratio_pct"),
        (None, Some(f)) => (Some(f), "ratio"),
        _ => (None, ""),
    };
    let mut vals = vec![];
    for i in 0..df.height() {
        let r = match ratio_col {
            Some(c) => dec(&c[i], path, name, i)?,
            None => None,
        };
        vals.push(r);
    }
    let as_fraction =
        ratio_pct.is_none() && vals.iter().flatten().all(|v| *v <= Decimal::new(15, 1));
    for i in 0..df.height() {
        let m = need(month[i].clone(), path, "month", i)?;
        out.push(RatioPoint {
            rfc: need(rfc[i].clone(), path, "rfc", i)?,
            month: m[..m.len().min(7)].to_string(),
            ratio_pct: vals[i].map(|v| {
                if as_fraction {
                    v * Decimal::from(100)
                } else {
                    v
                }
            }),
            numerator: match &num {
                Some(c) => dec(&c[i], path, "numerator", i)?,
                None => None,
            },
            denominator: match &den {
                Some(c) => dec(&c[i], path, "denominator", i)?,
                None => None,
            },
            threshold_pct: match &threshold {
                // A fraction (0.60) when the ratio is one, else already percent.
                Some(c) => dec(&c[i], path, "threshold", i)?.map(|t| {
                    if t <= Decimal::ONE {
                        t * Decimal::from(100)
                    } else {
                        t
                    }
                }),
                None => None,
            },
            status: status.as_ref().and_then(|c| c[i].clone()),
            shortfall: match &shortfall {
                Some(c) => dec(&c[i], path, "shortfall", i)?,
                None => None,
            },
            full_window: full_window
                .as_ref()
                .and_then(|c| c[i].as_deref())
                .map(|v| v == "true" || v == "1"),
        });
    }
    out.sort_by(|a, b| (&a.rfc, &a.month).cmp(&(&b.rfc, &b.month)));
    Ok(Some(out))
}

/// `cert_assessment.parquet`, if the certification checks wrote it: one row per
/// requirement (`rfc`, `modality`, `code`, `requirement` and `status` are required;
/// the other columns are read when present).
pub fn read_assessment(path: &Path) -> Result<Option<Vec<Assessment>>, ReportError> {
    if !path.exists() {
        return Ok(None);
    }
    let df = read_df(path)?;
    let rfc = req(&df, "rfc", path)?;
    let modality = req(&df, "modality", path)?;
    let code = req(&df, "code", path)?;
    let requirement = req(&df, "requirement", path)?;
    let status = req(&df, "status", path)?;
    let o = |n: &str| text(&df, n, path);
    let (verdict, measured, threshold, window, basis, missing, amount, citation, as_of) = (
        o("verdict")?,
        o("measured")?,
        o("threshold")?,
        o("window")?,
        o("basis")?,
        o("missing")?,
        o("amount")?,
        o("citation")?,
        o("as_of")?,
    );
    let get = |c: &Option<Vec<Option<String>>>, i: usize| c.as_ref().and_then(|v| v[i].clone());
    let mut out = vec![];
    for i in 0..df.height() {
        out.push(Assessment {
            rfc: need(rfc[i].clone(), path, "rfc", i)?,
            verdict: get(&verdict, i).unwrap_or_default(),
            modality: modality[i].clone().unwrap_or_default(),
            code: code[i].clone().unwrap_or_default(),
            requirement: requirement[i].clone().unwrap_or_default(),
            status: status[i].clone().unwrap_or_default(),
            measured: get(&measured, i).unwrap_or_default(),
            threshold: get(&threshold, i).unwrap_or_default(),
            window: get(&window, i).unwrap_or_default(),
            basis: get(&basis, i).unwrap_or_default(),
            missing: get(&missing, i).filter(|m| !m.is_empty()),
            amount: dec(&get(&amount, i), path, "amount", i)?,
            citation: get(&citation, i).unwrap_or_default(),
            as_of: date(&get(&as_of, i), path, "as_of", i)?,
        });
    }
    Ok(Some(out))
}

/// Sums rows read / accepted / rejected over `<dataset>/_manifest/*.json`.
pub fn read_manifests(root: &Path) -> Result<IngestTotals, ReportError> {
    let dir = root.join("_manifest");
    let mut t = IngestTotals::default();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(t);
    };
    let mut paths: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for p in paths {
        let s = std::fs::read_to_string(&p).map_err(|e| ReportError::Io {
            path: p.clone(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| ReportError::Manifest {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        t.runs += 1;
        t.rows_read += n("rows_read");
        t.accepted += n("accepted");
        t.rejected += n("rejected");
        t.files += v
            .get("files")
            .and_then(|f| f.as_array())
            .map(|a| {
                a.iter()
                    .filter(|f| f.get("skipped").is_none_or(|s| s.is_null()))
                    .count()
            })
            .unwrap_or(0);
    }
    Ok(t)
}

/// Reads the audit folder, the dataset headers and the manifests.
pub fn load(dataset_root: &Path, audit: &Path) -> Result<Inputs, ReportError> {
    let fp = audit.join("findings.parquet");
    if !fp.exists() {
        return Err(ReportError::NoAudit(audit.to_path_buf()));
    }
    let dataset_years = dataset::years(dataset_root);
    if dataset_years.is_empty() {
        return Err(ReportError::NoDataset(dataset_root.to_path_buf()));
    }
    let bp = audit.join("ledger_balances.parquet");
    let ap = audit.join("ledger_allocations.parquet");
    Ok(Inputs {
        findings: read_findings(&fp)?,
        balances: if bp.exists() {
            read_balances(&bp)?
        } else {
            vec![]
        },
        allocations: if ap.exists() {
            read_allocations(&ap)?
        } else {
            vec![]
        },
        pedimentos: read_pedimentos(dataset_root)?,
        ratio: read_ratio(&audit.join("cert_ratio_series.parquet"))?,
        assessment: read_assessment(&audit.join("cert_assessment.parquet"))?,
        ingest: read_manifests(dataset_root)?,
        dataset_years,
        rejects: std::sync::Arc::new(super::rejects::read(dataset_root)?),
    })
}
