-- Balance of every temporary-import partida at the as-of date, with its plazo and state.
--   plazo: the catalog row of the import's plazo_clave in force on the import's date
--     (plazos.valid_from <= fecha_operacion <= valid_to, empty valid_to = in force); the
--     citation names that version ('[version] cita'). No version in force on that date:
--     meses and por_programa NULL, estado 'plazo desconocido' and the citation says why; (its clave, or AF for activo fijo
--     declared with identificador AF; see ledger_movements):
--     meses:        inicio_plazo + meses months (Ley Aduanera art. 108 fr. I: 18 months for
--                   insumos; art. 106 temporales 6 or 12 months), counted from the selección
--                   automatizada (inicio_plazo = fecha_operacion; for a consolidated pedimento
--                   the start the reading in force gives, see ledger_movements). One WHEN per length used in src/catalogs/plazos.csv
--                   (tests/ledger_rules.rs checks that every length has its branch);
--     por_programa: the end of the IMMEX program the import is linked to (Ley Aduanera
--                   art. 108 fr. III); an empty fecha_fin is open-ended ('vigente'); no linked
--                   program: unknown;
--     a cancelled linked program: at most 60 calendar days after the cancellation, 180 with
--       the extension (Manual de operación aduanera 2007, IMMEX, norma centesimadecimatercera).
--       Only the imports of the cancelled program: a later program keeps its own imports.
--   state: 'vencido' (as_of > vence), 'por vencer' (vence within ${expiring_days} days),
--          'vigente', or 'plazo desconocido'; 'saldado' when nothing is open.
-- Allocations dated after the as-of date are not counted.
WITH imp AS (
    SELECT * FROM ledger_movements WHERE kind = 'I'
),
pv AS (
    SELECT i.pedimento_id, i.partida, pl.meses, pl.por_programa,
           '[' || pl.version || '] ' || pl.cita || COALESCE(i.inicio_cita, '') AS cita
    FROM imp i
    JOIN plazos pl ON pl.clave = i.plazo_clave
    WHERE pl.valid_from <= i.fecha_operacion
      AND (pl.valid_to IS NULL OR i.fecha_operacion <= pl.valid_to)
),
disc AS (
    SELECT import_id, import_partida, SUM(cantidad) AS q
    FROM ledger_allocations
    WHERE import_id IS NOT NULL AND discharge_fecha <= ${as_of}
    GROUP BY import_id, import_partida
),
b AS (
    SELECT i.rfc, i.fraccion, i.umt, i.pedimento_id, i.partida, i.clave, i.fecha_operacion,
           i.cantidad AS imported, COALESCE(d.q, i.cantidad - i.cantidad) AS discharged,
           i.cantidad - COALESCE(d.q, i.cantidad - i.cantidad) AS open_qty,
           i.valor_aduana, i.igi_tasa, i.iva_tasa, i.ieps_tasa,
           i.tipo_bien, pl.meses, pl.por_programa,
           COALESCE(pl.cita, 'No version of the plazo of clave ' || i.plazo_clave
                    || ' in force on ' || CAST(i.fecha_operacion AS VARCHAR)
                    || ' (src/catalogs/plazos.csv, docs/rules.md): plazo unknown') AS cita,
           i.programa,
           CASE
               WHEN pl.meses = 6 THEN CAST(i.inicio_plazo + INTERVAL '6 months' AS DATE)
               WHEN pl.meses = 12 THEN CAST(i.inicio_plazo + INTERVAL '12 months' AS DATE)
               WHEN pl.meses = 18 THEN CAST(i.inicio_plazo + INTERVAL '18 months' AS DATE)
               WHEN pl.meses IS NULL AND pl.por_programa = 1 THEN i.programa_fin
               ELSE CAST(NULL AS DATE)
           END AS vence_plazo,
           CASE
               WHEN i.programa_cancelacion IS NULL THEN CAST(NULL AS DATE)
               WHEN i.programa_prorroga = 1 THEN CAST(i.programa_cancelacion + INTERVAL '180 days' AS DATE)
               ELSE CAST(i.programa_cancelacion + INTERVAL '60 days' AS DATE)
           END AS vence_cancelacion,
           CASE
               WHEN pl.meses IS NULL AND pl.por_programa = 1 AND i.programa_vinculado = 1
                    AND i.programa_fin IS NULL THEN 1
               ELSE 0
           END AS abierto
    FROM imp i
    LEFT JOIN pv pl ON pl.pedimento_id = i.pedimento_id AND pl.partida = i.partida
    LEFT JOIN disc d ON d.import_id = i.pedimento_id AND d.import_partida = i.partida
    WHERE i.fecha_operacion <= ${as_of}
),
v AS (
    SELECT b.*,
           CASE
               WHEN vence_cancelacion IS NOT NULL AND (vence_plazo IS NULL OR vence_cancelacion < vence_plazo)
                   THEN vence_cancelacion
               ELSE vence_plazo
           END AS vence
    FROM b
)
SELECT rfc, fraccion, umt, pedimento_id, partida, clave, fecha_operacion, imported, discharged,
       open_qty, valor_aduana, igi_tasa, iva_tasa, ieps_tasa, tipo_bien, meses, por_programa,
       cita, programa, vence_plazo, vence_cancelacion, vence,
       CASE
           WHEN open_qty <= 0 THEN 'saldado'
           WHEN vence IS NULL AND abierto = 1 THEN 'vigente'
           WHEN vence IS NULL THEN 'plazo desconocido'
           WHEN vence < ${as_of} THEN 'vencido'
           WHEN vence <= CAST(${as_of} + INTERVAL '${expiring_days} days' AS DATE) THEN 'por vencer'
           ELSE 'vigente'
       END AS estado
FROM v
ORDER BY rfc, fraccion, umt, fecha_operacion, pedimento_id, partida
