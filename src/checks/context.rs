//! What every check sees: the dataset tables, the rule catalogs and the run parameters,
//! registered under fixed names for SQL:
//!
//! | name | content |
//! |---|---|
//! | `pedimentos`, `partidas`, `identificadores`, `descargos`, `conflicts` | the dataset, all years |
//! | `plazos`, `discharge_claves`, `tasas_contribucion`, `virtual_versions` | `src/catalogs/*.csv` (dated rule versions) |
//! | `programas` | company profiles (`src/profile.rs`) |
//! | `bom` | company profiles (`src/profile.rs`, `bom.csv`) |
//! | `desperdicios` | company profiles (`src/profile.rs`, `desperdicios.csv`) |
//! | `descargos_anexo24` | company profiles (`src/profile.rs`, `descargos_anexo24.csv`) |
//! | `${as_of}`, `${expiring_days}` | parameters substituted into the SQL text |
//! | views in [`super::VIEWS`] | materialized once, in order |

use crate::dataset;
use crate::findings::FindingsError;
use crate::model::catalog;
use chrono::NaiveDate;
use polars::prelude::*;
use polars::sql::SQLContext;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "no dataset at {0}: create one with `pedimento-audit ingest <files> --dataset {0}` (or `pedimento-audit generate` then ingest)"
    )]
    NoDataset(PathBuf),
    #[error("unknown check or group '{0}'; valid: {1}")]
    Unknown(String, String),
    #[error("{file}: {source}")]
    Query { file: String, source: PolarsError },
    #[error(transparent)]
    Findings(#[from] FindingsError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("{0}")]
    Other(String),
}

impl CheckError {
    /// Maps a polars error of the query in `queries/<file>` to an error naming that file.
    pub fn query(file: &str) -> impl FnOnce(PolarsError) -> CheckError + '_ {
        move |source| CheckError::Query {
            file: format!("queries/{file}"),
            source,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Evaluation date; None = latest fecha_pago in the dataset.
    pub as_of: Option<NaiveDate>,
    /// Only findings about this RFC (checks still see every company: pairing needs both sides).
    pub company: Option<String>,
    /// TEMP-EXPIRING window in days.
    pub expiring_days: i64,
    /// Company profile folder (see `src/profile.rs`).
    pub profiles: Option<PathBuf>,
    /// Readings of the certification rules (value basis, rule version, ...).
    pub cert: super::cert::CertOptions,
    /// VIRTUAL-MISMATCH: USD value differences above this percent are flagged (low).
    pub virtual_value_tolerance_pct: u32,
    /// Progress sink: one step per check run on a batch (silent by default).
    pub progress: crate::model::progress::ProgressHandle,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            as_of: None,
            company: None,
            expiring_days: 60,
            profiles: None,
            cert: Default::default(),
            virtual_value_tolerance_pct: super::virtual_pairing::VALUE_TOLERANCE_PCT,
            progress: Default::default(),
        }
    }
}

/// Which part of the dataset a context covers (see [`AuditContext::open_scoped`]).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only these RFCs (None = all).
    pub companies: Option<Vec<String>>,
    /// Keep the shared views as lazy plans (for checks that read few rows of them).
    pub lazy_views: bool,
    /// Only virtual-operation pedimentos (claves V1..V9) and their rows: the cross-company
    /// pairing pass of a batched audit. `dataset_rfcs` still lists every company.
    pub virtual_only: bool,
    /// Where the rows come from (default: the dataset's files, filtered by the scope).
    pub rows: Rows,
    /// Every RFC of the dataset, for `dataset_rfcs` (one column `rfc`); None = read from
    /// the dataset's pedimentos (a scan of every pedimento: 2 GB at 100 M partidas).
    pub dataset_rfcs: Option<DataFrame>,
}

