"""What a client was told, and what the server may hold after a crash.

A Writer pipelines POST.ADD, POST.DEL, USER.SET and EVENT on one redis-py
connection and records each reply as it reads it. Replies come back in order,
so the acknowledged commands are a prefix of those sent; the rest were in
flight when the server died. After a restart every key must hold its
acknowledged state or the state one of its in-flight commands would leave
(the WAL keeps a prefix of what the server applied). Model.verify() checks
that against the restarted server, then adopts what it found, so the next
round starts from an exact state.
"""
import math
import random
import struct

import redis

DIM = 8
CULTURES = ["US", "CN", "BR", "JP"]
STABLE_POSTS = [f"s{i}" for i in range(30)]   # never deleted: events target them
EVENT_USERS = [f"eu{i}" for i in range(40)]   # changed by EVENT only
SET_USERS = [f"u{i}" for i in range(150)]     # changed by USER.SET only
EVENT_TYPES = {"VIEW": (1, 0, 0), "LIKE": (0, 1, 0), "SHARE": (0, 1, 0), "HIDE": (0, 0, 1)}


def engagement(op):
    """(user, post, kind): counters count each user once per post and kind
    (impression, positive, negative; docs/ranking.md)."""
    return (op[1], op[2], EVENT_TYPES[op[3]].index(1))


def raw_vector(key, version):
    rnd = random.Random(f"{key}/{version}")
    v = [rnd.uniform(-1.0, 1.0) for _ in range(DIM)]
    v[0] += 2.0  # never all-zero
    return v


