//! Reports: one writer per format behind one in-memory [`model::ReportData`].
//!
//! A report never recomputes a check: it reads the audit output folder
//! (`findings.parquet`, `ledger_balances.parquet`, `ledger_allocations.parquet`, and
//! `cert_ratio_series.parquet` / `cert_assessment.parquet` when present), the dataset's
//! pedimento headers and the ingest manifests ([`load`]), builds one [`model::ReportData`]
//! per company and period ([`model::build`]), and hands it to each writer:
//!
//! | file | writer |
//! |---|---|
//! | `report.html` | [`html`] (inline CSS, hand-written SVG charts from [`svg`]) |
//! | `report.md` | [`markdown`] |
//! | `findings.csv` | [`csv`] |
//! | `findings.json` | [`json`] |
//! | `findings.parquet` | [`parquet`] |
//! | `saldos.csv` | [`saldos`] (open temporary-import balances at the as-of date) |
//! | `rejects.csv` | [`rejects`] (rows ingest rejected: file, line, field, reason; dataset-wide) |
//! | `summary.json` | [`index`] (headline numbers; `<out>/index.html` lists every report) |
//! | `kardex.csv` | [`kardex`] (per good: entradas, salidas by kind, running saldo) |
//! | `report.xlsx` | [`xlsx`] (findings, saldos, vencimientos, certification, ratio series) |
//! | `sample.csv` | [`sample`] (with `--sample N`) |
//!
//! Output: `<out>/<RFC>/<year>/` or `<out>/<RFC>/<from>-<to>/`. Formats: `docs/report-formats.md`.

pub mod csv;
pub mod format;
pub mod groups;
pub mod html;
pub mod index;
pub mod json;
pub mod kardex;
pub mod load;
/// The audit's output manifest (moved to [`crate::audit::manifest`]; kept here by name).
pub use crate::audit::manifest;
pub mod markdown;
pub mod model;
pub mod parquet;
pub mod plan;
pub mod regularization;
pub mod rejects;
pub mod saldos;
pub mod sample;
pub mod svg;
pub mod tables;
pub mod trace;
pub mod xlsx;

use crate::model::lang::Lang;
use chrono::NaiveDate;
use model::{Period, ReportData};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Dataset folder (read for pedimento headers and ingest manifests).
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Findings produced by `audit` (its --out folder).
    #[arg(long, default_value = "out/audit")]
    pub audit: PathBuf,
    /// Output folder; reports go to <out>/<RFC>/<year or from-to>/.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Only this company (RFC); default: every company in the dataset or the findings.
    #[arg(long)]
    pub company: Option<String>,
    /// One calendar year.
    #[arg(long, conflicts_with_all = ["from", "to"], value_parser = clap::value_parser!(i32).range(1900..=9999))]
    pub year: Option<i32>,
    /// First year of a multi-year report (default: first year in the dataset).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1900..=9999))]
    pub from: Option<i32>,
    /// Last year of a multi-year report (default: last year in the dataset).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1900..=9999))]
    pub to: Option<i32>,
    /// Evaluation date the findings must have (YYYY-MM-DD); with --run-audit, the audit's
    /// --as-of. Default: the as-of date stored in findings.parquet. Same formats as ingest
    /// (2022-12-31, 31/12/2022, ...).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Draw a stratified sample of N pedimentos for the auditor (sample.csv).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of the sample's PRNG.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run the audit first (all checks) and write its output to --audit.
    #[arg(long)]
    pub run_audit: bool,
    /// Company profile folder, for --run-audit.
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// Language of the report: es (Spanish, default) or en (English). Data columns
    /// (check_code, severity codes, ISO dates in CSV/Parquet/JSON) do not change.
    #[arg(long, value_enum, default_value_t = Lang::Es)]
    pub lang: Lang,
    /// Memory budget in MiB (same meaning as on `audit`): companies are reported in
    /// groups, each reading only its own rows, sized so that a group fits. Default: three
    /// quarters of the machine's available memory, at most 2048. Also the budget of
    /// --run-audit.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub memory_mb: Option<u64>,
}

/// Parses a date in any format ingest accepts (`2022-12-31`, `2022/12/31`, `31/12/2022`,
/// `31122022`, `20221231...`), for `--as-of` (clap value parser).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    crate::model::date(s).map_err(|e| e.to_string())
}

