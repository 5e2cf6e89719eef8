//! The certification page at a glance: headline of the return-ratio series and the
//! verdict per modality.

use super::{CertHeadline, ModalitySummary};
use crate::report::load::{Assessment, RatioPoint};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// [`CertHeadline`] from a company's ratio series (sorted by month), up to `as_of`.
pub fn cert_headline(points: &[RatioPoint], as_of: NaiveDate) -> Option<CertHeadline> {
    let cutoff = as_of.format("%Y-%m").to_string();
    let pts: Vec<&RatioPoint> = points
        .iter()
        .filter(|p| p.month <= cutoff && p.ratio_pct.is_some())
        .collect();
    let last = *pts.last()?;
    let ratio = last.ratio_pct?;
    let threshold = last.threshold_pct.unwrap_or(Decimal::from(60));
    let pace = (pts.len() >= 4).then(|| {
        let before = pts[pts.len() - 4].ratio_pct.unwrap_or_default();
        ((ratio - before) / Decimal::from(3)).round_dp(2)
    });
    let months_to_failure = if ratio < threshold {
        Some(0)
    } else {
        match pace {
            Some(p) if p < Decimal::ZERO => {
                let m = ((ratio - threshold) / -p).ceil();
                Some(
                    rust_decimal::prelude::ToPrimitive::to_i64(&m)
                        .unwrap_or(i64::MAX)
                        .max(1),
                )
            }
            _ => None,
        }
    };
    Some(CertHeadline {
        month: last.month.clone(),
        ratio,
        threshold,
        shortfall: last.shortfall.filter(|_| ratio < threshold),
        pace,
        months_to_failure,
        partial: last.full_window == Some(false) || last.status.as_deref() == Some("partial"),
    })
}

/// One summary per modality found in `rows` (A first). AA and AAA are decided by their
/// own rows plus the A rows, as the rule builds them on A. Manual rows (no data can prove
/// them) do not decide the verdict but are counted: their evidence must be attached.
pub fn modality_summaries(rows: &[Assessment]) -> Vec<ModalitySummary> {
    let mut mods: Vec<String> = vec![];
    for r in rows {
        if !mods.contains(&r.modality) {
            mods.push(r.modality.clone());
        }
    }
    mods.sort_by_key(|m| (m.len(), m.clone()));
    mods.iter()
        .map(|m| {
            let mut s = ModalitySummary {
                modality: m.clone(),
                verdict: "met",
                pass: 0,
                fail: 0,
                missing: 0,
                manual: 0,
                na: 0,
            };
            for r in rows
                .iter()
                .filter(|r| &r.modality == m || (m != "A" && r.modality == "A"))
            {
                match r.status.as_str() {
                    "pass" => s.pass += 1,
                    "fail" => s.fail += 1,
                    "unknown" if r.basis == "manual" => s.manual += 1,
                    "unknown" => s.missing += 1,
                    _ => s.na += 1,
                }
            }
            s.verdict = if s.fail > 0 {
                "not met"
            } else if s.missing > 0 {
                "not verified"
            } else {
                "met"
            };
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn pt(month: &str, r: i64) -> RatioPoint {
        RatioPoint {
            rfc: "X".into(),
            month: month.into(),
            ratio_pct: Some(Decimal::from(r)),
            numerator: None,
            denominator: None,
            threshold_pct: Some(Decimal::from(80)),
            status: None,
            shortfall: Some(Decimal::from(1000)),
            full_window: Some(true),
        }
    }
    #[test]
    fn cert_headline_pace_and_months_to_failure() {
        let s = [
            pt("2024-01", 95),
            pt("2024-02", 93),
            pt("2024-03", 92),
            pt("2024-04", 89),
            pt("2024-05", 70),
        ];
        // As of April: pace (89 - 95) / 3 = -2 pp/month; 9 pp above 80 → 5 months.
        let h = cert_headline(&s, d("2024-04-30")).unwrap();
        assert_eq!(h.month, "2024-04");
        assert_eq!(h.pace, Some(Decimal::from(-2)));
        assert_eq!(h.months_to_failure, Some(5));
        assert_eq!(h.shortfall, None, "no shortfall above the threshold");
        // As of May: below 80 → already failing, shortfall shown.
        let h = cert_headline(&s, d("2024-05-31")).unwrap();
        assert_eq!(h.months_to_failure, Some(0));
        assert_eq!(h.shortfall, Some(Decimal::from(1000)));
        // Rising or flat: n/a; too few points: no pace.
        let up = [
            pt("2024-01", 81),
            pt("2024-02", 82),
            pt("2024-03", 83),
            pt("2024-04", 84),
        ];
        assert_eq!(
            cert_headline(&up, d("2024-12-31"))
                .unwrap()
                .months_to_failure,
            None
        );
        assert_eq!(cert_headline(&up[..2], d("2024-12-31")).unwrap().pace, None);
    }
}
