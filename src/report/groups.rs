//! Reports in bounded memory: the companies are reported a group at a time, each group
//! reading only its own rows.
//!
//! What is read once for the whole run is small ([`Shared`]: the findings, the
//! certification tables, the ingest totals and rejects). What grows with the dataset is
//! read per group ([`load_group`]): the group's pedimento headers, ledger balances and
//! ledger allocations, through filtered Parquet scans. The facts a run needs about every
//! company before it writes anything (which companies exist, which have data in the
//! period, their years and sizes, the latest payment date) come from a streaming pass
//! over a few columns of the pedimentos ([`Census::of_dataset`]) that holds no rows.
//!
//! Groups are packed in RFC order by each company's rows (headers + ledger balances +
//! ledger allocations, [`company_rows`]) under [`rows_per_group`] of the memory budget,
//! as the audit packs its batches ([`crate::checks::plan::pack_batches`]).

use super::ReportError;
use super::load::{self, Finding, IngestTotals, Inputs, Pedimento};
use super::model::Period;
use crate::dataset;
use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type};
use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// Resident memory one row of a group (a pedimento header, a ledger balance or a ledger
/// allocation) costs at the group's peak, in bytes: its typed row and index entries, the
/// scan that read it, and the report being built and written from it (kardex, saldos;
/// the workbook's sheets are streamed to disk row by row, the CSVs written as they go).
/// Measured on generated histories ([`MEASURED_PEAKS`], dev build): 512 bytes a row over
/// the run's base with one company of 1.06 M rows (its report's kardex on top of its
/// rows), 435 with two such companies in one group, 418 with three (3.37 M rows); 560
/// leaves a margin (three companies of that size a group under the default 2048 MiB).
pub const REPORT_BYTES_PER_ROW: u64 = 560;

/// Measured peaks of one group: (rows, peak resident MiB, resident MiB before the group).
/// Generated histories of ~470 k partidas a company (`generate --partidas 490000` a
/// company, `--inject expired,excess,unit,virtual-unpaired,virtual-mismatch`), dev build
/// with `--features alloc-count`, `PEDAUDIT_TIMING=1`. [`REPORT_BYTES_PER_ROW`] and
/// [`REPORT_RESERVE_MB`] must cover each.
pub const MEASURED_PEAKS: [(u64, u64, u64); 3] = [
    // `--company DAA900115L10`: 154 k headers, 459 k balances, 452 k allocations.
    (1_064_254, 630, 110),
    // Two such companies (the default budget's first group of a 3-company history).
    (2_095_958, 988, 118),
    // Three in one group (`--memory-mb 16000`).
    (3_365_338, 1_459, 118),
];

/// What a report run holds besides its group (MiB): the binary, polars' pools, the
/// findings and certification tables, the rejects, the census and the rectified ids.
pub const REPORT_RESERVE_MB: u64 = 256;

/// How many rows one group may hold under `budget_mb` (at least 1: a company larger
/// than the budget is still reported, alone).
pub fn rows_per_group(budget_mb: u64) -> u64 {
    (budget_mb
        .saturating_sub(REPORT_RESERVE_MB)
        .saturating_mul(1 << 20)
        / REPORT_BYTES_PER_ROW)
        .max(1)
}

/// `companies` (in order) packed into groups of at most `rows_per_group` rows by their
/// row counts in `rows` (a company not in `rows` counts 0).
pub fn pack(
    companies: &[String],
    rows: &HashMap<String, u64>,
    rows_per_group: u64,
) -> Vec<Vec<String>> {
    let weighted: Vec<(String, u64)> = companies
        .iter()
        .map(|c| (c.clone(), rows.get(c).copied().unwrap_or(0)))
        .collect();
    crate::checks::plan::pack_batches(&weighted, rows_per_group)
}

/// What the reports of every group share: read once per run.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    pub findings: Vec<Finding>,
    pub ratio: Option<Vec<load::RatioPoint>>,
    pub assessment: Option<Vec<load::Assessment>>,
    pub ingest: IngestTotals,
    pub dataset_years: Vec<i32>,
    pub rejects: std::sync::Arc<Vec<super::rejects::Reject>>,
}

