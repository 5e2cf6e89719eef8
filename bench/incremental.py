#!/usr/bin/env python3
"""Time to add one month of filings to a dataset (release build, the CLI).

    python3 bench/incremental.py --partidas 5000000 [--companies 20] [--work out/bench-inc]

A generated history (5 years, documented CSV) is split by month of payment: everything before
the last month, and the last month. Timed, each in a fresh process:
  * base:    `ingest` of everything but the last month into an empty dataset;
  * append:  `ingest` of the last month into that dataset (only new pedimentos: the year's
             files are kept, the month is written as appended segments, docs/schema.md);
  * rewrite: the same month plus one stored pedimento of the same year sent again with a
             changed value, into a copy of the base dataset: the year is merged and rewritten
             whole, which is what every monthly add cost before the segments.
Prints one JSON line per step (seconds, peak RSS of the child, load average at start).

Data Stage mode (issue #23: the CSV reader is slow at scale; real users get Data Stage text):

    python3 bench/incremental.py --datastage GEN/datastage --build-dir /root/.cache/bench-target \
        [--work out/bench-inc-ds] [--skip-rewrite] [--memory-mb N] [--verify] [--keep]

takes an EXISTING generated Data Stage folder (`<folio>_<tipo>.asc`, `|`-delimited, header
line; `generate --format datastage`) and does not generate. Split (bytes, no csv module):
  * the last month of payment is the largest FechaPagoReal month over every 501 file; its
    year Y; the folios whose 501 holds that month are streamed, every other file (the other
    years) is hard-linked (else symlinked, else copied) into the base folder as it is;
  * a streamed file's line goes to the month when its pedimento key (the text before the
    third '|': Patente|Pedimento|SeccionAduanera, the first three columns of every record
    type, 701 and Sel included) is one of the month's 501 keys, else to the base; the check
    base + month = original lines is made per file (a failure stops the run);
  * month-with-correction = the month plus every line of every record type of one stored
    pedimento of Y paid before the month (the last original, TipoPedimento 1, número of year
    Y, ClaveDocumento not R*/V*), its first 551 line's ValorComercial prefixed by '1';
  * base, month and month-with-correction each hold the same file names and headers.
Then, each in a fresh process: `ingest base` into an empty dataset; a copy of it is made
(skipped with --skip-rewrite: a 100 M dataset is large); `ingest month` (append: the year
folder's file list shows the segments); `ingest month-with-correction` into the copy (the
year is rewritten). The first JSON line (step "split") gives the month, the corrected key,
partidas per part and lines per file; then one line per ingest (seconds, peak_rss_mb of that
child, partidas, load average at start). --verify (small scale only) also ingests the whole
folder into another dataset and compares with base + month: row counts per year and table
(DuckDB over `year=*/<table>*.parquet`) and the rows themselves (EXCEPT ALL both ways, source_*
columns aside); the step "rewrite" also gives the year's conflicts rows (1 = the correction).
The work folder (split text ~ year Y's size, datasets) is removed at the end unless --keep.
"""
import argparse, csv, json, os, shutil, subprocess, sys, tempfile, time


