//! One CSV record: the columns, the field accessor and the parse of a record into a
//! pedimento header, its partida, descargo and identificadores.

use super::*;

/// Columns every CSV file must have.
pub const REQUIRED: &[&str] = &[
    "pedimento",
    "tipo_operacion",
    "clave",
    "rfc",
    "fecha_pago",
    "partida",
    "fraccion",
    "umt",
    "cantidad_umt",
    "valor_aduana",
    "valor_comercial",
    "valor_dolares",
];

/// Optional columns (empty cells allowed).
pub const OPTIONAL: &[&str] = &[
    "nombre",
    "immex_programa",
    "fecha_seleccion",
    "fecha_entrada",
    "tipo_cambio",
    "descripcion",
    "codigo_producto",
    "pais_origen",
    "umc",
    "cantidad_umc",
    "precio_unitario",
    "igi_tasa",
    "igi_importe",
    "iva_tasa",
    "iva_importe",
    "ieps_tasa",
    "ieps_importe",
    "dta_importe",
    "rectifica",
    "clave_original",
    "contraparte_pedimento",
    "contraparte_rfc",
    "descargo_pedimento",
    "descargo_fraccion",
    "descargo_cantidad",
    "descargo_umt",
    "identificadores",
    "consolidado",
];

/// (field, reason).
pub(super) type Fail = (String, RejectReason);

/// A reject kind that takes a field error (`RejectReason::BadField`, ...).
pub(super) type Kind = fn(FieldError) -> RejectReason;

pub(super) struct Rec<'a> {
    pub(super) cols: &'a HashMap<String, usize>,
    pub(super) r: &'a csv::StringRecord,
}

/// A yes/no cell: `1`/`0`, `si`/`no` (with or without accent), `s`/`n`, `true`/`false`.
fn yes_no(s: &str) -> FieldResult<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "si" | "sí" | "s" | "true" => Ok(true),
        "0" | "no" | "n" | "false" => Ok(false),
        other => Err(FieldError::YesNo {
            value: other.into(),
        }),
    }
}

