//! VIRTUAL-PAIRING: pairs the two pedimentos of each virtual operation (claves V1-V9).
//!
//! In a virtual operation goods change hands between two companies without moving; each
//! side files its own pedimento (seed 004 L1674): the transferor an export-side one
//! (`tipo_operacion` 2: retorno/exportación virtual) and the receiver an import-side one
//! (`tipo_operacion` 1), in the receiving company's name (004 L1734, L5530). Each names
//! the other in a pedimento-level identificador V1..V9 (complemento 1 = counterpart
//! pedimento, complemento 2 = counterpart RFC), kept in `pedimentos.contraparte_id/_rfc`
//! and `identificadores`.
//!
//! Why a Rust plan and not SQL: pairing is a graph problem (declared references in both
//! directions, a scored fallback search, one-to-many splits whose quantities add up,
//! connected components, a greedy allocation) that polars SQL cannot express (no
//! recursion, no `NOT EXISTS`, no ranking). The engine here only *matches*; the rules
//! that turn matches into findings are four small SQL files in `queries/virtual/`
//! (one per check) run over the tables the engine builds:
//!
//! | table | one row per |
//! |---|---|
//! | `virtual_sides` | virtual pedimento (current, dated on or before `as_of`) |
//! | `virtual_pairs` | sender/receiver pair (written to `virtual_pairs.parquet` by `audit`) |
//! | `virtual_lines` | pairing group x (fracción, UMT): totals on each side |
//!
//! Matching, in order:
//! 1. **declared**: side A names pedimento B (identificador or `contraparte_id`), B is
//!    a virtual pedimento in the dataset and (when A declared an RFC) B was filed by that
//!    RFC → pair. The sender is the tipo-2 side; when both
//!    sides have the same tipo the earlier filed one (VIRTUAL-CLAVE flags it).
//! 2. **fallback** for sides left unpaired (no valid declared reference either way):
//!    candidates of the opposite tipo whose RFCs agree with what each side declared,
//!    within [`FALLBACK_WINDOW_DAYS`], sharing a fracción. First an exact match (same
//!    fracciones and quantities), then a split (several candidates whose quantities add
//!    up exactly), then the best single candidate scoring at least [`MIN_SCORE`]; each
//!    stage runs from both sides (export first) before the next one.
//! 3. Pairs are grouped in connected components (a consolidated or split transfer);
//!    quantities are compared per group and (fracción, UMT), and allocated greedily
//!    (oldest sender first) to show which receiver took what.
//!
//! Timing windows and allowed clave pairs come from `src/catalogs/virtual_cases.csv`.

use super::{AuditContext, CheckError};
use crate::model;
use polars::prelude::*;
use polars::sql::SQLContext;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

mod engine;
mod frames;
mod load;
pub use engine::*;
pub use frames::*;
pub use load::*;

/// The virtual-operation case catalogue (seed 004 L1602-1666 plus Anexo 22 claves).
pub const CASES_CSV: &str = include_str!("../../catalogs/virtual_cases.csv");

/// Claves paired by this engine (Anexo 22 Ap. 2, "operaciones virtuales"; seed 003 L7497-7526,
/// L7651-7671).
pub const VIRTUAL_CLAVES: [&str; 9] = ["V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9"];

/// Claves filed as one pedimento with no counterpart: V4 = virtual return under an
/// automotive constancia de transferencia (case 10, excluded from the two-pedimento rule,
/// seed 004 L1674; Anexo 22 Ap. 2 V4, seed 003 L7655).
pub const SINGLE_CLAVES: [&str; 1] = ["V4"];

/// How far apart (days) fallback candidates may be. Wider than any case window so a late
/// filing is still paired (and reported by VIRTUAL-LATE) instead of left unpaired.
pub const FALLBACK_WINDOW_DAYS: i32 = 30;

/// Minimum fallback score (0-100) for a single, inexact candidate.
pub const MIN_SCORE: i32 = 70;

const QTY_SCALE: usize = 5;
const MONEY_SCALE: usize = 2;

