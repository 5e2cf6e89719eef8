//! Why one field did not parse ([`FieldError`]): the detail of a field reject
//! ([`super::reject::RejectReason::BadField`] and the other field kinds), rendered in
//! English and Spanish from one pair of templates per variant (see [`super::reject`]).

use super::reject::{Parts, captures, fill_named, fill_seq};
use chrono::NaiveDate;
use std::fmt;

/// Why a field did not parse. The reader adds file, line, field name and the kind
/// ([`RejectReason`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    EmptyDate,
    EmptyNumber,
    /// `what` is a field's name.
    Empty {
        what: String,
    },
    NonDigit {
        what: String,
        value: String,
    },
    TooManyDigits {
        what: String,
        value: String,
        width: usize,
    },
    TipoOperacion {
        value: String,
    },
    UnknownClave {
        clave: String,
    },
    PartidaNumber {
        value: String,
    },
    Fraccion {
        value: String,
    },
    RfcLength {
        rfc: String,
        len: usize,
    },
    RfcShape {
        rfc: String,
    },
    Date {
        value: String,
    },
    MisplacedComma {
        value: String,
    },
    NotANumber {
        value: String,
    },
    TooManyDecimals {
        value: String,
        scale: u32,
    },
    TooLarge {
        value: String,
        scale: u32,
    },
    PedimentoShape {
        value: String,
    },
    PedimentoYear {
        value: String,
        year: String,
    },
    /// A yes/no cell with something else (shown with Rust's quoting).
    YesNo {
        value: String,
    },
    /// A whole number expected (shown with Rust's quoting).
    WholeNumber {
        value: String,
    },
    Identificador {
        value: String,
    },
    /// A descargo's date of the original operation is empty and the original
    /// pedimento is not in the input (its year is unknown).
    EmptyOriginalDate,
    /// The payment date is in neither the pedimento's year nor (for a número starting
    /// with that year's last digit) the next.
    PaidOutsideYear {
        paid: NaiveDate,
        year: i32,
    },
}

impl FieldError {
    fn parts(&self) -> Parts<String> {
        use FieldError as E;
        let s = |x: &str| x.to_string();
        match self {
            E::EmptyDate => ("date is empty", "la fecha está vacía", vec![]),
            E::EmptyNumber => ("number is empty", "el número está vacío", vec![]),
            E::Empty { what } => ("{} is empty", "{0} está vacío", vec![s(what)]),
            E::NonDigit { what, value } => (
                "{} '{}' has non-digit characters",
                "{0} '{1}' tiene caracteres que no son dígitos",
                vec![s(what), s(value)],
            ),
            E::TooManyDigits { what, value, width } => (
                "{} '{}' has more than {} digits",
                "{0} '{1}' tiene más de {2} dígitos",
                vec![s(what), s(value), width.to_string()],
            ),
            E::TipoOperacion { value } => (
                "'{}' is not 1 (importación) or 2 (exportación)",
                "'{0}' no es 1 (importación) ni 2 (exportación)",
                vec![s(value)],
            ),
            E::UnknownClave { clave } => (
                "'{}' is not in Anexo 22 Apéndice 2",
                "'{0}' no está en el Anexo 22, Apéndice 2",
                vec![s(clave)],
            ),
            E::PartidaNumber { value } => (
                "'{}' is not a partida number",
                "'{0}' no es un número de partida",
                vec![s(value)],
            ),
            E::Fraccion { value } => (
                "fracción '{}' is not 8 digits",
                "la fracción '{0}' no tiene 8 dígitos",
                vec![s(value)],
            ),
            E::RfcLength { rfc, len } => (
                "RFC '{}' must have 12 or 13 characters, has {}",
                "el RFC '{0}' debe tener 12 o 13 caracteres y tiene {1}",
                vec![s(rfc), len.to_string()],
            ),
            E::RfcShape { rfc } => (
                "RFC '{}' is not letters + YYMMDD + homoclave (e.g. ABC010203XY1)",
                "el RFC '{0}' no es letras + AAMMDD + homoclave (p. ej. ABC010203XY1)",
                vec![s(rfc)],
            ),
            E::Date { value } => (
                "date '{}' is not a valid date (YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, DDMMYYYY or YYYYMMDDhhmmss)",
                "'{0}' no es una fecha válida (AAAA-MM-DD, AAAA/MM/DD, DD/MM/AAAA, DDMMAAAA o AAAAMMDDhhmmss)",
                vec![s(value)],
            ),
            E::MisplacedComma { value } => (
                "'{}' is not a number (misplaced comma)",
                "'{0}' no es un número (coma de miles mal colocada)",
                vec![s(value)],
            ),
            E::NotANumber { value } => (
                "'{}' is not a number",
                "'{0}' no es un número",
                vec![s(value)],
            ),
            E::TooManyDecimals { value, scale } => (
                "'{}' has more than {} decimals (the column is DECIMAL(18,{})); it is not rounded",
                "'{0}' tiene más de {1} decimales (la columna es DECIMAL(18,{2})); no se redondea",
                vec![s(value), scale.to_string(), scale.to_string()],
            ),
            E::TooLarge { value, scale } => (
                "'{}' is too large for DECIMAL(18,{})",
                "'{0}' es demasiado grande para DECIMAL(18,{1})",
                vec![s(value), scale.to_string()],
            ),
            E::PedimentoShape { value } => (
                "pedimento '{}' is not YYYY-ASS-PPPP-NNNNNNN (year, aduana-sección, patente, número)",
                "el pedimento '{0}' no tiene la forma AAAA-ASS-PPPP-NNNNNNN (año, aduana-sección, patente, número)",
                vec![s(value)],
            ),
            E::PedimentoYear { value, year } => (
                "pedimento '{}': year '{}' is not a number",
                "pedimento '{0}': el año '{1}' no es un número",
                vec![s(value), s(year)],
            ),
            E::YesNo { value } => (
                "expected 1/0 or si/no, got {}",
                "se esperaba 1/0 o si/no y se encontró {0}",
                vec![format!("{value:?}")],
            ),
            E::WholeNumber { value } => (
                "expected a whole number, got {}",
                "se esperaba un número entero y se encontró {0}",
                vec![format!("{value:?}")],
            ),
            E::Identificador { value } => (
                "identificador '{}' is not CLAVE[:complemento...]",
                "el identificador '{0}' no tiene la forma CLAVE[:complemento...]",
                vec![s(value)],
            ),
            E::EmptyOriginalDate => (
                "empty, and the original pedimento is not in this input",
                "vacía, y el pedimento original no está en esta entrada",
                vec![],
            ),
            E::PaidOutsideYear { paid, year } => (
                "fecha_pago {} is not in the pedimento's year {} (nor in the next, for a número starting with the year's last digit)",
                "fecha_pago {0} no está en el año del pedimento ({1}) ni en el siguiente (para un número que empieza con el último dígito del año)",
                vec![paid.to_string(), year.to_string()],
            ),
        }
    }

