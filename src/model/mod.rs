//! Domain model: pedimento keys, RFC, dates, exact decimals and the vendored catalogs.
//!
//! Everything that parses a field lives here so that the CSV and Data Stage readers
//! validate the same way and report the same reasons.

pub mod calendar;
pub mod catalog;
mod field_error;
mod key;
pub mod lang;
pub mod numbers;
pub mod phrases;
pub mod progress;
pub mod reject;
pub mod rng;
pub mod text;

pub use key::{PedimentoKey, PedimentoNumber, fixed_digits};
pub use reject::{FieldError, RejectKind, RejectReason, Separator};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::str::FromStr;

pub type FieldResult<T> = Result<T, FieldError>;

/// `char::is_whitespace` of the ASCII range: `\t`, `\n`, VT, FF, `\r` and space (not
/// `u8::is_ascii_whitespace`, which leaves out VT).
pub fn ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// `str::trim`, without decoding chars when both ends are ASCII other than whitespace
/// (nearly every field: std's trim was ~2.7% of a 10M ingest's CPU).
pub fn trim(s: &str) -> &str {
    // A non-ASCII byte may begin or end a Unicode space (NBSP, U+2000...): std decides.
    let plain = |b: &u8| b.is_ascii() && !ascii_space(*b);
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if plain(f) && plain(l) => s,
        _ => s.trim(),
    }
}

/// Left-pads a numeric code with zeros to `width` (Data Stage drops leading zeros);
/// rejects non-digits and over-long values.
pub fn digits(s: &str, width: usize, what: &str) -> FieldResult<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::Empty { what: what.into() });
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::NonDigit {
            what: what.into(),
            value: t.into(),
        });
    }
    if t.len() > width {
        return Err(FieldError::TooManyDigits {
            what: what.into(),
            value: t.into(),
            width,
        });
    }
    Ok(format!("{t:0>width$}"))
}

/// Tipo de operación: 1 importación, 2 exportación (Anexo 22, encabezado campo 2).
pub fn tipo_operacion(s: &str) -> FieldResult<i32> {
    match s.trim() {
        "1" => Ok(1),
        "2" => Ok(2),
        other => Err(FieldError::TipoOperacion {
            value: other.into(),
        }),
    }
}

/// Clave de pedimento, uppercased, validated against Apéndice 2 (plus legacy claves).
pub fn clave(s: &str) -> FieldResult<compact_str::CompactString> {
    let c = upper(s.trim());
    if catalog::claves().contains(c.as_str()) {
        Ok(c)
    } else {
        Err(FieldError::UnknownClave { clave: c.into() })
    }
}

/// `s` uppercased as inline text: in place for ASCII (the usual code or RFC: no
/// allocation), through `str::to_uppercase` otherwise.
fn upper(s: &str) -> compact_str::CompactString {
    if s.is_ascii() {
        let mut t = compact_str::CompactString::from(s);
        t.as_mut_str().make_ascii_uppercase();
        t
    } else {
        s.to_uppercase().into()
    }
}

/// Partida number: a whole number from 1 (Data Stage SecuenciaFraccion, CSV `partida`).
pub fn partida_number(s: &str) -> FieldResult<i32> {
    s.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| FieldError::PartidaNumber { value: s.into() })
}

/// Fracción arancelaria: 8 digits (TIGIE). Dots are accepted and removed (`8471.30.01`).
pub fn fraccion(s: &str) -> FieldResult<String> {
    let t: String = s.trim().chars().filter(|c| *c != '.').collect();
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::Fraccion {
            value: s.trim().into(),
        });
    }
    Ok(t)
}

/// RFC: 12 characters (persona moral) or 13 (persona física): 3 or 4 letters
/// (A-Z, Ñ, &), a YYMMDD date, a 3-character homoclave.
pub fn rfc(s: &str) -> FieldResult<compact_str::CompactString> {
    let t = upper(s.trim());
    // At most 13 characters are looked at: a longer RFC is a length error.
    let mut chars = ['\0'; 13];
    let mut n = 0;
    for c in t.chars() {
        if n < chars.len() {
            chars[n] = c;
        }
        n += 1;
    }
    if n != 12 && n != 13 {
        return Err(FieldError::RfcLength {
            rfc: t.into(),
            len: n,
        });
    }
    let chars = &chars[..n];
    let letters = n - 9;
    let ok_letters = chars[..letters]
        .iter()
        .all(|c| c.is_ascii_uppercase() || *c == 'Ñ' || *c == '&');
    let date = &chars[letters..letters + 6];
    let two = |d: &[char]| {
        d.iter()
            .fold(0, |a, c| a * 10 + c.to_digit(10).unwrap_or(0))
    };
    let ok_date = date.iter().all(|c| c.is_ascii_digit()) && {
        let (mm, dd) = (two(&date[2..4]), two(&date[4..6]));
        (1..=12).contains(&mm) && (1..=31).contains(&dd)
    };
    let ok_homo = chars[letters + 6..]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !(ok_letters && ok_date && ok_homo) {
        return Err(FieldError::RfcShape { rfc: t.into() });
    }
    Ok(t)
}

