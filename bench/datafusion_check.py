#!/usr/bin/env python3
"""Portability check on Apache DataFusion (the engine under Ballista, for users who outgrow one
machine): run the same queries/views/*.sql and queries/*.sql over the same Parquet dataset and
compare the findings with pedimento-audit's findings.parquet.

    pip install datafusion          # brings pyarrow
    python3 bench/datafusion_check.py --dataset DS --audit AUDIT_DIR [--profiles DIR]

Shim (documented in docs/portability.md): tables are registered from the year=*/<table>*.parquet
files and the vendored catalog CSVs; ${as_of}/${expiring_days} are substituted as in the Rust
runner. Everything else is the unchanged SQL text.
"""
import glob, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import crossengine  # noqa: E402


def main():
    a = crossengine.portability_args()
    import datafusion
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ctx = datafusion.SessionContext()

    def reg(name, table):
        batches = table.to_batches() or [pa.RecordBatch.from_pylist([], schema=table.schema)]
        ctx.register_record_batches(name, [batches])
    for t in crossengine.DATASET_TABLES:
        files = sorted(glob.glob(os.path.join(a.dataset, "year=*", f"{t}*.parquet")))
        table = pa.concat_tables([pq.read_table(f) for f in files])
        reg(t, table)

    def csv_table(path, ints, dates=()):
        opts = pacsv.ConvertOptions(column_types={}, strings_can_be_null=True)
        tb = pacsv.read_csv(path, convert_options=opts)
        cols = []
        for name in tb.column_names:
            c = tb.column(name).cast(pa.string())
            if name in ints:
                c = c.cast(pa.int32())
            elif name in dates:
                c = c.cast(pa.date32())
            cols.append(c)
        return pa.table(cols, names=tb.column_names)

    for name, ints in crossengine.RULE_TABLES:
        reg(name, csv_table(os.path.join(ROOT, "src/catalogs", name + ".csv"), ints,
                            crossengine.RULE_DATES))
    prog = os.path.join(a.profiles or "", "programas.csv")
    types = {"string": pa.string(), "date": pa.date32(), "int": pa.int32()}
    schema = pa.schema([(n, types[t]) for n, t in crossengine.PROGRAMAS])
    if a.profiles and os.path.exists(prog):
        t = csv_table(prog, [n for n, t in crossengine.PROGRAMAS if t == "int"],
                      [n for n, t in crossengine.PROGRAMAS if t == "date"]).select(schema.names)
        t = t.cast(schema)
    else:
        t = schema.empty_table()
    reg("programas", t)
    # bom.csv, desperdicios.csv (crossengine.PROFILE_TABLES) when the profile has them, else
    # empty tables.
    btypes = {"string": pa.string(), "decimal": pa.decimal128(18, 6),
              "quantity": pa.decimal128(18, 5), "date": pa.date32(), "int": pa.int32()}
    for name, spec in crossengine.PROFILE_TABLES.items():
        path = os.path.join(a.profiles or "", name + ".csv")
        bschema = pa.schema([(n, btypes[t]) for n, t in spec])
        if a.profiles and os.path.exists(path):
            import pyarrow.compute as pc
            tb = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n, _ in spec}, strings_can_be_null=True))
            cols = []
            for n, t in spec:
                c = tb.column(n) if n in tb.column_names else pa.nulls(tb.num_rows, pa.string())
                c = pc.utf8_trim_whitespace(c)
                if n == "rfc":
                    c = pc.utf8_upper(c)
                cols.append(c.cast(btypes[t]))
            t = pa.table(cols, schema=bschema)
        else:
            t = bschema.empty_table()
        reg(name, t)

    findings = pq.read_table(os.path.join(a.audit, "findings.parquet")).to_pylist()
    as_of = crossengine.manifest_as_of(a.audit) or (str(findings[0]["as_of"]) if findings else None) \
        or crossengine.dataset_max_date(a.dataset)

    def query(sql):
        return [r for b in ctx.sql(sql).collect() for r in b.to_pylist()]
    return crossengine.verify("datafusion", "DataFusion", datafusion.__version__, findings, as_of, a.expiring_days,
                              lambda name, sql: reg(name, ctx.sql(sql).to_arrow_table()), query)


if __name__ == "__main__":
    sys.exit(main())
