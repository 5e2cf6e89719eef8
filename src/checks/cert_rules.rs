//! Versions of the IVA/IEPS certification rules, each with the dates it was in force and
//! the legal instrument it comes from. The assessment picks the version in force on the
//! as-of date (the date that plays the filing date); a date no version covers gives
//! `unknown` for every requirement, with that reason (never a silent default).
//!
//! What each version says, and where the product read it, is in docs/rules.md (generated
//! from this table by `pedimento-audit rules`, and tested against it). Requirements are the
//! same codes in every version (A-I .. AAA-d, see `cert.rs`); a version says for each code
//! whether the product checks it from data under that version's citation, whether it is a
//! manual requirement, or whether the version repealed it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::str::FromStr;
use std::sync::LazyLock;

/// How a version treats one requirement code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Checked as `cert.rs` evaluates it, citing this text.
    Cite(&'static str),
    /// Part of this version but not verifiable by the product (or its text under this
    /// version was not verified): a manual requirement, citing this text.
    Manual(&'static str),
    /// Not a requirement under this version (repealed, or not in its text): `n/a`.
    Repealed(&'static str),
}

/// One version of the certification rules (a row of `src/catalogs/cert_versions.csv`, with
/// its rows of `src/catalogs/cert_version_reqs.csv`).
#[derive(Debug)]
pub struct RuleVersion {
    /// Stable id (in findings' `rule_version` and docs/rules.md).
    pub id: &'static str,
    /// The instrument, as users read it.
    pub instrument: &'static str,
    pub valid_from: NaiveDate,
    /// Last day in force (inclusive); None = still in force.
    pub valid_to: Option<NaiveDate>,
    /// Vigencia of a registration granted under this version, in months: A, AA, AAA.
    pub vigencia_months: [u32; 3],
    /// Where the vigencia is set.
    pub vigencia_cite: &'static str,
    /// Renewal: the notice is due within this many business days before expiry.
    pub renewal_days: i64,
    pub renewal_cite: &'static str,
    /// Per requirement code, how this version treats it (`cert_version_reqs.csv`).
    pub reqs: Vec<(&'static str, Applies)>,
    /// Codes not in `reqs`: None = checked under `cert.rs`'s own citation (the 2013 text the
    /// requirement table was written from, `unlisted = cite`); Some(text) = manual with
    /// that citation (`unlisted = manual`: the text of this version was not verified).
    pub unlisted_manual: Option<&'static str>,
}

impl RuleVersion {
    pub fn covers(&self, d: NaiveDate) -> bool {
        d >= self.valid_from && self.valid_to.is_none_or(|t| d <= t)
    }
    /// Vigencia in months for a modality (`A`, `AA`, `AAA`).
    pub fn vigencia(&self, modality: &str) -> Option<u32> {
        match modality {
            "A" => Some(self.vigencia_months[0]),
            "AA" => Some(self.vigencia_months[1]),
            "AAA" => Some(self.vigencia_months[2]),
            _ => None,
        }
    }
}

/// The rule tables, compiled in (bench/portable_audit.py reads the same files, so Spark and
/// DuckDB apply the same versions and thresholds).
pub const VERSIONS_CSV: &str = include_str!("../catalogs/cert_versions.csv");
pub const VERSION_REQS_CSV: &str = include_str!("../catalogs/cert_version_reqs.csv");
pub const THRESHOLDS_CSV: &str = include_str!("../catalogs/cert_thresholds.csv");

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

type Row = std::collections::HashMap<String, String>;

fn rows(text: &'static str) -> Vec<Row> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = r
        .headers()
        .expect("rule table header")
        .iter()
        .map(String::from)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("rule table row");
            head.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("rule table date")
}

fn version(v: &Row, reqs: &[Row]) -> RuleVersion {
    let n = |c: &str| v[c].parse::<u32>().expect("rule table number");
    RuleVersion {
        id: leak(&v["id"]),
        instrument: leak(&v["instrument"]),
        valid_from: date(&v["valid_from"]),
        valid_to: (!v["valid_to"].is_empty()).then(|| date(&v["valid_to"])),
        vigencia_months: [
            n("vigencia_a_months"),
            n("vigencia_aa_months"),
            n("vigencia_aaa_months"),
        ],
        vigencia_cite: leak(&v["vigencia_cite"]),
        renewal_days: n("renewal_days") as i64,
        renewal_cite: leak(&v["renewal_cite"]),
        reqs: reqs
            .iter()
            .filter(|r| r["version"] == v["id"])
            .map(|r| {
                let c = leak(&r["citation"]);
                let a = match r["treatment"].as_str() {
                    "cite" => Applies::Cite(c),
                    "manual" => Applies::Manual(c),
                    "repealed" => Applies::Repealed(c),
                    other => panic!("cert_version_reqs.csv: unknown treatment {other}"),
                };
                (leak(&r["code"]), a)
            })
            .collect(),
        unlisted_manual: match v["unlisted"].as_str() {
            "cite" => None,
            "manual" => Some(leak(&v["unlisted_citation"])),
            other => panic!("cert_versions.csv: unknown unlisted treatment {other}"),
        },
    }
}

/// Every version the product knows, oldest first (`src/catalogs/cert_versions.csv`). Gaps
/// are deliberate: dates whose rule text the product does not have give `unknown`.
pub static VERSIONS: LazyLock<Vec<RuleVersion>> = LazyLock::new(|| {
    let reqs = rows(VERSION_REQS_CSV);
    rows(VERSIONS_CSV)
        .iter()
        .map(|v| version(v, &reqs))
        .collect()
});

/// The thresholds of the requirements (`src/catalogs/cert_thresholds.csv`): (code,
/// parameter, value).
static THRESHOLDS: LazyLock<Vec<(String, String, Decimal)>> = LazyLock::new(|| {
    rows(THRESHOLDS_CSV)
        .into_iter()
        .map(|r| {
            let v = Decimal::from_str(&r["value"]).expect("cert_thresholds.csv value");
            (r["code"].clone(), r["parameter"].clone(), v)
        })
        .collect()
});

/// A threshold of a requirement, e.g. `param("AA-b", "min_years")`; panics on a name the
/// table lacks (the assessment tests evaluate every requirement).
pub fn param(code: &str, name: &str) -> Decimal {
    THRESHOLDS
        .iter()
        .find(|(c, n, _)| c == code && n == name)
        .map(|t| t.2)
        .unwrap_or_else(|| panic!("src/catalogs/cert_thresholds.csv has no {code} {name}"))
}

/// [`param`] as an integer (months, days, employees, pesos).
pub fn iparam(code: &str, name: &str) -> i64 {
    param(code, name).to_i64().expect("integer threshold")
}

/// The version in force on `d`, if the product knows one.
pub fn in_force(d: NaiveDate) -> Option<&'static RuleVersion> {
    VERSIONS.iter().find(|v| v.covers(d))
}

/// The version with this id.
pub fn by_id(id: &str) -> Option<&'static RuleVersion> {
    VERSIONS.iter().find(|v| v.id.eq_ignore_ascii_case(id))
}

pub fn ids() -> Vec<&'static str> {
    VERSIONS.iter().map(|v| v.id).collect()
}

