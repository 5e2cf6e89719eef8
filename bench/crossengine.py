#!/usr/bin/env python3
"""Cross-engine check: run the same queries/*.sql on DuckDB over the same Parquet dataset and
compare the findings with the ones pedimento-audit (polars SQL) wrote.

Usage: python3 bench/crossengine.py [--build-dir TARGET_DIR] [--dataset DS --audit AUDIT_DIR
                                      --profiles DIR --as-of YYYY-MM-DD]
Without --dataset it builds one from the bundled fixtures with the dev binary.

Dialect shim (everything else runs unchanged):
  * ${as_of} / ${expiring_days} are substituted exactly as the Rust runner does
    (CAST('YYYY-MM-DD' AS DATE) and an integer).
  * Tables are registered as DuckDB views over the same files: year=*/<table>*.parquet, the
    vendored catalogs src/catalogs/{plazos,discharge_claves,tasas_contribucion,virtual_versions}.csv (dated versions), the profile programas.csv.
  * DuckDB divides DECIMALs in DOUBLE; results are compared after rounding to the column's
    scale (cents for money), which is exact for the fixtures and documented as the only
    numeric difference between engines.
"""
import argparse, csv, decimal, glob, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = ["check_code", "rfc", "pedimento_id", "partida", "related_pedimento_id", "fraccion"]
NUM = {"quantity": 5, "amount": 2, "igi": 2, "iva": 2, "ieps": 2}
# Shared by the portability scripts (datafusion_check.py, spark_check.py): the dataset tables
# (<dataset>/year=*/<table>*.parquet), the vendored rule CSVs with the columns cast to INTEGER,
# and the profile's programas.csv columns (an empty table of these when the file is absent).
DATASET_TABLES = ["pedimentos", "partidas", "identificadores", "descargos", "conflicts"]
RULE_TABLES = [("plazos", ["meses", "por_programa", "requires_immex"]),
               ("discharge_claves", ["tipo_operacion", "counts_in_ratio", "requires_immex"]),
               ("tasas_contribucion", ["tasa"]),
               ("virtual_versions", ["consolidado_dias_mes", "consolidado_dias_habiles"])]
# Every rule table is versioned: these columns are dates (empty valid_to = in force).
RULE_DATES = ["valid_from", "valid_to"]
PROGRAMAS = [("rfc", "string"), ("programa", "string"), ("fecha_inicio", "date"), ("fecha_fin", "date"),
             ("fecha_cancelacion", "date"), ("prorroga", "int"), ("sector", "string")]
# The profile's bom.csv (src/profile.rs BOM; decimals are DECIMAL(18,6), quantities
# DECIMAL(18,5)).
BOM = [("rfc", "string"), ("producto_fraccion", "string"), ("producto_parte", "string"),
       ("insumo_fraccion", "string"), ("umt", "string"), ("consumo", "decimal"),
       ("merma_pct", "decimal"), ("desperdicio_pct", "decimal"), ("valid_from", "date"),
       ("valid_to", "date")]
# desperdicios.csv (src/profile.rs DESPERDICIOS): destruction records. The pedimento column is
# read as written: the Rust loader also normalizes other spellings (YY, spaces) to the key.
DESPERDICIOS = [("rfc", "string"), ("fecha", "date"), ("acta", "string"), ("fraccion", "string"),
                ("umt", "string"), ("cantidad", "quantity"), ("pedimento", "string")]
# Profile tables the SQL reads besides programas: name -> columns (an empty table when the
# profile folder lacks the file).
# descargos_anexo24.csv (src/profile.rs ANEXO24): the company's own descargo report
# (SALDO-DIFF); pedimentos read as written, like desperdicios.
ANEXO24 = [("pedimento_descargo", "string"), ("pedimento_importacion", "string"),
           ("partida", "int"), ("fraccion", "string"), ("cantidad", "quantity")]
PROFILE_TABLES = {"bom": BOM, "desperdicios": DESPERDICIOS, "descargos_anexo24": ANEXO24}


def registry_order():
    """(view names, check SQL files) in the order the Rust registry uses."""
    src = open(os.path.join(ROOT, "src/checks/mod.rs"), encoding="utf-8").read()
    views, checks = [], []
    import re
    for m in re.finditer(r'\(\s*"(\w+)",\s*"(views/[\w.-]+\.sql)"', src):
        views.append((m.group(1), m.group(2)))
    for m in re.finditer(r'sql!\("([\w.-]+\.sql)"\)', src):
        checks.append(m.group(1))
    return views, checks


