//! Vendored catalogs (compiled in) and the project's rule tables (plazos, discharges).
//! Sources are listed in `src/catalogs/README.md`.

use chrono::NaiveDate;
use std::collections::HashSet;
use std::sync::OnceLock;

pub const APENDICE2: &str = include_str!("../catalogs/apendice2_claves_pedimento.csv");
pub const APENDICE8: &str = include_str!("../catalogs/apendice8_identificadores.csv");
pub const PLAZOS: &str = include_str!("../catalogs/plazos.csv");
pub const DISCHARGES: &str = include_str!("../catalogs/discharge_claves.csv");
/// Default contribution rates used to value amounts at risk when a pedimento does not
/// declare its own rate (IVA 16 %), each with the dates it was in force.
pub const TASAS: &str = include_str!("../catalogs/tasas_contribucion.csv");

/// The rule tables whose rows carry `version`, `valid_from`, `valid_to` (empty = in force)
/// and `instrumento`: a check takes the row in force on the date that matters and a date
/// no row covers is reported as unknown, never defaulted. Registered as SQL tables
/// under these names (`src/checks/context.rs`, `bench/crossengine.py`).
pub const VERSIONED_TABLES: &[(&str, &str)] = &[
    ("plazos", PLAZOS),
    ("discharge_claves", DISCHARGES),
    ("tasas_contribucion", TASAS),
    ("virtual_versions", VIRTUAL_VERSIONS),
];

/// Versions of the virtual-operation rules (numbering, consolidated pedimentos, plazo start
/// of consolidated pedimentos): the citations of the VIRTUAL-* checks name the version in
/// force on the receiver's date.
pub const VIRTUAL_VERSIONS: &str = include_str!("../catalogs/virtual_versions.csv");

/// One dated row of a rule table (see [`VERSIONED_TABLES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    pub version: String,
    pub valid_from: NaiveDate,
    /// None = still in force.
    pub valid_to: Option<NaiveDate>,
    pub instrumento: String,
}

impl Validity {
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|t| d <= t)
    }
}

/// The validity columns of every row of a versioned table, keyed by its first column
/// (clave or contribución), in file order. Panics on a malformed date: the tables are
/// compiled in and a unit test reads them all.
pub fn validities(text: &str) -> Vec<(String, Validity)> {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let h = r.headers().expect("header").clone();
    let idx = |n: &str| h.iter().position(|x| x == n).expect(n);
    let (v, f, t, i) = (
        idx("version"),
        idx("valid_from"),
        idx("valid_to"),
        idx("instrumento"),
    );
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d");
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            let to = rec[t].trim();
            (
                rec[0].to_string(),
                Validity {
                    version: rec[v].to_string(),
                    valid_from: date(&rec[f]).expect("valid_from"),
                    valid_to: (!to.is_empty()).then(|| date(to).expect("valid_to")),
                    instrumento: rec[i].to_string(),
                },
            )
        })
        .collect()
}

/// Claves of the 2007-era manual (seed 004 L4239-4255, L2770-2794) that no longer appear in
/// Apéndice 2 but do appear in historical filings: A2/A6 (PITEX), H2/H3 (maquila),
/// J1/J2 (returns). Accepted so old history can be ingested.
pub const LEGACY_CLAVES: &[&str] = &["A2", "A6", "H2", "H3", "J1", "J2"];

fn records(text: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    r.records().filter_map(|x| x.ok()).collect()
}

/// Every clave de pedimento accepted by ingest (Apéndice 2 plus legacy claves).
pub fn claves() -> &'static HashSet<String> {
    static C: OnceLock<HashSet<String>> = OnceLock::new();
    C.get_or_init(|| {
        let mut s: HashSet<String> = records(APENDICE2)
            .iter()
            .map(|r| r[0].trim().to_string())
            .collect();
        s.extend(LEGACY_CLAVES.iter().map(|c| c.to_string()));
        s
    })
}

/// One row of `plazos.csv`: how long a temporary import under `clave` may stay, in the
/// version of the rule in force between `validity.valid_from` and `validity.valid_to`.
#[derive(Debug, Clone)]
pub struct Plazo {
    pub clave: String,
    pub tipo_bien: String,
    /// Months counted from the import's selección date; None when the plazo is the
    /// program's validity (`por_programa`) or unknown.
    pub meses: Option<u32>,
    pub por_programa: bool,
    pub cita: String,
    pub validity: Validity,
}

