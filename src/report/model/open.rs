//! Open temporary imports at the as-of date: age buckets and the value of an open
//! quantity.

use crate::report::load::Balance;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Whole months from `d` to `as_of` (a month counts once its day-of-month is reached).
pub fn months_between(d: NaiveDate, as_of: NaiveDate) -> i32 {
    let mut m = (as_of.year() - d.year()) * 12 + as_of.month() as i32 - d.month() as i32;
    if as_of.day() < d.day() {
        m -= 1;
    }
    m
}

/// Buckets of days from the as-of date to the end of the plazo (negative: overdue).
pub const AGE_BUCKETS: [&str; 8] = [
    "overdue > 90 days",
    "overdue 31-90 days",
    "overdue 1-30 days",
    "due in 0-30 days",
    "due in 31-60 days",
    "due in 61-90 days",
    "due in > 90 days",
    "plazo unknown",
];

/// Bucket of a plazo end `vence` seen at `as_of` (None: plazo unknown).
pub fn age_bucket(vence: Option<NaiveDate>, as_of: NaiveDate) -> usize {
    let Some(v) = vence else {
        return 7;
    };
    match (v - as_of).num_days() {
        d if d < -90 => 0,
        d if d < -30 => 1,
        d if d < 0 => 2,
        d if d <= 30 => 3,
        d if d <= 60 => 4,
        d if d <= 90 => 5,
        _ => 6,
    }
}

pub fn is_activo_fijo(b: &Balance) -> bool {
    b.tipo_bien
        .as_deref()
        .is_some_and(|t| t.to_lowercase().replace(' ', "_") == "activo_fijo")
}

/// Value of an open quantity: valor_aduana × open / imported, rounded to cents.
pub fn open_value(b: &Balance, open: Decimal) -> Decimal {
    if b.imported.is_zero() {
        return Decimal::ZERO;
    }
    (b.valor_aduana * open / b.imported).round_dp(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Period;
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    #[test]
    fn months_and_buckets() {
        assert_eq!(months_between(d("2024-01-15"), d("2024-07-14")), 5);
        assert_eq!(months_between(d("2024-01-15"), d("2024-07-15")), 6);
        let a = d("2024-06-30");
        assert_eq!(age_bucket(Some(d("2024-03-01")), a), 0);
        assert_eq!(age_bucket(Some(d("2024-06-29")), a), 2);
        assert_eq!(age_bucket(Some(d("2024-06-30")), a), 3);
        assert_eq!(age_bucket(Some(d("2024-08-29")), a), 4);
        assert_eq!(age_bucket(Some(d("2035-12-31")), a), 6);
        assert_eq!(age_bucket(None, a), 7);
        assert_eq!(
            Period {
                from: 2019,
                to: 2024
            }
            .label(),
            "2019-2024"
        );
        assert_eq!(
            Period {
                from: 2024,
                to: 2024
            }
            .label(),
            "2024"
        );
    }
}
