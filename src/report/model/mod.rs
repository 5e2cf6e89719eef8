//! [`ReportData`]: everything one report shows (one company, one period), built once from
//! [`Inputs`] and handed to every writer. Writers format; they never compute.
//!
//! Cost: [`Index`] groups the inputs by company and by import partida once (hash maps),
//! then each company's report walks only its own rows, so the whole run is linear in
//! the input size (times the number of years for the year-end balances).

use super::load::{Assessment, Balance, Finding, IngestTotals, Inputs, RatioPoint};
use super::sample::Sample;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod build;
mod cert;
mod open;
pub use build::{BuildOptions, build, severity_rank};
pub use cert::{cert_headline, modality_summaries};
pub use open::{AGE_BUCKETS, age_bucket, is_activo_fijo, months_between, open_value};

/// The period a report covers: calendar years `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i32,
    pub to: i32,
}

impl Period {
    pub fn start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.from, 1, 1).expect("valid year")
    }
    pub fn end(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.to, 12, 31).expect("valid year")
    }
    pub fn contains(&self, d: NaiveDate) -> bool {
        d >= self.start() && d <= self.end()
    }
    /// `2024` or `2019-2024`: the folder name and the label in titles.
    pub fn label(&self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        }
    }
}

/// A finding in a report, with the date it is filed under.
#[derive(Debug, Clone)]
pub struct ReportFinding {
    pub f: Finding,
    /// The end of the finding's window if it is about one (certification), else
    /// `period_start` if the check set one, else the evidence pedimento's
    /// `fecha_operacion`, else the evaluation date.
    pub date: NaiveDate,
    /// The ledger balance of the finding's (pedimento, partida) when it is a temporary
    /// import: plazo end, imported and open quantity, unit (key facts for the exports).
    pub balance: Option<Balance>,
}

impl ReportFinding {
    pub fn contributions(&self) -> Decimal {
        self.f.igi.unwrap_or_default()
            + self.f.iva.unwrap_or_default()
            + self.f.ieps.unwrap_or_default()
    }
}

/// Totals per check (and overall).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub findings: usize,
    pub amount: Decimal,
    pub igi: Decimal,
    pub iva: Decimal,
    pub ieps: Decimal,
}

/// Checks whose `amount` is a signed difference (e.g. sender minus receiver value): the
/// report sums and shows its absolute value, never nets it.
pub fn amount_is_difference(code: &str) -> bool {
    code == "VIRTUAL-MISMATCH"
}

/// What a check's `amount` measures (shown next to it: amounts of different checks are
/// different things and are never added together).
pub fn amount_meaning(code: &str) -> &'static str {
    match code {
        "TEMP-EXPIRED" => "customs value of the open quantity past its plazo",
        "TEMP-EXPIRING" | "TEMP-PLAZO-UNKNOWN" => "customs value of the open quantity",
        "DESCARGO-EXCESS" => {
            "declared value (valor comercial of a return) of the quantity discharged in excess"
        }
        "DESCARGO-NO-BOM" => {
            "declared value (valor comercial of a return) of the discharge partida"
        }
        "DESCARGO-UNIT" => "declared value of the discharge partida",
        "TEMP-LATE-RETURN" => "customs value of the quantity returned after its plazo",
        "DATA-CONFLICT" => "customs value of the replaced pedimento",
        "CERT-RATIO" => "shortfall to the company's ratio threshold",
        "VIRTUAL-UNPAIRED" => {
            "declared value of the side without counterpart (valor comercial of a sender, valor en aduana of a receiver)"
        }
        "VIRTUAL-MISMATCH" => "no amount (quantities differ; values compared in USD)",
        "VIRTUAL-LATE" | "VIRTUAL-CLAVE" => {
            "declared value of the transfer (sender side, valor comercial)"
        }
        c if c.starts_with("CERT-") => "no amount (see the certification table)",
        _ => "the check's main amount",
    }
}

/// [`amount_meaning`] in `l`.
pub fn amount_meaning_in(code: &str, l: crate::model::lang::Lang) -> &'static str {
    if l == crate::model::lang::Lang::En {
        return amount_meaning(code);
    }
    match code {
        "TEMP-EXPIRED" => "valor en aduana de la cantidad con saldo después de vencido su plazo",
        "TEMP-EXPIRING" | "TEMP-PLAZO-UNKNOWN" => "valor en aduana de la cantidad con saldo",
        "DESCARGO-EXCESS" => {
            "valor declarado (valor comercial de un retorno) de la cantidad descargada en exceso"
        }
        "DESCARGO-NO-BOM" => {
            "valor declarado (valor comercial de un retorno) de la partida de descargo"
        }
        "DESCARGO-UNIT" => "valor declarado de la partida de descargo",
        "TEMP-LATE-RETURN" => "valor en aduana de la cantidad retornada después de su plazo",
        "DATA-CONFLICT" => "valor en aduana del pedimento sustituido",
        "CERT-RATIO" => "faltante para el umbral del índice de la empresa",
        "VIRTUAL-UNPAIRED" => {
            "valor declarado del lado sin contraparte (valor comercial de quien envía, valor en aduana de quien recibe)"
        }
        "VIRTUAL-MISMATCH" => "sin monto (las cantidades difieren; valores comparados en USD)",
        "VIRTUAL-LATE" | "VIRTUAL-CLAVE" => {
            "valor declarado de la transferencia (lado de quien envía, valor comercial)"
        }
        c if c.starts_with("CERT-") => "sin monto (ver la tabla de certificación)",
        _ => "el monto principal de la revisión",
    }
}