def normalized(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def fp32(v):
    return struct.pack("<%df" % len(v), *v)


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def post_fields(pid, version):
    rnd = random.Random(f"meta/{pid}/{version}")
    return {"author": f"a{rnd.randrange(300)}".encode(),
            "culture": rnd.choice(CULTURES).encode(),
            "ts": 1_700_000_000 + rnd.randrange(1_000_000),
            "title": f"{pid}#{version}".encode()}


def post_add_args(pid, version):
    f = post_fields(pid, version)
    return ["POST.ADD", pid, "AUTHOR", f["author"], "CULTURE", f["culture"],
            "VECTOR", "FP32", fp32(raw_vector(pid, version)), "TS", str(f["ts"]),
            "TITLE", f["title"], "LANG", "en"]


def user_set_args(uid, version):
    rnd = random.Random(f"user/{uid}/{version}")
    return ["USER.SET", uid, "CULTURE", rnd.choice(CULTURES), "LANGS", f"v{version},en",
            "OPENNESS", str(rnd.randrange(11) / 10), "VECTOR", "FP32",
            fp32(raw_vector(uid, version))]


def close_vectors(blob, expected):
    got = struct.unpack("<%df" % DIM, blob)
    return all(abs(a - b) < 1e-5 for a, b in zip(got, expected))


class Model:
    def __init__(self, rnd, admin=False):
        self.rnd = rnd
        self.admin = admin  # mix SAVE and INDEX.REBUILD into the writes
        self.posts = {}    # id -> acknowledged version, None once deleted
        self.users = {}    # SET_USERS id -> acknowledged version
        self.next_version = {}
        self.next_post = 0
        # Acknowledged counters: post -> [impressions, positives, negatives],
        # event user -> [positives, negatives].
        self.post_counts = {p: [0, 0, 0] for p in STABLE_POSTS}
        self.user_counts = {u: [0, 0] for u in EVENT_USERS}
        # Engagements acknowledged (they count no more), and those an event in
        # flight at a crash may or may not have made: never sent again, so the
        # model stays exact.
        self.engaged = set()
        self.ambiguous = set()
        # Filled by a Writer: ops sent but not acknowledged.
        self.in_flight = []
        self.acked_ops = 0

    # Op generation ---------------------------------------------------------
    def _version(self, key):
        v = self.next_version.get(key, 0)
        self.next_version[key] = v + 1
        return v

    def live_posts(self):
        return [p for p, v in self.posts.items() if v is not None]

    def setup_ops(self):
        return [("post", p, self._version(p)) for p in STABLE_POSTS]

    def random_op(self, believed):
        """One op; believed maps post -> live (as far as sent), to pick targets."""
        r = self.rnd.random()
        if self.admin and r < 0.004:
            # Kills also land during snapshot writes and background rebuilds.
            return ("admin", self.rnd.choice(["SAVE", "INDEX.REBUILD"]))
        deletable = [p for p, live in believed.items() if live and not p.startswith("s")]
        if r < 0.35 or not deletable:
            pid = f"p{self.next_post}"
            self.next_post += 1
            return ("post", pid, self._version(pid))
        if r < 0.50:
            pid = self.rnd.choice(deletable)
            return ("post", pid, self._version(pid))
        if r < 0.62:
            return ("post", self.rnd.choice(deletable), None)
        if r < 0.77:
            uid = self.rnd.choice(SET_USERS)
            return ("user", uid, self._version(uid))
        for _ in range(20):
            op = ("event", self.rnd.choice(EVENT_USERS), self.rnd.choice(STABLE_POSTS),
                  self.rnd.choice(list(EVENT_TYPES)))
            if engagement(op) not in self.ambiguous:
                break
        return op

    @staticmethod
    def args(op):
        if op[0] == "admin":
            return [op[1]]
        if op[0] == "post":
            return post_add_args(op[1], op[2]) if op[2] is not None else ["POST.DEL", op[1]]
        if op[0] == "user":
            return user_set_args(op[1], op[2])
        return ["EVENT", op[1], op[2], op[3]]

    @staticmethod
    def expected_reply(op):
        if op[0] == "post" and op[2] is None:
            return (0, 1)
        return (b"OK",)

    # Applying what the server acknowledged ---------------------------------
    def ack(self, op, reply):
        self.acked_ops += 1
        if op[0] == "admin":
            busy = isinstance(reply, redis.ResponseError) and str(reply).startswith("BUSY")
            assert reply == b"OK" or (op[1] == "INDEX.REBUILD" and busy), (op, reply)
            return
        assert reply in self.expected_reply(op), (op, reply)
        if op[0] == "post":
            self.posts[op[1]] = op[2]
        elif op[0] == "user":
            self.users[op[1]] = op[2]
        elif engagement(op) not in self.engaged:  # a repeat counts nothing
            self.engaged.add(engagement(op))
            d = EVENT_TYPES[op[3]]
            c = self.post_counts[op[2]]
            for i in range(3):
                c[i] += d[i]
            u = self.user_counts[op[1]]
            u[0] += d[1]
            u[1] += d[2]

    # Checking a restarted server ---------------------------------------------
    def _check_prefix(self, acked, found, check):
        """The in-flight writes that took effect are a prefix of those sent:
        some cut c exists such that every key shows the state its in-flight
        ops up to c leave (c = -1: none applied)."""
        ops = [op for op in self.in_flight if op[0] in ("post", "user")]
        by_key = {}
        for i, op in enumerate(ops):
            by_key.setdefault((op[0], op[1]), []).append((i, op[2]))
        cuts = set(range(-1, len(ops)))
        for k, writes in by_key.items():
            state, ok = acked.get(k), set()
            bounds = [i for i, _ in writes] + [len(ops)]
            if state == found.get(k):
                ok.update(range(-1, bounds[0]))
            for n, (i, v) in enumerate(writes):
                if v == found.get(k):
                    ok.update(range(i, bounds[n + 1]))
            cuts &= ok
        check(bool(cuts), f"the in-flight writes that took effect are not a prefix of the "
                          f"{len(ops)} sent: {[(k, found.get(k)) for k in by_key][:10]}")

    def verify(self, r, check):
        """Checks every key against the model with check(cond, msg), then
        adopts the server's state for keys that had commands in flight."""
        post_opts = {p: {v} for p, v in self.posts.items()}
        user_opts = {u: {v} for u, v in self.users.items()}
        extra_post = {p: [0, 0, 0] for p in STABLE_POSTS}
        extra_user = {u: [0, 0] for u in EVENT_USERS}
        maybe = set()  # engagements the in-flight events may have made
        for op in self.in_flight:
            if op[0] == "admin":
                continue
            if op[0] == "post":
                post_opts.setdefault(op[1], {None}).add(op[2])
            elif op[0] == "user":
                user_opts.setdefault(op[1], {None}).add(op[2])
            elif engagement(op) not in self.engaged and engagement(op) not in maybe:
                maybe.add(engagement(op))
                d = EVENT_TYPES[op[3]]
                for i in range(3):
                    extra_post[op[2]][i] += d[i]
                extra_user[op[1]][0] += d[1]
                extra_user[op[1]][1] += d[2]

        acked_state = {("post", p): v for p, v in self.posts.items()}
        acked_state.update({("user", u): v for u, v in self.users.items()})
        found_state = {}

        pids = sorted(post_opts)
        pipe = r.pipeline(transaction=False)
        for p in pids:
            pipe.execute_command("POST.GET", p, "WITHVECTOR")
        uids = sorted(user_opts)
        for u in uids:
            pipe.execute_command("USER.GET", u, "WITHVECTOR")
        for u in EVENT_USERS:
            pipe.execute_command("USER.GET", u)
        replies = pipe.execute()
        post_replies = replies[:len(pids)]
        user_replies = replies[len(pids):len(pids) + len(uids)]
        event_user_replies = replies[len(pids) + len(uids):]

        for p, rep in zip(pids, post_replies):
            if rep is None:
                found = None
            else:
                f = pairs(rep)
                title = f["title"].decode()
                check(title.startswith(p + "#"), f"post {p} has title {title}")
                found = int(title.split("#")[1])
                exp = post_fields(p, found)
                for k in ("author", "culture", "title"):
                    check(f[k] == exp[k], f"post {p} v{found} {k}: {f[k]} != {exp[k]}")
                check(int(f["ts"]) == exp["ts"], f"post {p} ts")
                check(close_vectors(f["vector"], normalized(raw_vector(p, found))),
                      f"post {p} v{found}: vector differs")
            check(found in post_opts[p],
                  f"post {p}: found {found}, acknowledged {self.posts.get(p, 'never')}, "
                  f"allowed {post_opts[p]}")
            found_state[("post", p)] = found
            self.posts[p] = found
        for u, rep in zip(uids, user_replies):
            found = None
            if rep is not None:
                f = pairs(rep)
                found = int(f["langs"].decode().split(",")[0][1:])
                check(close_vectors(f["vector"], normalized(raw_vector(u, found))),
                      f"user {u} v{found}: vector differs")
                check(f["langs"] == f"v{found},en".encode(), f"user {u} langs")
            check(found in user_opts[u], f"user {u}: found {found}, allowed {user_opts[u]}")
            found_state[("user", u)] = found
            if found is not None:
                self.users[u] = found
        for p, rep in zip(pids, post_replies):
            if p in self.post_counts:
                check(rep is not None, f"stable post {p} is gone")
                f = pairs(rep)
                got = [int(f["impressions"]), int(f["positives"]), int(f["negatives"])]
                lo, extra = self.post_counts[p], extra_post[p]
                check(all(lo[i] <= got[i] <= lo[i] + extra[i] for i in range(3)),
                      f"post {p} counters {got}: acknowledged {lo}, in flight {extra}")
                self.post_counts[p] = got
        users_found = sum(rep is not None for rep in user_replies + event_user_replies)
        for u, rep in zip(EVENT_USERS, event_user_replies):
            lo, extra = self.user_counts[u], extra_user[u]
            got = [0, 0] if rep is None else [int(pairs(rep)["positives"]),
                                              int(pairs(rep)["negatives"])]
            check(all(lo[i] <= got[i] <= lo[i] + extra[i] for i in range(2)),
                  f"user {u} counters {got}: acknowledged {lo}, in flight {extra}")
            self.user_counts[u] = got
        self._check_prefix(acked_state, found_state, check)
        self.ambiguous |= maybe
        self.in_flight = []

        # Counts agree: model, store (INFO storage posts) and index (live).
        live = set(self.live_posts())
        info = r.info("storage")
        index = pairs(r.execute_command("INDEX.INFO"))
        check(int(info["posts"]) == len(live),
              f"INFO posts {info['posts']} != {len(live)} live posts read back")
        check(int(index["live"]) == len(live),
              f"INDEX.INFO live {index['live']} != {len(live)} stored posts")
        # The store's persisted user counter survived the crashes too.
        check(int(info["users"]) == users_found,
              f"INFO users {info['users']} != {users_found} users read back")

        # Deleted posts are never served.
        deleted = {p for p, v in self.posts.items() if v is None}
        seen = set()
        for u in self.rnd.sample(SET_USERS + EVENT_USERS, 6) + ["nobody"]:
            seen.update(x.decode() for x in r.execute_command("FEED", u, "COUNT", "500", "PEEK"))
        for p in self.rnd.sample(sorted(live), min(6, len(live))):
            seen.update(x.decode() for x in r.execute_command("SIMILAR", p, "COUNT", "500"))
            seen.update(x.decode() for x in r.execute_command("SIMILAR", p, "COUNT", "100",
                                                             "CROSS"))
        check(not (seen & deleted), f"deleted posts served: {sorted(seen & deleted)[:10]}")
        check(seen <= live, f"unknown posts served: {sorted(seen - live)[:10]}")
        return len(live), len(deleted), len(seen)


class Writer:
    """Pipelines batches of ops until the connection dies (or max_batches)."""

    def __init__(self, model, port, rnd, lock=None):
        self.model = model
        self.port = port
        self.rnd = rnd
        self.believed = {p: v is not None for p, v in model.posts.items()}
        # With a lock, acknowledgements are applied under it, so another
        # thread can copy the model at a known point (BACKUP).
        self.lock = lock
        self.sent = []    # every op handed to the socket, in order
        self.acked = 0    # how many of them were acknowledged

    def run(self, ops_source, max_batches=10**9, batch=(5, 60)):
        conn = redis.Connection(host="127.0.0.1", port=self.port, socket_timeout=20)
        sent_total = 0
        try:
            conn.connect()
            for _ in range(max_batches):
                ops = ops_source(self.rnd.randint(*batch), self.believed)
                if not ops:
                    break
                for op in ops:
                    if op[0] == "post":
                        self.believed[op[1]] = op[2] is not None
                # In flight from the moment they are handed to the socket.
                if self.lock:
                    with self.lock:
                        self.model.in_flight.extend(ops)
                else:
                    self.model.in_flight.extend(ops)
                self.sent.extend(ops)
                conn.send_packed_command(conn.pack_commands([Model.args(op) for op in ops]))
                sent_total += len(ops)
                for op in ops:
                    try:
                        reply = conn.read_response()
                    except redis.ResponseError as e:
                        reply = e
                    if self.lock:
                        with self.lock:
                            self._ack(op, reply)
                    else:
                        self._ack(op, reply)
            return sent_total, False
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return sent_total, True
        finally:
            conn.disconnect()

    def _ack(self, op, reply):
        self.model.in_flight.pop(0)
        self.model.ack(op, reply)
        self.acked += 1
