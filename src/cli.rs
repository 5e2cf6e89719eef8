//! clap structs and the thin glue from arguments to library calls.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use comfy_table::{CellAlignment, ContentArrangement, Table};
use pedaudit::model::lang::Lang;
use pedaudit::{checks, dataset, findings, generate, ingest, report};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "pedimento-audit",
    version,
    about = "Compliance auditor for Mexican customs filings (pedimentos)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Generate a synthetic multi-company history (Data Stage files, CSV, profiles).
    Generate(GenerateArgs),
    /// Ingest Data Stage (.asc) and CSV files into the Parquet dataset.
    Ingest(IngestArgs),
    /// Run the compliance checks and write findings.parquet.
    Audit(AuditArgs),
    /// Write reports (HTML, Markdown, CSV, JSON, Parquet) from the dataset and findings.
    Report(report::ReportArgs),
    /// Follow one pedimento: what it imported, what discharged it, what is open, and every
    /// finding that cites it.
    Trace(report::trace::TraceArgs),
    /// Print every rule version the product knows (the text of docs/rules.md).
    Rules {
        /// es (Spanish, default) or en (English).
        #[arg(long, value_enum, default_value_t = Lang::Es)]
        lang: Lang,
    },
    /// Explain a check: what it finds, why it matters, its legal basis.
    Explain {
        code: String,
        /// es (Spanish, default) or en (English).
        #[arg(long, value_enum, default_value_t = Lang::Es)]
        lang: Lang,
    },
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Output folder.
    #[arg(long, default_value = "out/generated")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 4)]
    pub companies: usize,
    #[arg(long, default_value_t = 2020)]
    pub start_year: i32,
    #[arg(long, default_value_t = 3)]
    pub years: i32,
    /// Approximate number of partidas.
    #[arg(long, default_value_t = 5000)]
    pub partidas: usize,
    /// Violations to inject (comma-separated): expired, excess, unit, virtual-unpaired,
    /// virtual-mismatch, virtual-late.
    #[arg(long, value_delimiter = ',', value_parser = parse_violation)]
    pub inject: Vec<generate::Violation>,
    /// What to write (dataset = Parquet directly).
    #[arg(long, value_enum, default_value_t = GenerateFormat::Datastage)]
    pub format: GenerateFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Datastage,
    Csv,
    Dataset,
    All,
}

/// `--fail-on` levels, worst first (the order of `findings::SEVERITIES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// The severities at or above this one, as written in findings.
    pub fn at_or_above(self) -> &'static [&'static str] {
        &findings::SEVERITIES[..=self as usize]
    }
}

fn parse_violation(s: &str) -> Result<generate::Violation, String> {
    generate::Violation::parse(s.trim()).ok_or_else(|| {
        let valid: Vec<&str> = generate::Violation::ALL.iter().map(|v| v.name()).collect();
        format!("unknown violation '{s}'; valid: {}", valid.join(", "))
    })
}

/// A check code or group, validated against the registry (any case).
fn parse_check(s: &str) -> Result<String, String> {
    let s = s.trim().to_string();
    checks::select(std::slice::from_ref(&s))
        .map(|_| s)
        .map_err(|e| e.to_string())
}