def child(cmd):
    """Run cmd; (seconds, peak RSS of this child in MiB, 1-min load average at start)."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as err:
        t = time.time()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.time() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode("utf-8", "replace"))
            raise SystemExit(f"failed: {' '.join(cmd)}")
    return secs, ru.ru_maxrss / 1024.0, load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partidas", type=int, default=5_000_000)
    ap.add_argument("--companies", type=int, default=20)
    ap.add_argument("--work", default="out/bench-inc")
    ap.add_argument("--build-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--datastage", metavar="DIR", help="existing Data Stage folder (see the docstring)")
    ap.add_argument("--skip-rewrite", action="store_true", help="Data Stage mode: no copy, no rewrite step")
    ap.add_argument("--memory-mb", type=int, help="Data Stage mode: passed to every ingest")
    ap.add_argument("--verify", action="store_true", help="Data Stage mode: compare with a whole ingest")
    ap.add_argument("--keep", action="store_true", help="Data Stage mode: keep the work folder")
    a = ap.parse_args()
    cli = os.path.join(a.build_dir, "release", "pedimento-audit")
    if a.datastage:
        if a.work == "out/bench-inc":
            a.work = "out/bench-inc-ds"
        return datastage(a, cli)
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    child([cli, "generate", "--out", os.path.join(w, "gen"), "--seed", "2024", "--companies", str(a.companies),
           "--start-year", "2019", "--years", "5", "--partidas", str(a.partidas), "--format", "csv"])
    src = os.path.join(w, "gen", "pedimentos.csv")
    # Pass 1: the last month, and one stored pedimento of its year (the last one before it).
    with open(src, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        fp, pid, va = header.index("fecha_pago"), header.index("pedimento"), header.index("valor_aduana")
        last = max(row[fp][:7] for row in r)
    victim = None
    with open(src, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            if row[fp][:4] == last[:4] and row[fp][:7] < last:
                victim = row[pid]
    # Pass 2: base / month / month plus the corrected pedimento.
    pb, pm, pr = (os.path.join(w, n) for n in ("base.csv", "month.csv", "month-with-correction.csv"))
    n_month = n_fixed = 0
    with open(src, newline="", encoding="utf-8") as f, open(pb, "w", newline="", encoding="utf-8") as fb, \
            open(pm, "w", newline="", encoding="utf-8") as fm, open(pr, "w", newline="", encoding="utf-8") as fr:
        r = csv.reader(f)
        next(r)
        cb, cm, cr = (csv.writer(x, lineterminator="\n") for x in (fb, fm, fr))
        for c in (cb, cm, cr):
            c.writerow(header)
        for row in r:
            if row[fp][:7] == last:
                cm.writerow(row)
                cr.writerow(row)
                n_month += 1
            else:
                cb.writerow(row)
                if row[pid] == victim:
                    if n_fixed == 0:
                        row = list(row)
                        row[va] = "1" + row[va]
                    cr.writerow(row)
                    n_fixed += 1
    os.remove(src)
    ds = os.path.join(w, "ds")
    out = []
    s, rss, load = child([cli, "ingest", pb, "--dataset", ds])
    out.append({"step": "base", "partidas": a.partidas - n_month, "seconds": s, "load": load})
    copy = os.path.join(w, "ds-copy")
    shutil.copytree(ds, copy)
    s, rss, load = child([cli, "ingest", pm, "--dataset", ds])
    out.append({"step": "append month", "partidas": n_month, "seconds": s, "load": load,
                "year_files": sorted(os.listdir(os.path.join(ds, f"year={last[:4]}")))})
    s, rss, load = child([cli, "ingest", pr, "--dataset", copy])
    out.append({"step": "month + 1 correction (year rewritten)", "partidas": n_month + n_fixed,
                "seconds": s, "load": load,
                "year_files": sorted(os.listdir(os.path.join(copy, f"year={last[:4]}")))})
    for o in out:
        print(json.dumps(o), flush=True)
    shutil.rmtree(w, ignore_errors=True)


# ---- Data Stage mode (--datastage DIR) -------------------------------------------------------

def ds_split_name(name):
    """`2020001_551.asc` -> ('2020001', '551'); None for a file that is no `<folio>_<tipo>.asc`."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ("asc", "txt") or "_" not in stem:
        return None
    folio, _, tipo = stem.rpartition("_")
    return folio, tipo.upper()


def ds_month(d):
    """`2020-12-28 10:15:00` or `2020/12/28 ...` -> b'2020-12'."""
    if len(d) >= 7 and d[4:5] in (b"-", b"/"):
        return d[:4] + b"-" + d[5:7]
    raise SystemExit(f"unsupported FechaPagoReal {d!r} (expected YYYY-MM-DD or YYYY/MM/DD)")


def ds_key(line):
    """The pedimento key of a data line: its text up to the third '|' (Patente|Pedimento|Seccion)."""
    i = line.index(b"|")
    i = line.index(b"|", i + 1)
    return line[:line.index(b"|", i + 1)]


def ds_header(path):
    with open(path, "rb") as f:
        return f.readline().rstrip(b"\r\n").split(b"|")


def ds_link(src, dst):
    """Hard link, else symlink, else copy (the input is read-only to the ingest)."""
    try:
        os.link(src, dst)
    except OSError:
        try:
            os.symlink(os.path.abspath(src), dst)
        except OSError:
            shutil.copy2(src, dst)


