-- SALDO-DIFF: an import lot whose saldo per the company's own descargo report (its Anexo 24
-- inventory control system; profile descargos_anexo24.csv) differs from the saldo of the
-- computed descargo ledger at the as-of date. One finding per lot (import pedimento,
-- fracción) of a company that gave a report.
--   company discharged = the report's quantities for the lot whose discharge (return
--                        pedimento, or ACTA of a destruction) is dated up to the as-of date
--                        (a discharge the dataset does not know is counted: it has no date);
--   ledger discharged  = ledger_allocations for the lot dated up to the as-of date;
--   saldo              = imported - discharged, on each side;
--   quantity           = company saldo - ledger saldo (negative: the company discharged more);
--   amount             = valor_aduana of the lot * |difference| / imported (rounded to cents);
--   returns involved   = the discharges whose quantity on the lot differs between the two
--                        (count, first and last; related_pedimento_id = the first).
-- A report row whose import pedimento is not a temporary import in the dataset is a lot the
-- ledger does not know: its ledger saldo is unknown and the finding says so (company from
-- the discharge pedimento; rows whose import and discharge are both unknown to the dataset
-- cannot be attributed to a company and are not reported).
-- The report's partida is informative: a lot is the import's partidas of one fracción.
WITH lots AS (
    SELECT rfc, pedimento_id AS import_id, fraccion, MIN(umt) AS umt, MIN(clave) AS clave,
           MIN(partida) AS partida, SUM(imported) AS imported,
           SUM(valor_aduana) AS valor_aduana
    FROM ledger_balances
    GROUP BY rfc, pedimento_id, fraccion
),
des AS (
    SELECT 'ACTA ' || acta AS id, MIN(fecha) AS fecha FROM desperdicios GROUP BY acta
),
co AS (
    SELECT COALESCE(l.rfc, p.rfc) AS rfc, r.pedimento_descargo AS ret,
           r.pedimento_importacion AS import_id, r.fraccion, r.cantidad AS q
    FROM descargos_anexo24 r
    LEFT JOIN lots l ON l.import_id = r.pedimento_importacion AND l.fraccion = r.fraccion
    LEFT JOIN current_pedimentos p ON p.pedimento_id = r.pedimento_descargo
    LEFT JOIN des x ON x.id = r.pedimento_descargo
    WHERE COALESCE(p.fecha_operacion, x.fecha) IS NULL
       OR COALESCE(p.fecha_operacion, x.fecha) <= ${as_of}
),
co_rfc AS (SELECT DISTINCT rfc FROM co WHERE rfc IS NOT NULL),
-- The lots of the companies that gave a report, before the allocations are joined to them
-- (most histories have no report: the allocations then join no row instead of all of them).
co_lots AS (
    SELECT l.rfc, l.import_id, l.fraccion FROM lots l JOIN co_rfc c ON c.rfc = l.rfc
),
pairs AS (
    SELECT l.rfc, a.import_id, a.fraccion, a.discharge_id AS ret, a.cantidad AS o,
           a.cantidad - a.cantidad AS t
    FROM ledger_allocations a
    JOIN co_lots l ON l.import_id = a.import_id AND l.fraccion = a.fraccion
    WHERE a.import_id IS NOT NULL AND a.discharge_fecha <= ${as_of}
    UNION ALL
    SELECT rfc, import_id, fraccion, ret, q - q AS o, q AS t
    FROM co
    WHERE rfc IS NOT NULL
),
per_ret AS (
    SELECT rfc, import_id, fraccion, ret, SUM(o) AS o, SUM(t) AS t
    FROM pairs
    GROUP BY rfc, import_id, fraccion, ret
),
per_lot AS (
    SELECT rfc, import_id, fraccion, SUM(o) AS o, SUM(t) AS t,
           SUM(CASE WHEN o <> t THEN 1 ELSE 0 END) AS n_ret,
           MIN(CASE WHEN o <> t THEN ret END) AS r_min,
           MAX(CASE WHEN o <> t THEN ret END) AS r_max
    FROM per_ret
    GROUP BY rfc, import_id, fraccion
)
SELECT 'SALDO-DIFF' AS check_code,
       'medium' AS severity,
       d.rfc,
       d.import_id AS pedimento_id,
       l.partida,
       d.r_min AS related_pedimento_id,
       d.fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       CAST(d.o - d.t AS DECIMAL(18, 5)) AS quantity,
       ROUND(l.valor_aduana * ABS(d.o - d.t) / l.imported, 2) AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       CASE WHEN l.import_id IS NULL
            THEN 'Import ' || d.import_id || ' (fraccion ' || d.fraccion || '): the company Anexo 24 report discharges '
                 || CAST(d.t AS VARCHAR) || ' from it, but it is not a temporary import in the dataset (as of '
                 || CAST(${as_of} AS VARCHAR) || ')'
            ELSE 'Import ' || l.clave || ' ' || d.import_id || ' (fraccion ' || d.fraccion || ', UMT ' || l.umt
                 || '): saldo ' || CAST(l.imported - d.t AS VARCHAR) || ' per the company Anexo 24 report, '
                 || CAST(l.imported - d.o AS VARCHAR) || ' per the ledger (imported ' || CAST(l.imported AS VARCHAR)
                 || '; discharged ' || CAST(d.t AS VARCHAR) || ' vs ' || CAST(d.o AS VARCHAR) || ')'
            END
           || '; ' || CAST(d.n_ret AS VARCHAR) || ' discharge(s) differ: ' || d.r_min
           || CASE WHEN d.r_max <> d.r_min THEN ' .. ' || d.r_max ELSE '' END AS message,
       CASE WHEN l.import_id IS NULL
            THEN 'Importación ' || d.import_id || ' (fracción ' || d.fraccion || '): el reporte de Anexo 24 de la empresa le descarga '
                 || CAST(d.t AS VARCHAR) || ', pero no es una importación temporal del dataset (al '
                 || CAST(${as_of} AS VARCHAR) || ')'
            ELSE 'Importación ' || l.clave || ' ' || d.import_id || ' (fracción ' || d.fraccion || ', UMT ' || l.umt
                 || '): saldo ' || CAST(l.imported - d.t AS VARCHAR) || ' según el reporte de Anexo 24 de la empresa, '
                 || CAST(l.imported - d.o AS VARCHAR) || ' según el kardex calculado (importado ' || CAST(l.imported AS VARCHAR)
                 || '; descargado ' || CAST(d.t AS VARCHAR) || ' contra ' || CAST(d.o AS VARCHAR) || ')'
            END
           || '; ' || CAST(d.n_ret AS VARCHAR) || ' descargo(s) difieren: ' || d.r_min
           || CASE WHEN d.r_max <> d.r_min THEN ' .. ' || d.r_max ELSE '' END AS mensaje,
       'Ley Aduanera art. 59 fr. I and Anexo 24 (automated inventory control: descargos and saldos of the temporary imports); RCGMCE 2013 regla 5.2.14 fr. VII' AS citation,
       'descargos_anexo24.csv:' || d.import_id || ' fraccion ' || d.fraccion AS evidence
FROM per_lot d
LEFT JOIN lots l ON l.import_id = d.import_id AND l.fraccion = d.fraccion
WHERE d.o <> d.t
