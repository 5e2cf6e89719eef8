//! `findings.json`: report metadata and one object per finding. Decimals are JSON
//! strings (`"1234.50"`) so no consumer turns money into binary floating point; dates
//! are ISO strings; absent values are `null`.

use super::model::ReportData;
use serde::Serialize;

#[derive(Serialize)]
struct Doc<'a> {
    format: &'static str,
    tool_version: &'a str,
    rfc: &'a str,
    period_from: String,
    period_to: String,
    as_of: String,
    findings_count: usize,
    findings: Vec<F<'a>>,
}

#[derive(Serialize)]
struct F<'a> {
    check_code: &'a str,
    severity: &'a str,
    rfc: &'a str,
    pedimento_id: Option<&'a str>,
    partida: Option<i32>,
    related_pedimento_id: Option<&'a str>,
    fraccion: Option<&'a str>,
    period_start: Option<String>,
    as_of: String,
    quantity: Option<String>,
    amount: Option<String>,
    igi: Option<String>,
    iva: Option<String>,
    ieps: Option<String>,
    message: &'a str,
    mensaje: &'a str,
    citation: &'a str,
    evidence: &'a str,
    filed_date: String,
}

pub fn render(d: &ReportData) -> String {
    let s = |v: Option<rust_decimal::Decimal>| v.map(|x| x.to_string());
    let doc = Doc {
        format: "pedimento-audit findings v1",
        tool_version: &d.meta.tool_version,
        rfc: &d.rfc,
        period_from: d.period.start().to_string(),
        period_to: d.period.end().to_string(),
        as_of: d.as_of.to_string(),
        findings_count: d.findings.len(),
        findings: d
            .findings
            .iter()
            .map(|rf| {
                let f = &rf.f;
                F {
                    check_code: &f.check_code,
                    severity: &f.severity,
                    rfc: &f.rfc,
                    pedimento_id: f.pedimento_id.as_deref(),
                    partida: f.partida,
                    related_pedimento_id: f.related_pedimento_id.as_deref(),
                    fraccion: f.fraccion.as_deref(),
                    period_start: f.period_start.map(|x| x.to_string()),
                    as_of: f.as_of.to_string(),
                    quantity: s(f.quantity),
                    amount: s(f.amount),
                    igi: s(f.igi),
                    iva: s(f.iva),
                    ieps: s(f.ieps),
                    message: &f.message,
                    mensaje: &f.mensaje,
                    citation: &f.citation,
                    evidence: &f.evidence,
                    filed_date: rf.date.to_string(),
                }
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("findings serialize");
    out.push('\n');
    out
}
