//! Regularization estimate for expired balances (TEMP-EXPIRED findings): the contributions
//! at risk (IGI + IVA + IEPS of the open quantity, as the finding computed them), their
//! actualización (CFF art. 17-A: factor = INPC of the month before the as-of month / INPC
//! of the month before the month the plazo ended; a factor below 1 counts as 1) and
//! recargos (CFF art. 21: the monthly rate of each month or fraction from the plazo end to
//! the as-of date, at most 60 months, applied to the actualized contributions), ordered by
//! plazo end: the remediation list (which lots to return or regularize first).
//!
//! Start of the computation: the end of the plazo (the day after it the goods are no longer
//! legally in the country under the temporary regime). That is this tool's reading, shown
//! in the report next to the figures; the authority may count from another date.
//!
//! Rates are real published figures only: `src/catalogs/inpc.csv` (INEGI's monthly INPC,
//! base second half of July 2018 = 100, with the URL each value was read from) and
//! `src/catalogs/recargos.csv` (monthly recargo rate for late payment, Ley de Ingresos de la
//! Federación art. 8 with CFF art. 21, per month, with its URL). Both hold only the months
//! found; a user `inpc.csv` (columns `periodo,inpc[,fuente]`, `periodo` = `YYYY-MM`) in the
//! `--profiles` folder adds or replaces months. A month missing from either table gives
//! "sin estimación" with the month that is missing, never an interpolated number.
//!
//! Written as a section of report.md / report.html and as `regularizacion.csv` (UTF-8 BOM,
//! exact decimals, the rates table follows the rows' columns in the report only).

use super::ReportError;
use super::model::ReportData;
use crate::model::lang::Lang;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// One published value and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub value: Decimal,
    pub source: String,
}

/// The INPC and recargo tables, by `YYYY-MM`.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    pub inpc: BTreeMap<String, Rate>,
    pub recargos: BTreeMap<String, Rate>,
}

fn read_table(text: &str, what: &str, into: &mut BTreeMap<String, Rate>) -> Result<(), String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("{what}: line {}: {e}", i + 2))?;
        let periodo = rec.get(0).unwrap_or_default().trim().to_string();
        let ok = periodo.len() == 7
            && NaiveDate::parse_from_str(&format!("{periodo}-01"), "%Y-%m-%d").is_ok();
        if !ok {
            return Err(format!(
                "{what}: line {}: periodo '{periodo}' is not YYYY-MM",
                i + 2
            ));
        }
        let raw = rec.get(1).unwrap_or_default().trim();
        let value = Decimal::from_str(raw)
            .map_err(|_| format!("{what}: line {}: '{raw}' is not a number", i + 2))?;
        if value <= Decimal::ZERO {
            return Err(format!("{what}: line {}: '{raw}' must be positive", i + 2));
        }
        let source = rec.get(2).unwrap_or(what).trim().to_string();
        into.insert(periodo, Rate { value, source });
    }
    Ok(())
}

impl Rates {
    /// The vendored tables.
    pub fn vendored() -> Rates {
        let mut r = Rates::default();
        read_table(
            include_str!("../catalogs/inpc.csv"),
            "src/catalogs/inpc.csv",
            &mut r.inpc,
        )
        .expect("vendored INPC table is valid");
        read_table(
            include_str!("../catalogs/recargos.csv"),
            "src/catalogs/recargos.csv",
            &mut r.recargos,
        )
        .expect("vendored recargos table is valid");
        r
    }

    /// The vendored tables plus `<profiles>/inpc.csv` when it exists.
    pub fn with_profiles(profiles: Option<&Path>) -> Result<Rates, ReportError> {
        let mut r = Rates::vendored();
        if let Some(p) = profiles.map(|d| d.join("inpc.csv"))
            && p.exists()
        {
            let text = std::fs::read_to_string(&p).map_err(ReportError::io(&p))?;
            let name = p.display().to_string();
            read_table(text.trim_start_matches('\u{feff}'), &name, &mut r.inpc)
                .map_err(ReportError::Period)?;
        }
        Ok(r)
    }
}

