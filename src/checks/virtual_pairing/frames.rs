//! The three tables the VIRTUAL-* SQL reads (`virtual_sides`, `virtual_pairs`, `virtual_lines`), built from a pairing.

use super::*;

/// The three tables the VIRTUAL-* SQL reads.
#[derive(Clone)]
pub struct VirtualTables {
    pub sides: DataFrame,
    pub pairs: DataFrame,
    pub lines: DataFrame,
}

pub(super) fn s_str(name: &str, v: Vec<Option<String>>) -> Column {
    Series::new(name.into(), v).into()
}
pub(super) fn s_i32(name: &str, v: Vec<i32>) -> Column {
    Series::new(name.into(), v).into()
}
pub(super) fn s_date(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_date()
        .into_series()
        .into()
}
pub(super) fn s_date_opt(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::new(name.into(), &v)
        .into_date()
        .into_series()
        .into()
}
pub(super) fn s_dec(name: &str, v: Vec<i128>, scale: usize) -> Column {
    Int128Chunked::from_vec(name.into(), v)
        .into_decimal_unchecked(18, scale)
        .into_series()
        .into()
}

/// Builds [`VirtualTables`] from a pairing.
/// `tolerance_pct`: value differences in USD above this percent of the larger side are
/// flagged (`value_flag`).
// size-exception: builds the four virtual_* frames column by column from one pairing
pub fn tables(
    p: &Pairing,
    rfcs: &HashSet<String>,
    as_of: i32,
    tolerance_pct: u32,
) -> PolarsResult<VirtualTables> {
    let sides = &p.sides;
    let n = sides.len();
    let mut partners: Vec<Vec<usize>> = vec![vec![]; n];
    let mut method: Vec<Option<Method>> = vec![None; n];
    for pr in &p.pairs {
        partners[pr.sender].push(pr.receiver);
        partners[pr.receiver].push(pr.sender);
        for x in [pr.sender, pr.receiver] {
            method[x] = match (method[x], pr.method) {
                (Some(Method::Fallback), _) | (_, Method::Fallback) => Some(Method::Fallback),
                _ => Some(Method::Declared),
            };
        }
    }
    // virtual_sides
    let mut c = SidesCols::default();
    for (i, s) in sides.iter().enumerate() {
        let pids: Vec<&str> = partners[i].iter().map(|&j| sides[j].id.as_str()).collect();
        let prfcs: BTreeSet<&str> = partners[i].iter().map(|&j| sides[j].rfc.as_str()).collect();
        let grace = if s.tipo == 1 {
            receiver_grace(&s.clave)
        } else {
            0
        };
        c.id.push(Some(s.id.clone()));
        c.rfc.push(Some(s.rfc.clone()));
        c.clave.push(Some(s.clave.clone()));
        c.tipo.push(s.tipo);
        c.fecha.push(s.fecha);
        c.declared_id.push(s.declared_ids.first().cloned());
        c.declared_ids
            .push((!s.declared_ids.is_empty()).then(|| s.declared_ids.join(";")));
        c.declared_rfc.push(s.declared_rfc.clone());
        c.declared_ok.push(
            (!s.declared_ids.is_empty()
                && s.declared_ids.iter().any(|d| pids.contains(&d.as_str()))) as i32,
        );
        c.rfc_ok
            .push(s.declared_rfc.as_deref().is_some_and(|d| prfcs.contains(d)) as i32);
        c.partners.push((!pids.is_empty()).then(|| pids.join(";")));
        c.partner_rfcs
            .push((!prfcs.is_empty()).then(|| prfcs.iter().copied().collect::<Vec<_>>().join(";")));
        c.n_partners.push(pids.len() as i32);
        c.method.push(method[i].map(|m| m.name().to_string()));
        c.in_dataset
            .push(s.declared_rfc.as_deref().is_some_and(|r| rfcs.contains(r)) as i32);
        c.due.push((s.fecha + grace < as_of) as i32);
        c.single.push(s.single() as i32);
        c.fraccion.push(s.lines.first().map(|l| l.fraccion.clone()));
        c.qty.push(s.qty());
        c.value.push(s.value());
        c.consolidado.push(s.consolidado as i32);
        let due = s
            .consolidado
            .then(|| consolidated_deadline(s.primera_remesa))
            .flatten();
        c.primera_remesa
            .push(s.consolidado.then_some(s.primera_remesa));
        c.cierre.push(s.consolidado.then_some(s.cierre));
        c.plazo_version.push(due.map(|d| d.0.to_string()));
        c.plazo_consolidado.push(due.map(|d| d.1));
    }
    let sides_df = DataFrame::new_infer_height(vec![
        s_str("pedimento_id", c.id),
        s_str("rfc", c.rfc),
        s_str("clave", c.clave),
        s_i32("tipo_operacion", c.tipo),
        s_date("fecha_operacion", c.fecha),
        s_str("declared_id", c.declared_id),
        s_str("declared_ids", c.declared_ids),
        s_str("declared_rfc", c.declared_rfc),
        s_i32("declared_ok", c.declared_ok),
        s_i32("rfc_ok", c.rfc_ok),
        s_str("partners", c.partners),
        s_str("partner_rfcs", c.partner_rfcs),
        s_i32("n_partners", c.n_partners),
        s_str("method", c.method),
        s_i32("counterpart_in_dataset", c.in_dataset),
        s_i32("due", c.due),
        s_i32("single", c.single),
        s_str("fraccion", c.fraccion),
        s_dec("quantity", c.qty, QTY_SCALE),
        s_dec("valor", c.value, MONEY_SCALE),
        s_i32("consolidado", c.consolidado),
        s_date_opt("primera_remesa", c.primera_remesa),
        s_date_opt("cierre", c.cierre),
        s_str("plazo_version", c.plazo_version),
        s_date_opt("plazo_consolidado", c.plazo_consolidado),
    ])?;

    // Group membership for the pairs and lines tables.
    let mut g_senders: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.groups];
    let mut g_receivers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.groups];
    for pr in &p.pairs {
        g_senders[pr.group].insert(pr.sender);
        g_receivers[pr.group].insert(pr.receiver);
    }
    let ids_of = |set: &BTreeSet<usize>| -> String {
        set.iter()
            .map(|&i| sides[i].id.as_str())
            .collect::<Vec<_>>()
            .join(";")
    };

    // virtual_pairs
    let mut q = PairsCols::default();
    for pr in &p.pairs {
        let (s, r) = (&sides[pr.sender], &sides[pr.receiver]);
        let combo = combos().get(&(s.clave.clone(), r.clave.clone()));
        let clave_ok = combo.is_some() && s.tipo == 2 && r.tipo == 1;
        q.group.push(pr.group as i32);
        q.sid.push(Some(s.id.clone()));
        q.srfc.push(Some(s.rfc.clone()));
        q.sclave.push(Some(s.clave.clone()));
        q.stipo.push(s.tipo);
        q.sfecha.push(s.fecha);
        q.sadu.push(Some(s.aduana.clone()));
        q.rid.push(Some(r.id.clone()));
        q.rrfc.push(Some(r.rfc.clone()));
        q.rclave.push(Some(r.clave.clone()));
        q.rtipo.push(r.tipo);
        q.rfecha.push(r.fecha);
        q.radu.push(Some(r.aduana.clone()));
        q.method.push(Some(pr.method.name().to_string()));
        q.score.push(pr.score);
        q.days.push(s.fecha - r.fecha);
        q.sq.push(s.qty());
        q.rq.push(r.qty());
        q.sv.push(s.value());
        q.rv.push(r.value());
        q.alloc.push(pr.allocated);
        q.gs.push(g_senders[pr.group].len() as i32);
        q.gr.push(g_receivers[pr.group].len() as i32);
        q.clave_ok.push(clave_ok as i32);
        q.cases.push(combo.map(|c| c.cases.clone()));
        q.wgroup.push(combo.map(|c| c.groups.clone()));
        q.wmin.push(combo.map(|c| c.window_min));
        q.wmax
            .push(combo.map(|c| business_window_max(r.fecha, c.window_max)));
        q.inferred.push(combo.map(|c| c.inferred as i32));
    }
    let pairs_df = DataFrame::new_infer_height(vec![
        s_i32("group_id", q.group),
        s_str("sender_id", q.sid),
        s_str("sender_rfc", q.srfc),
        s_str("sender_clave", q.sclave),
        s_i32("sender_tipo", q.stipo),
        s_date("sender_fecha", q.sfecha),
        s_str("sender_aduana", q.sadu),
        s_str("receiver_id", q.rid),
        s_str("receiver_rfc", q.rrfc),
        s_str("receiver_clave", q.rclave),
        s_i32("receiver_tipo", q.rtipo),
        s_date("receiver_fecha", q.rfecha),
        s_str("receiver_aduana", q.radu),
        s_str("method", q.method),
        s_i32("score", q.score),
        s_i32("days", q.days),
        s_dec("sender_quantity", q.sq, QTY_SCALE),
        s_dec("receiver_quantity", q.rq, QTY_SCALE),
        s_dec("sender_value", q.sv, MONEY_SCALE),
        s_dec("receiver_value", q.rv, MONEY_SCALE),
        s_dec("allocated_quantity", q.alloc, QTY_SCALE),
        s_i32("group_senders", q.gs),
        s_i32("group_receivers", q.gr),
        s_i32("clave_ok", q.clave_ok),
        s_str("cases", q.cases),
        s_str("window_group", q.wgroup),
        Series::new("window_min_days".into(), q.wmin).into(),
        Series::new("window_max_days".into(), q.wmax).into(),
        Series::new("clave_inferred".into(), q.inferred).into(),
    ])?;

    // virtual_lines: per group and (fracción, UMT), the totals of each side.
    let mut l = LinesCols::default();
    for g in 0..p.groups {
        let mut tot: BTreeMap<(&str, &str), [i128; 6]> = BTreeMap::new();
        for &i in &g_senders[g] {
            for ln in &sides[i].lines {
                let e = tot.entry((&ln.fraccion, &ln.umt)).or_default();
                e[0] += ln.qty;
                e[2] += ln.value;
                e[4] += ln.usd;
            }
        }
        for &i in &g_receivers[g] {
            for ln in &sides[i].lines {
                let e = tot.entry((&ln.fraccion, &ln.umt)).or_default();
                e[1] += ln.qty;
                e[3] += ln.value;
                e[5] += ln.usd;
            }
        }
        let s0 = *g_senders[g].iter().next().unwrap();
        let r0 = *g_receivers[g].iter().next().unwrap();
        for ((fr, umt), t) in tot {
            l.group.push(g as i32);
            l.sid.push(Some(sides[s0].id.clone()));
            l.rid.push(Some(sides[r0].id.clone()));
            l.srfc.push(Some(sides[s0].rfc.clone()));
            l.rrfc.push(Some(sides[r0].rfc.clone()));
            l.sids.push(Some(ids_of(&g_senders[g])));
            l.rids.push(Some(ids_of(&g_receivers[g])));
            l.fr.push(Some(fr.to_string()));
            l.umt.push(Some(umt.to_string()));
            l.sq.push(t[0]);
            l.rq.push(t[1]);
            l.sv.push(t[2]);
            l.rv.push(t[3]);
            l.dq.push(t[1] - t[0]);
            l.su.push(t[4]);
            l.ru.push(t[5]);
            l.du.push(t[5] - t[4]);
            // Value disagreement in USD above the tolerance (percent of the larger side):
            // the peso values are not comparable (valor comercial vs valor en aduana).
            l.vflag
                .push(((t[5] - t[4]).abs() * 100 > tolerance_pct as i128 * t[4].max(t[5])) as i32);
        }
    }
    let lines_df = DataFrame::new_infer_height(vec![
        s_i32("group_id", l.group),
        s_str("sender_id", l.sid),
        s_str("receiver_id", l.rid),
        s_str("sender_rfc", l.srfc),
        s_str("receiver_rfc", l.rrfc),
        s_str("sender_ids", l.sids),
        s_str("receiver_ids", l.rids),
        s_str("fraccion", l.fr),
        s_str("umt", l.umt),
        s_dec("sender_quantity", l.sq, QTY_SCALE),
        s_dec("receiver_quantity", l.rq, QTY_SCALE),
        s_dec("sender_value", l.sv, MONEY_SCALE),
        s_dec("receiver_value", l.rv, MONEY_SCALE),
        s_dec("quantity_diff", l.dq, QTY_SCALE),
        s_dec("sender_usd", l.su, MONEY_SCALE),
        s_dec("receiver_usd", l.ru, MONEY_SCALE),
        s_dec("usd_diff", l.du, MONEY_SCALE),
        s_i32("value_flag", l.vflag),
    ])?;
    Ok(VirtualTables {
        sides: sides_df,
        pairs: pairs_df,
        lines: lines_df,
    })
}

