//! Spanish texts of the checks: title, legal basis and `explain` page, keyed by check code.
//!
//! Kept apart from [`super::REGISTRY`] (which holds the English texts) so that adding a
//! check touches one more line here; `checks::tests::every_check_has_spanish_texts` fails
//! when a registered check has none. The pages are `queries/<CODE>.es.md` (and
//! `queries/cert/*.es.md`, `queries/virtual/*.es.md`), next to the English ones.

pub struct CheckEs {
    pub code: &'static str,
    pub title: &'static str,
    pub citation: &'static str,
    pub doc: &'static str,
}

const fn es(
    code: &'static str,
    title: &'static str,
    citation: &'static str,
    doc: &'static str,
) -> CheckEs {
    CheckEs {
        code,
        title,
        citation,
        doc,
    }
}

pub static ES: &[CheckEs] = &[
    es(
        "TEMP-EXPIRED",
        "Importación temporal con saldo pendiente después de vencido su plazo",
        "Ley Aduanera art. 108 fr. I (insumos, 18 meses) y fr. III (activo fijo, mientras esté vigente el programa IMMEX: Manual de Operación Aduanera 2007, apartado D, norma 121ª); el plazo se cuenta desde la activación del mecanismo de selección automatizado (Ley Aduanera arts. 35 y 43; Manual de Operación Aduanera 2007, apartado D, norma 2ª); RCGMCE 2013 regla 5.2.17 fr. VI",
        include_str!("../../queries/TEMP-EXPIRED.es.md"),
    ),
    es(
        "TEMP-EXPIRING",
        "Importación temporal cuyo plazo está por vencer",
        "Ley Aduanera art. 108 fr. I; el plazo se cuenta desde la activación del mecanismo de selección automatizado (Manual de Operación Aduanera 2007, apartado D, norma 2ª)",
        include_str!("../../queries/TEMP-EXPIRING.es.md"),
    ),
    es(
        "TEMP-LATE-RETURN",
        "Importación temporal descargada después de vencido su plazo",
        "RCGMCE 2013 regla 5.2.17 fr. VI; Ley Aduanera art. 183 fr. II (RCGMCE 2013 regla 2.5.2)",
        include_str!("../../queries/TEMP-LATE-RETURN.es.md"),
    ),
    es(
        "TEMP-PLAZO-UNKNOWN",
        "Importación temporal cuyo plazo no puede determinarse",
        "Ley Aduanera arts. 106 y 108 fr. III; el activo fijo puede permanecer mientras esté vigente el programa IMMEX (Manual de Operación Aduanera 2007, apartado D, norma 121ª)",
        include_str!("../../queries/TEMP-PLAZO-UNKNOWN.es.md"),
    ),
    es(
        "DESCARGO-EXCESS",
        "Descargo sin importación temporal con saldo que descargar",
        "Ley Aduanera arts. 108 y 109; descargo conforme al control automatizado de inventarios (Manual de Operación Aduanera 2007, apartado E, norma 23ª)",
        include_str!("../../queries/DESCARGO-EXCESS.es.md"),
    ),
    es(
        "DESCARGO-NO-BOM",
        "Descargo de una fracción nunca importada y sin lista de materiales vigente",
        "Ley Aduanera arts. 108 y 109; los insumos se descargan conforme a la lista de materiales de las mercancías retornadas (Anexo 24; Manual de Operación Aduanera 2007, IMMEX, norma vigesimatercera)",
        include_str!("../../queries/DESCARGO-NO-BOM.es.md"),
    ),
    es(
        "DESCARGO-UNIT",
        "Descargo declarado en una unidad de tarifa distinta a la de la importación",
        "Anexo 22 (RGCE 2017), campo UMT y Apéndice 7; las cantidades se descargan en la unidad de medida de la tarifa de la importación",
        include_str!("../../queries/DESCARGO-UNIT.es.md"),
    ),
    es(
        "SALDO-DIFF",
        "Lote de importación cuyo saldo en el reporte de Anexo 24 de la empresa difiere del kardex calculado",
        "Ley Aduanera art. 59 fr. I y Anexo 24 (control automatizado de inventarios: descargos y saldos); RCGMCE 2013 regla 5.2.14 fr. VII",
        include_str!("../../queries/SALDO-DIFF.es.md"),
    ),
    es(
        "DATA-CONFLICT",
        "Mismo pedimento recibido dos veces con contenido distinto",
        "Ley Aduanera art. 89 (rectificación de pedimentos): un pedimento solo cambia mediante rectificación",
        include_str!("../../queries/DATA-CONFLICT.es.md"),
    ),
    es(
        "CERT-RATIO",
        "Certificación IVA/IEPS: índice de retorno de 12 meses menor a 60% (80% sectores sensibles)",
        "La regla vigente en la fecha de corte (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso d) (60%) y su exención del primer año; sectores sensibles (Anexo I TER del Decreto IMMEX) inciso b) (80%); RGCE regla 7.1.2 (rubro A, programa IMMEX) a partir de 2017",
        include_str!("../../queries/cert/CERT-RATIO.es.md"),
    ),
    es(
        "CERT-A",
        "Certificación IVA/IEPS modalidad A: requisito incumplido o no verificable",
        "La regla vigente en la fecha de corte (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartados A y B; RGCE reglas 7.1.1 y 7.1.2 (rubro A) a partir de 2017",
        include_str!("../../queries/cert/CERT-ASSESS.es.md"),
    ),
    es(
        "CERT-AA",
        "Certificación IVA/IEPS modalidad AA: requisito incumplido o no verificable",
        "La regla vigente en la fecha de corte (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado C, fr. I (y su párrafo sobre créditos fiscales con convenio); RGCE regla 7.1.3, fr. I a partir de 2017",
        include_str!("../../queries/cert/CERT-ASSESS.es.md"),
    ),
    es(
        "CERT-AAA",
        "Certificación IVA/IEPS modalidad AAA: requisito incumplido o no verificable",
        "La regla vigente en la fecha de corte (docs/rules.md): RCGMCE 2013 regla 5.2.13, apartado C, fr. II (y su párrafo sobre créditos fiscales con convenio); RGCE regla 7.1.3, fr. II a partir de 2017",
        include_str!("../../queries/cert/CERT-ASSESS.es.md"),
    ),
    es(
        "CERT-RENEWAL",
        "Certificación IVA/IEPS: aviso de renovación pendiente o registro vencido",
        "RGCE regla 7.1.6 (vigencia) y regla 7.2.3 (aviso único de renovación); RCGMCE 2013 regla 5.2.14",
        include_str!("../../queries/cert/CERT-RENEWAL.es.md"),
    ),
    es(
        "VIRTUAL-UNPAIRED",
        "Operación virtual sin uno de sus lados en los datos",
        "Dos pedimentos por operación virtual, el de importación a nombre de quien recibe (Manual de Operación Aduanera 2007, apartado A.7, normas 123ª y 126ª; numeración de las RCGMCE 2007); Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9",
        include_str!("../../queries/virtual/VIRTUAL-UNPAIRED.es.md"),
    ),
    es(
        "VIRTUAL-MISMATCH",
        "Operación virtual cuyos dos lados no coinciden (mercancías, valor, referencia, RFC)",
        "Sin discrepancias de cantidad y descripción entre los pedimentos de una operación virtual (Manual de Operación Aduanera 2007, apartado A.7, norma 130ª)",
        include_str!("../../queries/virtual/VIRTUAL-MISMATCH.es.md"),
    ),
    es(
        "VIRTUAL-LATE",
        "Operación virtual presentada fuera del plazo de su supuesto",
        "Fechas de presentación de las operaciones virtuales (Manual de Operación Aduanera 2007, apartado A.7, norma 123ª num. 2 y 4; numeración de las RCGMCE 2007); V5 en la misma fecha (Manual de Operación Aduanera 2007, apartado E, norma 27ª)",
        include_str!("../../queries/virtual/VIRTUAL-LATE.es.md"),
    ),
    es(
        "VIRTUAL-CLAVE",
        "Par virtual cuyas claves o tipos de operación no corresponden a ningún supuesto",
        "Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9; un lado de exportación y uno de importación por operación virtual (Manual de Operación Aduanera 2007, apartado A.7, norma 123ª)",
        include_str!("../../queries/virtual/VIRTUAL-CLAVE.es.md"),
    ),
];

/// The Spanish texts of `code`.
pub fn of(code: &str) -> Option<&'static CheckEs> {
    ES.iter().find(|c| c.code == code)
}