/// Timing and coverage of one (sender clave, receiver clave) combination, aggregated
/// over the catalogue rows that use it.
#[derive(Debug, Clone)]
pub struct Combo {
    /// Case numbers (e.g. `4,12,14,...`).
    pub cases: String,
    /// Presentation groups (G-I, G-S, G-Q, none).
    pub groups: String,
    /// Allowed (sender date − receiver date) in days, most lenient over the cases.
    pub window_min: i32,
    pub window_max: i32,
    pub inferred: bool,
}

fn catalogue_rows() -> Vec<HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().from_reader(CASES_CSV.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .expect("virtual_cases.csv header")
        .iter()
        .map(str::to_string)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("virtual_cases.csv row");
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(|s| s.trim().to_string()))
                .collect()
        })
        .collect()
}

/// Allowed (sender clave, receiver clave) combinations with their windows.
pub fn combos() -> &'static HashMap<(String, String), Combo> {
    static C: OnceLock<HashMap<(String, String), Combo>> = OnceLock::new();
    C.get_or_init(|| {
        let mut out: HashMap<(String, String), Combo> = HashMap::new();
        for row in catalogue_rows() {
            let (s, r) = (&row["clave_sender"], &row["clave_receiver"]);
            if s.is_empty() || r.is_empty() {
                continue;
            }
            let (Ok(wmin), Ok(wmax)) = (
                row["window_min_days"].parse::<i32>(),
                row["window_max_days"].parse::<i32>(),
            ) else {
                continue;
            };
            let e = out.entry((s.clone(), r.clone())).or_insert(Combo {
                cases: String::new(),
                groups: String::new(),
                window_min: wmin,
                window_max: wmax,
                inferred: false,
            });
            if !e.cases.is_empty() {
                e.cases.push(',');
            }
            e.cases.push_str(&row["case"]);
            if !e.groups.split('/').any(|g| g == row["group"]) {
                if !e.groups.is_empty() {
                    e.groups.push('/');
                }
                e.groups.push_str(&row["group"]);
            }
            e.window_min = e.window_min.min(wmin);
            e.window_max = e.window_max.max(wmax);
            e.inferred |= row["inferred"] == "1";
        }
        out
    })
}

/// Largest window any combo gives a receiver clave: an unpaired receiver is not reported
/// until its sender's deadline has passed.
fn receiver_grace(clave: &str) -> i32 {
    combos()
        .iter()
        .filter(|((_, r), _)| r == clave)
        .map(|(_, c)| c.window_max)
        .max()
        .unwrap_or(1)
}

/// One goods line of a side, aggregated per (fracción, UMT). Quantities are scaled
/// integers (5 decimals), values too (2 decimals): exact, and fast to compare.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Line {
    pub fraccion: String,
    pub umt: String,
    pub qty: i128,
    /// The peso value the pedimento declares: valor comercial on the sender's export,
    /// valor en aduana on the receiver's import (Data Stage has ValorAduana = 0 on exports).
    pub value: i128,
    /// valor_dolares: the one value both sides declare on the same basis (USD).
    pub usd: i128,
}

/// Default tolerance of the value comparison in USD (percent of the larger side; the
/// option `audit --virtual-value-tolerance`), low
/// severity. The rule asks quantity and description to agree (Manual de operación
/// aduanera 2007, operaciones virtuales); values legitimately differ (incrementables,
/// exchange-rate movement between the two payment dates), so value is a hint only.
pub const VALUE_TOLERANCE_PCT: u32 = 5;

/// The case window's upper bound for a receiver presented on `receiver` (days since
/// 1970-01-01): "a más tardar al día siguiente" counts business days (Código Fiscal de la
/// Federación art. 12: Saturdays, Sundays and official rest days do not count), so a
/// receiver on Friday allows the sender on Monday (3 calendar days).
pub fn business_window_max(receiver: i32, window_max: i32) -> i32 {
    if window_max <= 0 {
        return window_max;
    }
    let r = model::from_date32(receiver);
    let d = model::calendar::business_days_after(r, window_max as u32);
    (d - r).num_days() as i32
}

/// One row of `src/catalogs/virtual_versions.csv` as the consolidated deadline needs it.
struct ConsolidatedRule {
    validity: model::catalog::Validity,
    /// Days of the following month allowed (`consolidado_dias_mes`).
    days: u32,
    /// 1 = business days (`consolidado_dias_habiles`), 0 = calendar days.
    business: bool,
}

