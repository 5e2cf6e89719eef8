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
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::ThreadId;

/// The virtual-operation case catalogue (seed 004 L1602-1666 plus Anexo 22 claves).
pub const CASES_CSV: &str = include_str!("../catalogs/virtual_cases.csv");

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
    let mut d = r;
    for _ in 0..window_max {
        d = model::calendar::next_business_day(d.succ_opt().unwrap_or(d));
    }
    (d - r).num_days() as i32
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

/// Pairs the sides (see the module doc).
pub fn pair(mut sides: Vec<Side>) -> Pairing {
    sides.sort_by(|a, b| (a.fecha, &a.id).cmp(&(b.fecha, &b.id)));
    let n = sides.len();
    let idx: HashMap<&str, usize> = sides
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // 1. Declared references (either direction).
    let mut edges: BTreeMap<(usize, usize), Method> = BTreeMap::new();
    for (a, sa) in sides.iter().enumerate() {
        if sa.single() {
            continue;
        }
        for d in &sa.declared_ids {
            // A reference to a pedimento of another company than the RFC the side
            // declared is a wrong reference: left to the fallback match.
            if let Some(&b) = idx.get(d.as_str())
                && b != a
                && !sides[b].single()
                && sa.declared_rfc.as_ref().is_none_or(|r| *r == sides[b].rfc)
            {
                // Sender = the export side. Same tipo on both sides (VIRTUAL-CLAVE): the
                // earlier filed one, so the pair is recorded once.
                let e = if sa.tipo != sides[b].tipo {
                    if sa.tipo == 1 { (b, a) } else { (a, b) }
                } else {
                    (a.min(b), a.max(b))
                };
                edges.insert(e, Method::Declared);
            }
        }
    }
    let mut paired = vec![false; n];
    for &(s, r) in edges.keys() {
        paired[s] = true;
        paired[r] = true;
    }
    // 2. Fallback among the unpaired: index the pool by RFC and by declared RFC.
    let pool = |tipo: i32,
                paired: &Vec<bool>|
     -> (HashMap<String, Vec<usize>>, HashMap<String, Vec<usize>>) {
        let (mut by_rfc, mut by_decl): (HashMap<String, Vec<usize>>, HashMap<String, Vec<usize>>) =
            (HashMap::new(), HashMap::new());
        for (i, s) in sides.iter().enumerate() {
            if paired[i] || s.single() || s.tipo != tipo {
                continue;
            }
            by_rfc.entry(s.rfc.clone()).or_default().push(i);
            if let Some(d) = &s.declared_rfc {
                by_decl.entry(d.clone()).or_default().push(i);
            }
        }
        (by_rfc, by_decl)
    };
    // Stages: 0 exact, 1 split, 2 best single; each stage in both directions before the
    // next, so a partial single match never preempts a split seen from the other side.
    for (stage, x_tipo, c_tipo) in [
        (0, 2, 1),
        (0, 1, 2),
        (1, 2, 1),
        (1, 1, 2),
        (2, 2, 1),
        (2, 1, 2),
    ] {
        let (by_rfc, by_decl) = pool(c_tipo, &paired);
        if by_rfc.is_empty() {
            continue;
        }
        for x in 0..n {
            let sx = &sides[x];
            if paired[x] || sx.single() || sx.tipo != x_tipo {
                continue;
            }
            let mut cands: Vec<usize> = vec![];
            let within = |v: &Vec<usize>, out: &mut Vec<usize>| {
                // v is sorted by fecha (sides are): binary search the window.
                let lo = v.partition_point(|&i| sides[i].fecha < sx.fecha - FALLBACK_WINDOW_DAYS);
                for &i in &v[lo..] {
                    if sides[i].fecha > sx.fecha + FALLBACK_WINDOW_DAYS {
                        break;
                    }
                    out.push(i);
                }
            };
            if let Some(d) = &sx.declared_rfc
                && let Some(v) = by_rfc.get(d)
            {
                within(v, &mut cands);
            }
            if let Some(v) = by_decl.get(&sx.rfc) {
                within(v, &mut cands);
            }
            cands.sort_unstable();
            cands.dedup();
            let xkeys: HashMap<(&str, &str), i128> = sx
                .lines
                .iter()
                .map(|l| ((l.fraccion.as_str(), l.umt.as_str()), l.qty))
                .collect();
            cands.retain(|&c| {
                !paired[c]
                    && rfc_consistent(sx, &sides[c])
                    && sides[c]
                        .lines
                        .iter()
                        .any(|l| xkeys.contains_key(&(l.fraccion.as_str(), l.umt.as_str())))
            });
            if cands.is_empty() {
                continue;
            }
            cands.sort_by_key(|&c| ((sides[c].fecha - sx.fecha).abs(), sides[c].fecha, c));
            let chosen: Vec<usize> = match stage {
                0 => cands
                    .iter()
                    .find(|&&c| same_goods(sx, &sides[c]))
                    .map(|&c| vec![c])
                    .unwrap_or_default(),
                1 => {
                    // A split: candidates whose goods fit in x, taken nearest first while
                    // they fit, must add up exactly.
                    let mut rem = xkeys.clone();
                    let mut take = vec![];
                    for &c in &cands {
                        let fits = sides[c].lines.iter().all(|l| {
                            rem.get(&(l.fraccion.as_str(), l.umt.as_str()))
                                .is_some_and(|q| *q >= l.qty)
                        });
                        if fits {
                            for l in &sides[c].lines {
                                *rem.get_mut(&(l.fraccion.as_str(), l.umt.as_str())).unwrap() -=
                                    l.qty;
                            }
                            take.push(c);
                        }
                        if rem.values().all(|q| *q == 0) {
                            break;
                        }
                    }
                    if take.len() >= 2 && rem.values().all(|q| *q == 0) {
                        take
                    } else {
                        vec![]
                    }
                }
                _ => {
                    let best = cands
                        .iter()
                        .map(|&c| {
                            let (s, r) = if x_tipo == 2 { (x, c) } else { (c, x) };
                            (score(&sides[s], &sides[r]), c)
                        })
                        .max_by_key(|(sc, c)| (*sc, std::cmp::Reverse(*c)));
                    match best {
                        Some((sc, c)) if sc >= MIN_SCORE => vec![c],
                        _ => vec![],
                    }
                }
            };
            for c in chosen {
                let e = if x_tipo == 2 { (x, c) } else { (c, x) };
                edges.insert(e, Method::Fallback);
                paired[c] = true;
                paired[x] = true;
            }
        }
    }
    // 3. Groups and allocation.
    let mut uf = Uf((0..n).collect());
    for &(s, r) in edges.keys() {
        uf.union(s, r);
    }
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    let mut side_group = vec![usize::MAX; n];
    for i in 0..n {
        if paired[i] {
            let root = uf.find(i);
            let next = group_of_root.len();
            side_group[i] = *group_of_root.entry(root).or_insert(next);
        }
    }
    let mut pairs: Vec<Pair> = edges
        .iter()
        .map(|(&(s, r), &m)| Pair {
            sender: s,
            receiver: r,
            method: m,
            score: score(&sides[s], &sides[r]),
            allocated: 0,
            group: side_group[s],
        })
        .collect();
    // Greedy allocation per (fracción, UMT), pairs in (sender date, receiver date) order.
    pairs.sort_by_key(|p| (p.group, p.sender, p.receiver));
    let mut rem: HashMap<(usize, &str, &str), i128> = HashMap::new();
    for (i, s) in sides.iter().enumerate() {
        if paired[i] {
            for l in &s.lines {
                *rem.entry((i, l.fraccion.as_str(), l.umt.as_str()))
                    .or_insert(0) += l.qty;
            }
        }
    }
    for p in pairs.iter_mut() {
        let mut alloc = 0;
        for l in &sides[p.sender].lines {
            let k = (l.fraccion.as_str(), l.umt.as_str());
            let a = rem.get(&(p.sender, k.0, k.1)).copied().unwrap_or(0);
            let b = rem.get(&(p.receiver, k.0, k.1)).copied().unwrap_or(0);
            let t = a.min(b).max(0);
            if t > 0 {
                *rem.get_mut(&(p.sender, k.0, k.1)).unwrap() -= t;
                *rem.get_mut(&(p.receiver, k.0, k.1)).unwrap() -= t;
                alloc += t;
            }
        }
        p.allocated = alloc;
    }
    let groups = group_of_root.len();
    Pairing {
        sides,
        pairs,
        side_group,
        groups,
    }
}

