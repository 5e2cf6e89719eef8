//! The pedimento-level record types: 501 (datos generales), 506 (fechas), Sel
//! (selección automatizada), 507 (identificadores), 701 (rectificaciones) and 512
//! (descargos). One function per record type, each over the shared resolver ([`Ctx`]).

use super::super::Parsed;
use super::apply_identifier;
use super::resolve::{Ctx, each_line, reject_row};
use super::table::{Fail, Row, Table, dec, f, fields_buf};
use crate::dataset::{DescargoRow, IdentificadorRow, PedimentoRow, Text};
use crate::model::{
    self, FieldError, FieldResult, PedimentoKey, PedimentoNumber, QTY_SCALE, RejectReason,
};
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// 501 datos generales: the headers, into `ctx`. An identical repeat is kept once (a
/// duplicate of its file); a different version replaces the earlier, kept as a conflict.
pub(super) fn headers_501(
    tables: Vec<Table>,
    ctx: &mut Ctx,
    parsed: &mut Parsed,
    dups: &mut [usize],
) {
    for t in tables {
        let mut accepted = 0;
        // Rows parsed in parallel (each on its own), then taken in file order: which
        // version of a repeated pedimento wins depends on the order.
        let rows: Vec<_> = t
            .par_lines()
            .map_init(fields_buf, |buf, (_, f)| {
                let r = Row::new(&t, f, buf);
                header_501(&r).map_err(|fail| (fail, r.triple().ok()))
            })
            .collect();
        for ((ln, f), parsed_row) in t.lines().zip(rows) {
            match parsed_row {
                Ok((tr, mut row)) => {
                    row.source_line = ln as i64;
                    let key = PedimentoKey::of(tr, row.year);
                    // One probe: the entry is looked up once, filled when new.
                    let next = ctx.rows.len();
                    let i = *ctx.headers.entry(key).or_insert(next);
                    if i != next {
                        if crate::dataset::same_content(&ctx.rows[i], &row) {
                            accepted += 1; // identical duplicate: kept once
                            dups[t.fi] += 1;
                            continue;
                        }
                        // A different version: the later row wins, the earlier is kept as a conflict.
                        let year = row.year;
                        if ctx.reqs[i] != t.req {
                            *ctx.mixed.get_mut() = true;
                            ctx.reqs[i] = t.req;
                        }
                        let old = std::mem::replace(&mut ctx.rows[i], row);
                        parsed.years.entry(year).or_default().conflicts.push(old);
                        ctx.replaced.insert(i);
                    } else {
                        ctx.keys.push(key);
                        ctx.rows.push(row);
                        ctx.reqs.push(t.req);
                    }
                    accepted += 1;
                }
                Err((fail, triple)) => {
                    if let Some(tr) = triple {
                        ctx.rejected_headers
                            .insert(tr, format!("{}:{}", t.file, ln));
                    }
                    reject_row(parsed, &t, ln, f, fail);
                }
            }
        }
        parsed.accept(&t.file, accepted);
    }
}

/// Stored headers of pedimentos this input's rows name without their 501 row.
pub(super) fn seed_headers(ctx: &mut Ctx, seeds: &[PedimentoRow]) {
    for h in seeds {
        let tr = PedimentoNumber::of_stored(&h.aduana_seccion, &h.patente, &h.numero);
        let key = PedimentoKey::of(tr, h.year);
        if ctx.headers.contains_key(&key) || ctx.rejected_headers.contains_key(&tr) {
            continue;
        }
        ctx.headers.insert(key, ctx.rows.len());
        ctx.keys.push(key);
        ctx.rows.push(h.clone());
        ctx.reqs.push(0);
    }
}

/// 506 fechas: TipoFecha 1 = entrada.
pub(super) fn fechas_506(tables: Vec<Table>, ctx: &mut Ctx, parsed: &mut Parsed) {
    each_line(tables, parsed, |_, _, r, memo| {
        let tr = r.triple()?;
        let tipo = r.raw(f::TipoFecha).to_string();
        let fecha = r.req(f::FechaOperacion, model::date, RejectReason::BadDate)?;
        let pd = r.opt(f::FechaValidacionPagoR, model::date, RejectReason::BadDate)?;
        let (_, at) = ctx.resolve_at(memo, &tr, pd.or(Some(fecha)))?;
        ctx.alive(at)?;
        if tipo == "1" {
            ctx.rows[at].fecha_entrada = Some(fecha);
        }
        Ok(())
    });
}

/// Sel ConsecutivoRemesa: a whole number (0 or empty on an ordinary pedimento).
fn remesa(s: &str) -> FieldResult<u32> {
    s.parse::<u32>()
        .map_err(|_| FieldError::WholeNumber { value: s.into() })
}