def ds_prepare(src, w):
    """Split `src` into w/base, w/month, w/month-with-correction. Returns a summary dict."""
    files = sorted(os.listdir(src))
    typed = {n: ds_split_name(n) for n in files}
    f501 = [n for n in files if typed[n] and typed[n][1] == "501"]
    if not f501:
        raise SystemExit(f"no <folio>_501.asc under {src}")
    # Pass 1: the last month of payment over every 501 file, and the folios holding it.
    months = {}
    for n in f501:
        h = ds_header(os.path.join(src, n))
        back = len(h) - h.index(b"FechaPagoReal")  # split from the right: the date is near the end
        seen = set()
        with open(os.path.join(src, n), "rb") as f:
            next(f)
            for line in f:
                seen.add(ds_month(line.rsplit(b"|", back)[1]))
        months[n] = seen
    last = max(max(s) for s in months.values() if s)
    year = last[:4]
    folios = {typed[n][0] for n in f501 if last in months[n]}
    # Pass 2 (501 of those folios): the month's keys, and one pedimento of the same year paid
    # before the month (an original, validated that year: same year folder) to send again.
    month_keys, victim = set(), None
    for n in f501:
        if typed[n][0] not in folios:
            continue
        h = ds_header(os.path.join(src, n))
        fp, tp, cd = h.index(b"FechaPagoReal"), h.index(b"TipoPedimento"), h.index(b"ClaveDocumento")
        with open(os.path.join(src, n), "rb") as f:
            next(f)
            for line in f:
                c = line.split(b"|")
                m = ds_month(c[fp])
                if m == last:
                    month_keys.add(ds_key(line))
                elif m[:4] == year and c[tp] == b"1" and not c[cd].startswith((b"R", b"V")) \
                        and c[1][:1] == year[3:4]:
                    victim = ds_key(line)
    if victim is None:
        raise SystemExit(f"no pedimento of {year.decode()} before {last.decode()} to correct")
    # Pass 3: stream the folios' files line by line; link everything else into the base.
    outs = {k: os.path.join(w, k) for k in ("base", "month", "month-with-correction")}
    for d in outs.values():
        os.makedirs(d)
    counts, fixed, linked = {}, 0, []
    for n in files:
        p = os.path.join(src, n)
        if not os.path.isfile(p):
            continue
        if not typed[n] or typed[n][0] not in folios:
            ds_link(p, os.path.join(outs["base"], n))
            linked.append(n)
            continue
        vc = ds_header(p).index(b"ValorComercial") if typed[n][1] == "551" else None
        nb = nm = nv = total = 0
        with open(p, "rb") as f, open(os.path.join(outs["base"], n), "wb", 1 << 20) as fb, \
                open(os.path.join(outs["month"], n), "wb", 1 << 20) as fm, \
                open(os.path.join(outs["month-with-correction"], n), "wb", 1 << 20) as fr:
            head = f.readline()
            for o in (fb, fm, fr):
                o.write(head)
            for line in f:
                total += 1
                k = ds_key(line)
                if k in month_keys:
                    fm.write(line)
                    fr.write(line)
                    nm += 1
                else:
                    fb.write(line)
                    nb += 1
                    if k == victim:
                        if vc is not None and fixed == 0:
                            c = line.split(b"|")
                            c[vc] = b"1" + c[vc]
                            line = b"|".join(c)
                            fixed += 1
                        fr.write(line)
                        nv += 1
        if nb + nm != total:
            raise SystemExit(f"{n}: base {nb} + month {nm} != {total} lines")
        counts[n] = {"lines": total, "base": nb, "month": nm, "victim": nv}
    if fixed != 1:
        raise SystemExit(f"pedimento {victim!r} has no 551 line to change")
    return {"last_month": last.decode(), "year": year.decode(), "folios": sorted(folios),
            "month_pedimentos": len(month_keys), "corrected": victim.decode("latin-1"),
            "files": counts, "linked": linked, **outs}