// ---------------------------------------------------------------------------------------
// Loading from the audit context and building the SQL tables.

fn claves_in() -> String {
    VIRTUAL_CLAVES
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn str_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(c)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn dec_col(df: &DataFrame, c: &str, scale: usize) -> PolarsResult<Vec<i128>> {
    let s = df
        .column(c)?
        .as_materialized_series()
        .strict_cast(&DataType::Decimal(38, scale))?;
    Ok(s.decimal()?
        .physical()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

fn int_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<i32>> {
    let s = df
        .column(c)?
        .as_materialized_series()
        .strict_cast(&DataType::Int32)?;
    Ok(s.i32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn date_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<i32>> {
    let s = df.column(c)?.as_materialized_series();
    Ok(s.date()?
        .physical()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// Reads the virtual pedimentos (current, on or before `as_of`), their goods lines and
/// declared counterparts, and every RFC in the dataset.
pub fn load(ctx: &AuditContext) -> Result<(Vec<Side>, HashSet<String>), CheckError> {
    let cl = claves_in();
    let peds = ctx.sql(
        &format!(
            "SELECT pedimento_id, rfc, clave, tipo_operacion, fecha_operacion, aduana_seccion, \
             contraparte_id, contraparte_rfc FROM current_pedimentos \
             WHERE clave IN ({cl}) AND fecha_operacion <= ${{as_of}}"
        ),
        "virtual/load_sides",
    )?;
    let lines = ctx.sql(
        &format!(
            "SELECT pa.pedimento_id, pa.fraccion, pa.umt, SUM(pa.cantidad_umt) AS qty, \
             SUM(CASE WHEN v.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END) AS valor, \
             SUM(pa.valor_dolares) AS usd FROM partidas pa \
             JOIN (SELECT pedimento_id, tipo_operacion FROM current_pedimentos WHERE clave IN ({cl})) v \
             ON v.pedimento_id = pa.pedimento_id \
             GROUP BY pa.pedimento_id, pa.fraccion, pa.umt"
        ),
        "virtual/load_lines",
    )?;
    let refs = ctx.sql(
        &format!(
            "SELECT pedimento_id, complemento1, complemento2 FROM identificadores \
             WHERE clave IN ({cl}) AND partida IS NULL"
        ),
        "virtual/load_refs",
    )?;
    let rfcs = ctx.sql("SELECT DISTINCT rfc FROM dataset_rfcs", "virtual/load_rfcs")?;
    let rfcs: HashSet<String> = str_col(&rfcs, "rfc")?.into_iter().flatten().collect();

    let ids = str_col(&peds, "pedimento_id")?;
    let prfc = str_col(&peds, "rfc")?;
    let pclave = str_col(&peds, "clave")?;
    let ptipo = int_col(&peds, "tipo_operacion")?;
    let pfecha = date_col(&peds, "fecha_operacion")?;
    let padu = str_col(&peds, "aduana_seccion")?;
    let pcid = str_col(&peds, "contraparte_id")?;
    let pcrfc = str_col(&peds, "contraparte_rfc")?;
    let mut sides: Vec<Side> = Vec::with_capacity(ids.len());
    let mut at: HashMap<String, usize> = HashMap::with_capacity(ids.len());
    for i in 0..ids.len() {
        let id = ids[i].clone().unwrap_or_default();
        at.insert(id.clone(), sides.len());
        sides.push(Side {
            id,
            rfc: prfc[i].clone().unwrap_or_default(),
            clave: pclave[i].clone().unwrap_or_default(),
            tipo: ptipo[i],
            fecha: pfecha[i],
            aduana: padu[i].clone().unwrap_or_default(),
            declared_ids: pcid[i].iter().cloned().collect(),
            declared_rfc: pcrfc[i].clone(),
            lines: vec![],
        });
    }
    let rid = str_col(&refs, "pedimento_id")?;
    let rc1 = str_col(&refs, "complemento1")?;
    let rc2 = str_col(&refs, "complemento2")?;
    for i in 0..rid.len() {
        let Some(&k) = rid[i].as_ref().and_then(|id| at.get(id)) else {
            continue;
        };
        if let Some(key) = rc1[i]
            .as_deref()
            .and_then(|s| model::PedimentoKey::parse(s).ok())
        {
            sides[k].declared_ids.push(key.id());
        }
        if sides[k].declared_rfc.is_none() {
            sides[k].declared_rfc = rc2[i].as_deref().and_then(|s| model::rfc(s).ok());
        }
    }
    let lid = str_col(&lines, "pedimento_id")?;
    let lfr = str_col(&lines, "fraccion")?;
    let lumt = str_col(&lines, "umt")?;
    let lq = dec_col(&lines, "qty", QTY_SCALE)?;
    let lv = dec_col(&lines, "valor", MONEY_SCALE)?;
    let lu = dec_col(&lines, "usd", MONEY_SCALE)?;
    for i in 0..lid.len() {
        let Some(&k) = lid[i].as_ref().and_then(|id| at.get(id)) else {
            continue;
        };
        sides[k].lines.push(Line {
            fraccion: lfr[i].clone().unwrap_or_default(),
            umt: lumt[i].clone().unwrap_or_default(),
            qty: lq[i],
            value: lv[i],
            usd: lu[i],
        });
    }
    for s in sides.iter_mut() {
        s.declared_ids.sort();
        s.declared_ids.dedup();
        s.lines.sort();
    }
    Ok((sides, rfcs))
}

/// The three tables the VIRTUAL-* SQL reads.
#[derive(Clone)]
pub struct VirtualTables {
    pub sides: DataFrame,
    pub pairs: DataFrame,
    pub lines: DataFrame,
}

fn s_str(name: &str, v: Vec<Option<String>>) -> Column {
    Series::new(name.into(), v).into()
}
fn s_i32(name: &str, v: Vec<i32>) -> Column {
    Series::new(name.into(), v).into()
}
fn s_date(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_date()
        .into_series()
        .into()
}
fn s_dec(name: &str, v: Vec<i128>, scale: usize) -> Column {
    Int128Chunked::from_vec(name.into(), v)
        .into_decimal_unchecked(18, scale)
        .into_series()
        .into()
}

/// Builds [`VirtualTables`] from a pairing.
/// `tolerance_pct`: value differences in USD above this percent of the larger side are
/// flagged (`value_flag`).
pub fn tables(
    p: &Pairing,
    rfcs: &HashSet<String>,
    as_of: i32,
    tolerance_pct: u32,
) -> PolarsResult<VirtualTables> {
    let sides = &p.sides;
    let n = sides.len();
    let mut partners: Vec<Vec<usize>> = vec![vec![]; n];
    let mut method: Vec<Option<Method>> = vec![None; n];
    for pr in &p.pairs {
        partners[pr.sender].push(pr.receiver);
        partners[pr.receiver].push(pr.sender);
        for x in [pr.sender, pr.receiver] {
            method[x] = match (method[x], pr.method) {
                (Some(Method::Fallback), _) | (_, Method::Fallback) => Some(Method::Fallback),
                _ => Some(Method::Declared),
            };
        }
    }
    // virtual_sides
    let mut c = SidesCols::default();
    for (i, s) in sides.iter().enumerate() {
        let pids: Vec<&str> = partners[i].iter().map(|&j| sides[j].id.as_str()).collect();
        let prfcs: BTreeSet<&str> = partners[i].iter().map(|&j| sides[j].rfc.as_str()).collect();
        let grace = if s.tipo == 1 {
            receiver_grace(&s.clave)
        } else {
            0
        };
        c.id.push(Some(s.id.clone()));
        c.rfc.push(Some(s.rfc.clone()));
        c.clave.push(Some(s.clave.clone()));
        c.tipo.push(s.tipo);
        c.fecha.push(s.fecha);
        c.declared_id.push(s.declared_ids.first().cloned());
        c.declared_ids
            .push((!s.declared_ids.is_empty()).then(|| s.declared_ids.join(";")));
        c.declared_rfc.push(s.declared_rfc.clone());
        c.declared_ok.push(
            (!s.declared_ids.is_empty()
                && s.declared_ids.iter().any(|d| pids.contains(&d.as_str()))) as i32,
        );
        c.rfc_ok
            .push(s.declared_rfc.as_deref().is_some_and(|d| prfcs.contains(d)) as i32);
        c.partners.push((!pids.is_empty()).then(|| pids.join(";")));
        c.partner_rfcs
            .push((!prfcs.is_empty()).then(|| prfcs.iter().copied().collect::<Vec<_>>().join(";")));
        c.n_partners.push(pids.len() as i32);
        c.method.push(method[i].map(|m| m.name().to_string()));
        c.in_dataset
            .push(s.declared_rfc.as_deref().is_some_and(|r| rfcs.contains(r)) as i32);
        c.due.push((s.fecha + grace < as_of) as i32);
        c.single.push(s.single() as i32);
        c.fraccion.push(s.lines.first().map(|l| l.fraccion.clone()));
        c.qty.push(s.qty());
        c.value.push(s.value());
    }
    let sides_df = DataFrame::new_infer_height(vec![
        s_str("pedimento_id", c.id),
        s_str("rfc", c.rfc),
        s_str("clave", c.clave),
        s_i32("tipo_operacion", c.tipo),
        s_date("fecha_operacion", c.fecha),
        s_str("declared_id", c.declared_id),
        s_str("declared_ids", c.declared_ids),
        s_str("declared_rfc", c.declared_rfc),
        s_i32("declared_ok", c.declared_ok),
        s_i32("rfc_ok", c.rfc_ok),
        s_str("partners", c.partners),
        s_str("partner_rfcs", c.partner_rfcs),
        s_i32("n_partners", c.n_partners),
        s_str("method", c.method),
        s_i32("counterpart_in_dataset", c.in_dataset),
        s_i32("due", c.due),
        s_i32("single", c.single),
        s_str("fraccion", c.fraccion),
        s_dec("quantity", c.qty, QTY_SCALE),
        s_dec("valor", c.value, MONEY_SCALE),
    ])?;

    // Group membership for the pairs and lines tables.
    let mut g_senders: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.groups];
    let mut g_receivers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.groups];
    for pr in &p.pairs {
        g_senders[pr.group].insert(pr.sender);
        g_receivers[pr.group].insert(pr.receiver);
    }
    let ids_of = |set: &BTreeSet<usize>| -> String {
        set.iter()
            .map(|&i| sides[i].id.as_str())
            .collect::<Vec<_>>()
            .join(";")
    };

    // virtual_pairs
    let mut q = PairsCols::default();
    for pr in &p.pairs {
        let (s, r) = (&sides[pr.sender], &sides[pr.receiver]);
        let combo = combos().get(&(s.clave.clone(), r.clave.clone()));
        let clave_ok = combo.is_some() && s.tipo == 2 && r.tipo == 1;
        q.group.push(pr.group as i32);
        q.sid.push(Some(s.id.clone()));
        q.srfc.push(Some(s.rfc.clone()));
        q.sclave.push(Some(s.clave.clone()));
        q.stipo.push(s.tipo);
        q.sfecha.push(s.fecha);
        q.sadu.push(Some(s.aduana.clone()));
        q.rid.push(Some(r.id.clone()));
        q.rrfc.push(Some(r.rfc.clone()));
        q.rclave.push(Some(r.clave.clone()));
        q.rtipo.push(r.tipo);
        q.rfecha.push(r.fecha);
        q.radu.push(Some(r.aduana.clone()));
        q.method.push(Some(pr.method.name().to_string()));
        q.score.push(pr.score);
        q.days.push(s.fecha - r.fecha);
        q.sq.push(s.qty());
        q.rq.push(r.qty());
        q.sv.push(s.value());
        q.rv.push(r.value());
        q.alloc.push(pr.allocated);
        q.gs.push(g_senders[pr.group].len() as i32);
        q.gr.push(g_receivers[pr.group].len() as i32);
        q.clave_ok.push(clave_ok as i32);
        q.cases.push(combo.map(|c| c.cases.clone()));
        q.wgroup.push(combo.map(|c| c.groups.clone()));
        q.wmin.push(combo.map(|c| c.window_min));
        q.wmax
            .push(combo.map(|c| business_window_max(r.fecha, c.window_max)));
        q.inferred.push(combo.map(|c| c.inferred as i32));
    }
    let pairs_df = DataFrame::new_infer_height(vec![
        s_i32("group_id", q.group),
        s_str("sender_id", q.sid),
        s_str("sender_rfc", q.srfc),
        s_str("sender_clave", q.sclave),
        s_i32("sender_tipo", q.stipo),
        s_date("sender_fecha", q.sfecha),
        s_str("sender_aduana", q.sadu),
        s_str("receiver_id", q.rid),
        s_str("receiver_rfc", q.rrfc),
        s_str("receiver_clave", q.rclave),
        s_i32("receiver_tipo", q.rtipo),
        s_date("receiver_fecha", q.rfecha),
        s_str("receiver_aduana", q.radu),
        s_str("method", q.method),
        s_i32("score", q.score),
        s_i32("days", q.days),
        s_dec("sender_quantity", q.sq, QTY_SCALE),
        s_dec("receiver_quantity", q.rq, QTY_SCALE),
        s_dec("sender_value", q.sv, MONEY_SCALE),
        s_dec("receiver_value", q.rv, MONEY_SCALE),
        s_dec("allocated_quantity", q.alloc, QTY_SCALE),
        s_i32("group_senders", q.gs),
        s_i32("group_receivers", q.gr),
        s_i32("clave_ok", q.clave_ok),
        s_str("cases", q.cases),
        s_str("window_group", q.wgroup),
        Series::new("window_min_days".into(), q.wmin).into(),
        Series::new("window_max_days".into(), q.wmax).into(),
        Series::new("clave_inferred".into(), q.inferred).into(),
    ])?;

    // virtual_lines: per group and (fracción, UMT), the totals of each side.
    let mut l = LinesCols::default();
    for g in 0..p.groups {
        let mut tot: BTreeMap<(&str, &str), [i128; 6]> = BTreeMap::new();
        for &i in &g_senders[g] {
            for ln in &sides[i].lines {
                let e = tot.entry((&ln.fraccion, &ln.umt)).or_default();
                e[0] += ln.qty;
                e[2] += ln.value;
                e[4] += ln.usd;
            }
        }
        for &i in &g_receivers[g] {
            for ln in &sides[i].lines {
                let e = tot.entry((&ln.fraccion, &ln.umt)).or_default();
                e[1] += ln.qty;
                e[3] += ln.value;
                e[5] += ln.usd;
            }
        }
        let s0 = *g_senders[g].iter().next().unwrap();
        let r0 = *g_receivers[g].iter().next().unwrap();
        for ((fr, umt), t) in tot {
            l.group.push(g as i32);
            l.sid.push(Some(sides[s0].id.clone()));
            l.rid.push(Some(sides[r0].id.clone()));
            l.srfc.push(Some(sides[s0].rfc.clone()));
            l.rrfc.push(Some(sides[r0].rfc.clone()));
            l.sids.push(Some(ids_of(&g_senders[g])));
            l.rids.push(Some(ids_of(&g_receivers[g])));
            l.fr.push(Some(fr.to_string()));
            l.umt.push(Some(umt.to_string()));
            l.sq.push(t[0]);
            l.rq.push(t[1]);
            l.sv.push(t[2]);
            l.rv.push(t[3]);
            l.dq.push(t[1] - t[0]);
            l.su.push(t[4]);
            l.ru.push(t[5]);
            l.du.push(t[5] - t[4]);
            // Value disagreement in USD above the tolerance (percent of the larger side):
            // the peso values are not comparable (valor comercial vs valor en aduana).
            l.vflag
                .push(((t[5] - t[4]).abs() * 100 > tolerance_pct as i128 * t[4].max(t[5])) as i32);
        }
    }
    let lines_df = DataFrame::new_infer_height(vec![
        s_i32("group_id", l.group),
        s_str("sender_id", l.sid),
        s_str("receiver_id", l.rid),
        s_str("sender_rfc", l.srfc),
        s_str("receiver_rfc", l.rrfc),
        s_str("sender_ids", l.sids),
        s_str("receiver_ids", l.rids),
        s_str("fraccion", l.fr),
        s_str("umt", l.umt),
        s_dec("sender_quantity", l.sq, QTY_SCALE),
        s_dec("receiver_quantity", l.rq, QTY_SCALE),
        s_dec("sender_value", l.sv, MONEY_SCALE),
        s_dec("receiver_value", l.rv, MONEY_SCALE),
        s_dec("quantity_diff", l.dq, QTY_SCALE),
        s_dec("sender_usd", l.su, MONEY_SCALE),
        s_dec("receiver_usd", l.ru, MONEY_SCALE),
        s_dec("usd_diff", l.du, MONEY_SCALE),
        s_i32("value_flag", l.vflag),
    ])?;
    Ok(VirtualTables {
        sides: sides_df,
        pairs: pairs_df,
        lines: lines_df,
    })
}

#[derive(Default)]
struct SidesCols {
    id: Vec<Option<String>>,
    rfc: Vec<Option<String>>,
    clave: Vec<Option<String>>,
    tipo: Vec<i32>,
    fecha: Vec<i32>,
    declared_id: Vec<Option<String>>,
    declared_ids: Vec<Option<String>>,
    declared_rfc: Vec<Option<String>>,
    declared_ok: Vec<i32>,
    rfc_ok: Vec<i32>,
    partners: Vec<Option<String>>,
    partner_rfcs: Vec<Option<String>>,
    n_partners: Vec<i32>,
    method: Vec<Option<String>>,
    in_dataset: Vec<i32>,
    due: Vec<i32>,
    single: Vec<i32>,
    fraccion: Vec<Option<String>>,
    qty: Vec<i128>,
    value: Vec<i128>,
}

#[derive(Default)]
struct PairsCols {
    group: Vec<i32>,
    sid: Vec<Option<String>>,
    srfc: Vec<Option<String>>,
    sclave: Vec<Option<String>>,
    stipo: Vec<i32>,
    sfecha: Vec<i32>,
    sadu: Vec<Option<String>>,
    rid: Vec<Option<String>>,
    rrfc: Vec<Option<String>>,
    rclave: Vec<Option<String>>,
    rtipo: Vec<i32>,
    rfecha: Vec<i32>,
    radu: Vec<Option<String>>,
    method: Vec<Option<String>>,
    score: Vec<i32>,
    days: Vec<i32>,
    sq: Vec<i128>,
    rq: Vec<i128>,
    sv: Vec<i128>,
    rv: Vec<i128>,
    alloc: Vec<i128>,
    gs: Vec<i32>,
    gr: Vec<i32>,
    clave_ok: Vec<i32>,
    cases: Vec<Option<String>>,
    wgroup: Vec<Option<String>>,
    wmin: Vec<Option<i32>>,
    wmax: Vec<Option<i32>>,
    inferred: Vec<Option<i32>>,
}

#[derive(Default)]
struct LinesCols {
    group: Vec<i32>,
    sid: Vec<Option<String>>,
    rid: Vec<Option<String>>,
    srfc: Vec<Option<String>>,
    rrfc: Vec<Option<String>>,
    sids: Vec<Option<String>>,
    rids: Vec<Option<String>>,
    fr: Vec<Option<String>>,
    umt: Vec<Option<String>>,
    sq: Vec<i128>,
    rq: Vec<i128>,
    sv: Vec<i128>,
    rv: Vec<i128>,
    dq: Vec<i128>,
    su: Vec<i128>,
    ru: Vec<i128>,
    du: Vec<i128>,
    vflag: Vec<i32>,
}

// ---------------------------------------------------------------------------------------
// Per-run cache: the four checks run in parallel and share one pairing.

type CacheKey = (PathBuf, i32, Vec<(PathBuf, u64, u128)>);

enum Slot {
    Computing(CacheKey, ThreadId),
    Ready(CacheKey, Arc<VirtualTables>),
}

static STATE: Mutex<Option<Slot>> = Mutex::new(None);
static READY: Condvar = Condvar::new();

fn fingerprint(ctx: &AuditContext) -> CacheKey {
    let mut files = vec![];
    for y in crate::dataset::years(&ctx.root) {
        let dir = crate::dataset::year_dir(&ctx.root, y);
        for t in ["pedimentos", "partidas", "identificadores"] {
            for p in crate::dataset::table_files(&dir, t) {
                if let Ok(m) = std::fs::metadata(&p) {
                    let mt = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_nanos())
                        .unwrap_or(0);
                    files.push((p, m.len(), mt));
                }
            }
        }
    }
    (ctx.root.clone(), model::date32(ctx.as_of), files)
}

fn compute(ctx: &AuditContext) -> Result<Arc<VirtualTables>, CheckError> {
    let (sides, rfcs) = load(ctx)?;
    let p = pair(sides);
    Ok(Arc::new(tables(
        &p,
        &rfcs,
        model::date32(ctx.as_of),
        ctx.opts.virtual_value_tolerance_pct,
    )?))
}

/// The pairing tables for this context, computed once per dataset state and as_of and
/// shared by the four checks (which the runner starts in parallel).
///
/// No lock is held while computing: a rayon worker waiting inside polars may steal
/// another VIRTUAL-* check and come back here on the same thread, which would deadlock
/// on a held mutex. The computation runs on a scoped plain thread (so the worker does not
/// steal while it waits); other threads wait for it; should the same thread still come
/// back here it computes again (correct, only slower).
pub fn virtual_tables(ctx: &AuditContext) -> Result<Arc<VirtualTables>, CheckError> {
    let key = fingerprint(ctx);
    let me = std::thread::current().id();
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match &*g {
            Some(Slot::Ready(k, t)) if *k == key => return Ok(t.clone()),
            Some(Slot::Computing(k, tid)) if *k == key && *tid != me => {
                g = READY.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            _ => break,
        }
    }
    let nested = matches!(&*g, Some(Slot::Computing(k, _)) if *k == key);
    if !nested {
        *g = Some(Slot::Computing(key.clone(), me));
    }
    drop(g);
    // Computed on a plain thread: a rayon worker joining it blocks without stealing
    // other checks' jobs (stealing is what would bring it back here, nested).
    let res = std::thread::scope(|sc| {
        sc.spawn(|| compute(ctx))
            .join()
            .unwrap_or_else(|_| Err(CheckError::Other("virtual pairing panicked".into())))
    });
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    match &res {
        Ok(t) => *g = Some(Slot::Ready(key, t.clone())),
        Err(_) if !nested => *g = None,
        Err(_) => {}
    }
    READY.notify_all();
    res
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
                include_str!(concat!("../../queries/virtual/", $file)),
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
        }
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