impl ReportArgs {
    /// Defaults as clap would set them, for library callers and tests.
    pub fn new(dataset: &Path, audit: &Path, out: &Path) -> ReportArgs {
        ReportArgs {
            dataset: dataset.into(),
            audit: audit.into(),
            out: out.into(),
            company: None,
            year: None,
            from: None,
            to: None,
            as_of: None,
            sample: None,
            seed: 1,
            run_audit: false,
            profiles: None,
            lang: Lang::Es,
            memory_mb: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "no findings.parquet in {0}: run `pedimento-audit audit --out {0}` first, or pass --run-audit"
    )]
    NoAudit(PathBuf),
    #[error("no dataset at {0}: run `pedimento-audit ingest <files> --dataset {0}` first")]
    NoDataset(PathBuf),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Polars { path: PathBuf, reason: String },
    #[error("{path}: no column '{column}' (found: {found})")]
    Column {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{path}: row {row}, column {column}: unreadable value '{value}'")]
    Value {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
    },
    #[error("{path}: bad ingest manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Csv { path: PathBuf, reason: String },
    #[error("{path}: cannot write the Excel workbook: {reason}")]
    Xlsx { path: PathBuf, reason: String },
    #[error("unknown company '{0}'; companies in the data: {1}")]
    UnknownCompany(String, String),
    #[error("bad period: {0}")]
    Period(String),
    #[error(
        "dataset {dataset} was left half-written by an interrupted ingest ({entries}): a year may be missing; \
         run `pedimento-audit report` or `ingest` with write access to the dataset to recover it first"
    )]
    HalfWritten { dataset: PathBuf, entries: String },
    #[error("no data for {0}")]
    NoData(String),
    #[error(
        "findings in {audit} were evaluated as of {found}, not {wanted}: re-run the audit with --as-of {wanted} (or pass --run-audit)"
    )]
    AsOfMismatch {
        audit: PathBuf,
        found: NaiveDate,
        wanted: NaiveDate,
    },
    #[error("audit failed: {0}")]
    Audit(#[from] crate::checks::CheckError),
    /// The audit folder (its manifest or its files).
    #[error(transparent)]
    AuditFolder(crate::audit::AuditError),
    /// A dataset file read column by column (see [`groups`]).
    #[error(transparent)]
    Dataset(crate::dataset::DatasetError),
}

impl From<crate::audit::AuditError> for ReportError {
    fn from(e: crate::audit::AuditError) -> ReportError {
        match e {
            crate::audit::AuditError::Check(c) => ReportError::Audit(c),
            other => ReportError::AuditFolder(other),
        }
    }
}