/// One expired lot's estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub pedimento_id: String,
    pub partida: Option<i32>,
    pub fraccion: Option<String>,
    pub vence: NaiveDate,
    pub contributions: Decimal,
    pub estimate: Result<Estimate, String>,
}

/// Actualización and recargos of one lot.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub inpc_from: String,
    pub inpc_to: String,
    pub factor: Decimal,
    pub actualizacion: Decimal,
    pub months: u32,
    pub recargo_pct: Decimal,
    pub recargos: Decimal,
    pub total: Decimal,
}

fn ym(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// Months or fractions from `from` (exclusive) to `to`: 2024-01-15 → 2024-03-15 is 2,
/// → 2024-03-16 is 3.
fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    if to <= from {
        return 0;
    }
    let mut n = 0;
    let mut cur = from;
    while cur < to {
        n += 1;
        cur = from + Months::new(n);
    }
    n
}

/// Maximum months of recargos (CFF art. 21: recargos for at most five years).
pub const MAX_MONTHS: u32 = 60;

/// The estimate of `contributions` due since `vence`, to `as_of`.
pub fn estimate(
    rates: &Rates,
    contributions: Decimal,
    vence: NaiveDate,
    as_of: NaiveDate,
    lang: Lang,
) -> Result<Estimate, String> {
    let prev = |d: NaiveDate| ym(d.with_day(1).expect("day 1") - chrono::Duration::days(1));
    let (from, to) = (prev(vence), prev(as_of));
    let get = |k: &str| {
        rates.inpc.get(k).map(|r| r.value).ok_or_else(|| {
            lang.pick("falta el INPC de ", "no INPC value for ")
                .to_string()
                + k
        })
    };
    let (a, b) = (get(&from)?, get(&to)?);
    let factor = (b / a).round_dp_with_strategy(4, RoundingStrategy::ToZero);
    let factor = factor.max(Decimal::ONE);
    let actualizada = cents(contributions * factor);
    let months = months_between(vence, as_of).min(MAX_MONTHS);
    let mut pct = Decimal::ZERO;
    for i in 0..months {
        let m = ym(vence + Months::new(i));
        let r = rates.recargos.get(&m).ok_or_else(|| {
            lang.pick("falta la tasa de recargos de ", "no recargo rate for ")
                .to_string()
                + &m
        })?;
        pct += r.value;
    }
    let recargos = cents(actualizada * pct / Decimal::from(100));
    Ok(Estimate {
        inpc_from: from,
        inpc_to: to,
        factor,
        actualizacion: actualizada - contributions,
        months,
        recargo_pct: pct,
        recargos,
        total: actualizada + recargos,
    })
}

