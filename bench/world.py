"""The demo world the benchmark measures: generated once with bridgefeed-gen (user ids renamed
for redis-benchmark), imported once with bridgefeed-import; both cached in the work folder."""
import json
import os
import re
import shutil
import struct
import time

from common import DIM, log, run, run_process, user_id


def write_world(args, cfg, work):
    """The demo world with redis-benchmark-friendly user ids (common.user_id) and its user
    vectors as float32 rows (users.f32, the queries of annbench); returns its folder."""
    world = os.path.join(work, f"world-{cfg['posts']}")
    stamp = os.path.join(world, "bench-ready")
    if os.path.exists(stamp) and not args.fresh:
        log(f"reusing {world}")
        return world
    shutil.rmtree(world, ignore_errors=True)
    log(f"generating the demo world: {cfg['posts']} posts, {cfg['users']} users, d={DIM}")
    run([os.path.join(args.bin, "bridgefeed-gen"), "--out-dir", world, "--posts",
         str(cfg["posts"]), "--users", str(cfg["users"]), "--dim", str(DIM)])
    pat = re.compile(r'"u:(\d+)"')
    for name in ("users.jsonl", "events.jsonl"):
        src, dst = os.path.join(world, name), os.path.join(world, "bench-" + name)
        with open(src) as f, open(dst, "w") as g:
            for line in f:
                g.write(pat.sub(lambda m: '"' + user_id(int(m.group(1))) + '"', line))
        os.remove(src)
    # User vectors (query file for annbench), in file order.
    with open(os.path.join(world, "bench-users.jsonl")) as f, \
            open(os.path.join(world, "users.f32"), "wb") as g:
        for line in f:
            u = json.loads(line)
            if u.get("vector"):
                g.write(struct.pack(f"<{len(u['vector'])}f", *u["vector"]))
    open(stamp, "w").close()
    return world


def run_import(args, data, *inputs, index=None):
    """bridgefeed-import into data with the run's index spec (or `index`); returns {import_s,
    index, index_build_s} (the index it built at its end, from its summary line)."""
    cmd = [os.path.join(args.bin, "bridgefeed-import"), "--data-dir", data, "--index",
           index or args.index, *inputs]
    t0 = time.monotonic()
    p = run_process(cmd)
    secs = time.monotonic() - t0
    m = re.search(r"index +(\S+) over \d+ posts built in ([0-9.]+)s", p.stderr)
    return {"import_s": secs, "index": m.group(1) if m else None,
            "index_build_s": float(m.group(2)) if m else None}


def import_once(args, data, make_inputs):
    """Imports into data once and keeps the import's figures (run_import) in data/bench-imported;
    a later run reuses the database unless --fresh. make_inputs() writes the input files and
    returns the import's arguments. Returns the figures and reused (True when reused)."""
    stamp = os.path.join(data, "bench-imported")
    if os.path.exists(stamp) and not args.fresh:
        log(f"reusing {data}")
        try:
            with open(stamp) as f:
                return dict(json.load(f), reused=True)
        except ValueError:  # an older run's empty stamp
            return {"import_s": None, "index": None, "index_build_s": None, "reused": True}
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    log(f"importing into {data}")
    res = run_import(args, data, *make_inputs())
    with open(stamp, "w") as f:
        json.dump(res, f)
    return dict(res, reused=False)


def import_world(args, world, data):
    """Imports the demo world into data once, with the index built at its end (import_once)."""
    return import_once(args, data, lambda: [
        "--posts", os.path.join(world, "posts.jsonl"),
        "--users", os.path.join(world, "bench-users.jsonl"),
        "--events", os.path.join(world, "bench-events.jsonl")])
