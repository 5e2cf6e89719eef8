//! Why ingest rejected a row ([`RejectReason`]) and why one field did not parse
//! ([`FieldError`]): one variant per kind of problem with its details, each with an
//! English and a Spanish rendering. [`RejectKind`] is the short stable key of a reason
//! (the per-file `rejected_by_reason` counts of the manifest and the summary).
//!
//! The English rendering is what ingest stores (`rejects/<run>.parquet`: stable across
//! `--lang`; tests and users grep it). Both renderings come from one pair of templates per
//! variant ([`RejectReason::parts`]): English with `{}` where a value goes, Spanish naming
//! the values `{0}`, `{1}`, ... Values (numbers, dates, names, the raw field text) are the
//! same in both languages; a field error is rendered in the reason's language. The same
//! templates read a stored English reason back ([`RejectReason::es_of_en`]), so the
//! report shows stored rejects in Spanish without a table of its own.

pub use super::field_error::FieldError;
use std::fmt;

/// The kind of a reject: the text before the first ':' of its English rendering, and the
/// key of the per-file counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectKind {
    BadRfc,
    BadDate,
    BadField,
    BadCsv,
    BadQuoting,
    NotANumber,
    TruncatedLine,
    TooManyFields,
    UnknownClave,
    MissingPedimento,
    MissingPartida,
    MissingColumn,
    PedimentoRejected,
    TotalOverflow,
    AmbiguousPedimento,
    InconsistentHeader,
}

impl RejectKind {
    /// Every kind.
    pub const ALL: [RejectKind; 16] = [
        RejectKind::BadRfc,
        RejectKind::BadDate,
        RejectKind::BadField,
        RejectKind::BadCsv,
        RejectKind::BadQuoting,
        RejectKind::NotANumber,
        RejectKind::TruncatedLine,
        RejectKind::TooManyFields,
        RejectKind::UnknownClave,
        RejectKind::MissingPedimento,
        RejectKind::MissingPartida,
        RejectKind::MissingColumn,
        RejectKind::PedimentoRejected,
        RejectKind::TotalOverflow,
        RejectKind::AmbiguousPedimento,
        RejectKind::InconsistentHeader,
    ];

    /// The stable key (English): `rejected_by_reason` in the manifest.
    pub fn key(self) -> &'static str {
        self.names().0
    }

    /// The kind in Spanish.
    pub fn es(self) -> &'static str {
        self.names().1
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            RejectKind::BadRfc => ("bad RFC", "RFC inválido"),
            RejectKind::BadDate => ("bad date", "fecha inválida"),
            RejectKind::BadField => ("bad field", "campo inválido"),
            RejectKind::BadCsv => ("bad CSV", "CSV inválido"),
            RejectKind::BadQuoting => ("bad quoting", "comillas inválidas"),
            RejectKind::NotANumber => ("not a number", "no es un número"),
            RejectKind::TruncatedLine => ("truncated line", "línea truncada"),
            RejectKind::TooManyFields => ("too many fields", "demasiados campos"),
            RejectKind::UnknownClave => ("unknown clave", "clave desconocida"),
            RejectKind::MissingPedimento => ("missing pedimento", "pedimento faltante"),
            RejectKind::MissingPartida => ("missing partida", "partida faltante"),
            RejectKind::MissingColumn => ("missing column", "columna faltante"),
            RejectKind::PedimentoRejected => ("pedimento rejected", "pedimento rechazado"),
            RejectKind::TotalOverflow => ("total overflow", "total fuera de rango"),
            RejectKind::AmbiguousPedimento => ("ambiguous pedimento", "pedimento ambiguo"),
            RejectKind::InconsistentHeader => ("inconsistent header", "encabezado inconsistente"),
        }
    }

    /// The kind whose key is `key`.
    pub fn from_key(key: &str) -> Option<RejectKind> {
        RejectKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The kind of a stored (English) reason: the text before its first ':'.
    pub fn of_stored(reason: &str) -> Option<RejectKind> {
        RejectKind::from_key(reason.split(':').next().unwrap_or(reason).trim())
    }
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// (English template, Spanish template, values).
pub(super) type Parts<V> = (&'static str, &'static str, Vec<V>);

/// The separator a one-column CSV header has in it (a spreadsheet in a Spanish locale
/// saves CSV with ';').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    Semicolon,
    Tab,
}

