//! The one resolver every dependent row goes through: the accepted 501 headers by
//! (triple, year) and the lookups from a row's pedimento reference to its header
//! (next-header fast path [`Ctx::resolve_at`], last-row memo [`Ctx::resolve_memo`]).

use super::super::Parsed;
use super::table::{Fail, Row, Table, fields_buf};
use crate::dataset::{FxMap, PedimentoRow, RejectRow};
use crate::model::RejectReason;
use crate::model::{PedimentoKey, PedimentoNumber};
use chrono::NaiveDate;
use std::collections::HashMap;

/// What [`Ctx::resolve_memo`] remembers of the last row it resolved: its (triple, date),
/// the pedimento and that header's index in `rows`.
#[derive(Default)]
pub(super) struct Memo {
    pub(super) last: Option<(RowRef, PedimentoKey, usize)>,
}

/// The pedimento reference of a dependent row: its triple and date.
pub(super) type RowRef = (PedimentoNumber, Option<NaiveDate>);

pub(super) struct Ctx {
    /// Accepted 501 rows by (triple, year): their index in `rows`. The map holds small
    /// entries, not the rows: every 5xx row looks its pedimento up here, and a table of
    /// 300-byte buckets missed the cache on most probes.
    pub(super) headers: FxMap<PedimentoKey, usize>,
    pub(super) rows: Vec<PedimentoRow>,
    /// Per row of `rows`: its key in `headers` (the cursor of [`Ctx::resolve_memo`]).
    pub(super) keys: Vec<PedimentoKey>,
    /// Years per triple (to resolve rows that carry no usable date), in the order of
    /// `keys`: built from them on first use ([`Ctx::years_of`]; most inputs never need
    /// it, and filling it for every 501 row was ~1% of a 10M ingest's CPU).
    years_of: std::sync::OnceLock<FxMap<PedimentoNumber, Vec<i32>>>,
    /// 501 rows rejected: dependent rows are rejected with a pointer to them.
    pub(super) rejected_headers: HashMap<PedimentoNumber, String>,
    /// Per row of `rows`: the request of its 501 row.
    pub(super) reqs: Vec<usize>,
    /// Several requests in the run: rows are checked against their header's request.
    pub(super) multi: bool,
    /// A row came from another request than its pedimento's 501 (or a 501 replaced one
    /// of another request): only then can a request supersede another's rows, and the
    /// per-key "latest request" maps are built (they cost 4-5% of a 10M ingest, whose 5
    /// yearly requests never overlap).
    pub(super) mixed: std::sync::atomic::AtomicBool,
    /// Per row of `rows` when some pedimento is rejected after its 501 row was accepted
    /// (a value total that overflows): its later rows are rejected. Empty otherwise.
    pub(super) dead: Vec<bool>,
    /// Pedimentos (triples) some dependent row named without a 501 row for it.
    pub(super) missing: std::sync::Mutex<std::collections::HashSet<PedimentoNumber>>,
    /// Rows of `rows` whose 501 replaced a different earlier version in this run (that
    /// version is already a conflict: a partida of another request is not one again).
    pub(super) replaced: std::collections::HashSet<usize>,
}

