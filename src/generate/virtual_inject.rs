//! Virtual-operation violations for the generator (`--inject virtual-unpaired,
//! virtual-mismatch,virtual-late`), and a bulk generator of virtual pairs for the
//! pairing benchmark (`examples/bench_virtual.rs`).
//!
//! Injected pedimentos use dedicated fracciones (`9950CCKK`) and their own número range
//! (`<year digit>9xxxxx`), so they never collide with the regular history and their
//! expected findings are exact. The export side is filed without an IMMEX identifier
//! (a national supplier's virtual export, case 18): it discharges nothing in the ledger,
//! so no DESCARGO-* finding comes with it. The import sides are dated in the last weeks of
//! the history, so their temporary lots never reach a TEMP-* window.

use super::{Company, History, Injected, Violation};
use crate::dataset::{IdentificadorRow, PartidaRow, PedimentoRow};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Numbering of injected/bulk pedimentos per (year, aduana, patente).
#[derive(Default)]
pub struct Numbers(BTreeMap<(i32, String, String), u32>);

impl Numbers {
    fn next(&mut self, c: &Company, fecha: NaiveDate) -> (String, String) {
        let y = fecha.year();
        let n = self
            .0
            .entry((y, c.aduana.clone(), c.patente.clone()))
            .or_insert(0);
        *n += 1;
        let numero = format!("{}{:06}", y % 10, 900_000 + *n);
        (
            format!("{y:04}-{}-{}-{numero}", c.aduana, c.patente),
            numero,
        )
    }
}

/// One goods line: fracción, UMT, quantity, unit value (MXN).
pub type Goods = (String, String, Decimal, Decimal);

/// Appends one virtual pedimento (header, partidas, the V-identificador naming the
/// counterpart `(pedimento, rfc)`; an empty pedimento names only the RFC) to `h` and
/// returns its id.
#[allow(clippy::too_many_arguments)]
pub fn virtual_pedimento(
    h: &mut History,
    nums: &mut Numbers,
    c: &Company,
    fecha: NaiveDate,
    clave: &str,
    tipo_operacion: i32,
    lines: &[Goods],
    immex: bool,
    counterpart: Option<(&str, &str)>,
) -> String {
    let (id, numero) = nums.next(c, fecha);
    let tc = Decimal::new(1_850_000, 5);
    let yd = h.years.entry(fecha.year()).or_default();
    let (mut va, mut vd, mut vc) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
        let valor = (*qty * *vu).round_dp(2);
        let dolares = (valor / tc).round_dp(2);
        // A virtual import has no freight or insurance: valor en aduana = valor comercial.
        let (aduana, comercial) = super::declared_values(tipo_operacion, valor, 0);
        va += aduana;
        vc += comercial;
        vd += dolares;
        yd.partidas.push(PartidaRow {
            pedimento_id: id.as_str().into(),
            partida: i as i32 + 1,
            fraccion: fr.as_str().into(),
            nico: Some("00".into()),
            descripcion: Some("MERCANCIA TRANSFERIDA".into()),
            codigo_producto: None,
            pais_origen: Some("USA".into()),
            umc: Some(umt.as_str().into()),
            cantidad_umc: Some(*qty),
            umt: umt.as_str().into(),
            cantidad_umt: *qty,
            precio_unitario: Some(*vu),
            valor_aduana: aduana,
            valor_comercial: comercial,
            valor_dolares: dolares,
            igi_tasa: Some(Decimal::ZERO),
            igi_importe: Some(Decimal::ZERO),
            iva_tasa: Some(Decimal::from(16)),
            iva_importe: Some(Decimal::ZERO),
            ieps_tasa: None,
            ieps_importe: None,
            dta_importe: None,
            source_line: 0,
        });
    }
    if immex {
        yd.identificadores.push(IdentificadorRow {
            pedimento_id: id.clone(),
            partida: None,
            clave: "IM".into(),
            complemento1: Some(c.programa.clone()),
            complemento2: None,
            complemento3: None,
            source_line: 0,
        });
    }
    if let Some((cid, crfc)) = counterpart {
        yd.identificadores.push(IdentificadorRow {
            pedimento_id: id.clone(),
            partida: None,
            clave: clave.into(),
            complemento1: (!cid.is_empty()).then(|| cid.to_string()),
            complemento2: Some(crfc.into()),
            complemento3: None,
            source_line: 0,
        });
    }
    yd.pedimentos.push(PedimentoRow {
        pedimento_id: id.clone().into(),
        year: fecha.year(),
        aduana_seccion: c.aduana.as_str().into(),
        patente: c.patente.as_str().into(),
        numero: numero.into(),
        tipo_operacion,
        clave: clave.into(),
        clave_declarada: clave.into(),
        tipo_pedimento: 1,
        rfc: c.rfc.as_str().into(),
        nombre: Some(c.nombre.as_str().into()),
        immex_programa: immex.then(|| c.programa.as_str().into()),
        fecha_pago: fecha,
        fecha_entrada: Some(fecha),
        fecha_seleccion: Some(fecha),
        fecha_operacion: fecha,
        tipo_cambio: Some(tc),
        valor_dolares: vd,
        valor_aduana: va,
        valor_comercial: vc,
        rectifica_id: None,
        contraparte_id: counterpart.filter(|x| !x.0.is_empty()).map(|x| x.0.into()),
        contraparte_rfc: counterpart.map(|x| x.1.into()),
        source_file: "generated".into(),
        source_line: 0,
        hora_pago: Some(super::HORA_PAGO.into()),
        consolidado: None,
    });
    id
}

