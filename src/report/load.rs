//! Reading what earlier stages wrote: the audit output folder, the dataset's pedimento
//! headers and the ingest manifests. Nothing here evaluates a check.
//!
//! Every column is read by its type through the readers of [`crate::findings`]: money and
//! quantities go from Parquet Decimal's scaled integers straight to `rust_decimal::Decimal`
//! (never through text or f64), dates from their day numbers.

#![allow(clippy::needless_range_loop)] // column-major reads: row i of several columns

use super::ReportError;
use crate::dataset;
use crate::findings::{self, ColumnError};
use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;
use std::path::Path;

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

pub(super) fn read_df(path: &Path) -> Result<DataFrame, ReportError> {
    let f = std::fs::File::open(path).map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| ReportError::polars(path, e))
}

/// How a column is read: one of the typed readers of [`crate::findings`] (decimals from
/// their scaled integers, dates from their day numbers, never through text).
type Reader<T> = fn(&Column) -> Result<Vec<Option<T>>, ColumnError>;

const STR: Reader<String> = findings::strings;
const DEC: Reader<Decimal> = findings::decimals;
const INT: Reader<i32> = findings::ints;
const DATE: Reader<NaiveDate> = findings::dates;

/// Column `name` read by `read`; `None` when the column is absent.
fn opt<T>(
    df: &DataFrame,
    name: &str,
    path: &Path,
    read: Reader<T>,
) -> Result<Option<Vec<Option<T>>>, ReportError> {
    match df.column(name) {
        Ok(c) => read(c).map(Some).map_err(|e| column_error(path, df, e)),
        Err(_) => Ok(None),
    }
}

/// Column `name` read by `read`; an error naming the columns found when it is absent.
fn req<T>(
    df: &DataFrame,
    name: &str,
    path: &Path,
    read: Reader<T>,
) -> Result<Vec<Option<T>>, ReportError> {
    opt(df, name, path, read)?.ok_or_else(|| {
        column_error(
            path,
            df,
            ColumnError::Missing {
                column: name.into(),
                found: String::new(),
            },
        )
    })
}

