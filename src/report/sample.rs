//! The auditor's sample: a reproducible stratified sample of pedimentos, and `sample.csv`.
//!
//! Strata, in draw order:
//! 1. pedimentos with findings, one stratum per worst severity (critical, high, ...);
//! 2. the other pedimentos of the period, in four value bands (quartiles of valor_aduana,
//!    highest band first).
//!
//! Budget: up to ¾ of N goes to the finding strata (in severity order), the rest — and
//! whatever the finding strata could not use — is spread round-robin over the value
//! bands, so the sample always holds some clean pedimentos as a control when N ≥ 2.
//! Within a stratum the candidates are sorted by pedimento_id and shuffled with
//! [`crate::model::rng::Rng`] (SplitMix64) seeded with `--seed`: same data, same seed →
//! same sample on any machine.

use super::format::mxn;
use super::load::Pedimento;
use super::model::{Index, ReportFinding, severity_rank};
use crate::model::rng::Rng;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub order: usize,
    pub pedimento_id: String,
    pub clave: String,
    pub fecha_pago: Option<NaiveDate>,
    pub valor_aduana: Option<Decimal>,
    pub stratum: String,
    pub findings: usize,
    pub checks: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    pub name: String,
    pub population: usize,
    pub drawn: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub requested: usize,
    pub seed: u64,
    pub strata: Vec<Stratum>,
    pub picks: Vec<Pick>,
}

struct Cand<'a> {
    id: &'a str,
    ped: Option<&'a Pedimento>,
    findings: usize,
    checks: BTreeSet<&'a str>,
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        v.swap(i, j);
    }
}