/// The remediation list of a report: every TEMP-EXPIRED finding with a plazo end, ordered
/// by plazo end (oldest first), with its estimate.
pub fn lines(d: &ReportData, rates: &Rates) -> Vec<Line> {
    let mut out: Vec<Line> = d
        .findings
        .iter()
        .filter(|rf| rf.f.check_code == "TEMP-EXPIRED")
        .filter_map(|rf| {
            let vence = rf.balance.as_ref().and_then(|b| b.vence)?;
            let c = rf.contributions();
            Some(Line {
                pedimento_id: rf.f.pedimento_id.clone().unwrap_or_default(),
                partida: rf.f.partida,
                fraccion: rf.f.fraccion.clone(),
                vence,
                contributions: c,
                estimate: estimate(rates, c, vence, d.as_of, d.meta.lang),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.vence, &a.pedimento_id, a.partida).cmp(&(b.vence, &b.pedimento_id, b.partida))
    });
    out
}

/// The rates the lines used (INPC months and recargo months), dated, with their source.
pub fn rates_used(lines: &[Line], rates: &Rates) -> Vec<(String, String, Decimal, String)> {
    let mut used: BTreeMap<(String, String), (Decimal, String)> = BTreeMap::new();
    for l in lines {
        if let Ok(e) = &l.estimate {
            for m in [&e.inpc_from, &e.inpc_to] {
                if let Some(r) = rates.inpc.get(m) {
                    used.insert(("INPC".into(), m.clone()), (r.value, r.source.clone()));
                }
            }
            for i in 0..e.months {
                let m = ym(l.vence + Months::new(i));
                if let Some(r) = rates.recargos.get(&m) {
                    used.insert(("recargos".into(), m), (r.value, r.source.clone()));
                }
            }
        }
    }
    used.into_iter()
        .map(|((k, m), (v, s))| (k, m, v, s))
        .collect()
}

pub const HEADER_ES: [&str; 13] = [
    "orden",
    "pedimento",
    "partida",
    "fraccion",
    "fin_plazo",
    "contribuciones",
    "factor_actualizacion",
    "actualizacion",
    "meses_recargos",
    "tasa_recargos_pct",
    "recargos",
    "total_estimado",
    "nota",
];

pub const HEADER: [&str; 13] = [
    "order",
    "pedimento_id",
    "partida",
    "fraccion",
    "plazo_end",
    "contributions",
    "update_factor",
    "actualizacion",
    "recargo_months",
    "recargo_rate_pct",
    "recargos",
    "estimated_total",
    "note",
];

/// `regularizacion.csv`: the remediation list with the estimate columns.
pub fn write(d: &ReportData, rates: &Rates, path: &Path) -> Result<(), ReportError> {
    let l = d.meta.lang;
    let mut w = super::csv::with_bom(
        path,
        match l {
            Lang::Es => HEADER_ES,
            Lang::En => HEADER,
        },
    )?;
    for (i, x) in lines(d, rates).iter().enumerate() {
        let (f, a, m, p, r, t, note) = match &x.estimate {
            Ok(e) => (
                e.factor.to_string(),
                e.actualizacion.to_string(),
                e.months.to_string(),
                e.recargo_pct.to_string(),
                e.recargos.to_string(),
                e.total.to_string(),
                String::new(),
            ),
            Err(why) => (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("{}: {why}", l.pick("sin estimación", "no estimate")),
            ),
        };
        w.write_record([
            (i + 1).to_string(),
            x.pedimento_id.clone(),
            x.partida.map(|p| p.to_string()).unwrap_or_default(),
            x.fraccion.clone().unwrap_or_default(),
            x.vence.to_string(),
            x.contributions.to_string(),
            f,
            a,
            m,
            p,
            r,
            t,
            note,
        ])
        .map_err(|e| ReportError::csv(path, e))?;
    }
    w.flush().map_err(ReportError::io(path))
}

/// The report section as Markdown (also turned into HTML by the HTML writer's caller).
pub fn markdown(d: &ReportData, rates: &Rates) -> String {
    use std::fmt::Write;
    let l = d.meta.lang;
    let xs = lines(d, rates);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## {}\n",
        l.pick(
            "Estimación de regularización (saldos vencidos)",
            "Regularization estimate (expired balances)"
        )
    );
    if xs.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Sin saldos vencidos (TEMP-EXPIRED) que estimar.",
                "No expired balances (TEMP-EXPIRED) to estimate."
            )
        );
        return o;
    }
    let _ = writeln!(
        o,
        "{}\n",
        l.pick(
            "Contribuciones en riesgo más actualización (CFF art. 17-A, cociente del INPC) y recargos (CFF art. 21, tasa mensual de la Ley de Ingresos de la Federación de cada año) a la fecha de corte, en orden de fin de plazo: los primeros lotes son los que conviene retornar o regularizar primero. Supuesto de la herramienta: el cálculo corre desde el fin del plazo. Estimación, no determinación de la autoridad.",
            "Contributions at risk plus actualización (CFF art. 17-A, INPC ratio) and recargos (CFF art. 21, monthly rate of each year's Ley de Ingresos de la Federación) to the as-of date, in order of plazo end: the first lots are the ones to return or regularize first. Tool assumption: the computation runs from the plazo end. An estimate, not the authority's determination."
        )
    );
    let h: [&str; 9] = match l {
        Lang::Es => [
            "#",
            "Pedimento",
            "Partida",
            "Fin del plazo",
            "Contribuciones MXN",
            "Actualización MXN",
            "Recargos MXN",
            "Total MXN",
            "Nota",
        ],
        Lang::En => [
            "#",
            "Pedimento",
            "Partida",
            "Plazo end",
            "Contributions MXN",
            "Actualización MXN",
            "Recargos MXN",
            "Total MXN",
            "Note",
        ],
    };
    let _ = writeln!(o, "| {} |", h.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(h.len()));
    let m = crate::model::numbers::mxn;
    for (i, x) in xs.iter().take(100).enumerate() {
        let (a, r, t, note) = match &x.estimate {
            Ok(e) => (
                m(e.actualizacion),
                m(e.recargos),
                m(e.total),
                format!(
                    "{} {} ({}/{}); {} {} ({} %)",
                    l.pick("factor", "factor"),
                    e.factor,
                    e.inpc_to,
                    e.inpc_from,
                    e.months,
                    l.pick("meses", "months"),
                    e.recargo_pct
                ),
            ),
            Err(why) => (
                String::new(),
                String::new(),
                String::new(),
                format!("{}: {why}", l.pick("sin estimación", "no estimate")),
            ),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            x.pedimento_id,
            x.partida.map(|p| p.to_string()).unwrap_or_default(),
            l.date(x.vence),
            m(x.contributions),
            a,
            r,
            t,
            note
        );
    }
    if xs.len() > 100 {
        let _ = writeln!(
            o,
            "\n{} {} regularizacion.csv",
            xs.len() - 100,
            l.pick("lote(s) más en", "more lot(s) in"),
        );
    }
    let used = rates_used(&xs, rates);
    let _ = writeln!(
        o,
        "\n### {}\n",
        l.pick("Tasas e índices usados", "Rates and indices used")
    );
    if used.is_empty() {
        let _ = writeln!(
            o,
            "{}\n",
            l.pick(
                "Ninguno: ningún lote tiene los INPC y tasas publicados que necesita (agregue los meses faltantes en inpc.csv en la carpeta --profiles).",
                "None: no lot has the published INPC values and rates it needs (add the missing months in inpc.csv in the --profiles folder)."
            )
        );
    } else {
        let _ = writeln!(
            o,
            "| {} |\n|---|---|---|---|",
            l.pick(
                "Serie | Mes | Valor | Fuente",
                "Series | Month | Value | Source"
            )
        );
        for (k, mo, v, s) in used {
            let unit = if k == "recargos" { " % mensual" } else { "" };
            let _ = writeln!(o, "| {k} | {mo} | {v}{unit} | {s} |");
        }
        let _ = writeln!(o);
    }
    o
}

