//! Spanish forms of the English phrases the lower layers store as data: the ingest
//! summary's file notes, the input paths ingest did not read, and the certification
//! assessment's measured / threshold / window / missing / verdict texts
//! (`cert_assessment.parquet`). Reject reasons have their Spanish beside their variants
//! ([`super::reject::RejectReason`]).
//!
//! Those layers keep writing English (the stored values are stable across `--lang`, and
//! tests and users grep them); every writer that shows one of them to a person passes it
//! through [`Lang::phrase`](super::lang::Lang::phrase), so the wording lives in one place:
//! this table. Numbers, dates, file names, field names and legal citations pass through.
//!
//! A pattern is the English text with `{}` where a value goes; the Spanish template names
//! the values `{0}`, `{1}`, ... Values are themselves translated (a value may be a
//! phrase of its own). Matching, in order: the whole text against [`PATTERNS`]; then a
//! `kind: detail` text by its two halves (when the kind is one); then `; `-separated parts
//! one by one; then the
//! fixed fragments of [`FRAGMENTS`] replaced inside the text. Unknown text passes through
//! unchanged (English beats a wrong guess); `tests/report_spanish.rs` runs the fixtures
//! and fails on English words left in the Spanish output.

/// (English pattern, Spanish template). More specific patterns first.
pub const PATTERNS: &[(&str, &str)] = &[
    // Ingest file notes.
    (
        "record type {} is not used by the dataset ({} rows)",
        "el tipo de registro {0} no se usa en el conjunto de datos ({1} renglón(es))",
    ),
    (
        "already ingested (same SHA-256): no-op",
        "ya ingerido (mismo SHA-256): sin cambios",
    ),
    (
        "duplicate of another input file in this run (same SHA-256)",
        "duplicado de otro archivo de esta ejecución (mismo SHA-256)",
    ),
    // Input paths not read (ingest's listing of the inputs).
    (
        "symbolic link loop: points to {}, a folder it is in: not followed",
        "ciclo de enlaces simbólicos: apunta a {0}, una carpeta que lo contiene: no se sigue",
    ),
    (
        "dangling symbolic link (to {}): nothing to read",
        "enlace simbólico roto (a {0}): nada que leer",
    ),
    ("cannot read: {}", "no se puede leer: {0}"),
    // Certification: measured values.
    (
        "no temporary imports of insumos nor returns in the window (0 >= 0)",
        "sin importaciones temporales de insumos ni retornos en la ventana (0 >= 0)",
    ),
    (
        "n/a (no temporary imports)",
        "no aplica (sin importaciones temporales)",
    ),
    ("n/a (nothing authorized)", "no aplica (nada autorizado)"),
    (
        "pedimentos before {}: the 12-month window starts {} (partial window)",
        "pedimentos anteriores a {0}: la ventana de 12 meses inicia el {1} (ventana parcial)",
    ),
    (
        "positive, issued {} ({} days before)",
        "positiva, emitida el {0} ({1} días antes)",
    ),
    ("opinión negative", "opinión negativa"),
    (
        "CSD in force (17-H X events not verifiable from data)",
        "CSD vigente (supuestos del CFF art. 17-H fr. X no verificables con los datos)",
    ),
    ("CSD not in force", "CSD no vigente"),
    ("CSD in force", "CSD vigente"),
    ("not listed", "no listado"),
    ("listed", "listado"),
    ("minimum {} employees", "mínimo {0} trabajadores"),
    ("{} employees", "{0} trabajadores"),
    ("avg employees {}", "promedio de trabajadores {0}"),
    ("machinery {}", "maquinaria {0}"),
    ("operating since {} ({})", "opera desde el {0} ({1})"),
    ("{} years since {} ({})", "{0} años desde el {1} ({2})"),
    (
        "first IMMEX pedimento in the dataset",
        "primer pedimento IMMEX del conjunto de datos",
    ),
    (
        "{} unpaid ({}), {} paid or under convenio",
        "{0} sin pagar ({1}), {2} pagados o en convenio",
    ),
    (
        "denied {} = {} of authorized {}",
        "negado {0} = {1} de lo autorizado {2}",
    ),
    ("{} cancelled {}", "{0} cancelado el {1}"),
    ("{} ({} of {})", "{0} ({1} de {2})"),
    // Certification: thresholds.
    (
        "not verifiable from pedimentos/profile",
        "no verificable con los pedimentos ni el perfil",
    ),
    (
        "applies to sensitive sectors",
        "aplica a sectores sensibles",
    ),
    ("document", "documento"),
    (
        "positive, within 30 days",
        "positiva, dentro de los 30 días",
    ),
    (
        "positive, issued within 30 days before the as-of date",
        "positiva, emitida dentro de los 30 días anteriores a la fecha de corte",
    ),
    (">= 1 year left", ">= 1 año de vigencia restante"),
    ("all, prior fiscal year", "todas, ejercicio fiscal anterior"),
    ("in force, not cancelled", "vigente, no cancelado"),
    (">= {} employees", ">= {0} trabajadores"),
    (
        ">= {} months before the as-of date",
        ">= {0} meses antes de la fecha de corte",
    ),
    (
        ">= {} employees in each bimestre ({})",
        ">= {0} trabajadores en cada bimestre ({1})",
    ),
    (
        ">= {}% of domestic insumos",
        ">= {0}% de insumos nacionales",
    ),
    (
        ">= {} years OR > {} employees (avg) OR machinery > {}",
        ">= {0} años O > {1} trabajadores (promedio) O maquinaria > {2}",
    ),
    (
        "0 unpaid credits (paid or under convenio allowed)",
        "0 créditos sin pagar (se admiten pagados o en convenio)",
    ),
    (
        "denied <= 20% of authorized and <= $5,000,000.00",
        "negado <= 20% de lo autorizado y <= $5,000,000.00",
    ),
    (
        "not (denied > 20% of authorized and > $5,000,000.00)",
        "no (negado > 20% de lo autorizado y > $5,000,000.00)",
    ),
    (
        "hiring documents (program < 1 year, RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
        "documentos de contratación (programa < 1 año, RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
    ),
    (
        "exempt: program operating < 1 year (RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
        "exento: programa con operación < 1 año (RCGMCE 2013 regla 5.2.13, apartado B, fr. I)",
    ),
    // Certification: windows.
    ("at {}", "al {0}"),
    ("bimestre {}", "bimestre {0}"),
    ("bimestres {}", "bimestres {0}"),
    (
        "purchases {}; supplier status at {}",
        "compras {0}; situación de los proveedores al {1}",
    ),
    ("years to {}; headcount {}", "años al {0}; plantilla {1}"),
    // Certification: missing data.
    ("missing: {}", "falta: {0}"),
    ("{}: no row for {}", "{0}: sin renglón para {1}"),
    (
        "{}: trabajadores for bimestre {}",
        "{0}: trabajadores del bimestre {1}",
    ),
    ("{}: trabajadores for {}", "{0}: trabajadores de {1}"),
    (
        "{}: no purchases of {} in {}",
        "{0}: sin compras de {1} en {2}",
    ),
    (
        "{} (and no IMMEX pedimento)",
        "{0} (y ningún pedimento IMMEX)",
    ),
    (
        "{}: fecha_solicitud ({} rows of {} without it)",
        "{0}: fecha_solicitud ({1} renglones de {2} sin ella)",
    ),
    // Certification: verdict detail.
    (
        "no modality met ({} failing or missing data: {})",
        "ninguna modalidad cumplida ({0} no cumplen o sin datos: {1})",
    ),
    (
        "{} met on {} verifiable requirements",
        "{0} cumplida en {1} requisitos verificables",
    ),
    (
        "{} manual requirements pending ({})",
        "{0} requisitos manuales pendientes ({1})",
    ),
    ("rules: {}", "reglas: {0}"),
    ("unknown: {}", "sin verificar: {0}"),
];

