//! `reports/index.html`: one page across every company and period under the output
//! folder, linking each report with its headline numbers. Each report folder holds a
//! small `summary.json` (written with the report); the index is rebuilt from all of them
//! after every `report` run, so reports written by earlier runs (other years, other
//! companies) stay listed.

use super::ReportError;
use super::format::html as esc;
use super::model::ReportData;
use crate::model::lang::Lang;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;

/// The headline numbers of one report (`summary.json`). Decimals as strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub rfc: String,
    pub nombre: Option<String>,
    pub period: String,
    pub as_of: String,
    pub findings: usize,
    pub contributions: String,
    pub expired_value: String,
    pub open_value: String,
    pub cert_verdict: Option<String>,
    pub ratio_pct: Option<String>,
    pub threshold_pct: Option<String>,
}

pub fn summary(d: &ReportData) -> Summary {
    let h = d.cert_headline.as_ref();
    Summary {
        rfc: d.rfc.clone(),
        nombre: d.nombre.clone(),
        period: d.period.label(),
        as_of: d.as_of.to_string(),
        findings: d.findings.len(),
        contributions: d.risk.contributions.to_string(),
        expired_value: d.risk.expired_value.to_string(),
        open_value: d.open_total.to_string(),
        cert_verdict: d.cert_verdict.clone(),
        ratio_pct: h.map(|h| h.ratio.round_dp(2).to_string()),
        threshold_pct: h.map(|h| h.threshold.normalize().to_string()),
    }
}

pub fn write_summary(d: &ReportData, dir: &Path) -> Result<(), ReportError> {
    let p = dir.join("summary.json");
    let mut s = serde_json::to_string_pretty(&summary(d)).expect("summary serializes");
    s.push('\n');
    std::fs::write(&p, s).map_err(ReportError::io(&p))
}

/// Every `<out>/<RFC>/<period>/summary.json`, by RFC then period.
pub fn collect(out: &Path) -> Vec<Summary> {
    let mut v = vec![];
    let Ok(companies) = std::fs::read_dir(out) else {
        return v;
    };
    for c in companies.flatten().filter(|e| e.path().is_dir()) {
        let Ok(periods) = std::fs::read_dir(c.path()) else {
            continue;
        };
        for p in periods.flatten() {
            let f = p.path().join("summary.json");
            if let Ok(s) = std::fs::read_to_string(&f)
                && let Ok(x) = serde_json::from_str::<Summary>(&s)
            {
                v.push(x);
            }
        }
    }
    v.sort_by(|a, b| (&a.rfc, &a.period).cmp(&(&b.rfc, &b.period)));
    v
}

fn money(l: Lang, s: &str) -> String {
    s.parse::<Decimal>()
        .map(|d| l.money(d))
        .unwrap_or_else(|_| s.to_string())
}

/// The index page in `lang`.
pub fn render(items: &[Summary], lang: Lang) -> String {
    let l = lang;
    let title = l.pick(
        "Reportes de cumplimiento aduanero",
        "Customs compliance reports",
    );
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{}</style></head><body>\n<h1>{t}</h1>\n",
        l.code(),
        super::html::CSS,
        t = esc(title)
    );
    if items.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"na\">{}</p>",
            esc(l.pick("Sin reportes.", "No reports."))
        );
    } else {
        let heads = [
            (l.pick("Empresa (RFC)", "Company (RFC)"), false),
            (l.pick("Periodo", "Period"), false),
            (l.pick("Fecha de corte", "As of"), false),
            (l.pick("Hallazgos", "Findings"), true),
            (
                l.pick("Contribuciones en riesgo", "Contributions at risk"),
                true,
            ),
            (
                l.pick(
                    "Valor de temporales vencidas",
                    "Value of expired temporary imports",
                ),
                true,
            ),
            (
                l.pick("Saldo abierto (valor)", "Open temporary imports (value)"),
                true,
            ),
            (l.pick("Índice de retorno", "Return ratio"), true),
            (l.pick("Certificación", "Certification"), false),
        ];
        o.push_str("<table><thead><tr>");
        for (h, _) in heads {
            let _ = write!(o, "<th>{}</th>", esc(h));
        }
        o.push_str("</tr></thead><tbody>");
        for s in items {
            let href = format!("{}/{}/report.html", s.rfc, s.period);
            let who = match &s.nombre {
                Some(n) => format!("{} ({n})", s.rfc),
                None => s.rfc.clone(),
            };
            let ratio = match (&s.ratio_pct, &s.threshold_pct) {
                (Some(r), Some(t)) => format!("{r}% / {t}%"),
                (Some(r), None) => format!("{r}%"),
                _ => "n/a".into(),
            };
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"n\"><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td></tr>",
                esc(&who),
                esc(&href),
                esc(&s.period),
                esc(&s.as_of),
                s.findings,
                esc(&money(l, &s.contributions)),
                esc(&money(l, &s.expired_value)),
                esc(&money(l, &s.open_value)),
                esc(&ratio),
                esc(s.cert_verdict.as_deref().unwrap_or("n/a"))
            );
        }
        o.push_str("</tbody></table>\n");
        let _ = writeln!(
            o,
            "<p>{}</p>",
            esc(l.pick(
                "Índice de retorno: índice actual / umbral de la empresa. Cada monto es un tipo de valor distinto; no se suman.",
                "Return ratio: current ratio / the company's threshold. Each amount is a different kind of value; they are not added together."
            ))
        );
    }
    o.push_str("</body></html>\n");
    o
}

/// Rebuilds `<out>/index.html` from every report under `out`.
pub fn write(out: &Path, lang: Lang) -> Result<(), ReportError> {
    let p = out.join("index.html");
    std::fs::write(&p, render(&collect(out), lang)).map_err(ReportError::io(&p))
}
