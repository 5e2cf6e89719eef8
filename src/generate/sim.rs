//! The simulation state: the history being written, the random stream and the
//! pedimento número counters; [`Sim::pedimento`] files one pedimento with its partidas.

use super::{Company, HORA_PAGO, History, INCREMENTABLES_PCT, Rng, declared_values};
use crate::dataset::{IdentificadorRow, PartidaRow, PedimentoRow};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[allow(dead_code)]
pub(super) struct Lot {
    pub(super) umt: String,
    pub(super) pedimento_id: String,
    pub(super) partida: i32,
    pub(super) open: Decimal,
    pub(super) fecha: NaiveDate,
    pub(super) valor_unit: Decimal,
}

pub(super) struct Sim<'a> {
    pub(super) rng: Rng,
    pub(super) h: &'a mut History,
    pub(super) counters: BTreeMap<(i32, String, String), u32>,
}

const DESCRIPCIONES: [&str; 6] = [
    "RESINA DE POLIPROPILENO",
    "TORNILLO DE ACERO",
    "CIRCUITO IMPRESO ENSAMBLADO",
    "ARNÉS ELÉCTRICO",
    "LÁMINA DE ALUMINIO",
    "CONECTOR PLÁSTICO",
];

impl Sim<'_> {
    fn next_id(&mut self, c: &Company, fecha: NaiveDate) -> (String, String) {
        let y = fecha.year();
        let n = self
            .counters
            .entry((y, c.aduana.clone(), c.patente.clone()))
            .or_insert(0);
        *n += 1;
        // Anexo 22: the número's first digit is the last digit of the year.
        let numero = format!("{}{:06}", y % 10, *n);
        (
            format!("{y:04}-{}-{}-{numero}", c.aduana, c.patente),
            numero,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn pedimento(
        &mut self,
        c: &Company,
        fecha: NaiveDate,
        clave: &str,
        tipo_operacion: i32,
        lines: &[(String, String, Decimal, Decimal)], // fraccion, umt, qty, valor_unit
        immex: bool,
    ) -> String {
        let (id, numero) = self.next_id(c, fecha);
        let mut vd = Decimal::ZERO;
        let mut va = Decimal::ZERO;
        let tc = Decimal::new(1850000 + (self.rng.range(0, 20000) as i64), 5);
        let year = fecha.year();
        let mut partidas = vec![];
        let mut vc = Decimal::ZERO;
        for (i, (fr, umt, qty, vu)) in lines.iter().enumerate() {
            let valor = (*qty * *vu).round_dp(2);
            let dolares = (valor / tc).round_dp(2);
            let (aduana, comercial) = declared_values(tipo_operacion, valor, INCREMENTABLES_PCT);
            vd += dolares;
            va += aduana;
            vc += comercial;
            let igi_tasa = Decimal::from([0, 5, 10][(self.rng.next() % 3) as usize]);
            partidas.push(PartidaRow {
                pedimento_id: id.as_str().into(),
                partida: i as i32 + 1,
                fraccion: fr.as_str().into(),
                nico: Some("00".into()),
                descripcion: Some(DESCRIPCIONES[(fr.as_bytes()[7] % 6) as usize].into()),
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
                igi_tasa: Some(igi_tasa),
                igi_importe: Some(Decimal::ZERO),
                iva_tasa: Some(Decimal::from(16)),
                iva_importe: Some(Decimal::ZERO),
                ieps_tasa: None,
                ieps_importe: None,
                dta_importe: None,
                source_line: 0,
            });
        }
        let yd = self.h.years.entry(year).or_default();
        yd.partidas.extend(partidas);
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
        yd.pedimentos.push(PedimentoRow {
            pedimento_id: id.clone().into(),
            year,
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
            contraparte_id: None,
            contraparte_rfc: None,
            source_file: "generated".into(),
            source_line: 0,
            hora_pago: Some(HORA_PAGO.into()),
            consolidado: None,
        });
        id
    }

    pub(super) fn set_counterpart(&mut self, id: &str, other_id: &str, other_rfc: &str) {
        let year: i32 = crate::model::PedimentoKey::year_of_id(id).expect("generated id");
        let yd = self.h.years.get_mut(&year).unwrap();
        if let Some(p) = yd
            .pedimentos
            .iter_mut()
            .rev()
            .find(|p| p.pedimento_id == id)
        {
            p.contraparte_id = Some(other_id.into());
            p.contraparte_rfc = Some(other_rfc.into());
        }
        yd.identificadores.push(IdentificadorRow {
            pedimento_id: id.into(),
            partida: None,
            clave: "V1".into(),
            complemento1: Some(other_id.into()),
            complemento2: Some(other_rfc.into()),
            complemento3: None,
            source_line: 0,
        });
    }
}

impl Company {
    /// Whether `fr` is an insumo of one of the company's products (any BOM version).
    pub fn is_insumo(&self, fr: &str) -> bool {
        self.products.iter().any(|p| {
            p.versions
                .iter()
                .any(|v| v.lines.iter().any(|l| self.fracciones[l.insumo].0 == fr))
        })
    }
}

pub(super) fn company(i: usize, rng: &mut Rng) -> Company {
    let letters = |n: u64| -> String {
        let mut s = String::new();
        let mut x = n;
        for _ in 0..3 {
            s.push((b'A' + (x % 26) as u8) as char);
            x /= 26;
        }
        s
    };
    let rfc = format!(
        "{}{:02}0{}15{}{}",
        letters(i as u64 * 7 + 3),
        90 + (i % 10),
        1 + i % 9,
        letters(i as u64 + 11).chars().next().unwrap(),
        10 + i % 90
    );
    let nfr = 12;
    let fracciones = (0..nfr)
        .map(|k| {
            let fr = format!(
                "{:04}{:02}{:02}",
                3901 + (i * 13 + k * 7) % 5000,
                k % 90,
                1 + k % 9
            );
            let umt = if k % 3 == 0 { "6" } else { "1" };
            (fr, umt.to_string())
        })
        .collect();
    let _ = rng.next();
    Company {
        rfc,
        nombre: format!("MANUFACTURAS SINTÉTICAS {} SA DE CV", i + 1),
        programa: format!("{:07}", 1000000 + i * 37),
        fracciones,
        patente: format!("{:04}", 3000 + i % 7),
        aduana: ["240", "070", "800", "190"][i % 4].into(),
        products: vec![],
    }
}