#[derive(Default)]
pub(super) struct SidesCols {
    pub(super) id: Vec<Option<String>>,
    pub(super) rfc: Vec<Option<String>>,
    pub(super) clave: Vec<Option<String>>,
    pub(super) tipo: Vec<i32>,
    pub(super) fecha: Vec<i32>,
    pub(super) declared_id: Vec<Option<String>>,
    pub(super) declared_ids: Vec<Option<String>>,
    pub(super) declared_rfc: Vec<Option<String>>,
    pub(super) declared_ok: Vec<i32>,
    pub(super) rfc_ok: Vec<i32>,
    pub(super) partners: Vec<Option<String>>,
    pub(super) partner_rfcs: Vec<Option<String>>,
    pub(super) n_partners: Vec<i32>,
    pub(super) method: Vec<Option<String>>,
    pub(super) in_dataset: Vec<i32>,
    pub(super) due: Vec<i32>,
    pub(super) single: Vec<i32>,
    pub(super) fraccion: Vec<Option<String>>,
    pub(super) qty: Vec<i128>,
    pub(super) value: Vec<i128>,
    pub(super) consolidado: Vec<i32>,
    pub(super) primera_remesa: Vec<Option<i32>>,
    pub(super) cierre: Vec<Option<i32>>,
    pub(super) plazo_version: Vec<Option<String>>,
    pub(super) plazo_consolidado: Vec<Option<i32>>,
}

