//! Number formatting for humans, shared by every layer (findings messages, reports):
//! thousands separators and fixed decimals in the es-MX/en-US style `1,234,567.89`.

/// `1234567.891` → `1,234,567.891`; keeps the sign and the decimals as given.
pub fn thousands(s: &str) -> String {
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Money with two decimals and separators: `$1,234.50`.
pub fn mxn(d: rust_decimal::Decimal) -> String {
    let mut r = d.round_dp(2);
    r.rescale(2);
    let t = thousands(&r.to_string());
    match t.strip_prefix('-') {
        Some(pos) => format!("-${pos}"),
        None => format!("${t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn separators() {
        assert_eq!(thousands("1234567.891"), "1,234,567.891");
        assert_eq!(thousands("-1000"), "-1,000");
        assert_eq!(thousands("999"), "999");
        assert_eq!(
            mxn(rust_decimal::Decimal::new(123456789, 2)),
            "$1,234,567.89"
        );
        assert_eq!(mxn(rust_decimal::Decimal::ZERO), "$0.00");
        assert_eq!(mxn(rust_decimal::Decimal::new(-15, 1)), "-$1.50");
    }
}
