//! Injected violations of the regular history, on dedicated fracciones (9900xxxx, and
//! 9910/9911/9912 for a manufacturer's BOM cases) so their expected findings are exact.

use super::sim::Sim;
use super::{Company, Config, Injected, Violation, bom};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// Files the violations of `cfg.inject` for every company, after the regular history
/// (which starts at `start` and ends at `end`).
pub(super) fn inject(
    sim: &mut Sim,
    companies: &[Company],
    cfg: &Config,
    start: NaiveDate,
    end: NaiveDate,
) {
    for (ci, c) in companies.iter().enumerate() {
        for v in &cfg.inject {
            let fr = format!("9900{:02}{:02}", ci % 100, *v as u8 + 1);
            // One partida of the dedicated fracción: (UMT, quantity, unit value in cents).
            let line = |umt: &str, qty: i64, cents: i64| {
                [(
                    fr.clone(),
                    umt.to_string(),
                    Decimal::from(qty),
                    Decimal::new(cents, 2),
                )]
            };
            if !c.products.is_empty() && matches!(v, Violation::Expired | Violation::Excess) {
                inject_bom_case(sim, c, ci, v, start);
                continue;
            }
            match v {
                Violation::Expired => {
                    let f0 = start + Duration::days(14);
                    let id = sim.pedimento(c, f0, "IN", 1, &line("1", 100, 5000), true);
                    sim.pedimento(
                        c,
                        f0 + Duration::days(60),
                        "RT",
                        2,
                        &line("1", 60, 5000),
                        true,
                    );
                    sim.pedimento(
                        c,
                        f0 + Duration::days(90),
                        "F4",
                        1,
                        &line("1", 30, 5000),
                        true,
                    );
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(10),
                    });
                }
                Violation::Excess => {
                    // 10 imported, 35 returned: 25 discharged with nothing open (a return of
                    // a fracción never imported is DESCARGO-NO-BOM, not an excess).
                    let f = start + Duration::days(200);
                    sim.pedimento(
                        c,
                        f - Duration::days(30),
                        "IN",
                        1,
                        &line("1", 10, 1000),
                        true,
                    );
                    let id = sim.pedimento(c, f, "RT", 2, &line("1", 35, 1000), true);
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(25),
                    });
                }
                Violation::Unit => {
                    let f = end - Duration::days(40);
                    sim.pedimento(c, f, "IN", 1, &line("1", 500, 1000), true);
                    let id = sim.pedimento(
                        c,
                        f + Duration::days(5),
                        "RT",
                        2,
                        &line("6", 40, 1000),
                        true,
                    );
                    sim.h.injected.push(Injected {
                        check_code: v.check_code().into(),
                        rfc: c.rfc.clone(),
                        pedimento_id: id,
                        partida: 1,
                        quantity: Decimal::from(40),
                    });
                }
                // Injected below by virtual_inject.
                Violation::VirtualUnpaired
                | Violation::VirtualMismatch
                | Violation::VirtualLate => {}
            }
        }
    }
}

/// A manufacturer's Expired or Excess violation `v`, which comes from explosions: a
/// dedicated product (9912CCKK) of two dedicated insumos A (9910CCKK, 2 kg per unit) and B
/// (9911CCKK, 1 kg per unit), no merma nor desperdicio.
fn inject_bom_case(sim: &mut Sim, c: &Company, ci: usize, v: &Violation, start: NaiveDate) {
    let dedicated = |head: &str| format!("{head}{:02}{:02}", ci % 100, *v as u8 + 1);
    let (a, b, z) = (dedicated("9910"), dedicated("9911"), dedicated("9912"));
    // Consumo of B: 1 kg (Expired) or 2.5 kg (Excess).
    let cb = if *v == Violation::Expired {
        Decimal::ONE
    } else {
        Decimal::new(25, 1)
    };
    for (fr, consumo) in [(&a, Decimal::TWO), (&b, cb)] {
        sim.h.bom.push(bom::BomRow {
            rfc: c.rfc.clone(),
            producto_fraccion: z.clone(),
            producto_parte: format!("P{ci:04}-X{}", *v as u8 + 1),
            insumo_fraccion: fr.clone(),
            umt: "1".into(),
            consumo,
            merma_pct: Decimal::ZERO,
            desperdicio_pct: Decimal::ZERO,
            valid_from: bom::bom_start(),
            valid_to: None,
        });
    }
    let goods = |fr: &str, umt: &str, qty: i64| {
        (
            fr.to_string(),
            umt.to_string(),
            Decimal::from(qty),
            Decimal::new(5000, 2),
        )
    };
    if *v == Violation::Expired {
        // Imported A 200, B 100; products returned short: 60 (RT) and 30 (F4)
        // units take A 180 and B 90, so A 20 and B 10 stay open past 18 months.
        let f0 = start + Duration::days(14);
        let imp = [goods(&a, "1", 200), goods(&b, "1", 100)];
        let id = sim.pedimento(c, f0, "IN", 1, &imp, true);
        let rt = [goods(&z, "6", 60)];
        sim.pedimento(c, f0 + Duration::days(60), "RT", 2, &rt, true);
        let f4 = [goods(&z, "6", 30)];
        sim.pedimento(c, f0 + Duration::days(90), "F4", 1, &f4, true);
        for (partida, q) in [(1, 20), (2, 10)] {
            sim.h.injected.push(Injected {
                check_code: v.check_code().into(),
                rfc: c.rfc.clone(),
                pedimento_id: id.clone(),
                partida,
                quantity: Decimal::from(q),
            });
        }
    } else {
        // Imported A 90, B 100; 45 units returned take A 90 (all of it) and
        // B 112.5: 12.5 of B beyond its open lots, on the product's partida.
        let f = start + Duration::days(200);
        let imp = [goods(&a, "1", 90), goods(&b, "1", 100)];
        sim.pedimento(c, f - Duration::days(30), "IN", 1, &imp, true);
        let id = sim.pedimento(c, f, "RT", 2, &[goods(&z, "6", 45)], true);
        sim.h.injected.push(Injected {
            check_code: v.check_code().into(),
            rfc: c.rfc.clone(),
            pedimento_id: id,
            partida: 1,
            quantity: Decimal::new(125, 1),
        });
    }
}