    /// The Spanish rendering.
    pub fn es(&self) -> String {
        let (_, es, v) = self.parts();
        fill_named(es, &v)
    }

    /// One value of every variant, the specific forms before the general ones (the order
    /// [`FieldError::es_of_en`] tries their templates in).
    pub fn samples() -> Vec<FieldError> {
        let v = |x: &str| x.to_string();
        let d = NaiveDate::from_ymd_opt(2024, 1, 5).expect("a date");
        let all = vec![
            FieldError::EmptyDate,
            FieldError::EmptyNumber,
            FieldError::Empty { what: v("umt") },
            FieldError::NonDigit {
                what: v("patente"),
                value: v("39X3"),
            },
            FieldError::TooManyDigits {
                what: v("patente"),
                value: v("39531"),
                width: 4,
            },
            FieldError::TipoOperacion { value: v("3") },
            FieldError::UnknownClave { clave: v("ZZ") },
            FieldError::PartidaNumber { value: v("0") },
            FieldError::Fraccion { value: v("847130") },
            FieldError::RfcLength {
                rfc: v("MNO01020"),
                len: 8,
            },
            FieldError::RfcShape {
                rfc: v("AB1010203XY1"),
            },
            FieldError::Date {
                value: v("32/13/2024"),
            },
            FieldError::MisplacedComma { value: v("12,34") },
            FieldError::NotANumber { value: v("uno") },
            FieldError::TooManyDecimals {
                value: v("1.999"),
                scale: 2,
            },
            FieldError::TooLarge {
                value: v("99999999999999999999"),
                scale: 2,
            },
            FieldError::PedimentoShape {
                value: v("2024-240-3953"),
            },
            FieldError::PedimentoYear {
                value: v("XX-240-3953-4000001"),
                year: v("XX"),
            },
            FieldError::YesNo { value: v("quizá") },
            FieldError::WholeNumber { value: v("1,5") },
            FieldError::Identificador { value: v("ABCD") },
            FieldError::EmptyOriginalDate,
            FieldError::PaidOutsideYear {
                paid: d,
                year: 2022,
            },
        ];
        // Every variant is listed: this match has no wildcard, so a new variant does not
        // compile until it has a sample above.
        for e in &all {
            match e {
                FieldError::EmptyDate
                | FieldError::EmptyNumber
                | FieldError::Empty { .. }
                | FieldError::NonDigit { .. }
                | FieldError::TooManyDigits { .. }
                | FieldError::TipoOperacion { .. }
                | FieldError::UnknownClave { .. }
                | FieldError::PartidaNumber { .. }
                | FieldError::Fraccion { .. }
                | FieldError::RfcLength { .. }
                | FieldError::RfcShape { .. }
                | FieldError::Date { .. }
                | FieldError::MisplacedComma { .. }
                | FieldError::NotANumber { .. }
                | FieldError::TooManyDecimals { .. }
                | FieldError::TooLarge { .. }
                | FieldError::PedimentoShape { .. }
                | FieldError::PedimentoYear { .. }
                | FieldError::YesNo { .. }
                | FieldError::WholeNumber { .. }
                | FieldError::Identificador { .. }
                | FieldError::EmptyOriginalDate
                | FieldError::PaidOutsideYear { .. } => {}
            }
        }
        all
    }

    /// The Spanish form of a stored English field error, or None when no template
    /// matches it.
    pub fn es_of_en(text: &str) -> Option<String> {
        FieldError::samples().iter().find_map(|s| {
            let (en, es, _) = s.parts();
            captures(en, text).map(|v| fill_named(es, &v))
        })
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (en, _, v) = self.parts();
        f.write_str(&fill_seq(en, &v))
    }
}

impl std::error::Error for FieldError {}
