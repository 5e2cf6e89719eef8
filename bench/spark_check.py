#!/usr/bin/env python3
"""Portability check on Apache Spark (local mode): run the same queries/views/*.sql and
queries/*.sql over the same Parquet dataset and compare the findings with pedimento-audit's
findings.parquet, as bench/datafusion_check.py does for DataFusion.

    pip install pyspark             # needs a JVM (Java 17+) on PATH
    python3 bench/spark_check.py --dataset DS --audit AUDIT_DIR [--profiles DIR]
    python3 bench/spark_check.py --case DS AUDIT_DIR PROFILES_DIR|- [--case ...]   # one session

Shim (documented in docs/portability.md): registration and parameters as for the other
engines (shared in bench/crossengine.py): the tables are read from the same files,
spark.read.parquet("DS/year=*/<table>*.parquet"), the rule CSVs and programas.csv with the same
casts. SHIM below is the one text substitution applied to the SQL (VARCHAR -> STRING);
everything else is the unchanged SQL text. Local mode: local[2], 4 shuffle partitions, 2 GB
driver, JVM logging at ERROR.
"""
import argparse, os, re, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import crossengine  # noqa: E402

# Spark-dialect substitutions (pattern, Spark text), applied to every query. Keep it minimal.
# Spark's parser rejects VARCHAR without a length (DATATYPE_MISSING_SIZE); STRING is its
# unbounded text type. The queries only use VARCHAR in CAST(NULL AS VARCHAR) for typed NULL
# columns and CAST(<number> AS VARCHAR) inside messages.
SHIM = [(re.compile(r"\bAS\s+VARCHAR\b(?!\s*\()", re.IGNORECASE), "AS STRING")]

# JVM logging, quiet: the root level stays WARN during start-up (any other level makes Spark
# print a "Setting default log level" banner), the one start-up warning (no native Hadoop
# library) is muted, and session() lowers the level to ERROR once the context is up.
LOG4J2 = """rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark jvm %p %c{1}: %m%n%ex
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
"""


def shim(sql):
    for pattern, new in SHIM:
        sql = pattern.sub(new, sql)
    return sql


def session(tmp):
    from pyspark.logger import PySparkLogger
    from pyspark.sql import SparkSession
    # PySpark logs every failed query as a JSON record with the JVM stack trace; the failure is
    # reported once, by run_queries, instead.
    for name in ["SQLQueryContextLogger", "DataFrameQueryContextLogger"]:
        PySparkLogger.getLogger(name).disabled = True
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: loopback, no hostname warning
    log4j2 = os.path.join(tmp, "log4j2.properties")
    with open(log4j2, "w") as f:
        f.write(LOG4J2)
    spark = (SparkSession.builder.master("local[2]").appName("pedimento-audit-portability")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.driver.memory", "2g")
             .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log4j2}")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main():
    a = crossengine.portability_args()
    cases = ([(a.dataset, a.audit, a.profiles)] if a.dataset else []) + \
        [(d, au, None if p == "-" else p) for d, au, p in a.case]
    with tempfile.TemporaryDirectory(prefix="spark-check-") as tmp:
        t0 = time.monotonic()
        spark = session(tmp)
        print(f"spark: session started in {time.monotonic() - t0:.1f} s (local[2])")
        status = 0
        try:
            for d, au, p in cases:
                t = time.monotonic()
                c = argparse.Namespace(dataset=d, audit=au, profiles=p, expiring_days=a.expiring_days)
                status |= check(spark, c)
                print(f"spark: {os.path.basename(os.path.dirname(os.path.abspath(au)))}/"
                      f"{os.path.basename(os.path.abspath(au))}: {time.monotonic() - t:.1f} s")
            return status
        finally:
            spark.stop()


def check(spark, a):
    from pyspark.sql import functions as F
    dataset = os.path.abspath(a.dataset)
    for t in crossengine.DATASET_TABLES:
        # The same glob as the other engines (no partition column is inferred from it), with the
        # schemas of all years merged by name like DuckDB's union_by_name. Reading the dataset
        # root with pathGlobFilter instead fails when ingest has written rejects/*.parquet beside
        # the year=* folders (CONFLICTING_DIRECTORY_STRUCTURES: partition discovery ignores the
        # filter).
        spark.read.option("mergeSchema", "true").parquet(os.path.join(dataset, "year=*", f"{t}*.parquet")) \
            .createOrReplaceTempView(t)

    def csv_table(path, types):
        df = spark.read.option("header", "true").option("escape", '"').csv(path)
        return df.select([F.col(c).cast(types[c]) if c in types else F.col(c) for c in df.columns])

    for name, ints in crossengine.RULE_TABLES:
        csv_table(os.path.join(ROOT, "src/catalogs", name + ".csv"),
                  {**{c: "int" for c in ints}, **{c: "date" for c in crossengine.RULE_DATES}}) \
            .createOrReplaceTempView(name)
    prog = os.path.join(a.profiles or "", "programas.csv")
    if a.profiles and os.path.exists(prog):
        df = csv_table(prog, dict(crossengine.PROGRAMAS)).select([n for n, _ in crossengine.PROGRAMAS])
    else:
        df = spark.createDataFrame([], ", ".join(f"{n} {t}" for n, t in crossengine.PROGRAMAS))
    df.createOrReplaceTempView("programas")
    # bom.csv, desperdicios.csv (crossengine.PROFILE_TABLES) when the profile has them, else
    # empty tables.
    spark_t = {"string": "string", "decimal": "decimal(18,6)", "quantity": "decimal(18,5)",
               "date": "date", "int": "int"}
    for name, spec in crossengine.PROFILE_TABLES.items():
        path = os.path.join(a.profiles or "", name + ".csv")
        if a.profiles and os.path.exists(path):
            raw = spark.read.option("header", "true").csv(path)
            df = raw.select([(F.upper(F.trim(F.col(n))) if n == "rfc" else F.trim(F.col(n)).cast(spark_t[t])).alias(n)
                             for n, t in spec])
        else:
            df = spark.createDataFrame([], ", ".join(f"{n} {spark_t[t]}" for n, t in spec))
        df.createOrReplaceTempView(name)

    findings = [r.asDict() for r in spark.read.parquet(os.path.join(os.path.abspath(a.audit),
                                                                    "findings.parquet")).collect()]
    as_of = crossengine.manifest_as_of(a.audit) or (str(findings[0]["as_of"]) if findings else None) or \
        str(spark.sql("SELECT MAX(fecha_pago) FROM pedimentos").first()[0])

    def materialize(name, sql):
        # Computed once, like the Rust runner's materialized views (and lineage cut short).
        spark.sql(shim(sql)).localCheckpoint(eager=True).createOrReplaceTempView(name)

    def query(sql):
        return [r.asDict() for r in spark.sql(shim(sql)).collect()]
    spark_types = {"string": "string", "int": "int", "date": "date", "qty": "decimal(18,5)",
                   "money": "decimal(18,2)"}

    def register_rows(name, schema, rows):
        # The tables the Rust-planned families build on the driver (bench/portable_audit.py).
        spark.createDataFrame(rows, ", ".join(f"{c} {spark_types[t]}" for c, t in schema)) \
            .createOrReplaceTempView(name)
    return crossengine.verify("spark", "Spark", spark.version, findings, as_of, a.expiring_days, materialize, query,
                              register_rows, os.path.abspath(a.audit), a.profiles)


if __name__ == "__main__":
    sys.exit(main())
