//! `findings.parquet`: the report's findings with exactly the schema of
//! `src/findings.rs` (Decimal(18,5) quantities, Decimal(18,2) money, Date dates), so any
//! tool that reads the audit's findings.parquet reads this one.

use super::ReportError;
use super::model::ReportData;
use polars::prelude::*;
use std::path::Path;

pub fn frame(d: &ReportData) -> PolarsResult<DataFrame> {
    let fs: Vec<&crate::report::load::Finding> = d.findings.iter().map(|rf| &rf.f).collect();
    let st = |name: &str, v: Vec<Option<String>>| -> Column { Series::new(name.into(), v).into() };
    let dec = |x: Option<rust_decimal::Decimal>| x.map(|v| v.to_string());
    // Dates go in as days since 1970 (Int32 → Date is a plain cast; String → Date is
    // deprecated in polars).
    let date = |name: &str, v: Vec<Option<chrono::NaiveDate>>| -> Column {
        Series::new(
            name.into(),
            v.into_iter()
                .map(|d| d.map(crate::model::date32))
                .collect::<Vec<Option<i32>>>(),
        )
        .into()
    };
    let cols = vec![
        st(
            "check_code",
            fs.iter().map(|f| Some(f.check_code.clone())).collect(),
        ),
        st(
            "severity",
            fs.iter().map(|f| Some(f.severity.clone())).collect(),
        ),
        st("rfc", fs.iter().map(|f| Some(f.rfc.clone())).collect()),
        st(
            "pedimento_id",
            fs.iter().map(|f| f.pedimento_id.clone()).collect(),
        ),
        Series::new(
            "partida".into(),
            fs.iter().map(|f| f.partida).collect::<Vec<_>>(),
        )
        .into(),
        st(
            "related_pedimento_id",
            fs.iter().map(|f| f.related_pedimento_id.clone()).collect(),
        ),
        st("fraccion", fs.iter().map(|f| f.fraccion.clone()).collect()),
        date("period_start", fs.iter().map(|f| f.period_start).collect()),
        date("as_of", fs.iter().map(|f| Some(f.as_of)).collect()),
        st("quantity", fs.iter().map(|f| dec(f.quantity)).collect()),
        st("amount", fs.iter().map(|f| dec(f.amount)).collect()),
        st("igi", fs.iter().map(|f| dec(f.igi)).collect()),
        st("iva", fs.iter().map(|f| dec(f.iva)).collect()),
        st("ieps", fs.iter().map(|f| dec(f.ieps)).collect()),
        st(
            "message",
            fs.iter().map(|f| Some(f.message.clone())).collect(),
        ),
        st(
            "mensaje",
            fs.iter().map(|f| Some(f.mensaje.clone())).collect(),
        ),
        st(
            "citation",
            fs.iter().map(|f| Some(f.citation.clone())).collect(),
        ),
        st(
            "evidence",
            fs.iter().map(|f| Some(f.evidence.clone())).collect(),
        ),
    ];
    let df = DataFrame::new_infer_height(cols)?;
    let exprs: Vec<Expr> = crate::findings::schema()
        .iter()
        .map(|(n, dt)| col(n.clone()).strict_cast(dt.clone()))
        .collect();
    df.lazy().select(exprs).collect()
}

pub fn write(d: &ReportData, path: &Path) -> Result<(), ReportError> {
    let mut df = frame(d).map_err(|e| ReportError::polars(path, e))?;
    let f = std::fs::File::create(path).map_err(ReportError::io(path))?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map_err(|e| ReportError::polars(path, e))?;
    Ok(())
}
