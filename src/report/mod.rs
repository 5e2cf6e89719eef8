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
use model::{BuildOptions, Index, Meta, Period, ReportData};
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

/// Runs the audit ([`crate::audit::run`], all checks, default memory budget) and writes its
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
        batching: crate::checks::Batching::MemoryMb(crate::memory::default_budget_mb()),
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

/// Builds the in-memory reports (one per company) without writing anything.
pub fn build_all(a: &ReportArgs) -> Result<Vec<ReportData>, ReportError> {
    let unfinished = crate::dataset::unfinished(&a.dataset);
    if !unfinished.is_empty() {
        return Err(ReportError::HalfWritten {
            dataset: a.dataset.clone(),
            entries: unfinished.join(", "),
        });
    }
    if a.run_audit {
        run_audit(a)?;
    }
    // The audit folder must be one audit's output (see `manifest`); folders without a
    // manifest are accepted here (library callers), the CLI requires one.
    manifest::verify(&a.audit, false)?;
    let inputs = load::load(&a.dataset, &a.audit)?;
    let ix = Index::new(&inputs);
    let years = &inputs.dataset_years;
    let period = match (a.year, a.from, a.to) {
        (Some(y), _, _) => Period { from: y, to: y },
        (None, f, t) => Period {
            from: f.unwrap_or(years[0]),
            to: t.unwrap_or(years[years.len() - 1]),
        },
    };
    if period.from > period.to {
        return Err(ReportError::Period(format!(
            "--from {} is after --to {}",
            period.from, period.to
        )));
    }
    if !(1900..=9999).contains(&period.from) || !(1900..=9999).contains(&period.to) {
        return Err(ReportError::Period(format!(
            "years must be 1900..=9999, got {}",
            period.label()
        )));
    }
    let found = inputs.findings.iter().map(|f| f.as_of).max();
    let as_of = match (a.as_of, found) {
        (Some(w), Some(f)) if w != f => {
            return Err(ReportError::AsOfMismatch {
                audit: a.audit.clone(),
                found: f,
                wanted: w,
            });
        }
        (Some(w), _) => w,
        (None, Some(f)) => f,
        // No findings at all: the audit's default, the latest payment date.
        (None, None) => inputs
            .pedimentos
            .iter()
            .map(|p| p.fecha_pago)
            .max()
            .unwrap_or(period.end()),
    };
    let companies = ix.companies();
    let selected = match &a.company {
        Some(c) => {
            let c = c.trim().to_uppercase();
            if !companies.contains(&c) {
                return Err(ReportError::UnknownCompany(c, companies.join(", ")));
            }
            vec![c]
        }
        None => companies,
    };
    // A period without data for a company is an error (with --company) or that company is
    // left out (without), never an empty report.
    let has_data = |rfc: &str| {
        inputs.pedimentos.iter().any(|p| {
            p.rfc == rfc && (period.contains(p.fecha_pago) || period.contains(p.fecha_operacion))
        }) || inputs
            .findings
            .iter()
            .any(|f| f.rfc == rfc && f.period_start.is_some_and(|d| period.contains(d)))
    };
    let years_of = |rfc: &str| {
        let mut ys: Vec<i32> = inputs
            .pedimentos
            .iter()
            .filter(|p| p.rfc == rfc)
            .map(|p| chrono::Datelike::year(&p.fecha_pago))
            .collect();
        ys.sort();
        ys.dedup();
        ys.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
    };
    let (selected, empty): (Vec<String>, Vec<String>) =
        selected.into_iter().partition(|rfc| has_data(rfc));
    if selected.is_empty() {
        let who = if a.company.is_some() {
            empty.join(", ")
        } else {
            "any company".to_string()
        };
        let have = if a.company.is_some() {
            format!("; years with data: {}", years_of(&empty[0]))
        } else {
            format!("; years in the dataset: {years:?}")
        };
        return Err(ReportError::NoData(format!(
            "{who} in {}{have}: choose another --year or --from/--to",
            period.label()
        )));
    }
    for rfc in &empty {
        eprintln!(
            "note: {rfc} has no data in {} (years with data: {}); no report for it",
            period.label(),
            years_of(rfc)
        );
    }
    Ok(selected
        .iter()
        .map(|rfc| {
            model::build(
                &ix,
                BuildOptions {
                    rfc,
                    period,
                    as_of,
                    meta: Meta {
                        lang: a.lang,
                        tool_version: env!("CARGO_PKG_VERSION").to_string(),
                        command: command(a, rfc, period, as_of),
                        dataset: a.dataset.display().to_string(),
                        audit: a.audit.display().to_string(),
                    },
                    sample: a.sample.map(|n| (n, a.seed)),
                },
            )
        })
        .collect())
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
    put(
        "report.md",
        before_last(
            markdown::render(d),
            "\n## ",
            format!("\n{}\n", regularization::markdown(d, rates).trim_end()),
        ),
    )?;
    regularization::write(d, rates, &dir.join("regularizacion.csv"))?;
    put("findings.json", json::render(d))?;
    csv::write(d, &dir.join("findings.csv"))?;
    parquet::write(d, &dir.join("findings.parquet"))?;
    saldos::write(d, &dir.join("saldos.csv"))?;
    kardex::write(&d.kardex, d.meta.lang, &dir.join("kardex.csv"))?;
    rejects::write(&d.rejects, d.meta.lang, &dir.join("rejects.csv"))?;
    index::write_summary(d, dir)?;
    xlsx::write(d, rates, &dir.join("report.xlsx"))?;
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
    let reports = build_all(a)?;
    let rates = regularization::Rates::with_profiles(a.profiles.as_deref())?;
    let mut out = vec![];
    progress.begin(Stage::Report, reports.len() as u64, Unit::Reports);
    for d in &reports {
        let dir = a.out.join(&d.rfc).join(d.period.label());
        write_one_with(d, &dir, &rates)?;
        progress.advance(1);
        out.push(Written {
            rfc: d.rfc.clone(),
            dir,
            findings: d.findings.len(),
        });
    }
    progress.end();
    index::write(&a.out, a.lang)?;
    Ok(out)
}
