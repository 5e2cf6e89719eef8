//! clap structs and the thin glue from arguments to library calls.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use comfy_table::Table;
use pedaudit::{checks, dataset, findings, generate, ingest, report};
use polars::prelude::*;
use std::path::PathBuf;
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
    /// Explain a check: what it finds, why it matters, its legal basis.
    Explain { code: String },
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
    #[arg(long, value_delimiter = ',')]
    pub inject: Vec<String>,
    /// What to write: datastage, csv, dataset (Parquet directly) or all.
    #[arg(long, default_value = "datastage")]
    pub format: String,
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
    #[arg(long, default_value_t = ingest::DEFAULT_MEMORY_MB)]
    pub memory_mb: u64,
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long, default_value = "dataset")]
    pub dataset: PathBuf,
    /// Evaluation date (YYYY-MM-DD); default: latest payment date in the dataset.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Only findings about this RFC.
    #[arg(long)]
    pub company: Option<String>,
    /// Check codes or groups (temp, data, ...); default all.
    #[arg(long, value_delimiter = ',')]
    pub check: Vec<String>,
    /// Company profile folder (programas.csv, ...).
    #[arg(long)]
    pub profiles: Option<PathBuf>,
    /// TEMP-EXPIRING window in days.
    #[arg(long, default_value_t = 60)]
    pub expiring_days: i64,
    /// Output folder for findings.parquet and the ledger tables.
    #[arg(long, default_value = "out/audit")]
    pub out: PathBuf,
    /// Audit N companies at a time to bound memory on large datasets (0 = all at once).
    /// Same findings: the ledger and certification are per company; virtual pairing runs
    /// once across companies.
    #[arg(long, default_value_t = 0)]
    pub batch_companies: usize,
    /// Exit 1 when a finding of this severity or worse exists (critical, high, medium, low, info).
    #[arg(long)]
    pub fail_on: Option<String>,
}