/// The rows of a [`Scope`]: one of the tables of [`super::partition::TABLES`] each.
#[derive(Debug, Clone, Default)]
pub enum Rows {
    /// The dataset's files, filtered by the scope.
    #[default]
    Dataset,
    /// The batch's own rows, already split by company ([`super::partition`]): read from
    /// this folder instead of filtering the dataset.
    Batch(PathBuf),
    /// Rows already in memory, by table (the virtual pedimentos the company batches
    /// collected for the cross-company pass; see [`AuditContext::virtual_rows`]).
    Frames(BTreeMap<String, DataFrame>),
}

/// Distinct RFCs of the dataset, sorted, in chunks of `size` (for batched audits).
///
/// Streams the `rfc` column file by file into a set ([`dataset::for_each_text`]): a
/// polars `unique` over the whole column held every pedimento's RFC at once (the CLI
/// audit peaked at 3.47 GB after its checks at 100 M partidas listing the companies).
pub fn company_batches(root: &Path, size: usize) -> Result<Vec<Vec<String>>, CheckError> {
    let err = |e: dataset::DatasetError| CheckError::Other(e.to_string());
    let mut set = std::collections::BTreeSet::new();
    for file in dataset::dataset_table_files(root, "pedimentos") {
        let found = dataset::for_each_text(&file, "rfc", |r| {
            if !set.contains(r) {
                set.insert(r.to_string());
            }
        })
        .map_err(err)?;
        if !found {
            return Err(CheckError::Other(format!(
                "{}: no text column rfc",
                file.display()
            )));
        }
    }
    let rfcs: Vec<String> = set.into_iter().collect();
    Ok(rfcs.chunks(size.max(1)).map(|c| c.to_vec()).collect())
}

/// The latest fecha_pago of the dataset (the default evaluation date), from the
/// pedimentos alone.
pub fn max_fecha_pago(root: &Path) -> Result<NaiveDate, CheckError> {
    if dataset::years(root).is_empty() {
        return Err(CheckError::NoDataset(root.to_path_buf()));
    }
    let df = scan_table(root, "pedimentos")?
        .select([col("fecha_pago").max()])
        .collect()?;
    match df.column("fecha_pago")?.get(0)? {
        AnyValue::Date(days) => Ok(crate::model::from_date32(days)),
        _ => Err(CheckError::NoDataset(root.to_path_buf())),
    }
}

pub struct AuditContext {
    pub root: PathBuf,
    pub opts: AuditOptions,
    pub as_of: NaiveDate,
    /// Registered tables (lazy for the dataset, materialized for views).
    pub tables: BTreeMap<String, LazyFrame>,
    /// The companies this context covers (None = all; see [`Scope`]).
    pub scope: Option<Vec<String>>,
    /// The Rust shared tables computed so far (see [`Self::shared`]).
    shared: std::sync::Mutex<BTreeMap<&'static str, super::shared::Value>>,
    /// Files of views moved to a batch's scratch folder (see [`Self::spill`]), removed
    /// with the context.
    spilled: Vec<PathBuf>,
}

