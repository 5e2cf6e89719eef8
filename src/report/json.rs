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

/// A finding: the findings columns ([`crate::findings::Finding`], decimals as strings)
/// and the date the report files it under.
#[derive(Serialize)]
struct F<'a> {
    #[serde(flatten)]
    f: &'a crate::findings::Finding,
    filed_date: String,
}

pub fn render(d: &ReportData) -> String {
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
            .map(|rf| F {
                f: &rf.f,
                filed_date: rf.date.to_string(),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("findings serialize");
    out.push('\n');
    out
}