/// Sel: fecha de selección automatizada (the date plazos count from, seed 004 L4089).
/// A second remesa (ConsecutivoRemesa 2 or more) marks a consolidated pedimento (Ley
/// Aduanera art. 37: one selección per remesa); its earliest selección is the first remesa.
/// Remesa 0 or 1 alone says nothing (an ordinary pedimento's single selección carries
/// one of them, and so would a consolidated pedimento of one remesa): `consolidado` stays
/// unknown, read as not consolidated.
pub(super) fn seleccion(tables: Vec<Table>, ctx: &mut Ctx, parsed: &mut Parsed) {
    each_line(tables, parsed, |_, _, r, memo| {
        let tr = r.triple()?;
        let fecha = r.req(f::FechaSeleccion, model::date, RejectReason::BadDate)?;
        let rem = r.opt(f::ConsecutivoRemesa, remesa, RejectReason::NotANumber)?;
        let (_, at) = ctx.resolve_at(memo, &tr, Some(fecha))?;
        ctx.alive(at)?;
        let h = &mut ctx.rows[at];
        if rem.is_some_and(|n| n >= 2) {
            h.consolidado = Some(true);
        }
        // Several remesas: the plazo starts with the first selección.
        if h.fecha_seleccion.is_none_or(|d| fecha < d) {
            h.fecha_seleccion = Some(fecha);
            h.fecha_operacion = fecha;
        }
        Ok(())
    });
}

/// 507 identificadores (pedimento level). IM → IMMEX program; V-series → counterpart.
/// Rows go to `idents`, their (request, file) to `ireq`.
pub(super) fn identificadores_507(
    tables: Vec<Table>,
    ctx: &mut Ctx,
    parsed: &mut Parsed,
    idents: &mut Vec<IdentificadorRow>,
    ireq: &mut Vec<(usize, usize)>,
) {
    each_line(tables, parsed, |t, ln, r, memo| {
        let tr = r.triple()?;
        let pd = r.opt(f::FechaValidacionPagoR, model::date, RejectReason::BadDate)?;
        let (_, at) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
        let clave = r.raw(f::ClaveCaso).to_uppercase();
        if clave.is_empty() {
            return Err((
                "ClaveCaso".into(),
                RejectReason::BadField(FieldError::Empty {
                    what: "identificador".into(),
                }),
            ));
        }
        let (c1, c2) = (r.text(f::IdentificadorCaso), r.text(f::ComplementoCaso));
        let h = &mut ctx.rows[at];
        apply_identifier(h, &clave, c1.as_deref(), c2.as_deref());
        ireq.push((t.req, t.fi));
        idents.push(IdentificadorRow {
            pedimento_id: h.pedimento_id.to_string(),
            partida: None,
            clave,
            complemento1: c1,
            complemento2: c2,
            complemento3: None,
            source_line: ln as i64,
        });
        Ok(())
    });
}