impl Drop for AuditContext {
    /// Removes the spilled views' files: a batch's scratch folder lives until the end of
    /// the run, and 200 batches' ledgers would otherwise stay on disk until then.
    fn drop(&mut self) {
        for p in &self.spilled {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn scan_table(root: &Path, table: &str) -> PolarsResult<LazyFrame> {
    scan_files(&dataset::dataset_table_files(root, table), table)
}

/// `files` of `table` (those that exist) as one lazy frame; an empty one with the
/// table's schema when there is none.
fn scan_files(files: &[PathBuf], table: &str) -> PolarsResult<LazyFrame> {
    let files: Vec<PlRefPath> = files
        .iter()
        .filter(|p| p.exists())
        .map(|p| PlRefPath::new(p.to_string_lossy().to_string()))
        .collect();
    if files.is_empty() {
        // An empty frame with the right schema (e.g. no descargos at all).
        let schema = arrow_to_polars_schema(&dataset::schema_of(table));
        return Ok(DataFrame::empty_with_schema(&schema).lazy());
    }
    let mut args = ScanArgsParquet::default();
    if matches!(table, "pedimentos" | "conflicts") {
        // Year files written before a nullable column existed (hora_pago) read it as null.
        args.schema = Some(std::sync::Arc::new(arrow_to_polars_schema(
            &dataset::schema_of(table),
        )));
        args.allow_missing_columns = true;
    }
    LazyFrame::scan_parquet_files(files.into_iter().collect(), args)
}

/// The polars schema equivalent to one of the dataset's arrow-rs schemas.
pub fn arrow_to_polars_schema(s: &arrow::datatypes::Schema) -> Schema {
    use arrow::datatypes::DataType as A;
    Schema::from_iter(s.fields().iter().map(|f| {
        let dt = match f.data_type() {
            A::Utf8 => DataType::String,
            A::Int32 => DataType::Int32,
            A::Int64 => DataType::Int64,
            A::Date32 => DataType::Date,
            A::Decimal128(p, sc) => DataType::Decimal(*p as usize, *sc as usize),
            A::Boolean => DataType::Boolean,
            other => panic!("unmapped arrow type {other:?}"),
        };
        Field::new(f.name().as_str().into(), dt)
    }))
}

/// Reads one of the vendored rule CSVs with every column as text, then casts the
/// numeric ones.
fn catalog_frame(text: &str, ints: &[&str]) -> PolarsResult<LazyFrame> {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| polars_err!(ComputeError: "{e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut cols: Vec<Vec<Option<String>>> = vec![vec![]; headers.len()];
    for rec in r.records() {
        let rec = rec.map_err(|e| polars_err!(ComputeError: "{e}"))?;
        for (i, c) in cols.iter_mut().enumerate() {
            let v = rec.get(i).unwrap_or("").trim();
            c.push((!v.is_empty()).then(|| v.to_string()));
        }
    }
    let columns: Vec<Column> = headers
        .iter()
        .zip(cols)
        .map(|(h, v)| Series::new(h.as_str().into(), v).into())
        .collect();
    let df = DataFrame::new_infer_height(columns)?;
    let mut exprs: Vec<Expr> = ints
        .iter()
        .map(|c| col(*c).strict_cast(DataType::Int32))
        .collect();
    // Versioned rule tables (`catalog::VERSIONED_TABLES`): the validity columns are dates.
    for d in ["valid_from", "valid_to"] {
        if headers.iter().any(|h| h == d) {
            exprs.push(col(d).strict_cast(DataType::Date));
        }
    }
    Ok(df.lazy().with_columns(exprs))
}

type Tables = BTreeMap<String, LazyFrame>;

/// The vendored rule catalogs the SQL reads.
fn register_catalogs(tables: &mut Tables) -> Result<(), CheckError> {
    tables.insert(
        "plazos".into(),
        catalog_frame(
            catalog::PLAZOS,
            &["meses", "por_programa", "requires_immex"],
        )?,
    );
    tables.insert(
        "discharge_claves".into(),
        catalog_frame(
            catalog::DISCHARGES,
            &["tipo_operacion", "counts_in_ratio", "requires_immex"],
        )?,
    );
    tables.insert(
        "tasas_contribucion".into(),
        catalog_frame(catalog::TASAS, &["tasa"])?,
    );
    tables.insert(
        "virtual_versions".into(),
        catalog_frame(
            catalog::VIRTUAL_VERSIONS,
            &["consolidado_dias_mes", "consolidado_dias_habiles"],
        )?,
    );
    Ok(())
}

/// Keeps only the virtual-operation pedimentos (claves V1..V9) and their rows (the
/// cross-company pairing pass).
fn keep_virtual(tables: &mut Tables) -> Result<(), CheckError> {
    let claves = Series::new(
        "clave".into(),
        crate::checks::virtual_pairing::VIRTUAL_CLAVES
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
    );
    let pick = col("clave").is_in(lit(claves).implode(false), false);
    keep_pedimentos(
        tables,
        pick,
        &["partidas", "identificadores", "descargos", "conflicts"],
    )
}

/// Keeps only `companies`' rows, filtering the dataset's scans (a batch opened without
/// the company partition).
fn keep_companies(tables: &mut Tables, companies: &[String]) -> Result<(), CheckError> {
    // Filters (not joins) so that the streaming engine keeps only this batch's rows
    // while it scans: first the batch's pedimentos, then the children by id.
    let rfcs = Series::new("rfc".into(), companies.to_vec());
    let by_rfc = col("rfc").is_in(lit(rfcs).implode(false), false);
    let conflicts = tables["conflicts"]
        .clone()
        .filter(by_rfc.clone())
        .collect()?;
    tables.insert("conflicts".into(), conflicts.lazy());
    keep_pedimentos(
        tables,
        by_rfc,
        &["partidas", "identificadores", "descargos"],
    )
}

/// Keeps the pedimentos `pick` selects and, of each table in `children`, their rows.
fn keep_pedimentos(tables: &mut Tables, pick: Expr, children: &[&str]) -> Result<(), CheckError> {
    let peds = tables["pedimentos"]
        .clone()
        .filter(pick)
        .with_streaming(true)
        .collect()?;
    let ids = peds
        .column("pedimento_id")?
        .as_materialized_series()
        .clone();
    let by_id = col("pedimento_id").is_in(lit(ids).implode(false), false);
    for t in children {
        let df = tables[*t]
            .clone()
            .filter(by_id.clone())
            .with_streaming(true)
            .collect()?;
        tables.insert(t.to_string(), df.lazy());
    }
    tables.insert("pedimentos".into(), peds.lazy());
    Ok(())
}

/// The company profiles (programas, bill of materials, destruction records, the Anexo 24
/// descargo report).
fn register_profiles(
    tables: &mut Tables,
    opts: &AuditOptions,
    scope: &Scope,
) -> Result<(), CheckError> {
    let programas =
        crate::profile::load_table(opts.profiles.as_deref(), &crate::profile::PROGRAMAS)
            .map_err(|e| CheckError::Other(e.to_string()))?;
    tables.insert("programas".into(), programas.lazy());
    // Bill of materials (profile bom.csv): discharges of a product explode into its
    // insumos (queries/views/ledger_movements.sql).
    let bom = crate::profile::load_table(opts.profiles.as_deref(), &crate::profile::BOM)
        .map_err(|e| CheckError::Other(e.to_string()))?;
    tables.insert("bom".into(), bom.lazy());
    // Destruction records (profile desperdicios.csv): discharges of desperdicio
    // (queries/views/ledger_movements.sql); only the batch's companies.
    let mut desperdicios =
        crate::profile::load_table(opts.profiles.as_deref(), &crate::profile::DESPERDICIOS)
            .map_err(|e| CheckError::Other(e.to_string()))?;
    if let Some(companies) = &scope.companies {
        let rfcs = Series::new("rfc".into(), companies.clone());
        desperdicios = desperdicios
            .lazy()
            .filter(col("rfc").is_in(lit(rfcs).implode(false), false))
            .collect()?;
    }
    tables.insert("desperdicios".into(), desperdicios.lazy());
    // The company's own Anexo 24 descargo report (profile descargos_anexo24.csv), for
    // SALDO-DIFF; rows are attributed to companies through the dataset's pedimentos.
    let anexo24 = crate::profile::load_table(opts.profiles.as_deref(), &crate::profile::ANEXO24)
        .map_err(|e| CheckError::Other(e.to_string()))?;
    tables.insert("descargos_anexo24".into(), anexo24.lazy());
    Ok(())
}

impl AuditContext {
    /// Opens the dataset, registers tables and materializes the shared views.
    pub fn open(root: &Path, opts: AuditOptions) -> Result<AuditContext, CheckError> {
        Self::open_scoped(root, opts, &Scope::default())
    }

    /// Opens a context over part of the dataset: only `scope.companies` (every table is
    /// filtered to their pedimentos) and, with `lazy_views`, views left as lazy plans instead
    /// of materialized. Batched audits (`audit --batch-companies N`) use it to bound memory:
    /// the ledger is per company, so per-company batches give the same findings.
    pub fn open_scoped(
        root: &Path,
        opts: AuditOptions,
        scope: &Scope,
    ) -> Result<AuditContext, CheckError> {
        // `CAST('2024-01-01' AS DATE)` is how the portable SQL writes a date literal; polars
        // flags that cast as deprecated (not an error). Keep other warnings visible.
        polars::error::set_warning_function(|msg, w| {
            if !matches!(w, polars::error::PolarsWarning::Deprecation) {
                eprintln!("{w:?}: {msg}");
            }
        });
        if dataset::years(root).is_empty() {
            return Err(CheckError::NoDataset(root.to_path_buf()));
        }
        // A dataset an ingest left half-swapped may be missing a whole year: never audit
        // it as it is (the CLI recovers it first when it can; see `dataset::recover`).
        let unfinished = dataset::unfinished(root);
        if !unfinished.is_empty() {
            return Err(CheckError::Other(format!(
                "dataset {} was left half-written by an interrupted ingest ({}): a year may be missing; \
                 run `pedimento-audit audit` or `ingest` with write access to the dataset to recover it first",
                root.display(),
                unfinished.join(", ")
            )));
        }
        if let Some(dir) = &opts.profiles {
            crate::profile::check_dir(dir).map_err(|e| CheckError::Other(e.to_string()))?;
        }
        let mut tables = BTreeMap::new();
        let mut st = crate::timing::Stages::new("open_scoped");
        for t in super::partition::TABLES {
            let lf = match &scope.rows {
                // Materialized: the checks read these tables many times.
                Rows::Batch(dir) => scan_files(&super::partition::Partition::files(dir, t), t)?
                    .collect()?
                    .lazy(),
                Rows::Frames(frames) => match frames.get(t) {
                    Some(df) => df.clone().lazy(),
                    None => scan_files(&[], t)?,
                },
                Rows::Dataset => scan_table(root, t)?,
            };
            tables.insert(t.to_string(), lf);
        }
        register_catalogs(&mut tables)?;
        // Every company of the dataset (the pairing needs to know whether a counterpart
        // company is present even when its pedimentos are filtered out).
        let rfcs_all = match &scope.dataset_rfcs {
            Some(rfcs) => rfcs.clone().lazy(),
            None => tables["pedimentos"]
                .clone()
                .select([col("rfc")])
                .unique(None, UniqueKeepStrategy::Any),
        };
        tables.insert("dataset_rfcs".into(), rfcs_all);
        if scope.virtual_only {
            keep_virtual(&mut tables)?;
        }
        st.mark("tables");
        if let (Some(companies), Rows::Dataset) = (&scope.companies, &scope.rows) {
            keep_companies(&mut tables, companies)?;
        }
        let as_of = match opts.as_of {
            Some(d) => d,
            None => {
                let df = tables["pedimentos"]
                    .clone()
                    .select([col("fecha_pago").max()])
                    .collect()?;
                let v = df.column("fecha_pago")?.get(0)?;
                match v {
                    AnyValue::Date(days) => crate::model::from_date32(days),
                    _ => return Err(CheckError::NoDataset(root.to_path_buf())),
                }
            }
        };
        st.mark("scope");
        register_profiles(&mut tables, &opts, scope)?;
        let mut ctx = AuditContext {
            root: root.to_path_buf(),
            opts,
            as_of,
            tables,
            scope: scope.companies.clone(),
            shared: Default::default(),
            spilled: vec![],
        };
        // The ledger views are computed natively (ledger_native.rs) when the context is
        // materialized; lazy contexts (few rows read, or none) keep every view as a plan.
        let mut native_balances: Option<DataFrame> = None;
        // A batch keeps `ledger_movements` in its scratch folder once the native ledger
        // has read it: after the ledger only DESCARGO-EXCESS, -UNIT and -NO-BOM read it
        // (their few discharge rows and the imports' units), and holding it (~290 MB at
        // 626 k movements, 33 columns) beside the ledger tables made the batch's checks
        // peak 2.05 GB on a one-company history with a bill of materials on every product.
        let spill_dir = match (&scope.rows, scope.lazy_views || scope.virtual_only) {
            (Rows::Batch(dir), false) => Some(dir),
            _ => None,
        };
        for (name, file, text) in super::VIEWS {
            // The pairing reads only current_pedimentos; planning the ledger views, even
            // lazily, runs parts of them (polars SQL): 24 s and the run's peak memory in
            // the cross-company pass of a 235k-partida batched audit (dev build).
            if scope.virtual_only && *name != "current_pedimentos" {
                continue;
            }
            let _t = crate::timing::Timer::new(name);
            let lf = if scope.lazy_views {
                ctx.sql_lazy(text, file)?
            } else if *name == "ledger_allocations" {
                let native = match spill_dir {
                    // Written while the ledger runs: most of the ledger's loops run on one
                    // core (the spill alone took 0.18 s of each 10 M-partida batch).
                    Some(dir) => {
                        ctx.spill_during("ledger_movements", dir, AuditContext::native_ledger)?
                    }
                    None => ctx.native_ledger()?,
                };
                match native {
                    Some(v) => {
                        native_balances = Some(v.balances);
                        v.allocations.lazy()
                    }
                    None => ctx.sql(text, file)?.lazy(),
                }
            } else if let Some(b) = (*name == "ledger_balances")
                .then(|| native_balances.take())
                .flatten()
            {
                b.lazy()
            } else {
                let mut df = ctx.sql(text, file)?;
                // One chunk per column (the UNION ALL of imports and discharges gives two):
                // the native ledger reads them as slices, and rechunking here, while this
                // frame is their only owner, replaces each column instead of copying it
                // beside the stored one.
                df.rechunk_mut();
                df.lazy()
            };
            ctx.tables.insert(name.to_string(), lf);
        }
        Ok(ctx)
    }

    /// Moves the materialized view `name` to a Parquet file in `dir` (a batch's scratch
    /// folder) and registers a scan of it instead: the checks then decode only the
    /// columns and rows they read, when they read them, instead of the batch holding the
    /// whole table from the ledger to the end of its checks. The file is written on a
    /// thread of its own while `work` runs (on the context as it was, the view in memory).
    fn spill_during<T>(
        &mut self,
        name: &str,
        dir: &Path,
        work: impl FnOnce(&Self) -> Result<T, CheckError>,
    ) -> Result<T, CheckError> {
        let path = dir.join(format!("view-{name}.parquet"));
        let mut df = self.table(name).collect()?;
        self.spilled.push(path.clone());
        let this = &*self;
        let (written, out) = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let _t = crate::timing::Timer::new("view spill");
                super::write_frame(&mut df, &path)
            });
            let out = work(this);
            (writer.join(), out)
        });
        written.map_err(|_| {
            CheckError::Other(format!("writing {}: thread panicked", path.display()))
        })??;
        drop(df);
        let out = out?;
        let scan = LazyFrame::scan_parquet(
            PlRefPath::new(path.to_string_lossy().to_string()),
            ScanArgsParquet::default(),
        )?;
        self.tables.insert(name.to_string(), scan);
        Ok(out)
    }

