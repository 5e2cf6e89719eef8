//! [`ReportData`]: everything one report shows (one company, one period), built once from
//! [`Inputs`] and handed to every writer. Writers format; they never compute.
//!
//! Cost: [`Index`] groups the inputs by company and by import partida once (hash maps),
//! then each company's report walks only its own rows, so the whole run is linear in
//! the input size (times the number of years for the year-end balances).

use super::load::{
    Allocation, Assessment, Balance, Finding, IngestTotals, Inputs, Pedimento, RatioPoint,
};
use super::sample::{self, Sample};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// [`CertHeadline`] from a company's ratio series (sorted by month), up to `as_of`.
pub fn cert_headline(points: &[RatioPoint], as_of: NaiveDate) -> Option<CertHeadline> {
    let cutoff = as_of.format("%Y-%m").to_string();
    let pts: Vec<&RatioPoint> = points
        .iter()
        .filter(|p| p.month <= cutoff && p.ratio_pct.is_some())
        .collect();
    let last = *pts.last()?;
    let ratio = last.ratio_pct?;
    let threshold = last.threshold_pct.unwrap_or(Decimal::from(60));
    let pace = (pts.len() >= 4).then(|| {
        let before = pts[pts.len() - 4].ratio_pct.unwrap_or_default();
        ((ratio - before) / Decimal::from(3)).round_dp(2)
    });
    let months_to_failure = if ratio < threshold {
        Some(0)
    } else {
        match pace {
            Some(p) if p < Decimal::ZERO => {
                let m = ((ratio - threshold) / -p).ceil();
                Some(
                    rust_decimal::prelude::ToPrimitive::to_i64(&m)
                        .unwrap_or(i64::MAX)
                        .max(1),
                )
            }
            _ => None,
        }
    };
    Some(CertHeadline {
        month: last.month.clone(),
        ratio,
        threshold,
        shortfall: last.shortfall.filter(|_| ratio < threshold),
        pace,
        months_to_failure,
        partial: last.full_window == Some(false) || last.status.as_deref() == Some("partial"),
    })
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

/// Whole months from `d` to `as_of` (a month counts once its day-of-month is reached).
pub fn months_between(d: NaiveDate, as_of: NaiveDate) -> i32 {
    let mut m = (as_of.year() - d.year()) * 12 + as_of.month() as i32 - d.month() as i32;
    if as_of.day() < d.day() {
        m -= 1;
    }
    m
}

/// Buckets of days from the as-of date to the end of the plazo (negative: overdue).
pub const AGE_BUCKETS: [&str; 8] = [
    "overdue > 90 days",
    "overdue 31-90 days",
    "overdue 1-30 days",
    "due in 0-30 days",
    "due in 31-60 days",
    "due in 61-90 days",
    "due in > 90 days",
    "plazo unknown",
];

/// Bucket of a plazo end `vence` seen at `as_of` (None: plazo unknown).
pub fn age_bucket(vence: Option<NaiveDate>, as_of: NaiveDate) -> usize {
    let Some(v) = vence else {
        return 7;
    };
    match (v - as_of).num_days() {
        d if d < -90 => 0,
        d if d < -30 => 1,
        d if d < 0 => 2,
        d if d <= 30 => 3,
        d if d <= 60 => 4,
        d if d <= 90 => 5,
        _ => 6,
    }
}

pub fn is_activo_fijo(b: &Balance) -> bool {
    b.tipo_bien
        .as_deref()
        .is_some_and(|t| t.to_lowercase().replace(' ', "_") == "activo_fijo")
}

/// Value of an open quantity: valor_aduana × open / imported, rounded to cents.
pub fn open_value(b: &Balance, open: Decimal) -> Decimal {
    if b.imported.is_zero() {
        return Decimal::ZERO;
    }
    (b.valor_aduana * open / b.imported).round_dp(2)
}

fn title_of(code: &str) -> String {
    crate::checks::find(code)
        .map(|c| c.title.to_string())
        .unwrap_or_else(|| code.to_string())
}

pub fn severity_rank(s: &str) -> usize {
    crate::findings::SEVERITIES
        .iter()
        .position(|x| *x == s)
        .unwrap_or(crate::findings::SEVERITIES.len())
}

/// Options that shape one report.
pub struct BuildOptions<'a> {
    pub rfc: &'a str,
    pub period: Period,
    pub as_of: NaiveDate,
    pub meta: Meta,
    /// (N, seed) for the auditor's sample.
    pub sample: Option<(usize, u64)>,
}