/// Parses a date in any format the Data Stage exports use (datastage-layout.md):
/// `YYYY-MM-DD[ HH:MM:SS]`, `YYYY/MM/DD[ HH:MM:SS]`, `DD/MM/YYYY`, `DDMMYYYY`,
/// `YYYYMMDD[hhmmss]`. The time part is dropped (dates are Date32 in the dataset).
pub fn date(s: &str) -> FieldResult<NaiveDate> {
    let t = trim(s);
    if t.is_empty() {
        return Err(FieldError::EmptyDate);
    }
    let head = t.split([' ', 'T']).next().unwrap_or(t);
    // Fast path for the common `YYYY-MM-DD`: no allocation.
    let b = head.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
            })
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
            && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
            && (1900..=2200).contains(&date.year())
        {
            return Ok(date);
        }
    }
    let parsed = if head.len() == 10 && (head.as_bytes()[4] == b'-' || head.as_bytes()[4] == b'/') {
        NaiveDate::parse_from_str(&head.replace('/', "-"), "%Y-%m-%d").ok()
    } else if head.len() == 10 && (head.as_bytes()[2] == b'/' || head.as_bytes()[2] == b'-') {
        NaiveDate::parse_from_str(&head.replace('-', "/"), "%d/%m/%Y").ok()
    } else if head.bytes().all(|b| b.is_ascii_digit()) && (head.len() == 8 || head.len() == 14) {
        // YYYYMMDD[hhmmss] when it starts with a plausible year, else DDMMYYYY.
        let y: i32 = head[..4].parse().unwrap_or(0);
        if head.len() == 14 || (1900..=2200).contains(&y) {
            NaiveDate::parse_from_str(&head[..8], "%Y%m%d").ok()
        } else {
            NaiveDate::parse_from_str(head, "%d%m%Y").ok()
        }
    } else {
        None
    };
    match parsed {
        Some(d) if (1900..=2200).contains(&d.year()) => Ok(d),
        _ => Err(FieldError::Date { value: t.into() }),
    }
}

/// The time of day a date field carries (`YYYY-MM-DD hh:mm[:ss]`, `...Thh:mm:ss`,
/// `YYYYMMDDhhmmss`), as `hh:mm:ss`; None when the field has no time or the time is not
/// valid (the date itself is parsed by [`date`]). Data Stage's FechaPagoReal carries the
/// moment of payment, which orders same-day operations (PEPS).
pub fn time_of(s: &str) -> Option<compact_str::CompactString> {
    let t = trim(s);
    let b = t.as_bytes();
    // Two digits at `i` (None when either is not a digit).
    let two = |i: usize| {
        let (d1, d2) = (
            b.get(i)?.wrapping_sub(b'0'),
            b.get(i + 1)?.wrapping_sub(b'0'),
        );
        (d1 < 10 && d2 < 10).then_some(u32::from(d1) * 10 + u32::from(d2))
    };
    // `YYYY-MM-DD hh:mm:ss`, the Data Stage export's shape, read in place; any other
    // shape (or a non-digit there) is split as below.
    let fixed = (t.len() == 19 && matches!(b[10], b' ' | b'T') && b[13] == b':' && b[16] == b':')
        .then(|| Some((two(11)?, two(14)?, two(17)?)))
        .flatten();
    let hms: (u32, u32, u32) = if let Some(hms) = fixed {
        hms
    } else if t.len() == 14 && b.iter().all(u8::is_ascii_digit) {
        (two(8)?, two(10)?, two(12)?)
    } else {
        let rest = trim(t.split_once([' ', 'T'])?.1);
        let rest = rest.split(['.', 'Z', '+']).next().unwrap_or(rest);
        let mut it = rest.split(':').map(|p| p.trim().parse::<u32>().ok());
        let h = it.next()??;
        let m = it.next()??;
        let sec = it.next().unwrap_or(Some(0))?;
        if it.next().is_some() {
            return None;
        }
        (h, m, sec)
    };
    let (h, m, sec) = hms;
    if !(h < 24 && m < 60 && sec < 60) {
        return None;
    }
    // `hh:mm:ss` written digit by digit (`format!` was most of this function's time).
    let mut out = compact_str::CompactString::default();
    for (k, v) in [h, m, sec].into_iter().enumerate() {
        if k > 0 {
            out.push(':');
        }
        out.push(char::from(b'0' + (v / 10) as u8));
        out.push(char::from(b'0' + (v % 10) as u8));
    }
    Some(out)
}