/// Why ingest rejected a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    BadField(FieldError),
    BadRfc(FieldError),
    BadDate(FieldError),
    NotANumber(FieldError),
    UnknownClave(FieldError),
    /// The CSV reader failed on a record (its message).
    BadCsv {
        error: String,
    },
    /// A well-formed record whose quoted field spans lines, multi-line fields not allowed.
    QuotedFieldSpansLines {
        field: String,
        first: usize,
        last: usize,
    },
    /// An unclosed or stray quote made one record of several lines.
    UnclosedQuote {
        first: usize,
        last: usize,
        fields: usize,
        header: usize,
        field: String,
    },
    /// Quotes around a field (1-based `index`, named `name`) with commas in it change the
    /// field count of a line that has the header's count split at every comma.
    QuotesSplitField {
        index: usize,
        name: String,
        fields: usize,
        parts: usize,
        header: usize,
    },
    TruncatedLine {
        fields: usize,
        header: usize,
    },
    TooManyFields {
        fields: usize,
        header: usize,
    },
    /// A CSV header without required columns.
    MissingColumns {
        columns: Vec<String>,
        hint: Option<Separator>,
    },
    /// A Data Stage file whose header lacks required columns.
    MissingColumnsOfFile {
        columns: Vec<String>,
    },
    /// The pedimento's header fields differ from those of an earlier row of it.
    InconsistentHeader {
        first_line: usize,
    },
    /// A total of the pedimento (`column`) does not fit DECIMAL(18,2).
    TotalOverflow {
        column: String,
        pedimento: String,
    },
    /// The pedimento's 501 row (`at`: `file:line`) was rejected.
    HeaderRejected {
        at: String,
    },
    /// The pedimento was rejected for a total overflow, after its 501 row was read.
    HeaderOverflow {
        pedimento: String,
        file: String,
        line: i64,
    },
    /// The pedimento number (`aduana-patente-número`) exists in several years.
    AmbiguousPedimento {
        number: String,
        years: Vec<i32>,
    },
    MissingPedimento {
        number: String,
    },
    MissingPartida {
        partida: i32,
        pedimento: String,
    },
}

/// A value of a template: plain (the same in both languages) or a field error (rendered
/// in the language).
enum Val<'a> {
    Plain(String),
    Field(&'a FieldError),
}

impl RejectReason {
    /// The kind: the key of the per-file counts.
    pub fn kind(&self) -> RejectKind {
        use RejectReason as R;
        match self {
            R::BadField(_) => RejectKind::BadField,
            R::BadRfc(_) => RejectKind::BadRfc,
            R::BadDate(_) => RejectKind::BadDate,
            R::NotANumber(_) => RejectKind::NotANumber,
            R::UnknownClave(_) => RejectKind::UnknownClave,
            R::BadCsv { .. } => RejectKind::BadCsv,
            R::QuotedFieldSpansLines { .. }
            | R::UnclosedQuote { .. }
            | R::QuotesSplitField { .. } => RejectKind::BadQuoting,
            R::TruncatedLine { .. } => RejectKind::TruncatedLine,
            R::TooManyFields { .. } => RejectKind::TooManyFields,
            R::MissingColumns { .. } | R::MissingColumnsOfFile { .. } => RejectKind::MissingColumn,
            R::InconsistentHeader { .. } => RejectKind::InconsistentHeader,
            R::TotalOverflow { .. } => RejectKind::TotalOverflow,
            R::HeaderRejected { .. } | R::HeaderOverflow { .. } => RejectKind::PedimentoRejected,
            R::AmbiguousPedimento { .. } => RejectKind::AmbiguousPedimento,
            R::MissingPedimento { .. } => RejectKind::MissingPedimento,
            R::MissingPartida { .. } => RejectKind::MissingPartida,
        }
    }