pub fn build(ix: &Index, o: BuildOptions) -> ReportData {
    let inp = ix.inputs;
    let empty = vec![];
    let peds: Vec<&Pedimento> = ix
        .pedimentos
        .get(o.rfc)
        .unwrap_or(&empty)
        .iter()
        .map(|&i| &inp.pedimentos[i])
        .collect();
    let nombre = peds.iter().rev().find_map(|p| p.nombre.clone());
    let in_period: Vec<&Pedimento> = peds
        .iter()
        .copied()
        .filter(|p| o.period.contains(p.fecha_pago))
        .collect();

    let bal_by_key: HashMap<(&str, i32), &Balance> = ix
        .balances
        .get(o.rfc)
        .unwrap_or(&empty)
        .iter()
        .map(|&i| &inp.balances[i])
        .map(|b| ((b.pedimento_id.as_str(), b.partida), b))
        .collect();
    // Findings filed under a date inside the period.
    let mut findings = vec![];
    for &i in ix.findings.get(o.rfc).unwrap_or(&empty) {
        let f = &inp.findings[i];
        // A finding about a window (certification) belongs to the period its window
        // ends in, not the one it starts in.
        let date = f
            .window_end
            .or(f.period_start)
            .or_else(|| {
                f.pedimento_id
                    .as_deref()
                    .and_then(|id| ix.ped_by_id.get(id))
                    .map(|&k| inp.pedimentos[k].fecha_operacion)
            })
            .unwrap_or(f.as_of);
        if o.period.contains(date) {
            let balance = match (&f.pedimento_id, f.partida) {
                (Some(id), Some(p)) => bal_by_key.get(&(id.as_str(), p)).map(|b| (*b).clone()),
                _ => None,
            };
            findings.push(ReportFinding {
                f: f.clone(),
                date,
                balance,
            });
        }
    }

    let mut by_check_map: BTreeMap<String, CheckSummary> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut risk = RiskTotals::default();
    let mut by_month: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for rf in &findings {
        let f = &rf.f;
        totals.add(f);
        risk.add(f);
        let e = by_check_map
            .entry(f.check_code.clone())
            .or_insert_with(|| CheckSummary {
                code: f.check_code.clone(),
                title: title_of(&f.check_code),
                severity: f.severity.clone(),
                totals: Totals::default(),
                citations: vec![],
            });
        e.totals.add(f);
        if severity_rank(&f.severity) < severity_rank(&e.severity) {
            e.severity = f.severity.clone();
        }
        if !e.citations.contains(&f.citation) {
            e.citations.push(f.citation.clone());
        }
        *by_month
            .entry(rf.date.format("%Y-%m").to_string())
            .or_default()
            .entry(f.check_code.clone())
            .or_default() += 1;
    }
    // Report order = registry order, unknown codes last.
    let mut by_check: Vec<CheckSummary> = by_check_map.into_values().collect();
    let reg_pos = |c: &str| {
        crate::checks::REGISTRY
            .iter()
            .position(|d| d.code == c)
            .unwrap_or(usize::MAX)
    };
    by_check.sort_by(|a, b| (reg_pos(&a.code), &a.code).cmp(&(reg_pos(&b.code), &b.code)));

    // Open balance by age at the as-of date (ledger_balances is evaluated at as-of).
    let bals: Vec<&Balance> = ix
        .balances
        .get(o.rfc)
        .unwrap_or(&empty)
        .iter()
        .map(|&i| &inp.balances[i])
        .collect();
    let mut aging: Vec<AgeBucket> = AGE_BUCKETS
        .iter()
        .map(|l| AgeBucket {
            label: l,
            partidas: 0,
            value: Decimal::ZERO,
            af_partidas: 0,
            af_value: Decimal::ZERO,
        })
        .collect();
    let mut open_total = Decimal::ZERO;
    let mut saldos: Vec<Balance> = vec![];
    for b in &bals {
        if b.open_qty > Decimal::ZERO {
            let k = age_bucket(b.vence, o.as_of);
            let v = open_value(b, b.open_qty);
            aging[k].partidas += 1;
            aging[k].value += v;
            if is_activo_fijo(b) {
                aging[k].af_partidas += 1;
                aging[k].af_value += v;
            }
            open_total += v;
            saldos.push((*b).clone());
        }
    }
    saldos.sort_by(|a, b| {
        (a.vence.is_none(), a.vence, &a.pedimento_id, a.partida).cmp(&(
            b.vence.is_none(),
            b.vence,
            &b.pedimento_id,
            b.partida,
        ))
    });

    // Trend per year: findings filed in that year, and the open balance at year end
    // replayed from the ledger (imported up to that date minus allocations up to it).
    let mut trend = vec![];
    for year in o.period.from..=o.period.to {
        let mut t = Totals::default();
        for rf in findings.iter().filter(|rf| rf.date.year() == year) {
            t.add(&rf.f);
        }
        let ye = NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year");
        let at = ye.min(o.as_of);
        let (open_value_at, n) = if NaiveDate::from_ymd_opt(year, 1, 1).expect("year") > o.as_of {
            (None, 0)
        } else {
            let mut v = Decimal::ZERO;
            let mut n = 0;
            for b in bals.iter().filter(|b| b.fecha_operacion <= at) {
                let discharged: Decimal = ix
                    .allocs
                    .get(&(b.pedimento_id.as_str(), b.partida))
                    .map(|v| {
                        v.iter()
                            .map(|&i| &inp.allocations[i])
                            .filter(|a: &&Allocation| a.discharge_fecha <= at)
                            .map(|a| a.cantidad)
                            .sum()
                    })
                    .unwrap_or_default();
                let open = b.imported - discharged;
                if open > Decimal::ZERO {
                    v += open_value(b, open);
                    n += 1;
                }
            }
            (Some(v), n)
        };
        trend.push(YearTrend {
            year,
            totals: t,
            balance_date: at,
            open_value: open_value_at,
            open_partidas: n,
        });
    }

    let ratio = inp.ratio.as_ref().map(|r| {
        r.iter()
            .filter(|p| p.rfc == o.rfc)
            .filter(|p| {
                p.month.as_str() >= format!("{}-01", o.period.from).as_str()
                    && p.month.as_str() <= format!("{}-12", o.period.to).as_str()
            })
            .cloned()
            .collect::<Vec<_>>()
    });
    let assessment = inp.assessment.as_ref().map(|r| {
        r.iter()
            .filter(|p| p.rfc == o.rfc)
            .cloned()
            .collect::<Vec<_>>()
    });
    let cert_verdict = assessment
        .as_ref()
        .and_then(|a| a.first())
        .map(|r| r.verdict.clone())
        .filter(|v| !v.is_empty());
    let modalities = assessment
        .as_deref()
        .map(modality_summaries)
        .unwrap_or_default();
    // The headline looks at the whole series up to the as-of date (not only the period):
    // the pace needs the months before a January.
    let cert_headline = inp.ratio.as_ref().and_then(|r| {
        let own: Vec<RatioPoint> = r.iter().filter(|p| p.rfc == o.rfc).cloned().collect();
        cert_headline(&own, o.as_of)
    });

    let sample = o
        .sample
        .map(|(n, seed)| sample::draw(&in_period, &findings, ix, n, seed));

    ReportData {
        meta: o.meta,
        rfc: o.rfc.to_string(),
        nombre,
        period: o.period,
        as_of: o.as_of,
        data_from: in_period.iter().map(|p| p.fecha_pago).min(),
        data_to: in_period.iter().map(|p| p.fecha_pago).max(),
        pedimentos_in_period: in_period.len(),
        ingest: inp.ingest.clone(),
        findings,
        by_check,
        totals,
        by_month,
        aging,
        open_total,
        trend,
        ratio,
        assessment,
        cert_verdict,
        modalities,
        cert_headline,
        risk,
        saldos,
        kardex: super::kardex::build(ix, o.rfc, o.period, o.as_of),
        rejects: inp.rejects.clone(),
        sample,
    }
}