/// Parses an exact decimal. Accepts thousands commas (`1,234.50`) and a leading sign;
/// rejects anything else (no exponents, no NaN). Decimals beyond `scale` are accepted
/// only when they are zeros (Data Stage pads with zeros: `100.9900` is `100.99`); a
/// nonzero digit beyond the column's scale (`100.999` in DECIMAL(18,2)) is an error,
/// never a silent rounding.
pub fn decimal(s: &str, scale: u32) -> FieldResult<Decimal> {
    let t = trim(s);
    if let Some(d) = plain_decimal(t, scale) {
        return Ok(d);
    }
    decimal_slow(t, scale)
}

/// The common case of [`decimal`] without `Decimal::from_str` (a tenth of a 10M
/// ingest's parse): `-?digits(.digits)?` with at most `scale` decimals, or more that are
/// all zeros (dropped: the value is the same), in range. The result is the one
/// `decimal_slow` gives (same value and scale); anything else (commas, `+`, nonzero
/// extra decimals, overflow, negative zero, errors) returns None and goes there.
fn plain_decimal(t: &str, scale: u32) -> Option<Decimal> {
    let (neg, body) = match t.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        b => (false, b),
    };
    // One pass over the bytes, the digits kept in a u64 (a DECIMAL(18, s) fits; an i128
    // multiply per digit and a `memchr` per field were most of this function's time).
    // At most 18 significant digits here: more go to the general parser.
    let mut m: u64 = 0;
    let mut digits = 0u32;
    let mut push = |c: u8| {
        digits += 1;
        m = m * 10 + u64::from(c - b'0');
        digits <= 18
    };
    let mut it = body.iter();
    let mut int_len = 0;
    let mut dot = false;
    for &c in it.by_ref() {
        match c {
            b'0'..=b'9' if push(c) => int_len += 1,
            b'.' => {
                dot = true;
                break;
            }
            _ => return None,
        }
    }
    if int_len == 0 {
        return None;
    }
    let mut frac_len = 0u32;
    let mut frac_seen = false;
    for &c in it {
        frac_seen = true;
        match c {
            // Padding zeros beyond the scale are dropped (the value is the same); a
            // nonzero extra digit is the general parser's error.
            b'0' if frac_len == scale => {}
            b'0'..=b'9' if frac_len < scale && push(c) => frac_len += 1,
            _ => return None,
        }
    }
    if dot && !frac_seen {
        return None;
    }
    // In range of DECIMAL(18, scale): m * 10^(scale - decimals) < 10^18.
    let scaled = 10u64
        .checked_pow(scale - frac_len)
        .and_then(|p| m.checked_mul(p))?;
    if scaled >= 1_000_000_000_000_000_000 || (neg && m == 0) {
        return None;
    }
    let m = m as i64;
    Some(Decimal::new(if neg { -m } else { m }, frac_len))
}

fn decimal_slow(t: &str, scale: u32) -> FieldResult<Decimal> {
    if t.is_empty() {
        return Err(FieldError::EmptyNumber);
    }
    let cleaned: std::borrow::Cow<str> = if t.contains(',') {
        // Only thousands separators are allowed: groups of 3 after the first.
        let int_part = t.split('.').next().unwrap_or("");
        let groups: Vec<&str> = int_part.trim_start_matches(['-', '+']).split(',').collect();
        let ok = groups.len() > 1
            && !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(FieldError::MisplacedComma { value: t.into() });
        }
        std::borrow::Cow::Owned(t.replace(',', ""))
    } else {
        std::borrow::Cow::Borrowed(t)
    };
    let body = cleaned.trim_start_matches(['-', '+']);
    if body.is_empty()
        || body.matches('.').count() > 1
        || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || body == "."
    {
        return Err(FieldError::NotANumber { value: t.into() });
    }
    let d = Decimal::from_str(&cleaned).map_err(|_| FieldError::NotANumber { value: t.into() })?;
    if d.scale() > scale {
        let r = d.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::ToZero);
        if r != d {
            return Err(FieldError::TooManyDecimals {
                value: t.into(),
                scale,
            });
        }
    }
    let d = d.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointNearestEven);
    if d.abs() >= max_for(scale) {
        return Err(FieldError::TooLarge {
            value: t.into(),
            scale,
        });
    }
    Ok(d)
}