#[derive(Args)]
pub struct IngestArgs {
    /// Input files or folders (Data Stage `<folio>_<tipo>.asc` and/or CSV).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Dataset folder.
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Re-parse files already ingested (same SHA-256).
    #[arg(long)]
    pub force: bool,
    /// Peak memory to aim for (MiB): Data Stage input larger than an eighth of it is
    /// parsed in shards of pedimentos, one after the other (the parse peaks at about 8
    /// bytes per byte of input).
    #[arg(long, default_value_t = ingest::DEFAULT_MEMORY_MB, value_parser = clap::value_parser!(u64).range(1..))]
    pub memory_mb: u64,
    /// Accept CSV quoted fields that span lines (RFC 4180). Off by default: an unclosed
    /// quote would swallow the following lines, so each such line is rejected instead.
    #[arg(long)]
    pub csv_multiline: bool,
    /// Language of the terminal output: es (Spanish, default) or en (English).
    #[arg(long, value_enum, default_value_t = Lang::Es)]
    pub lang: Lang,
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Evaluation date (2022-12-31, 31/12/2022 or any date format ingest accepts);
    /// default: latest payment date in the dataset.
    #[arg(long, value_parser = report::parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Only findings about this RFC (trimmed, uppercased, must be in the dataset).
    #[arg(long)]
    pub company: Option<String>,
    /// Check codes or groups (temp, data, ...); default all.
    #[arg(long, value_delimiter = ',', value_parser = parse_check)]
    pub check: Vec<String>,
    /// Company profile folder (programas.csv, ...).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// TEMP-EXPIRING window in days.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..=36500))]
    pub expiring_days: i64,
    /// Output folder for findings.parquet and the ledger tables.
    #[arg(long, default_value = "out/audit")]
    pub out: PathBuf,
    /// Peak memory to aim for (MiB; same meaning as ingest's): the audit plans its company
    /// batches from it, companies grouped by their row counts so that each batch fits.
    /// Default: three quarters of the machine's available memory, at most 2048.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub memory_mb: Option<u64>,
    /// Audit N companies at a time instead of planning batches from --memory-mb (0 = all
    /// at once). Same findings: the ledger and certification are per company; virtual
    /// pairing runs once across companies.
    #[arg(long)]
    pub batch_companies: Option<usize>,
    /// Exit 1 when a finding of this severity or worse exists.
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
    /// VIRTUAL-MISMATCH: flag a transfer whose two sides' values in USD differ by more
    /// than this percent of the larger (low severity; quantities are always compared).
    #[arg(long, default_value_t = pedaudit::checks::virtual_pairing::VALUE_TOLERANCE_PCT,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub virtual_value_tolerance: u32,
    #[command(flatten)]
    pub cert: CertArgs,
    /// Language of the terminal output: es (Spanish, default) or en (English).
    #[arg(long, value_enum, default_value_t = Lang::Es)]
    pub lang: Lang,
}

/// Readings of the certification rules where the text admits more than one (each choice
/// is recorded in the assessment's `options` column and in audit_manifest.json).
#[derive(Args, Clone, Debug)]
pub struct CertArgs {
    /// Value of each partida in the return ratio: declarado = valor en aduana of imports and
    /// valor comercial of exports/returns (what each pedimento declares; default).
    #[arg(long, value_enum, default_value = "declarado")]
    pub cert_value_basis: checks::cert::ValueBasis,
    /// AA-d/AAA-d: strict = fail if denied > 20% or > MXN 5M; both-exceeded = only if both.
    #[arg(long, value_enum, default_value = "strict")]
    pub cert_refunds: checks::cert::RefundReading,
    /// S-c headcount: ten-plus-twenty (>= 30 per bimestre) or twenty-each.
    #[arg(long, value_enum, default_value = "ten-plus-twenty")]
    pub cert_sc_headcount: checks::cert::ScHeadcount,
    /// AA-a/AAA-a supplier purchases without (sin-iva) or with IVA (con-iva).
    #[arg(long, value_enum, default_value = "sin-iva")]
    pub cert_supplier_value: checks::cert::SupplierValue,
    /// Manual (not verifiable) requirements block the verdict too.
    #[arg(long)]
    pub cert_manual_blocks: bool,
    /// Apply this certification rule version instead of the one in force on the as-of
    /// date (see `pedimento-audit rules`).
    #[arg(long, value_parser = parse_rule_version)]
    pub cert_rules: Option<&'static str>,
}

impl CertArgs {
    pub fn options(&self) -> checks::cert::CertOptions {
        checks::cert::CertOptions {
            value_basis: self.cert_value_basis,
            refunds: self.cert_refunds,
            sc_headcount: self.cert_sc_headcount,
            supplier_value: self.cert_supplier_value,
            manual_blocks_verdict: self.cert_manual_blocks,
            rule_version: self.cert_rules,
        }
    }
}

fn parse_rule_version(s: &str) -> Result<&'static str, String> {
    checks::cert_rules::by_id(s).map(|v| v.id).ok_or_else(|| {
        format!(
            "unknown rule version '{s}' (known: {})",
            checks::cert_rules::ids().join(", ")
        )
    })
}

