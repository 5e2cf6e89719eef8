//! Number formatting for humans: thousands separators, fixed decimals (es-MX/en-US
//! style `1,234,567.89`, which is what Mexican peso amounts use).

use polars::prelude::AnyValue;

pub use crate::model::numbers::{mxn, thousands};

/// Any numeric polars value with thousands separators.
pub fn any_number(v: &AnyValue) -> String {
    thousands(&v.to_string())
}

/// The unit name of an Anexo 22 Apéndice 7 clave (`1` → `KILO`), if the catalogue has it.
pub fn unit_name(umt: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static U: OnceLock<HashMap<String, String>> = OnceLock::new();
    U.get_or_init(|| {
        let mut r = csv::Reader::from_reader(
            include_str!("../catalogs/apendice7_unidades_medida.csv").as_bytes(),
        );
        r.records()
            .flatten()
            .filter_map(|x| Some((x.get(0)?.trim().to_string(), x.get(1)?.trim().to_string())))
            .collect()
    })
    .get(umt.trim())
    .map(String::as_str)
}

/// Optional money: empty when null.
pub fn mxn_opt(d: Option<rust_decimal::Decimal>) -> String {
    d.map(mxn).unwrap_or_default()
}

/// A quantity for humans: trailing zeros dropped, thousands separators (`1,250.5`).
pub fn qty(d: rust_decimal::Decimal) -> String {
    thousands(&d.normalize().to_string())
}

pub fn qty_opt(d: Option<rust_decimal::Decimal>) -> String {
    d.map(qty).unwrap_or_default()
}

/// A percentage with one decimal: `63.4%`.
pub fn pct(d: rust_decimal::Decimal) -> String {
    let mut r = d.round_dp(1);
    r.rescale(1);
    format!("{r}%")
}

/// Escapes text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text for a Markdown table cell (pipes, newlines, HTML-significant `<`, `&`).
pub fn md(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod escape_tests {
    use super::*;
    #[test]
    fn escapes() {
        assert_eq!(
            html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(md("a|b\nc<d"), "a\\|b c&lt;d");
        assert_eq!(qty(rust_decimal::Decimal::new(125050000, 5)), "1,250.5");
        assert_eq!(pct(rust_decimal::Decimal::new(63449, 3)), "63.4%");
    }
}
