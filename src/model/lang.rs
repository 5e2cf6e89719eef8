//! Output language of everything a user reads: Spanish by default, English as an option.
//!
//! The users are Mexican compliance officers, tax auditors and consultants, so every
//! report, terminal summary, `explain` text and findings message defaults to Spanish
//! (`--lang es`); `--lang en` gives English. Machine-readable values never change with the
//! language: `check_code`, the severity codes stored in `findings.parquet`
//! (`critical`, `high`, ...), Parquet/JSON column names and ISO dates in data columns.
//!
//! API (no runtime file reads; everything is compiled in):
//!
//! - [`Lang`]: `Es` (default) / `En`; a clap `ValueEnum`, so a command takes
//!   `#[arg(long, value_enum, default_value_t = Lang::Es)] lang: Lang`.
//! - [`Lang::pick`]`(es, en)`: the one primitive for a label. Write both texts at the call
//!   site (`lang.pick("Hallazgos", "Findings")`): the pair stays next to where it is used
//!   and a missing translation cannot compile.
//! - [`Lang::label`]`(Label::X)`: the shared terms used by several writers (one spelling of
//!   "Saldo", "Vencido", ... across HTML, Markdown, CSV, xlsx and the terminal).
//! - [`Lang::severity`]: display name of a stored severity code (`high` → `alta`).
//! - [`Lang::money`]: `$1,234,567.89 MXN`; [`Lang::date`]: `31/12/2022` (es) or
//!   `2022-12-31` (en) for text; data columns keep ISO dates.
//! - [`Lang::phrase`]: a text a lower layer stored in English (ingest file notes,
//!   certification measured/threshold/window values) in the output language; the table
//!   is [`super::phrases`].
//! - [`Lang::reject_reason`] / [`Lang::reject_kind`]: a stored ingest reject reason / its
//!   kind in the output language, from the templates of [`super::reject`].
//! - [`Lang::code`]: `"es"` / `"en"`, as typed on the command line and in `<html lang>`.
//!
//! Terms of art stay in Spanish in both languages (pedimento, partida, fracción, descargo,
//! saldo, retorno, cambio de régimen, transferencia virtual, merma, desperdicio, activo
//! fijo, plazo, IGI, IVA, IEPS): English output uses them as loanwords, as the users'
//! English-speaking advisers do.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum Lang {
    /// Español (default).
    #[default]
    Es,
    /// English.
    En,
}

/// Terms shared by several writers. Add a variant when a second writer needs a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Findings,
    Check,
    Severity,
    Company,
    Pedimento,
    Partida,
    RelatedPedimento,
    Fraccion,
    PeriodStart,
    AsOf,
    Quantity,
    Amount,
    Igi,
    Iva,
    Ieps,
    Message,
    Citation,
    Evidence,
    Contributions,
    Total,
    Saldo,
    Imported,
    Discharged,
    Open,
    PlazoEnd,
    Status,
    Vigente,
    PorVencer,
    Vencido,
    Unit,
    Period,
    Certification,
    Summary,
    ReproduceWith,
    None,
}

