//! The partida-level record types: 551 (partidas, parsed in parallel: the largest table by
//! far), 556/557 (tasas and contribuciones) and 554 (identificadores de partida), and the
//! value totals of each header, summed from its partidas.

use super::super::Parsed;
use super::latest;
use super::parts::Parts;
use super::resolve::{Ctx, Memo, each_line, reject_row};
use super::table::{Fail, Fd, Row, Table, dec, f, fields_buf, fraccion_text};
use crate::dataset::{FxMap, IdentificadorRow, PartidaRow, RejectRow, Text};
use crate::model::{
    self, FieldError, MONEY_SCALE, PedimentoKey, QTY_SCALE, RATE_SCALE, RejectReason, catalog,
};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Value totals (dólares, aduana, comercial) of one header.
pub(super) type Sums = (Decimal, Decimal, Decimal);

/// (partida index, tasa (556) or importe (557), contribution, value, request, file)
pub(super) type ContribRow = (usize, bool, Option<Contrib>, Decimal, usize, usize);

/// The accepted partidas and their bookkeeping.
pub(super) struct Partidas {
    /// The partidas, one part per table in order (see [`Parts`]), else one per table
    /// parsed row by row.
    pub(super) rows: Parts<PartidaRow>,
    /// Per partida: (request, file index).
    pub(super) preq: Vec<(usize, usize)>,
    /// Per partida: its pedimento's key.
    pub(super) pkeys: Vec<PedimentoKey>,
    /// Per partida: its number (the lookups read these, not the rows).
    pub(super) pnums: Vec<i32>,
    /// (triple, year, partida number) → index in `rows`; `None` while `rows` are in
    /// strictly increasing (key, partida) order, found then by binary search
    /// ([`Partidas::find`]).
    pub(super) pindex: Option<FxMap<(PedimentoKey, i32), usize>>,
    /// Partidas replaced by a later row of the same partida: (index in `rows`, the
    /// earlier row, its file, whether it differs).
    pub(super) replaced: Vec<(usize, PartidaRow, usize, bool)>,
    /// Per file: the count of replaced partidas that differ (conflicts).
    pub(super) confl: Vec<usize>,
}

impl Partidas {
    /// The index in `rows` of partida `k` (its pedimento's key, its number).
    pub(super) fn find(&self, k: &(PedimentoKey, i32)) -> Option<usize> {
        find(&self.pindex, &self.pkeys, &self.pnums, k)
    }
}

/// The map of [`Partidas::pindex`] for the partidas whose pedimento keys are `pkeys` and
/// numbers `pnums`, with room for `capacity` partidas.
fn index_of(
    pkeys: &[PedimentoKey],
    pnums: &[i32],
    capacity: usize,
) -> FxMap<(PedimentoKey, i32), usize> {
    let mut m = FxMap::default();
    m.reserve(capacity.max(pnums.len()));
    m.extend(
        pkeys
            .iter()
            .zip(pnums)
            .enumerate()
            .map(|(j, (k, n))| ((*k, *n), j)),
    );
    m
}

/// [`Partidas::find`] over its fields (per partida: `pkeys` its pedimento's key, `pnums`
/// its number).
fn find(
    pindex: &Option<FxMap<(PedimentoKey, i32), usize>>,
    pkeys: &[PedimentoKey],
    pnums: &[i32],
    k: &(PedimentoKey, i32),
) -> Option<usize> {
    match pindex {
        Some(m) => m.get(k).copied(),
        None => {
            let i = pkeys.partition_point(|pk| pk < &k.0);
            let j =
                i + pnums[i..pkeys.partition_point(|pk| pk <= &k.0)].partition_point(|n| *n < k.1);
            (pkeys.get(j) == Some(&k.0) && pnums[j] == k.1).then_some(j)
        }
    }
}