/// 701 rectificaciones: the R1 names the pedimento it rectifies (anterior); the
/// rectifying header takes the anterior's clave and operation date.
pub(super) fn rectificaciones_701(
    tables: Vec<Table>,
    ctx: &mut Ctx,
    parsed: &mut Parsed,
    names: &[String],
) {
    #[allow(clippy::type_complexity)]
    let mut rect: HashMap<PedimentoKey, (Text, Option<Text>, Option<NaiveDate>, usize)> =
        HashMap::new();
    each_line(tables, parsed, |t, _, r, _| {
        let tr = r.triple()?;
        let pd = r.opt(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
        let key = ctx.resolve(&tr, pd)?;
        let ant = r.triple_of(
            f::SeccionAduaneraAnterior,
            f::PatenteAnterior,
            f::PedimentoAnterior,
        )?;
        let fa = r.opt(
            f::FechaOperacionAnterior,
            model::date,
            RejectReason::BadDate,
        )?;
        let ant_year = match fa {
            Some(d) => ant.validation_year(chrono::Datelike::year(&d)),
            None => ctx
                .resolve(&ant, None)
                .map(|k| k.year())
                .unwrap_or(key.year()),
        };
        let doc = r
            .text(f::DocumentoAnterior)
            .map(|s| Text::from(s.to_uppercase()));
        rect.insert(
            key,
            (PedimentoKey::of(ant, ant_year).id_text(), doc, fa, t.fi),
        );
        Ok(())
    });
    // The rectified pedimentos' date and clave, as they were before any rectificación
    // is applied (only those named by a 701 row are looked up).
    let anteriores: std::collections::HashSet<&str> = rect.values().map(|r| r.0.as_str()).collect();
    let mut op_dates: HashMap<Text, NaiveDate> = HashMap::new();
    let mut claves_of: HashMap<Text, Text> = HashMap::new();
    if !anteriores.is_empty() {
        for h in &ctx.rows {
            if anteriores.contains(h.pedimento_id.as_str()) {
                op_dates.insert(h.pedimento_id.clone(), h.fecha_operacion);
                claves_of.insert(h.pedimento_id.clone(), h.clave.clone());
            }
        }
    }
    drop(anteriores);
    for (key, (ant, doc, fa, fi)) in rect {
        let h = ctx.row_mut(&key);
        h.tipo_pedimento = 2;
        if h.clave == "R1"
            && let Some(c) = doc.clone().or_else(|| claves_of.get(&ant).cloned())
        {
            h.clave = c;
        }
        // A rectificación passes no selección (seed 004 L686): the operation keeps the
        // date of the pedimento it rectifies.
        if let Some(d) = op_dates.get(&ant).copied().or(fa) {
            h.fecha_operacion = d;
        }
        h.rectifica_id = Some(ant);
        parsed.supersede(&names[fi]);
    }
}

/// 512 descargos: which temporary import a return/virtual operation discharges. Returns
/// the rows and their (request, file).
pub(super) fn descargos_512(
    tables: Vec<Table>,
    ctx: &Ctx,
    parsed: &mut Parsed,
) -> (Vec<DescargoRow>, Vec<(usize, usize)>) {
    let mut descargos: Vec<DescargoRow> = vec![];
    let mut dreq: Vec<(usize, usize)> = vec![];
    each_line(tables, parsed, |t, ln, r, memo| {
        let tr = r.triple()?;
        let pd = r.opt(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
        let (key, _) = ctx.resolve_memo(memo, &tr, pd, t.req)?;
        let orig = r.triple_of(
            f::SeccionAduaneraDespOrig,
            f::PatenteAduanalOrig,
            f::PedimentoOriginal,
        )?;
        let fo = r.opt(f::FechaOperacionOrig, model::date, RejectReason::BadDate)?;
        let oy = match fo {
            Some(d) => orig.validation_year(chrono::Datelike::year(&d)),
            None => ctx.resolve(&orig, None).map(|k| k.year()).map_err(|_| {
                (
                    "FechaOperacionOrig".to_string(),
                    RejectReason::BadDate(FieldError::EmptyOriginalDate),
                )
            })?,
        };
        descargos.push(DescargoRow {
            pedimento_id: key.id(),
            original_id: PedimentoKey::of(orig, oy).id(),
            original_fraccion: r.opt(
                f::FraccionOriginal,
                model::fraccion,
                RejectReason::BadField,
            )?,
            unidad_medida: r.text(f::UnidadMedida),
            cantidad: r.opt(
                f::MercanciaDescargada,
                |s| dec(s, QTY_SCALE),
                RejectReason::NotANumber,
            )?,
            fecha_original: fo,
            source_line: ln as i64,
        });
        dreq.push((t.req, t.fi));
        Ok(())
    });
    (descargos, dreq)
}

fn header_501(r: &Row) -> Result<(PedimentoNumber, PedimentoRow), Fail> {
    let tr = r.triple()?;
    let tipo_operacion = r.req(
        f::TipoOperacion,
        model::tipo_operacion,
        RejectReason::BadField,
    )?;
    let clave = r.req(f::ClaveDocumento, model::clave, RejectReason::UnknownClave)?;
    let rfc = r.req(f::Rfc, model::rfc, RejectReason::BadRfc)?;
    let fecha_pago = r.req(f::FechaPagoReal, model::date, RejectReason::BadDate)?;
    let tipo_cambio = r.opt(
        f::TipoCambio,
        |s| dec(s, QTY_SCALE),
        RejectReason::NotANumber,
    )?;
    // The year on the number: of validation (Anexo 22 campo 1), not of payment.
    let year = tr.validation_year(chrono::Datelike::year(&fecha_pago));
    let tipo_pedimento = match r.raw(f::TipoPedimento) {
        "2" => 2,
        _ => 1,
    };
    let row = PedimentoRow {
        pedimento_id: PedimentoKey::of(tr, year).id_text(),
        year,
        aduana_seccion: tr.aduana_seccion().into(),
        patente: tr.patente().into(),
        numero: tr.numero().into(),
        tipo_operacion,
        clave: clave.clone(),
        clave_declarada: clave,
        tipo_pedimento,
        rfc,
        nombre: r.ctext(f::NombreContribuyente),
        immex_programa: None,
        fecha_pago,
        fecha_entrada: None,
        fecha_seleccion: None,
        fecha_operacion: fecha_pago,
        tipo_cambio,
        valor_dolares: Decimal::ZERO,
        valor_aduana: Decimal::ZERO,
        valor_comercial: Decimal::ZERO,
        rectifica_id: None,
        contraparte_id: None,
        contraparte_rfc: None,
        source_file: r.t.file.clone(),
        source_line: 0,
        hora_pago: model::time_of(r.raw(f::FechaPagoReal)),
        consolidado: None,
    };
    Ok((tr, row))
}