impl Totals {
    fn add(&mut self, f: &Finding) {
        self.findings += 1;
        let a = f.amount.unwrap_or_default();
        self.amount += if amount_is_difference(&f.check_code) {
            a.abs()
        } else {
            a
        };
        self.igi += f.igi.unwrap_or_default();
        self.iva += f.iva.unwrap_or_default();
        self.ieps += f.ieps.unwrap_or_default();
    }
    pub fn contributions(&self) -> Decimal {
        self.igi + self.iva + self.ieps
    }
}

#[derive(Debug, Clone)]
pub struct CheckSummary {
    pub code: String,
    pub title: String,
    pub severity: String,
    pub totals: Totals,
    /// Distinct citations, in order of appearance.
    pub citations: Vec<String>,
}

/// Open temporary-import balance in one bucket of days to the end of its plazo (or days
/// overdue) at the as-of date; activo fijo (plazo = program validity) is counted apart.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeBucket {
    pub label: &'static str,
    /// Every open partida in the bucket (insumos, activo fijo and the rest).
    pub partidas: usize,
    /// valor_aduana × open / imported, summed (rounded to cents per partida).
    pub value: Decimal,
    /// Of which activo fijo.
    pub af_partidas: usize,
    pub af_value: Decimal,
}

/// Headline amounts at risk, each one kind of thing (never added together).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskTotals {
    /// IGI + IVA + IEPS of every finding in the period.
    pub contributions: Decimal,
    /// TEMP-EXPIRED: customs value of open temporary goods past their plazo.
    pub expired_value: Decimal,
    /// VIRTUAL-UNPAIRED: customs value of transfer sides with no counterpart.
    pub unpaired_transfers: Decimal,
    /// VIRTUAL-MISMATCH: sum of absolute value differences between the sides.
    pub transfer_differences: Decimal,
    /// CERT-RATIO: shortfall to the company's return-ratio threshold.
    pub cert_shortfall: Decimal,
}

impl RiskTotals {
    fn add(&mut self, f: &Finding) {
        self.contributions +=
            f.igi.unwrap_or_default() + f.iva.unwrap_or_default() + f.ieps.unwrap_or_default();
        let a = f.amount.unwrap_or_default();
        match f.check_code.as_str() {
            "TEMP-EXPIRED" => self.expired_value += a,
            "VIRTUAL-UNPAIRED" => self.unpaired_transfers += a.abs(),
            "VIRTUAL-MISMATCH" => self.transfer_differences += a.abs(),
            "CERT-RATIO" => self.cert_shortfall += a,
            _ => {}
        }
    }
}

/// The certification verdict of one modality, from its requirement rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ModalitySummary {
    /// `A`, `AA` or `AAA`.
    pub modality: String,
    /// `met`, `not met` (a requirement fails) or `not verified` (data missing).
    pub verdict: &'static str,
    /// Counts over the rows that decide it (AA and AAA include the A rows).
    pub pass: usize,
    pub fail: usize,
    /// Unknown for lack of data (a file or field is missing).
    pub missing: usize,
    /// Unknown because no data can prove it: evidence must be attached by hand.
    pub manual: usize,
    pub na: usize,
}

/// One year of the multi-year trend.
#[derive(Debug, Clone, PartialEq)]
pub struct YearTrend {
    pub year: i32,
    pub totals: Totals,
    /// The date the open balance is measured at: Dec 31, or the as-of date if earlier.
    pub balance_date: NaiveDate,
    /// Open temporary-import value at `balance_date` (None after the as-of date).
    pub open_value: Option<Decimal>,
    pub open_partidas: usize,
}

/// The certification page at a glance: where the return ratio stands against the
/// company's own threshold and how fast it is moving.
#[derive(Debug, Clone, PartialEq)]
pub struct CertHeadline {
    /// `YYYY-MM` of the latest ratio point at or before the as-of date.
    pub month: String,
    /// Percent.
    pub ratio: Decimal,
    /// The company's own threshold, percent (60, or 80 for sensitive sectors).
    pub threshold: Decimal,
    /// Value missing to reach the threshold at that point (MXN), when below it.
    pub shortfall: Option<Decimal>,
    /// Pace: the average monthly change of the ratio over the last 3 months, in
    /// percentage points ((ratio now − ratio 3 months earlier) / 3). None with fewer than
    /// 4 points.
    pub pace: Option<Decimal>,
    /// Whole months until the ratio crosses the threshold at the current pace: Some(0)
    /// when it is already below, None when the ratio is not falling (n/a).
    pub months_to_failure: Option<i64>,
    /// The latest window starts before the first month with data.
    pub partial: bool,
}