/// The pedimento of the previous row a parse resolved, by the text of the fields it was
/// resolved from (aduana, patente, número, FechaPagoReal): a pedimento's rows are
/// consecutive, and a row with the same text resolves to the same pedimento (the parse
/// of the fields and the lookup were ~3% of a 10M ingest's CPU). Its id text too.
#[derive(Default)]
struct SameKey<'a> {
    last: Option<([&'a str; 4], PedimentoKey, Text)>,
}

impl<'a> SameKey<'a> {
    fn raw(r: &Row<'a, '_>) -> [&'a str; 4] {
        [
            r.raw(f::SeccionAduanera),
            r.raw(f::Patente),
            r.raw(f::Pedimento),
            r.raw(f::FechaPagoReal),
        ]
    }

    /// The key (and id) of a row whose fields read `raw`, when the previous one's did.
    fn get(&self, raw: &[&'a str; 4]) -> Option<(PedimentoKey, &Text)> {
        match &self.last {
            Some((r, k, id)) if r == raw => Some((*k, id)),
            _ => None,
        }
    }

    fn set(&mut self, raw: [&'a str; 4], key: PedimentoKey, id: &str) {
        self.last = Some((raw, key, Text::from(id)));
    }
}

/// One parsed 556/557 row: its partida index, the contribution, its amount.
type ContribParse = Result<(usize, Option<Contrib>, Decimal), Fail>;
/// 551 partidas of `n551` rows in all, over `nfiles` files.
pub(super) fn partidas_551(
    tables: Vec<Table>,
    ctx: &Ctx,
    n551: usize,
    nfiles: usize,
    parsed: &mut Parsed,
    dups: &mut [usize],
) -> Partidas {
    let mut partidas: Parts<PartidaRow> = Parts::default();
    let mut preq: Vec<(usize, usize)> = Vec::with_capacity(n551);
    let mut pkeys: Vec<PedimentoKey> = Vec::with_capacity(n551);
    let mut pnums: Vec<i32> = Vec::with_capacity(n551);
    // No map while the partidas are in strictly increasing (key, partida) order (the
    // usual case: a request lists its partidas in order, a shard's tables come year by
    // year): they are distinct, and found by binary search. Inserting every partida in
    // a map was ~3% of a 10M ingest's CPU, and each table after the first went row by
    // row through it.
    let mut pindex: Option<FxMap<(PedimentoKey, i32), usize>> = None;
    // Partidas replaced by a later row of the same partida: (index in `partidas`, the
    // earlier row, its file, whether it differs), and per file the count of those that
    // differ (conflicts).
    let mut replaced: Vec<(usize, PartidaRow, usize, bool)> = vec![];
    let mut confl: Vec<usize> = vec![0; nfiles];
    for t in tables {
        // Keys (or the failure) and rows in two vectors, each written in place by the
        // parallel parse: a clean table in order becomes a part of `partidas` as it is,
        // without moving its 400-byte rows (see [`Parts`]). A row that failed is a
        // placeholder, never stored.
        let n = t.rows.len();
        let mut results: Vec<Result<PedimentoKey, Fail>> = Vec::with_capacity(n);
        let mut rows: Vec<PartidaRow> = Vec::with_capacity(n);
        // Each row is parsed into its slot of `rows` (a row built and returned by value
        // was copied 3-4 times on its way into the vector: ~8% of the 551 parse).
        rows.spare_capacity_mut()[..n]
            .par_iter_mut()
            .zip(results.spare_capacity_mut()[..n].par_iter_mut())
            .zip(t.par_lines())
            .for_each_init(
                || (Memo::default(), SameKey::default(), fields_buf()),
                |(memo, same, buf), ((slot, res), (ln, f))| {
                    let p = slot.write(PartidaRow::default());
                    let r = Row::new(&t, f, buf);
                    let mut parse = || {
                        let raw = SameKey::raw(&r);
                        if let Some((key, id)) = same.get(&raw) {
                            partida_551(&r, ln, p)?;
                            p.pedimento_id = id.clone();
                            return Ok(key);
                        }
                        let tr = r.triple()?;
                        let pd = r.opt(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
                        partida_551(&r, ln, p)?;
                        let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
                        p.pedimento_id = key.id_text();
                        same.set(raw, key, &p.pedimento_id);
                        Ok(key)
                    };
                    res.write(parse());
                },
            );
        // SAFETY: the loop above wrote every one of the first `n` slots of both vectors
        // (one item per line, `n` lines); a panic in it propagates before this line.
        unsafe {
            rows.set_len(n);
            results.set_len(n);
        }
        if pindex.is_none() && results.iter().all(|r| r.is_ok()) {
            // Every row in order after the partidas so far: they are all new and
            // distinct, and appended as they are.
            let key_of = |j: usize| -> (PedimentoKey, i32) {
                (*results[j].as_ref().expect("checked ok"), rows[j].partida)
            };
            let after_last = match (pkeys.last(), pnums.last(), rows.is_empty()) {
                (Some(k), Some(n), false) => (*k, *n) < key_of(0),
                _ => true,
            };
            if after_last && (1..rows.len()).all(|j| key_of(j - 1) < key_of(j)) {
                pkeys.extend(results.iter().map(|r| *r.as_ref().expect("checked ok")));
                pnums.extend(rows.iter().map(|p| p.partida));
                preq.extend(std::iter::repeat_n((t.req, t.fi), rows.len()));
                parsed.accept(&t.file, rows.len());
                partidas.push_part(rows);
                continue;
            }
        }
        // Row by row, through the map (built from the partidas so far on first use).
        let pindex = pindex.get_or_insert_with(|| index_of(&pkeys, &pnums, n551));
        partidas.new_part(n);
        let mut acc = 0;
        for ((ln, f), (res, p)) in t.lines().zip(results.into_iter().zip(rows)) {
            match res {
                Ok(key) => {
                    match pindex.entry((key, p.partida)) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            // Same partida again: the later row wins. An identical
                            // repeat is counted; a different version is also a conflict
                            // (the earlier row's pedimento goes to `conflicts`).
                            let i = *e.get();
                            let fi = preq[i].1;
                            dups[fi] += 1;
                            let old = std::mem::replace(&mut partidas[i], p);
                            // (A partida of another file whose pedimento's 501 was
                            // replaced by a different version: already a conflict.)
                            let differs = !crate::dataset::same_partida(&old, &partidas[i])
                                && (fi == t.fi || !ctx.replaced.contains(&ctx.headers[&key]));
                            if differs {
                                confl[fi] += 1;
                            }
                            replaced.push((i, old, fi, differs));
                            preq[i] = (t.req, t.fi);
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(partidas.len());
                            pnums.push(p.partida);
                            partidas.push(p);
                            preq.push((t.req, t.fi));
                            pkeys.push(key);
                        }
                    }
                    acc += 1;
                }
                Err(e) => reject_row(parsed, &t, ln, f, e),
            }
        }
        parsed.accept(&t.file, acc);
    }
    Partidas {
        rows: partidas,
        preq,
        pkeys,
        pnums,
        pindex,
        replaced,
        confl,
    }
}

/// Value totals per header index from the partidas (those `keep` marks; all without
/// it), summed per header index: a partida's pedimento is its key's header, found once
/// per run of partidas of one pedimento (the sums are `dataset::header_totals`', in the
/// same order).
pub(super) fn header_sums(
    ctx: &Ctx,
    partidas: &Parts<PartidaRow>,
    pkeys: &[PedimentoKey],
    keep: Option<&[bool]>,
) -> Vec<Sums> {
    let mut last: Option<(&PedimentoKey, usize)> = None;
    let values = partidas
        .iter()
        .zip(pkeys)
        .enumerate()
        .filter(|(j, _)| keep.is_none_or(|kp| kp[*j]))
        .map(|(_, (p, k))| {
            let at = match last {
                Some((lk, at)) if lk == k => at,
                _ => ctx.headers[k],
            };
            last = Some((k, at));
            (at, [p.valor_dolares, p.valor_aduana, p.valor_comercial])
        });
    sums_by_index(ctx.rows.len(), values)
}

/// The three sums of the values given for each index below `n`: the values of
/// [`crate::dataset::add_checked`] sums. Summed as whole hundredths (i128: no overflow
/// at any count of DECIMAL(18,2) values; a `Decimal` add per value was most of
/// [`header_sums`]' time); a value with more than 2 decimals (none from the Data Stage
/// parser) is added as a `Decimal`.
fn sums_by_index(n: usize, values: impl Iterator<Item = (usize, [Decimal; 3])>) -> Vec<Sums> {
    let mut cents = vec![[0i128; 3]; n];
    let mut exact: Vec<(usize, [Decimal; 3])> = vec![];
    for (at, v) in values {
        match v.map(cents_of) {
            [Some(a), Some(b), Some(c)] => {
                let e = &mut cents[at];
                e[0] += a;
                e[1] += b;
                e[2] += c;
            }
            _ => exact.push((at, v)),
        }
    }
    let dec = |c: i128| {
        Decimal::try_from_i128_with_scale(c, MONEY_SCALE).unwrap_or(if c < 0 {
            Decimal::MIN
        } else {
            Decimal::MAX
        })
    };
    let mut sums: Vec<Sums> = cents
        .into_iter()
        .map(|[a, b, c]| (dec(a), dec(b), dec(c)))
        .collect();
    for (at, [a, b, c]) in exact {
        let e = &mut sums[at];
        crate::dataset::add_checked(&mut e.0, a);
        crate::dataset::add_checked(&mut e.1, b);
        crate::dataset::add_checked(&mut e.2, c);
    }
    sums
}

/// A value with at most [`MONEY_SCALE`] decimals as a whole number of hundredths.
fn cents_of(v: Decimal) -> Option<i128> {
    let up = MONEY_SCALE.checked_sub(v.scale())?;
    Some(v.mantissa() * 10i128.pow(up))
}

/// Value totals per header (501 carries none), checked: a total that does not fit
/// DECIMAL(18,2) rejects its pedimento (the 501 row and every partida now; its other
/// rows, parsed next, as rows of a rejected pedimento) instead of wrapping when stored.
/// Summed over every partida; recomputed at the end only when some are not kept.
pub(super) fn value_totals(
    ctx: &mut Ctx,
    p: &mut Partidas,
    parsed: &mut Parsed,
    dups: &mut [usize],
    names: &[String],
) -> Vec<Sums> {
    let sums = header_sums(ctx, &p.rows, &p.pkeys, None);
    let Partidas {
        rows: partidas,
        preq,
        pkeys,
        replaced,
        confl,
        ..
    } = p;
    let overflow: Vec<(usize, &'static str)> = sums
        .iter()
        .enumerate()
        .filter_map(|(at, t)| crate::dataset::total_overflow(t).map(|c| (at, c)))
        .collect();
    if !overflow.is_empty() {
        ctx.dead = vec![false; ctx.rows.len()];
        let mut why: HashMap<usize, RejectReason> = HashMap::new();
        for (at, col) in &overflow {
            ctx.dead[*at] = true;
            let h = &ctx.rows[*at];
            let reason = RejectReason::TotalOverflow {
                column: col.to_string(),
                pedimento: h.pedimento_id.to_string(),
            };
            parsed.unaccept(&h.source_file);
            parsed.reject(RejectRow {
                source_file: h.source_file.clone(),
                line: h.source_line,
                record_type: "501".into(),
                field: (*col).into(),
                reason: reason.clone(),
                raw: String::new(),
            });
            why.insert(*at, reason);
        }
        let col_of = |at: usize| overflow.iter().find(|o| o.0 == at).map_or("", |o| o.1);
        // Earlier rows of a repeated partida of such a pedimento: rejected too.
        let mut kept = vec![];
        for (i, old, fi, differs) in std::mem::take(replaced) {
            let at = ctx.headers[&pkeys[i]];
            match why.get(&at) {
                Some(reason) => {
                    dups[fi] -= 1;
                    confl[fi] -= differs as usize;
                    parsed.unaccept(&names[fi]);
                    parsed.reject(RejectRow {
                        source_file: names[fi].clone(),
                        line: old.source_line,
                        record_type: "551".into(),
                        field: col_of(at).into(),
                        reason: reason.clone(),
                        raw: String::new(),
                    });
                }
                None => kept.push((i, old, fi, differs)),
            }
        }
        *replaced = kept;
        for (i, (p, k)) in partidas.iter().zip(pkeys.iter()).enumerate() {
            let at = ctx.headers[k];
            if let Some(reason) = why.get(&at) {
                let file = &names[preq[i].1];
                parsed.unaccept(file);
                parsed.reject(RejectRow {
                    source_file: file.clone(),
                    line: p.source_line,
                    record_type: "551".into(),
                    field: col_of(at).into(),
                    reason: reason.clone(),
                    raw: String::new(),
                });
            }
        }
    }
    sums
}

/// 556 tasas and 557 contribuciones of the partida (`by_type`: the 556 tables, then the
/// 557 ones), parsed in parallel; applied by [`apply_contribs`].
pub(super) fn contribuciones(
    by_type: [Vec<Table>; 2],
    ctx: &Ctx,
    p: &Partidas,
    parsed: &mut Parsed,
) -> Vec<ContribRow> {
    let n: usize = by_type.iter().flatten().map(|t| t.rows.len()).sum();
    let mut contribs: Vec<(usize, bool, Option<Contrib>, Decimal, usize, usize)> =
        Vec::with_capacity(n);
    for (tasa, tables) in [true, false].into_iter().zip(by_type) {
        for t in tables {
            let mut acc = 0;
            // Parse in parallel (read-only lookups), apply in order.
            let results: Vec<ContribParse> = t
                .par_lines()
                // `last`: the previous row's partida and its index (a partida's
                // contributions are consecutive).
                .map_init(
                    || {
                        let last: Option<((PedimentoKey, i32), usize)> = None;
                        (Memo::default(), SameKey::default(), last, fields_buf())
                    },
                    |(memo, same, last, buf), (_, f)| {
                        let r = Row::new(&t, f, buf);
                        let raw = SameKey::raw(&r);
                        let key = match same.get(&raw) {
                            Some((key, _)) => key,
                            None => {
                                let tr = r.triple()?;
                                let pd =
                                    r.opt(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
                                let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
                                same.set(raw, key, "");
                                key
                            }
                        };
                        let sec = r.req(
                            f::SecuenciaFraccion,
                            |s| {
                                s.parse::<i32>()
                                    .map_err(|_| FieldError::PartidaNumber { value: s.into() })
                            },
                            RejectReason::BadField,
                        )?;
                        let pk = (key, sec);
                        let i = match *last {
                            Some((k, i)) if k == pk => i,
                            // The next partida (as stored: its key, once): the index the
                            // map holds for it, without a probe.
                            Some((_, i))
                                if p.pkeys.get(i + 1) == Some(&key)
                                    && p.pnums.get(i + 1) == Some(&sec) =>
                            {
                                *last = Some((pk, i + 1));
                                i + 1
                            }
                            _ => {
                                let i = p.find(&pk).ok_or_else(|| {
                                    (
                                        "SecuenciaFraccion".to_string(),
                                        RejectReason::MissingPartida {
                                            partida: sec,
                                            pedimento: key.id(),
                                        },
                                    )
                                })?;
                                *last = Some((pk, i));
                                i
                            }
                        };
                        let code = Contrib::of(r.raw(f::ClaveContribucion).trim_start_matches('0'));
                        let v = if tasa {
                            r.req(
                                f::TasaContribucion,
                                |s| dec(s, RATE_SCALE),
                                RejectReason::NotANumber,
                            )?
                        } else {
                            r.req(
                                f::ImportePago,
                                |s| dec(s, MONEY_SCALE),
                                RejectReason::NotANumber,
                            )?
                        };
                        Ok::<_, Fail>((i, code, v))
                    },
                )
                .collect();
            for ((ln, f), res) in t.lines().zip(results) {
                match res {
                    Ok((i, code, v)) => {
                        contribs.push((i, tasa, code, v, t.req, t.fi));
                        acc += 1;
                    }
                    Err(e) => reject_row(parsed, &t, ln, f, e),
                }
            }
            parsed.accept(&t.file, acc);
        }
    }
    contribs
}

/// Applies the contributions: per pedimento and record type, only the latest request's
/// count (`single`: one request, nothing to compare).
pub(super) fn apply_contribs(
    contribs: Vec<ContribRow>,
    single: bool,
    p: &mut Partidas,
    dups: &mut [usize],
) {
    let Partidas {
        rows: partidas,
        pkeys,
        ..
    } = p;
    let cmax = if single {
        FxMap::default()
    } else {
        latest(contribs.iter().map(|c| ((pkeys[c.0], c.1), c.4)))
    };
    for (i, tasa, code, v, req, fi) in contribs {
        if !single && cmax[&(pkeys[i], tasa)] != req {
            dups[fi] += 1;
            continue;
        }
        let p = &mut partidas[i];
        let add =
            |slot: &mut Option<Decimal>, v: Decimal| *slot = Some(slot.unwrap_or_default() + v);
        match (tasa, code) {
            (true, Some(Contrib::Igi)) => p.igi_tasa = Some(v),
            (true, Some(Contrib::Iva)) => p.iva_tasa = Some(v),
            (true, Some(Contrib::Ieps)) => p.ieps_tasa = Some(v),
            (false, Some(Contrib::Igi)) => add(&mut p.igi_importe, v),
            (false, Some(Contrib::Iva)) => add(&mut p.iva_importe, v),
            (false, Some(Contrib::Ieps)) => add(&mut p.ieps_importe, v),
            (false, Some(Contrib::Dta)) => add(&mut p.dta_importe, v),
            _ => {} // other contributions are kept in the source only
        }
    }
}

/// 554 identificadores de partida. Rows go to `idents`, their (request, file) to `ireq`.
pub(super) fn identificadores_554(
    tables: Vec<Table>,
    ctx: &Ctx,
    p: &Partidas,
    parsed: &mut Parsed,
    idents: &mut Vec<IdentificadorRow>,
    ireq: &mut Vec<(usize, usize)>,
) {
    each_line(tables, parsed, |t, ln, r, memo| {
        let tr = r.triple()?;
        let pd = r.opt(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
        let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
        let sec = r.req(
            f::SecuenciaFraccion,
            |s| {
                s.parse::<i32>()
                    .map_err(|_| FieldError::PartidaNumber { value: s.into() })
            },
            RejectReason::BadField,
        )?;
        let id = key.id();
        if p.find(&(key, sec)).is_none() {
            return Err((
                "SecuenciaFraccion".into(),
                RejectReason::MissingPartida {
                    partida: sec,
                    pedimento: id,
                },
            ));
        }
        let clave = r.raw(f::ClaveCaso).to_uppercase();
        if clave.is_empty() {
            return Err((
                "ClaveCaso".into(),
                RejectReason::BadField(FieldError::Empty {
                    what: "identificador".into(),
                }),
            ));
        }
        idents.push(IdentificadorRow {
            pedimento_id: id,
            partida: Some(sec),
            clave,
            complemento1: r.text(f::IdentificadorCaso),
            complemento2: r.text(f::ComplementoCaso),
            complemento3: None,
            source_line: ln as i64,
        });
        ireq.push((t.req, t.fi));
        Ok(())
    });
}

/// Parses a 551 row's fields into `p` (a default row: the fields not set here, the id and
/// the contributions, are filled later). On a failure `p` holds the fields parsed before
/// it: the caller discards such a row.
fn partida_551(r: &Row, ln: usize, p: &mut PartidaRow) -> Result<(), Fail> {
    let money = |n: Fd| r.req(n, |s| dec(s, MONEY_SCALE), RejectReason::NotANumber);
    let qty = |n: Fd| r.req(n, |s| dec(s, QTY_SCALE), RejectReason::NotANumber);
    let qty_opt = |n: Fd| r.opt(n, |s| dec(s, QTY_SCALE), RejectReason::NotANumber);
    p.partida = r.req(
        f::SecuenciaFraccion,
        model::partida_number,
        RejectReason::BadField,
    )?;
    p.fraccion = r.req(f::Fraccion, fraccion_text, RejectReason::BadField)?;
    p.nico = r.ctext(f::SubdivisionFraccion);
    p.descripcion = r.ctext(f::DescripcionMercancia);
    p.codigo_producto = r.ctext(f::CodigoMercanciaProducto);
    p.pais_origen = r.ctext(f::PaisOrigenDestino);
    p.umc = r.ctext(f::UnidadMedidaComercial);
    p.cantidad_umc = qty_opt(f::CantidadUMComercial)?;
    p.umt = r.req(
        f::UnidadMedidaTarifa,
        |s| {
            if s.is_empty() {
                Err(FieldError::Empty {
                    what: "unidad de medida de tarifa".into(),
                })
            } else {
                Ok(Text::from(s))
            }
        },
        RejectReason::BadField,
    )?;
    p.cantidad_umt = qty(f::CantidadUMTarifa)?;
    p.precio_unitario = qty_opt(f::PrecioUnitario)?;
    p.valor_aduana = money(f::ValorAduana)?;
    p.valor_comercial = money(f::ValorComercial)?;
    p.valor_dolares = money(f::ValorDolares)?;
    p.source_line = ln as i64;
    Ok(())
}

/// The contributions the dataset keeps (Apéndice 12 codes, `model::catalog`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Contrib {
    Igi,
    Iva,
    Ieps,
    Dta,
}

impl Contrib {
    fn of(code: &str) -> Option<Contrib> {
        match code {
            catalog::CONTRIB_IGI => Some(Contrib::Igi),
            catalog::CONTRIB_IVA => Some(Contrib::Iva),
            catalog::CONTRIB_IEPS => Some(Contrib::Ieps),
            catalog::CONTRIB_DTA => Some(Contrib::Dta),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PedimentoNumber;

    fn key(year: i32, numero: u32) -> PedimentoKey {
        let n = format!("{numero:07}");
        let tr = PedimentoNumber {
            aduana: *b"070",
            patente: *b"3001",
            numero: n.as_bytes().try_into().unwrap(),
        };
        PedimentoKey::of(tr, year)
    }

    proptest::proptest! {
        /// The sums in hundredths are the sums `add_checked` makes one `Decimal` at a
        /// time, values with 0-4 decimals mixed (the ones over 2 take the `Decimal` path).
        #[test]
        fn sums_by_index_are_decimal_sums(
            values in proptest::collection::vec(
                (0usize..4, proptest::array::uniform3((-10i64.pow(17)..10i64.pow(17), 0u32..5))),
                0..60,
            ),
        ) {
            let values: Vec<(usize, [Decimal; 3])> = values
                .into_iter()
                .map(|(at, v)| (at, v.map(|(m, sc)| Decimal::new(m, sc))))
                .collect();
            let got = sums_by_index(4, values.iter().copied());
            let mut want = vec![(Decimal::ZERO, Decimal::ZERO, Decimal::ZERO); 4];
            for (at, [a, b, c]) in &values {
                crate::dataset::add_checked(&mut want[*at].0, *a);
                crate::dataset::add_checked(&mut want[*at].1, *b);
                crate::dataset::add_checked(&mut want[*at].2, *c);
            }
            proptest::prop_assert_eq!(got, want);
        }

        /// The binary search over partidas in (key, partida) order finds what the map
        /// finds: each partida, and nothing for one that is not there.
        #[test]
        fn sorted_partidas_are_found_as_in_the_map(
            mut items in proptest::collection::btree_set((2019i32..2022, 0u32..6, 1i32..5), 0..40),
            probes in proptest::collection::vec((2018i32..2023, 0u32..7, 0i32..6), 0..40),
        ) {
            let items: Vec<_> = std::mem::take(&mut items).into_iter().collect();
            let pkeys: Vec<PedimentoKey> = items.iter().map(|(y, n, _)| key(*y, *n)).collect();
            let pnums: Vec<i32> = items.iter().map(|(_, _, p)| *p).collect();
            let map = Some(index_of(&pkeys, &pnums, 0));
            for (y, n, p) in probes.iter().chain(&items) {
                let k = (key(*y, *n), *p);
                proptest::prop_assert_eq!(find(&None, &pkeys, &pnums, &k), find(&map, &pkeys, &pnums, &k));
            }
        }
    }
}