/// Reads the audit folder's small tables, the manifests and the rejects (the errors of
/// [`load::load`] when the audit or the dataset is missing).
pub fn load_shared(dataset_root: &Path, audit: &Path) -> Result<Shared, ReportError> {
    let fp = audit.join("findings.parquet");
    if !fp.exists() {
        return Err(ReportError::NoAudit(audit.to_path_buf()));
    }
    let dataset_years = dataset::years(dataset_root);
    if dataset_years.is_empty() {
        return Err(ReportError::NoDataset(dataset_root.to_path_buf()));
    }
    Ok(Shared {
        findings: load::read_findings(&fp)?,
        ratio: load::read_ratio(&audit.join("cert_ratio_series.parquet"))?,
        assessment: load::read_assessment(&audit.join("cert_assessment.parquet"))?,
        ingest: load::read_manifests(dataset_root)?,
        dataset_years,
        rejects: std::sync::Arc::new(super::rejects::read(dataset_root)?),
    })
}

/// The columns of `ledger_balances` a report reads ([`load::Balance`]).
const BALANCE_COLUMNS: &[&str] = &[
    "rfc",
    "pedimento_id",
    "partida",
    "fecha_operacion",
    "imported",
    "open_qty",
    "valor_aduana",
    "fraccion",
    "umt",
    "clave",
    "tipo_bien",
    "estado",
    "discharged",
    "vence",
];

/// The columns of `ledger_allocations` a report reads ([`load::Allocation`]).
const ALLOCATION_COLUMNS: &[&str] = &[
    "rfc",
    "import_id",
    "import_partida",
    "discharge_fecha",
    "cantidad",
    "discharge_id",
    "discharge_clave",
    "method",
    "producto_fraccion",
    "discharge_partida",
    "bom_merma_pct",
    "bom_desperdicio_pct",
];

/// `column` ∈ `values`, as a polars filter.
fn one_of(column: &str, values: Vec<String>) -> Expr {
    let s = Series::new(column.into(), values);
    col(column).is_in(lit(s).implode(false), false)
}

/// The inputs of the companies of `group`: their findings, pedimento headers (plus any
/// header their findings cite; without the originals in `rectified`, the dataset's
/// rectified ids), ledger balances and allocations, certification rows. Built from
/// these, a company's report is the one built from every company's inputs.
pub fn load_group(
    dataset_root: &Path,
    audit: &Path,
    shared: &Shared,
    rectified: &HashSet<String>,
    group: &[String],
) -> Result<Inputs, ReportError> {
    let set: HashSet<&str> = group.iter().map(String::as_str).collect();
    let findings: Vec<Finding> = shared
        .findings
        .iter()
        .filter(|f| set.contains(f.rfc.as_str()))
        .cloned()
        .collect();
    let cited: BTreeSet<String> = findings
        .iter()
        .filter_map(|f| f.pedimento_id.clone())
        .collect();
    let by_rfc = one_of("rfc", group.to_vec());
    let pick = if cited.is_empty() {
        by_rfc.clone()
    } else {
        by_rfc
            .clone()
            .or(one_of("pedimento_id", cited.into_iter().collect()))
    };
    let mut own = HashSet::new();
    let headers = load::read_pedimentos_where(dataset_root, Some(&pick), &mut own)?;
    let bp = audit.join("ledger_balances.parquet");
    let ap = audit.join("ledger_allocations.parquet");
    let balances = if bp.exists() {
        let df = load::read_df_where(&bp, BALANCE_COLUMNS, by_rfc.clone())?;
        load::balances_of(&df, &bp)?
    } else {
        vec![]
    };
    let allocations = if !ap.exists() {
        vec![]
    } else if has_column(&ap, "rfc")? {
        let df = load::read_df_where(&ap, ALLOCATION_COLUMNS, by_rfc)?;
        load::allocations_of(&df, &ap)?
    } else {
        // An older audit folder: allocations without their company, all of them.
        load::read_allocations(&ap)?
    };
    let mine = |rfc: &str| set.contains(rfc);
    Ok(Inputs {
        findings,
        balances,
        allocations,
        pedimentos: load::current(headers, rectified),
        ratio: shared
            .ratio
            .as_ref()
            .map(|r| r.iter().filter(|p| mine(&p.rfc)).cloned().collect()),
        assessment: shared
            .assessment
            .as_ref()
            .map(|r| r.iter().filter(|p| mine(&p.rfc)).cloned().collect()),
        ingest: shared.ingest.clone(),
        dataset_years: shared.dataset_years.clone(),
        rejects: shared.rejects.clone(),
    })
}

/// Whether the Parquet file at `path` has a column `name` (from its footer).
fn has_column(path: &Path, name: &str) -> Result<bool, ReportError> {
    let f = std::fs::File::open(path).map_err(ReportError::io(path))?;
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| ReportError::polars(path, e))?;
    Ok(b.schema().column_with_name(name).is_some())
}