pub fn generate(a: GenerateArgs) -> Result<i32> {
    let inject = a.inject.clone();
    let cfg = generate::Config {
        seed: a.seed,
        companies: a.companies,
        start_year: a.start_year,
        years: a.years,
        partidas: a.partidas,
        inject,
    };
    let t = Instant::now();
    use GenerateFormat as F;
    let fmt = a.format;
    if matches!(fmt, F::Datastage) {
        // Data Stage only: written as the rows are generated, in bounded memory.
        let dir = a.out.join("datastage");
        let (h, s) = generate::generate_datastage(&cfg, &dir)
            .with_context(|| format!("writing {}", dir.display()))?;
        let n = s.finish()?;
        eprintln!(
            "generated {} pedimentos, {} partidas in {:.1}s; wrote {n} Data Stage files under {}",
            s.pedimentos,
            s.partidas,
            t.elapsed().as_secs_f64(),
            dir.display()
        );
        generate::writers::write_profiles(&h, &a.out.join("profiles"))?;
        generate::cert_profiles::write_cert_profiles_streamed(&h, &s, &a.out.join("profiles"))?;
        generate::writers::write_injected(&h, &a.out.join("injected.csv"))?;
        return Ok(0);
    }
    let h = generate::generate(&cfg);
    let np: usize = h.years.values().map(|y| y.partidas.len()).sum();
    let nped: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    eprintln!(
        "generated {nped} pedimentos, {np} partidas in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    if matches!(fmt, F::Datastage | F::All) {
        let n = generate::writers::write_datastage(&h, &a.out.join("datastage"))?;
        eprintln!(
            "wrote {n} Data Stage files under {}",
            a.out.join("datastage").display()
        );
    }
    if matches!(fmt, F::Csv | F::All) {
        let p = a.out.join("pedimentos.csv");
        generate::writers::write_csv(&h, &p)?;
        eprintln!("wrote {}", p.display());
    }
    if matches!(fmt, F::Dataset | F::All) {
        let p = a.out.join("dataset");
        generate::writers::write_dataset(&h, &p)?;
        eprintln!("wrote dataset {}", p.display());
    }
    generate::writers::write_profiles(&h, &a.out.join("profiles"))?;
    generate::cert_profiles::write_cert_profiles(&h, &a.out.join("profiles"))?;
    generate::writers::write_injected(&h, &a.out.join("injected.csv"))?;
    Ok(0)
}

