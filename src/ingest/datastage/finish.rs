//! The end of a parse: per pedimento and record type, the rows of the latest request are
//! kept (the others counted as duplicates), partida conflicts are recorded, and the rows
//! go to their year.

use super::super::Parsed;
use super::partidas::{Partidas, Sums, header_sums};
use super::parts::Parts;
use super::resolve::Ctx;
use crate::dataset::{DescargoRow, FxMap, IdentificadorRow, PartidaRow};
use crate::model::{PedimentoKey, PedimentoNumber};
use rayon::prelude::*;
use rust_decimal::Decimal;

/// The kept rows of a parse: partidas, identificadores, descargos.
pub(super) type Kept = (Parts<PartidaRow>, Vec<IdentificadorRow>, Vec<DescargoRow>);

/// Keeps, per pedimento and record type, the rows of the latest request (`single`: one
/// request, all kept), recomputes the header totals `sums` when some partida is not kept
/// and records the conflicts of partidas given twice with different content.
#[allow(clippy::too_many_arguments)]
pub(super) fn keep_latest(
    ctx: &Ctx,
    p: Partidas,
    sums: &mut Vec<Sums>,
    (idents, ireq): (Vec<IdentificadorRow>, Vec<(usize, usize)>),
    (descargos, dreq): (Vec<DescargoRow>, Vec<(usize, usize)>),
    mut dups: Vec<usize>,
    names: &[String],
    parsed: &mut Parsed,
    single: bool,
) -> Kept {
    let Partidas {
        rows: partidas,
        preq,
        pkeys,
        replaced,
        confl,
        ..
    } = p;
    let mut keep = keep_mask(&pkeys, &preq, &mut dups, single);
    if !ctx.dead.is_empty() {
        // Partidas of a rejected pedimento (rejected with it, not duplicates).
        for (k, kp) in pkeys.iter().zip(keep.iter_mut()) {
            if ctx.dead[ctx.headers[k]] {
                *kp = false;
            }
        }
    }
    // Totals of the header from its kept partidas (501 carries no value totals), summed
    // per header index: a partida's pedimento is its key's header, found once per run of
    // partidas of one pedimento (the sums are `dataset::header_totals`', in the same order).
    // Summed after the 551 rows; again here only when some partidas are not kept.
    if keep.iter().any(|k| !k) {
        *sums = header_sums(ctx, &partidas, &pkeys, Some(&keep));
    }
    // A partida given twice with different content: the pedimento as it was with the
    // earlier row (its totals with that row, named by that row's file and line) is a
    // conflict, reported by DATA-CONFLICT.
    for (i, old, fi, differs) in replaced {
        if !differs || !keep[i] {
            continue;
        }
        let at = ctx.headers[&pkeys[i]];
        let (kept, t) = (&partidas[i], sums[at]);
        let mut c = ctx.rows[at].clone();
        let swap = |t: Decimal, k: Decimal, o: Decimal| {
            t.checked_sub(k).and_then(|x| x.checked_add(o)).unwrap_or(t)
        };
        c.valor_dolares = swap(t.0, kept.valor_dolares, old.valor_dolares);
        c.valor_aduana = swap(t.1, kept.valor_aduana, old.valor_aduana);
        c.valor_comercial = swap(t.2, kept.valor_comercial, old.valor_comercial);
        c.source_file = names[fi].clone();
        c.source_line = old.source_line;
        parsed.years.entry(c.year).or_default().conflicts.push(c);
    }
    let partidas = partidas.retain_mask(&keep);
    let keep = {
        let keys: Vec<(&str, bool)> = idents
            .iter()
            .map(|i| (i.pedimento_id.as_str(), i.partida.is_some()))
            .collect();
        keep_mask(&keys, &ireq, &mut dups, single)
    };
    let idents = filter_mask(idents, &keep);
    let keep = {
        let keys: Vec<&str> = descargos.iter().map(|d| d.pedimento_id.as_str()).collect();
        keep_mask(&keys, &dreq, &mut dups, single)
    };
    let descargos = filter_mask(descargos, &keep);
    for (f, n) in names.iter().zip(&dups) {
        if *n > 0
            && let Some(st) = parsed.files.iter_mut().find(|s| &s.file == f)
        {
            st.duplicates += n;
        }
    }
    for (f, n) in names.iter().zip(&confl) {
        if *n > 0
            && let Some(st) = parsed.files.iter_mut().find(|s| &s.file == f)
        {
            st.conflicts += n;
        }
    }
    (partidas, idents, descargos)
}

