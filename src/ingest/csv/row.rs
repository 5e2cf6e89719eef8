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

/// A column of the layout: its index in [`REQUIRED`] then [`OPTIONAL`] (resolved to the
/// file's position once per file, so a record's fields are read by index, not by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Col(usize);

/// The layout's columns: [`REQUIRED`] then [`OPTIONAL`].
pub(super) const NCOLS: usize = REQUIRED.len() + OPTIONAL.len();

impl Col {
    /// The column named `name` (a compile-time error in `col!` for a name not in the
    /// layout).
    pub(super) const fn of(name: &str) -> Col {
        let mut i = 0;
        while i < NCOLS {
            let n = if i < REQUIRED.len() {
                REQUIRED[i]
            } else {
                OPTIONAL[i - REQUIRED.len()]
            };
            if n.len() == name.len() {
                let (a, b) = (n.as_bytes(), name.as_bytes());
                let mut j = 0;
                while j < a.len() && a[j] == b[j] {
                    j += 1;
                }
                if j == a.len() {
                    return Col(i);
                }
            }
            i += 1;
        }
        panic!("not a column of the CSV layout")
    }

    pub(super) fn name(self) -> &'static str {
        match REQUIRED.get(self.0) {
            Some(n) => n,
            None => OPTIONAL[self.0 - REQUIRED.len()],
        }
    }

    /// Every column, in [`Col`] order.
    pub(super) fn all() -> impl Iterator<Item = Col> {
        (0..NCOLS).map(Col)
    }
}

/// The [`Col`] of a column name, checked at compile time.
macro_rules! col {
    ($name:literal) => {
        const { Col::of($name) }
    };
}

