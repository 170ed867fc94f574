"""The measuring steps on the demo world: ping, feed, builds, recall, ingest, restart (glove.py
has the GloVe step). Each returns the dict results.json keeps under its name, and raises when
it cannot measure."""
import json
import os
import re
import shutil
import struct
import time

import redis

from common import DIM, FEED_COUNT, FEED_K, INGEST_INDEX, log, median, median_rows, run, user_id
from drivers import annbench, available_builds, feed_run, redis_benchmark
from servers import info, start_bridgefeed, stop
from world import run_import


def step_ping(args, cfg, ours, other):
    """redis-benchmark PING against ours and redis-server (`other`), alternated."""
    res = {}
    for label, extra, n in (("no_pipeline", [], cfg["ping_n"]),
                            ("pipeline_16", ["-P", "16"], cfg["ping_p16_n"])):
        runs = {"bridgefeed": [], "redis": []}
        for _ in range(cfg["reps"]):  # alternate, so drifting load hits both alike
            for name, port in (("bridgefeed", ours.port), ("redis", other.port)):
                runs[name].append(redis_benchmark(port, 50, n, ["-t", "ping", *extra]))
        entry = {"clients": 50, "requests": n, "flags": " ".join(["-c", "50", "-t", "ping", *extra])}
        for test in ("PING_INLINE", "PING_MBULK"):
            b = median_rows([r[test] for r in runs["bridgefeed"]])
            r = median_rows([r[test] for r in runs["redis"]])
            entry[test] = {"bridgefeed": b, "redis": r, "ratio": b["rps"] / r["rps"],
                           "ratios_each_run": [x[test]["rps"] / y[test]["rps"] for x, y in
                                               zip(runs["bridgefeed"], runs["redis"])]}
        res[label] = entry
        log(f"PING {label}: ours/redis = {entry['PING_MBULK']['ratio']:.2f} (MBULK), "
            f"{entry['PING_INLINE']['ratio']:.2f} (INLINE)")
    return res


def step_feed(args, cfg, server, users, snapshot, queries, faiss_build, threads):
    """FEED at each client count, and FEED at 50 clients alternated with the bare search."""
    res = {"k": FEED_K, "count": FEED_COUNT, "command": "FEED u:__rand_int__ COUNT 20 PEEK",
           "users": users, "by_clients": []}
    stats0, cpu0 = info(server, "stats"), server.cpu_seconds()
    est = 500.0
    for c in cfg["feed_clients"]:
        row = feed_run(server.port, c, users, cfg["feed_seconds"], est)
        est = row["rps"]
        res["by_clients"].append(row)
        log(f"FEED {c} clients: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.3f} ms, "
            f"p99 {row['p99_ms']:.3f} ms")
    feeds, bares = [], []
    for _ in range(cfg["reps"]):
        feeds.append(feed_run(server.port, 50, users, cfg["feed_seconds"], est))
        bares.append(annbench(args, faiss_build, "search", snapshot=snapshot, queries=queries,
                              k=FEED_K, threads=threads, seconds=cfg["bare_seconds"])[0])
    # Where a FEED's server time goes: its ANN searches (INFO stats) and the rest.
    stats1, cpu1 = info(server, "stats"), server.cpu_seconds()
    n = stats1["feed_requests"] - stats0["feed_requests"]
    if n > 0:
        res["per_feed"] = {
            "feeds": n,
            "searches": (stats1["feed_searches"] - stats0["feed_searches"]) / n,
            "search_ms": (stats1["feed_search_usec"] - stats0["feed_search_usec"]) / n / 1e3,
            "server_cpu_ms": (cpu1 - cpu0) * 1e3 / n}
        log(f"per FEED: {res['per_feed']['searches']:.2f} ANN searches taking "
            f"{res['per_feed']['search_ms']:.3f} ms; server CPU {res['per_feed']['server_cpu_ms']:.3f} ms")
    res["feed_50"] = median_rows(feeds)
    res["bare"] = median_rows([{k: v for k, v in b.items() if isinstance(v, (int, float))}
                               for b in bares])
    res["bare"].update(faiss_build=faiss_build, type=bares[0]["type"])
    res["feed_over_bare"] = res["feed_50"]["rps"] / res["bare"]["qps"]
    res["feed_over_bare_each_run"] = [f["rps"] / b["qps"] for f, b in zip(feeds, bares)]
    log(f"FEED/bare = {res['feed_over_bare']:.2f} ({res['feed_50']['rps']:.0f} / "
        f"{res['bare']['qps']:.0f})")
    return res


