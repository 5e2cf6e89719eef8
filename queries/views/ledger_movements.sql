-- Movements of the descargo ledger, one row per partida:
--   kind 'I' = temporary import (claves in src/catalogs/plazos.csv, tipo_operacion 1; claves
--              marked requires_immex only when the filer declared an IMMEX program, e.g. a V5
--              import without IM is a resident's importación definitiva);
--   kind 'D' = discharge (claves in src/catalogs/discharge_claves.csv; claves marked
--              requires_immex discharge only when the filer declared an IMMEX program,
--              e.g. a V1 export without IM is a national supplier's virtual export);
--   kind 'U' = discharge in a tariff unit (UMT) that no import of the same good uses:
--              kept out of the ledger and reported by DESCARGO-UNIT (no silent conversion).
-- The good is (rfc, fraccion, umt) and the FIFO pool is the good within a regime (pool):
--   'activo_fijo' = imports whose clave is activo fijo (plazos.tipo_bien) or whose insumo
--                   clave carries the identificador AF (Anexo 22, Apéndice 8: activo fijo under
--                   a clave not exclusive to it, e.g. a V1 transfer of machinery); those
--                   imports take the plazo of clave AF (plazo_clave);
--   'insumo'      = every other temporary import (insumos and art. 106 temporales).
--   A discharge takes from the pool its clave names (discharge_claves.regimen: F4 insumos,
--   F5 activo fijo, V4 insumos); 'identificador' claves (RT, H1, V1, ...) take from the
--   activo-fijo pool when the pedimento or partida carries AF, else from the insumo pool.
-- only_open = 1: the discharge only applies to goods that are open temporary imports (A3
--   regularizes goods never imported temporarily too): what finds nothing open is dropped,
--   not an excess.
-- Program of an import (IMMEX claves only): the program of the company whose number the
-- pedimento declares (identificador IM), else the program in force on the import's date
-- (fecha_inicio <= date <= fecha_fin and not after its cancellation; empty fecha_inicio = no
-- lower bound, empty fecha_fin = open-ended); among several, the latest fecha_inicio (then
-- the highest program number) wins. Art. 106 temporales belong to no program.
-- Dates are fecha_operacion (selección automatizada, else payment).
-- pago = the moment of payment, 'YYYY-MM-DD hh:mm:ss' (fecha_pago and hora_pago; '99:99:99'
--   when the source gives no time, so that timed payments of a day come first; destruction
--   records: their fecha): PEPS orders same-day movements by it (ledger_allocations).
-- valor_aduana: on 'I' rows the import's valor en aduana; on 'D'/'U' rows the value the
-- discharge declares (valor comercial on exports and returns).
-- Bill of materials (profile bom.csv): a discharge partida whose (rfc, fraccion) has BOM
--   lines in force on its date (valid_from <= fecha_operacion <= valid_to, empty valid_to =
--   open-ended) discharges, instead of the product, each insumo of the BOM: one row per
--   BOM line with fraccion = insumo_fraccion, umt = the line's umt and
--   cantidad = product cantidad x consumo x (100 + merma_pct + desperdicio_pct) / 100
--   (5 decimals). Mermas are consumed in the process (Ley Aduanera art. 2 fr. XI).
--   Desperdicios leave the regime by return, destruction or change of regime (Ley Aduanera
--   art. 109): a company that files destruction records (profile desperdicios.csv, any row
--   with its RFC) has its desperdicio discharged by those records, so its BOM explosions
--   apply desperdicio_pct = 0 (bom_desperdicio_pct shows the percentage applied); a company
--   without destruction records has the desperdicio leave with the product's discharge.
-- Destruction records (profile desperdicios.csv, actas de destrucción, RGCE regla 4.3.5):
--   one 'D' row per record, pedimento_id = 'ACTA ' || acta, partida 0, clave 'DESTRUCCION',
--   pool 'insumo', valor_aduana NULL (a destruction declares no value); it discharges its
--   fracción's open lots by PEPS, or the import pedimento it names (ledger_allocations,
--   EXPLICIT). A destruction of a fracción never imported is an excess (DESCARGO-EXCESS),
--   never DESCARGO-NO-BOM.
--   producto_* and bom_* name the product and the BOM line (NULL on other rows);
--   valor_aduana stays the product partida's declared value. A discharge row is then
--   identified by (pedimento_id, partida, fraccion): bom.csv allows one line per insumo
--   fracción in force on a date.
-- kind 'N' = a discharge (not only_open) of a fracción the company never imported
--   temporarily and with no BOM in force on its date: kept out of the ledger and reported
--   by DESCARGO-NO-BOM (there is nothing it could discharge).
-- Consolidated pedimentos (Ley Aduanera art. 37; pedimentos.consolidado): inicio_plazo is
--   the date the plazo counts from under the reading in force on the import's date
--   (src/catalogs/virtual_versions.csv, inicio_plazo_consolidado): 'primera_remesa' (MOA2007:
--   the consolidated pedimento declares the first remesa as entry date, Manual de Operación
--   Aduanera 2007, apartado E, norma 34ª) = fecha_operacion (the earliest selección);
--   'cierre' (RCGMCE2013: from the closing of the consolidated pedimento before the SAAI,
--   RCGMCE 2013 regla 4.3.1) = fecha_pago. Other imports: fecha_operacion. inicio_cita names
--   the reading applied (NULL when not consolidated); ledger_balances appends it to the
--   plazo's citation. The plazo version itself is still picked on fecha_operacion.
-- Rule versions: plazos rows are dated (valid_from/valid_to); whether a clave is a temporary
--   import (and its tipo_bien, requires_immex) does not change across versions, so imports
--   are classified by clave here and ledger_balances picks the plazo version in force on the
--   import's date. A discharge counts only under the discharge_claves version in force on
--   its date.
WITH plazo_claves AS (
    SELECT DISTINCT clave, tipo_bien, requires_immex FROM plazos
),
af_g AS (
    SELECT DISTINCT pedimento_id FROM identificadores WHERE clave = 'AF' AND partida IS NULL
),
af_p AS (
    SELECT DISTINCT pedimento_id, partida FROM identificadores WHERE clave = 'AF' AND partida IS NOT NULL
),
imp0 AS (
    SELECT p.rfc, pa.fraccion, pa.umt, p.pedimento_id, pa.partida, p.clave,
           p.tipo_operacion, p.fecha_operacion, p.immex_programa,
           pa.cantidad_umt AS cantidad, pa.valor_aduana, pa.igi_tasa, pa.iva_tasa, pa.ieps_tasa,
           pl.tipo_bien,
           CAST(p.fecha_pago AS VARCHAR) || ' ' || COALESCE(p.hora_pago, '99:99:99') AS pago,
           p.fecha_pago, p.consolidado
    FROM current_pedimentos p
    JOIN partidas pa ON pa.pedimento_id = p.pedimento_id
    JOIN plazo_claves pl ON pl.clave = p.clave
    WHERE p.tipo_operacion = 1 AND (pl.requires_immex = 0 OR p.immex_programa IS NOT NULL)
),
-- The reading of the plazo start of a consolidated pedimento in force on its date.
cons AS (
    SELECT DISTINCT i.pedimento_id, i.fecha_operacion, i.fecha_pago,
           v.version, v.inicio_plazo_consolidado, v.cita_plazo_consolidado
    FROM imp0 i
    CROSS JOIN virtual_versions v
    WHERE i.consolidado = TRUE
      AND v.valid_from <= i.fecha_operacion
      AND (v.valid_to IS NULL OR i.fecha_operacion <= v.valid_to)
),
cons_start AS (
    SELECT pedimento_id,
           CASE WHEN inicio_plazo_consolidado = 'cierre' THEN fecha_pago ELSE fecha_operacion END
               AS inicio_plazo,
           '; consolidated pedimento [' || version || ']: plazo from its '
               || CASE WHEN inicio_plazo_consolidado = 'cierre' THEN 'closing ' || CAST(fecha_pago AS VARCHAR)
                       ELSE 'first remesa ' || CAST(fecha_operacion AS VARCHAR) END
               || ' (' || cita_plazo_consolidado || ')' AS inicio_cita
    FROM cons
),
imp1 AS (
    SELECT i.*,
           CASE WHEN i.tipo_bien = 'insumo'
                     AND (g.pedimento_id IS NOT NULL OR ap.pedimento_id IS NOT NULL)
                THEN 1 ELSE 0 END AS af,
           COALESCE(cs.inicio_plazo, i.fecha_operacion) AS inicio_plazo, cs.inicio_cita
    FROM imp0 i
    LEFT JOIN af_g g ON g.pedimento_id = i.pedimento_id
    LEFT JOIN af_p ap ON ap.pedimento_id = i.pedimento_id AND ap.partida = i.partida
    LEFT JOIN cons_start cs ON cs.pedimento_id = i.pedimento_id
),
prog AS (
    SELECT rfc, programa, COALESCE(fecha_inicio, CAST('1900-01-01' AS DATE)) AS ini,
           fecha_fin AS fin, fecha_cancelacion AS cancel, prorroga
    FROM programas
),
-- One row per numbered program (a program listed twice: earliest start, open-ended if any
-- row is, latest cancellation).
prog_num AS (
    SELECT rfc, programa, MIN(ini) AS ini,
           CASE WHEN MAX(CASE WHEN fin IS NULL THEN 1 ELSE 0 END) = 1 THEN CAST(NULL AS DATE)
                ELSE MAX(fin) END AS fin,
           MAX(cancel) AS cancel, MAX(prorroga) AS prorroga
    FROM prog
    WHERE programa IS NOT NULL
    GROUP BY rfc, programa
),
imp2 AS (
    SELECT i.*,
           CASE WHEN i.tipo_bien = 'temporal_106' THEN CAST(NULL AS VARCHAR) ELSE pn.programa END AS n_programa,
           pn.fin AS n_fin, pn.cancel AS n_cancel, pn.prorroga AS n_prorroga
    FROM imp1 i
    LEFT JOIN prog_num pn ON pn.rfc = i.rfc AND pn.programa = i.immex_programa
),
-- Imports without a declared (known) program: the program in force on their date.
cand AS (
    SELECT i.pedimento_id, i.partida, pr.programa, pr.ini, pr.fin, pr.cancel, pr.prorroga
    FROM imp2 i
    JOIN prog pr ON pr.rfc = i.rfc
    WHERE i.n_programa IS NULL AND i.tipo_bien <> 'temporal_106'
      AND pr.ini <= i.fecha_operacion
      AND (pr.fin IS NULL OR i.fecha_operacion <= pr.fin)
      AND (pr.cancel IS NULL OR i.fecha_operacion <= pr.cancel)
),
ranked AS (
    SELECT cand.*,
           ROW_NUMBER() OVER (PARTITION BY pedimento_id, partida
                              ORDER BY ini DESC, COALESCE(programa, '') DESC,
                                       COALESCE(fin, CAST('9999-12-31' AS DATE)) DESC,
                                       COALESCE(cancel, CAST('9999-12-31' AS DATE)) DESC,
                                       COALESCE(prorroga, 0) DESC) AS rn
    FROM cand
),
link AS (
    SELECT pedimento_id, partida, programa, fin, cancel, prorroga FROM ranked WHERE rn = 1
),
imp AS (
    SELECT i.rfc, i.fraccion, i.umt, i.pedimento_id, i.partida, i.clave, i.tipo_operacion,
           i.fecha_operacion, i.immex_programa, i.cantidad, i.valor_aduana, i.igi_tasa,
           i.iva_tasa, i.ieps_tasa,
           CASE WHEN i.tipo_bien = 'activo_fijo' OR i.af = 1 THEN 'activo_fijo' ELSE 'insumo' END AS pool,
           CASE WHEN i.af = 1 THEN 'activo_fijo' ELSE i.tipo_bien END AS tipo_bien,
           CASE WHEN i.af = 1 THEN 'AF' ELSE i.clave END AS plazo_clave,
           0 AS only_open,
           CASE WHEN i.n_programa IS NOT NULL THEN i.n_programa ELSE l.programa END AS programa,
           CASE WHEN i.n_programa IS NOT NULL THEN i.n_fin ELSE l.fin END AS programa_fin,
           CASE WHEN i.n_programa IS NOT NULL THEN i.n_cancel ELSE l.cancel END AS programa_cancelacion,
           CAST(CASE WHEN i.n_programa IS NOT NULL THEN i.n_prorroga ELSE l.prorroga END AS INTEGER)
               AS programa_prorroga,
           CASE WHEN i.n_programa IS NOT NULL OR l.pedimento_id IS NOT NULL THEN 1 ELSE 0 END
               AS programa_vinculado,
           i.pago, i.inicio_plazo, i.inicio_cita
    FROM imp2 i
    LEFT JOIN link l ON l.pedimento_id = i.pedimento_id AND l.partida = i.partida
),
dis0 AS (
    SELECT p.rfc, pa.fraccion, pa.umt, p.pedimento_id, pa.partida, p.clave,
           p.tipo_operacion, p.fecha_operacion, p.immex_programa,
           pa.cantidad_umt AS cantidad,
           -- The value the discharge declares: an export or return declares valor comercial
           -- (ValorAduana is 0 on export lines in SAT's Data Stage; Anexo 22, Instructivo de
           -- llenado), an import-side discharge (F4, F5, A3) its valor en aduana.
           CASE WHEN p.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END
               AS valor_aduana,
           pa.igi_tasa, pa.iva_tasa, pa.ieps_tasa,
           dc.regimen, CASE WHEN dc.kind = 'regularizacion' THEN 1 ELSE 0 END AS only_open,
           CAST(p.fecha_pago AS VARCHAR) || ' ' || COALESCE(p.hora_pago, '99:99:99') AS pago
    FROM current_pedimentos p
    JOIN partidas pa ON pa.pedimento_id = p.pedimento_id
    JOIN discharge_claves dc ON dc.clave = p.clave AND dc.tipo_operacion = p.tipo_operacion
    WHERE (dc.requires_immex = 0 OR p.immex_programa IS NOT NULL)
      AND dc.valid_from <= p.fecha_operacion
      AND (dc.valid_to IS NULL OR p.fecha_operacion <= dc.valid_to)
),
dis AS (
    SELECT d.*,
           CASE WHEN d.regimen = 'activo_fijo' THEN 'activo_fijo'
                WHEN d.regimen = 'insumo' THEN 'insumo'
                WHEN g.pedimento_id IS NOT NULL OR ap.pedimento_id IS NOT NULL THEN 'activo_fijo'
                ELSE 'insumo' END AS pool
    FROM dis0 d
    LEFT JOIN af_g g ON g.pedimento_id = d.pedimento_id
    LEFT JOIN af_p ap ON ap.pedimento_id = d.pedimento_id AND ap.partida = d.partida
),
des_rfc AS (SELECT DISTINCT rfc FROM desperdicios),
bom_d AS (
    SELECT d.rfc, b.insumo_fraccion AS fraccion, b.umt, d.pedimento_id, d.partida, d.clave,
           d.tipo_operacion, d.fecha_operacion, d.immex_programa,
           CAST(d.cantidad * b.consumo
                * (100 + b.merma_pct
                   + CASE WHEN dr.rfc IS NOT NULL THEN b.merma_pct - b.merma_pct
                          ELSE COALESCE(b.desperdicio_pct, b.merma_pct - b.merma_pct) END)
                / 100 AS DECIMAL(18, 5)) AS cantidad,
           d.valor_aduana, d.igi_tasa, d.iva_tasa, d.ieps_tasa, d.pool, d.only_open,
           d.fraccion AS producto_fraccion, d.umt AS producto_umt,
           d.cantidad AS producto_cantidad, b.consumo AS bom_consumo,
           b.merma_pct AS bom_merma_pct,
           CASE WHEN dr.rfc IS NOT NULL THEN b.merma_pct - b.merma_pct
                ELSE COALESCE(b.desperdicio_pct, b.merma_pct - b.merma_pct) END
               AS bom_desperdicio_pct,
           b.valid_from AS bom_valid_from, d.pago
    FROM dis d
    JOIN bom b ON b.rfc = d.rfc AND b.producto_fraccion = d.fraccion
    LEFT JOIN des_rfc dr ON dr.rfc = d.rfc
    WHERE b.valid_from <= d.fecha_operacion
      AND (b.valid_to IS NULL OR d.fecha_operacion <= b.valid_to)
),
bom_hit AS (SELECT DISTINCT pedimento_id, partida FROM bom_d),
dis_plain AS (
    SELECT d.* FROM dis d
    LEFT JOIN bom_hit h ON h.pedimento_id = d.pedimento_id AND h.partida = d.partida
    WHERE h.pedimento_id IS NULL
),
dis_all AS (
    SELECT rfc, fraccion, umt, pedimento_id, partida, clave, tipo_operacion, fecha_operacion,
           immex_programa, cantidad, valor_aduana, igi_tasa, iva_tasa, ieps_tasa, pool,
           only_open,
           CAST(NULL AS VARCHAR) AS producto_fraccion, CAST(NULL AS VARCHAR) AS producto_umt,
           CAST(NULL AS DECIMAL(18, 5)) AS producto_cantidad,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_consumo,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_merma_pct,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_desperdicio_pct,
           CAST(NULL AS DATE) AS bom_valid_from, pago
    FROM dis_plain
    UNION ALL
    SELECT rfc, fraccion, umt, pedimento_id, partida, clave, tipo_operacion, fecha_operacion,
           immex_programa, cantidad, valor_aduana, igi_tasa, iva_tasa, ieps_tasa, pool,
           only_open, producto_fraccion, producto_umt,
           CAST(producto_cantidad AS DECIMAL(18, 5)) AS producto_cantidad,
           CAST(bom_consumo AS DECIMAL(18, 6)) AS bom_consumo,
           CAST(bom_merma_pct AS DECIMAL(18, 6)) AS bom_merma_pct,
           CAST(bom_desperdicio_pct AS DECIMAL(18, 6)) AS bom_desperdicio_pct,
           bom_valid_from, pago
    FROM bom_d
    UNION ALL
    SELECT x.rfc, x.fraccion, x.umt, 'ACTA ' || x.acta AS pedimento_id,
           CAST(0 AS INTEGER) AS partida, 'DESTRUCCION' AS clave,
           CAST(NULL AS INTEGER) AS tipo_operacion, x.fecha AS fecha_operacion,
           CAST(NULL AS VARCHAR) AS immex_programa, x.cantidad,
           CAST(NULL AS DECIMAL(18, 2)) AS valor_aduana,
           CAST(NULL AS DECIMAL(18, 6)) AS igi_tasa, CAST(NULL AS DECIMAL(18, 6)) AS iva_tasa,
           CAST(NULL AS DECIMAL(18, 6)) AS ieps_tasa, 'insumo' AS pool, 0 AS only_open,
           CAST(NULL AS VARCHAR) AS producto_fraccion, CAST(NULL AS VARCHAR) AS producto_umt,
           CAST(NULL AS DECIMAL(18, 5)) AS producto_cantidad,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_consumo,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_merma_pct,
           CAST(NULL AS DECIMAL(18, 6)) AS bom_desperdicio_pct,
           CAST(NULL AS DATE) AS bom_valid_from,
           CAST(x.fecha AS VARCHAR) || ' 99:99:99' AS pago
    FROM desperdicios x
),
imp_units AS (SELECT DISTINCT rfc, fraccion, umt FROM imp),
imp_goods AS (SELECT DISTINCT rfc, fraccion FROM imp)
SELECT 'I' AS kind, imp.*,
       CAST(NULL AS VARCHAR) AS producto_fraccion, CAST(NULL AS VARCHAR) AS producto_umt,
       CAST(NULL AS DECIMAL(18, 5)) AS producto_cantidad,
       CAST(NULL AS DECIMAL(18, 6)) AS bom_consumo,
       CAST(NULL AS DECIMAL(18, 6)) AS bom_merma_pct,
       CAST(NULL AS DECIMAL(18, 6)) AS bom_desperdicio_pct,
       CAST(NULL AS DATE) AS bom_valid_from
FROM imp
UNION ALL
SELECT CASE WHEN u.umt IS NULL AND g.rfc IS NOT NULL THEN 'U'
            WHEN g.rfc IS NULL AND d.producto_fraccion IS NULL AND d.only_open = 0
                 AND d.clave <> 'DESTRUCCION' THEN 'N'
            ELSE 'D' END AS kind,
       d.rfc, d.fraccion, d.umt, d.pedimento_id, d.partida, d.clave, d.tipo_operacion,
       d.fecha_operacion, d.immex_programa, d.cantidad, d.valor_aduana, d.igi_tasa,
       d.iva_tasa, d.ieps_tasa, d.pool, d.pool AS tipo_bien,
       CAST(NULL AS VARCHAR) AS plazo_clave, d.only_open,
       CAST(NULL AS VARCHAR) AS programa, CAST(NULL AS DATE) AS programa_fin,
       CAST(NULL AS DATE) AS programa_cancelacion, CAST(NULL AS INTEGER) AS programa_prorroga,
       0 AS programa_vinculado, d.pago,
       CAST(NULL AS DATE) AS inicio_plazo, CAST(NULL AS VARCHAR) AS inicio_cita,
       d.producto_fraccion, d.producto_umt, d.producto_cantidad, d.bom_consumo,
       d.bom_merma_pct, d.bom_desperdicio_pct, d.bom_valid_from
FROM dis_all d
LEFT JOIN imp_units u ON u.rfc = d.rfc AND u.fraccion = d.fraccion AND u.umt = d.umt
LEFT JOIN imp_goods g ON g.rfc = d.rfc AND g.fraccion = d.fraccion