pub fn generate(a: GenerateArgs) -> Result<i32> {
    let inject = a
        .inject
        .iter()
        .map(|s| {
            generate::Violation::parse(s)
                .with_context(|| {
                    format!(
                        "unknown violation '{s}'; valid: expired, excess, unit, virtual-unpaired, virtual-mismatch, virtual-late"
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let cfg = generate::Config {
        seed: a.seed,
        companies: a.companies,
        start_year: a.start_year,
        years: a.years,
        partidas: a.partidas,
        inject,
    };
    let t = Instant::now();
    let h = generate::generate(&cfg);
    let np: usize = h.years.values().map(|y| y.partidas.len()).sum();
    let nped: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    eprintln!(
        "generated {nped} pedimentos, {np} partidas in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let fmt = a.format.as_str();
    if !matches!(fmt, "datastage" | "csv" | "dataset" | "all") {
        bail!("unknown --format '{fmt}'; valid: datastage, csv, dataset, all");
    }
    if fmt == "datastage" || fmt == "all" {
        let n = generate::writers::write_datastage(&h, &a.out.join("datastage"))?;
        eprintln!(
            "wrote {n} Data Stage files under {}",
            a.out.join("datastage").display()
        );
    }
    if fmt == "csv" || fmt == "all" {
        let p = a.out.join("pedimentos.csv");
        generate::writers::write_csv(&h, &p)?;
        eprintln!("wrote {}", p.display());
    }
    if fmt == "dataset" || fmt == "all" {
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
    eprintln!(
        "ingesting {} input path(s) into {} ...",
        a.inputs.len(),
        a.dataset.display()
    );
    let r = ingest::run(
        &a.inputs,
        &a.dataset,
        &ingest::IngestOptions {
            force: a.force,
            memory_mb: Some(a.memory_mb),
        },
    )?;
    for act in &r.recovered {
        eprintln!("recovered: {act}");
    }
    let mut t1 = Table::new();
    t1.set_header(vec!["file", "type", "read", "accepted", "rejected", "note"]);
    for f in &r.files {
        let note = match &f.skipped {
            Some(s) => s.clone(),
            None => f
                .rejected_by_reason
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let name = std::path::Path::new(&f.file)
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        t1.add_row(vec![
            name,
            f.record_type.clone(),
            f.rows_read.to_string(),
            f.accepted.to_string(),
            f.rejected.to_string(),
            note,
        ]);
    }
    println!("{t1}");
    let mut t2 = Table::new();
    t2.set_header(vec![
        "year",
        "pedimentos",
        "partidas",
        "new",
        "identical",
        "replaced",
    ]);
    for (y, c) in &r.years {
        t2.add_row(vec![
            y.to_string(),
            c.pedimentos.to_string(),
            c.partidas.to_string(),
            c.new.to_string(),
            c.identical.to_string(),
            c.replaced.to_string(),
        ]);
    }
    println!("{t2}");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "rows read {} = accepted {} + rejected {}; rectificaciones superseding an original: {}; {:.2}s ({:.0} rows/s); run {}",
        r.rows_read,
        r.accepted,
        r.rejected,
        r.superseded,
        secs,
        r.rows_read as f64 / secs.max(1e-9),
        r.run_id
    );
    if r.rejected > 0 {
        println!(
            "rejected rows with file, line, field and reason: {}",
            a.dataset
                .join("rejects")
                .join(format!("{}.parquet", r.run_id))
                .display()
        );
    }
    Ok(0)
}

pub fn audit(a: AuditArgs) -> Result<i32> {
    let t = Instant::now();
    let selected = checks::select(&a.check)?;
    let opts = checks::AuditOptions {
        as_of: a.as_of,
        company: a.company.clone(),
        expiring_days: a.expiring_days,
        profiles: a.profiles.clone(),
    };
    std::fs::create_dir_all(&a.out)?;
    let want_cert = selected.iter().any(|c| c.group == "cert");
    let want_virtual = selected.iter().any(|c| c.group == "virtual");
    let cert_opts = checks::cert::CertOptions::default();
    let (mut allocs, mut balances, mut series, mut assessment) = (vec![], vec![], vec![], vec![]);
    let mut pairs: Option<DataFrame> = None;
    // Per-context outputs: the ledger tables and the certification tables come from the
    // company passes, the virtual pairs from the cross-company pass.
    let mut each =
        |ctx: &checks::AuditContext, pass: checks::Pass| -> Result<(), checks::CheckError> {
            if pass != checks::Pass::CrossCompany {
                allocs.push(ctx.table("ledger_allocations").collect()?);
                balances.push(ctx.table("ledger_balances").collect()?);
                if want_cert {
                    let (s, t) = checks::cert::assess(ctx, &cert_opts)?;
                    series.push(s);
                    assessment.push(t);
                }
            }
            if want_virtual && pass != checks::Pass::Companies {
                pairs = Some(checks::virtual_pairing::virtual_tables(ctx)?.pairs.clone());
            }
            Ok(())
        };
    let run = checks::run_batched(&a.dataset, &opts, &selected, a.batch_companies, &mut each)?;
    let mut df = run.findings;
    let fp = a.out.join("findings.parquet");
    write_df(&mut df, &fp)?;
    let stack = |v: Vec<DataFrame>| -> Result<DataFrame> {
        let mut it = v.into_iter();
        let mut first = it.next().unwrap_or_default();
        for d in it {
            first.vstack_mut(&d)?;
        }
        Ok(first)
    };
    write_df(
        &mut stack(allocs)?,
        &a.out.join("ledger_allocations.parquet"),
    )?;
    write_df(
        &mut stack(balances)?,
        &a.out.join("ledger_balances.parquet"),
    )?;
    if want_cert {
        // IVA/IEPS certification: the monthly ratio series and the assessment table.
        let mut table = stack(assessment)?;
        write_df(
            &mut stack(series)?,
            &a.out.join("cert_ratio_series.parquet"),
        )?;
        write_df(&mut table, &a.out.join("cert_assessment.parquet"))?;
        // The table per company is printed when cert checks were asked for by name.
        if !a.check.is_empty() {
            print!("{}", checks::cert::render(&table)?);
            println!("certification options: {}", cert_opts.describe());
        }
    }
    if let Some(mut p) = pairs {
        write_df(&mut p, &a.out.join("virtual_pairs.parquet"))?;
    }
    print_summary(&df)?;
    println!(
        "as of {}; {} findings from {} checks ({} company batch(es)) in {:.2}s; written to {}",
        run.as_of,
        df.height(),
        selected.len(),
        run.batches,
        t.elapsed().as_secs_f64(),
        fp.display()
    );
    if let Some(level) = &a.fail_on {
        let rank = findings::SEVERITIES
            .iter()
            .position(|s| s == level)
            .with_context(|| {
                format!(
                    "unknown severity '{level}'; valid: {:?}",
                    findings::SEVERITIES
                )
            })?;
        let bad: Vec<&str> = findings::SEVERITIES[..=rank].to_vec();
        let sev = df.column("severity")?.str()?;
        if (0..sev.len())
            .filter_map(|i| sev.get(i))
            .any(|s| bad.contains(&s))
        {
            return Ok(1);
        }
    }
    Ok(0)
}

pub fn write_df(df: &mut DataFrame, path: &std::path::Path) -> Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    ParquetWriter::new(f).finish(df)?;
    Ok(())
}

/// Counts and amounts by check and company.
pub fn print_summary(df: &DataFrame) -> Result<()> {
    let agg = df
        .clone()
        .lazy()
        .group_by([col("check_code"), col("rfc")])
        .agg([
            len().alias("n"),
            col("quantity").sum().alias("quantity"),
            col("amount").sum().alias("amount"),
            (col("igi").fill_null(lit(0)).sum()
                + col("iva").fill_null(lit(0)).sum()
                + col("ieps").fill_null(lit(0)).sum())
            .alias("contributions"),
        ])
        .sort(["check_code", "rfc"], Default::default())
        .collect()?;
    let mut t = Table::new();
    t.set_header(vec![
        "check",
        "company",
        "findings",
        "quantity",
        "amount MXN",
        "contributions MXN",
    ]);
    let s = |c: &str, i: usize| -> Result<String> {
        let v = agg.column(c)?.get(i)?;
        Ok(match v {
            AnyValue::Null => String::new(),
            AnyValue::String(x) => x.to_string(),
            other => report::format::any_number(&other),
        })
    };
    for i in 0..agg.height() {
        t.add_row(vec![
            s("check_code", i)?,
            s("rfc", i)?,
            s("n", i)?,
            s("quantity", i)?,
            s("amount", i)?,
            s("contributions", i)?,
        ]);
    }
    println!("{t}");
    Ok(())
}

pub fn report(a: report::ReportArgs) -> Result<i32> {
    let t = Instant::now();
    let written = report::run(&a)?;
    for w in &written {
        println!(
            "{}: {} finding(s) -> {}",
            w.rfc,
            w.findings,
            w.dir.display()
        );
    }
    println!(
        "{} report(s) in {:.2}s",
        written.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(0)
}

pub fn explain(code: &str) -> Result<i32> {
    match checks::find(code) {
        Some(c) => {
            println!(
                "{} — {}\n\nLegal basis: {}\n\n{}",
                c.code, c.title, c.citation, c.doc
            );
            Ok(0)
        }
        None => {
            let valid: Vec<&str> = checks::REGISTRY.iter().map(|c| c.code).collect();
            bail!("unknown check '{code}'; valid: {}", valid.join(", "))
        }
    }
}

#[allow(dead_code)]
fn _dataset_years(p: &std::path::Path) -> Vec<i32> {
    dataset::years(p)
}