def render(sql, as_of, days):
    return sql.replace("${as_of}", f"CAST('{as_of}' AS DATE)").replace("${expiring_days}", str(days))


def query_text(f, as_of, days):
    """queries/<f> rendered with the parameters."""
    return render(open(os.path.join(ROOT, "queries", f), encoding="utf-8").read(), as_of, days)


def norm(v, scale=None):
    if v is None:
        return ""
    if scale is not None:
        d = decimal.Decimal(str(v)).quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_EVEN)
        return str(d)
    return str(v)


def rows_of(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def key(r):
    return tuple(norm(r[k]) for k in KEY) + tuple(norm(r[k], s) for k, s in NUM.items())


class QueryFailed(Exception):
    pass


def manifest_as_of(audit_dir):
    """The as-of date the audit ran with (audit_manifest.json), or None."""
    import json
    path = os.path.join(audit_dir or "", "audit_manifest.json")
    if audit_dir and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("as_of")
    return None


def dataset_max_date(dataset):
    import duckdb
    files = sorted(glob.glob(os.path.join(dataset, "year=*", "pedimentos*.parquet")))
    lst = ", ".join(f"'{f}'" for f in files)
    return str(duckdb.connect().execute(f"SELECT MAX(fecha_pago) FROM read_parquet([{lst}])").fetchone()[0])


def register(con, dataset, profiles):
    """Registers the dataset, catalogs and profiles under the names the SQL expects."""
    for t in DATASET_TABLES:
        files = sorted(glob.glob(os.path.join(dataset, "year=*", f"{t}*.parquet")))
        lst = ", ".join(f"'{f}'" for f in files)
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet([{lst}], union_by_name=true)")
    for name, ints in RULE_TABLES:
        path = f"{ROOT}/src/catalogs/{name}.csv"
        cols = con.execute(
            f"SELECT * FROM read_csv('{path}', header=true, all_varchar=true) LIMIT 0").description
        sel = ", ".join(f"TRY_CAST({c[0]} AS INTEGER) AS {c[0]}" if c[0] in ints
                        else f"TRY_CAST({c[0]} AS DATE) AS {c[0]}" if c[0] in RULE_DATES
                        else c[0] for c in cols)
        con.execute(f"CREATE VIEW {name} AS SELECT {sel} FROM read_csv('{path}', header=true, all_varchar=true)")
    prog = os.path.join(profiles, "programas.csv") if profiles else ""
    if prog and os.path.exists(prog):
        con.execute(f"""CREATE VIEW programas AS SELECT rfc, programa, CAST(fecha_inicio AS DATE) fecha_inicio,
            CAST(fecha_fin AS DATE) fecha_fin, CAST(fecha_cancelacion AS DATE) fecha_cancelacion,
            CAST(prorroga AS INTEGER) prorroga, sector FROM read_csv('{prog}', header=true, all_varchar=true)""")
    else:
        con.execute("""CREATE TABLE programas (rfc VARCHAR, programa VARCHAR, fecha_inicio DATE, fecha_fin DATE,
            fecha_cancelacion DATE, prorroga INTEGER, sector VARCHAR)""")
    duck = {"string": "VARCHAR", "decimal": "DECIMAL(18, 6)", "quantity": "DECIMAL(18, 5)",
            "date": "DATE", "int": "INTEGER"}
    for name, spec in PROFILE_TABLES.items():
        path = os.path.join(profiles, name + ".csv") if profiles else ""
        if path and os.path.exists(path):
            # Text columns as the Rust loader normalizes them (RFC upper-case, trimmed).
            cols = ", ".join(
                f"UPPER(TRIM({n})) AS {n}" if n == "rfc"
                else f"CAST(NULLIF(TRIM({n}), '') AS {duck[t]}) AS {n}"
                for n, t in spec)
            con.execute(f"CREATE VIEW {name} AS SELECT {cols} FROM read_csv('{path}', header=true, all_varchar=true)")
        else:
            cols = ", ".join(f"{n} {duck[t]}" for n, t in spec)
            con.execute(f"CREATE TABLE {name} ({cols})")


def run_queries(engine, as_of, days, materialize, query):
    """Materializes the views in VIEWS order (materialize(name, sql)) and runs every SQL check
    (query(sql) -> list of row dicts); returns the findings rows. Raises QueryFailed."""
    views, checks = registry_order()
    for name, f in views:
        try:
            materialize(name, query_text(f, as_of, days))
        except Exception as e:
            raise QueryFailed(f"queries/{f} failed on {engine}: {e}")
    out = []
    for f in checks:
        try:
            out += query(query_text(f, as_of, days))
        except Exception as e:
            raise QueryFailed(f"queries/{f} failed on {engine}: {e}")
    return out


def compare(label, engine, polars_rows, rows, extra_codes=()):
    """Compares an engine's findings with polars' on the SQL checks and `extra_codes` (the
    Rust-planned families run by bench/portable_audit.py); prints the differences to stderr
    and returns None, or returns the number of findings."""
    codes = {os.path.splitext(f)[0] for f in registry_order()[1]} | set(extra_codes)
    mine = sorted(key(r) for r in polars_rows if r["check_code"] in codes)
    theirs = sorted(key(r) for r in rows)
    if mine == theirs:
        return len(mine)
    print(f"{label}: findings differ between polars and {engine}", file=sys.stderr)
    for r in sorted(set(mine) - set(theirs)):
        print("  only polars:", r, file=sys.stderr)
    for r in sorted(set(theirs) - set(mine)):
        print(f"  only {engine}:", r, file=sys.stderr)
    return None


def portability_args():
    """The command line of the portability scripts (datafusion_check.py, spark_check.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset")
    ap.add_argument("--audit")
    ap.add_argument("--profiles")
    ap.add_argument("--expiring-days", type=int, default=60)
    # Spark: more datasets in the same session (JVM start-up paid once); PROFILES "-" = none.
    ap.add_argument("--case", nargs=3, action="append", default=[], metavar=("DATASET", "AUDIT", "PROFILES"))
    a = ap.parse_args()
    if bool(a.dataset) != bool(a.audit) or not (a.dataset or a.case):
        ap.error("give --dataset and --audit (and optionally --profiles), or --case DATASET AUDIT PROFILES")
    return a


def portable_families(label, engine, as_of, days, query, register_rows, audit_dir, profiles=None):
    """The Rust-planned families (virtual pairing, certification: CERT-RATIO, CERT-A/AA/AAA,
    CERT-RENEWAL) on the engine through bench/portable_audit.py, after run_queries
    materialized the views. Compares the ratio series and the per-requirement assessment
    with the product's cert_ratio_series.parquet and cert_assessment.parquet. Returns
    (findings rows, the check codes they cover, a summary) or raises QueryFailed."""
    import portable_audit
    import duckdb
    product_assessment = os.path.join(audit_dir, "cert_assessment.parquet")
    opts = {}
    if os.path.exists(product_assessment):
        # The certification options the audit ran with (--cert-rules, readings): the
        # assessment writes them in its `options` column.
        o = duckdb.connect().execute(f"SELECT options FROM read_parquet('{product_assessment}') LIMIT 1").fetchone()
        opts = portable_audit.parse_options(o[0] if o else "")
    try:
        rows, series, assessment = portable_audit.run(lambda sql: render(sql, as_of, days), query, register_rows,
                                                      _date(as_of), profiles=profiles, opts=opts)
    except Exception as e:
        raise QueryFailed(f"virtual pairing / certification failed on {engine}: {e!r}")
    codes = {os.path.splitext(f)[0] for f in portable_audit.VIRTUAL_SQL} | set(portable_audit.CERT_CODES)
    note = f"virtual pairing ({len(portable_audit.VIRTUAL_SQL)} checks) + {'/'.join(portable_audit.CERT_CODES)}"
    product_series = os.path.join(audit_dir, "cert_ratio_series.parquet")
    if os.path.exists(product_series):
        prod = rows_of(duckdb.connect(), f"SELECT * FROM read_parquet('{product_series}')")
        n = portable_audit.compare_series(label, engine, prod, series)
        if n is None:
            raise QueryFailed("cert_ratio_series differs")
        note += f", {n} ratio-series points identical"
    if os.path.exists(product_assessment):
        prod = rows_of(duckdb.connect(), f"SELECT * FROM read_parquet('{product_assessment}')")
        n = portable_audit.compare_assessment(label, engine, prod, assessment)
        if n is None:
            raise QueryFailed("cert_assessment differs")
        note += f", {n} assessment rows identical"
    return rows, codes, note


def _date(s):
    import datetime
    return datetime.date.fromisoformat(str(s))


def verify(label, engine, version, polars_rows, as_of, days, materialize, query, register_rows=None,
           audit_dir=None, profiles=None):
    """run_queries (+ portable_families when register_rows is given) + compare for one engine,
    reported as `label version: ...`; returns the exit status (0 when the findings are
    identical)."""
    extra, note = (), ""
    try:
        rows = run_queries(engine, as_of, days, materialize, query)
        if register_rows is not None:
            more, extra, note = portable_families(label, engine, as_of, days, query, register_rows, audit_dir,
                                                  profiles)
            rows += more
    except QueryFailed as e:
        print(f"{label}: {e}", file=sys.stderr)
        return 1
    n = compare(label, engine, polars_rows, rows, extra)
    if n is None:
        return 1
    views, checks = registry_order()
    print(f"{label} {version}: {len(checks)} SQL checks + {len(views)} views"
          + (f" + {note}" if note else "") + f"; {n} findings identical to polars (as of {as_of})")
    return 0


def run_all(con, dataset, profiles, as_of, days):
    """Materializes the views and runs every SQL check; returns the findings rows."""
    register(con, dataset, profiles)
    return run_queries("DuckDB", as_of, days, lambda name, sql: con.execute(f"CREATE TABLE {name} AS {sql}"),
                       lambda sql: rows_of(con, sql))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    ap.add_argument("--dataset")
    ap.add_argument("--audit")
    # Default (fixtures/ledger/profiles) only when the dataset is built here: with --dataset,
    # pass the profiles the audit ran with (none when it ran without).
    ap.add_argument("--profiles")
    ap.add_argument("--as-of")
    ap.add_argument("--expiring-days", type=int, default=60)
    a = ap.parse_args()
    try:
        import duckdb
    except ImportError:
        print("cross-engine: duckdb is not installed (pip install duckdb)", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="crossengine-")
    binary = os.path.join(a.build_dir, "debug", "pedimento-audit")
    if not a.dataset:
        a.profiles = a.profiles or os.path.join(ROOT, "fixtures/ledger/profiles")
        a.dataset = os.path.join(tmp, "ds")
        a.audit = os.path.join(tmp, "audit")
        subprocess.run([binary, "ingest", os.path.join(ROOT, "fixtures/datastage"),
                        os.path.join(ROOT, "fixtures/ledger/pedimentos.csv"), "--dataset", a.dataset],
                       check=True, stdout=subprocess.DEVNULL)
        cmd = [binary, "audit", "--dataset", a.dataset, "--profiles", a.profiles, "--out", a.audit]
        if a.as_of:
            cmd += ["--as-of", a.as_of]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    con = duckdb.connect()
    polars_rows = rows_of(con, f"SELECT * FROM read_parquet('{a.audit}/findings.parquet')")
    as_of = a.as_of or manifest_as_of(a.audit) or (str(polars_rows[0]["as_of"]) if polars_rows else None)
    as_of = as_of or dataset_max_date(a.dataset)
    register(con, a.dataset, a.profiles)
    duck_types = {"string": "VARCHAR", "int": "INTEGER", "date": "DATE", "qty": "DECIMAL(18, 5)",
                  "money": "DECIMAL(18, 2)"}

    def register_rows(name, schema, rows):
        con.execute(f"CREATE OR REPLACE TABLE {name} ("
                    + ", ".join(f"{c} {duck_types[t]}" for c, t in schema) + ")")
        if rows:
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in schema)})",
                            [list(r) for r in rows])
    return verify("cross-engine", "DuckDB", duckdb.__version__, polars_rows, as_of, a.expiring_days,
                  lambda name, sql: con.execute(f"CREATE TABLE {name} AS {sql}"),
                  lambda sql: rows_of(con, sql), register_rows, a.audit, a.profiles)

if __name__ == "__main__":
    sys.exit(main())