// size-exception: the sampling stages (findings first, value bands, round-robin) share the picked set
pub fn draw(
    in_period: &[&Pedimento],
    findings: &[ReportFinding],
    ix: &Index,
    n: usize,
    seed: u64,
) -> Sample {
    // Worst severity and checks per pedimento with findings.
    let mut with: BTreeMap<&str, (usize, Cand)> = BTreeMap::new();
    for rf in findings {
        let Some(id) = rf.f.pedimento_id.as_deref() else {
            continue;
        };
        let e = with.entry(id).or_insert_with(|| {
            (
                usize::MAX,
                Cand {
                    id,
                    ped: ix.ped_by_id.get(id).map(|&k| &ix.inputs.pedimentos[k]),
                    findings: 0,
                    checks: BTreeSet::new(),
                },
            )
        });
        e.0 = e.0.min(severity_rank(&rf.f.severity));
        e.1.findings += 1;
        e.1.checks.insert(rf.f.check_code.as_str());
    }
    let mut sev_strata: Vec<(String, Vec<Cand>)> = crate::findings::SEVERITIES
        .iter()
        .map(|s| (format!("findings: {s}"), vec![]))
        .collect();
    sev_strata.push(("findings: other".into(), vec![]));
    for (_, (rank, c)) in with {
        sev_strata[rank.min(crate::findings::SEVERITIES.len())]
            .1
            .push(c);
    }
    // The rest, by value band (quartiles).
    let flagged: BTreeSet<&str> = sev_strata
        .iter()
        .flat_map(|(_, v)| v.iter().map(|c| c.id))
        .collect();
    let mut rest: Vec<&Pedimento> = in_period
        .iter()
        .copied()
        .filter(|p| !flagged.contains(p.pedimento_id.as_str()))
        .collect();
    rest.sort_by(|a, b| (a.valor_aduana, &a.pedimento_id).cmp(&(b.valor_aduana, &b.pedimento_id)));
    let q = rest.len();
    let mut bands: Vec<(String, Vec<Cand>)> = vec![];
    for k in (0..4).rev() {
        let (lo, hi) = (q * k / 4, q * (k + 1) / 4);
        let slice = &rest[lo..hi];
        let name = match (slice.first(), slice.last()) {
            (Some(a), Some(b)) => format!(
                "no findings: value band Q{} ({} to {})",
                k + 1,
                mxn(a.valor_aduana),
                mxn(b.valor_aduana)
            ),
            _ => format!("no findings: value band Q{}", k + 1),
        };
        bands.push((
            name,
            slice
                .iter()
                .map(|p| Cand {
                    id: p.pedimento_id.as_str(),
                    ped: Some(*p),
                    findings: 0,
                    checks: BTreeSet::new(),
                })
                .collect(),
        ));
    }

    let mut rng = Rng::new(seed);
    let mut strata = vec![];
    let mut picks = vec![];
    let reserve = if bands.iter().any(|(_, v)| !v.is_empty()) && n >= 2 {
        (n / 4).max(1).min(q)
    } else {
        0
    };
    let mut budget = n - reserve;
    let push = |name: &str,
                mut cands: Vec<Cand>,
                k: usize,
                rng: &mut Rng,
                picks: &mut Vec<Pick>,
                strata: &mut Vec<Stratum>| {
        cands.sort_by(|a, b| a.id.cmp(b.id));
        shuffle(&mut cands, rng);
        let pop = cands.len();
        for c in cands.into_iter().take(k) {
            let reason = if c.findings > 0 {
                format!(
                    "{} finding(s) ({}); worst severity stratum '{}': drawn {} of {}",
                    c.findings,
                    c.checks.iter().copied().collect::<Vec<_>>().join(", "),
                    name.trim_start_matches("findings: "),
                    k.min(pop),
                    pop
                )
            } else {
                format!("control, {name}: drawn {} of {}", k.min(pop), pop)
            };
            picks.push(Pick {
                order: picks.len() + 1,
                pedimento_id: c.id.to_string(),
                clave: c.ped.map(|p| p.clave.clone()).unwrap_or_default(),
                fecha_pago: c.ped.map(|p| p.fecha_pago),
                valor_aduana: c.ped.map(|p| p.valor_aduana),
                stratum: name.to_string(),
                findings: c.findings,
                checks: c.checks.iter().copied().collect::<Vec<_>>().join(";"),
                reason,
            });
        }
        strata.push(Stratum {
            name: name.to_string(),
            population: pop,
            drawn: k.min(pop),
        });
    };
    for (name, cands) in sev_strata {
        if cands.is_empty() {
            continue;
        }
        let k = budget.min(cands.len());
        budget -= k;
        push(&name, cands, k, &mut rng, &mut picks, &mut strata);
    }
    // Round-robin over the bands with what is left.
    let mut left = budget + reserve;
    let mut take = vec![0usize; bands.len()];
    loop {
        let mut progressed = false;
        for (i, (_, v)) in bands.iter().enumerate() {
            if left > 0 && take[i] < v.len() {
                take[i] += 1;
                left -= 1;
                progressed = true;
            }
        }
        if !progressed || left == 0 {
            break;
        }
    }
    for ((name, cands), k) in bands.into_iter().zip(take) {
        if cands.is_empty() {
            continue;
        }
        push(&name, cands, k, &mut rng, &mut picks, &mut strata);
    }
    Sample {
        requested: n,
        seed,
        strata,
        picks,
    }
}

/// `sample.csv`: one row per drawn pedimento, in draw order.
pub fn write_csv(s: &Sample, path: &Path) -> Result<(), super::ReportError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| super::ReportError::csv(path, e))?;
    let err = |e| super::ReportError::csv(path, e);
    w.write_record([
        "order",
        "pedimento_id",
        "clave",
        "fecha_pago",
        "valor_aduana",
        "stratum",
        "findings",
        "checks",
        "reason",
    ])
    .map_err(err)?;
    for p in &s.picks {
        w.write_record([
            p.order.to_string(),
            p.pedimento_id.clone(),
            p.clave.clone(),
            p.fecha_pago.map(|d| d.to_string()).unwrap_or_default(),
            p.valor_aduana.map(|d| d.to_string()).unwrap_or_default(),
            p.stratum.clone(),
            p.findings.to_string(),
            p.checks.clone(),
            p.reason.clone(),
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|e| super::ReportError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}