    /// This context's virtual-operation pedimentos (claves V1..V9) and their rows, by table
    /// of [`super::partition::TABLES`]: the company batches collect them for the
    /// cross-company pass ([`Rows::Frames`]), which then reads no dataset file.
    pub fn virtual_rows(&self) -> Result<BTreeMap<String, DataFrame>, CheckError> {
        let mut t: Tables = super::partition::TABLES
            .iter()
            .map(|n| (n.to_string(), self.table(n)))
            .collect();
        keep_virtual(&mut t)?;
        t.into_iter()
            .map(|(k, lf)| Ok((k, lf.collect()?)))
            .collect()
    }

    /// `ledger_allocations` and `ledger_balances` computed natively from the materialized
    /// `ledger_movements` (see [`super::ledger_native`]), or None when the data breaks an
    /// assumption of the native path (then the SQL runs).
    pub fn native_ledger(&self) -> Result<Option<super::ledger_native::Views>, CheckError> {
        let mov = self.table("ledger_movements").collect()?;
        let descargos = self
            .table("descargos")
            .select([
                col("pedimento_id"),
                col("original_id"),
                col("original_fraccion"),
                col("cantidad"),
            ])
            .collect()?;
        // A descargo naming a rectified pedimento applies to the version in force
        // (ledger_allocations.sql, rect / desc_cur: up to three rectifications deep).
        let rect = self
            .table("pedimentos")
            .filter(col("rectifica_id").is_not_null())
            .group_by([col("rectifica_id")])
            .agg([col("pedimento_id").min().alias("new_id")])
            .collect()?;
        let descargos = if rect.height() == 0 {
            descargos
        } else {
            let mut lf = descargos
                .lazy()
                .with_column(col("original_id").alias("cur_id"));
            for _ in 0..3 {
                lf = lf
                    .join(
                        rect.clone().lazy(),
                        [col("cur_id")],
                        [col("rectifica_id")],
                        JoinArgs::new(JoinType::Left),
                    )
                    .select([
                        col("pedimento_id"),
                        col("original_fraccion"),
                        col("cantidad"),
                        when(col("new_id").is_not_null())
                            .then(col("new_id"))
                            .otherwise(col("cur_id"))
                            .alias("cur_id"),
                    ]);
            }
            lf.select([
                col("pedimento_id"),
                col("cur_id").alias("original_id"),
                col("original_fraccion"),
                col("cantidad"),
            ])
            .collect()?
        };
        // Destruction records that name their import pedimento are explicit descargos too
        // (ledger_allocations.sql, exp_req).
        let named = self
            .table("desperdicios")
            .filter(col("pedimento").is_not_null())
            .select([
                (lit("ACTA ") + col("acta")).alias("pedimento_id"),
                col("pedimento").alias("original_id"),
                col("fraccion").alias("original_fraccion"),
                col("cantidad"),
            ])
            .collect()?;
        let descargos = if named.height() == 0 {
            descargos
        } else {
            let named = named
                .lazy()
                .with_columns([col("cantidad").cast(descargos.column("cantidad")?.dtype().clone())])
                .collect()?;
            descargos.vstack(&named)?
        };
        let plazos = self.table("plazos").collect()?;
        let inputs = super::ledger_native::Inputs {
            descargos: &descargos,
            plazos: &plazos,
            as_of: self.as_of,
            expiring_days: self.opts.expiring_days,
        };
        Ok(super::ledger_native::compute(&mov, &inputs)?)
    }

