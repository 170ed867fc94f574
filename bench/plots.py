"""The benchmark's plots, drawn with gnuplot into the report folder."""
import os
import shutil

from common import DIM, log, run


def plots(r, out):
    """feed_latency.png and glove_recall_qps.png with gnuplot; returns the files written."""
    if not shutil.which("gnuplot"):
        log("gnuplot missing: no plots")
        return []
    written = []
    if "feed" in r:
        dat = os.path.join(out, "feed_latency.dat")
        with open(dat, "w") as f:
            f.write("# clients rps p50_ms p99_ms\n")
            for row in r["feed"]["by_clients"]:
                f.write(f"{row['clients']} {row['rps']} {row['p50_ms']} {row['p99_ms']}\n")
        png = os.path.join(out, "feed_latency.png")
        gp = f"""
set terminal pngcairo size 900,520 font "DejaVu Sans,11" noenhanced
set output '{png}'
set title "FEED COUNT 20 PEEK, {r['world']['posts']:,} posts d={DIM} {r['world'].get('index_type')} (redis-benchmark)"
set xlabel "concurrent clients"
set ylabel "latency (ms, log)"
set y2label "requests/s"
set logscale x
set logscale y
set xrange [0.8:65]
set xtics (1,2,5,10,25,50)
set ytics nomirror
set y2tics
set y2range [0:*]
set grid
set key left top
plot '{dat}' using 1:3 with linespoints lw 2 pt 7 title "p50 latency", \\
     '' using 1:4 with linespoints lw 2 pt 5 title "p99 latency", \\
     '' using 1:2 axes x1y2 with linespoints lw 2 pt 9 dt 2 title "requests/s (right axis)"
"""
        run(["gnuplot"], input=gp)
        os.remove(dat)
        written.append("feed_latency.png")
    g = r.get("glove", {})
    if g.get("sweep"):
        series = {}
        for s in g["sweep"]:
            series.setdefault((s["spec"], s["faiss_build"]), []).append(s)
        plotlines = []
        for i, ((spec, build), rows) in enumerate(sorted(series.items())):
            dat = os.path.join(out, f"glove_{i}.dat")
            with open(dat, "w") as f:
                for s in sorted(rows, key=lambda s: s["value"]):
                    f.write(f"{s['recall_at_10']} {s['recall_at_100']} {s['qps']} {s['value']}\n")
            style = "dt 1" if build == "avx2" else "dt 2"
            plotlines.append((dat, f"{spec} ({build})", style))
        png = os.path.join(out, "glove_recall_qps.png")
        def panel(col, label):
            parts = [f"'{d}' using {col}:3 with linespoints lw 2 {st} title '{t}'"
                     for d, t, st in plotlines]
            return f'set xlabel "{label}"\nplot ' + ", \\\n     ".join(parts) + "\n"
        gp = f"""
set terminal pngcairo size 1200,520 font "DejaVu Sans,10" noenhanced
set output '{png}'
set multiplot layout 1,2 title "GloVe 6B 100-d: {g['base']:,} words, {g['queries']} held-out queries, 1 thread, k=100 (efSearch / nprobe swept)"
set ylabel "queries/s (log)"
set logscale y
set grid
set key bottom left
set xrange [*:1.005]
{panel(1, "recall@10")}
{panel(2, "recall@100")}
unset multiplot
"""
        run(["gnuplot"], input=gp)
        for d, _, _ in plotlines:
            os.remove(d)
        written.append("glove_recall_qps.png")
    return written