fn consolidated_rules() -> &'static [ConsolidatedRule] {
    static R: OnceLock<Vec<ConsolidatedRule>> = OnceLock::new();
    R.get_or_init(|| {
        let text = model::catalog::VIRTUAL_VERSIONS;
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let h = r.headers().expect("virtual_versions header").clone();
        let idx = |n: &str| h.iter().position(|x| x == n).expect(n);
        let (d, b) = (idx("consolidado_dias_mes"), idx("consolidado_dias_habiles"));
        r.records()
            .zip(model::catalog::validities(text))
            .map(|(rec, (_, validity))| {
                let rec = rec.expect("virtual_versions row");
                ConsolidatedRule {
                    validity,
                    days: rec[d].trim().parse().expect("consolidado_dias_mes"),
                    business: rec[b].trim() == "1",
                }
            })
            .collect()
    })
}

/// Deadline of a consolidated virtual pedimento whose earliest operation (first remesa) is
/// `first` (days since 1970-01-01), by the version of `src/catalogs/virtual_versions.csv`
/// in force on that date: the version and the last allowed closing date. The data does not
/// say whether the pedimento is weekly or monthly, so the later, monthly, deadline applies:
/// MOA2007, the 10th business day of the following month (Manual de Operación Aduanera
/// 2007, apartado A.7, norma 125ª); RCGMCE2013, day 20 of the following month (RCGMCE
/// 2013 regla 3.8.9 fr. XXI), moved to the next business day when it is not one (Código
/// Fiscal de la Federación art. 12). None when no version covers `first`.
pub fn consolidated_deadline(first: i32) -> Option<(&'static str, i32)> {
    let f = model::from_date32(first);
    let rule = consolidated_rules().iter().find(|r| r.validity.covers(f))?;
    use chrono::Datelike;
    let next = model::calendar::add_months(f.with_day(1).expect("day 1"), 1);
    let due = if rule.business {
        // The rule.days-th business day of the month that starts on `next`.
        let eve = next.pred_opt().expect("date in range");
        model::calendar::business_days_after(eve, rule.days)
    } else {
        model::calendar::next_business_day(next.with_day(rule.days).expect("day within the month"))
    };
    Some((rule.validity.version.as_str(), model::date32(due)))
}

/// One virtual pedimento.
#[derive(Debug, Clone)]
pub struct Side {
    pub id: String,
    pub rfc: String,
    pub clave: String,
    pub tipo: i32,
    /// fecha_operacion as days since 1970-01-01.
    pub fecha: i32,
    pub aduana: String,
    /// Counterpart pedimentos named by this side (deduplicated, sorted).
    pub declared_ids: Vec<String>,
    pub declared_rfc: Option<String>,
    /// Sorted by (fracción, UMT).
    pub lines: Vec<Line>,
    /// A consolidated pedimento (`pedimentos.consolidado`): its first remesa is
    /// `fecha_seleccion` (else `fecha_operacion`), its closing `fecha_pago`.
    pub consolidado: bool,
    /// Earliest operation (first remesa) as days since 1970-01-01.
    pub primera_remesa: i32,
    /// Closing (payment) date as days since 1970-01-01.
    pub cierre: i32,
}

