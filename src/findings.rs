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

use crate::model::lang::Lang;
use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

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

/// One finding: one row of the findings frame, one field per column of [`schema`] (the
/// columns every check returns and `findings.parquet` holds). Serialized with decimals as
/// strings (`"1234.50"`) and dates as ISO strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub check_code: String,
    pub severity: String,
    pub rfc: String,
    pub pedimento_id: Option<String>,
    pub partida: Option<i32>,
    pub related_pedimento_id: Option<String>,
    pub fraccion: Option<String>,
    #[serde(with = "iso_date_opt")]
    pub period_start: Option<NaiveDate>,
    #[serde(with = "iso_date")]
    pub as_of: NaiveDate,
    pub quantity: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub igi: Option<Decimal>,
    pub iva: Option<Decimal>,
    pub ieps: Option<Decimal>,
    pub message: String,
    /// The Spanish text; empty when read from an audit folder older than the column.
    #[serde(default)]
    pub mensaje: String,
    pub citation: String,
    pub evidence: String,
}

/// Dates as ISO text (`2024-01-31`) in serde (chrono is built without its serde feature).
mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let t = String::deserialize(d)?;
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(D::Error::custom)
    }
}

/// [`iso_date`] for an optional date (`null` when absent).
mod iso_date_opt {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(D::Error::custom))
            .transpose()
    }
}

/// Scale of the decimal findings column `name` (quantity 5, money 2).
fn scale_of(name: &str) -> usize {
    match schema().get(name) {
        Some(DataType::Decimal(_, s)) => *s,
        _ => unreachable!("{name} is not a decimal findings column"),
    }
}

impl Finding {
    /// A finding of `check_code` about `rfc` evaluated at `as_of`, every optional column
    /// null and every text empty: fill the rest with struct update syntax.
    pub fn new(check_code: &str, severity: &str, rfc: &str, as_of: NaiveDate) -> Finding {
        Finding {
            check_code: check_code.into(),
            severity: severity.into(),
            rfc: rfc.into(),
            pedimento_id: None,
            partida: None,
            related_pedimento_id: None,
            fraccion: None,
            period_start: None,
            as_of,
            quantity: None,
            amount: None,
            igi: None,
            iva: None,
            ieps: None,
            message: String::new(),
            mensaje: String::new(),
            citation: String::new(),
            evidence: String::new(),
        }
    }

