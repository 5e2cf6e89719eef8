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

/// One version of the certification rules.
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
    /// Per requirement code, what this version changes from the RGCE common treatment
    /// (`RGCE_COMMON`; codes in neither list are manual: text not verified). Unused for
    /// the 2013 version, which is the text `cert.rs`'s table was written from.
    pub reqs: &'static [(&'static str, Applies)],
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

const fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, day) {
        Some(x) => x,
        None => panic!("bad date"),
    }
}

const RGCE_GENERAL: &str = "RGCE, reglas 7.1.1 y 7.1.2 (rubro A)";
const RGCE_IMMEX: &str = "RGCE, regla 7.1.2 (rubro A, programa IMMEX)";
const RGCE_NOT_VERIFIED: &str = "RGCE, reglas 7.1.1 a 7.1.3: texto de esta versión no verificado por el producto; verificar manualmente";

/// The requirement codes whose substance under RGCE Título 7 the product could confirm
/// (docs/rules.md says from which sources), and how the rest are treated.
const RGCE_COMMON: &[(&str, Applies)] = &[
    ("A-III", Applies::Cite(RGCE_GENERAL)),
    ("A-IV", Applies::Cite(RGCE_GENERAL)),
    ("A-V", Applies::Cite(RGCE_GENERAL)),
    ("A-VI", Applies::Cite(RGCE_GENERAL)),
    ("B-I-a", Applies::Cite(RGCE_IMMEX)),
    ("B-I-d", Applies::Cite(RGCE_IMMEX)),
    ("S-a", Applies::Cite(RGCE_IMMEX)),
    ("S-b", Applies::Cite(RGCE_IMMEX)),
    ("AA-c", Applies::Cite("RGCE, regla 7.1.3, fr. I (rubro AA)")),
    (
        "AAA-c",
        Applies::Cite("RGCE, regla 7.1.3, fr. II (rubro AAA)"),
    ),
];

const RGCE_2017: &[(&str, Applies)] = &[
    // In force until RGCE 2019, with a 12-month window instead of the prior fiscal year:
    // a manual requirement here (the product checks the 2013 window only).
    (
        "AA-a",
        Applies::Manual("RGCE 2017, regla 7.1.3, fr. I, inciso a) (40 %, últimos 12 meses)"),
    ),
    (
        "AAA-a",
        Applies::Manual("RGCE 2017, regla 7.1.3, fr. II, inciso a) (70 %, últimos 12 meses)"),
    ),
];

const RGCE_2019: &[(&str, Applies)] = &[
    (
        "AA-a",
        Applies::Repealed("derogado por las RGCE para 2019 (DOF 24-06-2019)"),
    ),
    (
        "AAA-a",
        Applies::Repealed("derogado por las RGCE para 2019 (DOF 24-06-2019)"),
    ),
];

/// Every version the product knows, oldest first. Gaps are deliberate: dates whose rule
/// text the product does not have give `unknown`.
pub const VERSIONS: &[RuleVersion] = &[
    RuleVersion {
        id: "RCGMCE2013",
        instrument: "RCGMCE 2013 regla 5.2.13 (Octava Resolución de Modificaciones, DOF 27-02-2014)",
        valid_from: d(2014, 2, 28),
        // The RGCE 2014 and 2015 restated the scheme as reglas 5.2.12 / 5.2.19 (Anexo 22,
        // identificador CI); their text is not encoded, so 2015-2016 is not covered.
        valid_to: Some(d(2014, 12, 31)),
        vigencia_months: [12, 24, 36],
        vigencia_cite: "RCGMCE 2013 regla 5.2.14",
        renewal_days: 30,
        renewal_cite: "RCGMCE 2013 regla 5.2.14 (aviso de renovación dentro de los 30 días anteriores al vencimiento)",
        reqs: &[],
    },
    RuleVersion {
        id: "RGCE2017",
        instrument: "RGCE 2017, Título 7, reglas 7.1.1 a 7.1.3 (DOF 27-01-2017)",
        valid_from: d(2017, 1, 28),
        valid_to: Some(d(2019, 6, 24)),
        vigencia_months: [12, 24, 36],
        vigencia_cite: "RGCE 2017, regla 7.1.6",
        renewal_days: 30,
        renewal_cite: "RGCE 2017, regla 7.2.3 (aviso único de renovación dentro de los 30 días previos al vencimiento)",
        reqs: RGCE_2017,
    },
    RuleVersion {
        id: "RGCE2019",
        instrument: "RGCE 2019 a 2023, Título 7, reglas 7.1.1 a 7.1.3 (RGCE 2019, DOF 24-06-2019)",
        valid_from: d(2019, 6, 25),
        valid_to: Some(d(2023, 10, 30)),
        vigencia_months: [12, 24, 36],
        vigencia_cite: "RGCE, regla 7.1.6, séptimo párrafo",
        renewal_days: 30,
        renewal_cite: "RGCE, regla 7.2.3 (aviso único de renovación dentro de los 30 días previos al vencimiento)",
        reqs: RGCE_2019,
    },
    RuleVersion {
        id: "RGCE2023-4RM",
        instrument: "RGCE 2023 y posteriores, Título 7 (Cuarta Resolución de Modificaciones a las RGCE 2023, DOF 30-10-2023)",
        valid_from: d(2023, 10, 31),
        valid_to: None,
        // The Cuarta Resolución repealed 7.1.6, séptimo párrafo, fr. I (AA 2 years, AAA
        // 3 years): every rubro is granted for one year.
        vigencia_months: [12, 12, 12],
        vigencia_cite: "RGCE, regla 7.1.6 (fr. I del séptimo párrafo derogada, DOF 30-10-2023)",
        renewal_days: 30,
        renewal_cite: "RGCE, regla 7.2.3 (aviso único de renovación dentro de los 30 días previos al vencimiento)",
        reqs: RGCE_2019,
    },
];

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
/// table. RGCE versions: their own list, then `RGCE_COMMON`, else manual (not verified).
pub fn resolve(v: &RuleVersion, code: &str, base: &'static str) -> Applies {
    if v.id == "RCGMCE2013" {
        return Applies::Cite(base);
    }
    if let Some((_, a)) = v.reqs.iter().find(|(c, _)| *c == code) {
        return *a;
    }
    if let Some((_, a)) = RGCE_COMMON.iter().find(|(c, _)| *c == code) {
        return *a;
    }
    Applies::Manual(RGCE_NOT_VERIFIED)
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
    for v in VERSIONS {
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
    for v in VERSIONS.iter().filter(|v| v.id != "RCGMCE2013") {
        let mut codes: Vec<&str> = RGCE_COMMON.iter().map(|(c, _)| *c).collect();
        codes.extend(v.reqs.iter().map(|(c, _)| *c));
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
         deadlines of consolidated virtual pedimentos are documented here and not checked \
         yet.\n\n\
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