    /// The detail's templates (without the kind) and values.
    fn parts(&self) -> Parts<Val<'_>> {
        use RejectReason as R;
        let p = |x: &dyn ToString| Val::Plain(x.to_string());
        match self {
            R::BadField(e)
            | R::BadRfc(e)
            | R::BadDate(e)
            | R::NotANumber(e)
            | R::UnknownClave(e) => ("{}", "{0}", vec![Val::Field(e)]),
            R::BadCsv { error } => ("{}", "{0}", vec![p(error)]),
            R::QuotedFieldSpansLines { field, first, last } => (
                "the quoted field {} spans lines {}-{} (an unclosed quote, or a line break inside a field: multi-line fields are read only when allowed)",
                "el campo entre comillas {0} abarca las líneas {1}-{2} (una comilla sin cerrar o un salto de línea dentro de un campo: los campos de varias líneas solo se leen con --csv-multiline)",
                vec![p(field), p(first), p(last)],
            ),
            R::UnclosedQuote {
                first,
                last,
                fields,
                header,
                field,
            } => (
                "an unclosed or stray quote at line {} makes one record of lines {}-{} ({} fields, the header has {}; field {})",
                "una comilla sin cerrar o suelta en la línea {0} hace un solo registro de las líneas {1}-{2} ({3} campos, el encabezado tiene {4}; campo {5})",
                vec![p(first), p(first), p(last), p(fields), p(header), p(field)],
            ),
            R::QuotesSplitField {
                index,
                name,
                fields,
                parts,
                header,
            } => (
                "quotes around field {} ({}) make {} fields of a line of {} comma-separated parts; the header has {}",
                "las comillas del campo {0} ({1}) hacen {2} campos de una línea de {3} partes separadas por comas; el encabezado tiene {4}",
                vec![p(index), p(name), p(fields), p(parts), p(header)],
            ),
            R::TruncatedLine { fields, header } | R::TooManyFields { fields, header } => (
                "{} fields, the header has {}",
                "{0} campos, el encabezado tiene {1}",
                vec![p(fields), p(header)],
            ),
            R::MissingColumns { columns, hint } => {
                let c = vec![p(&columns.join(", "))];
                match hint {
                    None => ("the header lacks {}", "al encabezado le falta {0}", c),
                    Some(Separator::Semicolon) => (
                        "the header lacks {} (the header has one column with ';' in it: this layout is comma-separated)",
                        "al encabezado le falta {0} (el encabezado tiene una sola columna, con ';': este formato se separa con comas)",
                        c,
                    ),
                    Some(Separator::Tab) => (
                        "the header lacks {} (the header has one column with tabs in it: this layout is comma-separated)",
                        "al encabezado le falta {0} (el encabezado tiene una sola columna, con tabuladores: este formato se separa con comas)",
                        c,
                    ),
                }
            }
            R::MissingColumnsOfFile { columns } => (
                "the header of this file lacks {}",
                "al encabezado de este archivo le falta {0}",
                vec![p(&columns.join(", "))],
            ),
            R::InconsistentHeader { first_line } => (
                "rfc/clave/fecha_pago/tipo_operacion differ from line {} of the same pedimento",
                "rfc/clave/fecha_pago/tipo_operacion difieren de los de la línea {0} del mismo pedimento",
                vec![p(first_line)],
            ),
            R::TotalOverflow { column, pedimento } => (
                "the {} of pedimento {} (the sum of its partidas) does not fit DECIMAL(18,2); the pedimento is rejected",
                "el {0} del pedimento {1} (la suma de sus partidas) no cabe en DECIMAL(18,2); se rechaza el pedimento",
                vec![p(column), p(pedimento)],
            ),
            R::HeaderRejected { at } => (
                "its 501 row ({}) was rejected",
                "se rechazó su renglón 501 ({0})",
                vec![p(at)],
            ),
            R::HeaderOverflow {
                pedimento,
                file,
                line,
            } => (
                "{} was rejected (total overflow; see its 501 row, {}:{})",
                "se rechazó {0} (total fuera de rango; ver su renglón 501, {1}:{2})",
                vec![p(pedimento), p(file), p(line)],
            ),
            R::AmbiguousPedimento { number, years } => (
                "{} exists in years {}; the row's date does not pick one",
                "{0} existe en los años {1}; la fecha del renglón no permite elegir uno",
                vec![p(number), Val::Plain(format!("{years:?}"))],
            ),
            R::MissingPedimento { number } => (
                "no 501 datos generales row for {} (in this input or the dataset)",
                "no hay renglón 501 de datos generales para {0} (ni en esta entrada ni en el conjunto de datos)",
                vec![p(number)],
            ),
            R::MissingPartida { partida, pedimento } => (
                "no 551 row for partida {} of {}",
                "no hay renglón 551 para la partida {0} de {1}",
                vec![p(partida), p(pedimento)],
            ),
        }
    }

    /// The English rendering: what ingest stores (also [`fmt::Display`]).
    pub fn en(&self) -> String {
        self.to_string()
    }

    /// The Spanish rendering.
    pub fn es(&self) -> String {
        let (_, es, v) = self.parts();
        let v: Vec<String> = v
            .into_iter()
            .map(|x| match x {
                Val::Plain(s) => s,
                Val::Field(e) => e.es(),
            })
            .collect();
        format!("{}: {}", self.kind().es(), fill_named(es, &v))
    }

    /// One value of every variant and template form, the specific forms before the
    /// general ones (the order [`RejectReason::es_of_en`] tries their templates in).
    pub fn samples() -> Vec<RejectReason> {
        use RejectReason as R;
        let v = |x: &str| x.to_string();
        let e = || FieldError::NotANumber { value: v("uno") };
        let all = vec![
            R::BadField(e()),
            R::BadRfc(e()),
            R::BadDate(e()),
            R::NotANumber(e()),
            R::UnknownClave(e()),
            R::BadCsv { error: v("X") },
            R::QuotedFieldSpansLines {
                field: v("descripcion"),
                first: 3,
                last: 4,
            },
            R::UnclosedQuote {
                first: 3,
                last: 6,
                fields: 40,
                header: 40,
                field: v("descripcion"),
            },
            R::QuotesSplitField {
                index: 8,
                name: v("descripcion"),
                fields: 39,
                parts: 40,
                header: 40,
            },
            R::TruncatedLine {
                fields: 8,
                header: 31,
            },
            R::TooManyFields {
                fields: 33,
                header: 31,
            },
            R::MissingColumns {
                columns: vec![v("rfc"), v("umt")],
                hint: Some(Separator::Semicolon),
            },
            R::MissingColumns {
                columns: vec![v("rfc")],
                hint: Some(Separator::Tab),
            },
            R::MissingColumns {
                columns: vec![v("rfc")],
                hint: None,
            },
            R::MissingColumnsOfFile {
                columns: vec![v("Rfc")],
            },
            R::InconsistentHeader { first_line: 2 },
            R::TotalOverflow {
                column: v("valor_aduana"),
                pedimento: v("2024-240-3953-4000001"),
            },
            R::HeaderRejected { at: v("a.asc:6") },
            R::HeaderOverflow {
                pedimento: v("2024-240-3953-4000001"),
                file: v("a.asc"),
                line: 6,
            },
            R::AmbiguousPedimento {
                number: v("240-3953-4000001"),
                years: vec![2021, 2024],
            },
            R::MissingPedimento {
                number: v("240-3953-4000001"),
            },
            R::MissingPartida {
                partida: 2,
                pedimento: v("2024-240-3953-4000001"),
            },
        ];
        // Every variant is listed: this match has no wildcard, so a new variant does not
        // compile until it has a sample above.
        for r in &all {
            match r {
                R::BadField(_)
                | R::BadRfc(_)
                | R::BadDate(_)
                | R::NotANumber(_)
                | R::UnknownClave(_)
                | R::BadCsv { .. }
                | R::QuotedFieldSpansLines { .. }
                | R::UnclosedQuote { .. }
                | R::QuotesSplitField { .. }
                | R::TruncatedLine { .. }
                | R::TooManyFields { .. }
                | R::MissingColumns { .. }
                | R::MissingColumnsOfFile { .. }
                | R::InconsistentHeader { .. }
                | R::TotalOverflow { .. }
                | R::HeaderRejected { .. }
                | R::HeaderOverflow { .. }
                | R::AmbiguousPedimento { .. }
                | R::MissingPedimento { .. }
                | R::MissingPartida { .. } => {}
            }
        }
        all
    }

    /// The Spanish form of a stored (English) reason: read back through the templates of
    /// [`RejectReason::samples`]. A reason no template matches keeps its text, with its
    /// kind in Spanish when the kind is known (English beats a wrong guess).
    pub fn es_of_en(text: &str) -> String {
        let Some(kind) = RejectKind::of_stored(text) else {
            return text.to_string();
        };
        let detail = text.split_once(':').map_or("", |(_, d)| d);
        let detail = detail.strip_prefix(' ').unwrap_or(detail);
        for s in RejectReason::samples().iter().filter(|s| s.kind() == kind) {
            let (en, es, vals) = s.parts();
            let Some(got) = captures(en, detail) else {
                continue;
            };
            let got: Vec<String> = got
                .into_iter()
                .zip(&vals)
                .map(|(g, v)| match v {
                    Val::Field(_) => FieldError::es_of_en(g).unwrap_or_else(|| g.to_string()),
                    Val::Plain(_) => g.to_string(),
                })
                .collect();
            return format!("{}: {}", kind.es(), fill_named(es, &got));
        }
        format!("{}: {detail}", kind.es())
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (en, _, v) = self.parts();
        let v: Vec<String> = v
            .into_iter()
            .map(|x| match x {
                Val::Plain(s) => s,
                Val::Field(e) => e.to_string(),
            })
            .collect();
        write!(f, "{}: {}", self.kind().key(), fill_seq(en, &v))
    }
}