    /// Plans SQL against the registered tables without running it.
    pub fn sql_lazy(&self, text: &str, file: &str) -> Result<LazyFrame, CheckError> {
        self.sql_lazy_with(text, file, &[])
    }

    /// [`Self::sql_lazy`] with extra tables registered for this query only.
    pub fn sql_lazy_with(
        &self,
        text: &str,
        file: &str,
        extra: &[(&str, LazyFrame)],
    ) -> Result<LazyFrame, CheckError> {
        let mut c = SQLContext::new();
        for (name, lf) in &self.tables {
            c.register(name, lf.clone());
        }
        for (name, lf) in extra {
            c.register(name, lf.clone());
        }
        c.execute(&self.render(text))
            .map_err(CheckError::query(file))
    }

    /// Runs SQL against the registered tables; errors name the query file.
    pub fn sql(&self, text: &str, file: &str) -> Result<DataFrame, CheckError> {
        self.sql_with(text, file, &[])
    }

    /// [`Self::sql`] with extra tables registered for this query only.
    pub fn sql_with(
        &self,
        text: &str,
        file: &str,
        extra: &[(&str, LazyFrame)],
    ) -> Result<DataFrame, CheckError> {
        self.sql_lazy_with(text, file, extra)?
            .collect()
            .map_err(CheckError::query(file))
    }

