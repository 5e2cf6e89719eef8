//! One month of one company's regular history: its imports (insumos, or the insumos of a
//! production order) and its end-of-month discharges (returns, changes of regime,
//! virtual transfers, product returns exploded into insumos, actas de destrucción).

use super::sim::{Lot, Sim};
use super::{Company, Rng, bom};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, VecDeque};

/// Measured: a manufacturer's production order yields this many partidas × 10 on average
/// (3.5 insumos imported, and the product returns, transfers, leftover insumo returns and
/// rectificaciones they cause).
pub(super) const MANUFACTURER_PARTIDAS_X10: usize = 32;

/// The clave of a discharge: 15 % virtual transfers to the partner company (when there is
/// one), 15 % changes of regime, the rest returns.
fn discharge_kind(rng: &mut Rng, companies: usize) -> &'static str {
    let r = rng.next() % 100;
    if companies > 1 && r < 15 {
        "V1"
    } else if r < 30 {
        "F4"
    } else {
        "RT"
    }
}

/// A manufacturer's discharges of products on `fecha`: each product's BOM in force gives
/// the insumo quantity per unit; the open lots allow `max` whole units; 40-90 % of them
/// are returned (all of them once an insumo lot is 200 days old). The insumos are taken
/// from `lots` by FIFO, as the ledger's explosion will (merma and desperdicio included:
/// a company that destroys its desperdicio takes it by the month's acta instead, the
/// same quantity). Appends the product partidas to `batches`; returns the desperdicio to
/// destroy per insumo (index into `c.fracciones`), empty unless the company destroys.
fn produce(
    rng: &mut Rng,
    c: &Company,
    ci: usize,
    fecha: NaiveDate,
    lots: &mut BTreeMap<String, VecDeque<Lot>>,
    batches: &mut BTreeMap<&'static str, Vec<(String, String, Decimal, Decimal)>>,
    companies: usize,
) -> BTreeMap<usize, Decimal> {
    let mut waste: BTreeMap<usize, Decimal> = BTreeMap::new();
    let destroys = bom::destroys_waste(ci);
    for p in &c.products {
        let Some(v) = p.at(fecha) else { continue };
        let mut max: Option<Decimal> = None;
        let mut old = false;
        for l in &v.lines {
            let q = lots.get(&c.fracciones[l.insumo].0);
            let open: Decimal = q
                .map(|q| q.iter().map(|x| x.open).sum())
                .unwrap_or_default();
            let per = l.per_unit();
            let mut u = (open / per).floor();
            // Decimal division rounds at 28 digits: never trust it by one unit.
            while u > Decimal::ZERO && u * per > open {
                u -= Decimal::ONE;
            }
            max = Some(max.map_or(u, |m| m.min(u)));
            old |= q
                .and_then(|q| q.front())
                .is_some_and(|x| (fecha - x.fecha).num_days() > 200);
        }
        let max = max.unwrap_or_default();
        if max <= Decimal::ZERO {
            continue;
        }
        let units = if old {
            max
        } else {
            let pct = Decimal::from(rng.range(40, 90));
            (max * pct / Decimal::ONE_HUNDRED)
                .round()
                .clamp(Decimal::ONE, max)
        };
        let mut valor = Decimal::ZERO;
        for l in &v.lines {
            let q = lots
                .get_mut(&c.fracciones[l.insumo].0)
                .expect("an open insumo");
            let mut want = units * l.per_unit();
            while want > Decimal::ZERO {
                let Some(front) = q.front_mut() else { break };
                let t = front.open.min(want);
                front.open -= t;
                want -= t;
                valor += t * front.valor_unit;
                if front.open.is_zero() {
                    q.pop_front();
                }
            }
            if destroys {
                *waste.entry(l.insumo).or_default() += l.waste(units);
            }
        }
        // The product is worth its insumos plus 30 % of value added.
        let vu = (valor * Decimal::new(13, 1) / units).round_dp(4);
        let kind = discharge_kind(rng, companies);
        batches
            .entry(kind)
            .or_default()
            .push((p.fraccion.clone(), "6".to_string(), units, vu));
    }
    waste.retain(|_, q| !q.is_zero());
    waste
}