def step_builds(args, cfg, snapshot, queries):
    """The same bare search under each Faiss build, one thread, alternated."""
    builds = available_builds(args)
    runs = {b: [] for b in builds}
    for _ in range(cfg["reps"]):
        for b in builds:
            runs[b].append(annbench(args, b, "search", snapshot=snapshot, queries=queries,
                                    k=FEED_K, threads=1, seconds=cfg["bare_seconds"])[0])
    res = {b: {"qps": median([r["qps"] for r in runs[b]]),
               "p50_us": median([r["p50_us"] for r in runs[b]])} for b in builds}
    if "avx2" in res and "package" in res:
        res["avx2_over_package"] = res["avx2"]["qps"] / res["package"]["qps"]
        log(f"bare search avx2/package = {res['avx2_over_package']:.2f}")
    return res


def sweep_settings(search):
    """Search-time settings around the serving one ("nprobe 64", "efSearch 128 ..."), as
    (annbench flag, display name, values); None for an exact index."""
    m = re.match(r"(nprobe|efSearch) (\d+)", search or "")
    if not m:
        return None
    v = int(m.group(2))
    if m.group(1) == "nprobe":
        return "nprobe", "nprobe", sorted({max(1, v // 4), max(1, v // 2), v * 2, v * 4})
    return "ef_search", "efSearch", [400, 800]


def step_recall(args, cfg, build, snap, queries):
    """recall@K at the serving setting, and around it with 1-thread queries/s (the points of
    recall_qps.png)."""
    def recall(sample, **kw):
        return annbench(args, build, "recall", snapshot=snap, queries=queries, k=FEED_K,
                        sample=sample, **kw)[0]
    res = recall(cfg["recall_sample"])
    res["sweep"] = []
    sweep = sweep_settings(res.get("search"))
    if sweep:
        flag, name, values = sweep
        res["sweep_param"] = name
        for v in values:
            row = recall(min(200, cfg["recall_sample"]), **{flag: v})
            row["qps_1_thread"] = annbench(args, build, "search", snapshot=snap,
                                           queries=queries, k=FEED_K, threads=1,
                                           seconds=min(4, cfg["bare_seconds"]),
                                           **{flag: v})[0]["qps"]
            row["value"] = v
            res["sweep"].append(row)
    # The culture-filtered searches a FEED makes: every culture but the user's home, the home
    # culture alone, and one small culture alone.
    res["filtered"] = [recall(min(200, cfg["recall_sample"]), filter=f)
                       for f in ("none", "cross", "home", "rarest")]
    log(f"recall@{FEED_K} {res['recall']:.3f} ({res.get('type')}, {res.get('search')}); " +
        ", ".join(f"{res.get('sweep_param')} {x['value']}: {x['recall']:.3f}" for x in res["sweep"]))
    return res


def write_post_adds(posts, n, head, out):
    """The first n posts of the world: as JSON lines into head (the in-process and import
    input) and as pipelined POST.ADD commands with FP32 vectors into out (redis-cli --pipe
    input, encoded by redis-py)."""
    conn = redis.Connection()  # only its encoder: it never connects
    with open(posts) as f, open(head, "w") as h, open(out, "wb") as r:
        for _, line in zip(range(n), f):
            h.write(line)
            p = json.loads(line)
            argv = ["POST.ADD", p["id"], "AUTHOR", p["author"], "CULTURE", p["culture"],
                    "VECTOR", "FP32", struct.pack(f"<{len(p['vector'])}f", *p["vector"])]
            for key in ("lang", "ts", "title"):
                if p.get(key) is not None:
                    argv += [key.upper(), str(p[key])]
            if p.get("tags"):
                argv += ["TAGS", ",".join(p["tags"])]
            r.write(b"".join(conn.pack_command(*argv)))


def step_ingest(args, cfg, world, work):
    """Pipelined POST.ADD over the wire against the same writes in process, and the import."""
    n = cfg["ingest_n"]
    tmp = os.path.join(work, "ingest")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    head = os.path.join(tmp, "posts-head.jsonl")
    resp = os.path.join(tmp, "post-add.resp")
    write_post_adds(os.path.join(world, "posts.jsonl"), n, head, resp)
    # Flat on every path: with auto, a new database is Flat and the server rebuilds it as IVF in
    # the background at 20,000 posts, work the in-process floor would not do.
    res = {"posts": n, "index": INGEST_INDEX, "fsync": "everysec"}

    # Over the wire: a fresh server, redis-cli --pipe (all commands pipelined, replies counted).
    srv = start_bridgefeed(args, os.path.join(tmp, "wire"), "ingest-server", index=INGEST_INDEX)
    t0 = time.monotonic()
    with open(resp, "rb") as f:
        out = run(["redis-cli", "-h", "127.0.0.1", "-p", str(srv.port), "--pipe"], stdin=f,
                  timeout=1800)
    wire_s = time.monotonic() - t0
    m = re.search(r"errors: (\d+), replies: (\d+)", out)
    posts_now = info(srv, "storage").get("posts", -1)
    stop(srv)
    if not m or int(m.group(1)) != 0 or posts_now != n:
        raise RuntimeError(f"POST.ADD pipe failed: {out!r}, posts {posts_now}")
    res["wire_s"] = wire_s
    res["wire_posts_per_s"] = n / wire_s

    # In process: the same store writes plus index adds (and through the engine facade).
    inproc = json.loads(run([os.path.join(args.bin, "ingest_inprocess"), "--posts", head, "--n",
                             str(n), "--dir", os.path.join(tmp, "inproc"), "--index", INGEST_INDEX,
                             "--fsync", "everysec"],
                            env=dict(os.environ, OMP_NUM_THREADS="1")).splitlines()[-1])
    res["inprocess"] = inproc
    res["wire_over_inprocess"] = res["wire_posts_per_s"] / inproc["store_index_posts_per_s"]

    # The bulk import tool on the same posts (store writes, then the index built at the end).
    imp = run_import(args, os.path.join(tmp, "import"), "--posts", head, index=INGEST_INDEX)
    res["import_s"] = imp["import_s"]
    res["import_index"] = imp["index"]
    res["import_posts_per_s"] = n / res["import_s"]
    res["import_over_wire"] = res["import_posts_per_s"] / res["wire_posts_per_s"]
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"ingest: wire {res['wire_posts_per_s']:.0f}/s, in-process "
        f"{inproc['store_index_posts_per_s']:.0f}/s (ratio {res['wire_over_inprocess']:.2f}), "
        f"import {res['import_posts_per_s']:.0f}/s")
    return res


def step_restart(args, cfg, server, data):
    """RSS of the warm server, then stop and restart from the snapshot until it serves.
    Returns (the new server, results)."""
    rss_kb, peak_kb = server.rss_kb(), server.peak_rss_kb()
    stats = info(server)
    posts = stats.get("posts", 0)
    stop_s = stop(server, timeout=300)
    snap = os.path.join(data, "index.snap")
    srv = start_bridgefeed(args, data, "restart-server", timeout=cfg["server_timeout"])
    client = srv.client()
    t_feed = time.monotonic()
    client.execute_command("FEED", user_id(0), "COUNT", str(FEED_COUNT), "PEEK")
    first_feed_ms = (time.monotonic() - t_feed) * 1e3
    loaded = "loaded snapshot" in srv.read_log()
    raw = posts * DIM * 4
    res = {"posts": posts, "stop_s": stop_s, "restart_to_ping_s": srv.ready_s,
           "first_feed_ms": first_feed_ms, "from_snapshot": loaded,
           "rss_bytes": rss_kb * 1024, "rss_peak_bytes": peak_kb * 1024,
           "raw_vector_bytes": raw, "snapshot_bytes": os.path.getsize(snap),
           "db_bytes": stats.get("db_size_bytes", 0)}
    res["rss_over_raw"] = res["rss_bytes"] / raw
    res["snapshot_over_raw"] = res["snapshot_bytes"] / raw
    log(f"restart to serving: {srv.ready_s:.2f} s (snapshot: {loaded}); "
        f"RSS {res['rss_bytes'] / 2**20:.0f} MiB = {res['rss_over_raw']:.2f}x raw vectors")
    return srv, res
