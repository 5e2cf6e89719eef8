//! Business days in Mexico: Saturdays, Sundays and the official rest days of Ley Federal
//! del Trabajo art. 74 are not business days (the day count that Código Fiscal de la
//! Federación art. 12 applies to fiscal and customs deadlines counted in days).
//!
//! Not included: the SAT's own non-working periods (general vacation periods announced
//! each year in the Resolución Miscelánea Fiscal) and days the authority declares
//! inhábiles by decree; a deadline computed here can be later, never earlier, than SAT's.

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

/// `d` plus `m` calendar months (the day clamped to the month's end).
pub fn add_months(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_add_months(Months::new(m)).unwrap()
}

/// The n-th `weekday` of `month` in `year` (n from 1).
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
    let offset = (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days((offset + 7 * (n - 1)) as i64)
}

/// Official rest days of `year` (Ley Federal del Trabajo art. 74, as amended in 2006 for
/// the Monday holidays, and in 2023 for the transmission of the federal executive, which
/// moved to October 1st from 2024).
pub fn holidays(year: i32) -> Vec<NaiveDate> {
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("valid date");
    let mut v = vec![
        ymd(1, 1),
        nth_weekday(year, 2, Weekday::Mon, 1),
        nth_weekday(year, 3, Weekday::Mon, 3),
        ymd(5, 1),
        ymd(9, 16),
        nth_weekday(year, 11, Weekday::Mon, 3),
        ymd(12, 25),
    ];
    // Transmission of the federal executive, every six years.
    if year >= 2024 && (year - 2024) % 6 == 0 {
        v.push(ymd(10, 1));
    } else if year < 2024 && (2018 - year) % 6 == 0 {
        v.push(ymd(12, 1));
    }
    v.sort();
    v
}

pub fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays(d.year()).contains(&d)
}

/// The first business day on or after `d`.
pub fn next_business_day(mut d: NaiveDate) -> NaiveDate {
    while !is_business_day(d) {
        d = d.succ_opt().expect("date in range");
    }
    d
}

/// The date `n` business days before `d` (not counting `d` itself): the first day of a
/// window "within the n business days before `d`".
pub fn business_days_before(d: NaiveDate, n: i64) -> NaiveDate {
    let mut left = n;
    let mut x = d;
    while left > 0 {
        x = x.pred_opt().expect("date in range");
        if is_business_day(x) {
            left -= 1;
        }
    }
    x
}

/// The `n`-th business day after `d` (not counting `d` itself): the last day of a window
/// "within the n business days after `d`"; `d` itself when `n` is 0.
pub fn business_days_after(d: NaiveDate, n: u32) -> NaiveDate {
    let mut x = d;
    for _ in 0..n {
        x = next_business_day(x.succ_opt().expect("date in range"));
    }
    x
}

/// Business days from `a` (exclusive) to `b` (inclusive); 0 when `b <= a`.
pub fn business_days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    let mut n = 0;
    let mut x = a;
    while x < b {
        x = x.succ_opt().expect("date in range");
        if is_business_day(x) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn holidays_of_known_years() {
        // 2024: Feb 5 (1st Monday), Mar 18 (3rd Monday), Oct 1 (transmission), Nov 18.
        let h = holidays(2024);
        for x in [
            "2024-01-01",
            "2024-02-05",
            "2024-03-18",
            "2024-05-01",
            "2024-09-16",
        ] {
            assert!(h.contains(&d(x)), "{x}");
        }
        assert!(h.contains(&d("2024-10-01")) && h.contains(&d("2024-11-18")));
        assert!(holidays(2018).contains(&d("2018-12-01")) && !h.contains(&d("2024-12-01")));
        assert_eq!(holidays(2022).len(), 7);
    }

    #[test]
    fn business_day_arithmetic() {
        // Friday 2022-12-23 -> next business day after Sunday the 25th is Monday the 26th.
        assert_eq!(next_business_day(d("2022-12-24")), d("2022-12-26"));
        assert_eq!(next_business_day(d("2022-12-23")), d("2022-12-23"));
        // 5 business days before Monday 2024-03-25: Fri 22, Thu 21, Wed 20, Tue 19,
        // (Mon 18 is a holiday), Fri 15.
        assert_eq!(business_days_before(d("2024-03-25"), 5), d("2024-03-15"));
        assert_eq!(business_days_between(d("2024-03-15"), d("2024-03-25")), 5);
    }
}