#[derive(Default)]
pub(super) struct PairsCols {
    pub(super) group: Vec<i32>,
    pub(super) sid: Vec<Option<String>>,
    pub(super) srfc: Vec<Option<String>>,
    pub(super) sclave: Vec<Option<String>>,
    pub(super) stipo: Vec<i32>,
    pub(super) sfecha: Vec<i32>,
    pub(super) sadu: Vec<Option<String>>,
    pub(super) rid: Vec<Option<String>>,
    pub(super) rrfc: Vec<Option<String>>,
    pub(super) rclave: Vec<Option<String>>,
    pub(super) rtipo: Vec<i32>,
    pub(super) rfecha: Vec<i32>,
    pub(super) radu: Vec<Option<String>>,
    pub(super) method: Vec<Option<String>>,
    pub(super) score: Vec<i32>,
    pub(super) days: Vec<i32>,
    pub(super) sq: Vec<i128>,
    pub(super) rq: Vec<i128>,
    pub(super) sv: Vec<i128>,
    pub(super) rv: Vec<i128>,
    pub(super) alloc: Vec<i128>,
    pub(super) gs: Vec<i32>,
    pub(super) gr: Vec<i32>,
    pub(super) clave_ok: Vec<i32>,
    pub(super) cases: Vec<Option<String>>,
    pub(super) wgroup: Vec<Option<String>>,
    pub(super) wmin: Vec<Option<i32>>,
    pub(super) wmax: Vec<Option<i32>>,
    pub(super) inferred: Vec<Option<i32>>,
}

#[derive(Default)]
pub(super) struct LinesCols {
    pub(super) group: Vec<i32>,
    pub(super) sid: Vec<Option<String>>,
    pub(super) rid: Vec<Option<String>>,
    pub(super) srfc: Vec<Option<String>>,
    pub(super) rrfc: Vec<Option<String>>,
    pub(super) sids: Vec<Option<String>>,
    pub(super) rids: Vec<Option<String>>,
    pub(super) fr: Vec<Option<String>>,
    pub(super) umt: Vec<Option<String>>,
    pub(super) sq: Vec<i128>,
    pub(super) rq: Vec<i128>,
    pub(super) sv: Vec<i128>,
    pub(super) rv: Vec<i128>,
    pub(super) dq: Vec<i128>,
    pub(super) su: Vec<i128>,
    pub(super) ru: Vec<i128>,
    pub(super) du: Vec<i128>,
    pub(super) vflag: Vec<i32>,
}
