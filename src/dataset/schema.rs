//! Arrow schemas of the tables, rows → record batches, and stored batches → rows.

use super::*;

pub(super) fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}
pub(super) fn dec(name: &str, scale: u32, nullable: bool) -> Field {
    Field::new(name, DataType::Decimal128(18, scale as i8), nullable)
}
pub(super) fn date(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Date32, nullable)
}
pub(super) fn int(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int32, nullable)
}

pub fn pedimentos_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        utf8("aduana_seccion", false),
        utf8("patente", false),
        utf8("numero", false),
        int("tipo_operacion", false),
        utf8("clave", false),
        utf8("clave_declarada", false),
        int("tipo_pedimento", false),
        utf8("rfc", false),
        utf8("nombre", true),
        utf8("immex_programa", true),
        date("fecha_pago", false),
        date("fecha_entrada", true),
        date("fecha_seleccion", true),
        date("fecha_operacion", false),
        dec("tipo_cambio", QTY_SCALE, true),
        dec("valor_dolares", MONEY_SCALE, false),
        dec("valor_aduana", MONEY_SCALE, false),
        dec("valor_comercial", MONEY_SCALE, false),
        utf8("rectifica_id", true),
        utf8("contraparte_id", true),
        utf8("contraparte_rfc", true),
        utf8("source_file", false),
        Field::new("source_line", DataType::Int64, false),
        utf8("hora_pago", true),
        Field::new("consolidado", DataType::Boolean, true),
    ]))
}

pub fn partidas_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        int("partida", false),
        utf8("fraccion", false),
        utf8("nico", true),
        utf8("descripcion", true),
        utf8("codigo_producto", true),
        utf8("pais_origen", true),
        utf8("umc", true),
        dec("cantidad_umc", QTY_SCALE, true),
        utf8("umt", false),
        dec("cantidad_umt", QTY_SCALE, false),
        dec("precio_unitario", QTY_SCALE, true),
        dec("valor_aduana", MONEY_SCALE, false),
        dec("valor_comercial", MONEY_SCALE, false),
        dec("valor_dolares", MONEY_SCALE, false),
        dec("igi_tasa", RATE_SCALE, true),
        dec("igi_importe", MONEY_SCALE, true),
        dec("iva_tasa", RATE_SCALE, true),
        dec("iva_importe", MONEY_SCALE, true),
        dec("ieps_tasa", RATE_SCALE, true),
        dec("ieps_importe", MONEY_SCALE, true),
        dec("dta_importe", MONEY_SCALE, true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn identificadores_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        int("partida", true),
        utf8("clave", false),
        utf8("complemento1", true),
        utf8("complemento2", true),
        utf8("complemento3", true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn descargos_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("pedimento_id", false),
        utf8("original_id", false),
        utf8("original_fraccion", true),
        utf8("unidad_medida", true),
        dec("cantidad", QTY_SCALE, true),
        date("fecha_original", true),
        Field::new("source_line", DataType::Int64, false),
    ]))
}

pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("source_file", false),
        Field::new("line", DataType::Int64, false),
        utf8("record_type", false),
        utf8("field", false),
        utf8("reason", false),
        utf8("raw", false),
    ]))
}

pub fn schema_of(table: &str) -> SchemaRef {
    match table {
        "pedimentos" | "conflicts" => pedimentos_schema(),
        "partidas" => partidas_schema(),
        "identificadores" => identificadores_schema(),
        "descargos" => descargos_schema(),
        "rejects" => rejects_schema(),
        other => panic!("unknown table {other}"),
    }
}

pub(super) fn s<'a>(it: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(it))
}
pub(super) fn so<'a>(it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(it))
}
pub(super) fn d(it: impl Iterator<Item = Decimal>, scale: u32) -> ArrayRef {
    Arc::new(
        Decimal128Array::from_iter_values(it.map(|x| model::to_scaled_i128(x, scale)))
            .with_precision_and_scale(18, scale as i8)
            .expect("valid decimal precision"),
    )
}
pub(super) fn dopt(it: impl Iterator<Item = Option<Decimal>>, scale: u32) -> ArrayRef {
    Arc::new(
        Decimal128Array::from_iter(it.map(|x| x.map(|v| model::to_scaled_i128(v, scale))))
            .with_precision_and_scale(18, scale as i8)
            .expect("valid decimal precision"),
    )
}
pub(super) fn dt(it: impl Iterator<Item = NaiveDate>) -> ArrayRef {
    Arc::new(Date32Array::from_iter_values(it.map(model::date32)))
}
pub(super) fn dtopt(it: impl Iterator<Item = Option<NaiveDate>>) -> ArrayRef {
    Arc::new(Date32Array::from_iter(it.map(|x| x.map(model::date32))))
}
pub(super) fn i32s(it: impl Iterator<Item = i32>) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(it))
}
pub(super) fn i64s(it: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(it))
}