/// The `k`-th import of company `ci` in the month starting `month_start`; its partidas
/// become open lots in `lots`.
pub(super) fn import(
    sim: &mut Sim,
    c: &Company,
    ci: usize,
    k: usize,
    month_start: NaiveDate,
    lots: &mut BTreeMap<String, VecDeque<Lot>>,
) {
    let manufacturer = !c.products.is_empty();
    let day = 1 + ((k * 5 + ci) % 27) as u32;
    let fecha = month_start.with_day(day).unwrap();
    let mut lines = vec![];
    if manufacturer {
        // A production order: the insumos of one product's BOM in force for
        // 50-500 units, merma and desperdicio included, in whole units.
        let p = &c.products[(sim.rng.next() % c.products.len() as u64) as usize];
        let units = Decimal::from(sim.rng.range(50, 500));
        for l in &p.at(fecha).expect("a BOM from 2015 on").lines {
            let (fr, umt) = c.fracciones[l.insumo].clone();
            let qty = (units * l.per_unit()).ceil();
            let vu = Decimal::new(sim.rng.range(150, 25000) as i64, 2);
            lines.push((fr, umt, qty, vu));
        }
    } else {
        let n = sim.rng.range(1, 5) as usize;
        for _ in 0..n {
            let (fr, umt) =
                c.fracciones[(sim.rng.next() % c.fracciones.len() as u64) as usize].clone();
            let qty = Decimal::from(sim.rng.range(100, 5000));
            let vu = Decimal::new(sim.rng.range(150, 25000) as i64, 2);
            lines.push((fr, umt, qty, vu));
        }
    }
    // Rectificación: 2% of imports are filed with quantities 10% higher and
    // rectified (R1) three days later with the right ones.
    let rect = sim.rng.chance(2);
    let id = if rect {
        let wrong: Vec<_> = lines
            .iter()
            .map(|(f, u, q, v)| (f.clone(), u.clone(), (*q * Decimal::new(11, 1)).round(), *v))
            .collect();
        let orig = sim.pedimento(c, fecha, "IN", 1, &wrong, true);
        let rfecha = fecha + Duration::days(3);
        let r1 = sim.pedimento(c, rfecha, "R1", 1, &lines, true);
        let yd = sim.h.years.get_mut(&rfecha.year()).unwrap();
        let p = yd
            .pedimentos
            .iter_mut()
            .rev()
            .find(|p| p.pedimento_id == r1)
            .unwrap();
        p.clave = "IN".into();
        p.tipo_pedimento = 2;
        p.rectifica_id = Some(orig.into());
        p.fecha_operacion = fecha;
        r1
    } else {
        sim.pedimento(c, fecha, "IN", 1, &lines, true)
    };
    let lot_fecha = fecha;
    for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
        lots.entry(fr.clone()).or_default().push_back(Lot {
            umt: umt.clone(),
            pedimento_id: id.clone(),
            partida: i as i32 + 1,
            open: *qty,
            fecha: lot_fecha,
            valor_unit: *vu,
        });
    }
}

