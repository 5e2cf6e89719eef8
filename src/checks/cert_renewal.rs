//! CERT-RENEWAL: the company's IVA/IEPS certification is inside its renewal window with
//! no renewal notice on file, or past its expiry.
//!
//! Input: `certificacion.csv` in the profile folder (rfc, modalidad, fecha_autorizacion,
//! optional fecha_renovacion = start of the current term, optional
//! fecha_aviso_renovacion). The term's length is the vigencia of the rule version in force
//! when the term started (`cert_rules`): a registration keeps the term it was granted
//! with (AA granted in 2022 keeps 2 years after the 2023 change to one year). The notice
//! is due within the 30 business days before expiry (`model::calendar`: weekends and Ley
//! Federal del Trabajo art. 74 rest days excluded).
//!
//! Findings: `high` once the as-of date is past the expiry with no notice filed in the
//! window; `medium` inside the window with no notice; `low` when the term started on a
//! date no rule version covers (vigencia unknown), naming the reason.

use super::cert::{av_date, av_str, findings_frame};
use super::{AuditContext, CheckError, cert_rules};
use crate::findings::Finding;
use crate::model::calendar;
use crate::profile;
use chrono::{Duration, Months, NaiveDate};
use polars::prelude::*;

/// One company's renewal state at `as_of`.
#[derive(Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Not yet in the window.
    InForce { expires: NaiveDate },
    /// Inside the window, no notice: due by `expires` (business days left).
    Due {
        window_start: NaiveDate,
        expires: NaiveDate,
        days_left: i64,
    },
    /// Notice filed in the window: renewed.
    Renewed { expires: NaiveDate },
    /// Past expiry with no notice in the window.
    Expired { expires: NaiveDate },
    /// The term started on a date no known rule version covers.
    Unknown { reason: String },
}

/// Expiry of a term of `months` starting on `start`: the day before the same date
/// `months` later.
pub fn expiry(start: NaiveDate, months: u32) -> NaiveDate {
    start + Months::new(months) - Duration::days(1)
}

pub fn assess(
    modality: &str,
    start: NaiveDate,
    notice: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Renewal {
    let Some(v) = cert_rules::in_force(start) else {
        return Renewal::Unknown {
            reason: cert_rules::uncovered_reason(start),
        };
    };
    let months = v.vigencia(modality).unwrap_or(12);
    let expires = expiry(start, months);
    let window_start = calendar::business_days_before(expires, v.renewal_days);
    if notice.is_some_and(|n| n >= window_start && n <= expires) {
        return Renewal::Renewed { expires };
    }
    if as_of > expires {
        Renewal::Expired { expires }
    } else if as_of >= window_start {
        Renewal::Due {
            window_start,
            expires,
            days_left: calendar::business_days_between(as_of, expires),
        }
    } else {
        Renewal::InForce { expires }
    }
}

/// Registry plan for `CERT-RENEWAL`.
pub fn plan(ctx: &AuditContext) -> Result<DataFrame, CheckError> {
    let p = profile::load_cert(ctx.opts.profiles.as_deref())
        .map_err(|e| CheckError::Other(e.to_string()))?;
    let df = &p.certificacion;
    let mut rows = vec![];
    for i in 0..df.height() {
        let (Some(rfc), Some(modality), Some(auth)) = (
            av_str(df, "rfc", i),
            av_str(df, "modalidad", i),
            av_date(df, "fecha_autorizacion", i),
        ) else {
            continue;
        };
        let start = av_date(df, "fecha_renovacion", i).unwrap_or(auth).max(auth);
        let notice = av_date(df, "fecha_aviso_renovacion", i);
        let state = assess(&modality, start, notice, ctx.as_of);
        let v = cert_rules::in_force(start);
        let cite = v
            .map(|v| format!("{}; {}", v.vigencia_cite, v.renewal_cite))
            .unwrap_or_default();
        let es = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
        let (severity, message, mensaje) = match state {
            Renewal::InForce { .. } | Renewal::Renewed { .. } => continue,
            Renewal::Due {
                window_start,
                expires,
                days_left,
            } => (
                "medium",
                format!(
                    "Certification {modality} (term from {start}) expires {expires}: the renewal notice is due from {window_start} to {expires} ({days_left} business days left) and none is on file"
                ),
                format!(
                    "La certificación {modality} (vigencia desde el {}) vence el {}: el aviso de renovación debe presentarse del {} al {} (quedan {days_left} días hábiles) y no hay ninguno registrado",
                    es(start),
                    es(expires),
                    es(window_start),
                    es(expires)
                ),
            ),
            Renewal::Expired { expires } => (
                "high",
                format!(
                    "Certification {modality} (term from {start}) expired {expires} with no renewal notice filed in the 30 business days before: the registration is not renewed (a new application is needed)"
                ),
                format!(
                    "La certificación {modality} (vigencia desde el {}) venció el {} sin aviso de renovación presentado en los 30 días hábiles previos: el registro no se renovó (se requiere una nueva solicitud)",
                    es(start),
                    es(expires)
                ),
            ),
            Renewal::Unknown { reason } => (
                "low",
                format!("Certification {modality} (term from {start}): vigencia unknown, {reason}"),
                format!(
                    "Certificación {modality} (vigencia desde el {}): vigencia desconocida, {reason}",
                    es(start)
                ),
            ),
        };
        rows.push(Finding {
            period_start: Some(start),
            message,
            mensaje,
            citation: cite,
            evidence: format!("certificacion.csv:{}", i + 2),
            ..Finding::new("CERT-RENEWAL", severity, &rfc, ctx.as_of)
        });
    }
    Ok(findings_frame(&rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn terms_follow_the_version_at_their_start() {
        // AA granted 2022-03-01 under RGCE 2019-2023: 24 months, expires 2024-02-29.
        assert_eq!(
            assess("AA", d("2022-03-01"), None, d("2023-06-30")),
            Renewal::InForce {
                expires: d("2024-02-29")
            }
        );
        // AA granted 2024-03-01, after the Cuarta Resolución 2023: one year.
        assert_eq!(
            assess("AA", d("2024-03-01"), None, d("2024-06-30")),
            Renewal::InForce {
                expires: d("2025-02-28")
            }
        );
    }

    #[test]
    fn window_due_renewed_and_expired() {
        // A granted 2022-06-01, expires 2023-05-31 (Wednesday). 30 business days before
        // it: 21 in May (May 2-30 without weekends; May 1 is a rest day), then 9 in April
        // (28, 27, 26, 25, 24, 21, 20, 19, 18): the window opens 2023-04-18.
        let due = assess("A", d("2022-06-01"), None, d("2023-05-02"));
        assert_eq!(
            due,
            Renewal::Due {
                window_start: d("2023-04-18"),
                expires: d("2023-05-31"),
                days_left: 21
            }
        );
        assert_eq!(
            assess("A", d("2022-06-01"), None, d("2023-04-17")),
            Renewal::InForce {
                expires: d("2023-05-31")
            }
        );
        assert_eq!(
            assess("A", d("2022-06-01"), Some(d("2023-05-10")), d("2023-06-15")),
            Renewal::Renewed {
                expires: d("2023-05-31")
            }
        );
        // A notice filed before the window does not count.
        assert_eq!(
            assess("A", d("2022-06-01"), Some(d("2023-03-01")), d("2023-06-15")),
            Renewal::Expired {
                expires: d("2023-05-31")
            }
        );
        assert!(matches!(
            assess("A", d("2015-06-01"), None, d("2016-06-15")),
            Renewal::Unknown { .. }
        ));
    }
}