    /// The finding's sentence in `lang` (English when an older audit has no Spanish text).
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Es if !self.mensaje.is_empty() => &self.mensaje,
            _ => &self.message,
        }
    }

    /// The finding's citation in `lang` (stored with English glue; see [`Lang::citation`]).
    pub fn cite(&self, lang: Lang) -> String {
        lang.citation(&self.citation)
    }

    /// The end of the window the finding is about, derived from its columns:
    ///
    /// 1. `evidence` of the form `cert_ratio_series:<RFC>@<YYYY-MM-DD>` (CERT-RATIO): that
    ///    date is the `period_end` of the ratio point;
    /// 2. a message with `window <YYYY-MM-DD>..<YYYY-MM-DD>` (CERT-A/AA/AAA rows such as
    ///    S-b or AA-c): the second date;
    /// 3. any other `CERT-*` finding with a `period_start`: the `as_of` date (the
    ///    certification is assessed at the as-of date and every window ends there).
    ///
    /// Other findings: `None`. Certification findings carry the window *start* in
    /// `period_start`; a report files them under this date so a window that ends inside
    /// the period belongs to the period.
    pub fn window_end(&self) -> Option<NaiveDate> {
        let iso = |s: &str| {
            s.get(..10)
                .and_then(|x| NaiveDate::parse_from_str(x, "%Y-%m-%d").ok())
        };
        if let Some(rest) = self.evidence.strip_prefix("cert_ratio_series:")
            && let Some((_, d)) = rest.rsplit_once('@')
            && let Some(d) = iso(d)
        {
            return Some(d);
        }
        if !self.check_code.starts_with("CERT-") {
            return None;
        }
        if let Some(i) = self.message.find("window ")
            && let Some((_, end)) = self.message[i + 7..].split_once("..")
            && let Some(d) = iso(end)
        {
            return Some(d);
        }
        self.period_start.map(|_| self.as_of)
    }

    /// The findings frame of `rows`: exactly [`schema`] (names, order, types). Decimals
    /// are rounded half-even to their column's scale and stored as scaled integers.
    pub fn to_frame<'a>(rows: impl IntoIterator<Item = &'a Finding>) -> PolarsResult<DataFrame> {
        let rows: Vec<&Finding> = rows.into_iter().collect();
        let text = |name: &str, f: &dyn Fn(&Finding) -> Option<&str>| -> Column {
            Series::new(name.into(), rows.iter().map(|r| f(r)).collect::<Vec<_>>()).into()
        };
        let date =
            |name: &str, f: &dyn Fn(&Finding) -> Option<NaiveDate>| -> PolarsResult<Column> {
                Ok(Series::new(
                    name.into(),
                    rows.iter()
                        .map(|r| f(r).map(crate::model::date32))
                        .collect::<Vec<_>>(),
                )
                .cast(&DataType::Date)?
                .into())
            };
        let dec = |name: &str, f: &dyn Fn(&Finding) -> Option<Decimal>| -> PolarsResult<Column> {
            let scale = scale_of(name);
            let v: Int128Chunked = rows
                .iter()
                .map(|r| {
                    f(r).map(|d| {
                        let d = d.round_dp_with_strategy(
                            scale as u32,
                            rust_decimal::RoundingStrategy::MidpointNearestEven,
                        );
                        crate::model::to_scaled_i128(d, scale as u32)
                    })
                })
                .collect();
            Ok(v.with_name(name.into())
                .into_decimal(18, scale)?
                .into_series()
                .into())
        };
        DataFrame::new_infer_height(vec![
            text("check_code", &|r| Some(&r.check_code)),
            text("severity", &|r| Some(&r.severity)),
            text("rfc", &|r| Some(&r.rfc)),
            text("pedimento_id", &|r| r.pedimento_id.as_deref()),
            Series::new(
                "partida".into(),
                rows.iter().map(|r| r.partida).collect::<Vec<_>>(),
            )
            .into(),
            text("related_pedimento_id", &|r| {
                r.related_pedimento_id.as_deref()
            }),
            text("fraccion", &|r| r.fraccion.as_deref()),
            date("period_start", &|r| r.period_start)?,
            date("as_of", &|r| Some(r.as_of))?,
            dec("quantity", &|r| r.quantity)?,
            dec("amount", &|r| r.amount)?,
            dec("igi", &|r| r.igi)?,
            dec("iva", &|r| r.iva)?,
            dec("ieps", &|r| r.ieps)?,
            text("message", &|r| Some(&r.message)),
            text("mensaje", &|r| Some(&r.mensaje)),
            text("citation", &|r| Some(&r.citation)),
            text("evidence", &|r| Some(&r.evidence)),
        ])
    }

    /// The findings of a findings frame (e.g. a `findings.parquet`), read by type:
    /// decimals through their scaled integers (exact, never via text). Every column of
    /// [`schema`] is required except `mensaje` (an audit folder older than the Spanish
    /// text reads with it empty); `check_code`, `severity`, `rfc` and `as_of` must not be
    /// null.
    pub fn from_frame(df: &DataFrame) -> Result<Vec<Finding>, ColumnError> {
        let req = |n: &str| {
            df.column(n).map_err(|_| ColumnError::Missing {
                column: n.into(),
                found: df
                    .get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        };
        let s = |n: &str| req(n).and_then(strings);
        let d = |n: &str| req(n).and_then(decimals);
        let (code, sev, rfc, ped, rel, fr) = (
            s("check_code")?,
            s("severity")?,
            s("rfc")?,
            s("pedimento_id")?,
            s("related_pedimento_id")?,
            s("fraccion")?,
        );
        let partida = req("partida").and_then(ints)?;
        let (start, as_of) = (
            req("period_start").and_then(dates)?,
            req("as_of").and_then(dates)?,
        );
        let (qty, amount, igi, iva, ieps) = (
            d("quantity")?,
            d("amount")?,
            d("igi")?,
            d("iva")?,
            d("ieps")?,
        );
        let (msg, cit, ev) = (s("message")?, s("citation")?, s("evidence")?);
        let mensaje = match df.column("mensaje") {
            Ok(c) => strings(c)?,
            Err(_) => vec![None; df.height()],
        };
        let need = |v: &Option<String>, column: &str, row: usize| {
            v.clone().ok_or_else(|| ColumnError::Value {
                column: column.into(),
                row,
                value: "null".into(),
            })
        };
        (0..df.height())
            .map(|i| {
                Ok(Finding {
                    check_code: need(&code[i], "check_code", i)?,
                    severity: need(&sev[i], "severity", i)?,
                    rfc: need(&rfc[i], "rfc", i)?,
                    pedimento_id: ped[i].clone(),
                    partida: partida[i],
                    related_pedimento_id: rel[i].clone(),
                    fraccion: fr[i].clone(),
                    period_start: start[i],
                    as_of: as_of[i].ok_or_else(|| ColumnError::Value {
                        column: "as_of".into(),
                        row: i,
                        value: "null".into(),
                    })?,
                    quantity: qty[i],
                    amount: amount[i],
                    igi: igi[i],
                    iva: iva[i],
                    ieps: ieps[i],
                    message: msg[i].clone().unwrap_or_default(),
                    mensaje: mensaje[i].clone().unwrap_or_default(),
                    citation: cit[i].clone().unwrap_or_default(),
                    evidence: ev[i].clone().unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// A column that cannot be read as the values asked for.
#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    #[error("no column '{column}' (found: {found})")]
    Missing { column: String, found: String },
    #[error("row {row}, column {column}: unreadable value '{value}'")]
    Value {
        column: String,
        row: usize,
        value: String,
    },
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

fn unreadable(c: &Column, row: usize, value: &str) -> ColumnError {
    ColumnError::Value {
        column: c.name().to_string(),
        row,
        value: value.into(),
    }
}

/// A column as text (other types are cast to text: booleans, numbers).
pub fn strings(c: &Column) -> Result<Vec<Option<String>>, ColumnError> {
    let c = match c.dtype() {
        DataType::String => c.clone(),
        _ => c.cast(&DataType::String)?,
    };
    Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column as exact decimals: a Decimal(p, s) column through its scaled integers
/// (`Decimal::from_i128_with_scale`, no text on the way), an integer column as is, a
/// text column parsed; other types (floats, written by other tools) through their text.
pub fn decimals(c: &Column) -> Result<Vec<Option<Decimal>>, ColumnError> {
    match c.dtype() {
        DataType::Decimal(_, scale) => {
            let scale = *scale as u32;
            let s = c.as_materialized_series();
            s.decimal()?
                .physical()
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|m| {
                        Decimal::try_from_i128_with_scale(m, scale)
                            .map_err(|_| unreadable(c, i, &format!("{m}e-{scale}")))
                    })
                    .transpose()
                })
                .collect()
        }
        dt if dt.is_integer() => {
            let s = c.as_materialized_series().strict_cast(&DataType::Int64)?;
            Ok(s.i64()?.iter().map(|v| v.map(Decimal::from)).collect())
        }
        _ => strings(c)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(|t| {
                    Decimal::from_str(&t)
                        .or_else(|_| Decimal::from_scientific(&t))
                        .map_err(|_| unreadable(c, i, &t))
                })
                .transpose()
            })
            .collect(),
    }
}

/// A column as i32: integer columns exactly (a value out of range is an error), text
/// parsed.
pub fn ints(c: &Column) -> Result<Vec<Option<i32>>, ColumnError> {
    if c.dtype().is_integer() {
        let s = c.as_materialized_series().strict_cast(&DataType::Int32)?;
        return Ok(s.i32()?.iter().collect());
    }
    strings(c)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|t| t.parse().map_err(|_| unreadable(c, i, &t)))
                .transpose()
        })
        .collect()
}

