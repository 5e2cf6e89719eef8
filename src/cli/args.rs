//! The clap structs: commands, their arguments and option values.

use super::*;

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
    /// Share of the companies (0.0-1.0) that are manufacturers with a bill of materials
    /// (profiles bom.csv, desperdicios.csv): their returns export products that the ledger
    /// explodes into insumos. 1.0 = every company, 0.0 = none.
    #[arg(long, default_value_t = 0.5, value_parser = parse_share)]
    pub bom_share: f64,
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

pub(super) fn parse_violation(s: &str) -> Result<generate::Violation, String> {
    generate::Violation::parse(s.trim()).ok_or_else(|| {
        let valid: Vec<&str> = generate::Violation::ALL.iter().map(|v| v.name()).collect();
        format!("unknown violation '{s}'; valid: {}", valid.join(", "))
    })
}

/// A check code or group, validated against the registry (any case).
pub(super) fn parse_check(s: &str) -> Result<String, String> {
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
    /// Peak memory to aim for (MiB): Data Stage input larger than an eighth of it (at
    /// most 96 MiB) is parsed in shards of pedimentos, one after the other (the parse
    /// peaks at about 8 bytes per byte of input).
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

pub(super) fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("'{s}' is not a share between 0.0 and 1.0")),
    }
}

pub(super) fn parse_rule_version(s: &str) -> Result<&'static str, String> {
    checks::cert_rules::by_id(s).map(|v| v.id).ok_or_else(|| {
        format!(
            "unknown rule version '{s}' (known: {})",
            checks::cert_rules::ids().join(", ")
        )
    })
}