/// Fixed fragments replaced inside a text no pattern matched whole.
pub const FRAGMENTS: &[(&str, &str)] = &[
    (
        "not verifiable from pedimentos/profile",
        "no verificable con los pedimentos ni el perfil",
    ),
    ("(partial window)", "(ventana parcial)"),
];

/// English fragments of the citations the checks store (`findings.citation`, from the
/// SQL in queries/ and the dated rule catalogues in src/catalogs/), with their Spanish
/// form; instrument names, article and rule numbers are the same in both. Longest first
/// where one contains another.
pub const CITATION_FRAGMENTS: &[(&str, &str)] = &[
    (
        "Each virtual operation needs the pedimento of both sides, the import side in the receiving company's name",
        "Cada operación virtual requiere el pedimento de ambas partes, el de importación a nombre de la empresa que recibe",
    ),
    (
        "Quantity and description must agree across the pedimentos of a virtual operation",
        "La cantidad y la descripción deben coincidir entre los pedimentos de una operación virtual",
    ),
    (
        "counterpart pedimento and RFC declared in the V1-V9 identificador",
        "pedimento y RFC de la contraparte declarados en el identificador V1-V9",
    ),
    (
        "comparing them with the pair is this tool's inference, not a rule",
        "compararlos con el par es una inferencia de esta herramienta, no una regla",
    ),
    (
        "discharge of insumos incorporated in the returned goods per the automated inventory control",
        "descargo de los insumos incorporados en las mercancías retornadas conforme al control automatizado de inventarios",
    ),
    (
        "discharge per the automated inventory control",
        "descargo conforme al control automatizado de inventarios",
    ),
    (
        "the discharge is measured in the import's tariff unit",
        "el descargo se mide en la unidad de tarifa de la importación",
    ),
    (
        "a pedimento changes only through a rectificación",
        "un pedimento solo cambia mediante una rectificación",
    ),
    (
        "plazo counted from the selección automatizada",
        "plazo contado desde la selección automatizada",
    ),
    (
        "counted from the selección automatizada",
        "contado desde la selección automatizada",
    ),
    ("IVA at the default rate of", "IVA a la tasa general de"),
    ("same plazo as insumos", "mismo plazo que los insumos"),
    (
        "(counted from the virtual import)",
        "(contado desde la importación virtual)",
    ),
    (
        "it is activo fijo: see clave AF",
        "es activo fijo: ver clave AF",
    ),
    ("With identificador AF", "Con identificador AF"),
    (
        "while the IMMEX program is valid",
        "mientras esté vigente el programa IMMEX",
    ),
    (
        "60 days after a cancellation, extendable once to 180",
        "60 días después de una cancelación, prorrogables una vez a 180",
    ),
    (
        "per-operation windows of the Manual de Operación Aduanera 2007",
        "plazos por operación del Manual de Operación Aduanera 2007",
    ),
    (
        "carried forward under the RCGMCE 2013",
        "vigentes bajo las RCGMCE 2013",
    ),
    (
        "Presentation dates of virtual operations",
        "Fechas de presentación de las operaciones virtuales",
    ),
    (
        "rules numbered as in the RCGMCE 2007",
        "reglas con la numeración de las RCGMCE 2007",
    ),
    (
        "RCGMCE 2007 numbering, as the manual cites it",
        "numeración de las RCGMCE 2007, como la cita el manual",
    ),
    ("RCGMCE 2007 numbering", "numeración de las RCGMCE 2007"),
    ("RCGMCE 2013 numbering", "numeración de las RCGMCE 2013"),
    ("(regla 1.5.2 in 2007)", "(regla 1.5.2 en 2007)"),
    (
        "(no longer the leasing sale of 2007)",
        "(ya no la enajenación a arrendadoras de 2007)",
    ),
    (
        "the other case rules are cited with their RCGMCE 2007 number because their 2013 number is not in the product's sources",
        "las demás reglas de los casos se citan con su número de las RCGMCE 2007 porque su número de 2013 no está en las fuentes del producto",
    ),
    (
        "consolidated pedimentos: weekly or monthly consolidated pedimentos presented on the Tuesday of each week or within the first 10 business days of each month",
        "pedimentos consolidados: semanales o mensuales, presentados el martes de cada semana o dentro de los primeros 10 días hábiles de cada mes",
    ),
    (
        "consolidated pedimentos: weekly consolidated pedimentos or within the first 20 days of each month, covering the operations of the previous week or month",
        "pedimentos consolidados: semanales o dentro de los primeros 20 días de cada mes, por las operaciones de la semana o el mes anterior",
    ),
    (
        "with the notice to the SAAI at the first transfer of the week or month",
        "con el aviso al SAAI en la primera transferencia de la semana o del mes",
    ),
    (
        "a late sender side of cases 17-19 needs the Ley Aduanera art. 185 fr. I fine",
        "la parte que envía fuera de plazo en los casos 17-19 requiere la multa del art. 185 fr. I de la Ley Aduanera",
    ),
    (
        "two pedimentos per virtual operation, an export side and an import side",
        "dos pedimentos por operación virtual, uno de exportación y uno de importación",
    ),
    ("insumos, 18 months", "insumos, 18 meses"),
    ("temporales 6 or 12 months", "temporales 6 o 12 meses"),
    (", for regla ", ", para la regla "),
    (" num. 2 and 4", " num. 2 y 4"),
    (" 123ª and 126ª", " 123ª y 126ª"),
    (" arts. 108 and 109", " arts. 108 y 109"),
    (" arts. 108 fr. I and 112", " arts. 108 fr. I y 112"),
    (" fr. I and fr. III", " fr. I y fr. III"),
];