impl ReportError {
    pub fn polars(path: &Path, e: impl std::fmt::Display) -> ReportError {
        ReportError::Polars {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
    pub fn csv(path: &Path, e: impl std::fmt::Display) -> ReportError {
        ReportError::Csv {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
        move |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What one `report` run wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub rfc: String,
    pub dir: PathBuf,
    pub findings: usize,
}

/// Runs the audit ([`crate::audit::run`], all checks, the run's memory budget) and writes its
/// outputs into `audit` (what `pedimento-audit audit --out <audit>` writes).
pub fn run_audit(a: &ReportArgs) -> Result<(), ReportError> {
    let cfg = crate::audit::AuditConfig {
        dataset: a.dataset.clone(),
        out: a.audit.clone(),
        options: crate::checks::AuditOptions {
            as_of: a.as_of,
            profiles: a.profiles.clone(),
            ..Default::default()
        },
        checks: crate::checks::REGISTRY.iter().collect(),
        batching: crate::checks::Batching::MemoryMb(plan::budget_mb(a)),
        tool: "pedimento-audit report --run-audit".into(),
    };
    crate::audit::run(&cfg)?;
    Ok(())
}

/// The shell command that reproduces one report.
fn command(a: &ReportArgs, rfc: &str, period: Period, as_of: NaiveDate) -> String {
    let q = |p: &Path| {
        let s = p.display().to_string();
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:".contains(c))
        {
            s
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut c = format!(
        "pedimento-audit report --dataset {} --audit {} --out {} --company {}",
        q(&a.dataset),
        q(&a.audit),
        q(&a.out),
        rfc
    );
    if period.from == period.to {
        c += &format!(" --year {}", period.from);
    } else {
        c += &format!(" --from {} --to {}", period.from, period.to);
    }
    c += &format!(" --as-of {as_of} --lang {}", a.lang);
    if let Some(n) = a.sample {
        c += &format!(" --sample {n} --seed {}", a.seed);
    }
    if a.run_audit {
        c += " --run-audit";
        if let Some(p) = &a.profiles {
            c += &format!(" --profiles {}", q(p));
        }
    }
    c
}

/// Builds the in-memory reports (one per company) without writing anything; every
/// report at once (library callers and tests; [`run`] writes each as it is built).
pub fn build_all(a: &ReportArgs) -> Result<Vec<ReportData>, ReportError> {
    let mut out = vec![];
    plan::Plan::new(a)?.build_each(a, |d| {
        out.push(d);
        Ok(())
    })?;
    Ok(out)
}

/// Writes every file of one report into `dir`.
pub fn write_one(d: &ReportData, dir: &Path) -> Result<(), ReportError> {
    write_one_with(d, dir, &regularization::Rates::vendored())
}

/// [`write_one`] with the INPC / recargo tables of the regularization estimate (the
/// vendored ones plus a profile's `inpc.csv`).
pub fn write_one_with(
    d: &ReportData,
    dir: &Path,
    rates: &regularization::Rates,
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::io(dir))?;
    let mut st = crate::timing::Stages::new("report write");
    let put = |name: &str, text: String| -> Result<(), ReportError> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(ReportError::io(&p))
    };
    // The regularization section goes before the last section (notes).
    let before_last = |doc: String, marker: &str, section: String| match doc.rfind(marker) {
        Some(i) => format!("{}{section}{}", &doc[..i], &doc[i..]),
        None => doc + &section,
    };
    put(
        "report.html",
        before_last(html::render(d), "<h2>", regularization::html(d, rates)),
    )?;
    st.mark("html");
    put(
        "report.md",
        before_last(
            markdown::render(d),
            "\n## ",
            format!("\n{}\n", regularization::markdown(d, rates).trim_end()),
        ),
    )?;
    st.mark("markdown");
    regularization::write(d, rates, &dir.join("regularizacion.csv"))?;
    put("findings.json", json::render(d))?;
    csv::write(d, &dir.join("findings.csv"))?;
    parquet::write(d, &dir.join("findings.parquet"))?;
    saldos::write(d, &dir.join("saldos.csv"))?;
    kardex::write(&d.kardex, d.meta.lang, &dir.join("kardex.csv"))?;
    rejects::write(&d.rejects, d.meta.lang, &dir.join("rejects.csv"))?;
    index::write_summary(d, dir)?;
    st.mark("csv, json, parquet, kardex");
    xlsx::write(d, rates, &dir.join("report.xlsx"))?;
    st.mark("xlsx");
    if let Some(s) = &d.sample {
        sample::write_csv(s, &dir.join("sample.csv"))?;
    }
    Ok(())
}

/// The `report` subcommand.
pub fn run(a: &ReportArgs) -> Result<Vec<Written>, ReportError> {
    run_with(a, &Default::default())
}

/// [`run`], reporting one step per report written to `progress`.
pub fn run_with(
    a: &ReportArgs,
    progress: &crate::model::progress::ProgressHandle,
) -> Result<Vec<Written>, ReportError> {
    use crate::model::progress::{Stage, Unit};
    let plan = plan::Plan::new(a)?;
    let rates = regularization::Rates::with_profiles(a.profiles.as_deref())?;
    let mut out = vec![];
    progress.begin(Stage::Report, plan.reports() as u64, Unit::Reports);
    // Each report is written as soon as it is built and dropped: one company's report
    // and one group's rows in memory at a time.
    plan.build_each(a, |d| {
        let dir = a.out.join(&d.rfc).join(d.period.label());
        write_one_with(&d, &dir, &rates)?;
        progress.advance(1);
        out.push(Written {
            rfc: d.rfc.clone(),
            dir,
            findings: d.findings.len(),
        });
        Ok(())
    })?;
    progress.end();
    index::write(&a.out, a.lang)?;
    Ok(out)
}