/// The section as HTML: the Markdown of [`markdown`] (headings, paragraphs, pipe tables)
/// converted line by line, text escaped.
pub fn html(d: &ReportData, rates: &Rates) -> String {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| esc(c.trim()))
            .collect()
    };
    let mut o = String::from("<section id=\"regularizacion\">\n");
    let mut in_table = false;
    let mut header_next = false;
    for line in markdown(d, rates).lines() {
        if line.starts_with('|') {
            if line.starts_with("|---") {
                continue;
            }
            if !in_table {
                o.push_str("<table>\n");
                in_table = true;
                header_next = true;
            }
            let tag = if header_next { "th" } else { "td" };
            header_next = false;
            o.push_str("<tr>");
            for c in cells(line) {
                o.push_str(&format!("<{tag}>{c}</{tag}>"));
            }
            o.push_str("</tr>\n");
            continue;
        }
        if in_table {
            o.push_str("</table>\n");
            in_table = false;
        }
        if let Some(h) = line.strip_prefix("### ") {
            o.push_str(&format!("<h3>{}</h3>\n", esc(h)));
        } else if let Some(h) = line.strip_prefix("## ") {
            o.push_str(&format!("<h2>{}</h2>\n", esc(h)));
        } else if !line.trim().is_empty() {
            o.push_str(&format!("<p>{}</p>\n", esc(line)));
        }
    }
    if in_table {
        o.push_str("</table>\n");
    }
    o.push_str("</section>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn rates() -> Rates {
        let mut r = Rates::vendored();
        // A user INPC month (as from a profiles inpc.csv).
        read_table("periodo,inpc\n2023-06,128.084\n", "test", &mut r.inpc).unwrap();
        r
    }

    #[test]
    fn vendored_values_are_the_published_ones() {
        let r = Rates::vendored();
        assert_eq!(
            r.inpc["2022-07"].value,
            Decimal::from_str("122.948").unwrap()
        );
        assert_eq!(
            r.inpc["2023-10"].value,
            Decimal::from_str("130.609").unwrap()
        );
        assert_eq!(
            r.recargos["2023-05"].value,
            Decimal::from_str("1.47").unwrap()
        );
        // January 2023: fiscalito.com, and 127.336 / 126.478 (December 2022) = +0.68 %,
        // the monthly variation INEGI published.
        assert_eq!(
            r.inpc["2023-01"].value,
            Decimal::from_str("127.336").unwrap()
        );
        // Ley de Ingresos de la Federación 2026 art. 8: prórroga 1.38 % a month, mora
        // (CFF art. 21, prórroga + 50 %) 2.07 %.
        assert_eq!(
            r.recargos["2026-01"].value,
            Decimal::from_str("2.07").unwrap()
        );
        assert_eq!(
            r.recargos["2025-12"].value,
            Decimal::from_str("1.47").unwrap()
        );
        assert!(r.inpc.values().all(|x| x.source.starts_with("https://")));
        assert!(r.recargos.values().all(|x| x.source.starts_with("http")));
        // Nothing invented: a month that was not found is absent.
        assert!(!r.inpc.contains_key("2024-01"));
        assert!(!r.inpc.contains_key("2025-12"));
        assert!(!r.inpc.contains_key("2023-06"));
    }

    #[test]
    fn vendored_tables_have_no_gaps_in_recargos_and_sane_inpc() {
        let r = Rates::vendored();
        // Recargos: every month from January 2020 to December 2026 (one LIF a year).
        let mut m = d("2020-01-01");
        while m <= d("2026-12-01") {
            assert!(r.recargos.contains_key(&ym(m)), "recargos {}", ym(m));
            m = m + Months::new(1);
        }
        // INPC, base 2Q July 2018 = 100: every listed month is after the base month, the
        // values lie between 100 and 150, and two consecutive listed months differ by
        // less than 2 % (a typo in a digit would break one of these).
        let mut prev: Option<(NaiveDate, Decimal)> = None;
        for (k, v) in &r.inpc {
            assert!(k.as_str() >= "2018-08", "{k}");
            assert!(
                v.value > Decimal::from(100) && v.value < Decimal::from(150),
                "INPC {k} {}",
                v.value
            );
            let m = d(&format!("{k}-01"));
            if let Some((pm, pv)) = prev
                && pm + Months::new(1) == m
            {
                let change = (v.value / pv - Decimal::ONE).abs();
                assert!(change < Decimal::from_str("0.02").unwrap(), "INPC {k}");
            }
            prev = Some((m, v.value));
        }
    }

    #[test]
    fn estimate_is_exact_and_names_what_is_missing() {
        // Plazo ended 2022-08-10: INPC of July 2022 (122.948); as of 2023-10-05: INPC of
        // September 2023 (130.120). CFF art. 17-A: factor = INPC of the month before the
        // most recent month of the period / INPC of the month before the oldest one,
        // computed to the ten-thousandth: 130.120 / 122.948 = 1.05833.. → 1.0583.
        let e = estimate(
            &rates(),
            Decimal::from(10_000),
            d("2022-08-10"),
            d("2023-10-05"),
            Lang::Es,
        )
        .unwrap();
        assert_eq!(
            (e.inpc_from.as_str(), e.inpc_to.as_str()),
            ("2022-07", "2023-09")
        );
        assert_eq!(e.factor, Decimal::from_str("1.0583").unwrap());
        // 10,000 × 1.0583 = 10,583.00.
        assert_eq!(e.actualizacion, Decimal::from_str("583.00").unwrap());
        // 2022-08-10 → 2023-10-05: 14 months or fractions (2022-08 .. 2023-09), each at
        // 1.47 % (LIF 2022 and 2023 art. 8, 0.98 % + 50 %, CFF art. 21) = 20.58 %;
        // 10,583.00 × 20.58 % = 2,177.9814 → 2,177.98; total 12,760.98.
        assert_eq!(e.months, 14);
        assert_eq!(e.recargo_pct, Decimal::from_str("20.58").unwrap());
        assert_eq!(e.recargos, Decimal::from_str("2177.98").unwrap());
        assert_eq!(e.total, Decimal::from_str("12760.98").unwrap());
        let e = estimate(
            &rates(),
            Decimal::from(10_000),
            d("2023-07-10"),
            d("2023-10-05"),
            Lang::Es,
        )
        .unwrap();
        // INPC 2023-06 = 128.084 (user), 2023-09 = 130.120: factor 1.0158.
        assert_eq!(e.factor, Decimal::from_str("1.0158").unwrap());
        assert_eq!(e.actualizacion, Decimal::from_str("158.00").unwrap());
        // 2023-07-10 → 2023-10-05: 3 months or fractions at 1.47 % = 4.41 %.
        assert_eq!(e.months, 3);
        assert_eq!(e.recargo_pct, Decimal::from_str("4.41").unwrap());
        assert_eq!(e.recargos, Decimal::from_str("447.97").unwrap());
        assert_eq!(e.total, Decimal::from_str("10605.97").unwrap());
        let missing = estimate(
            &rates(),
            Decimal::ONE,
            d("2024-02-01"),
            d("2024-05-01"),
            Lang::Es,
        );
        assert_eq!(missing, Err("falta el INPC de 2024-01".into()));
    }

    #[test]
    fn estimate_with_the_2025_months() {
        // Plazo ended 2025-02-10: INPC of January 2025 (138.343); as of 2025-12-05: INPC
        // of November 2025 (142.645). 142.645 / 138.343 = 1.03109.. → 1.0310.
        let e = estimate(
            &Rates::vendored(),
            Decimal::from(10_000),
            d("2025-02-10"),
            d("2025-12-05"),
            Lang::En,
        )
        .unwrap();
        assert_eq!(e.factor, Decimal::from_str("1.0310").unwrap());
        assert_eq!(e.actualizacion, Decimal::from_str("310.00").unwrap());
        // 10 months or fractions (2025-02 .. 2025-11) at 1.47 % (LIF 2025) = 14.70 %;
        // 10,310.00 × 14.70 % = 1,515.57; total 11,825.57.
        assert_eq!(e.months, 10);
        assert_eq!(e.recargo_pct, Decimal::from_str("14.70").unwrap());
        assert_eq!(e.recargos, Decimal::from_str("1515.57").unwrap());
        assert_eq!(e.total, Decimal::from_str("11825.57").unwrap());
        // December 2025 is not in the table: an as-of date in January 2026 has no estimate.
        let e = estimate(
            &Rates::vendored(),
            Decimal::ONE,
            d("2025-02-10"),
            d("2026-01-15"),
            Lang::En,
        );
        assert_eq!(e, Err("no INPC value for 2025-12".into()));
    }

    #[test]
    fn months_or_fractions() {
        assert_eq!(months_between(d("2024-01-15"), d("2024-03-15")), 2);
        assert_eq!(months_between(d("2024-01-15"), d("2024-03-16")), 3);
        assert_eq!(months_between(d("2024-01-15"), d("2024-01-15")), 0);
    }

    #[test]
    fn user_table_is_checked() {
        let mut m = BTreeMap::new();
        assert!(read_table("periodo,inpc\n2023-13,1\n", "x.csv", &mut m).is_err());
        let e = read_table("periodo,inpc\n2023-01,abc\n", "x.csv", &mut m).unwrap_err();
        assert!(e.contains("x.csv: line 2"), "{e}");
    }
}
