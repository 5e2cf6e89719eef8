//! Column helpers of the native ledger ([`super`]): the balances' per-row results, string
//! ranks and the shared-buffer text columns.

use super::Strs;
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;

/// A string column whose row `r` is `pool[ix[r]]`: taken from a column of the distinct
/// values, so that the rows' views share one buffer instead of each copying its text.
pub(super) fn shared_strs(name: &str, pool: &[String], ix: &[usize]) -> PolarsResult<Column> {
    let pool = StringChunked::from_iter_values(name.into(), pool.iter().map(String::as_str));
    let idx = IdxCa::from_vec("ix".into(), ix.iter().map(|&k| k as IdxSize).collect());
    Ok(pool.take(&idx)?.into_series().into())
}

/// Selects and casts the columns to `schema` (the SQL's), in its order.
pub(super) fn conform(df: DataFrame, schema: &Schema) -> PolarsResult<DataFrame> {
    let cols: Vec<Column> = schema
        .iter()
        .map(|(name, dt)| {
            let c = df.column(name)?;
            if c.dtype() == dt {
                Ok(c.clone())
            } else {
                c.strict_cast(dt)
            }
        })
        .collect::<PolarsResult<_>>()?;
    DataFrame::new_infer_height(cols)
}

/// Dense ranks of a string column's values in byte order (the SQL's string order), per
/// row, and the number of distinct values. The column has no nulls.
pub(super) fn dense_ranks(c: &Strs, n: usize) -> (Vec<u32>, usize) {
    let mut ids: Vec<u32> = Vec::with_capacity(n);
    let mut map: FastMap<&str, u32> = HashMap::default();
    let mut vals: Vec<&str> = vec![];
    let mut prev: Option<(&str, u32)> = None;
    for i in 0..n {
        let v = c.at(i);
        let id = match prev {
            // Rows of one pedimento are adjacent: most lookups are skipped.
            Some((p, id)) if p == v => id,
            _ => *map.entry(v).or_insert_with(|| {
                vals.push(v);
                (vals.len() - 1) as u32
            }),
        };
        prev = Some((v, id));
        ids.push(id);
    }
    let mut order: Vec<u32> = (0..vals.len() as u32).collect();
    order.par_sort_unstable_by(|a, b| vals[*a as usize].cmp(vals[*b as usize]));
    let mut rank = vec![0u32; vals.len()];
    for (r, &v) in order.iter().enumerate() {
        rank[v as usize] = r as u32;
    }
    ids.par_iter_mut().for_each(|x| *x = rank[*x as usize]);
    (ids, vals.len())
}

/// Computed columns of `ledger_balances` for a run of rows: `cita[r]` indexes `pool`.
#[derive(Default)]
pub(super) struct BalanceRows {
    pub(super) disc: Vec<i128>,
    pub(super) open: Vec<i128>,
    pub(super) meses: Vec<Option<i64>>,
    pub(super) prog: Vec<Option<i64>>,
    pub(super) cita: Vec<usize>,
    pub(super) pool: Vec<String>,
    pub(super) vp: Vec<Option<i32>>,
    pub(super) vc: Vec<Option<i32>>,
    pub(super) ve: Vec<Option<i32>>,
    pub(super) estado: Vec<&'static str>,
}

impl BalanceRows {
    pub(super) fn with_capacity(n: usize) -> BalanceRows {
        BalanceRows {
            disc: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            meses: Vec::with_capacity(n),
            prog: Vec::with_capacity(n),
            cita: Vec::with_capacity(n),
            pool: vec![],
            vp: Vec::with_capacity(n),
            vc: Vec::with_capacity(n),
            ve: Vec::with_capacity(n),
            estado: Vec::with_capacity(n),
        }
    }

