//! The descargo ledger views (`ledger_allocations`, `ledger_balances`), computed natively.
//!
//! `queries/views/ledger_allocations.sql` and `queries/views/ledger_balances.sql` are the
//! portable definition of the ledger and what DuckDB, DataFusion and Spark run. polars ran
//! them superlinearly on large datasets (joins and sorts on `pedimento_id` strings, the
//! explicit-descargo CTEs computed twice, seven window functions): at 9.3 M partidas the two
//! views took about 75 s of a 147 s audit. pedimento-audit computes the same rows here, over
//! row numbers of `ledger_movements` instead of string keys:
//!
//! 1. EXPLICIT: descargos naming their original are applied first, exactly as the SQL's
//!    `exp_*` CTEs (cap per import in (discharge_id, discharge_partida) order).
//! 2. FIFO: what remains, per good (rfc, fracción, umt), in ledger order (fecha_operacion,
//!    imports before discharges on the same day, moment of payment, pedimento_id, partida):
//!    imports join a queue and each discharge takes from the oldest open import first; what
//!    finds nothing open is EXCESS. Equivalence with the SQL's interval-overlap formulation:
//!    consumed(j) = CD(j) - E(j) with E(j) = max over i <= j of (CD(i) - CI(i))⁺ (the SQL's
//!    running max) is the queue's cumulative consumption, and each import k covers
//!    (CI(k-1), CI(k)], so both give the same (import, discharge, quantity) rows.
//! 3. Balances: per temporary-import partida, what the allocations dated up to the as-of
//!    date discharged, its plazo end (the catalog row of its `plazo_clave` in force on its
//!    date, any length in months counted from its `inicio_plazo` (a consolidated pedimento:
//!    the first remesa or the closing, by the reading in force), or the linked program's end; an open-ended program keeps activo fijo
//!    'vigente') and state, as `ledger_balances.sql`.
//!
//! FIFO runs per pool (rfc, fracción, umt, pool): insumos and activo fijo never discharge
//! each other; a discharge marked `only_open` (A3) leaves no EXCESS row.
//!
//! Both outputs are sorted as the SQL's `ORDER BY` and cast to the schema polars gives the
//! SQL ([`alloc_schema`], [`balance_schema`]). The native path relies on (kind, pedimento_id, partida, fraccion) identifying a
//! movement (a discharge exploded through a bill of materials is one D movement per insumo
//! fracción; the BOM columns of `ledger_allocations` are the discharge movement's), on
//! non-null keys and quantities, on one quantity scale and on `plazos` versions that do not
//! overlap per clave (the dataset and `catalog` tests guarantee them); when the data breaks one, [`compute`] returns `None` and the
//! caller runs the SQL instead. `tests/ledger.rs` and `tests/generated.rs` (fixtures,
//! generated histories, the property test) assert that both views equal the SQL's, row by
//! row and in order; CI compares our findings with the other engines' SQL runs.

use chrono::{Duration, Months, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;

mod columns;
use columns::{BalanceRows, FastMap, conform, dense_ranks, shared_strs};

/// The two views, as the SQL would give them.
pub struct Views {
    pub allocations: DataFrame,
    pub balances: DataFrame,
}

/// Inputs besides `ledger_movements`.
pub struct Inputs<'a> {
    /// The `descargos` table (pedimento_id, original_id, original_fraccion, cantidad).
    pub descargos: &'a DataFrame,
    /// The `plazos` catalog (clave, tipo_bien, meses, por_programa, cita, version,
    /// valid_from, valid_to): the version in force on the import's date applies. The program each
    /// import is linked to (and its dates) comes with the movement (`ledger_movements`).
    pub plazos: &'a DataFrame,
    pub as_of: NaiveDate,
    pub expiring_days: i64,
}