/// One summary per modality found in `rows` (A first). AA and AAA are decided by their
/// own rows plus the A rows, as the rule builds them on A. Manual rows (no data can prove
/// them) do not decide the verdict but are counted: their evidence must be attached.
pub fn modality_summaries(rows: &[Assessment]) -> Vec<ModalitySummary> {
    let mut mods: Vec<String> = vec![];
    for r in rows {
        if !mods.contains(&r.modality) {
            mods.push(r.modality.clone());
        }
    }
    mods.sort_by_key(|m| (m.len(), m.clone()));
    mods.iter()
        .map(|m| {
            let mut s = ModalitySummary {
                modality: m.clone(),
                verdict: "met",
                pass: 0,
                fail: 0,
                missing: 0,
                manual: 0,
                na: 0,
            };
            for r in rows
                .iter()
                .filter(|r| &r.modality == m || (m != "A" && r.modality == "A"))
            {
                match r.status.as_str() {
                    "pass" => s.pass += 1,
                    "fail" => s.fail += 1,
                    "unknown" if r.basis == "manual" => s.manual += 1,
                    "unknown" => s.missing += 1,
                    _ => s.na += 1,
                }
            }
            s.verdict = if s.fail > 0 {
                "not met"
            } else if s.missing > 0 {
                "not verified"
            } else {
                "met"
            };
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn pt(month: &str, r: i64) -> RatioPoint {
        RatioPoint {
            rfc: "X".into(),
            month: month.into(),
            ratio_pct: Some(Decimal::from(r)),
            numerator: None,
            denominator: None,
            threshold_pct: Some(Decimal::from(80)),
            status: None,
            shortfall: Some(Decimal::from(1000)),
            full_window: Some(true),
        }
    }
    #[test]
    fn cert_headline_pace_and_months_to_failure() {
        let s = [
            pt("2024-01", 95),
            pt("2024-02", 93),
            pt("2024-03", 92),
            pt("2024-04", 89),
            pt("2024-05", 70),
        ];
        // As of April: pace (89 - 95) / 3 = -2 pp/month; 9 pp above 80 → 5 months.
        let h = cert_headline(&s, d("2024-04-30")).unwrap();
        assert_eq!(h.month, "2024-04");
        assert_eq!(h.pace, Some(Decimal::from(-2)));
        assert_eq!(h.months_to_failure, Some(5));
        assert_eq!(h.shortfall, None, "no shortfall above the threshold");
        // As of May: below 80 → already failing, shortfall shown.
        let h = cert_headline(&s, d("2024-05-31")).unwrap();
        assert_eq!(h.months_to_failure, Some(0));
        assert_eq!(h.shortfall, Some(Decimal::from(1000)));
        // Rising or flat: n/a; too few points: no pace.
        let up = [
            pt("2024-01", 81),
            pt("2024-02", 82),
            pt("2024-03", 83),
            pt("2024-04", 84),
        ];
        assert_eq!(
            cert_headline(&up, d("2024-12-31"))
                .unwrap()
                .months_to_failure,
            None
        );
        assert_eq!(cert_headline(&up[..2], d("2024-12-31")).unwrap().pace, None);
    }
    #[test]
    fn months_and_buckets() {
        assert_eq!(months_between(d("2024-01-15"), d("2024-07-14")), 5);
        assert_eq!(months_between(d("2024-01-15"), d("2024-07-15")), 6);
        let a = d("2024-06-30");
        assert_eq!(age_bucket(Some(d("2024-03-01")), a), 0);
        assert_eq!(age_bucket(Some(d("2024-06-29")), a), 2);
        assert_eq!(age_bucket(Some(d("2024-06-30")), a), 3);
        assert_eq!(age_bucket(Some(d("2024-08-29")), a), 4);
        assert_eq!(age_bucket(Some(d("2035-12-31")), a), 6);
        assert_eq!(age_bucket(None, a), 7);
        assert_eq!(
            Period {
                from: 2019,
                to: 2024
            }
            .label(),
            "2019-2024"
        );
        assert_eq!(
            Period {
                from: 2024,
                to: 2024
            }
            .label(),
            "2024"
        );
    }
}