/// How version `v` treats requirement `code`; `base` is the 2013 citation of `cert.rs`'s
/// table. The version's rows of cert_version_reqs.csv, else its `unlisted` treatment.
pub fn resolve(v: &RuleVersion, code: &str, base: &'static str) -> Applies {
    if let Some((_, a)) = v.reqs.iter().find(|(c, _)| *c == code) {
        return *a;
    }
    match v.unlisted_manual {
        None => Applies::Cite(base),
        Some(cite) => Applies::Manual(cite),
    }
}

/// Why no version applies on `d`, for the `unknown` rows.
pub fn uncovered_reason(d: NaiveDate) -> String {
    let spans: Vec<String> = VERSIONS
        .iter()
        .map(|v| {
            format!(
                "{} {}..{}",
                v.id,
                v.valid_from,
                v.valid_to.map(|t| t.to_string()).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "no certification rule version known for {d} (versions: {})",
        spans.join("; ")
    )
}

/// docs/rules.md: every rule version the product knows, generated from the tables (the
/// test `rules_doc_is_generated` fails when the file drifts; regenerate with
/// `pedimento-audit rules > docs/rules.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rule versions the product applies\n\n\
         Generated by `pedimento-audit rules` from `src/checks/cert_rules.rs` and the dated rule tables of `src/catalogs/`; do not edit by \
         hand (a test compares this file with the tables).\n\n\
         ## IVA/IEPS certification\n\n\
         The assessment applies the version in force on the as-of date (the date that plays \
         the filing date); `--cert-rules ID` forces one. A date no version covers gives \
         `unknown` for every requirement, with the reason. CERT-RENEWAL takes the term of \
         the version in force when the term started.\n\n\
         | id | instrument | valid from | valid to | vigencia A/AA/AAA (months) | renewal notice |\n\
         |---|---|---|---|---|---|\n",
    );
    for v in VERSIONS.iter() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {}/{}/{} ({}) | {} business days before expiry ({}) |\n",
            v.id,
            v.instrument,
            v.valid_from,
            v.valid_to
                .map(|t| t.to_string())
                .unwrap_or_else(|| "in force".into()),
            v.vigencia_months[0],
            v.vigencia_months[1],
            v.vigencia_months[2],
            v.vigencia_cite,
            v.renewal_days,
            v.renewal_cite
        ));
    }
    out.push_str(
        "\n### Requirements per version\n\n\
         RCGMCE2013 checks every requirement of `src/checks/cert.rs` under its 2013 citation. \
         The RGCE versions treat the codes as follows (codes not listed: manual, because \
         the product did not verify their text under that version):\n\n\
         | version | code | treatment | citation |\n|---|---|---|---|\n",
    );
    for v in VERSIONS.iter().filter(|v| !v.reqs.is_empty()) {
        let mut codes: Vec<&str> = v.reqs.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        for c in codes {
            let (t, cite) = match resolve(v, c, "") {
                Applies::Cite(x) => ("checked from data", x),
                Applies::Manual(x) => ("manual", x),
                Applies::Repealed(x) => ("n/a", x),
            };
            out.push_str(&format!("| {} | {c} | {t} | {cite} |\n", v.id));
        }
    }
    out.push_str(&rule_tables_markdown());
    out.push_str(
        "\n## Business days\n\n\
         Deadlines in days (renewal notice, \"a más tardar al día siguiente\" of virtual \
         operations) count business days (Código Fiscal de la Federación art. 12): \
         Saturdays, Sundays and the rest days of Ley Federal del Trabajo art. 74 (January 1; \
         first Monday of February; third Monday of March; May 1; September 16; third \
         Monday of November; December 25; December 1 every six years until 2018 and \
         October 1 every six years from 2024) are excluded (`src/model/calendar.rs`). SAT \
         vacation periods are not subtracted.\n",
    );
    out
}