pub fn pedimentos_batch(rows: &[PedimentoRow]) -> Result<RecordBatch> {
    let r = rows;
    Ok(RecordBatch::try_new(
        pedimentos_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            s(r.iter().map(|x| x.aduana_seccion.as_str())),
            s(r.iter().map(|x| x.patente.as_str())),
            s(r.iter().map(|x| x.numero.as_str())),
            i32s(r.iter().map(|x| x.tipo_operacion)),
            s(r.iter().map(|x| x.clave.as_str())),
            s(r.iter().map(|x| x.clave_declarada.as_str())),
            i32s(r.iter().map(|x| x.tipo_pedimento)),
            s(r.iter().map(|x| x.rfc.as_str())),
            so(r.iter().map(|x| x.nombre.as_deref())),
            so(r.iter().map(|x| x.immex_programa.as_deref())),
            dt(r.iter().map(|x| x.fecha_pago)),
            dtopt(r.iter().map(|x| x.fecha_entrada)),
            dtopt(r.iter().map(|x| x.fecha_seleccion)),
            dt(r.iter().map(|x| x.fecha_operacion)),
            dopt(r.iter().map(|x| x.tipo_cambio), QTY_SCALE),
            d(r.iter().map(|x| x.valor_dolares), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_aduana), MONEY_SCALE),
            d(r.iter().map(|x| x.valor_comercial), MONEY_SCALE),
            so(r.iter().map(|x| x.rectifica_id.as_deref())),
            so(r.iter().map(|x| x.contraparte_id.as_deref())),
            so(r.iter().map(|x| x.contraparte_rfc.as_deref())),
            s(r.iter().map(|x| x.source_file.as_str())),
            i64s(r.iter().map(|x| x.source_line)),
            so(r.iter().map(|x| x.hora_pago.as_deref())),
            Arc::new(arrow::array::BooleanArray::from(
                r.iter().map(|x| x.consolidado).collect::<Vec<_>>(),
            )),
        ],
    )?)
}

/// A Decimal128(18, scale) column built row by row.
struct DecCol(arrow::array::Decimal128Builder, u32);

impl DecCol {
    fn new(n: usize, scale: u32) -> DecCol {
        DecCol(arrow::array::Decimal128Builder::with_capacity(n), scale)
    }
    fn push(&mut self, v: Decimal) {
        self.0.append_value(model::to_scaled_i128(v, self.1));
    }
    fn push_opt(&mut self, v: Option<Decimal>) {
        self.0
            .append_option(v.map(|v| model::to_scaled_i128(v, self.1)));
    }
    fn finish(mut self) -> ArrayRef {
        Arc::new(
            self.0
                .finish()
                .with_precision_and_scale(18, self.1 as i8)
                .expect("valid decimal precision"),
        )
    }
}