def ds_counts(ds):
    """Rows per (year, table) of a dataset (appended segments included), via DuckDB."""
    import duckdb
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    out = {}
    for y in sorted(x for x in os.listdir(ds) if x.startswith("year=")):
        tables = {f.split(".")[0].split("-")[0] for f in os.listdir(os.path.join(ds, y))
                  if f.endswith(".parquet")}
        for t in sorted(tables):
            g = os.path.join(ds, y, f"{t}*.parquet")
            out[f"{y}/{t}"] = con.execute(f"select count(*) from read_parquet('{g}')").fetchone()[0]
    return out


def ds_content_diff(a, b, tables=("pedimentos", "partidas", "identificadores", "descargos")):
    """Rows of each table in one dataset and not the other (multiset), source_* columns aside."""
    import duckdb
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    out = {}
    for t in tables:
        ga, gb = (os.path.join(d, "year=*", f"{t}*.parquet") for d in (a, b))
        cols = [r[0] for r in con.execute(f"describe select * from read_parquet('{ga}')").fetchall()
                if not r[0].startswith("source_")]
        c = ", ".join(f'"{x}"' for x in cols)
        q = (f"select (select count(*) from (select {c} from read_parquet('{ga}') except all "
             f"select {c} from read_parquet('{gb}'))) + (select count(*) from (select {c} from "
             f"read_parquet('{gb}') except all select {c} from read_parquet('{ga}')))")
        out[t] = con.execute(q).fetchone()[0]
    return out


def datastage(a, cli):
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    t = time.time()
    s = ds_prepare(a.datastage, w)
    files = s.pop("files")
    part = {k: sum(v[k] for n, v in files.items() if ds_split_name(n)[1] == "551")
            for k in ("base", "month", "victim")}
    # Partidas of the linked folios (other years) count into the base.
    for n in s["linked"]:
        if (ds_split_name(n) or ("", ""))[1] == "551":
            with open(os.path.join(a.datastage, n), "rb") as f:
                part["base"] += sum(b.count(b"\n") for b in iter(lambda: f.read(1 << 24), b"")) - 1
    print(json.dumps({"step": "split", "seconds": round(time.time() - t, 1), "partidas": part,
                      **{k: v for k, v in s.items() if k not in ("base", "month", "month-with-correction")},
                      "lines_per_file": files}), flush=True)
    extra = ["--memory-mb", str(a.memory_mb)] if a.memory_mb else []
    y = s["year"]
    ds = os.path.join(w, "ds")

    def step(name, inputs, dataset, partidas):
        secs, rss, load = child([cli, "ingest", inputs, "--dataset", dataset] + extra)
        o = {"step": name, "seconds": round(secs, 1), "peak_rss_mb": round(rss), "partidas": partidas,
             "load": load}
        yd = os.path.join(dataset, f"year={y}")
        if name != "base" and os.path.isdir(yd):
            o["year_files"] = sorted(os.listdir(yd))
        cf = os.path.join(yd, "conflicts.parquet")
        if name.startswith("month +") and os.path.isfile(cf):
            try:
                import duckdb
                o["conflicts"] = duckdb.connect().execute(f"select count(*) from read_parquet('{cf}')").fetchone()[0]
            except ImportError:
                pass
        print(json.dumps(o), flush=True)
        return o

    step("base", s["base"], ds, part["base"])
    copy = os.path.join(w, "ds-copy")
    if not a.skip_rewrite:
        shutil.copytree(ds, copy)
    app = step("append month", s["month"], ds, part["month"])
    if not any("-0" in f for f in app.get("year_files", [])):
        print(json.dumps({"warning": "the append wrote no segment file (year rewritten?)"}), flush=True)
    if not a.skip_rewrite:
        step("month + 1 correction (year rewritten)", s["month-with-correction"], copy,
             part["month"] + part["victim"])
    if a.verify:
        full = os.path.join(w, "ds-full")
        step("whole folder at once (verify)", a.datastage, full, part["base"] + part["month"])
        got, want = ds_counts(ds), ds_counts(full)
        diff = {k: [got.get(k), want.get(k)] for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)}
        rows = ds_content_diff(ds, full)
        ok = not diff and not any(rows.values())
        print(json.dumps({"verify": "ok" if ok else "MISMATCH", "base+month": got, "whole": want,
                          "count_diff": diff, "rows_differing": rows}), flush=True)
    if not a.keep:
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