/// Run facts shown in every report header.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Language of every label and text of the report (`report --lang`).
    pub lang: crate::model::lang::Lang,
    pub tool_version: String,
    pub command: String,
    pub dataset: String,
    pub audit: String,
}

#[derive(Debug, Clone)]
pub struct ReportData {
    pub meta: Meta,
    pub rfc: String,
    pub nombre: Option<String>,
    pub period: Period,
    pub as_of: NaiveDate,
    /// First and last fecha_pago of this company's pedimentos in the period.
    pub data_from: Option<NaiveDate>,
    pub data_to: Option<NaiveDate>,
    pub pedimentos_in_period: usize,
    /// Dataset-wide (manifests are not per company).
    pub ingest: IngestTotals,
    /// Sorted as in findings.parquet (check, rfc, pedimento, partida, ...).
    pub findings: Vec<ReportFinding>,
    pub by_check: Vec<CheckSummary>,
    pub totals: Totals,
    /// (month `YYYY-MM`, check) → findings.
    pub by_month: BTreeMap<String, BTreeMap<String, usize>>,
    pub aging: Vec<AgeBucket>,
    pub open_total: Decimal,
    pub trend: Vec<YearTrend>,
    /// None: `cert_ratio_series.parquet` not in the audit folder.
    pub ratio: Option<Vec<RatioPoint>>,
    /// None: `cert_assessment.parquet` not in the audit folder. One row per requirement.
    pub assessment: Option<Vec<Assessment>>,
    /// The overall verdict stored with the assessment (`AAA`, `AA`, `A`, `none`).
    pub cert_verdict: Option<String>,
    /// One row per modality (A, AA, AAA) present in the assessment.
    pub modalities: Vec<ModalitySummary>,
    /// Ratio now vs threshold, shortfall, pace and months to failure (None without a
    /// ratio series).
    pub cert_headline: Option<CertHeadline>,
    /// Headline amounts, one per kind of amount.
    pub risk: RiskTotals,
    /// This company's ledger balances with something open at the as-of date, by plazo
    /// end (unknown last), then pedimento and partida.
    pub saldos: Vec<Balance>,
    /// Kardex per good (entradas, salidas by kind, running saldo) over the period.
    pub kardex: Vec<super::kardex::Good>,
    /// Rows ingest rejected (dataset-wide: the same list in every report of the dataset).
    pub rejects: std::sync::Arc<Vec<super::rejects::Reject>>,
    pub sample: Option<Sample>,
}

/// Per-company row indexes over [`Inputs`], built once.
pub struct Index<'a> {
    pub inputs: &'a Inputs,
    pub findings: HashMap<&'a str, Vec<usize>>,
    pub balances: HashMap<&'a str, Vec<usize>>,
    pub pedimentos: HashMap<&'a str, Vec<usize>>,
    pub ped_by_id: HashMap<&'a str, usize>,
    /// (import_id, import_partida) → allocations discharging it.
    pub allocs: HashMap<(&'a str, i32), Vec<usize>>,
}

impl<'a> Index<'a> {
    pub fn new(inputs: &'a Inputs) -> Index<'a> {
        let mut ix = Index {
            inputs,
            findings: HashMap::new(),
            balances: HashMap::new(),
            pedimentos: HashMap::new(),
            ped_by_id: HashMap::new(),
            allocs: HashMap::new(),
        };
        for (i, f) in inputs.findings.iter().enumerate() {
            ix.findings.entry(f.rfc.as_str()).or_default().push(i);
        }
        for (i, b) in inputs.balances.iter().enumerate() {
            ix.balances.entry(b.rfc.as_str()).or_default().push(i);
        }
        for (i, p) in inputs.pedimentos.iter().enumerate() {
            ix.pedimentos.entry(p.rfc.as_str()).or_default().push(i);
            ix.ped_by_id.insert(p.pedimento_id.as_str(), i);
        }
        for (i, a) in inputs.allocations.iter().enumerate() {
            ix.allocs
                .entry((a.import_id.as_str(), a.import_partida))
                .or_default()
                .push(i);
        }
        ix
    }

    /// Every company with pedimentos or findings, sorted.
    pub fn companies(&self) -> Vec<String> {
        let s: BTreeSet<&str> = self
            .findings
            .keys()
            .chain(self.pedimentos.keys())
            .copied()
            .collect();
        s.into_iter().map(str::to_string).collect()
    }
}
