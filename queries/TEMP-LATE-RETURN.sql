-- TEMP-LATE-RETURN: quantity of a temporary-import partida discharged (returned, transferred,
-- changed of regime or regularized) after its plazo ended: one finding per import partida
-- and discharge partida, from the allocations of the descargo ledger dated up to the as-of
-- date. The plazo end is the lot's `vence` in ledger_balances (its own plazo, or the
-- cancellation limit of the program it was imported under).
--   days late = discharge date - plazo end, in calendar days (computed from year, month
--               and day: proleptic Gregorian day numbers, portable across SQL engines);
--   amount    = valor_aduana of the import * late quantity / imported (rounded to cents);
--   igi, ieps, iva as TEMP-EXPIRED (default IVA rate in force on the import's date): the contributions that were at risk while the goods
--               stayed past the plazo (DTA, recargos, actualización and fines not included).
-- The allocations discharged after their lot's plazo ended are picked first, joining the
-- allocations to the lots' plazo ends only (one allocation per lot and discharge insumo on a
-- bill of materials: joining every allocation to the lots' whole rows held hundreds of MB
-- to keep a few); a lot's late allocations of one discharge are then summed.
WITH late AS (
    SELECT al.import_id, al.import_partida, al.discharge_id, al.discharge_partida,
           al.discharge_clave, al.discharge_fecha, al.cantidad
    FROM ledger_allocations al
    JOIN ledger_balances v ON v.pedimento_id = al.import_id AND v.partida = al.import_partida
    WHERE al.import_id IS NOT NULL AND al.discharge_fecha <= ${as_of}
      AND v.vence IS NOT NULL AND al.discharge_fecha > v.vence
),
a AS (
    SELECT import_id, import_partida, discharge_id, discharge_partida, discharge_clave,
           discharge_fecha, SUM(cantidad) AS cantidad
    FROM late
    GROUP BY import_id, import_partida, discharge_id, discharge_partida, discharge_clave,
             discharge_fecha
),
l AS (
    SELECT b.rfc, b.pedimento_id, b.partida, b.fraccion, b.umt, b.clave, b.imported,
           b.valor_aduana, b.igi_tasa, b.iva_tasa, b.ieps_tasa, b.vence, b.cita,
           b.fecha_operacion AS rate_fecha,
           a.discharge_id, a.discharge_partida, a.discharge_clave, a.discharge_fecha, a.cantidad,
           CAST(EXTRACT(YEAR FROM b.vence) AS INTEGER) AS y1,
           CAST(EXTRACT(MONTH FROM b.vence) AS INTEGER) AS m1,
           CAST(EXTRACT(DAY FROM b.vence) AS INTEGER) AS d1,
           CAST(EXTRACT(YEAR FROM a.discharge_fecha) AS INTEGER) AS y2,
           CAST(EXTRACT(MONTH FROM a.discharge_fecha) AS INTEGER) AS m2,
           CAST(EXTRACT(DAY FROM a.discharge_fecha) AS INTEGER) AS d2
    FROM a
    JOIN ledger_balances b ON b.pedimento_id = a.import_id AND b.partida = a.import_partida
    WHERE b.vence IS NOT NULL AND a.discharge_fecha > b.vence
),
-- March-based year and month (January and February count in the previous year).
s AS (
    SELECT l.*,
           y1 - CASE WHEN m1 <= 2 THEN 1 ELSE 0 END AS yy1,
           m1 + CASE WHEN m1 <= 2 THEN 9 ELSE -3 END AS mm1,
           y2 - CASE WHEN m2 <= 2 THEN 1 ELSE 0 END AS yy2,
           m2 + CASE WHEN m2 <= 2 THEN 9 ELSE -3 END AS mm2
    FROM l
),
n AS (
    SELECT s.*,
           CAST(365 * yy2 + FLOOR(yy2 / 4.0) - FLOOR(yy2 / 100.0) + FLOOR(yy2 / 400.0)
                + FLOOR((153 * mm2 + 2) / 5.0) + d2 AS BIGINT)
           - CAST(365 * yy1 + FLOOR(yy1 / 4.0) - FLOOR(yy1 / 100.0) + FLOOR(yy1 / 400.0)
                + FLOOR((153 * mm1 + 2) / 5.0) + d1 AS BIGINT) AS days_late,
           ROUND(s.valor_aduana * s.cantidad / s.imported, 2) AS v
    FROM s
),
iva_v AS (
    SELECT DISTINCT z.pedimento_id, z.partida, t.tasa AS iva_default,
           '[' || t.version || '] ' || t.instrumento AS iva_cita
    FROM n z
    CROSS JOIN tasas_contribucion t
    WHERE t.contribucion = 'IVA' AND t.valid_from <= z.rate_fecha
      AND (t.valid_to IS NULL OR z.rate_fecha <= t.valid_to)
),
y AS (
    SELECT n.*, ROUND(v * COALESCE(igi_tasa, 0) / 100, 2) AS igi_a,
           ROUND(v * COALESCE(ieps_tasa, 0) / 100, 2) AS ieps_a,
           iv.iva_default, iv.iva_cita
    FROM n
    LEFT JOIN iva_v iv ON iv.pedimento_id = n.pedimento_id AND iv.partida = n.partida
)
SELECT 'TEMP-LATE-RETURN' AS check_code,
       'high' AS severity,
       rfc,
       pedimento_id,
       partida,
       discharge_id AS related_pedimento_id,
       fraccion,
       vence AS period_start,
       ${as_of} AS as_of,
       cantidad AS quantity,
       v AS amount,
       igi_a AS igi,
       ROUND((v + igi_a + ieps_a) * COALESCE(iva_tasa, iva_default) / 100, 2) AS iva,
       ieps_a AS ieps,
       'Temporary import ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fraccion ' || fraccion
           || '): ' || CAST(cantidad AS VARCHAR) || ' of ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || CASE WHEN discharge_clave = 'DESTRUCCION'
                   THEN ' destroyed (desperdicio, desperdicios.csv ' || discharge_id || ')'
                   ELSE ' discharged by ' || discharge_clave || ' ' || discharge_id || ' partida '
                        || CAST(discharge_partida AS VARCHAR) END
           || ' on ' || CAST(discharge_fecha AS VARCHAR) || ', '
           || CAST(days_late AS VARCHAR) || ' day(s) after its plazo ended ' || CAST(vence AS VARCHAR)
           || CASE WHEN iva_tasa IS NULL AND iva_default IS NULL
                   THEN '; IVA unknown: the pedimento declares no IVA rate and no default rate is in force on '
                        || CAST(rate_fecha AS VARCHAR)
                   ELSE '' END AS message,
       'Importación temporal ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fracción ' || fraccion
           || '): ' || CAST(cantidad AS VARCHAR) || ' de ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || CASE WHEN discharge_clave = 'DESTRUCCION'
                   THEN ' destruida (desperdicio, desperdicios.csv ' || discharge_id || ')'
                   ELSE ' descargada por ' || discharge_clave || ' ' || discharge_id || ' partida '
                        || CAST(discharge_partida AS VARCHAR) END
           || ' el ' || CAST(discharge_fecha AS VARCHAR) || ', '
           || CAST(days_late AS VARCHAR) || ' día(s) después de vencido el plazo el ' || CAST(vence AS VARCHAR)
           || CASE WHEN iva_tasa IS NULL AND iva_default IS NULL
                   THEN '; IVA desconocido: el pedimento no declara tasa de IVA y no hay tasa general vigente el '
                        || CAST(rate_fecha AS VARCHAR)
                   ELSE '' END AS mensaje,
       'RCGMCE 2013 regla 5.2.17 fr. VI (goods not returned, transferred or changed of regime within the plazo: cause to cancel the IVA/IEPS certification); Ley Aduanera art. 183 fr. II (fine when regularized once an audit has started, RCGMCE 2013 regla 2.5.2); plazo: ' || cita || CASE WHEN iva_tasa IS NULL AND iva_default IS NOT NULL
                     THEN '; IVA at the default rate of ' || iva_cita ELSE '' END AS citation,
       'partidas:' || pedimento_id || '#' || CAST(partida AS VARCHAR) || ';partidas:' || discharge_id || '#'
           || CAST(discharge_partida AS VARCHAR) AS evidence
FROM y