/// The partidas as a record batch, in one pass over the rows: a row is ~500 bytes, and a
/// pass per column (23) read each row's cache lines over and over (this conversion was
/// 8% of a 10M ingest's CPU that way).
pub fn partidas_batch(r: &[PartidaRow]) -> Result<RecordBatch> {
    use arrow::array::{Int32Builder, Int64Builder, StringBuilder};
    let n = r.len();
    let text = |bytes: usize| StringBuilder::with_capacity(n, n * bytes);
    let (mut id, mut fraccion, mut nico, mut descripcion) = (text(24), text(8), text(2), text(32));
    let (mut codigo, mut pais, mut umc, mut umt) = (text(8), text(3), text(2), text(2));
    let mut partida = Int32Builder::with_capacity(n);
    let mut line = Int64Builder::with_capacity(n);
    let (mut cantidad_umc, mut cantidad_umt) =
        (DecCol::new(n, QTY_SCALE), DecCol::new(n, QTY_SCALE));
    let mut precio = DecCol::new(n, QTY_SCALE);
    let money = || DecCol::new(n, MONEY_SCALE);
    let rate = || DecCol::new(n, RATE_SCALE);
    let (mut aduana, mut comercial, mut dolares) = (money(), money(), money());
    let (mut igi_t, mut igi_i, mut iva_t, mut iva_i) = (rate(), money(), rate(), money());
    let (mut ieps_t, mut ieps_i, mut dta) = (rate(), money(), money());
    for x in r {
        id.append_value(&x.pedimento_id);
        partida.append_value(x.partida);
        fraccion.append_value(&x.fraccion);
        nico.append_option(x.nico.as_deref());
        descripcion.append_option(x.descripcion.as_deref());
        codigo.append_option(x.codigo_producto.as_deref());
        pais.append_option(x.pais_origen.as_deref());
        umc.append_option(x.umc.as_deref());
        cantidad_umc.push_opt(x.cantidad_umc);
        umt.append_value(&x.umt);
        cantidad_umt.push(x.cantidad_umt);
        precio.push_opt(x.precio_unitario);
        aduana.push(x.valor_aduana);
        comercial.push(x.valor_comercial);
        dolares.push(x.valor_dolares);
        igi_t.push_opt(x.igi_tasa);
        igi_i.push_opt(x.igi_importe);
        iva_t.push_opt(x.iva_tasa);
        iva_i.push_opt(x.iva_importe);
        ieps_t.push_opt(x.ieps_tasa);
        ieps_i.push_opt(x.ieps_importe);
        dta.push_opt(x.dta_importe);
        line.append_value(x.source_line);
    }
    Ok(RecordBatch::try_new(
        partidas_schema(),
        vec![
            Arc::new(id.finish()),
            Arc::new(partida.finish()),
            Arc::new(fraccion.finish()),
            Arc::new(nico.finish()),
            Arc::new(descripcion.finish()),
            Arc::new(codigo.finish()),
            Arc::new(pais.finish()),
            Arc::new(umc.finish()),
            cantidad_umc.finish(),
            Arc::new(umt.finish()),
            cantidad_umt.finish(),
            precio.finish(),
            aduana.finish(),
            comercial.finish(),
            dolares.finish(),
            igi_t.finish(),
            igi_i.finish(),
            iva_t.finish(),
            iva_i.finish(),
            ieps_t.finish(),
            ieps_i.finish(),
            dta.finish(),
            Arc::new(line.finish()),
        ],
    )?)
}

pub fn identificadores_batch(r: &[IdentificadorRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        identificadores_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            Arc::new(Int32Array::from_iter(r.iter().map(|x| x.partida))),
            s(r.iter().map(|x| x.clave.as_str())),
            so(r.iter().map(|x| x.complemento1.as_deref())),
            so(r.iter().map(|x| x.complemento2.as_deref())),
            so(r.iter().map(|x| x.complemento3.as_deref())),
            i64s(r.iter().map(|x| x.source_line)),
        ],
    )?)
}

pub fn descargos_batch(r: &[DescargoRow]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        descargos_schema(),
        vec![
            s(r.iter().map(|x| x.pedimento_id.as_str())),
            s(r.iter().map(|x| x.original_id.as_str())),
            so(r.iter().map(|x| x.original_fraccion.as_deref())),
            so(r.iter().map(|x| x.unidad_medida.as_deref())),
            dopt(r.iter().map(|x| x.cantidad), QTY_SCALE),
            dtopt(r.iter().map(|x| x.fecha_original)),
            i64s(r.iter().map(|x| x.source_line)),
        ],
    )?)
}

pub fn rejects_batch(r: &[RejectRow]) -> Result<RecordBatch> {
    // The reason is stored as its English rendering.
    let reasons: Vec<String> = r.iter().map(|x| x.reason.to_string()).collect();
    Ok(RecordBatch::try_new(
        rejects_schema(),
        vec![
            s(r.iter().map(|x| x.source_file.as_str())),
            i64s(r.iter().map(|x| x.line)),
            s(r.iter().map(|x| x.record_type.as_str())),
            s(r.iter().map(|x| x.field.as_str())),
            s(reasons.iter().map(String::as_str)),
            s(r.iter().map(|x| x.raw.as_str())),
        ],
    )?)
}