/// Spanish form of a stored citation: [`CITATION_FRAGMENTS`] replaced inside it.
pub fn citation_es(text: &str) -> String {
    let mut o = text.to_string();
    for (en, sp) in CITATION_FRAGMENTS {
        if o.contains(en) {
            o = o.replace(en, sp);
        }
    }
    o
}

/// The values of `pattern` (pieces between `{}`) in `text`, or None when it does not match.
/// Each `{}` takes the shortest text that lets the next literal piece match, except the
/// last one, which takes everything up to the final literal.
fn captures<'a>(pattern: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let pieces: Vec<&str> = pattern.split("{}").collect();
    if pieces.len() == 1 {
        return (pattern == text).then(Vec::new);
    }
    let first = pieces[0];
    let last = pieces[pieces.len() - 1];
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return None;
    }
    let body = &text[first.len()..text.len() - last.len()];
    let mut out = vec![];
    let mut rest = body;
    for lit in &pieces[1..pieces.len() - 1] {
        let at = rest.find(lit)?;
        out.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    out.push(rest);
    // A value is never empty (an empty match means the pattern is the wrong one).
    out.iter().all(|v| !v.is_empty()).then_some(out)
}

fn fill(template: &str, values: &[String]) -> String {
    let mut o = template.to_string();
    for (i, v) in values.iter().enumerate() {
        o = o.replace(&format!("{{{i}}}"), v);
    }
    o
}