impl Lang {
    /// `es` text in Spanish, `en` in English.
    pub fn pick(self, es: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Es => es,
            Lang::En => en,
        }
    }

    /// As typed on the command line (`es`, `en`) and used in `<html lang="…">`.
    pub fn code(self) -> &'static str {
        self.pick("es", "en")
    }

    /// A shared term.
    pub fn label(self, l: Label) -> &'static str {
        use Label::*;
        let (es, en) = match l {
            Findings => ("Hallazgos", "Findings"),
            Check => ("Revisión", "Check"),
            Severity => ("Severidad", "Severity"),
            Company => ("Empresa (RFC)", "Company (RFC)"),
            Pedimento => ("Pedimento", "Pedimento"),
            Partida => ("Partida", "Partida"),
            RelatedPedimento => ("Pedimento relacionado", "Related pedimento"),
            Fraccion => ("Fracción", "Fracción"),
            PeriodStart => ("Inicio del periodo", "Period start"),
            AsOf => ("Fecha de corte", "As of"),
            Quantity => ("Cantidad (UMT)", "Quantity (UMT)"),
            Amount => ("Monto MXN", "Amount MXN"),
            Igi => ("IGI MXN", "IGI MXN"),
            Iva => ("IVA MXN", "IVA MXN"),
            Ieps => ("IEPS MXN", "IEPS MXN"),
            Message => ("Descripción", "Message"),
            Citation => ("Fundamento legal", "Legal basis"),
            Evidence => ("Evidencia", "Evidence"),
            Contributions => ("Contribuciones MXN", "Contributions MXN"),
            Total => ("Total", "Total"),
            Saldo => ("Saldo", "Open balance (saldo)"),
            Imported => ("Importado", "Imported"),
            Discharged => ("Descargado", "Discharged"),
            Open => ("Saldo pendiente", "Open"),
            PlazoEnd => ("Fin del plazo", "Plazo end"),
            Status => ("Estado", "Status"),
            Vigente => ("vigente", "current"),
            PorVencer => ("por vencer", "expiring"),
            Vencido => ("vencido", "expired"),
            Unit => ("Unidad", "Unit"),
            Period => ("Periodo", "Period"),
            Certification => ("Certificación IVA/IEPS", "IVA/IEPS certification"),
            Summary => ("Resumen", "Summary"),
            ReproduceWith => ("Reproducir con", "Reproduce with"),
            None => ("(ninguno)", "(none)"),
        };
        self.pick(es, en)
    }

    /// Display name of a stored severity code; unknown codes pass through unchanged.
    pub fn severity(self, code: &str) -> String {
        let s = match (self, code) {
            (Lang::Es, "critical") => "crítica",
            (Lang::Es, "high") => "alta",
            (Lang::Es, "medium") => "media",
            (Lang::Es, "low") => "baja",
            (Lang::Es, "info") => "informativa",
            (_, other) => other,
        };
        s.to_string()
    }

    /// Money for text: `$1,234,567.89 MXN` (both languages: Mexican style, comma
    /// thousands, dot decimals).
    pub fn money(self, d: Decimal) -> String {
        format!("{} MXN", crate::model::numbers::mxn(d))
    }

    /// A date for text: `31/12/2022` in Spanish, `2022-12-31` in English.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Lang::Es => d.format("%d/%m/%Y").to_string(),
            Lang::En => d.format("%Y-%m-%d").to_string(),
        }
    }

    /// A phrase a lower layer stored in English (ingest file note, certification value) in
    /// this language: see [`super::phrases`].
    pub fn phrase(self, text: &str) -> String {
        match self {
            Lang::Es => super::phrases::es(text),
            Lang::En => text.to_string(),
        }
    }

    /// A reject reason ingest stored (its English rendering) in this language: see
    /// [`super::reject::RejectReason::es_of_en`].
    pub fn reject_reason(self, stored: &str) -> String {
        match self {
            Lang::Es => super::reject::RejectReason::es_of_en(stored),
            Lang::En => stored.to_string(),
        }
    }

    /// A reject kind (the key of the per-file counts) in this language; an unknown key
    /// passes through.
    pub fn reject_kind(self, key: &str) -> String {
        match (self, super::reject::RejectKind::from_key(key)) {
            (Lang::Es, Some(k)) => k.es().to_string(),
            _ => key.to_string(),
        }
    }

    /// A citation a check stored (English glue around instrument names) in this language:
    /// see [`super::phrases::CITATION_FRAGMENTS`].
    pub fn citation(self, text: &str) -> String {
        match self {
            Lang::Es => super::phrases::citation_es(text),
            Lang::En => text.to_string(),
        }
    }

    /// Parses `es` / `en` (case-insensitive), for code outside clap.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "es" | "es-mx" | "spa" | "español" | "espanol" => Some(Lang::Es),
            "en" | "en-us" | "eng" | "english" => Some(Lang::En),
            _ => Option::None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_spanish() {
        assert_eq!(Lang::default(), Lang::Es);
        assert_eq!(Lang::Es.pick("Hallazgos", "Findings"), "Hallazgos");
        assert_eq!(Lang::En.label(Label::Findings), "Findings");
    }

    #[test]
    fn severities_dates_and_money() {
        assert_eq!(Lang::Es.severity("high"), "alta");
        assert_eq!(Lang::Es.severity("medium"), "media");
        assert_eq!(Lang::Es.severity("low"), "baja");
        assert_eq!(Lang::En.severity("high"), "high");
        assert_eq!(Lang::Es.severity("weird"), "weird");
        let d = NaiveDate::from_ymd_opt(2022, 12, 31).unwrap();
        assert_eq!(Lang::Es.date(d), "31/12/2022");
        assert_eq!(Lang::En.date(d), "2022-12-31");
        assert_eq!(
            Lang::Es.money(Decimal::new(123456789, 2)),
            "$1,234,567.89 MXN"
        );
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::En.to_string(), "en");
    }
}
