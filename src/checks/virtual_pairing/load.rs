//! Reads the virtual pedimentos of a context into [`super::Side`]s.

use super::*;

// ---------------------------------------------------------------------------------------
// Loading from the audit context and building the SQL tables.

pub(super) fn claves_in() -> String {
    VIRTUAL_CLAVES
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn str_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(c)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

pub(super) fn dec_col(df: &DataFrame, c: &str, scale: usize) -> PolarsResult<Vec<i128>> {
    let s = df
        .column(c)?
        .as_materialized_series()
        .strict_cast(&DataType::Decimal(38, scale))?;
    Ok(s.decimal()?
        .physical()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

pub(super) fn int_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<i32>> {
    let s = df
        .column(c)?
        .as_materialized_series()
        .strict_cast(&DataType::Int32)?;
    Ok(s.i32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

pub(super) fn date_col(df: &DataFrame, c: &str) -> PolarsResult<Vec<i32>> {
    let s = df.column(c)?.as_materialized_series();
    Ok(s.date()?
        .physical()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// Reads the virtual pedimentos (current, on or before `as_of`), their goods lines and
/// declared counterparts, and every RFC in the dataset.
pub fn load(ctx: &AuditContext) -> Result<(Vec<Side>, HashSet<String>), CheckError> {
    let cl = claves_in();
    let peds = ctx.sql(
        &format!(
            "SELECT pedimento_id, rfc, clave, tipo_operacion, fecha_operacion, aduana_seccion, \
             contraparte_id, contraparte_rfc, consolidado, fecha_seleccion, fecha_pago \
             FROM current_pedimentos \
             WHERE clave IN ({cl}) AND fecha_operacion <= ${{as_of}}"
        ),
        "virtual/load_sides",
    )?;
    let lines = ctx.sql(
        &format!(
            "SELECT pa.pedimento_id, pa.fraccion, pa.umt, SUM(pa.cantidad_umt) AS qty, \
             SUM(CASE WHEN v.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END) AS valor, \
             SUM(pa.valor_dolares) AS usd FROM partidas pa \
             JOIN (SELECT pedimento_id, tipo_operacion FROM current_pedimentos WHERE clave IN ({cl})) v \
             ON v.pedimento_id = pa.pedimento_id \
             GROUP BY pa.pedimento_id, pa.fraccion, pa.umt"
        ),
        "virtual/load_lines",
    )?;
    let refs = ctx.sql(
        &format!(
            "SELECT pedimento_id, complemento1, complemento2 FROM identificadores \
             WHERE clave IN ({cl}) AND partida IS NULL"
        ),
        "virtual/load_refs",
    )?;
    let rfcs = ctx.sql("SELECT DISTINCT rfc FROM dataset_rfcs", "virtual/load_rfcs")?;
    let rfcs: HashSet<String> = str_col(&rfcs, "rfc")?.into_iter().flatten().collect();

    let ids = str_col(&peds, "pedimento_id")?;
    let prfc = str_col(&peds, "rfc")?;
    let pclave = str_col(&peds, "clave")?;
    let ptipo = int_col(&peds, "tipo_operacion")?;
    let pfecha = date_col(&peds, "fecha_operacion")?;
    let padu = str_col(&peds, "aduana_seccion")?;
    let pcid = str_col(&peds, "contraparte_id")?;
    let pcrfc = str_col(&peds, "contraparte_rfc")?;
    let pcons: Vec<bool> = peds
        .column("consolidado")?
        .as_materialized_series()
        .strict_cast(&DataType::Boolean)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let psel = peds
        .column("fecha_seleccion")?
        .as_materialized_series()
        .date()?
        .physical()
        .clone();
    let ppago = peds
        .column("fecha_pago")?
        .as_materialized_series()
        .date()?
        .physical()
        .clone();
    let mut sides: Vec<Side> = Vec::with_capacity(ids.len());
    let mut at: HashMap<String, usize> = HashMap::with_capacity(ids.len());
    for i in 0..ids.len() {
        let id = ids[i].clone().unwrap_or_default();
        at.insert(id.clone(), sides.len());
        sides.push(Side {
            id,
            rfc: prfc[i].clone().unwrap_or_default(),
            clave: pclave[i].clone().unwrap_or_default(),
            tipo: ptipo[i],
            fecha: pfecha[i],
            aduana: padu[i].clone().unwrap_or_default(),
            declared_ids: pcid[i].iter().cloned().collect(),
            declared_rfc: pcrfc[i].clone(),
            lines: vec![],
            consolidado: pcons[i],
            primera_remesa: psel.get(i).unwrap_or(pfecha[i]),
            cierre: ppago.get(i).unwrap_or(pfecha[i]),
        });
    }
    let rid = str_col(&refs, "pedimento_id")?;
    let rc1 = str_col(&refs, "complemento1")?;
    let rc2 = str_col(&refs, "complemento2")?;
    for i in 0..rid.len() {
        let Some(&k) = rid[i].as_ref().and_then(|id| at.get(id)) else {
            continue;
        };
        if let Some(key) = rc1[i]
            .as_deref()
            .and_then(|s| model::PedimentoKey::parse(s).ok())
        {
            sides[k].declared_ids.push(key.id());
        }
        if sides[k].declared_rfc.is_none() {
            sides[k].declared_rfc = rc2[i]
                .as_deref()
                .and_then(|s| model::rfc(s).ok().map(Into::into));
        }
    }
    let lid = str_col(&lines, "pedimento_id")?;
    let lfr = str_col(&lines, "fraccion")?;
    let lumt = str_col(&lines, "umt")?;
    let lq = dec_col(&lines, "qty", QTY_SCALE)?;
    let lv = dec_col(&lines, "valor", MONEY_SCALE)?;
    let lu = dec_col(&lines, "usd", MONEY_SCALE)?;
    for i in 0..lid.len() {
        let Some(&k) = lid[i].as_ref().and_then(|id| at.get(id)) else {
            continue;
        };
        sides[k].lines.push(Line {
            fraccion: lfr[i].clone().unwrap_or_default(),
            umt: lumt[i].clone().unwrap_or_default(),
            qty: lq[i],
            value: lv[i],
            usd: lu[i],
        });
    }
    for s in sides.iter_mut() {
        s.declared_ids.sort();
        s.declared_ids.dedup();
        s.lines.sort();
    }
    Ok((sides, rfcs))
}