/// The ids the dataset's rectificaciones replace (streamed from `rectifica_id`).
pub fn rectified_ids(root: &Path) -> Result<HashSet<String>, ReportError> {
    let mut out = HashSet::new();
    for path in dataset::dataset_table_files(root, "pedimentos") {
        dataset::for_each_text(&path, "rectifica_id", |r| {
            if !out.contains(r) {
                out.insert(r.to_string());
            }
        })
        .map_err(ReportError::Dataset)?;
    }
    Ok(out)
}

/// What a run knows of one company's current pedimento headers before reading its rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Headers (for the group sizes).
    pub headers: u64,
    /// Years of their payment dates.
    pub years: BTreeSet<i32>,
    /// Some header paid or operated in the run's period.
    pub in_period: bool,
}

/// [`Facts`] per company (RFC order) and the latest payment date, over current headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Census {
    pub companies: BTreeMap<String, Facts>,
    pub max_pago: Option<NaiveDate>,
}

impl Census {
    fn add(&mut self, rfc: &str, pago: NaiveDate, operacion: NaiveDate, period: Period) {
        let f = match self.companies.get_mut(rfc) {
            Some(f) => f,
            None => self.companies.entry(rfc.to_string()).or_default(),
        };
        f.headers += 1;
        f.years.insert(pago.year());
        f.in_period |= period.contains(pago) || period.contains(operacion);
        self.max_pago = self.max_pago.max(Some(pago));
    }

    /// The census of headers already read.
    pub fn of<'a>(headers: impl IntoIterator<Item = &'a Pedimento>, period: Period) -> Census {
        let mut c = Census::default();
        for p in headers {
            c.add(&p.rfc, p.fecha_pago, p.fecha_operacion, period);
        }
        c
    }

    /// The census of the whole dataset, streamed from four columns of the pedimentos
    /// (Arrow batches of 64 k rows; no header is held), skipping the ids in `rectified`.
    pub fn of_dataset(
        root: &Path,
        rectified: &HashSet<String>,
        period: Period,
    ) -> Result<Census, ReportError> {
        let mut c = Census::default();
        let cols = ["pedimento_id", "rfc", "fecha_pago", "fecha_operacion"];
        for path in dataset::dataset_table_files(root, "pedimentos") {
            stream(&path, &cols, |rb, first| {
                let col =
                    |name: &str| text(rb, name, &path)?.ok_or_else(|| missing(&path, rb, name));
                let (id, rfc) = (col(cols[0])?, col(cols[1])?);
                let (pago, op) = (days(rb, cols[2], &path)?, days(rb, cols[3], &path)?);
                for i in 0..rb.num_rows() {
                    let null = |column: &str| ReportError::Value {
                        path: path.clone(),
                        column: column.into(),
                        row: first + i,
                        value: "null".into(),
                    };
                    if id.is_null(i) {
                        return Err(null(cols[0]));
                    }
                    if rectified.contains(id.value(i)) {
                        continue;
                    }
                    match (rfc.is_null(i), pago[i], op[i]) {
                        (true, _, _) => return Err(null(cols[1])),
                        (_, None, _) => return Err(null(cols[2])),
                        (_, _, None) => return Err(null(cols[3])),
                        (false, Some(p), Some(o)) => c.add(rfc.value(i), p, o, period),
                    }
                }
                Ok(())
            })?;
        }
        Ok(c)
    }
}

/// Rows per company of the ledger table at `path` (its `rfc` column, streamed), added
/// to `rows`; nothing when the file or the column does not exist.
pub fn add_ledger_rows(path: &Path, rows: &mut HashMap<String, u64>) -> Result<(), ReportError> {
    if !path.exists() {
        return Ok(());
    }
    dataset::for_each_text(path, "rfc", |rfc| match rows.get_mut(rfc) {
        Some(n) => *n += 1,
        None => {
            rows.insert(rfc.to_string(), 1);
        }
    })
    .map_err(ReportError::Dataset)?;
    Ok(())
}

/// Rows per company that a group holds: its current headers (from `census`) and its
/// rows of the audit's ledger tables.
pub fn company_rows(census: &Census, audit: &Path) -> Result<HashMap<String, u64>, ReportError> {
    let mut rows: HashMap<String, u64> = census
        .companies
        .iter()
        .map(|(rfc, f)| (rfc.clone(), f.headers))
        .collect();
    add_ledger_rows(&audit.join("ledger_balances.parquet"), &mut rows)?;
    add_ledger_rows(&audit.join("ledger_allocations.parquet"), &mut rows)?;
    Ok(rows)
}