impl Side {
    fn single(&self) -> bool {
        SINGLE_CLAVES.contains(&self.clave.as_str())
    }
    fn qty(&self) -> i128 {
        self.lines.iter().map(|l| l.qty).sum()
    }
    fn value(&self) -> i128 {
        self.lines.iter().map(|l| l.value).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Declared,
    Fallback,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Declared => "declared",
            Method::Fallback => "fallback",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pair {
    pub sender: usize,
    pub receiver: usize,
    pub method: Method,
    pub score: i32,
    /// Quantity of the sender allocated to this receiver (sum over fracciones).
    pub allocated: i128,
    pub group: usize,
}

/// The result of [`pair`].
#[derive(Debug, Default)]
pub struct Pairing {
    pub sides: Vec<Side>,
    pub pairs: Vec<Pair>,
    /// Group of every side (usize::MAX when unpaired).
    pub side_group: Vec<usize>,
    pub groups: usize,
}

/// Score (0-100) of a candidate pair: RFCs 30, fracciones 30, quantities 30, dates 10.
pub fn score(s: &Side, r: &Side) -> i32 {
    let rfc = match (
        s.declared_rfc.as_deref() == Some(r.rfc.as_str()),
        r.declared_rfc.as_deref() == Some(s.rfc.as_str()),
    ) {
        (true, true) => 30,
        (true, false) | (false, true) => 20,
        _ => 0,
    };
    let keys = |x: &Side| -> BTreeMap<(String, String), i128> {
        let mut m = BTreeMap::new();
        for l in &x.lines {
            *m.entry((l.fraccion.clone(), l.umt.clone())).or_insert(0) += l.qty;
        }
        m
    };
    let (ks, kr) = (keys(s), keys(r));
    let all: BTreeSet<&(String, String)> = ks.keys().chain(kr.keys()).collect();
    let common = ks.keys().filter(|k| kr.contains_key(*k)).count();
    let frac = if all.is_empty() {
        0
    } else {
        (30 * common / all.len()) as i32
    };
    let (mut diff, mut tot) = (0i128, 0i128);
    for k in &all {
        let (a, b) = (
            ks.get(*k).copied().unwrap_or(0),
            kr.get(*k).copied().unwrap_or(0),
        );
        diff += (a - b).abs();
        tot += a.max(b);
    }
    let qty = if tot == 0 {
        0
    } else {
        (30 - (30 * diff / tot)).max(0) as i32
    };
    let days = (s.fecha - r.fecha).abs();
    let date = (10 - 10 * days / FALLBACK_WINDOW_DAYS).max(0);
    rfc + frac + qty + date
}

fn same_goods(a: &Side, b: &Side) -> bool {
    a.lines.len() == b.lines.len()
        && a.lines
            .iter()
            .zip(&b.lines)
            .all(|(x, y)| x.fraccion == y.fraccion && x.umt == y.umt && x.qty == y.qty)
}

fn rfc_consistent(x: &Side, c: &Side) -> bool {
    x.declared_rfc.as_ref().is_none_or(|d| *d == c.rfc)
        && c.declared_rfc.as_ref().is_none_or(|d| *d == x.rfc)
        && (x.declared_rfc.is_some() || c.declared_rfc.is_some())
}

struct Uf(Vec<usize>);
impl Uf {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut y = x;
        while self.0[y] != r {
            let n = self.0[y];
            self.0[y] = r;
            y = n;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// The name of the shared table holding the pairing (see [`super::shared`]).
pub const SHARED: &str = "virtual_pairing";

/// Computes the [`SHARED`] table: the pairing of this context's virtual pedimentos.
pub fn shared(ctx: &AuditContext) -> Result<super::shared::Value, CheckError> {
    let (sides, rfcs) = load(ctx)?;
    let p = pair(sides);
    Ok(Arc::new(tables(
        &p,
        &rfcs,
        model::date32(ctx.as_of),
        ctx.opts.virtual_value_tolerance_pct,
    )?))
}

/// What the audit writes when a virtual check ran: `virtual_pairs.parquet`.
pub fn persisted_tables(ctx: &AuditContext) -> Result<Vec<(&'static str, DataFrame)>, CheckError> {
    Ok(vec![(
        "virtual_pairs.parquet",
        virtual_tables(ctx)?.pairs.clone(),
    )])
}

/// The pairing tables for this context ([`SHARED`]), computed once per context and shared
/// by the four checks.
pub fn virtual_tables(ctx: &AuditContext) -> Result<Arc<VirtualTables>, CheckError> {
    ctx.shared::<VirtualTables>(SHARED)
}

/// Runs one `queries/virtual/*.sql` over the pairing tables (plus the context's tables).
fn run_sql(ctx: &AuditContext, text: &str, file: &str) -> Result<DataFrame, CheckError> {
    let t = virtual_tables(ctx)?;
    let mut c = SQLContext::new();
    for (name, lf) in &ctx.tables {
        c.register(name, lf.clone());
    }
    c.register("virtual_sides", t.sides.clone().lazy());
    c.register("virtual_pairs", t.pairs.clone().lazy());
    c.register("virtual_lines", t.lines.clone().lazy());
    c.execute(&ctx.render(text))
        .and_then(|lf| lf.collect())
        .map_err(CheckError::query(file))
}

macro_rules! virtual_check {
    ($name:ident, $file:literal) => {
        pub fn $name(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
            run_sql(
                ctx,
                include_str!(concat!("../../../queries/virtual/", $file)),
                concat!("virtual/", $file),
            )
        }
    };
}

virtual_check!(unpaired, "VIRTUAL-UNPAIRED.sql");
virtual_check!(mismatch, "VIRTUAL-MISMATCH.sql");
virtual_check!(late, "VIRTUAL-LATE.sql");
virtual_check!(clave, "VIRTUAL-CLAVE.sql");

#[cfg(test)]
mod tests {
    use super::*;

    fn side(
        id: &str,
        rfc: &str,
        tipo: i32,
        fecha: i32,
        decl: Option<(&str, &str)>,
        q: i128,
    ) -> Side {
        Side {
            id: id.into(),
            rfc: rfc.into(),
            clave: "V1".into(),
            tipo,
            fecha,
            aduana: "240".into(),
            declared_ids: decl.map(|d| vec![d.0.to_string()]).unwrap_or_default(),
            declared_rfc: decl.map(|d| d.1.to_string()),
            lines: vec![Line {
                fraccion: "39011001".into(),
                umt: "1".into(),
                qty: q,
                value: q * 10,
                usd: q,
            }],
            consolidado: false,
            primera_remesa: fecha,
            cierre: fecha,
        }
    }

    #[test]
    fn consolidated_deadline_by_version() {
        let d = |y, m, dd| model::date32(chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap());
        // MOA2007: June 2013 starts on a Saturday; its 10th business day is Friday 14.
        assert_eq!(
            consolidated_deadline(d(2013, 5, 6)),
            Some(("MOA2007", d(2013, 6, 14)))
        );
        // Last day of MOA2007; March 2014 starts on a Saturday: 3-7, 10-14 → Friday 14.
        assert_eq!(
            consolidated_deadline(d(2014, 2, 27)),
            Some(("MOA2007", d(2014, 3, 14)))
        );
        assert_eq!(
            consolidated_deadline(d(2014, 2, 28)).map(|x| x.0),
            Some("RCGMCE2013")
        );
        // RCGMCE2013: day 20 of the following month.
        assert_eq!(
            consolidated_deadline(d(2014, 5, 6)),
            Some(("RCGMCE2013", d(2014, 6, 20)))
        );
        // Day 20 on a Saturday (September 2014) moves to Monday 22.
        assert_eq!(
            consolidated_deadline(d(2014, 8, 29)),
            Some(("RCGMCE2013", d(2014, 9, 22)))
        );
        assert_eq!(consolidated_deadline(d(2006, 12, 31)), None);
    }

    #[test]
    fn catalogue_has_33_cases_and_v1_window() {
        let rows = catalogue_rows();
        let numbered = rows
            .iter()
            .filter(|r| r["case"].parse::<u32>().is_ok())
            .count();
        assert_eq!(numbered, 33);
        let v1 = &combos()[&("V1".to_string(), "V1".to_string())];
        assert_eq!((v1.window_min, v1.window_max), (0, 1));
        // Friday 2022-12-23 -> Monday 2022-12-26 (Sunday 25th is a rest day too): 3 days;
        // Thursday -> Friday: 1 day; Friday 2024-03-15 -> Tuesday 19th (Monday 18th is a
        // rest day, third Monday of March): 4 days.
        let day =
            |s: &str| model::date32(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        assert_eq!(business_window_max(day("2022-12-23"), 1), 3);
        assert_eq!(business_window_max(day("2022-12-22"), 1), 1);
        assert_eq!(business_window_max(day("2024-03-15"), 1), 4);
        assert_eq!(business_window_max(day("2024-03-15"), 0), 0);
        assert_eq!(v1.groups, "G-I");
        assert!(combos().contains_key(&("V2".to_string(), "V1".to_string())));
        assert!(!combos().contains_key(&("V1".to_string(), "V5".to_string())));
    }

    /// Quantities agree; the receiver declares 4 % more USD (e.g. an exchange-rate move
    /// between the two payment dates): flagged only when the tolerance is below 4 %.
    #[test]
    fn value_tolerance_is_an_option() {
        let mut r = side("R1", "BBB", 1, 10, Some(("S1", "AAA")), 100);
        r.lines[0].usd = 104;
        let p = pair(vec![side("S1", "AAA", 2, 10, Some(("R1", "BBB")), 100), r]);
        let rfcs: HashSet<String> = ["AAA".to_string(), "BBB".to_string()].into();
        let flag = |tol| {
            let t = tables(&p, &rfcs, 20, tol).unwrap();
            let v = t.lines.column("value_flag").unwrap().i32().unwrap().get(0);
            v.unwrap()
        };
        assert_eq!(flag(VALUE_TOLERANCE_PCT), 0);
        assert_eq!(flag(3), 1);
        assert_eq!(flag(4), 0, "exactly 4 % is within a 4 % tolerance");
    }

    #[test]
    fn declared_fallback_and_split() {
        let sides = vec![
            // declared both ways
            side("S1", "AAA", 2, 10, Some(("R1", "BBB")), 100),
            side("R1", "BBB", 1, 10, Some(("S1", "AAA")), 100),
            // receiver names a wrong pedimento; sender names nothing but the RFC
            side("S2", "AAA", 2, 20, Some(("ZZ", "BBB")), 50),
            side("R2", "BBB", 1, 20, Some(("WRONG", "AAA")), 50),
            // split: one sender, two receivers adding up
            side("S3", "AAA", 2, 40, Some(("NONE", "CCC")), 90),
            side("R3a", "CCC", 1, 40, Some(("X", "AAA")), 60),
            side("R3b", "CCC", 1, 40, Some(("Y", "AAA")), 30),
        ];
        let p = pair(sides);
        let names: Vec<(String, String, &str, i128)> = p
            .pairs
            .iter()
            .map(|x| {
                (
                    p.sides[x.sender].id.clone(),
                    p.sides[x.receiver].id.clone(),
                    x.method.name(),
                    x.allocated,
                )
            })
            .collect();
        assert!(names.contains(&("S1".into(), "R1".into(), "declared", 100)));
        assert!(names.contains(&("S2".into(), "R2".into(), "fallback", 50)));
        assert!(names.contains(&("S3".into(), "R3a".into(), "fallback", 60)));
        assert!(names.contains(&("S3".into(), "R3b".into(), "fallback", 30)));
        assert_eq!(p.pairs.len(), 4);
        assert_eq!(p.groups, 3);
    }

    #[test]
    fn fallback_many_senders_to_one_receiver_and_wrong_existing_reference() {
        let sides = vec![
            side("S1", "AAA", 2, 10, Some(("", "BBB")), 30),
            side("S2", "AAA", 2, 11, Some(("", "BBB")), 20),
            side("R", "BBB", 1, 10, None, 50),
            // names an existing pedimento of another company (S1 is AAA's, not DDD's)
            side("R9", "BBB", 1, 60, Some(("S1", "DDD")), 7),
            side("S9", "DDD", 2, 60, Some(("", "BBB")), 7),
        ];
        let p = pair(sides);
        let mut got: Vec<(String, String, &str)> = p
            .pairs
            .iter()
            .map(|x| {
                (
                    p.sides[x.sender].id.clone(),
                    p.sides[x.receiver].id.clone(),
                    x.method.name(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("S1".into(), "R".into(), "fallback"),
                ("S2".into(), "R".into(), "fallback"),
                ("S9".into(), "R9".into(), "fallback"),
            ]
        );
    }

    #[test]
    fn score_prefers_exact() {
        let s = side("S", "AAA", 2, 10, Some(("R", "BBB")), 100);
        let r = side("R", "BBB", 1, 10, Some(("S", "AAA")), 100);
        assert_eq!(score(&s, &r), 100);
        let r2 = side("R", "BBB", 1, 40, None, 50);
        assert_eq!(score(&s, &r2), 20 + 30 + 15);
    }
}