/// The columns of `ledger_allocations`, in order, with the types polars gives
/// `queries/views/ledger_allocations.sql` (tests/ledger_rules.rs plans the SQL on fixture
/// data and asserts the two agree, so the SQL and the native path cannot drift apart).
pub fn alloc_schema() -> Schema {
    Schema::from_iter([
        Field::new("method".into(), DataType::String),
        Field::new("rfc".into(), DataType::String),
        Field::new("fraccion".into(), DataType::String),
        Field::new("umt".into(), DataType::String),
        Field::new("import_id".into(), DataType::String),
        Field::new("import_partida".into(), DataType::Int32),
        Field::new("discharge_id".into(), DataType::String),
        Field::new("discharge_partida".into(), DataType::Int32),
        Field::new("discharge_clave".into(), DataType::String),
        Field::new("discharge_fecha".into(), DataType::Date),
        Field::new("cantidad".into(), DataType::Decimal(18, 5)),
        Field::new("producto_fraccion".into(), DataType::String),
        Field::new("producto_cantidad".into(), DataType::Decimal(18, 5)),
        Field::new("bom_consumo".into(), DataType::Decimal(18, 6)),
        Field::new("bom_merma_pct".into(), DataType::Decimal(18, 6)),
        Field::new("bom_desperdicio_pct".into(), DataType::Decimal(18, 6)),
        Field::new("bom_valid_from".into(), DataType::Date),
    ])
}

/// The columns of `ledger_balances`, in order, with the types polars gives
/// `queries/views/ledger_balances.sql` (checked as [`alloc_schema`]).
pub fn balance_schema() -> Schema {
    Schema::from_iter([
        // `discharged` and `open_qty` are SUMs of DECIMAL(18, 5): polars widens them to 38.
        Field::new("rfc".into(), DataType::String),
        Field::new("fraccion".into(), DataType::String),
        Field::new("umt".into(), DataType::String),
        Field::new("pedimento_id".into(), DataType::String),
        Field::new("partida".into(), DataType::Int32),
        Field::new("clave".into(), DataType::String),
        Field::new("fecha_operacion".into(), DataType::Date),
        Field::new("imported".into(), DataType::Decimal(18, 5)),
        Field::new("discharged".into(), DataType::Decimal(38, 5)),
        Field::new("open_qty".into(), DataType::Decimal(38, 5)),
        Field::new("valor_aduana".into(), DataType::Decimal(18, 2)),
        Field::new("igi_tasa".into(), DataType::Decimal(18, 6)),
        Field::new("iva_tasa".into(), DataType::Decimal(18, 6)),
        Field::new("ieps_tasa".into(), DataType::Decimal(18, 6)),
        Field::new("tipo_bien".into(), DataType::String),
        Field::new("meses".into(), DataType::Int32),
        Field::new("por_programa".into(), DataType::Int32),
        Field::new("cita".into(), DataType::String),
        Field::new("programa".into(), DataType::String),
        Field::new("vence_plazo".into(), DataType::Date),
        Field::new("vence_cancelacion".into(), DataType::Date),
        Field::new("vence".into(), DataType::Date),
        Field::new("estado".into(), DataType::String),
    ])
}

const I: u8 = 0;
const D: u8 = 1;
const OTHER: u8 = 2;

/// A single-chunk string column read by row.
struct Strs<'a>(&'a <StringType as PolarsDataType>::Array);

impl<'a> Strs<'a> {
    fn get(&self, i: usize) -> Option<&'a str> {
        self.0.get(i)
    }
    /// The value at `i` ("" for null; the columns read this way have no nulls).
    fn at(&self, i: usize) -> &'a str {
        self.0.get(i).unwrap_or_default()
    }
}

fn single_str(df: &DataFrame, c: &str) -> PolarsResult<StringChunked> {
    Ok(df.column(c)?.str()?.rechunk().into_owned())
}

fn date_of(days: i32) -> NaiveDate {
    crate::model::from_date32(days)
}

fn days_of(d: NaiveDate) -> i32 {
    crate::model::date32(d)
}