/// Streams `columns` of the Parquet file at `path` in Arrow batches; `f` gets each batch
/// and the file row of its first row.
fn stream(
    path: &Path,
    columns: &[&str],
    mut f: impl FnMut(&RecordBatch, usize) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut failed = None;
    let mut first = 0usize;
    let r = dataset::for_each_batch_of(path, Some(columns), |rb| {
        let n = rb.num_rows();
        let r = f(&rb, first).map_err(|e| {
            failed = Some(e);
            dataset::DatasetError::Other(String::new())
        });
        first += n;
        r
    });
    match (failed, r) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(ReportError::Dataset(e)),
        (None, Ok(())) => Ok(()),
    }
}

/// The error of a missing column of `rb` read from `path`.
fn missing(path: &Path, rb: &RecordBatch, name: &str) -> ReportError {
    ReportError::Column {
        path: path.to_path_buf(),
        column: name.into(),
        found: rb
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Text column `name` of `rb` (cast from any string type); None when absent.
fn text(rb: &RecordBatch, name: &str, path: &Path) -> Result<Option<StringArray>, ReportError> {
    let Some(c) = rb.column_by_name(name) else {
        return Ok(None);
    };
    let c = arrow::compute::cast(c, &DataType::Utf8).map_err(|e| ReportError::polars(path, e))?;
    Ok(Some(c.as_string::<i32>().clone()))
}

/// Date column `name` of `rb`, one entry per row (None for a null).
fn days(rb: &RecordBatch, name: &str, path: &Path) -> Result<Vec<Option<NaiveDate>>, ReportError> {
    let Some(c) = rb.column_by_name(name) else {
        return Err(missing(path, rb, name));
    };
    let c = arrow::compute::cast(c, &DataType::Date32).map_err(|e| ReportError::polars(path, e))?;
    let d = c.as_primitive::<Date32Type>();
    Ok((0..d.len())
        .map(|i| d.is_valid(i).then(|| crate::model::from_date32(d.value(i))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_fill_the_budget_in_rfc_order() {
        let per = rows_per_group(REPORT_RESERVE_MB + 1);
        assert_eq!(per, (1 << 20) / REPORT_BYTES_PER_ROW);
        assert_eq!(
            rows_per_group(1),
            1,
            "below the reserve: one company a group"
        );
        assert!(rows_per_group(2048) > rows_per_group(1024));
        assert_eq!(rows_per_group(u64::MAX), u64::MAX / REPORT_BYTES_PER_ROW);
        let companies: Vec<String> = ["A", "B", "C", "D", "E"].map(String::from).to_vec();
        let rows: HashMap<String, u64> = [("A", 40), ("B", 50), ("C", 200), ("D", 10)]
            .map(|(c, n)| (c.to_string(), n))
            .into();
        let g = pack(&companies, &rows, 100);
        // A+B fit; C alone is larger than a group; D and E (no rows) share one.
        assert_eq!(g, vec![vec!["A", "B"], vec!["C"], vec!["D", "E"]]);
        assert_eq!(pack(&companies, &rows, u64::MAX).len(), 1);
        assert_eq!(pack(&companies, &rows, 1).len(), 5);
    }

    #[test]
    fn group_sizes_cover_the_measured_peaks() {
        for (rows, peak_mb, base_mb) in MEASURED_PEAKS {
            let predicted =
                REPORT_RESERVE_MB.max(base_mb) + rows * REPORT_BYTES_PER_ROW / (1 << 20);
            assert!(
                predicted >= peak_mb,
                "{rows} rows: predicted {predicted} MiB < measured {peak_mb} MiB"
            );
        }
    }

    #[test]
    fn the_100m_history_packs_three_companies_a_group() {
        // bench/results.md's 100 M-partida history: 200 companies of ~466 k partidas,
        // about 1.07 M report rows each (headers + ledger balances + allocations).
        let companies: Vec<String> = (0..200).map(|i| format!("C{i:03}")).collect();
        let rows: HashMap<String, u64> = companies.iter().map(|c| (c.clone(), 1_066_000)).collect();
        let g = pack(&companies, &rows, rows_per_group(2048));
        assert_eq!(g.len(), 67);
        assert!(g.iter().all(|x| x.len() <= 3));
        assert_eq!(g.iter().map(Vec::len).sum::<usize>(), 200);
        // One such company alone is planned within half the budget.
        assert!(rows_per_group(1024) >= 1_066_000);
    }
}