/// Points the receiver `rid`'s declared counterpart at `sid` (the receiver is filed
/// first, before the sender's número exists).
pub fn name_counterpart(h: &mut History, rid: &str, sid: &str) {
    let year: i32 = crate::model::PedimentoKey::year_of_id(rid).unwrap_or(0);
    let Some(yd) = h.years.get_mut(&year) else {
        return;
    };
    if let Some(p) = yd
        .pedimentos
        .iter_mut()
        .rev()
        .find(|p| p.pedimento_id == rid)
    {
        p.contraparte_id = Some(sid.into());
    }
    if let Some(i) = yd
        .identificadores
        .iter_mut()
        .rev()
        .find(|i| i.pedimento_id == rid && i.clave.starts_with('V'))
    {
        i.complemento1 = Some(sid.to_string());
    }
}

/// Files a V1 pair: the receiver's import on `recv_date`, the sender's export on
/// `send_date`, each naming the other. Returns (sender id, receiver id).
#[allow(clippy::too_many_arguments)]
pub fn virtual_pair(
    h: &mut History,
    nums: &mut Numbers,
    sender: &Company,
    receiver: &Company,
    send_date: NaiveDate,
    recv_date: NaiveDate,
    send_lines: &[Goods],
    recv_lines: &[Goods],
    sender_immex: bool,
) -> (String, String) {
    let rid = virtual_pedimento(
        h,
        nums,
        receiver,
        recv_date,
        "V1",
        1,
        recv_lines,
        true,
        Some(("", &sender.rfc)),
    );
    let sid = virtual_pedimento(
        h,
        nums,
        sender,
        send_date,
        "V1",
        2,
        send_lines,
        sender_immex,
        Some((&rid, &receiver.rfc)),
    );
    name_counterpart(h, &rid, &sid);
    (sid, rid)
}

/// Appends the requested virtual violations for every company (its partner is the next
/// company). Needs at least two companies with different patentes; otherwise nothing is
/// injected. `end` is the last day of the history.
pub fn inject(h: &mut History, kinds: &[Violation], end: NaiveDate) {
    let companies = h.companies.clone();
    if companies.len() < 2 {
        return;
    }
    // The last regular pedimentos are filed on the 28th of the last month: stay before.
    let base = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).unwrap();
    let mut nums = Numbers::default();
    for (ci, c) in companies.iter().enumerate() {
        let partner = &companies[(ci + 1) % companies.len()];
        for (k, v) in kinds.iter().enumerate() {
            let fr = format!("9950{:02}{:02}", ci % 100, k + 1);
            let goods = |q: i64| -> Vec<Goods> {
                vec![(
                    fr.clone(),
                    "1".into(),
                    Decimal::from(q),
                    Decimal::new(2500, 2),
                )]
            };
            let day = base - Duration::days(10 * (k as i64 + 1));
            match v {
                Violation::VirtualUnpaired => {
                    // An export side naming a pedimento of the partner that does not exist.
                    let ghost = format!(
                        "{:04}-{}-{}-{}999999",
                        day.year(),
                        partner.aduana,
                        partner.patente,
                        day.year() % 10
                    );
                    let id = virtual_pedimento(
                        h,
                        &mut nums,
                        c,
                        day,
                        "V1",
                        2,
                        &goods(100),
                        false,
                        Some((&ghost, &partner.rfc)),
                    );
                    h.injected.push(Injected {
                        check_code: "VIRTUAL-UNPAIRED".into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 0,
                        quantity: Decimal::from(100),
                    });
                }
                Violation::VirtualMismatch => {
                    // The receiver declares 95 of the 100 units the sender transferred.
                    let (sid, _) = virtual_pair(
                        h,
                        &mut nums,
                        c,
                        partner,
                        day,
                        day,
                        &goods(100),
                        &goods(95),
                        false,
                    );
                    h.injected.push(Injected {
                        check_code: "VIRTUAL-MISMATCH".into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: sid,
                        partida: 0,
                        quantity: Decimal::from(-5),
                    });
                }
                Violation::VirtualLate => {
                    // The sender's return passes selección 3 days after the receiver's
                    // import (G-I allows 1, seed 004 L1686).
                    let (sid, _) = virtual_pair(
                        h,
                        &mut nums,
                        c,
                        partner,
                        day + Duration::days(3),
                        day,
                        &goods(100),
                        &goods(100),
                        false,
                    );
                    h.injected.push(Injected {
                        check_code: "VIRTUAL-LATE".into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: sid,
                        partida: 0,
                        quantity: Decimal::from(100),
                    });
                }
                _ => {}
            }
        }
    }
}