    /// Substitutes the run parameters in a query: `${as_of}` becomes
    /// `CAST('YYYY-MM-DD' AS DATE)` and `${expiring_days}` an integer (the same text runs
    /// on DuckDB through `bench/crossengine.py`).
    pub fn render(&self, text: &str) -> String {
        render(text, self.as_of, self.opts.expiring_days)
    }

    /// The Rust shared table `name` ([`super::shared::TABLES`]), computed on first use and
    /// kept for the life of the context. No lock is held while computing (a rayon worker
    /// waiting inside polars may run another check that asks for the same table: it then
    /// computes it too, and the first value stored wins; [`super::run`] computes the tables
    /// before the checks that need them start, so this does not happen in a run).
    pub fn shared<T: std::any::Any + Send + Sync>(
        &self,
        name: &'static str,
    ) -> Result<std::sync::Arc<T>, CheckError> {
        self.shared_value(name)?
            .downcast::<T>()
            .map_err(|_| CheckError::Other(format!("shared table {name}: unexpected type")))
    }

    /// [`Self::shared`], untyped.
    pub fn shared_value(&self, name: &'static str) -> Result<super::shared::Value, CheckError> {
        let lock = || self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = lock().get(name) {
            return Ok(v.clone());
        }
        let def = super::shared::find(name)
            .ok_or_else(|| CheckError::Other(format!("no shared table {name}")))?;
        let super::shared::TableKind::Rust(compute) = def.kind else {
            return Err(CheckError::Other(format!(
                "shared table {name} is a SQL view: read it with `table`"
            )));
        };
        let _t = crate::timing::Timer::new(name);
        let v = compute(self)?;
        Ok(lock().entry(name).or_insert(v).clone())
    }