/// A column as dates: Date columns through their day numbers; other types (text,
/// datetimes) from the `YYYY-MM-DD` at the start of their text.
pub fn dates(c: &Column) -> Result<Vec<Option<NaiveDate>>, ColumnError> {
    if c.dtype() == &DataType::Date {
        let s = c.as_materialized_series();
        return Ok(s
            .date()?
            .physical()
            .iter()
            .map(|v| v.map(crate::model::from_date32))
            .collect());
    }
    strings(c)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|t| {
                NaiveDate::parse_from_str(t.get(..10).unwrap_or(&t), "%Y-%m-%d")
                    .map_err(|_| unreadable(c, i, &t))
            })
            .transpose()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn sample() -> Finding {
        Finding {
            pedimento_id: Some("2024-240-3000-4000001".into()),
            partida: Some(3),
            period_start: Some(d("2023-02-01")),
            // 18 significant digits: more than an f64 holds exactly.
            quantity: Some(Decimal::from_str("1234567890123.45678").unwrap()),
            amount: Some(Decimal::from_str("9876543210987654.32").unwrap()),
            iva: Some(Decimal::from_str("-0.01").unwrap()),
            message: "Open past its plazo".into(),
            mensaje: "Abierta después de su plazo".into(),
            citation: "Ley Aduanera art. 108 fr. I".into(),
            evidence: "ledger_balances:2024-240-3000-4000001#3".into(),
            ..Finding::new("TEMP-EXPIRED", "high", "AAA010101AA1", d("2024-06-30"))
        }
    }

    #[test]
    fn frame_round_trip_is_exact_and_has_the_schema() {
        let f = sample();
        let df = Finding::to_frame([&f, &Finding::new("X", "low", "B", d("2024-01-01"))]).unwrap();
        assert_eq!(df.schema().as_ref(), &schema());
        let back = Finding::from_frame(&df).unwrap();
        assert_eq!(back[0], f);
        assert_eq!(back[0].amount.unwrap().to_string(), "9876543210987654.32");
        assert_eq!(back[0].quantity.unwrap().to_string(), "1234567890123.45678");
        assert_eq!(back[1].amount, None);
        // A frame that went through `conform` (the checks' path) reads the same.
        let conformed = conform(df, "test").unwrap();
        assert_eq!(Finding::from_frame(&conformed).unwrap()[0], f);
    }

    #[test]
    fn decimals_read_the_scaled_integers() {
        // 10^17 - 1 at scale 2 (the largest DECIMAL(18,2)): exact, no text on the way.
        let v: Int128Chunked = [Some(99_999_999_999_999_999i128), None, Some(-5)]
            .into_iter()
            .collect();
        let c: Column = v
            .with_name("amount".into())
            .into_decimal(18, 2)
            .unwrap()
            .into_series()
            .into();
        let got = decimals(&c).unwrap();
        assert_eq!(
            got,
            vec![
                Some(Decimal::from_str("999999999999999.99").unwrap()),
                None,
                Some(Decimal::from_str("-0.05").unwrap())
            ]
        );
        assert_eq!(got[2].unwrap().scale(), 2);
    }

    #[test]
    fn missing_mensaje_reads_empty_and_null_as_of_is_an_error() {
        let df = Finding::to_frame([&sample()]).unwrap();
        let old = df.drop("mensaje").unwrap();
        assert_eq!(Finding::from_frame(&old).unwrap()[0].mensaje, "");
        let no_rfc = df.drop("rfc").unwrap();
        assert!(matches!(
            Finding::from_frame(&no_rfc),
            Err(ColumnError::Missing { column, .. }) if column == "rfc"
        ));
        let mut nulls = df.clone();
        nulls
            .with_column(Column::full_null("as_of".into(), 1, &DataType::Date))
            .unwrap();
        assert!(matches!(
            Finding::from_frame(&nulls),
            Err(ColumnError::Value { column, row: 0, .. }) if column == "as_of"
        ));
    }

    #[test]
    fn serde_keeps_decimals_and_dates_as_text() {
        let f = sample();
        let j = serde_json::to_string(&f).unwrap();
        assert!(j.contains(r#""amount":"9876543210987654.32""#), "{j}");
        assert!(j.contains(r#""period_start":"2023-02-01""#), "{j}");
        assert!(j.contains(r#""igi":null"#), "{j}");
        let back: Finding = serde_json::from_str(&j).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn window_end_of_certification_findings() {
        let mut f = sample();
        assert_eq!(f.window_end(), None);
        f.check_code = "CERT-RATIO".into();
        f.evidence = "cert_ratio_series:AAA010101AA1@2024-01-31".into();
        assert_eq!(f.window_end(), Some(d("2024-01-31")));
        f.check_code = "CERT-A".into();
        f.evidence = String::new();
        f.message = "S-b: window 2023-01-01..2023-12-31 failed".into();
        assert_eq!(f.window_end(), Some(d("2023-12-31")));
        f.message = "no dates".into();
        assert_eq!(f.window_end(), Some(f.as_of));
    }
}