/// The dated rows of the other rule tables (`catalog::VERSIONED_TABLES`), for docs/rules.md.
fn rule_tables_markdown() -> String {
    use crate::model::catalog;
    let mut out = String::from(
        "\n## Plazos, discharges and default contribution rates\n\n\
         Each row of these tables carries the version of the rule, the dates it is in force \
         and its instrument. A check takes the row in force on the operation's date (the \
         import's date for plazos and default rates, the discharge's date for discharges); a \
         date no row covers gives `plazo desconocido` (TEMP-PLAZO-UNKNOWN), no discharge, or \
         an empty IVA with the reason in the message, never another version's value. \
         Findings name the version applied (`[version]` in the citation). `valid_from` is the \
         earliest date the product has a source for: MOA2007 = the Manual de Operación \
         Aduanera 2007; LIVA2010 = the 16 % rate in force from 2010-01-01.\n",
    );
    for (name, text) in catalog::VERSIONED_TABLES {
        if *name == "virtual_versions" {
            continue;
        }
        out.push_str(&format!(
            "\n### `src/catalogs/{name}.csv`\n\n| key | version | instrument | valid from | valid to |\n|---|---|---|---|---|\n"
        ));
        let recs: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.expect("catalog row"))
            .collect();
        for (rec, (key, v)) in recs.iter().zip(catalog::validities(text)) {
            let key = if *name == "discharge_claves" {
                format!("{key} (tipo_operacion {})", &rec[1])
            } else {
                key
            };
            out.push_str(&format!(
                "| {key} | {} | {} | {} | {} |\n",
                v.version,
                v.instrumento,
                v.valid_from,
                v.valid_to
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "in force".into())
            ));
        }
    }
    out.push_str(
        "\n## Virtual operations\n\n\
         `src/catalogs/virtual_versions.csv`: the VIRTUAL-* citations name the version in \
         force on the receiver's date (the side's date for VIRTUAL-UNPAIRED) with its \
         instrument and rule; the numbering notes are in the explain pages. The pairing \
         windows of `src/catalogs/virtual_cases.csv` (Manual de Operación Aduanera 2007) apply \
         to every date. Consolidated pedimentos (`pedimentos.consolidado`: the CSV column, or \
         a second remesa in the Data Stage Sel file): the descargo ledger counts the plazo of \
         a consolidated temporary import from the start the version in force on its date \
         gives (`inicio_plazo_consolidado`: `primera_remesa` = its earliest selección, \
         `cierre` = its closing, the payment date) and its citation names that version; the \
         deadline of a consolidated virtual pedimento is the monthly one of the version in \
         force on its first remesa (`consolidado_dias_mes`, `consolidado_dias_habiles`: the \
         10th business day or day 20 of the following month), checked by VIRTUAL-LATE \
         against its closing.\n\n\
         | version | valid from | valid to | instrument | numbering | consolidated pedimentos | plazo of a consolidated pedimento | plazo start applied |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let recs: Vec<csv::StringRecord> =
        csv::Reader::from_reader(catalog::VIRTUAL_VERSIONS.as_bytes())
            .records()
            .map(|r| r.expect("virtual_versions row"))
            .collect();
    for (rec, (_, v)) in recs
        .iter()
        .zip(catalog::validities(catalog::VIRTUAL_VERSIONS))
    {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | `{}` ({}) |\n",
            v.version,
            v.valid_from,
            v.valid_to
                .map(|t| t.to_string())
                .unwrap_or_else(|| "in force".into()),
            v.instrumento,
            &rec[5],
            &rec[6],
            &rec[7],
            &rec[9],
            &rec[13]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_doc_is_generated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            doc == markdown(),
            "docs/rules.md differs from the rule tables: run `pedimento-audit rules > docs/rules.md`"
        );
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn versions_are_ordered_and_disjoint() {
        for w in VERSIONS.windows(2) {
            let end = w[0].valid_to.expect("only the last version is open-ended");
            assert!(end < w[1].valid_from, "{} overlaps {}", w[0].id, w[1].id);
        }
        assert!(VERSIONS.last().unwrap().valid_to.is_none());
    }

    #[test]
    fn picks_the_version_in_force() {
        assert_eq!(in_force(d(2014, 12, 31)).unwrap().id, "RCGMCE2013");
        assert!(in_force(d(2015, 6, 30)).is_none(), "2015-2016 not encoded");
        assert_eq!(in_force(d(2018, 1, 1)).unwrap().id, "RGCE2017");
        assert_eq!(in_force(d(2019, 6, 25)).unwrap().id, "RGCE2019");
        assert_eq!(in_force(d(2023, 10, 30)).unwrap().id, "RGCE2019");
        assert_eq!(in_force(d(2023, 10, 31)).unwrap().id, "RGCE2023-4RM");
        assert_eq!(in_force(d(2023, 10, 31)).unwrap().vigencia("AAA"), Some(12));
        assert_eq!(in_force(d(2022, 1, 1)).unwrap().vigencia("AAA"), Some(36));
    }

    #[test]
    fn rgce_treatment_of_codes() {
        let v = in_force(d(2022, 12, 31)).unwrap();
        assert_eq!(
            resolve(v, "B-I-d", "x"),
            Applies::Cite("RGCE, regla 7.1.2 (rubro A, programa IMMEX)")
        );
        assert!(matches!(resolve(v, "AA-a", "x"), Applies::Repealed(_)));
        assert!(matches!(resolve(v, "AA-b", "x"), Applies::Manual(_)));
        let v13 = in_force(d(2014, 6, 30)).unwrap();
        assert_eq!(resolve(v13, "AA-b", "base"), Applies::Cite("base"));
    }
}
