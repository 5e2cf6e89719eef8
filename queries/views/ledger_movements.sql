-- Movements of the descargo ledger, one row per partida:
--   kind 'I' = temporary import (claves in src/catalogs/plazos.csv, tipo_operacion 1);
--   kind 'D' = discharge (claves in src/catalogs/discharge_claves.csv; claves marked
--              requires_immex discharge only when the filer declared an IMMEX program,
--              e.g. a V1 export without IM is a national supplier's virtual export);
--   kind 'U' = discharge in a tariff unit (UMT) that no import of the same good uses:
--              kept out of the ledger and reported by DESCARGO-UNIT (no silent conversion).
-- The good is (rfc, fraccion, umt). Dates are fecha_operacion (selección automatizada,
-- seed 004 L4089 / L4097).
WITH imp AS (
    SELECT p.rfc, pa.fraccion, pa.umt, p.pedimento_id, pa.partida, p.clave,
           p.tipo_operacion, p.fecha_operacion, p.immex_programa,
           pa.cantidad_umt AS cantidad, pa.valor_aduana, pa.igi_tasa, pa.iva_tasa, pa.ieps_tasa
    FROM current_pedimentos p
    JOIN partidas pa ON pa.pedimento_id = p.pedimento_id
    JOIN plazos pl ON pl.clave = p.clave
    WHERE p.tipo_operacion = 1
),
dis AS (
    SELECT p.rfc, pa.fraccion, pa.umt, p.pedimento_id, pa.partida, p.clave,
           p.tipo_operacion, p.fecha_operacion, p.immex_programa,
           pa.cantidad_umt AS cantidad, pa.valor_aduana, pa.igi_tasa, pa.iva_tasa, pa.ieps_tasa
    FROM current_pedimentos p
    JOIN partidas pa ON pa.pedimento_id = p.pedimento_id
    JOIN discharge_claves dc ON dc.clave = p.clave AND dc.tipo_operacion = p.tipo_operacion
    WHERE dc.requires_immex = 0 OR p.immex_programa IS NOT NULL
),
imp_units AS (SELECT DISTINCT rfc, fraccion, umt FROM imp),
imp_goods AS (SELECT DISTINCT rfc, fraccion FROM imp)
SELECT 'I' AS kind, imp.* FROM imp
UNION ALL
SELECT CASE WHEN u.umt IS NULL AND g.rfc IS NOT NULL THEN 'U' ELSE 'D' END AS kind,
       d.rfc, d.fraccion, d.umt, d.pedimento_id, d.partida, d.clave, d.tipo_operacion,
       d.fecha_operacion, d.immex_programa, d.cantidad, d.valor_aduana, d.igi_tasa,
       d.iva_tasa, d.ieps_tasa
FROM dis d
LEFT JOIN imp_units u ON u.rfc = d.rfc AND u.fraccion = d.fraccion AND u.umt = d.umt
LEFT JOIN imp_goods g ON g.rfc = d.rfc AND g.fraccion = d.fraccion