/// A history of `pairs` clean V1 transfers (2 × `pairs` virtual pedimentos) between
/// `companies` companies over `years` years, plus per 1,000 pairs: 5 receivers naming a
/// wrong sender number (fallback), 5 one-to-two splits, 5 senders with no receiver.
/// For the pairing benchmark; quantities and dates are seeded.
pub fn bulk(pairs: usize, companies: usize, start_year: i32, years: i32, seed: u64) -> History {
    let mut rng = super::Rng::new(seed);
    let mut h = History::default();
    let cs: Vec<Company> = (0..companies.max(2))
        .map(|i| super::sim::company(i, &mut rng))
        .collect();
    h.companies = cs.clone();
    let start = NaiveDate::from_ymd_opt(start_year, 1, 1).unwrap();
    let days = (365 * years.max(1)) as u64 - 2;
    let mut nums = Numbers::default();
    let mut i = 0;
    while i < pairs {
        let a = rng.range(0, cs.len() as u64 - 1) as usize;
        let b = (a + 1 + rng.range(0, cs.len() as u64 - 2) as usize) % cs.len();
        let (s, r) = (&cs[a], &cs[b]);
        let d = start + Duration::days(rng.range(0, days) as i64);
        let (fr, umt) = s.fracciones[(rng.next() % s.fracciones.len() as u64) as usize].clone();
        let q = Decimal::from(rng.range(10, 5000));
        let vu = Decimal::new(rng.range(100, 9999) as i64, 2);
        let g: Vec<Goods> = vec![(fr.clone(), umt.clone(), q, vu)];
        match i % 1000 {
            0..=4 => {
                // Receiver names a wrong number; sender names only the RFC.
                virtual_pedimento(
                    &mut h,
                    &mut nums,
                    r,
                    d,
                    "V1",
                    1,
                    &g,
                    true,
                    Some(("2000-240-3000-0000001", &s.rfc)),
                );
                virtual_pedimento(
                    &mut h,
                    &mut nums,
                    s,
                    d,
                    "V1",
                    2,
                    &g,
                    true,
                    Some(("", &r.rfc)),
                );
            }
            5..=9 => {
                // One sender, two receiver pedimentos splitting the quantity.
                let q1 = (q / Decimal::from(3)).round();
                let g1: Vec<Goods> = vec![(fr.clone(), umt.clone(), q1, vu)];
                let g2: Vec<Goods> = vec![(fr.clone(), umt.clone(), q - q1, vu)];
                let r1 = virtual_pedimento(
                    &mut h,
                    &mut nums,
                    r,
                    d,
                    "V1",
                    1,
                    &g1,
                    true,
                    Some(("", &s.rfc)),
                );
                let r2 = virtual_pedimento(
                    &mut h,
                    &mut nums,
                    r,
                    d,
                    "V1",
                    1,
                    &g2,
                    true,
                    Some(("", &s.rfc)),
                );
                let sid = virtual_pedimento(
                    &mut h,
                    &mut nums,
                    s,
                    d,
                    "V1",
                    2,
                    &g,
                    true,
                    Some((&r1, &r.rfc)),
                );
                name_counterpart(&mut h, &r1, &sid);
                name_counterpart(&mut h, &r2, &sid);
                i += 1;
            }
            10..=14 => {
                virtual_pedimento(
                    &mut h,
                    &mut nums,
                    s,
                    d,
                    "V1",
                    2,
                    &g,
                    true,
                    Some(("2000-240-3000-0000002", &r.rfc)),
                );
            }
            _ => {
                virtual_pair(&mut h, &mut nums, s, r, d, d, &g, &g, true);
            }
        }
        i += 1;
    }
    h.end = Some(start + Duration::days(days as i64));
    h
}