impl Rec<'_> {
    pub(super) fn raw(&self, n: &str) -> &str {
        self.cols
            .get(n)
            .and_then(|i| self.r.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }
    pub(super) fn req<T>(
        &self,
        n: &str,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<T, Fail> {
        p(self.raw(n)).map_err(|e| (n.to_string(), kind(e)))
    }
    pub(super) fn opt<T>(
        &self,
        n: &str,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<Option<T>, Fail> {
        let v = self.raw(n);
        if v.is_empty() {
            Ok(None)
        } else {
            p(v).map(Some).map_err(|e| (n.to_string(), kind(e)))
        }
    }
    pub(super) fn text(&self, n: &str) -> Option<String> {
        let v = self.raw(n);
        (!v.is_empty()).then(|| v.to_string())
    }
}

pub(super) struct RowOut {
    pub(super) header: PedimentoRow,
    pub(super) partida: PartidaRow,
    pub(super) descargo: Option<DescargoRow>,
    pub(super) idents: Vec<IdentificadorRow>,
}

pub(super) fn parse_row(rec: &Rec, file: &str, ln: usize) -> Result<RowOut, Fail> {
    // size-exception: one field after another of the documented CSV layout, in
    // column order; each step is a single validated field.
    let key = rec.req(
        "pedimento",
        model::PedimentoKey::parse,
        RejectReason::BadField,
    )?;
    let tipo_operacion = rec.req(
        "tipo_operacion",
        model::tipo_operacion,
        RejectReason::BadField,
    )?;
    let clave = rec.req("clave", model::clave, RejectReason::UnknownClave)?;
    let rfc = rec.req("rfc", model::rfc, RejectReason::BadRfc)?;
    let fecha_pago = rec.req("fecha_pago", model::date, RejectReason::BadDate)?;
    // The key's year is the year of validation (Anexo 22 campo 1): payment falls in it,
    // or in the next year when the número's first digit is the key's year's last digit
    // (validated in December, paid in January).
    let paid = chrono::Datelike::year(&fecha_pago);
    if paid != key.year() && key.number().validation_year(paid) != key.year() {
        return Err((
            "fecha_pago".into(),
            RejectReason::BadDate(FieldError::PaidOutsideYear {
                paid: fecha_pago,
                year: key.year(),
            }),
        ));
    }
    let fecha_seleccion = rec.opt("fecha_seleccion", model::date, RejectReason::BadDate)?;
    let rectifica = rec
        .opt(
            "rectifica",
            model::PedimentoKey::parse,
            RejectReason::BadField,
        )?
        .map(|k| k.id());
    let clave_original = rec.text("clave_original").map(|s| s.to_uppercase());
    let effective = if clave == "R1" {
        clave_original.clone().unwrap_or(clave.clone())
    } else {
        clave.clone()
    };
    let id = key.id();
    let header = PedimentoRow {
        pedimento_id: id.clone(),
        year: key.year(),
        aduana_seccion: key.aduana_seccion().to_string(),
        patente: key.patente().to_string(),
        numero: key.numero().to_string(),
        tipo_operacion,
        clave: effective,
        clave_declarada: clave.clone(),
        tipo_pedimento: if rectifica.is_some() { 2 } else { 1 },
        rfc,
        nombre: rec.text("nombre"),
        immex_programa: rec.text("immex_programa"),
        fecha_pago,
        fecha_entrada: rec.opt("fecha_entrada", model::date, RejectReason::BadDate)?,
        fecha_seleccion,
        fecha_operacion: fecha_seleccion.unwrap_or(fecha_pago),
        tipo_cambio: rec.opt(
            "tipo_cambio",
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        valor_dolares: Decimal::ZERO,
        valor_aduana: Decimal::ZERO,
        valor_comercial: Decimal::ZERO,
        rectifica_id: rectifica,
        contraparte_id: rec
            .opt(
                "contraparte_pedimento",
                model::PedimentoKey::parse,
                RejectReason::BadField,
            )?
            .map(|k| k.id()),
        contraparte_rfc: rec.opt("contraparte_rfc", model::rfc, RejectReason::BadRfc)?,
        source_file: file.to_string(),
        source_line: ln as i64,
        hora_pago: model::time_of(rec.raw("fecha_pago")),
        consolidado: rec.opt("consolidado", yes_no, RejectReason::BadField)?,
    };
    let money = |n: &str| {
        rec.req(
            n,
            |s| model::decimal(s, MONEY_SCALE),
            RejectReason::NotANumber,
        )
    };
    let omoney = |n: &str| {
        rec.opt(
            n,
            |s| model::decimal(s, MONEY_SCALE),
            RejectReason::NotANumber,
        )
    };
    let orate = |n: &str| {
        rec.opt(
            n,
            |s| model::decimal(s, RATE_SCALE),
            RejectReason::NotANumber,
        )
    };
    let partida = PartidaRow {
        pedimento_id: id.as_str().into(),
        partida: rec.req("partida", model::partida_number, RejectReason::BadField)?,
        fraccion: rec
            .req("fraccion", model::fraccion, RejectReason::BadField)?
            .into(),
        nico: None,
        descripcion: rec.text("descripcion").map(Into::into),
        codigo_producto: rec.text("codigo_producto").map(Into::into),
        pais_origen: rec.text("pais_origen").map(Into::into),
        umc: rec.text("umc").map(Into::into),
        cantidad_umc: rec.opt(
            "cantidad_umc",
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        umt: rec.req(
            "umt",
            |s| {
                if s.is_empty() {
                    Err(FieldError::Empty { what: "umt".into() })
                } else {
                    Ok(s.into())
                }
            },
            RejectReason::BadField,
        )?,
        cantidad_umt: rec.req(
            "cantidad_umt",
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        precio_unitario: rec.opt(
            "precio_unitario",
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        valor_aduana: money("valor_aduana")?,
        valor_comercial: money("valor_comercial")?,
        valor_dolares: money("valor_dolares")?,
        igi_tasa: orate("igi_tasa")?,
        igi_importe: omoney("igi_importe")?,
        iva_tasa: orate("iva_tasa")?,
        iva_importe: omoney("iva_importe")?,
        ieps_tasa: orate("ieps_tasa")?,
        ieps_importe: omoney("ieps_importe")?,
        dta_importe: omoney("dta_importe")?,
        source_line: ln as i64,
    };
    let descargo = match rec.opt(
        "descargo_pedimento",
        model::PedimentoKey::parse,
        RejectReason::BadField,
    )? {
        None => None,
        Some(k) => Some(DescargoRow {
            pedimento_id: id.clone(),
            original_id: k.id(),
            original_fraccion: rec.opt(
                "descargo_fraccion",
                model::fraccion,
                RejectReason::BadField,
            )?,
            unidad_medida: rec.text("descargo_umt"),
            cantidad: rec.opt(
                "descargo_cantidad",
                |s| model::decimal(s, QTY_SCALE),
                RejectReason::NotANumber,
            )?,
            fecha_original: None,
            source_line: ln as i64,
        }),
    };
    // identificadores: `CLAVE[:comp1[:comp2[:comp3]]]` separated by ';'. A clave prefixed
    // with `P.` is partida level (e.g. `P.EB`), otherwise pedimento level.
    let mut idents = vec![];
    for item in rec
        .raw("identificadores")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let mut parts = item.split(':').map(|s| s.trim().to_string());
        let c = parts.next().unwrap_or_default().to_uppercase();
        let (clave, partida_level) = match c.strip_prefix("P.") {
            Some(x) => (x.to_string(), true),
            None => (c, false),
        };
        if clave.is_empty() || clave.len() > 3 {
            return Err((
                "identificadores".into(),
                RejectReason::BadField(FieldError::Identificador { value: item.into() }),
            ));
        }
        let nz = |s: Option<String>| s.filter(|x| !x.is_empty());
        idents.push(IdentificadorRow {
            pedimento_id: id.clone(),
            partida: partida_level.then_some(partida.partida),
            clave,
            complemento1: nz(parts.next()),
            complemento2: nz(parts.next()),
            complemento3: nz(parts.next()),
            source_line: ln as i64,
        });
    }
    Ok(RowOut {
        header,
        partida,
        descargo,
        idents,
    })
}
