-- Balance of every temporary-import partida at the as-of date, with its plazo and state.
--   vence (plazo end):
--     insumos (plazos.meses = 18): fecha_operacion + 18 months (Ley Aduanera art. 108
--       fr. I; not in the seeds), counted from selección automatizada (seed 004 L4089);
--     activo fijo (por_programa = 1): the IMMEX program's end date from the company
--       profile (seed 004 L5257); unknown without it;
--     any temporary import of a company whose program was cancelled: at most 60 calendar
--       days after the cancellation, 180 with the extension (seed 004 L2826-2834).
--   state: 'vencido' (as_of > vence), 'por vencer' (vence within ${expiring_days} days),
--          'vigente', or 'plazo desconocido'; 'saldado' when nothing is open.
-- Allocations dated after the as-of date are not counted.
WITH imp AS (
    SELECT * FROM ledger_movements WHERE kind = 'I'
),
disc AS (
    SELECT import_id, import_partida, SUM(cantidad) AS q
    FROM ledger_allocations
    WHERE import_id IS NOT NULL AND discharge_fecha <= ${as_of}
    GROUP BY import_id, import_partida
),
prog AS (
    SELECT rfc, MAX(fecha_fin) AS fecha_fin, MAX(fecha_cancelacion) AS fecha_cancelacion,
           MAX(prorroga) AS prorroga
    FROM programas
    GROUP BY rfc
),
b AS (
    SELECT i.rfc, i.fraccion, i.umt, i.pedimento_id, i.partida, i.clave, i.fecha_operacion,
           i.cantidad AS imported, COALESCE(d.q, i.cantidad - i.cantidad) AS discharged,
           i.cantidad - COALESCE(d.q, i.cantidad - i.cantidad) AS open_qty,
           i.valor_aduana, i.igi_tasa, i.iva_tasa, i.ieps_tasa,
           pl.tipo_bien, pl.meses, pl.por_programa, pl.cita,
           CASE
               WHEN pl.meses = 18 THEN CAST(i.fecha_operacion + INTERVAL '18 months' AS DATE)
               WHEN pl.por_programa = 1 THEN pr.fecha_fin
               ELSE CAST(NULL AS DATE)
           END AS vence_plazo,
           CASE
               WHEN pr.fecha_cancelacion IS NULL THEN CAST(NULL AS DATE)
               WHEN pr.prorroga = 1 THEN CAST(pr.fecha_cancelacion + INTERVAL '180 days' AS DATE)
               ELSE CAST(pr.fecha_cancelacion + INTERVAL '60 days' AS DATE)
           END AS vence_cancelacion
    FROM imp i
    JOIN plazos pl ON pl.clave = i.clave
    LEFT JOIN disc d ON d.import_id = i.pedimento_id AND d.import_partida = i.partida
    LEFT JOIN prog pr ON pr.rfc = i.rfc
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
SELECT v.*,
       CASE
           WHEN open_qty <= 0 THEN 'saldado'
           WHEN vence IS NULL THEN 'plazo desconocido'
           WHEN vence < ${as_of} THEN 'vencido'
           WHEN vence <= CAST(${as_of} + INTERVAL '${expiring_days} days' AS DATE) THEN 'por vencer'
           ELSE 'vigente'
       END AS estado
FROM v
ORDER BY rfc, fraccion, umt, fecha_operacion, pedimento_id, partida