/// `template` with its `{}` replaced by `values`, in order.
pub(super) fn fill_seq(template: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut pieces = template.split("{}");
    out.push_str(pieces.next().unwrap_or(""));
    for (piece, v) in pieces.zip(values) {
        out.push_str(v);
        out.push_str(piece);
    }
    out
}

/// `template` with `{0}`, `{1}`, ... replaced by `values`.
pub(super) fn fill_named<S: AsRef<str>>(template: &str, values: &[S]) -> String {
    let mut out = template.to_string();
    for (i, v) in values.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), v.as_ref());
    }
    out
}

/// The values of `template` (pieces between `{}`) in `text`, or None when it does not
/// match. Each `{}` takes the shortest text that lets the next literal piece match,
/// except the last one, which takes everything up to the final literal. A value may be
/// empty (an empty field: `'' is not a number`).
pub(super) fn captures<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let pieces: Vec<&str> = template.split("{}").collect();
    if pieces.len() == 1 {
        return (template == text).then(Vec::new);
    }
    let first = pieces[0];
    let last = pieces[pieces.len() - 1];
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return None;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    let mut out = vec![];
    for lit in &pieces[1..pieces.len() - 1] {
        let at = rest.find(lit)?;
        out.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    out.push(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowercase English words that have no business in Spanish text (whole words).
    const ENGLISH: &[&str] = &[
        "the",
        "of",
        "with",
        "missing",
        "not",
        "is",
        "and",
        "or",
        "rows",
        "row",
        "fields",
        "field",
        "header",
        "must",
        "has",
        "have",
        "rejected",
        "number",
        "empty",
        "at",
        "from",
        "for",
        "in",
        "line",
        "lines",
        "quote",
        "quotes",
        "expected",
        "got",
        "bad",
        "year",
        "years",
        "its",
        "does",
        "fit",
        "this",
        "file",
        "exists",
        "too",
        "large",
        "more",
        "than",
        "digits",
        "column",
        "which",
        "see",
        "only",
        "when",
        "allowed",
        "spans",
        "makes",
        "record",
        "one",
        "date",
        "valid",
        "characters",
        "letters",
        "e.g",
        "lacks",
        "differ",
        "same",
        "sum",
        "unclosed",
        "stray",
        "parts",
        "separated",
        "read",
    ];

    fn english_words(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map(|w| w.trim_end_matches('.'))
            .filter(|w| ENGLISH.contains(w))
            .collect()
    }

    #[test]
    fn every_variant_has_english_and_spanish_renderings() {
        let reasons = RejectReason::samples();
        let mut kinds: Vec<RejectKind> = reasons.iter().map(|r| r.kind()).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds, RejectKind::ALL.to_vec(), "every kind has a sample");
        let fields = FieldError::samples();
        // The field errors under each field kind, the others once.
        let mut all: Vec<RejectReason> = reasons;
        for e in &fields {
            all.push(RejectReason::BadField(e.clone()));
        }
        for r in &all {
            let (en, es) = (r.en(), r.es());
            assert!(!en.is_empty() && !es.is_empty(), "{r:?}");
            assert_ne!(en, es, "{r:?}");
            assert!(en.starts_with(&format!("{}: ", r.kind().key())), "{en}");
            assert!(es.starts_with(&format!("{}: ", r.kind().es())), "{es}");
            assert!(
                english_words(&es).is_empty(),
                "English in {es:?}: {:?}",
                english_words(&es)
            );
            // A stored reason reads back into the same Spanish.
            assert_eq!(RejectReason::es_of_en(&en), es, "{en}");
        }
        for e in &fields {
            assert_eq!(FieldError::es_of_en(&e.to_string()), Some(e.es()), "{e:?}");
        }
        for k in RejectKind::ALL {
            assert_eq!(RejectKind::from_key(k.key()), Some(k));
            assert!(english_words(k.es()).is_empty(), "{k:?}");
        }
    }

    #[test]
    fn stored_wording_is_unchanged() {
        // The English text ingest stored before the enum (rejects Parquet, tests, greps).
        let r = RejectReason::BadRfc(FieldError::RfcLength {
            rfc: "MNO01020".into(),
            len: 8,
        });
        assert_eq!(
            r.to_string(),
            "bad RFC: RFC 'MNO01020' must have 12 or 13 characters, has 8"
        );
        let r = RejectReason::UnclosedQuote {
            first: 3,
            last: 6,
            fields: 40,
            header: 31,
            field: "descripcion".into(),
        };
        assert_eq!(
            r.to_string(),
            "bad quoting: an unclosed or stray quote at line 3 makes one record of lines 3-6 (40 fields, the header has 31; field descripcion)"
        );
        let r = RejectReason::BadField(FieldError::YesNo {
            value: "x\"y".into(),
        });
        assert_eq!(
            r.to_string(),
            "bad field: expected 1/0 or si/no, got \"x\\\"y\""
        );
        let r = RejectReason::AmbiguousPedimento {
            number: "240-3953-4000001".into(),
            years: vec![2021, 2024],
        };
        assert_eq!(
            r.to_string(),
            "ambiguous pedimento: 240-3953-4000001 exists in years [2021, 2024]; the row's date does not pick one"
        );
    }

    #[test]
    fn reject_reasons_in_spanish() {
        // (Formerly model::phrases' table: the same texts.)
        assert_eq!(
            RejectReason::es_of_en("bad RFC: RFC 'MNO01020' must have 12 or 13 characters, has 8"),
            "RFC inválido: el RFC 'MNO01020' debe tener 12 o 13 caracteres y tiene 8"
        );
        assert_eq!(
            RejectReason::es_of_en("not a number: 'uno' is not a number"),
            "no es un número: 'uno' no es un número"
        );
        assert_eq!(
            RejectReason::es_of_en("truncated line: 8 fields, the header has 31"),
            "línea truncada: 8 campos, el encabezado tiene 31"
        );
        assert_eq!(
            RejectReason::es_of_en("bad field: umt is empty"),
            "campo inválido: umt está vacío"
        );
        assert_eq!(
            RejectReason::es_of_en("pedimento rejected: its 501 row (a.asc:6) was rejected"),
            "pedimento rechazado: se rechazó su renglón 501 (a.asc:6)"
        );
        // An empty value is a value.
        assert_eq!(
            RejectReason::es_of_en("not a number: '' is not a number"),
            "no es un número: '' no es un número"
        );
        // Unknown text passes through; an unknown detail keeps its text under the kind.
        assert_eq!(RejectReason::es_of_en("zzz: qqq"), "zzz: qqq");
        assert_eq!(RejectReason::es_of_en("3001"), "3001");
        assert_eq!(RejectReason::es_of_en("bad RFC: qqq"), "RFC inválido: qqq");
    }
}