    pub fn table(&self, name: &str) -> LazyFrame {
        self.tables[name].clone()
    }

    /// Keeps only findings about `--company` when one was given, and only rows about the
    /// companies of this context's scope (checks driven by profiles may list others).
    pub fn filter_company(&self, df: DataFrame) -> PolarsResult<DataFrame> {
        let df = self.filter_scope(df)?;
        match &self.opts.company {
            None => Ok(df),
            Some(rfc) => df.lazy().filter(col("rfc").eq(lit(rfc.clone()))).collect(),
        }
    }

    /// Keeps the rows of `df` (which has an `rfc` column) about this context's companies.
    pub fn filter_scope(&self, df: DataFrame) -> PolarsResult<DataFrame> {
        match &self.scope {
            None => Ok(df),
            Some(companies) => {
                let keep = df!("rfc" => companies.clone())?.lazy();
                df.lazy()
                    .join(
                        keep,
                        [col("rfc")],
                        [col("rfc")],
                        JoinArgs::new(JoinType::Inner),
                    )
                    .collect()
            }
        }
    }
}

/// See [`AuditContext::render`].
pub fn render(text: &str, as_of: NaiveDate, expiring_days: i64) -> String {
    text.replace("${as_of}", &format!("CAST('{as_of}' AS DATE)"))
        .replace("${expiring_days}", &expiring_days.to_string())
}