/// Moves the rows to their year (headers with their totals `sums`; those of index
/// `seeded_from` on are stored pedimentos this input adds rows to) and sorts them;
/// returns the pedimentos some row missed.
pub(super) fn distribute(
    mut ctx: Ctx,
    sums: Vec<Sums>,
    seeded_from: usize,
    (partidas, idents, descargos): Kept,
    parsed: &mut Parsed,
) -> std::collections::HashSet<PedimentoNumber> {
    drop(ctx.headers);
    let dead = std::mem::take(&mut ctx.dead);
    let missing = std::mem::take(&mut ctx.missing)
        .into_inner()
        .unwrap_or_default();
    // Totals in place; a stored pedimento this input adds rows to is marked partial.
    for (at, (row, (vd, va, vc))) in ctx.rows.iter_mut().zip(sums).enumerate() {
        if dead.get(at) == Some(&true) {
            continue; // rejected (total overflow): dropped below
        }
        if at >= seeded_from {
            parsed
                .years
                .entry(row.year)
                .or_default()
                .partial
                .insert(row.pedimento_id.to_string());
        }
        (row.valor_dolares, row.valor_aduana, row.valor_comercial) = (vd, va, vc);
    }
    let one_year = ctx
        .rows
        .first()
        .map(|h| h.year)
        .filter(|y| ctx.rows.iter().all(|h| h.year == *y) && !dead.contains(&true));
    if let Some(y) = one_year {
        // Headers all of one year, none rejected (a shard of one year's request, the
        // usual case): the vector moves to its year whole instead of row by row (~2% of
        // a 10M ingest's CPU in copies of ~450-byte rows).
        let yd = &mut parsed.years.entry(y).or_default().pedimentos;
        if yd.is_empty() {
            *yd = ctx.rows;
        } else {
            yd.append(&mut ctx.rows);
        }
    } else {
        let mut per_year: std::collections::BTreeMap<i32, usize> = Default::default();
        for h in &ctx.rows {
            *per_year.entry(h.year).or_default() += 1;
        }
        for (y, n) in per_year {
            parsed.years.entry(y).or_default().pedimentos.reserve(n);
        }
        for (at, row) in ctx.rows.into_iter().enumerate() {
            if dead.get(at) != Some(&true) {
                parsed
                    .years
                    .entry(row.year)
                    .or_default()
                    .pedimentos
                    .push(row);
            }
        }
    }
    file_partidas(partidas, parsed);
    parsed.push_by_year([], idents, descargos);
    for y in parsed.years.values_mut() {
        // Usually already in order (a request lists pedimentos and their partidas by
        // pedimento): check first (the stable sort of headers in order cost ~0.5 s of
        // CPU at 10M partidas).
        if !y
            .pedimentos
            .is_sorted_by(|a, b| a.pedimento_id <= b.pedimento_id)
        {
            y.pedimentos
                .par_sort_by(|a, b| a.pedimento_id.cmp(&b.pedimento_id));
        }
        let key = |a: &PartidaRow, b: &PartidaRow| {
            (&a.pedimento_id, a.partida).cmp(&(&b.pedimento_id, b.partida))
        };
        if !y.partidas.is_sorted_by(|a, b| key(a, b).is_le()) {
            y.partidas.par_sort_by(key);
        }
    }
    missing
}

/// Files the partidas under their year: a part of one year (a shard's 551 table of one
/// year's file, the usual case) moves whole, the rows of a part of several years one by
/// one (see [`Parts`]).
fn file_partidas(partidas: Parts<PartidaRow>, parsed: &mut Parsed) {
    let year = |p: &PartidaRow| PedimentoKey::year_of_id(&p.pedimento_id).unwrap_or(0);
    let (mut whole, mut mixed) = (vec![], vec![]);
    for part in partidas.into_parts() {
        let first = part.first().map(|p| p.pedimento_id.as_bytes().get(..4));
        if part
            .iter()
            .all(|p| Some(p.pedimento_id.as_bytes().get(..4)) == first)
        {
            whole.push(part);
        } else {
            mixed.push(part);
        }
    }
    let mut per_year: std::collections::BTreeMap<i32, usize> = Default::default();
    for p in mixed.iter().flatten() {
        *per_year.entry(year(p)).or_default() += 1;
    }
    for (y, n) in per_year {
        parsed.years.entry(y).or_default().partidas.reserve(n);
    }
    for mut part in whole {
        let Some(y) = part.first().map(year) else {
            continue;
        };
        let rows = &mut parsed.years.entry(y).or_default().partidas;
        if rows.is_empty() && rows.capacity() < part.len() {
            *rows = part;
        } else {
            rows.append(&mut part);
        }
    }
    parsed.push_by_year(mixed.into_iter().flatten(), [], []);
}

/// The latest request per key.
pub(super) fn latest<K: std::hash::Hash + Eq>(
    keys: impl Iterator<Item = (K, usize)>,
) -> FxMap<K, usize> {
    let mut m: FxMap<K, usize> = FxMap::default();
    for (k, r) in keys {
        let e = m.entry(k).or_insert(r);
        *e = (*e).max(r);
    }
    m
}

/// Which rows come from the latest request for their key; the others are counted as
/// duplicates of their file (`reqs`: (request, file index) per row).
pub(super) fn keep_mask<K: std::hash::Hash + Eq + Copy>(
    keys: &[K],
    reqs: &[(usize, usize)],
    dups: &mut [usize],
    single: bool,
) -> Vec<bool> {
    if single {
        return vec![true; keys.len()];
    }
    let max = latest(keys.iter().copied().zip(reqs.iter().map(|r| r.0)));
    keys.iter()
        .zip(reqs)
        .map(|(k, (req, fi))| {
            let keep = max[k] == *req;
            if !keep {
                dups[*fi] += 1;
            }
            keep
        })
        .collect()
}

pub(super) fn filter_mask<T>(rows: Vec<T>, keep: &[bool]) -> Vec<T> {
    if keep.iter().all(|k| *k) {
        return rows; // no move of every row
    }
    rows.into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}
