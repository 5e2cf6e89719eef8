//! The findings model: one schema for every check (`findings.parquet`).
//!
//! | column | type | meaning |
//! |---|---|---|
//! | check_code | str | stable code, e.g. `TEMP-EXPIRED` (never reused) |
//! | severity | str | `critical`, `high`, `medium`, `low`, `info` |
//! | rfc | str | company the finding is about |
//! | pedimento_id | str (null) | main evidence pedimento (`YYYY-ASS-PPPP-NNNNNNN`) |
//! | partida | i32 (null) | its partida |
//! | related_pedimento_id | str (null) | other pedimento involved (counterpart, discharge) |
//! | fraccion | str (null) | fracción arancelaria |
//! | period_start | date (null) | start of the window the finding covers |
//! | as_of | date | date the finding was evaluated at |
//! | quantity | decimal(18,5) (null) | quantity in the tariff unit (UMT) |
//! | amount | decimal(18,2) (null) | main amount in MXN (value at risk, shortfall...) |
//! | igi, iva, ieps | decimal(18,2) (null) | contributions at risk in MXN |
//! | message | str | English, one sentence with the numbers |
//! | mensaje | str | the same sentence in Spanish (what `--lang es`, the default, shows) |
//! | citation | str | rule/article and the document it comes from |
//! | evidence | str | ids of the rows that prove it (`table:pedimento_id#partida`, `;`-separated) |
//!
//! Every check writes both `message` (English) and `mensaje` (Spanish); reports pick one by
//! `--lang` ([`crate::model::lang::Lang`]). Legal terms of art stay in Spanish in both
//! (pedimento, partida, fracción, descargo, ...).

use polars::prelude::*;

pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// The findings columns, in order, with their types.
pub fn schema() -> Schema {
    Schema::from_iter([
        Field::new("check_code".into(), DataType::String),
        Field::new("severity".into(), DataType::String),
        Field::new("rfc".into(), DataType::String),
        Field::new("pedimento_id".into(), DataType::String),
        Field::new("partida".into(), DataType::Int32),
        Field::new("related_pedimento_id".into(), DataType::String),
        Field::new("fraccion".into(), DataType::String),
        Field::new("period_start".into(), DataType::Date),
        Field::new("as_of".into(), DataType::Date),
        Field::new("quantity".into(), DataType::Decimal(18, 5)),
        Field::new("amount".into(), DataType::Decimal(18, 2)),
        Field::new("igi".into(), DataType::Decimal(18, 2)),
        Field::new("iva".into(), DataType::Decimal(18, 2)),
        Field::new("ieps".into(), DataType::Decimal(18, 2)),
        Field::new("message".into(), DataType::String),
        Field::new("mensaje".into(), DataType::String),
        Field::new("citation".into(), DataType::String),
        Field::new("evidence".into(), DataType::String),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    #[error(
        "{source_name}: findings lack column(s) {missing:?}; every check must return exactly the findings columns"
    )]
    MissingColumns {
        source_name: String,
        missing: Vec<String>,
    },
    #[error("{source_name}: findings have unexpected column(s) {extra:?}")]
    ExtraColumns {
        source_name: String,
        extra: Vec<String>,
    },
    #[error("{source_name}: {source}")]
    Polars {
        source_name: String,
        source: PolarsError,
    },
}

/// Checks that `df` has exactly the findings columns and casts them to the canonical
/// types and order. `source_name` (e.g. `queries/TEMP-EXPIRED.sql`) names the culprit.
pub fn conform(df: DataFrame, source_name: &str) -> Result<DataFrame, FindingsError> {
    let sch = schema();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing: Vec<String> = sch
        .iter_names()
        .map(|n| n.to_string())
        .filter(|n| !names.contains(n))
        .collect();
    if !missing.is_empty() {
        return Err(FindingsError::MissingColumns {
            source_name: source_name.into(),
            missing,
        });
    }
    let extra: Vec<String> = names
        .iter()
        .filter(|n| sch.get(n.as_str()).is_none())
        .cloned()
        .collect();
    if !extra.is_empty() {
        return Err(FindingsError::ExtraColumns {
            source_name: source_name.into(),
            extra,
        });
    }
    let exprs: Vec<Expr> = sch
        .iter()
        .map(|(n, dt)| col(n.clone()).strict_cast(dt.clone()))
        .collect();
    df.lazy()
        .select(exprs)
        .collect()
        .map_err(|e| FindingsError::Polars {
            source_name: source_name.into(),
            source: e,
        })
}

/// An empty findings frame.
pub fn empty() -> DataFrame {
    DataFrame::empty_with_schema(&schema())
}

/// Sort order used everywhere findings are written (stable, deterministic output).
pub fn sort(df: DataFrame) -> PolarsResult<DataFrame> {
    df.lazy()
        .sort(
            [
                "check_code",
                "rfc",
                "pedimento_id",
                "partida",
                "related_pedimento_id",
                "message",
            ],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()
}