pub fn ingest(a: IngestArgs) -> Result<i32> {
    let t = Instant::now();
    let l = a.lang;
    match l {
        Lang::Es => eprintln!(
            "ingiriendo {} ruta(s) de entrada en {} ...",
            a.inputs.len(),
            a.dataset.display()
        ),
        Lang::En => eprintln!(
            "ingesting {} input path(s) into {} ...",
            a.inputs.len(),
            a.dataset.display()
        ),
    }
    let r = ingest::run_with(
        &a.inputs,
        &a.dataset,
        &ingest::IngestOptions {
            force: a.force,
            memory_mb: Some(a.memory_mb),
            progress: crate::cli_progress::handle(l),
        },
        &ingest::csv::CsvOptions {
            multiline: a.csv_multiline,
        },
    )
    .map_err(|e| not_writable(e, &a.dataset))?;
    for act in &r.recovered {
        eprintln!("{}: {act}", l.pick("recuperado", "recovered"));
    }
    let mut t1 = term_table(
        match l {
            Lang::Es => vec!["archivo", "tipo", "leídos", "aceptados", "rechazados"],
            Lang::En => vec!["file", "type", "read", "accepted", "rejected"],
        },
        &[2, 3, 4],
    );
    // Notes (reject kinds, skipped files) go under the table, one wrapped line a file.
    let mut notes = vec![];
    for f in &r.files {
        let note = match &f.skipped {
            Some(s) => l.phrase(s),
            None => f
                .rejected_by_reason
                .iter()
                .map(|(k, v)| format!("{}: {v}", l.phrase(k)))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let name = std::path::Path::new(&f.file)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        t1.add_row(vec![
            name.clone(),
            f.record_type.clone(),
            num(f.rows_read),
            num(f.accepted),
            num(f.rejected),
        ]);
        if !note.is_empty() {
            notes.push(format!("{name}: {note}"));
        }
    }
    println!("{t1}");
    for n in &notes {
        print_wrapped(n);
    }
    let mut t2 = term_table(
        match l {
            Lang::Es => vec![
                "año",
                "pedimentos",
                "partidas",
                "nuevos",
                "idénticos",
                "sustituidos",
            ],
            Lang::En => vec![
                "year",
                "pedimentos",
                "partidas",
                "new",
                "identical",
                "replaced",
            ],
        },
        &[1, 2, 3, 4, 5],
    );
    for (y, c) in &r.years {
        t2.add_row(vec![
            y.to_string(),
            num(c.pedimentos),
            num(c.partidas),
            num(c.new),
            num(c.identical),
            num(c.replaced),
        ]);
    }
    println!("{t2}");
    let secs = t.elapsed().as_secs_f64();
    let rate = r.rows_read as f64 / secs.max(1e-9);
    print_wrapped(&match l {
        Lang::Es => format!(
            "renglones leídos {} = aceptados {} + rechazados {}; rectificaciones que sustituyen a un original: {}; {:.2} s ({} renglones/s); ejecución {}",
            num(r.rows_read),
            num(r.accepted),
            num(r.rejected),
            num(r.superseded),
            secs,
            num(rate as u64),
            r.run_id
        ),
        Lang::En => format!(
            "rows read {} = accepted {} + rejected {}; rectificaciones superseding an original: {}; {:.2} s ({} rows/s); run {}",
            num(r.rows_read),
            num(r.accepted),
            num(r.rejected),
            num(r.superseded),
            secs,
            num(rate as u64),
            r.run_id
        ),
    });
    if r.rejected > 0 {
        print_wrapped(&format!(
            "{}: {}",
            l.pick(
                "renglones rechazados con archivo, línea, campo y motivo",
                "rejected rows with file, line, field and reason"
            ),
            a.dataset
                .join("rejects")
                .join(format!("{}.parquet", r.run_id))
                .display()
        ));
    }
    Ok(0)
}

/// Width of the terminal summaries (tables and sentences).
pub const TERM_WIDTH: usize = 80;

/// A terminal summary table: at most [`TERM_WIDTH`] columns (cells wrap), condensed
/// ASCII borders, the `right` columns (numbers) right-aligned.
fn term_table(header: Vec<&str>, right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(TERM_WIDTH as u16)
        .set_header(header);
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    t
}

/// A count with thousands separators.
fn num(n: impl ToString) -> String {
    report::format::thousands(&n.to_string())
}

/// `text` broken at spaces into lines of at most [`TERM_WIDTH`] characters (a word longer
/// than that, such as a long path, gets a line of its own); continuation lines indented.
fn wrap(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let mut cur = String::new();
    for w in text.split(' ') {
        let len = cur.chars().count();
        if !cur.trim().is_empty() && len + 1 + w.chars().count() > TERM_WIDTH {
            lines.push(std::mem::take(&mut cur));
            cur.push_str("  ");
        } else if !cur.is_empty() && !cur.ends_with("  ") {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.trim().is_empty() {
        lines.push(cur);
    }
    lines
}

fn print_wrapped(text: &str) {
    for l in wrap(text) {
        println!("{l}");
    }
}

/// An ingest error caused by a dataset folder the user cannot write (read-only mount,
/// permissions) says so, instead of "cannot read .lock".
fn not_writable(e: ingest::IngestError, root: &Path) -> anyhow::Error {
    use std::io::ErrorKind as K;
    let denied = |src: &std::io::Error| {
        matches!(src.kind(), K::PermissionDenied | K::ReadOnlyFilesystem)
            || src.raw_os_error() == Some(libc::EROFS)
    };
    let cause = match &e {
        ingest::IngestError::Read { path, source } if path.starts_with(root) && denied(source) => {
            Some(source.to_string())
        }
        ingest::IngestError::Dataset(dataset::DatasetError::Io { path, source })
            if path.starts_with(root) && denied(source) =>
        {
            Some(source.to_string())
        }
        _ => None,
    };
    match cause {
        Some(c) => anyhow::anyhow!(
            "dataset folder {} is not writable ({c}): ingest must create its lock file and year partitions there; \
             fix its permissions or mount, or pass a writable --dataset",
            root.display()
        ),
        None => e.into(),
    }
}

/// A dataset an ingest left half-swapped (`.tmp-*`, `.old-year=*`: killed between its two
/// renames) is recovered with the ingest's own recovery, under the ingest lock, before it
/// is read; when that is not possible (another ingest still running, read-only dataset)
/// the command refuses. Never reads a dataset with a year missing.
fn recover_dataset(root: &Path) -> Result<()> {
    let left = dataset::unfinished(root);
    if left.is_empty() {
        return Ok(());
    }
    let lock = match ingest::Lock::acquire(root) {
        Ok(l) => l,
        Err(e @ ingest::IngestError::Locked(..)) => {
            bail!(
                "{e}; its unfinished files ({}) are not readable yet",
                left.join(", ")
            )
        }
        Err(e) => bail!(
            "dataset {} was left half-written by an interrupted ingest ({}) and cannot be recovered here ({e}); \
             run `pedimento-audit ingest` on it with write access (it recovers first), then retry",
            root.display(),
            left.join(", ")
        ),
    };
    let actions = dataset::recover(root).with_context(|| {
        format!(
            "recovering dataset {} after an interrupted ingest",
            root.display()
        )
    })?;
    for act in &actions {
        eprintln!(
            "recovered: {act} (dataset {} after an interrupted ingest)",
            root.display()
        );
    }
    drop(lock);
    Ok(())
}

/// `--profiles` must be an existing folder; unknown files in it are warned about.
fn check_profiles(dir: Option<&Path>) -> Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    let unknown = pedaudit::profile::check_dir(dir)?;
    if !unknown.is_empty() {
        eprintln!(
            "warning: {}: unknown profile file(s) {} ignored; known names: {}",
            dir.display(),
            unknown.join(", "),
            pedaudit::profile::known_files().join(", ")
        );
    }
    Ok(())
}

/// Levenshtein distance (for "did you mean" lists of RFCs).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `--company`: trimmed and uppercased, and one of the dataset's companies (like
/// `report`); an unknown RFC is an error listing the closest ones.
fn normalize_company(root: &Path, c: &str) -> Result<String> {
    let rfc = c.trim().to_uppercase();
    if dataset::years(root).is_empty() {
        return Ok(rfc); // no dataset: the audit reports that
    }
    let known: Vec<String> = checks::company_batches(root, usize::MAX)?.concat();
    if known.contains(&rfc) {
        return Ok(rfc);
    }
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (distance(&rfc, k), k))
        .filter(|(d, _)| *d <= 3)
        .collect();
    close.sort();
    let hint = if close.is_empty() {
        String::new()
    } else {
        let c: Vec<&str> = close.iter().map(|(_, k)| k.as_str()).collect();
        format!("did you mean {}? ", c.join(", "))
    };
    let list: Vec<&str> = known.iter().take(30).map(String::as_str).collect();
    let more = if known.len() > 30 {
        format!(" (and {} more)", known.len() - 30)
    } else {
        String::new()
    };
    bail!(
        "unknown company '{rfc}' in dataset {}; {hint}companies in the dataset: {}{more}",
        root.display(),
        list.join(", ")
    )
}

pub fn audit(a: AuditArgs) -> Result<i32> {
    let t = Instant::now();
    // Every option is checked before any work (values by clap; paths and the RFC here).
    let selected = checks::select(&a.check)?;
    check_profiles(a.profiles.as_deref())?;
    if a.out.exists() && !a.out.is_dir() {
        bail!("--out {} is a file; it must be a folder", a.out.display());
    }
    recover_dataset(&a.dataset)?;
    let company = match &a.company {
        Some(c) => Some(normalize_company(&a.dataset, c)?),
        None => None,
    };
    let opts = checks::AuditOptions {
        as_of: a.as_of,
        company: company.clone(),
        expiring_days: a.expiring_days,
        profiles: a.profiles.clone(),
        cert: a.cert.options(),
        virtual_value_tolerance_pct: a.virtual_value_tolerance,
        progress: crate::cli_progress::handle(a.lang),
    };
    let cfg = pedaudit::audit::AuditConfig {
        dataset: a.dataset.clone(),
        out: a.out.clone(),
        options: opts,
        checks: selected.clone(),
        batching: match a.batch_companies {
            Some(n) => checks::Batching::Companies(n),
            None => checks::Batching::MemoryMb(
                a.memory_mb
                    .unwrap_or_else(pedaudit::memory::default_budget_mb),
            ),
        },
        tool: "pedimento-audit audit".into(),
    };
    let run = pedaudit::audit::run(&cfg)?;
    let df = run.findings;
    let fp = a.out.join("findings.parquet");
    // The certification table per company is printed when checks were asked for by name.
    if !a.check.is_empty() && run.files.iter().any(|f| f == "cert_assessment.parquet") {
        let table = pedaudit::audit::read_table(&a.out.join("cert_assessment.parquet"))?;
        print!("{}", checks::cert::render(&table)?);
        println!(
            "{}: {}",
            a.lang
                .pick("opciones de certificación", "certification options"),
            cfg.options.cert.describe()
        );
    }
    print_summary(&df, a.lang)?;
    print_wrapped(&match a.lang {
        Lang::Es => format!(
            "fecha de corte {}; {} hallazgos de {} revisiones ({} lote(s) de empresas) en {:.2}s; escritos en {}",
            a.lang.date(run.as_of),
            df.height(),
            selected.len(),
            run.batches,
            t.elapsed().as_secs_f64(),
            fp.display()
        ),
        Lang::En => format!(
            "as of {}; {} findings from {} checks ({} company batch(es)) in {:.2}s; written to {}",
            run.as_of,
            df.height(),
            selected.len(),
            run.batches,
            t.elapsed().as_secs_f64(),
            fp.display()
        ),
    });
    if let Some(level) = a.fail_on
        && explain_fail_on(&df, level, a.lang)?
    {
        return Ok(1);
    }
    Ok(0)
}

/// `--fail-on`: whether a finding at or above `level` exists; if so, says on stderr which
/// ones (count by check and severity, and a few examples) before the exit code 1.
fn explain_fail_on(df: &DataFrame, level: Severity, l: Lang) -> Result<bool> {
    let bad = level.at_or_above();
    let text = |c: &str| -> Result<Vec<Option<String>>> {
        let s = df.column(c)?.cast(&DataType::String)?;
        Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (code, sev, rfc, ped, msg) = (
        text("check_code")?,
        text("severity")?,
        text("rfc")?,
        text("pedimento_id")?,
        text(match l {
            Lang::Es => "mensaje",
            Lang::En => "message",
        })?,
    );
    let hits: Vec<usize> = (0..df.height())
        .filter(|&i| sev[i].as_deref().is_some_and(|s| bad.contains(&s)))
        .collect();
    if hits.is_empty() {
        return Ok(false);
    }
    let mut by: std::collections::BTreeMap<(usize, String), usize> = Default::default();
    for &i in &hits {
        let s = sev[i].clone().unwrap_or_default();
        let rank = findings::SEVERITIES
            .iter()
            .position(|x| *x == s)
            .unwrap_or(usize::MAX);
        *by.entry((rank, format!("{} {s}", code[i].as_deref().unwrap_or("?"))))
            .or_default() += 1;
    }
    match l {
        Lang::Es => eprintln!(
            "salida 1 (--fail-on {}): {} hallazgo(s) con severidad {} o mayor:",
            bad[bad.len() - 1],
            hits.len(),
            bad[bad.len() - 1]
        ),
        Lang::En => eprintln!(
            "exit 1 (--fail-on {}): {} finding(s) at severity {} or worse:",
            bad[bad.len() - 1],
            hits.len(),
            bad[bad.len() - 1]
        ),
    }
    for ((_, k), n) in &by {
        eprintln!("  {k}: {n}");
    }
    eprintln!("{}", l.pick("ejemplos:", "examples:"));
    for &i in hits.iter().take(5) {
        eprintln!(
            "  {} {} {} {}: {}",
            code[i].as_deref().unwrap_or(""),
            sev[i].as_deref().unwrap_or(""),
            rfc[i].as_deref().unwrap_or(""),
            ped[i].as_deref().unwrap_or("-"),
            msg[i].as_deref().unwrap_or("")
        );
    }
    Ok(true)
}

/// Counts and amounts by check and company.
pub fn print_summary(df: &DataFrame, l: Lang) -> Result<()> {
    let agg = df
        .clone()
        .lazy()
        .group_by([col("check_code"), col("rfc")])
        .agg([
            len().alias("n"),
            col("amount").sum().alias("amount"),
            (col("igi").fill_null(lit(0)).sum()
                + col("iva").fill_null(lit(0)).sum()
                + col("ieps").fill_null(lit(0)).sum())
            .alias("contributions"),
        ])
        .sort(["rfc", "check_code"], Default::default())
        .collect()?;
    // One table per company (80 columns hold four). No quantity column: a check's
    // findings mix units of measure (UMT), and a sum of kilos and pieces means nothing.
    // Amounts are all MXN.
    let new_table = || {
        term_table(
            match l {
                Lang::Es => vec!["revisión", "hallazgos", "monto MXN", "contribuciones MXN"],
                Lang::En => vec!["check", "findings", "amount MXN", "contributions MXN"],
            },
            &[1, 2, 3],
        )
    };
    let s = |c: &str, i: usize| -> Result<String> {
        let v = agg.column(c)?.get(i)?;
        // Text stays text (a one-row aggregate holds owned strings, which the
        // thousands formatter would split into "D,ESC,ARG,..."); numbers get separators.
        Ok(match v {
            AnyValue::Null => String::new(),
            ref x if x.get_str().is_some() => x.get_str().unwrap_or_default().to_string(),
            ref x if x.dtype().is_numeric() => report::format::any_number(x),
            other => other.to_string(),
        })
    };
    let mut current: Option<(String, Table)> = None;
    for i in 0..agg.height() {
        let rfc = s("rfc", i)?;
        if current.as_ref().is_none_or(|(r, _)| *r != rfc) {
            if let Some((r, t)) = current.take() {
                println!(
                    "{}: {r}\n{t}",
                    l.label(pedaudit::model::lang::Label::Company)
                );
            }
            current = Some((rfc.clone(), new_table()));
        }
        if let Some((_, t)) = current.as_mut() {
            t.add_row(vec![
                s("check_code", i)?,
                s("n", i)?,
                s("amount", i)?,
                s("contributions", i)?,
            ]);
        }
    }
    if let Some((r, t)) = current {
        println!(
            "{}: {r}\n{t}",
            l.label(pedaudit::model::lang::Label::Company)
        );
    }
    Ok(())
}

pub fn report(a: report::ReportArgs) -> Result<i32> {
    let t = Instant::now();
    if a.run_audit {
        check_profiles(a.profiles.as_deref())?;
    }
    if a.audit.exists() && !a.audit.is_dir() {
        bail!(
            "--audit {} is a file; it must be an audit's --out folder",
            a.audit.display()
        );
    }
    recover_dataset(&a.dataset)?;
    if !a.run_audit {
        // The CLI requires the manifest: a folder without one may mix runs.
        report::manifest::verify(&a.audit, true)?;
    }
    let written = report::run_with(&a, &crate::cli_progress::handle(a.lang))?;
    let l = a.lang;
    let mut table = term_table(
        match l {
            Lang::Es => vec!["empresa", "hallazgos", "carpeta"],
            Lang::En => vec!["company", "findings", "folder"],
        },
        &[1],
    );
    for w in &written {
        table.add_row(vec![
            w.rfc.clone(),
            num(w.findings),
            w.dir.display().to_string(),
        ]);
    }
    println!("{table}");
    print_wrapped(&format!(
        "{} {} {:.2} s",
        written.len(),
        l.pick("reporte(s) en", "report(s) in"),
        t.elapsed().as_secs_f64()
    ));
    Ok(0)
}

pub fn trace(a: report::trace::TraceArgs) -> Result<i32> {
    if !a.audit.join("findings.parquet").exists() {
        bail!(
            "no findings.parquet in {}: run `pedimento-audit audit --out {}` first",
            a.audit.display(),
            a.audit.display()
        );
    }
    let inputs = report::load::load(&a.dataset, &a.audit)?;
    let t = report::trace::build(&inputs, &a.pedimento, a.partida, a.lang)?;
    match a.format {
        report::trace::TraceFormat::Text => print!("{}", report::trace::render_text(&t)),
        report::trace::TraceFormat::Json => print!("{}", report::trace::render_json(&t)),
    }
    Ok(0)
}

pub fn explain(code: &str, lang: Lang) -> Result<i32> {
    match checks::find(code) {
        Some(c) => {
            print!("{}", checks::explain_text(c, lang));
            Ok(0)
        }
        None => {
            let valid: Vec<&str> = checks::REGISTRY.iter().map(|c| c.code).collect();
            match lang {
                Lang::Es => bail!(
                    "revisión desconocida '{code}'; válidas: {}",
                    valid.join(", ")
                ),
                Lang::En => bail!("unknown check '{code}'; valid: {}", valid.join(", ")),
            }
        }
    }
}

/// `rules`: docs/rules.md (generated from `checks::cert_rules`), in Spanish by default.
/// The Spanish text replaces the fixed phrases of the English document one by one, so a
/// phrase added to the generator later shows in English until it is added here (the test
/// `rules_in_spanish_translate_the_headings` pins the headings).
pub fn rules(lang: Lang) -> String {
    let en = checks::cert_rules::markdown();
    match lang {
        Lang::En => en,
        Lang::Es => rules_es(&en),
    }
}

fn rules_es(en: &str) -> String {
    const PHRASES: &[(&str, &str)] = &[
        (
            "# Rule versions the product applies",
            "# Versiones de las reglas que aplica el producto",
        ),
        (
            "Generated by `pedimento-audit rules` from `src/checks/cert_rules.rs`; do not edit by hand (a test compares this file with the tables).",
            "Generado por `pedimento-audit rules --lang en` a partir de `src/checks/cert_rules.rs` (docs/rules.md es la versión en inglés).",
        ),
        (
            "## IVA/IEPS certification",
            "## Certificación en materia de IVA e IEPS",
        ),
        (
            "The assessment applies the version in force on the as-of date (the date that plays the filing date); `--cert-rules ID` forces one. A date no version covers gives `unknown` for every requirement, with the reason. CERT-RENEWAL takes the term of the version in force when the term started.",
            "La evaluación aplica la versión vigente en la fecha de corte (que hace las veces de fecha de solicitud); `--cert-rules ID` fuerza una. Una fecha que ninguna versión cubre da `unknown` en todos los requisitos, con el motivo. CERT-RENEWAL toma la vigencia de la versión vigente al iniciar el periodo.",
        ),
        (
            "| id | instrument | valid from | valid to | vigencia A/AA/AAA (months) | renewal notice |",
            "| id | instrumento | vigente desde | vigente hasta | vigencia A/AA/AAA (meses) | aviso de renovación |",
        ),
        ("| in force |", "| vigente |"),
        (
            " business days before expiry (",
            " días hábiles antes del vencimiento (",
        ),
        ("### Requirements per version", "### Requisitos por versión"),
        (
            "RCGMCE2013 checks every requirement of `src/checks/cert.rs` under its 2013 citation. The RGCE versions treat the codes as follows (codes not listed: manual, because the product did not verify their text under that version):",
            "RCGMCE2013 revisa todos los requisitos de `src/checks/cert.rs` con su cita de 2013. Las versiones de las RGCE tratan las claves así (las claves no listadas son manuales, porque el producto no verificó su texto en esa versión):",
        ),
        (
            "| version | code | treatment | citation |",
            "| versión | clave | tratamiento | cita |",
        ),
        ("| checked from data |", "| se revisa con los datos |"),
        ("| n/a |", "| no aplica |"),
        ("## Business days", "## Días hábiles"),
        (
            "Deadlines in days (renewal notice, \"a más tardar al día siguiente\" of virtual operations) count business days (Código Fiscal de la Federación art. 12): Saturdays, Sundays and the rest days of Ley Federal del Trabajo art. 74 (January 1; first Monday of February; third Monday of March; May 1; September 16; third Monday of November; December 25; December 1 every six years until 2018 and October 1 every six years from 2024) are excluded (`src/model/calendar.rs`). SAT vacation periods are not subtracted.",
            "Los plazos en días (aviso de renovación, \"a más tardar al día siguiente\" de las operaciones virtuales) cuentan días hábiles (Código Fiscal de la Federación art. 12): se excluyen sábados, domingos y los días de descanso de la Ley Federal del Trabajo art. 74 (1 de enero; primer lunes de febrero; tercer lunes de marzo; 1 de mayo; 16 de septiembre; tercer lunes de noviembre; 25 de diciembre; 1 de diciembre cada seis años hasta 2018 y 1 de octubre cada seis años a partir de 2024) (`src/model/calendar.rs`). No se restan los periodos vacacionales del SAT.",
        ),
    ];
    let mut out = en.to_string();
    for (e, s) in PHRASES {
        out = out.replace(e, s);
    }
    out
}

#[allow(dead_code)]
fn _dataset_years(p: &std::path::Path) -> Vec<i32> {
    dataset::years(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only dataset says so (it used to say "cannot read <dataset>/.lock").
    #[test]
    fn read_only_dataset_message_says_not_writable() {
        let root = Path::new("/data/ds");
        for kind in [
            std::io::ErrorKind::PermissionDenied,
            std::io::ErrorKind::ReadOnlyFilesystem,
        ] {
            let e = ingest::IngestError::Read {
                path: root.join(".lock"),
                source: std::io::Error::from(kind),
            };
            let m = not_writable(e, root).to_string();
            assert!(m.contains("not writable") && m.contains("/data/ds"), "{m}");
        }
        // Other errors pass through unchanged.
        let e = ingest::IngestError::NoInput(PathBuf::from("x"));
        assert!(not_writable(e, root).to_string().contains("no input files"));
    }

    #[test]
    fn rules_in_spanish_translate_the_headings() {
        let es = rules(Lang::Es);
        for h in [
            "# Versiones de las reglas que aplica el producto",
            "## Certificación en materia de IVA e IEPS",
            "| id | instrumento | vigente desde |",
            "### Requisitos por versión",
            "## Días hábiles",
        ] {
            assert!(es.contains(h), "{h} missing:\n{es}");
        }
        for h in ["# Rule versions", "## Business days", "checked from data"] {
            assert!(!es.contains(h), "{h} left in English:\n{es}");
        }
        assert_eq!(rules(Lang::En), checks::cert_rules::markdown());
    }

    #[test]
    fn distance_and_severity_order() {
        assert_eq!(distance("KAA910215M1", "KAA910215M11"), 1);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(Severity::High.at_or_above(), ["critical", "high"]);
        assert_eq!(Severity::Info.at_or_above().len(), 5);
    }
}
