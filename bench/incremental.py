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
"""
import argparse, csv, json, os, resource, shutil, subprocess, sys, time


def child(cmd):
    load = os.getloadavg()[0]
    t = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.time() - t
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return secs, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partidas", type=int, default=5_000_000)
    ap.add_argument("--companies", type=int, default=20)
    ap.add_argument("--work", default="out/bench-inc")
    ap.add_argument("--build-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    a = ap.parse_args()
    cli = os.path.join(a.build_dir, "release", "pedimento-audit")
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


if __name__ == "__main__":
    main()
