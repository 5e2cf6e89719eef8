//! [`build`]: one company's [`ReportData`] for one period from the shared [`Index`].

use super::cert_headline;
use super::{
    AGE_BUCKETS, AgeBucket, CheckSummary, Index, Meta, Period, ReportData, ReportFinding,
    RiskTotals, Totals, YearTrend, age_bucket, is_activo_fijo, modality_summaries, open_value,
};
use crate::report::load::{Allocation, Balance, Pedimento, RatioPoint};
use crate::report::sample;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

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

    let findings = period_findings(ix, o.rfc, o.period);

    let Summaries {
        by_check,
        totals,
        risk,
        by_month,
    } = summarize(&findings);

    let bals: Vec<&Balance> = ix
        .balances
        .get(o.rfc)
        .unwrap_or(&empty)
        .iter()
        .map(|&i| &inp.balances[i])
        .collect();
    let (aging, open_total, saldos) = open_at(&bals, o.as_of);

    // Trend per year: findings filed in that year, and the open balance at year end
    // replayed from the ledger (imported up to that date minus allocations up to it).
    let trend = year_trend(ix, &bals, &findings, o.period, o.as_of);

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
        kardex: crate::report::kardex::build(ix, o.rfc, o.period, o.as_of),
        rejects: inp.rejects.clone(),
        sample,
    }
}

/// The company's findings filed under a date inside the period, each with the balance of
/// its partida when it has one.
fn period_findings(ix: &Index, rfc: &str, period: Period) -> Vec<ReportFinding> {
    let inp = ix.inputs;
    let empty = vec![];
    let bal_by_key: HashMap<(&str, i32), &Balance> = ix
        .balances
        .get(rfc)
        .unwrap_or(&empty)
        .iter()
        .map(|&i| &inp.balances[i])
        .map(|b| ((b.pedimento_id.as_str(), b.partida), b))
        .collect();
    // Findings filed under a date inside the period.
    let mut findings = vec![];
    for &i in ix.findings.get(rfc).unwrap_or(&empty) {
        let f = &inp.findings[i];
        // A finding about a window (certification) belongs to the period its window
        // ends in, not the one it starts in.
        let date = f
            .window_end()
            .or(f.period_start)
            .or_else(|| {
                f.pedimento_id
                    .as_deref()
                    .and_then(|id| ix.ped_by_id.get(id))
                    .map(|&k| inp.pedimentos[k].fecha_operacion)
            })
            .unwrap_or(f.as_of);
        if period.contains(date) {
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
    findings
}

/// Per-check summaries (registry order), overall totals, risk and counts per month.
struct Summaries {
    by_check: Vec<CheckSummary>,
    totals: Totals,
    risk: RiskTotals,
    by_month: BTreeMap<String, BTreeMap<String, usize>>,
}

fn summarize(findings: &[ReportFinding]) -> Summaries {
    let mut by_check_map: BTreeMap<String, CheckSummary> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut risk = RiskTotals::default();
    let mut by_month: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for rf in findings {
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
    Summaries {
        by_check,
        totals,
        risk,
        by_month,
    }
}

/// Open balance by age at the as-of date (ledger_balances is evaluated at as-of): the
/// buckets, their total value and the open partidas ordered by plazo end.
fn open_at(bals: &[&Balance], as_of: NaiveDate) -> (Vec<AgeBucket>, Decimal, Vec<Balance>) {
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
    for b in bals {
        if b.open_qty > Decimal::ZERO {
            let k = age_bucket(b.vence, as_of);
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
    (aging, open_total, saldos)
}

fn year_trend(
    ix: &Index,
    bals: &[&Balance],
    findings: &[ReportFinding],
    period: Period,
    as_of: NaiveDate,
) -> Vec<YearTrend> {
    let inp = ix.inputs;
    let mut trend = vec![];
    for year in period.from..=period.to {
        let mut t = Totals::default();
        for rf in findings.iter().filter(|rf| rf.date.year() == year) {
            t.add(&rf.f);
        }
        let ye = NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year");
        let at = ye.min(as_of);
        let (open_value_at, n) = if NaiveDate::from_ymd_opt(year, 1, 1).expect("year") > as_of {
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
    trend
}