/// Largest magnitude + 1 that fits DECIMAL(18, scale).
pub fn max_for(scale: u32) -> Decimal {
    Decimal::from_i128_with_scale(10i128.pow(18), scale)
}

/// Decimal as the scaled i128 Parquet stores for DECIMAL(p, scale).
pub fn to_scaled_i128(d: Decimal, scale: u32) -> i128 {
    // Parsed values already carry their column's scale: no rescale to do.
    if d.scale() == scale {
        return d.mantissa();
    }
    let mut x = d;
    x.rescale(scale);
    x.mantissa()
}

/// Scales of the money/quantity columns (fixed per column, see docs/schema.md).
pub const MONEY_SCALE: u32 = 2;
pub const QTY_SCALE: u32 = 5;
pub const RATE_SCALE: u32 = 6;

pub fn optional<T>(s: &str, f: impl Fn(&str) -> FieldResult<T>) -> FieldResult<Option<T>> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        f(s).map(Some)
    }
}

/// Days since 1970-01-01 (Arrow Date32).
pub fn date32(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

pub fn from_date32(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn time_of_date_fields() {
        assert_eq!(time_of("2022-01-10 11:48:05").as_deref(), Some("11:48:05"));
        assert_eq!(time_of("2022/01/10 9:05").as_deref(), Some("09:05:00"));
        assert_eq!(
            time_of("2022-01-10T13:58:00.000").as_deref(),
            Some("13:58:00")
        );
        assert_eq!(time_of("20220110135800").as_deref(), Some("13:58:00"));
        assert_eq!(time_of("2022-01-10"), None);
        assert_eq!(time_of("2022-01-10 25:00:00"), None);
        assert_eq!(time_of("10012022"), None);
        assert_eq!(time_of("2022-01-10  1:48:05").as_deref(), Some("01:48:05"));
        assert_eq!(time_of("2022-01-10T23:59:59").as_deref(), Some("23:59:59"));
        assert_eq!(time_of("2022-01-10 23:60:00"), None);
    }

    proptest! {
        /// `trim` is `str::trim`, for ASCII and Unicode spaces at either end.
        #[test]
        fn trim_is_str_trim(t in "[ \t\r\n\u{0B}\u{0C}\u{A0}\u{2003}a1é|]{0,6}") {
            prop_assert_eq!(trim(&t), t.trim());
        }

        /// The fast path gives what the general parser gives, value and scale.
        #[test]
        fn plain_decimal_agrees_with_the_general_parser(
            t in "[-+]?[0-9]{0,20}(\\.[0-9]{0,8})?",
            scale in prop_oneof![Just(2u32), Just(5), Just(6)],
        ) {
            if let Some(d) = plain_decimal(&t, scale) {
                let slow = decimal_slow(&t, scale).expect("the general parser accepts it");
                prop_assert_eq!(d, slow);
                prop_assert_eq!(d.scale(), slow.scale());
                prop_assert_eq!(d.to_string(), slow.to_string());
            }
        }

        /// `rfc` (inline text, no per-call allocation) accepts and rejects what the
        /// char-vector version it replaced did, ASCII or not.
        #[test]
        fn rfc_is_the_char_vector_rfc(t in prop_oneof![
            "[ aA&Ññ0-9Zé]{0,15}",
            " ?[a-zA-Z&Ñé1]{3,4}[0-1][0-9][0-3][0-9][0-9]{2}[A-Z0-9ñ_]{3} ?",
        ]) {
            prop_assert_eq!(rfc(&t).ok().map(String::from), rfc_reference(&t).ok());
            prop_assert_eq!(rfc(&t).err(), rfc_reference(&t).err());
        }
    }

    /// The RFC check before inline text (a `Vec<char>` and a date `String` per call).
    fn rfc_reference(s: &str) -> FieldResult<String> {
        let t = s.trim().to_uppercase();
        let chars: Vec<char> = t.chars().collect();
        let n = chars.len();
        if n != 12 && n != 13 {
            return Err(FieldError::RfcLength { rfc: t, len: n });
        }
        let letters = n - 9;
        let ok_letters = chars[..letters]
            .iter()
            .all(|c| c.is_ascii_uppercase() || *c == 'Ñ' || *c == '&');
        let date: String = chars[letters..letters + 6].iter().collect();
        let ok_date = date.bytes().all(|b| b.is_ascii_digit()) && {
            let mm: u32 = date[2..4].parse().unwrap_or(0);
            let dd: u32 = date[4..6].parse().unwrap_or(0);
            (1..=12).contains(&mm) && (1..=31).contains(&dd)
        };
        let ok_homo = chars[letters + 6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !(ok_letters && ok_date && ok_homo) {
            return Err(FieldError::RfcShape { rfc: t });
        }
        Ok(t)
    }

    #[test]
    fn plain_decimal_takes_the_common_shapes_only() {
        assert_eq!(plain_decimal("1234.50", 2).unwrap().to_string(), "1234.50");
        assert_eq!(plain_decimal("-007.5", 2).unwrap().to_string(), "-7.5");
        assert_eq!(plain_decimal("12", 5).unwrap().scale(), 0);
        assert_eq!(plain_decimal("1.2300", 2).unwrap().to_string(), "1.23");
        for t in [
            "1,234.50",
            "+1",
            "1.234",
            "-0",
            "1.",
            ".5",
            "",
            "1e3",
            "10000000000000000",
        ] {
            assert!(plain_decimal(t, 2).is_none(), "{t}");
        }
        assert_eq!(
            plain_decimal("9999999999999999.99", 2).unwrap().to_string(),
            "9999999999999999.99"
        );
        assert!(decimal("10000000000000000.00", 2).is_err());
    }

    #[test]
    fn key_roundtrip_and_padding() {
        let k = PedimentoKey::new(2024, "240", "3953", "6000098").unwrap();
        assert_eq!(k.id(), "2024-240-3953-6000098");
        assert_eq!(PedimentoKey::parse("24 240 3953 6000098").unwrap(), k);
        assert_eq!(
            PedimentoKey::new(2024, "70", "12", "1").unwrap().id(),
            "2024-070-0012-0000001"
        );
        assert!(PedimentoKey::new(2024, "2400", "3953", "1").is_err());
        assert!(PedimentoKey::parse("2024-240-3953").is_err());
    }

    #[test]
    fn rfc_rules() {
        assert_eq!(rfc("abc010203xy1").unwrap(), "ABC010203XY1");
        assert!(rfc("ABCD010203XY1").is_ok());
        assert!(rfc("AB1010203XY1").is_err());
        assert!(rfc("ABC011303XY1").is_err(), "month 13");
        assert!(rfc("ABC0102").is_err());
    }

    #[test]
    fn dates_in_all_formats() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        for s in [
            "2026-01-05 17:48:15",
            "2026/01/05 17:48:15",
            "05/01/2026",
            "05012026",
            "20260105174815",
            "20260105",
            "2026-01-05",
        ] {
            assert_eq!(date(s).unwrap(), d, "{s}");
        }
        assert!(date("2026-02-30").is_err());
        assert!(date("yesterday").is_err());
        assert_eq!(date("2024-02-29").unwrap().day(), 29);
    }

    #[test]
    fn decimals_exact() {
        assert_eq!(decimal("18.00120", 5).unwrap().to_string(), "18.00120");
        assert_eq!(
            decimal("1,234,567.890", 2).unwrap().to_string(),
            "1234567.89"
        );
        assert_eq!(decimal("100.9900", 2).unwrap().to_string(), "100.99");
        // Nonzero digits beyond the scale are an error, never a rounding.
        for t in ["1,234,567.891", "100.999", "0.000001", "-0.001"] {
            let e = decimal(t, 2).unwrap_err().to_string();
            assert!(e.contains("more than 2 decimals"), "{t}: {e}");
        }
        assert!(decimal("0.0000001", 6).is_err());
        assert_eq!(decimal("-0.5", 2).unwrap().to_string(), "-0.5");
        assert!(decimal("12,34", 2).is_err());
        assert!(decimal("1e5", 2).is_err());
        assert!(decimal("abc", 2).is_err());
        assert!(decimal("", 2).is_err());
        assert_eq!(to_scaled_i128(decimal("0.10", 2).unwrap(), 2), 10);
        assert!(decimal("99999999999999999999", 2).is_err());
    }

    #[test]
    fn fraccion_rules() {
        assert_eq!(fraccion("8471.30.01").unwrap(), "84713001");
        assert!(fraccion("847130").is_err());
    }
}