/// The first of `names` that exists, read by `read`.
fn any_of<T>(
    df: &DataFrame,
    names: &[&str],
    path: &Path,
    read: Reader<T>,
) -> Result<Option<Vec<Option<T>>>, ReportError> {
    for n in names {
        if let Some(v) = opt(df, n, path, read)? {
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

/// Row `i` of a required non-null column, moved out of it (each row is read once: the
/// column's values move into the rows instead of being copied beside them).
fn need<T>(v: &mut [Option<T>], path: &Path, column: &str, i: usize) -> Result<T, ReportError> {
    v[i].take().ok_or_else(|| bad(path, column, i, "null"))
}

/// Row `i` of an optional column (`None` when the column is absent), moved out of it.
fn get<T>(c: &mut Option<Vec<Option<T>>>, i: usize) -> Option<T> {
    c.as_mut().and_then(|v| v[i].take())
}

pub fn read_findings(path: &Path) -> Result<Vec<Finding>, ReportError> {
    let df = read_df(path)?;
    Finding::from_frame(&df).map_err(|e| column_error(path, &df, e))
}

/// A [`ColumnError`] of the file at `path`.
fn column_error(path: &Path, df: &DataFrame, e: ColumnError) -> ReportError {
    match e {
        ColumnError::Missing { column, .. } => ReportError::Column {
            path: path.to_path_buf(),
            column,
            found: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        },
        ColumnError::Value { column, row, value } => bad(path, &column, row, &value),
        ColumnError::Polars(e) => ReportError::polars(path, e),
    }
}

pub fn read_balances(path: &Path) -> Result<Vec<Balance>, ReportError> {
    balances_of(&read_df(path)?, path)
}

/// The rows of a `ledger_balances` frame read from `path` (all of it or some companies').
pub(super) fn balances_of(df: &DataFrame, path: &Path) -> Result<Vec<Balance>, ReportError> {
    let mut out = Vec::with_capacity(df.height());
    for (first, part) in slices(df) {
        balance_rows(&part, path, &mut out).map_err(|e| shifted(e, first))?;
    }
    Ok(out)
}

/// Rows converted at a time: the typed columns (and their strings) of one slice of a
/// frame exist beside the rows, never the whole frame's.
const SLICE_ROWS: usize = 1 << 16;

/// `df` in slices of [`SLICE_ROWS`] rows (no copy), each with the frame row it starts at
/// (one empty slice for an empty frame: its columns are still checked).
fn slices(df: &DataFrame) -> impl Iterator<Item = (usize, DataFrame)> + '_ {
    (0..df.height().max(1))
        .step_by(SLICE_ROWS)
        .map(|first| (first, df.slice(first as i64, SLICE_ROWS)))
}

/// `e` of a slice starting at frame row `first`, naming the frame's row.
fn shifted(e: ReportError, first: usize) -> ReportError {
    match e {
        ReportError::Value {
            path,
            column,
            row,
            value,
        } => ReportError::Value {
            path,
            column,
            row: row + first,
            value,
        },
        other => other,
    }
}

/// The rows of one slice of a `ledger_balances` frame, appended to `out`.
fn balance_rows(df: &DataFrame, path: &Path, out: &mut Vec<Balance>) -> Result<(), ReportError> {
    let (mut rfc, mut id, mut partida, mut fecha) = (
        req(df, "rfc", path, STR)?,
        req(df, "pedimento_id", path, STR)?,
        req(df, "partida", path, INT)?,
        req(df, "fecha_operacion", path, DATE)?,
    );
    let (mut imported, mut open_qty, mut valor) = (
        req(df, "imported", path, DEC)?,
        req(df, "open_qty", path, DEC)?,
        req(df, "valor_aduana", path, DEC)?,
    );
    let o = |n: &str| opt(df, n, path, STR);
    let (mut fraccion, mut umt, mut clave, mut tipo, mut estado) = (
        o("fraccion")?,
        o("umt")?,
        o("clave")?,
        o("tipo_bien")?,
        o("estado")?,
    );
    let mut discharged = opt(df, "discharged", path, DEC)?;
    let mut vence = opt(df, "vence", path, DATE)?;
    for i in 0..df.height() {
        out.push(Balance {
            rfc: need(&mut rfc, path, "rfc", i)?,
            pedimento_id: need(&mut id, path, "pedimento_id", i)?,
            partida: need(&mut partida, path, "partida", i)?,
            fecha_operacion: need(&mut fecha, path, "fecha_operacion", i)?,
            imported: need(&mut imported, path, "imported", i)?,
            open_qty: need(&mut open_qty, path, "open_qty", i)?,
            valor_aduana: need(&mut valor, path, "valor_aduana", i)?,
            fraccion: get(&mut fraccion, i),
            umt: get(&mut umt, i),
            clave: get(&mut clave, i),
            discharged: get(&mut discharged, i),
            tipo_bien: get(&mut tipo, i),
            vence: get(&mut vence, i),
            estado: get(&mut estado, i),
        });
    }
    Ok(())
}

pub fn read_allocations(path: &Path) -> Result<Vec<Allocation>, ReportError> {
    allocations_of(&read_df(path)?, path)
}

/// The rows of a `ledger_allocations` frame read from `path` (all of it or some
/// companies').
pub(super) fn allocations_of(df: &DataFrame, path: &Path) -> Result<Vec<Allocation>, ReportError> {
    let mut out = Vec::with_capacity(df.height());
    for (first, part) in slices(df) {
        allocation_rows(&part, path, &mut out).map_err(|e| shifted(e, first))?;
    }
    Ok(out)
}

/// The rows of one slice of a `ledger_allocations` frame, appended to `out`.
fn allocation_rows(
    df: &DataFrame,
    path: &Path,
    out: &mut Vec<Allocation>,
) -> Result<(), ReportError> {
    let (mut import_id, mut import_partida, mut fecha, mut cantidad) = (
        req(df, "import_id", path, STR)?,
        req(df, "import_partida", path, INT)?,
        req(df, "discharge_fecha", path, DATE)?,
        req(df, "cantidad", path, DEC)?,
    );
    let o = |n: &str| opt(df, n, path, STR);
    let (mut did, mut dclave, mut method, mut prod) = (
        o("discharge_id")?,
        o("discharge_clave")?,
        o("method")?,
        o("producto_fraccion")?,
    );
    let mut dpart = opt(df, "discharge_partida", path, INT)?;
    let mut merma = opt(df, "bom_merma_pct", path, DEC)?;
    let mut desp = opt(df, "bom_desperdicio_pct", path, DEC)?;
    for i in 0..df.height() {
        // EXCESS rows discharge nothing (no import): not part of any balance.
        let Some(id) = import_id[i].take() else {
            continue;
        };
        out.push(Allocation {
            import_id: id,
            import_partida: need(&mut import_partida, path, "import_partida", i)?,
            discharge_fecha: need(&mut fecha, path, "discharge_fecha", i)?,
            cantidad: need(&mut cantidad, path, "cantidad", i)?,
            discharge_id: get(&mut did, i),
            discharge_partida: get(&mut dpart, i),
            discharge_clave: get(&mut dclave, i),
            method: get(&mut method, i),
            producto_fraccion: get(&mut prod, i),
            bom_merma_pct: get(&mut merma, i),
            bom_desperdicio_pct: get(&mut desp, i),
        });
    }
    Ok(())
}

/// The columns of the pedimento headers a report reads.
pub(super) const PEDIMENTO_COLUMNS: [&str; 8] = [
    "pedimento_id",
    "rfc",
    "nombre",
    "clave",
    "fecha_pago",
    "fecha_operacion",
    "valor_aduana",
    "rectifica_id",
];

/// Pedimento headers of every year, without the originals a rectificación replaced
/// (the same rule as `queries/views/current_pedimentos.sql`).
pub fn read_pedimentos(root: &Path) -> Result<Vec<Pedimento>, ReportError> {
    let mut rectified = std::collections::HashSet::new();
    let all = read_pedimentos_where(root, None, &mut rectified)?;
    Ok(current(all, &rectified))
}

/// The headers `pick` selects (every header with `None`) of every year, as stored; the
/// ids their rectificaciones replace are added to `rectified`.
pub(super) fn read_pedimentos_where(
    root: &Path,
    pick: Option<&Expr>,
    rectified: &mut std::collections::HashSet<String>,
) -> Result<Vec<Pedimento>, ReportError> {
    let mut out = vec![];
    for y in dataset::years(root) {
        for path in dataset::table_files(&dataset::year_dir(root, y), "pedimentos") {
            let df = match pick {
                Some(e) => read_df_where(&path, &PEDIMENTO_COLUMNS, e.clone())?,
                None => {
                    let f = std::fs::File::open(&path).map_err(|e| ReportError::Io {
                        path: path.clone(),
                        source: e,
                    })?;
                    let cols = PEDIMENTO_COLUMNS.iter().map(|s| s.to_string()).collect();
                    ParquetReader::new(f)
                        .with_columns(Some(cols))
                        .finish()
                        .map_err(|e| ReportError::polars(&path, e))?
                }
            };
            pedimentos_of(&df, &path, &mut out, rectified)?;
        }
    }
    Ok(out)
}

/// The rows of one pedimentos frame read from `p`, appended to `out`.
fn pedimentos_of(
    df: &DataFrame,
    p: &Path,
    out: &mut Vec<Pedimento>,
    rectified: &mut std::collections::HashSet<String>,
) -> Result<(), ReportError> {
    for (first, part) in slices(df) {
        pedimento_rows(&part, p, out, rectified).map_err(|e| shifted(e, first))?;
    }
    Ok(())
}

/// The rows of one slice of a pedimentos frame, appended to `out`.
fn pedimento_rows(
    df: &DataFrame,
    p: &Path,
    out: &mut Vec<Pedimento>,
    rectified: &mut std::collections::HashSet<String>,
) -> Result<(), ReportError> {
    let (mut id, mut rfc, mut nombre, mut clave, mut rectifica) = (
        req(df, "pedimento_id", p, STR)?,
        req(df, "rfc", p, STR)?,
        req(df, "nombre", p, STR)?,
        req(df, "clave", p, STR)?,
        req(df, "rectifica_id", p, STR)?,
    );
    let (mut pago, mut operacion) = (
        req(df, "fecha_pago", p, DATE)?,
        req(df, "fecha_operacion", p, DATE)?,
    );
    let mut valor = req(df, "valor_aduana", p, DEC)?;
    for i in 0..df.height() {
        if let Some(r) = rectifica[i].take() {
            rectified.insert(r);
        }
        out.push(Pedimento {
            pedimento_id: need(&mut id, p, "pedimento_id", i)?,
            rfc: need(&mut rfc, p, "rfc", i)?,
            nombre: nombre[i].take(),
            clave: clave[i].take().unwrap_or_default(),
            fecha_pago: need(&mut pago, p, "fecha_pago", i)?,
            fecha_operacion: need(&mut operacion, p, "fecha_operacion", i)?,
            valor_aduana: need(&mut valor, p, "valor_aduana", i)?,
        });
    }
    Ok(())
}

/// `all` without the originals in `rectified`, sorted by id, one header per id.
pub(super) fn current(
    mut all: Vec<Pedimento>,
    rectified: &std::collections::HashSet<String>,
) -> Vec<Pedimento> {
    all.retain(|p| !rectified.contains(&p.pedimento_id));
    all.sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
    all.dedup_by(|a, b| a.pedimento_id == b.pedimento_id);
    all
}

/// The rows of the Parquet file at `path` that `pick` selects, with those of `columns`
/// the file has (a filtered scan: polars skips the row groups whose statistics rule
/// them out and never holds the file's other rows).
pub(super) fn read_df_where(
    path: &Path,
    columns: &[&str],
    pick: Expr,
) -> Result<DataFrame, ReportError> {
    let err = |e| ReportError::polars(path, e);
    let file = PlRefPath::new(path.to_string_lossy().to_string());
    let mut lf =
        LazyFrame::scan_parquet_files(std::iter::once(file).collect(), ScanArgsParquet::default())
            .map_err(err)?;
    let schema = lf.collect_schema().map_err(err)?;
    let cols: Vec<Expr> = columns
        .iter()
        .filter(|c| schema.contains(c))
        .map(|c| col(*c))
        .collect();
    lf.select(cols)
        .filter(pick)
        .with_streaming(true)
        .collect()
        .map_err(err)
}

/// `cert_ratio_series.parquet`, if the certification checks wrote it. Column names are
/// matched leniently (`month`/`period_end`/`window_end`; `ratio_pct`/`ratio`); a ratio
/// column whose values are all ≤ 1.5 is read as a fraction and shown as percent.
pub fn read_ratio(path: &Path) -> Result<Option<Vec<RatioPoint>>, ReportError> {
    if !path.exists() {
        return Ok(None);
    }
    let df = read_df(path)?;
    let mut rfc = req(&df, "rfc", path, STR)?;
    let mut month = any_of(
        &df,
        &["month", "period_end", "window_end", "mes", "period"],
        path,
        STR,
    )?
    .ok_or_else(|| bad(path, "month", 0, "no month/period_end/window_end column"))?;
    let ratio_pct = any_of(&df, &["ratio_pct", "return_ratio_pct", "pct"], path, DEC)?;
    let ratio_frac = any_of(&df, &["ratio", "return_ratio"], path, DEC)?;
    let mut num = any_of(&df, &["numerator", "returned_value", "retornos"], path, DEC)?;
    let mut den = any_of(
        &df,
        &["denominator", "imported_value", "importaciones"],
        path,
        DEC,
    )?;
    let mut threshold = opt(&df, "threshold", path, DEC)?;
    let mut status = opt(&df, "status", path, STR)?;
    let mut shortfall = opt(&df, "shortfall", path, DEC)?;
    let mut full_window = opt(&df, "full_window", path, STR)?;
    let as_fraction = ratio_pct.is_none()
        && ratio_frac
            .iter()
            .flatten()
            .flatten()
            .all(|v| *v <= Decimal::new(15, 1));
    let mut ratio = ratio_pct.or(ratio_frac);
    let mut out = vec![];
    for i in 0..df.height() {
        let m = need(&mut month, path, "month", i)?;
        out.push(RatioPoint {
            rfc: need(&mut rfc, path, "rfc", i)?,
            month: m[..m.len().min(7)].to_string(),
            ratio_pct: get(&mut ratio, i).map(|v| {
                if as_fraction {
                    v * Decimal::from(100)
                } else {
                    v
                }
            }),
            numerator: get(&mut num, i),
            denominator: get(&mut den, i),
            // A fraction (0.60) when the ratio is one, else already percent.
            threshold_pct: get(&mut threshold, i).map(|t| {
                if t <= Decimal::ONE {
                    t * Decimal::from(100)
                } else {
                    t
                }
            }),
            status: get(&mut status, i),
            shortfall: get(&mut shortfall, i),
            full_window: get(&mut full_window, i).map(|v| v == "true" || v == "1"),
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
    let r = |n: &str| req(&df, n, path, STR);
    let (mut rfc, mut modality, mut code, mut requirement, mut status) = (
        r("rfc")?,
        r("modality")?,
        r("code")?,
        r("requirement")?,
        r("status")?,
    );
    let o = |n: &str| opt(&df, n, path, STR);
    let (
        mut verdict,
        mut measured,
        mut threshold,
        mut window,
        mut basis,
        mut missing,
        mut citation,
    ) = (
        o("verdict")?,
        o("measured")?,
        o("threshold")?,
        o("window")?,
        o("basis")?,
        o("missing")?,
        o("citation")?,
    );
    let mut amount = opt(&df, "amount", path, DEC)?;
    let mut as_of = opt(&df, "as_of", path, DATE)?;
    let mut out = vec![];
    for i in 0..df.height() {
        out.push(Assessment {
            rfc: need(&mut rfc, path, "rfc", i)?,
            verdict: get(&mut verdict, i).unwrap_or_default(),
            modality: modality[i].take().unwrap_or_default(),
            code: code[i].take().unwrap_or_default(),
            requirement: requirement[i].take().unwrap_or_default(),
            status: status[i].take().unwrap_or_default(),
            measured: get(&mut measured, i).unwrap_or_default(),
            threshold: get(&mut threshold, i).unwrap_or_default(),
            window: get(&mut window, i).unwrap_or_default(),
            basis: get(&mut basis, i).unwrap_or_default(),
            missing: get(&mut missing, i).filter(|m| !m.is_empty()),
            amount: get(&mut amount, i),
            citation: get(&mut citation, i).unwrap_or_default(),
            as_of: get(&mut as_of, i),
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

/// Reads the audit folder, the dataset headers and the manifests, for every company at
/// once (`trace`; the reports read a group of companies at a time, [`super::groups`]).
pub fn load(dataset_root: &Path, audit: &Path) -> Result<Inputs, ReportError> {
    let shared = super::groups::load_shared(dataset_root, audit)?;
    let bp = audit.join("ledger_balances.parquet");
    let ap = audit.join("ledger_allocations.parquet");
    Ok(Inputs {
        findings: shared.findings,
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
        ratio: shared.ratio,
        assessment: shared.assessment,
        ingest: shared.ingest,
        dataset_years: shared.dataset_years,
        rejects: shared.rejects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// A Decimal column with the widest values the ledger writes (DECIMAL(38, 5) sums,
    /// 18 significant digits at DECIMAL(18, 2)) reads exactly, digit for digit.
    #[test]
    fn balances_read_decimals_exactly() {
        let dec = |name: &str, v: i128, p: usize, s: usize| -> Column {
            Int128Chunked::from_slice(name.into(), &[v])
                .into_decimal(p, s)
                .unwrap()
                .into_series()
                .into()
        };
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("rfc".into(), ["AAA010101AA1"]),
            Column::new("pedimento_id".into(), ["2024-240-3000-4000001"]),
            Column::new("partida".into(), [1i32]),
            Column::new(
                "fecha_operacion".into(),
                [crate::model::date32(
                    NaiveDate::from_ymd_opt(2024, 1, 10).unwrap(),
                )],
            )
            .cast(&DataType::Date)
            .unwrap(),
            dec("imported", 123_456_789_012_345_678, 18, 5),
            dec("open_qty", 12_345_678_901_234_567_890_123_456_789, 38, 5),
            dec("valor_aduana", 999_999_999_999_999_999, 18, 2),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger_balances.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let b = &read_balances(&path).unwrap()[0];
        assert_eq!(
            b.imported,
            Decimal::from_str("1234567890123.45678").unwrap()
        );
        assert_eq!(
            b.open_qty,
            Decimal::from_str("123456789012345678901234.56789").unwrap()
        );
        assert_eq!(b.valor_aduana.to_string(), "9999999999999999.99");
        assert_eq!(
            b.fecha_operacion,
            NaiveDate::from_ymd_opt(2024, 1, 10).unwrap()
        );
    }
}
