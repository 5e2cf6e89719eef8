//! Certification tables: verdict per modality, requirements, return-ratio series.

use super::{Table, status_text};
use crate::model::lang::Lang;
use crate::report::format::{mxn_opt, pct};
use crate::report::model::ReportData;
use rust_decimal::Decimal;

/// Certification verdict per modality, or None when `cert_assessment.parquet` is absent.
pub fn verdicts(d: &ReportData) -> Option<Table> {
    let l = d.meta.lang;
    d.assessment.as_ref()?;
    let mut t = Table::new(
        l,
        &[
            ("Modalidad", "Modality", false),
            ("Dictamen", "Verdict", false),
            ("Cumple", "Pass", true),
            ("No cumple", "Fail", true),
            ("Faltan datos", "Data missing", true),
            ("Evidencia manual", "Manual evidence", true),
            ("No aplica", "N/A", true),
        ],
    );
    for m in &d.modalities {
        t.rows.push(vec![
            m.modality.clone(),
            status_text(l, m.verdict),
            m.pass.to_string(),
            m.fail.to_string(),
            m.missing.to_string(),
            m.manual.to_string(),
            m.na.to_string(),
        ]);
    }
    Some(t)
}

/// The certification requirements, one row per requirement, or None when
/// `cert_assessment.parquet` is absent.
pub fn requirements(d: &ReportData) -> Option<Table> {
    let l = d.meta.lang;
    let a = d.assessment.as_ref()?;
    let mut t = Table::new(
        l,
        &[
            ("Modalidad", "Modality", false),
            ("Clave", "Code", false),
            ("Requisito", "Requirement", false),
            ("Estado", "Status", false),
            ("Valor medido", "Measured", false),
            ("Umbral", "Threshold", false),
            ("Ventana", "Window", false),
            ("Evidencia faltante", "Missing evidence", false),
            ("Fundamento legal", "Legal basis", false),
        ],
    );
    for r in a {
        let missing = match (&r.missing, r.status.as_str(), r.basis.as_str()) {
            (Some(m), _, _) => l.phrase(m),
            (None, "unknown", "manual") => l
                .pick("manual: anexar evidencia", "manual: attach evidence")
                .into(),
            _ => String::new(),
        };
        t.rows.push(vec![
            r.modality.clone(),
            r.code.clone(),
            match l {
                Lang::Es => crate::checks::cert::requirement_es(&r.code)
                    .map(str::to_string)
                    .unwrap_or_else(|| r.requirement.clone()),
                Lang::En => r.requirement.clone(),
            },
            status_text(l, &r.status),
            l.phrase(&r.measured),
            l.phrase(&r.threshold),
            l.phrase(&r.window),
            missing,
            r.citation.clone(),
        ]);
    }
    Some(t)
}

/// Return-ratio points, or None when `cert_ratio_series.parquet` is absent.
pub fn ratio(d: &ReportData) -> Option<Table> {
    let l = d.meta.lang;
    let r = d.ratio.as_ref()?;
    let mut t = Table::new(
        l,
        &[
            (
                "Mes (ventana de 12 meses que termina)",
                "Month (12-month window ending)",
                false,
            ),
            ("Valor retornado MXN", "Returned value", true),
            ("Importaciones temporales MXN", "Temporary imports", true),
            ("Índice", "Ratio", true),
            ("≥ 60%", "≥ 60%", false),
            ("≥ 80%", "≥ 80%", false),
        ],
    );
    let yn = |v: Option<Decimal>, th: i64| match v {
        Some(v) if v >= Decimal::from(th) => l.pick("sí", "yes").to_string(),
        Some(_) => "no".to_string(),
        None => String::new(),
    };
    for p in r {
        t.rows.push(vec![
            p.month.clone(),
            mxn_opt(p.numerator),
            mxn_opt(p.denominator),
            p.ratio_pct.map(pct).unwrap_or_default(),
            yn(p.ratio_pct, 60),
            yn(p.ratio_pct, 80),
        ]);
    }
    Some(t)
}