    /// The parts' rows one after another, their citation pools merged (each distinct
    /// text once).
    pub(super) fn concat(parts: Vec<BalanceRows>) -> BalanceRows {
        let n = parts.iter().map(|p| p.disc.len()).sum();
        let mut all = BalanceRows::with_capacity(n);
        let mut pooled: HashMap<String, usize> = HashMap::new();
        for p in parts {
            let remap: Vec<usize> = p
                .pool
                .into_iter()
                .map(|s| {
                    let next = all.pool.len();
                    *pooled.entry(s).or_insert_with_key(|s| {
                        all.pool.push(s.clone());
                        next
                    })
                })
                .collect();
            all.cita.extend(p.cita.iter().map(|&l| remap[l]));
            all.disc.extend(p.disc);
            all.open.extend(p.open);
            all.meses.extend(p.meses);
            all.prog.extend(p.prog);
            all.vp.extend(p.vp);
            all.vc.extend(p.vc);
            all.ve.extend(p.ve);
            all.estado.extend(p.estado);
        }
        all
    }
}

/// A map with foldhash's fast, fixed-seed hashing: the keys are short strings (RFCs,
/// fracciones, pedimento numbers, payment moments), hashed per row.
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

#[cfg(test)]
mod tests {
    use super::*;

    /// `shared_strs` gives each row its pool value, and the rows' views share the pool's
    /// text instead of copying it per row.
    #[test]
    fn ledger_shared_strs_share_the_pool_text() {
        let pool: Vec<String> = (0..3)
            .map(|k| format!("[v{k}] {}", "x".repeat(100)))
            .collect();
        let ix: Vec<usize> = (0..3000).map(|r| r % 3).collect();
        let c = shared_strs("cita", &pool, &ix).unwrap();
        let s = c.str().unwrap();
        assert_eq!(s.len(), 3000);
        for (r, v) in s.iter().enumerate() {
            assert_eq!(v, Some(pool[ix[r]].as_str()));
        }
        let text: usize = s.downcast_iter().map(|a| a.total_buffer_len()).sum();
        assert!(text < 1000, "{text} bytes of text for 3 distinct values");
    }

    /// Parts computed apart give the rows one after another, each row keeping its own
    /// citation text, each distinct text once in the merged pool.
    #[test]
    fn balance_parts_concat_in_order_with_one_pool() {
        let part = |rows: &[(i128, &str)], pool: &[&str]| {
            let mut p = BalanceRows::with_capacity(rows.len());
            p.pool = pool.iter().map(|s| s.to_string()).collect();
            for &(d, cita) in rows {
                p.disc.push(d);
                p.open.push(-d);
                p.meses.push(Some(d as i64));
                p.prog.push(None);
                p.cita.push(pool.iter().position(|s| *s == cita).unwrap());
                p.vp.push(Some(d as i32));
                p.vc.push(None);
                p.ve.push(Some(-(d as i32)));
                p.estado
                    .push(if d % 2 == 0 { "saldado" } else { "vencido" });
            }
            p
        };
        let parts = vec![
            part(&[(1, "a"), (2, "b"), (3, "a")], &["a", "b"]),
            part(&[], &[]),
            part(&[(4, "c"), (5, "a")], &["c", "a"]),
            part(&[(6, "b")], &["b"]),
        ];
        let all = BalanceRows::concat(parts);
        assert_eq!(all.disc, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(all.open, vec![-1, -2, -3, -4, -5, -6]);
        assert_eq!(all.meses, (1..=6).map(Some).collect::<Vec<_>>());
        assert_eq!(all.vp, (1..=6).map(Some).collect::<Vec<_>>());
        assert_eq!(all.ve, (1..=6).map(|d| Some(-d)).collect::<Vec<_>>());
        assert_eq!(all.estado[..2], ["vencido", "saldado"]);
        let text: Vec<&str> = all.cita.iter().map(|&k| all.pool[k].as_str()).collect();
        assert_eq!(text, ["a", "b", "a", "c", "a", "b"]);
        let mut pool = all.pool.clone();
        pool.sort();
        assert_eq!(pool, ["a", "b", "c"]);
    }
}