/// Every row of `plazos.csv` (several versions of a clave may follow each other).
pub fn plazos() -> &'static Vec<Plazo> {
    static P: OnceLock<Vec<Plazo>> = OnceLock::new();
    P.get_or_init(|| {
        records(PLAZOS)
            .iter()
            .zip(validities(PLAZOS))
            .map(|(r, (_, validity))| Plazo {
                clave: r[0].to_string(),
                tipo_bien: r[1].to_string(),
                meses: r[2].trim().parse().ok(),
                por_programa: r[3].trim() == "1",
                cita: r[4].to_string(),
                validity,
            })
            .collect()
    })
}

/// The plazo of `clave` in force on `date` (the import's date), or None when no version
/// covers that date (the balance is then `plazo desconocido`).
pub fn plazo_in_force(clave: &str, date: NaiveDate) -> Option<&'static Plazo> {
    plazos()
        .iter()
        .find(|p| p.clave == clave && p.validity.covers(date))
}

/// Contribution codes of Anexo 22 Apéndice 12 used by the dataset. Apéndice 12 is not in
/// the seeds; these four codes are the long-standing SAAI ones (external knowledge).
pub const CONTRIB_DTA: &str = "1";
pub const CONTRIB_IVA: &str = "3";
pub const CONTRIB_IEPS: &str = "5";
pub const CONTRIB_IGI: &str = "6";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_load() {
        let c = claves();
        for k in [
            "IN", "AF", "RT", "V1", "V5", "F4", "F5", "A3", "H1", "R1", "A1", "H2",
        ] {
            assert!(c.contains(k), "{k}");
        }
        assert!(!c.contains("ZZ"));
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = plazo_in_force("IN", d("2022-05-01")).unwrap();
        assert_eq!(p.meses, Some(18));
        assert_eq!(p.validity.version, "MOA2007");
        assert!(plazo_in_force("AF", d("2022-05-01")).unwrap().por_programa);
        // Before the earliest version the project has a source for: no plazo, not a default.
        assert!(plazo_in_force("IN", d("2006-12-31")).is_none());
        // Virtual-operation rules: the 2007 manual until the RCGMCE 2013 text of seed 002
        // (Octava Resolución de Modificaciones, DOF 27-02-2014) takes over.
        let vv = validities(VIRTUAL_VERSIONS);
        let at = |s: &str| {
            vv.iter()
                .filter(|(_, v)| v.covers(d(s)))
                .map(|(_, v)| v.version.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(at("2014-02-27"), vec!["MOA2007"]);
        assert_eq!(at("2014-02-28"), vec!["RCGMCE2013"]);
        assert_eq!(at("2022-06-01"), vec!["RCGMCE2013"]);
        assert!(at("2006-12-31").is_empty());
    }

    /// Versions of one key never overlap (a date picks at most one row, so the SQL join
    /// by date cannot multiply rows), and a clave keeps its kind across versions (the
    /// ledger classifies an import by clave before it knows the date's version).
    #[test]
    fn versioned_tables_are_disjoint_per_key() {
        for (name, text) in VERSIONED_TABLES {
            let rows = validities(text);
            let recs = records(text);
            // discharge_claves is keyed by (clave, tipo_operacion).
            let key = |i: usize| match *name {
                "discharge_claves" => format!("{}|{}", &recs[i][0], &recs[i][1]),
                _ => recs[i][0].to_string(),
            };
            let mut kinds: std::collections::HashMap<String, Vec<String>> = Default::default();
            for (i, (k, a)) in rows.iter().enumerate() {
                assert!(
                    a.valid_to.is_none_or(|t| t >= a.valid_from),
                    "{name} {k}: valid_to before valid_from"
                );
                assert!(
                    !a.instrumento.is_empty() && !a.version.is_empty(),
                    "{name} {k}"
                );
                for (j, (_, b)) in rows.iter().enumerate().skip(i + 1) {
                    let overlap = a.valid_from <= b.valid_to.unwrap_or(NaiveDate::MAX)
                        && b.valid_from <= a.valid_to.unwrap_or(NaiveDate::MAX);
                    assert!(
                        !(key(i) == key(j) && overlap),
                        "{name} {k}: versions overlap"
                    );
                }
                if *name == "plazos" {
                    let kind = format!("{}|{}", &recs[i][1], &recs[i][5]);
                    kinds.entry(k.clone()).or_default().push(kind);
                }
            }
            for (k, v) in kinds {
                assert!(
                    v.windows(2).all(|w| w[0] == w[1]),
                    "plazos {k}: kind changes across versions"
                );
            }
        }
    }
}