impl Ctx {
    /// An empty context for `n501` header rows (`multi`: several requests in the run).
    pub(super) fn new(multi: bool, n501: usize) -> Ctx {
        let mut ctx = Ctx {
            headers: FxMap::default(),
            rows: vec![],
            keys: vec![],
            years_of: Default::default(),
            rejected_headers: HashMap::new(),
            reqs: vec![],
            multi,
            mixed: false.into(),
            dead: vec![],
            replaced: Default::default(),
            missing: Default::default(),
        };
        ctx.headers.reserve(n501);
        ctx.rows.reserve(n501);
        ctx.keys.reserve(n501);
        ctx
    }
    pub(super) fn row(&self, k: &PedimentoKey) -> &PedimentoRow {
        &self.rows[self.headers[k]]
    }
    /// The header of a key `resolve` returned.
    pub(super) fn row_mut(&mut self, k: &PedimentoKey) -> &mut PedimentoRow {
        &mut self.rows[self.headers[k]]
    }
    /// [`Ctx::resolve`] for a row of request `req` that is kept per latest request
    /// (507, 551, 554, 556/557, 512); notes when its pedimento's 501 is of another.
    /// Remembers the last row's answer: the rows of a pedimento are consecutive in a file
    /// (551: one per partida, 556/557: several per partida), and each resolve is two or
    /// three probes of tables far larger than the cache.
    pub(super) fn resolve_memo(
        &self,
        memo: &mut Memo,
        t: &PedimentoNumber,
        date: Option<NaiveDate>,
        req: usize,
    ) -> Result<(PedimentoKey, usize), Fail> {
        if let Some(((mt, md), k, at)) = &memo.last
            && mt == t
            && *md == date
        {
            return Ok((*k, *at));
        }
        let (k, at) = self.resolve_at(memo, t, date)?;
        self.alive(at)?;
        if self.multi && self.reqs[at] != req {
            self.mixed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok((k, at))
    }
    /// [`Ctx::resolve`] with the header's index in `rows`, for a row that follows the row
    /// `memo` last resolved. Files list pedimentos in the order of their 501 rows, so the
    /// next pedimento is usually the next header: when `keys` there is the row's own
    /// (number, year of validation its date gives) it is the header `headers` would give (each key has one
    /// index), found without a probe of a table larger than the cache. Otherwise (no
    /// date, another order, another year) it is looked up as [`Ctx::locate`] does.
    pub(super) fn resolve_at(
        &self,
        memo: &mut Memo,
        t: &PedimentoNumber,
        date: Option<NaiveDate>,
    ) -> Result<(PedimentoKey, usize), Fail> {
        if let Some(d) = date
            && let Some((_, _, at)) = memo.last
            && let Some(k) = self.keys.get(at + 1)
            && k.number() == *t
            && k.year() == t.validation_year(chrono::Datelike::year(&d))
        {
            memo.last = Some(((*t, date), *k, at + 1));
            return Ok((*k, at + 1));
        }
        let (k, at) = self.locate(t, date)?;
        let at = at.unwrap_or_else(|| self.headers[&k]);
        memo.last = Some(((*t, date), k, at));
        Ok((k, at))
    }
    /// The years of each triple's headers (once all headers are in: the dependent rows
    /// come after the 501 rows and the stored seeds).
    fn years_of(&self) -> &FxMap<PedimentoNumber, Vec<i32>> {
        self.years_of.get_or_init(|| {
            let mut m: FxMap<PedimentoNumber, Vec<i32>> = FxMap::default();
            for k in &self.keys {
                m.entry(k.number()).or_default().push(k.year());
            }
            m
        })
    }
    /// Fails for a pedimento rejected after its 501 row was accepted.
    #[inline]
    pub(super) fn alive(&self, at: usize) -> Result<(), Fail> {
        if self.dead.is_empty() || !self.dead[at] {
            return Ok(());
        }
        Err((
            "Pedimento".into(),
            RejectReason::HeaderOverflow {
                pedimento: self.rows[at].pedimento_id.to_string(),
                file: self.rows[at].source_file.clone(),
                line: self.rows[at].source_line,
            },
        ))
    }
    /// Whether a row may come from another request than its pedimento's 501.
    pub(super) fn mixed(&self) -> bool {
        self.mixed.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Finds the pedimento a dependent row belongs to.
    pub(super) fn resolve(
        &self,
        t: &PedimentoNumber,
        date: Option<NaiveDate>,
    ) -> Result<PedimentoKey, Fail> {
        let (k, at) = self.locate(t, date)?;
        if !self.dead.is_empty() {
            self.alive(at.unwrap_or_else(|| self.headers[&k]))?;
        }
        Ok(k)
    }
    /// [`Ctx::resolve`], with the header's index in `rows` when its lookup found it (the
    /// row's own date names the year; not when the year came from `years_of`).
    pub(super) fn locate(
        &self,
        t: &PedimentoNumber,
        date: Option<NaiveDate>,
    ) -> Result<(PedimentoKey, Option<usize>), Fail> {
        if let Some(d) = date {
            use chrono::Datelike;
            let k = PedimentoKey::of(*t, t.validation_year(d.year()));
            if let Some(&at) = self.headers.get(&k) {
                return Ok((k, Some(at)));
            }
        }
        match self.years_of().get(t).map(|v| v.as_slice()) {
            Some([y]) => Ok((PedimentoKey::of(*t, *y), None)),
            Some(ys) if ys.len() > 1 => {
                // Several years share this number: take the latest paid on or before the date.
                if let Some(d) = date {
                    let best = ys
                        .iter()
                        .filter(|y| self.row(&PedimentoKey::of(*t, **y)).fecha_pago <= d)
                        .max();
                    if let Some(y) = best {
                        return Ok((PedimentoKey::of(*t, *y), None));
                    }
                }
                Err((
                    "Pedimento".into(),
                    RejectReason::AmbiguousPedimento {
                        number: format!("{}-{}-{}", t.aduana_seccion(), t.patente(), t.numero()),
                        years: ys.to_vec(),
                    },
                ))
            }
            _ => {
                if let Some(at) = self.rejected_headers.get(t) {
                    Err((
                        "Pedimento".into(),
                        RejectReason::HeaderRejected { at: at.clone() },
                    ))
                } else {
                    if let Ok(mut m) = self.missing.lock() {
                        m.insert(*t);
                    }
                    Err((
                        "Pedimento".into(),
                        RejectReason::MissingPedimento {
                            number: format!(
                                "{}-{}-{}",
                                t.aduana_seccion(),
                                t.patente(),
                                t.numero()
                            ),
                        },
                    ))
                }
            }
        }
    }
}

pub(super) fn reject_row(parsed: &mut Parsed, t: &Table, line: usize, f: &str, fail: Fail) {
    let raw: String = f.chars().take(500).collect();
    parsed.reject(RejectRow {
        source_file: t.file.clone(),
        line: line as i64,
        record_type: t.rtype.clone(),
        field: fail.0,
        reason: fail.1,
        raw,
    });
}

/// Every line of every table through `row`, a parse-then-apply step (it applies only
/// after its last `?`): accepted lines are counted per file, failed ones rejected with
/// their file, line and field. The memo serves [`Ctx::resolve_memo`]/[`Ctx::resolve_at`].
pub(super) fn each_line<'a>(
    tables: Vec<Table<'a>>,
    parsed: &mut Parsed,
    mut row: impl FnMut(&Table<'a>, usize, &Row, &mut Memo) -> Result<(), Fail>,
) {
    for t in tables {
        let mut acc = 0;
        let mut memo = Memo::default();
        let mut buf = fields_buf();
        for (ln, f) in t.lines() {
            let r = Row::new(&t, f, &mut buf);
            match row(&t, ln, &r, &mut memo) {
                Ok(()) => acc += 1,
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }
}