pub(super) struct Rec<'a> {
    /// Each [`Col`]'s position in the file's header (None: the file lacks it).
    pub(super) pos: &'a [Option<usize>; NCOLS],
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
    pub(super) fn raw(&self, c: Col) -> &str {
        self.pos[c.0]
            .and_then(|i| self.r.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
    pub(super) fn req<T>(
        &self,
        c: Col,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<T, Fail> {
        p(self.raw(c)).map_err(|e| (c.name().to_string(), kind(e)))
    }
    pub(super) fn opt<T>(
        &self,
        c: Col,
        p: impl Fn(&str) -> FieldResult<T>,
        kind: Kind,
    ) -> Result<Option<T>, Fail> {
        let v = self.raw(c);
        if v.is_empty() {
            Ok(None)
        } else {
            p(v).map(Some).map_err(|e| (c.name().to_string(), kind(e)))
        }
    }
    pub(super) fn text(&self, c: Col) -> Option<String> {
        let v = self.raw(c);
        (!v.is_empty()).then(|| v.to_string())
    }
    /// [`Rec::text`] as a compact string (short values stay inline, no allocation).
    pub(super) fn text_c(&self, c: Col) -> Option<crate::dataset::Text> {
        let v = self.raw(c);
        (!v.is_empty()).then(|| v.into())
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
        col!("pedimento"),
        model::PedimentoKey::parse,
        RejectReason::BadField,
    )?;
    let tipo_operacion = rec.req(
        col!("tipo_operacion"),
        model::tipo_operacion,
        RejectReason::BadField,
    )?;
    let clave = rec.req(col!("clave"), model::clave, RejectReason::UnknownClave)?;
    let rfc = rec.req(col!("rfc"), model::rfc, RejectReason::BadRfc)?;
    let fecha_pago = rec.req(col!("fecha_pago"), model::date, RejectReason::BadDate)?;
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
    let fecha_seleccion = rec.opt(col!("fecha_seleccion"), model::date, RejectReason::BadDate)?;
    let rectifica = rec
        .opt(
            col!("rectifica"),
            model::PedimentoKey::parse,
            RejectReason::BadField,
        )?
        .map(|k| k.id());
    let clave_original = rec
        .text(col!("clave_original"))
        .map(|s| Text::from(s.to_uppercase()));
    let effective = if clave == "R1" {
        clave_original.clone().unwrap_or(clave.clone())
    } else {
        clave.clone()
    };
    let id = key.id();
    let header = PedimentoRow {
        pedimento_id: id.clone().into(),
        year: key.year(),
        aduana_seccion: key.aduana_seccion().into(),
        patente: key.patente().into(),
        numero: key.numero().into(),
        tipo_operacion,
        clave: effective,
        clave_declarada: clave.clone(),
        tipo_pedimento: if rectifica.is_some() { 2 } else { 1 },
        rfc,
        nombre: rec.text(col!("nombre")).map(Into::into),
        immex_programa: rec.text(col!("immex_programa")).map(Into::into),
        fecha_pago,
        fecha_entrada: rec.opt(col!("fecha_entrada"), model::date, RejectReason::BadDate)?,
        fecha_seleccion,
        fecha_operacion: fecha_seleccion.unwrap_or(fecha_pago),
        tipo_cambio: rec.opt(
            col!("tipo_cambio"),
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        valor_dolares: Decimal::ZERO,
        valor_aduana: Decimal::ZERO,
        valor_comercial: Decimal::ZERO,
        rectifica_id: rectifica.map(Into::into),
        contraparte_id: rec
            .opt(
                col!("contraparte_pedimento"),
                model::PedimentoKey::parse,
                RejectReason::BadField,
            )?
            .map(|k| k.id_text()),
        contraparte_rfc: rec.opt(col!("contraparte_rfc"), model::rfc, RejectReason::BadRfc)?,
        source_file: file.to_string(),
        source_line: ln as i64,
        hora_pago: model::time_of(rec.raw(col!("fecha_pago"))),
        consolidado: rec.opt(col!("consolidado"), yes_no, RejectReason::BadField)?,
    };
    let money = |n: Col| {
        rec.req(
            n,
            |s| model::decimal(s, MONEY_SCALE),
            RejectReason::NotANumber,
        )
    };
    let omoney = |n: Col| {
        rec.opt(
            n,
            |s| model::decimal(s, MONEY_SCALE),
            RejectReason::NotANumber,
        )
    };
    let orate = |n: Col| {
        rec.opt(
            n,
            |s| model::decimal(s, RATE_SCALE),
            RejectReason::NotANumber,
        )
    };
    let partida = PartidaRow {
        pedimento_id: id.as_str().into(),
        partida: rec.req(
            col!("partida"),
            model::partida_number,
            RejectReason::BadField,
        )?,
        fraccion: rec
            .req(col!("fraccion"), model::fraccion, RejectReason::BadField)?
            .into(),
        nico: None,
        descripcion: rec.text_c(col!("descripcion")),
        codigo_producto: rec.text_c(col!("codigo_producto")),
        pais_origen: rec.text_c(col!("pais_origen")),
        umc: rec.text_c(col!("umc")),
        cantidad_umc: rec.opt(
            col!("cantidad_umc"),
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        umt: rec.req(
            col!("umt"),
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
            col!("cantidad_umt"),
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        precio_unitario: rec.opt(
            col!("precio_unitario"),
            |s| model::decimal(s, QTY_SCALE),
            RejectReason::NotANumber,
        )?,
        valor_aduana: money(col!("valor_aduana"))?,
        valor_comercial: money(col!("valor_comercial"))?,
        valor_dolares: money(col!("valor_dolares"))?,
        igi_tasa: orate(col!("igi_tasa"))?,
        igi_importe: omoney(col!("igi_importe"))?,
        iva_tasa: orate(col!("iva_tasa"))?,
        iva_importe: omoney(col!("iva_importe"))?,
        ieps_tasa: orate(col!("ieps_tasa"))?,
        ieps_importe: omoney(col!("ieps_importe"))?,
        dta_importe: omoney(col!("dta_importe"))?,
        source_line: ln as i64,
    };
    let descargo = match rec.opt(
        col!("descargo_pedimento"),
        model::PedimentoKey::parse,
        RejectReason::BadField,
    )? {
        None => None,
        Some(k) => Some(DescargoRow {
            pedimento_id: id.clone(),
            original_id: k.id(),
            original_fraccion: rec.opt(
                col!("descargo_fraccion"),
                model::fraccion,
                RejectReason::BadField,
            )?,
            unidad_medida: rec.text(col!("descargo_umt")),
            cantidad: rec.opt(
                col!("descargo_cantidad"),
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
        .raw(col!("identificadores"))
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