/// Company `ci`'s discharges at the end of the month starting `month_start`, taken from
/// its open lots `lots[ci]` (a virtual transfer opens lots of the partner company).
pub(super) fn discharge(
    sim: &mut Sim,
    companies: &[Company],
    ci: usize,
    month_start: NaiveDate,
    lots: &mut [BTreeMap<String, VecDeque<Lot>>],
) {
    let c = &companies[ci];
    let manufacturer = !c.products.is_empty();
    // Discharges at the end of the month: FIFO per fracción; anything older than
    // 10 months is discharged in full, the rest partly.
    let fecha = month_start.with_day(28).unwrap();
    let partner = (ci + 1) % companies.len();
    let mut batches: BTreeMap<&str, Vec<(String, String, Decimal, Decimal)>> = BTreeMap::new();
    // A manufacturer first returns products; the ledger explodes them into their
    // insumos (FIFO), and the insumos are only returned as such once old.
    let waste = produce(
        &mut sim.rng,
        c,
        ci,
        fecha,
        &mut lots[ci],
        &mut batches,
        companies.len(),
    );
    let held: Vec<String> = lots[ci].keys().cloned().collect();
    for fr in &held {
        let Some(q) = lots[ci].get_mut(fr) else {
            continue;
        };
        let Some(umt) = q.front().map(|l| l.umt.clone()) else {
            continue;
        };
        let mut take = Decimal::ZERO;
        let mut valor = Decimal::ZERO;
        let total: Decimal = q.iter().map(|l| l.open).sum();
        if total.is_zero() {
            continue;
        }
        let forced: Decimal = q
            .iter()
            .filter(|l| (fecha - l.fecha).num_days() > 300)
            .map(|l| l.open)
            .sum();
        let mut want = if manufacturer && c.is_insumo(fr) {
            forced
        } else {
            let pct = Decimal::from(sim.rng.range(40, 90));
            ((total * pct) / Decimal::from(100)).round().max(forced)
        };
        if want > total {
            want = total;
        }
        while want > Decimal::ZERO {
            let Some(front) = q.front_mut() else { break };
            let t = front.open.min(want);
            front.open -= t;
            want -= t;
            take += t;
            valor += t * front.valor_unit;
            if front.open.is_zero() {
                q.pop_front();
            }
        }
        if take.is_zero() {
            continue;
        }
        let vu = (valor / take).round_dp(4);
        let mut kind = discharge_kind(&mut sim.rng, companies.len());
        if kind == "V1"
            && companies[partner]
                .products
                .iter()
                .any(|p| &p.fraccion == fr)
        {
            // Never transfer a manufacturer its own product back: a discharge of
            // that fracción by it is exploded into its insumos, not taken from the
            // product's lot. Returned instead.
            kind = "RT";
        }
        batches
            .entry(kind)
            .or_default()
            .push((fr.clone(), umt.clone(), take, vu));
    }
    for (kind, lines) in batches {
        match kind {
            "RT" => {
                sim.pedimento(c, fecha, "RT", 2, &lines, true);
            }
            "F4" => {
                sim.pedimento(c, fecha, "F4", 1, &lines, true);
            }
            _ => {
                // Virtual transfer: the receiver's V1 import passes selección on
                // the transfer day; the sender's V1 return follows (seed 004 L1686).
                let rc = &companies[partner];
                let recv = sim.pedimento(rc, fecha, "V1", 1, &lines, true);
                let send = sim.pedimento(c, fecha, "V1", 2, &lines, true);
                sim.set_counterpart(&recv, &send, &c.rfc);
                sim.set_counterpart(&send, &recv, &rc.rfc);
                for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
                    lots[partner].entry(fr.clone()).or_default().push_back(Lot {
                        umt: umt.clone(),
                        pedimento_id: recv.clone(),
                        partida: i as i32 + 1,
                        open: *qty,
                        fecha,
                        valor_unit: *vu,
                    });
                }
            }
        }
    }
    // The month's acta de destrucción: the desperdicio of the products returned,
    // per insumo (discharged by PEPS after the day's pedimentos).
    let acta = format!("{}-{}", c.rfc, fecha.format("%Y%m"));
    for (k, cantidad) in waste {
        let (fr, umt) = &c.fracciones[k];
        sim.h.desperdicios.push(bom::Destruction {
            rfc: c.rfc.clone(),
            fecha,
            acta: acta.clone(),
            fraccion: fr.clone(),
            umt: umt.clone(),
            cantidad,
        });
    }
}
