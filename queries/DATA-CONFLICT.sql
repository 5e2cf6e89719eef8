-- DATA-CONFLICT: the same pedimento arrived twice with different content (not as a
-- rectificación). The later version is in the dataset; the earlier one is kept in
-- `conflicts` and reported here so a person decides which is right.
SELECT 'DATA-CONFLICT' AS check_code,
       'medium' AS severity,
       c.rfc,
       c.pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       CAST(NULL AS VARCHAR) AS fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       CAST(NULL AS DECIMAL(18, 5)) AS quantity,
       c.valor_aduana AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       'Pedimento received twice with different content; the version from ' || c.source_file
           || ' line ' || CAST(c.source_line AS VARCHAR) || ' was replaced by a later one' AS message,
       'Pedimento recibido dos veces con contenido distinto; la versión de ' || c.source_file
           || ' línea ' || CAST(c.source_line AS VARCHAR) || ' fue sustituida por una posterior' AS mensaje,
       'Ley Aduanera art. 89 (rectificación de pedimentos): a pedimento changes only through a rectificación' AS citation,
       'conflicts:' || c.pedimento_id AS evidence
FROM conflicts c