pub(super) fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| DatasetError::Other(format!("column {name} missing or of wrong type")))
}

/// Decodes a pedimentos batch back into rows (used by merges and tests).
pub fn pedimento_rows(b: &RecordBatch) -> Result<Vec<PedimentoRow>> {
    let st = |n: &str| col::<StringArray>(b, n);
    let (id, ad, pa, nu) = (
        st("pedimento_id")?,
        st("aduana_seccion")?,
        st("patente")?,
        st("numero")?,
    );
    let (cl, cd, rf, no, im) = (
        st("clave")?,
        st("clave_declarada")?,
        st("rfc")?,
        st("nombre")?,
        st("immex_programa")?,
    );
    let (re, ci, cr, sf) = (
        st("rectifica_id")?,
        st("contraparte_id")?,
        st("contraparte_rfc")?,
        st("source_file")?,
    );
    let to = col::<Int32Array>(b, "tipo_operacion")?;
    let tp = col::<Int32Array>(b, "tipo_pedimento")?;
    let sl = col::<Int64Array>(b, "source_line")?;
    // Datasets written before hora_pago existed lack the column: no time.
    let hp = match b.schema().index_of("hora_pago") {
        Ok(_) => Some(col::<StringArray>(b, "hora_pago")?),
        Err(_) => None,
    };
    // Likewise consolidado (datasets written before it existed: unknown).
    let co = match b.schema().index_of("consolidado") {
        Ok(_) => Some(col::<arrow::array::BooleanArray>(b, "consolidado")?),
        Err(_) => None,
    };
    let dte = |n: &str| col::<Date32Array>(b, n);
    let (fp, fe, fs_, fo) = (
        dte("fecha_pago")?,
        dte("fecha_entrada")?,
        dte("fecha_seleccion")?,
        dte("fecha_operacion")?,
    );
    let dc = |n: &str| col::<Decimal128Array>(b, n);
    let (tc, vd, va, vc) = (
        dc("tipo_cambio")?,
        dc("valor_dolares")?,
        dc("valor_aduana")?,
        dc("valor_comercial")?,
    );
    let opt_s = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| Text::from(a.value(i)));
    let opt_d = |a: &Date32Array, i: usize| (!a.is_null(i)).then(|| model::from_date32(a.value(i)));
    let dv =
        |a: &Decimal128Array, i: usize| Decimal::from_i128_with_scale(a.value(i), a.scale() as u32);
    let mut out = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        let pid = Text::from(id.value(i));
        let year: i32 = crate::model::PedimentoKey::year_of_id(&pid).unwrap_or(0);
        out.push(PedimentoRow {
            pedimento_id: pid,
            year,
            aduana_seccion: ad.value(i).into(),
            patente: pa.value(i).into(),
            numero: nu.value(i).into(),
            tipo_operacion: to.value(i),
            clave: cl.value(i).into(),
            clave_declarada: cd.value(i).into(),
            tipo_pedimento: tp.value(i),
            rfc: rf.value(i).into(),
            nombre: opt_s(no, i),
            immex_programa: opt_s(im, i),
            fecha_pago: model::from_date32(fp.value(i)),
            fecha_entrada: opt_d(fe, i),
            fecha_seleccion: opt_d(fs_, i),
            fecha_operacion: model::from_date32(fo.value(i)),
            tipo_cambio: (!tc.is_null(i)).then(|| dv(tc, i)),
            valor_dolares: dv(vd, i),
            valor_aduana: dv(va, i),
            valor_comercial: dv(vc, i),
            rectifica_id: opt_s(re, i),
            contraparte_id: opt_s(ci, i),
            contraparte_rfc: opt_s(cr, i),
            source_file: sf.value(i).into(),
            source_line: sl.value(i),
            hora_pago: hp.and_then(|a| opt_s(a, i)),
            consolidado: co.and_then(|a| (!a.is_null(i)).then(|| a.value(i))),
        });
    }
    Ok(out)
}