/// Computes both views, or `None` when the movements break an assumption of the native
/// path (see the module doc); the caller then runs the SQL.
// size-exception: mirrors the SQL ledger CTE by CTE (numbered stages) over shared packed arrays
pub fn compute(mov: &DataFrame, inp: &Inputs) -> PolarsResult<Option<Views>> {
    let mut stages = crate::timing::Stages::new("ledger native");
    let n = mov.height();
    let kind_ca = single_str(mov, "kind")?;
    let rfc_ca = single_str(mov, "rfc")?;
    let fra_ca = single_str(mov, "fraccion")?;
    let umt_ca = single_str(mov, "umt")?;
    let pid_ca = single_str(mov, "pedimento_id")?;
    let clave_ca = single_str(mov, "clave")?;
    // The moment of payment ('YYYY-MM-DD hh:mm:ss'): PEPS order of same-day movements.
    let pago_ca = single_str(mov, "pago")?;
    let (kind_s, rfc, fra, umt, pid) = (
        Strs(kind_ca.downcast_as_array()),
        Strs(rfc_ca.downcast_as_array()),
        Strs(fra_ca.downcast_as_array()),
        Strs(umt_ca.downcast_as_array()),
        Strs(pid_ca.downcast_as_array()),
    );
    let partida_ca = mov.column("partida")?.i32()?.rechunk().into_owned();
    // FIFO pool (insumo / activo_fijo) and the A3-style "open imports only" flag.
    let pool_ca = single_str(mov, "pool")?;
    let only_open_ca = mov.column("only_open")?.cast(&DataType::Int32)?;
    let only_open_ca = only_open_ca.i32()?;
    let pool: Vec<u64> = pool_ca
        .iter()
        .map(|p| u64::from(p == Some("activo_fijo")))
        .collect();
    let only_open: Vec<bool> = only_open_ca.iter().map(|v| v == Some(1)).collect();
    let fecha_ca = mov.column("fecha_operacion")?.date()?.physical().rechunk();
    let q_ca = mov.column("cantidad")?.decimal()?;
    let scale = q_ca.scale();
    let q_dtype = q_ca.dtype().clone();
    if scale != 5
        || partida_ca.null_count() > 0
        || fecha_ca.null_count() > 0
        || q_ca.physical().null_count() > 0
        || [
            &kind_ca, &rfc_ca, &fra_ca, &umt_ca, &pid_ca, &clave_ca, &pago_ca,
        ]
        .iter()
        .any(|c| c.null_count() > 0)
    {
        return Ok(None);
    }
    let partida: &[i32] = partida_ca.cont_slice()?;
    let fecha: &[i32] = fecha_ca.cont_slice()?;
    let q_phys = q_ca.physical().rechunk();
    let q: &[i128] = q_phys.cont_slice()?;
    let kind: Vec<u8> = (0..n)
        .map(|i| match kind_s.get(i) {
            Some("I") => I,
            Some("D") => D,
            _ => OTHER,
        })
        .collect();

    // Integer ranks of the string keys (byte order, as the SQL's ORDER BY): every sort
    // below is on integers.
    stages.mark("read");
    let pago = Strs(pago_ca.downcast_as_array());
    let (((rfc_r, fra_r), (umt_r, pid_r)), pago_r) = rayon::join(
        || {
            rayon::join(
                || rayon::join(|| dense_ranks(&rfc, n), || dense_ranks(&fra, n)),
                || rayon::join(|| dense_ranks(&umt, n), || dense_ranks(&pid, n)),
            )
        },
        || dense_ranks(&pago, n).0,
    );
    // Row sort keys are packed in u64s: ranks must fit in 30 bits (umt shares its 32 with
    // the pool bit).
    if [&rfc_r, &fra_r, &umt_r, &pid_r]
        .iter()
        .any(|r| r.1 >= 1 << 30)
    {
        return Ok(None);
    }
    let (rfc_r, fra_r, umt_r, pid_r) = (rfc_r.0, fra_r.0, umt_r.0, pid_r.0);
    // The FIFO pool within a good: (umt, pool) packed in 32 bits.
    let umt_pool = |i: usize| ((umt_r[i] as u64) << 1) | pool[i];
    let good = |i: usize| ((rfc_r[i] as u64) << 32) | fra_r[i] as u64;
    let bits = |x: i32| (x as u32 ^ 0x8000_0000) as u64; // i32 order as u32 order
    // (kind, pedimento_id, partida, fraccion) must identify an I or D movement (the SQL
    // joins on it; a discharge exploded through a bill of materials is one D movement per
    // insumo fracción).
    {
        let mut keys: Vec<(u8, u64, u32)> = (0..n)
            .into_par_iter()
            .filter(|&i| kind[i] != OTHER)
            .map(|i| {
                (
                    kind[i],
                    ((pid_r[i] as u64) << 32) | bits(partida[i]),
                    fra_r[i],
                )
            })
            .collect();
        keys.par_sort_unstable();
        if keys.par_windows(2).any(|w| w[0] == w[1]) {
            return Ok(None);
        }
    }
    stages.mark("ranks");

    // ---- 1. EXPLICIT (the SQL's exp_* CTEs) over movements with cantidad > 0.
    let in_mov = |i: usize| kind[i] != OTHER && q[i] > 0;
    let mut used: HashMap<u32, i128> = HashMap::new();
    let mut explicit: Vec<(u32, u32, i128)> = vec![];
    {
        let dsc = inp.descargos;
        let dq = dsc.column("cantidad")?.decimal()?;
        if dq.scale() != scale {
            return Ok(None);
        }
        let dpid = single_str(dsc, "pedimento_id")?;
        let doid = single_str(dsc, "original_id")?;
        let dfr = single_str(dsc, "original_fraccion")?;
        let dq = dq.physical().rechunk();
        // exp_req: (discharge_id, original_id, fraccion) -> SUM(cantidad).
        let mut req: std::collections::BTreeMap<(&str, &str, &str), i128> = Default::default();
        for (((d, o), f), c) in dpid.iter().zip(doid.iter()).zip(dfr.iter()).zip(dq.iter()) {
            if let (Some(d), Some(o), Some(f), Some(c)) = (d, o, f, c)
                && c > 0
            {
                *req.entry((d, o, f)).or_default() += c;
            }
        }
        if !req.is_empty() {
            let need_i: std::collections::HashSet<&str> = req.keys().map(|k| k.1).collect();
            let need_d: std::collections::HashSet<&str> = req.keys().map(|k| k.0).collect();
            // exp_i / exp_d: (pedimento_id, fraccion) -> the row of its lowest partida.
            let mut ei: HashMap<(&str, &str), usize> = HashMap::new();
            let mut ed: HashMap<(&str, &str), usize> = HashMap::new();
            for i in (0..n).filter(|&i| in_mov(i)) {
                let p = pid.at(i);
                let m = match kind[i] {
                    I if need_i.contains(p) => &mut ei,
                    D if need_d.contains(p) => &mut ed,
                    _ => continue,
                };
                let e = m.entry((p, fra.at(i))).or_insert(i);
                if partida[i] < partida[*e] {
                    *e = i;
                }
            }
            // exp_raw, grouped by import row.
            let mut by_import: HashMap<usize, Vec<(usize, i128)>> = HashMap::new();
            for ((did, oid, fr), rq) in &req {
                let (Some(&i), Some(&d)) = (ei.get(&(*oid, *fr)), ed.get(&(*did, *fr))) else {
                    continue;
                };
                if rfc.at(i) == rfc.at(d) && umt.at(i) == umt.at(d) && fecha[i] <= fecha[d] {
                    let c = (*rq).min(q[i]).min(q[d]);
                    by_import.entry(i).or_default().push((d, c));
                }
            }
            // exp_capped / exp_alloc: in (discharge_id, discharge_partida) order per import.
            let mut imports: Vec<usize> = by_import.keys().copied().collect();
            imports.sort_unstable();
            for i in imports {
                let mut v = by_import.remove(&i).unwrap_or_default();
                v.sort_by(|a, b| (pid.at(a.0), partida[a.0]).cmp(&(pid.at(b.0), partida[b.0])));
                let mut run = 0i128;
                for (d, c) in v {
                    run += c;
                    let avail = q[i] - (run - c);
                    if avail > 0 {
                        let a = c.min(avail);
                        explicit.push((i as u32, d as u32, a));
                        *used.entry(i as u32).or_default() += a;
                        *used.entry(d as u32).or_default() += a;
                    }
                }
            }
        }
    }
    stages.mark("explicit");

    // ---- 2. FIFO over what remains (the SQL's rem, ev ... fifo, excess).
    let rem_q = |i: usize| q[i] - used.get(&(i as u32)).copied().unwrap_or(0);
    let rem: Vec<u32> = (0..n)
        .filter(|&i| in_mov(i) && rem_q(i) > 0)
        .map(|i| i as u32)
        .collect();
    // Ledger order: pool (good and regime), fecha_operacion, imports first, moment of
    // payment, pedimento_id, partida.
    let order: Vec<u32> = {
        let mut k: Vec<(u64, u64, u64, u64, u32)> = rem
            .par_iter()
            .map(|&r| {
                let i = r as usize;
                (
                    good(i),
                    (umt_pool(i) << 32) | bits(fecha[i]),
                    ((kind[i] as u64) << 32) | pago_r[i] as u64,
                    ((pid_r[i] as u64) << 32) | bits(partida[i]),
                    r,
                )
            })
            .collect();
        k.par_sort_unstable();
        k.into_iter().map(|x| x.4).collect()
    };
    stages.mark("fifo sort");
    let m = order.len();
    let same_good = |a: usize, b: usize| good(a) == good(b) && umt_pool(a) == umt_pool(b);
    let mut starts: Vec<usize> = (0..m)
        .into_par_iter()
        .filter(|&k| k == 0 || !same_good(order[k] as usize, order[k - 1] as usize))
        .collect();
    starts.push(m);
    // (import row, discharge row, quantity); import u32::MAX = EXCESS.
    let swept: Vec<Vec<(u32, u32, i128)>> = starts
        .par_windows(2)
        .map(|w| {
            let mut out = vec![];
            let mut queue: std::collections::VecDeque<(u32, i128)> = Default::default();
            for &r in &order[w[0]..w[1]] {
                let r = r as usize;
                if kind[r] == I {
                    queue.push_back((r as u32, rem_q(r)));
                    continue;
                }
                let mut need = rem_q(r);
                while need > 0 {
                    let Some(front) = queue.front_mut() else {
                        break;
                    };
                    let take = need.min(front.1);
                    out.push((front.0, r as u32, take));
                    need -= take;
                    front.1 -= take;
                    if front.1 == 0 {
                        queue.pop_front();
                    }
                }
                // A discharge of open imports only (A3) drops what found nothing open.
                if need > 0 && !only_open[r] {
                    out.push((u32::MAX, r as u32, need));
                }
            }
            out
        })
        .collect();
    stages.mark("fifo sweep");

    // ---- allocations: EXPLICIT, FIFO, EXCESS rows joined to their discharge movement.
    // (method, import row or NONE, discharge row, quantity); methods in name order.
    const NONE: u32 = u32::MAX;
    const METHODS: [&str; 3] = ["EXCESS", "EXPLICIT", "FIFO"];
    let rows: Vec<(u8, u32, u32, i128)> = explicit
        .into_iter()
        .map(|(i, d, a)| (1, i, d, a))
        .chain(
            swept
                .into_iter()
                .flatten()
                .map(|(i, d, a)| (if i == NONE { 0 } else { 2 }, i, d, a)),
        )
        .collect();
    // Discharged per import row by allocations dated up to the as-of date (for balances).
    let as_of = days_of(inp.as_of);
    let mut discharged: Vec<Option<i128>> = vec![None; n];
    for &(_, i, d, a) in &rows {
        if i != NONE && fecha[d as usize] <= as_of {
            *discharged[i as usize].get_or_insert(0) += a;
        }
    }
    // ORDER BY rfc, fraccion, umt, discharge_id, discharge_partida, method, import_id,
    // import_partida (the good is the discharge's).
    let mut keyed: Vec<(u64, u64, u64, u64, u32)> = rows
        .par_iter()
        .enumerate()
        .map(|(k, &(m, i, d, _))| {
            let d = d as usize;
            let imp = if i == NONE {
                0
            } else {
                ((pid_r[i as usize] as u64) << 32) | bits(partida[i as usize])
            };
            (
                good(d),
                ((umt_r[d] as u64) << 32) | pid_r[d] as u64,
                (bits(partida[d]) << 2) | m as u64,
                imp,
                k as u32,
            )
        })
        .collect();
    keyed.par_sort_unstable();
    let rows: Vec<(u8, u32, u32, i128)> = keyed.into_iter().map(|k| rows[k.4 as usize]).collect();
    let imp_idx = IdxCa::from_iter_options(
        "imp".into(),
        rows.iter().map(|r| (r.1 != NONE).then_some(r.1 as IdxSize)),
    );
    let dis_idx = IdxCa::from_vec("dis".into(), rows.iter().map(|r| r.2 as IdxSize).collect());
    let method: Vec<&str> = rows.iter().map(|r| METHODS[r.0 as usize]).collect();
    let qty: Vec<i128> = rows.iter().map(|r| r.3).collect();
    drop(rows);
    stages.mark("allocations sort");
    let take = |c: &str, idx: &IdxCa, name: &str| -> PolarsResult<Column> {
        Ok(mov.column(c)?.take(idx)?.with_name(name.into()))
    };
    // Many columns gathered by one index: in parallel (one core took ~0.1 s a 10 M batch).
    let take_all = |idx: &IdxCa, cols: &[(&str, &str)]| -> PolarsResult<Vec<Column>> {
        cols.par_iter()
            .map(|(c, name)| take(c, idx, name))
            .collect()
    };
    let dec = |name: &str, v: Vec<i128>, dtype: &DataType| -> PolarsResult<Column> {
        let DataType::Decimal(p, sc) = dtype else {
            unreachable!("cantidad is a decimal")
        };
        Ok(Int128Chunked::from_vec(name.into(), v)
            .into_decimal_unchecked(*p, *sc)
            .into_series()
            .into())
    };
    // (Built in any order: `conform` puts the columns in the schema's.)
    let mut cols = take_all(
        &imp_idx,
        &[("pedimento_id", "import_id"), ("partida", "import_partida")],
    )?;
    cols.extend(take_all(
        &dis_idx,
        &[
            ("rfc", "rfc"),
            ("fraccion", "fraccion"),
            ("umt", "umt"),
            ("pedimento_id", "discharge_id"),
            ("partida", "discharge_partida"),
            ("clave", "discharge_clave"),
            ("fecha_operacion", "discharge_fecha"),
            ("producto_fraccion", "producto_fraccion"),
            ("producto_cantidad", "producto_cantidad"),
            ("bom_consumo", "bom_consumo"),
            ("bom_merma_pct", "bom_merma_pct"),
            ("bom_desperdicio_pct", "bom_desperdicio_pct"),
            ("bom_valid_from", "bom_valid_from"),
        ],
    )?);
    cols.push(Column::new("method".into(), method));
    cols.push(dec("cantidad", qty, &q_dtype)?);
    let alloc = DataFrame::new_infer_height(cols)?;
    let alloc = conform(alloc, &alloc_schema())?;
    stages.mark("allocations");

    // ---- 3. balances (the SQL's imp, disc, b, v).
    let pl = inp.plazos;
    let pl_clave = single_str(pl, "clave")?;
    let pl_meses = pl.column("meses")?.cast(&DataType::Int64)?;
    let pl_meses: Vec<Option<i64>> = pl_meses.i64()?.iter().collect();
    let pl_prog = pl.column("por_programa")?.cast(&DataType::Int64)?;
    let pl_prog: Vec<Option<i64>> = pl_prog.i64()?.iter().collect();
    let pl_from = pl.column("valid_from")?.date()?.physical().clone();
    let pl_to = pl.column("valid_to")?.date()?.physical().clone();
    let pl_version = single_str(pl, "version")?;
    let pl_cita = single_str(pl, "cita")?;
    // The SQL's pv: the version of the plazo_clave in force on the import's date.
    let mut plazo: FastMap<&str, Vec<usize>> = HashMap::default();
    for (k, c) in pl_clave.iter().enumerate() {
        if let Some(c) = c {
            if pl_from.get(k).is_none() {
                return Ok(None); // a row without valid_from never matches in the SQL
            }
            plazo.entry(c).or_default().push(k);
        }
    }
    let version_of = |c: &str, day: i32| -> Result<Option<usize>, ()> {
        let mut hit = None;
        for &k in plazo.get(c).map(Vec::as_slice).unwrap_or(&[]) {
            let from_ok = pl_from.get(k).is_some_and(|f| f <= day);
            let to_ok = pl_to.get(k).is_none_or(|t| day <= t);
            if from_ok && to_ok {
                if hit.is_some() {
                    return Err(()); // overlapping versions would multiply rows in the SQL
                }
                hit = Some(k);
            }
        }
        Ok(hit)
    };
    // The program each import is linked to (ledger_movements: programa_*).
    let plazo_clave_ca = single_str(mov, "plazo_clave")?;
    let plazo_clave = Strs(plazo_clave_ca.downcast_as_array());
    // Where the plazo counts from (ledger_movements: fecha_operacion, or for a consolidated
    // pedimento the start the reading in force gives) and that reading's citation.
    let inicio_ca = mov.column("inicio_plazo")?.date()?.physical().rechunk();
    let inicio_cita_ca = single_str(mov, "inicio_cita")?;
    let inicio_cita = Strs(inicio_cita_ca.downcast_as_array());
    let pr_fin = mov.column("programa_fin")?.date()?.physical().rechunk();
    let pr_can = mov
        .column("programa_cancelacion")?
        .date()?
        .physical()
        .rechunk();
    let pr_pro = mov.column("programa_prorroga")?.cast(&DataType::Int64)?;
    let pr_pro = pr_pro.i64()?;
    let pr_link = mov.column("programa_vinculado")?.cast(&DataType::Int64)?;
    let pr_link = pr_link.i64()?;
    let horizon = inp.as_of + Duration::days(inp.expiring_days);
    // ORDER BY rfc, fraccion, umt, fecha_operacion, pedimento_id, partida.
    let mut keyed: Vec<(u64, u64, u64, u32)> = (0..n)
        .into_par_iter()
        .filter(|&i| kind[i] == I && fecha[i] <= as_of)
        .map(|i| {
            (
                good(i),
                ((umt_r[i] as u64) << 32) | bits(fecha[i]),
                ((pid_r[i] as u64) << 32) | bits(partida[i]),
                i as u32,
            )
        })
        .collect();
    keyed.par_sort_unstable();
    let rows: Vec<usize> = keyed.into_iter().map(|k| k.3 as usize).collect();
    // The rows are independent: chunks run in parallel, each with its own citation
    // pool (merged below), in `rows`' order (one core took ~0.25 s a batch at 10 M).
    let one_chunk = |chunk: &[usize]| -> Option<BalanceRows> {
        let mut p = BalanceRows::with_capacity(chunk.len());
        let mut cita_ix: FastMap<(usize, &str), usize> = HashMap::default();
        for &i in chunk {
            let pc = plazo_clave.get(i)?;
            let kv = version_of(pc, fecha[i]).ok()?;
            let (m, pp) = match kv {
                Some(k) => (pl_meses[k], pl_prog[k]),
                None => (None, None),
            };
            p.meses.push(m);
            p.prog.push(pp);
            // Few distinct citations: each is formatted once (one String per row cost a
            // second and a few hundred MB per million imports).
            p.cita.push(match kv {
                Some(k) => {
                    let ic = inicio_cita.get(i).unwrap_or_default();
                    *cita_ix.entry((k, ic)).or_insert_with(|| {
                        p.pool.push(format!(
                            "[{}] {}{ic}",
                            pl_version.get(k).unwrap_or_default(),
                            pl_cita.get(k).unwrap_or_default(),
                        ));
                        p.pool.len() - 1
                    })
                }
                None => {
                    p.pool.push(format!(
                        "No version of the plazo of clave {pc} in force on {} \
                         (src/catalogs/plazos.csv, docs/rules.md): plazo unknown",
                        date_of(fecha[i])
                    ));
                    p.pool.len() - 1
                }
            });
            let d = discharged[i].unwrap_or(0);
            let open = q[i] - d;
            p.disc.push(d);
            p.open.push(open);
            // Any length in months (the SQL has one branch per length the catalog uses).
            let linked = pr_link.get(i) == Some(1);
            let fin = pr_fin.get(i);
            // An import row always has its start in the SQL.
            let inicio = inicio_ca.get(i)?;
            let (vence_plazo, abierto): (Option<NaiveDate>, bool) = match (m, pp) {
                (Some(m), _) => (
                    u32::try_from(m)
                        .ok()
                        .and_then(|m| date_of(inicio).checked_add_months(Months::new(m))),
                    false,
                ),
                (None, Some(1)) => (fin.map(date_of), linked && fin.is_none()),
                _ => (None, false),
            };
            let vence_cancel: Option<NaiveDate> = pr_can.get(i).map(|c| {
                let days = if pr_pro.get(i) == Some(1) { 180 } else { 60 };
                date_of(c) + Duration::days(days)
            });
            let vence = match (vence_cancel, vence_plazo) {
                (Some(c), None) => Some(c),
                (Some(c), Some(v)) if c < v => Some(c),
                _ => vence_plazo,
            };
            p.estado.push(if open <= 0 {
                "saldado"
            } else {
                match vence {
                    None if abierto => "vigente",
                    None => "plazo desconocido",
                    Some(v) if v < inp.as_of => "vencido",
                    Some(v) if v <= horizon => "por vencer",
                    Some(_) => "vigente",
                }
            });
            p.vp.push(vence_plazo.map(days_of));
            p.vc.push(vence_cancel.map(days_of));
            p.ve.push(vence.map(days_of));
        }
        Some(p)
    };
    // A few chunks a thread (small histories, as the tests' generated ones, span several
    // chunks too: the merge is compared with the SQL there).
    let chunk = (rows.len() / (4 * rayon::current_num_threads())).clamp(64, 1 << 14);
    let parts: Option<Vec<BalanceRows>> = rows.par_chunks(chunk).map(one_chunk).collect();
    // A row the SQL would not give (no plazo clave, overlapping plazo versions, no start).
    let Some(parts) = parts else {
        return Ok(None);
    };
    let BalanceRows {
        disc: disc_v,
        open: open_v,
        meses: meses_v,
        prog: prog_v,
        cita: cita_v,
        pool: cita_pool,
        vp,
        vc,
        ve,
        estado,
    } = BalanceRows::concat(parts);
    stages.mark("balances rows");
    let idx = IdxCa::from_vec("rows".into(), rows.iter().map(|&i| i as IdxSize).collect());
    let mut cols = take_all(
        &idx,
        &[
            ("rfc", "rfc"),
            ("fraccion", "fraccion"),
            ("umt", "umt"),
            ("pedimento_id", "pedimento_id"),
            ("partida", "partida"),
            ("clave", "clave"),
            ("fecha_operacion", "fecha_operacion"),
            ("cantidad", "imported"),
            ("valor_aduana", "valor_aduana"),
            ("igi_tasa", "igi_tasa"),
            ("iva_tasa", "iva_tasa"),
            ("ieps_tasa", "ieps_tasa"),
            ("tipo_bien", "tipo_bien"),
            ("programa", "programa"),
        ],
    )?;
    cols.push(dec("discharged", disc_v, &q_dtype)?);
    cols.push(dec("open_qty", open_v, &q_dtype)?);
    cols.push(Column::new("meses".into(), meses_v));
    cols.push(Column::new("por_programa".into(), prog_v));
    // Each row's view points into one copy of its citation (a take from the distinct
    // citations shares their buffer): ~170 bytes of text a row copied per row held 106 MB
    // at 625 k imports.
    cols.push(shared_strs("cita", &cita_pool, &cita_v)?);
    let date = |name: &str, v: Vec<Option<i32>>| -> PolarsResult<Column> {
        Ok(Int32Chunked::from_iter_options(name.into(), v.into_iter())
            .into_date()
            .into_series()
            .into())
    };
    cols.push(date("vence_plazo", vp)?);
    cols.push(date("vence_cancelacion", vc)?);
    cols.push(date("vence", ve)?);
    cols.push(Column::new("estado".into(), estado));
    let bal = conform(DataFrame::new_infer_height(cols)?, &balance_schema())?;
    stages.mark("balances");
    Ok(Some(Views {
        allocations: alloc,
        balances: bal,
    }))
}