/// Spanish form of `text`, or `text` unchanged when nothing in the tables matches it.
pub fn es(text: &str) -> String {
    es_depth(text, 0)
}

fn es_depth(text: &str, depth: u8) -> String {
    if text.is_empty() || depth > 4 {
        return text.to_string();
    }
    for (en, sp) in PATTERNS {
        if let Some(vals) = captures(en, text) {
            let vals: Vec<String> = vals.iter().map(|v| es_depth(v, depth + 1)).collect();
            return fill(sp, &vals);
        }
    }
    if let Some((kind, detail)) = text.split_once(": ")
        && !kind.contains("; ")
    {
        let k = es_depth(kind, depth + 1);
        if k != kind {
            return format!("{k}: {}", es_depth(detail, depth + 1));
        }
    }
    if text.contains("; ") {
        return text
            .split("; ")
            .map(|p| es_depth(p, depth + 1))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let mut o = text.to_string();
    for (en, sp) in FRAGMENTS {
        o = o.replace(en, sp);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_text_passes_through() {
        assert_eq!(es("zzz: qqq"), "zzz: qqq");
        assert_eq!(es("3001"), "3001");
        assert_eq!(
            es("record type 502 is not used by the dataset (1 rows)"),
            "el tipo de registro 502 no se usa en el conjunto de datos (1 renglón(es))"
        );
    }

    #[test]
    fn certification_values() {
        assert_eq!(
            es("65.00% (MXN 65,000.00 of 100,000.00)"),
            "65.00% (MXN 65,000.00 de 100,000.00)"
        );
        assert_eq!(
            es("positive, issued 2023-12-20 (-80 days before)"),
            "positiva, emitida el 2023-12-20 (-80 días antes)"
        );
        assert_eq!(es("at 2023-10-01"), "al 2023-10-01");
        assert_eq!(
            es(
                "A met on 12 verifiable requirements; 3 manual requirements pending (A-I, A-II, A-VII); rules: RCGMCE2013"
            ),
            "A cumplida en 12 requisitos verificables; 3 requisitos manuales pendientes (A-I, A-II, A-VII); reglas: RCGMCE2013"
        );
        assert_eq!(
            es("missing: empresas.csv: no row for AAA010101AA1"),
            "falta: empresas.csv: sin renglón para AAA010101AA1"
        );
    }

    #[test]
    fn citations() {
        assert_eq!(
            citation_es(
                "Ley Aduanera arts. 108 and 109; discharge per the automated inventory control (Anexo 24)"
            ),
            "Ley Aduanera arts. 108 y 109; descargo conforme al control automatizado de inventarios (Anexo 24)"
        );
        assert_eq!(citation_es("RGCE, regla 7.1.2"), "RGCE, regla 7.1.2");
    }

    #[test]
    fn captures_need_every_literal() {
        assert_eq!(captures("a {} b {}", "a x b y"), Some(vec!["x", "y"]));
        assert_eq!(captures("a {} b {}", "a x c y"), None);
        assert_eq!(captures("{} is empty", " is empty"), None);
    }
}
