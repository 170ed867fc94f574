"""Text vectors through the real server: POST.ADD with TITLE only, EMBED, SIMILAR CROSS between
translations, BADVECTOR for unknown words, and the starts the server refuses (a lexicon that
is missing or corrupt, a database of another dimension).

The lexicon is built here by the real bridgefeed-text-model from a few lines of each source
(GloVe JSON, CC-CEDICT, FreeDict dictd files): no download, no dictionary packages."""
import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import redis

from harness import Server

TEXT_MODEL = os.environ.get("BRIDGEFEED_TEXT_MODEL", "bridgefeed-text-model")
IMPORT = os.environ.get("BRIDGEFEED_IMPORT", "bridgefeed-import")
DIM = 8

# English words, most frequent first. Topics on their own axes; function words share axis 7.
AXES = {"the": 7, "my": 7, "a": 7, "of": 7, "is": 7,
        "cat": 0, "dog": 1, "sun": 2, "bird": 3, "tea": 4, "music": 5, "snow": 6}
CEDICT = ["貓 猫 [mao1] /cat/", "狗 狗 [gou3] /dog/", "我的 我的 [wo3 de5] /my/",
          "太陽 太阳 [tai4 yang2] /sun/", "鳥 鸟 [niao3] /bird/", "茶 茶 [cha2] /tea/"]
FREEDICT = {
    "jpn-eng": [("猫", "cat"), ("犬", "dog"), ("鳥", "bird")],
    "por-eng": [("gato", "cat"), ("cachorro", "dog"), ("meu", "my"), ("sol", "sun")],
    "spa-eng": [("gato", "cat"), ("perro", "dog"), ("mi", "my"), ("sol", "sun")],
    "fra-eng": [("chat", "cat"), ("chien", "dog"), ("mon", "my"), ("soleil", "sun")],
    "deu-eng": [("Katze", "cat"), ("Hund", "dog")],
    "ita-eng": [("gatto", "cat"), ("cane", "dog")],
}


def b64(n):
    """dictd's base64 number, most significant digit first."""
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    out = ""
    while True:
        out = digits[n % 64] + out
        n //= 64
        if n == 0:
            return out


def build_lexicon(tmp):
    """Writes the sources into tmp and runs bridgefeed-text-model; returns the lexicon path."""
    words = list(AXES)
    vectors = {}
    for i, w in enumerate(words):
        v = [0.0] * DIM
        v[AXES[w]] = 1.0
        v[(AXES[w] + 1) % DIM] += 0.01 * i  # no two words identical
        vectors[w] = v
    glove = os.path.join(tmp, "glove.json")
    with open(glove, "w") as f:
        json.dump({"dimensions": DIM, "words": words, "vectors": vectors}, f)
    cedict = os.path.join(tmp, "cedict.u8")
    with open(cedict, "w", encoding="utf-8") as f:
        f.write("# CC-CEDICT, a few lines\n" + "\n".join(CEDICT) + "\n")
    fd = os.path.join(tmp, "freedict")
    os.makedirs(fd)
    for name, entries in FREEDICT.items():
        body, index = b"", []
        for head, gloss in entries:
            entry = f"{head} /x/\n1. {gloss}\n".encode()
            index.append(f"{head}\t{b64(len(body))}\t{b64(len(entry))}\n")
            body += entry
        with open(os.path.join(fd, f"freedict-{name}.index"), "w", encoding="utf-8") as f:
            f.writelines(index)
        with open(os.path.join(fd, f"freedict-{name}.dict.dz"), "wb") as f:
            f.write(gzip.compress(body))
    out = os.path.join(tmp, "lexicon.bin")
    res = subprocess.run([TEXT_MODEL, "--glove", glove, "--cedict", cedict, "--freedict-dir", fd,
                          "--hunspell-dir", tmp, "--no-forms", "--no-apertium", "--out", out],
                         capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"bridgefeed-text-model failed:\n{res.stderr}")
    return out


def unpack(blob):
    return struct.unpack("<%df" % (len(blob) // 4), blob)


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b))


class TextTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bf_text_")
        cls.lexicon = build_lexicon(cls.tmp)
        # No --dim: the database takes the model's.
        cls.server = Server("--text-model", cls.lexicon, dim=None).start()
        cls.r = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def add(self, post, culture, title, *extra):
        return self.r.execute_command("POST.ADD", post, "AUTHOR", "a_" + post, "CULTURE", culture,
                                      "TITLE", title, *extra)

    def test_dimension_is_the_models(self):
        self.assertEqual(self.r.info("server")["dim"], DIM)

    def test_info_text_describes_the_model(self):
        info = self.r.info("text")
        self.assertEqual(info["text_model_loaded"], 1)
        self.assertEqual(info["text_model_path"], self.lexicon)
        self.assertEqual(info["text_model_dim"], DIM)
        self.assertGreaterEqual(info["text_model_load_ms"], 0)
        langs = info["text_languages"]  # redis-py splits a comma list (versions differ)
        if isinstance(langs, str):
            langs = langs.split(",")
        self.assertEqual(langs, ["en", "zh", "ja", "pt", "es", "fr", "de", "it"])
        # redis-py parses "words=12,vectors=12,empty=0" into a dict.
        self.assertEqual(info["text_lang_en"], {"words": len(AXES), "vectors": len(AXES), "empty": 0})
        # CC-CEDICT's 6 lines, 3 of them with a traditional form too, and JMdict's 犬: the one
        # kanji headword CC-CEDICT lacks (猫 and 鳥 it has).
        self.assertEqual(info["text_lang_zh"], {"words": len(CEDICT) + 3 + 1,
                                                "vectors": len(CEDICT) + 3 + 1, "empty": 0})
        self.assertEqual(info["text_lang_ja"], {"words": 3, "vectors": 3, "empty": 0})

    def test_title_only_post_gets_the_text_vector(self):
        self.assertEqual(self.add("t_zh", "CN", "我的猫"), b"OK")
        got = dict(zip(*[iter(self.r.execute_command("POST.GET", "t_zh", "WITHVECTOR"))] * 2))
        self.assertEqual(got[b"title"], "我的猫".encode())
        stored = unpack(got[b"vector"])
        embedded = unpack(self.r.execute_command("EMBED", "TEXT", "我的猫"))
        self.assertEqual(len(stored), DIM)
        for s, e in zip(stored, embedded):
            self.assertAlmostEqual(s, e, places=5)
        self.assertEqual(max(range(DIM), key=lambda i: stored[i]), 0)  # the cat axis

    def test_embed(self):
        v = unpack(self.r.execute_command("EMBED", "TEXT", "my cat"))
        self.assertEqual(len(v), DIM)
        self.assertAlmostEqual(math.sqrt(sum(x * x for x in v)), 1.0, places=5)
        zh = unpack(self.r.execute_command("EMBED", "TEXT", "我的猫", "LANG", "zh"))
        es = unpack(self.r.execute_command("embed", "lang", "es", "text", "mi gato"))
        dog = unpack(self.r.execute_command("EMBED", "TEXT", "mi perro"))
        self.assertGreater(cosine(v, zh), 0.9)
        self.assertGreater(cosine(v, es), 0.9)
        self.assertLess(cosine(v, dog), 0.6)
        # An unknown LANG falls back to detection from the script.
        self.assertEqual(self.r.execute_command("EMBED", "TEXT", "我的猫", "LANG", "xx"),
                         self.r.execute_command("EMBED", "TEXT", "我的猫"))
        with self.assertRaisesRegex(redis.ResponseError, r"^BADVECTOR no known words in text$"):
            self.r.execute_command("EMBED", "TEXT", "xyzzy plugh")
        with self.assertRaisesRegex(redis.ResponseError, r"^syntax error$"):
            self.r.execute_command("EMBED", "LANG", "en", "my cat")

    def test_similar_cross_between_translations(self):
        for post, culture, title in [("s_zh_cat", "CN", "我的猫"), ("s_en_cat", "US", "my cat"),
                                     ("s_en_dog", "US", "the dog"), ("s_es_dog", "ES", "mi perro"),
                                     ("s_fr_sun", "FR", "mon soleil"), ("s_ja_cat", "JP", "猫")]:
            self.assertEqual(self.add(post, culture, title), b"OK")
        near = [p.decode() for p in self.r.execute_command("SIMILAR", "s_zh_cat", "COUNT", "2",
                                                           "CROSS")]
        self.assertEqual(sorted(near), ["s_en_cat", "s_ja_cat"])
        near = self.r.execute_command("SIMILAR", "s_en_dog", "COUNT", "1", "CROSS")
        self.assertEqual(near, [b"s_es_dog"])

    def test_unknown_words_write_nothing_and_vector_wins(self):
        with self.assertRaisesRegex(redis.ResponseError, r"^BADVECTOR no known words in text$"):
            self.add("u_none", "US", "xyzzy plugh")
        self.assertIsNone(self.r.execute_command("POST.GET", "u_none"))
        # No text and no VECTOR: a post without a vector (docs/learning.md).
        self.assertEqual(self.r.execute_command("POST.ADD", "u_empty", "AUTHOR", "a", "CULTURE",
                                                "US"), b"OK")
        empty = dict(zip(*[iter(self.r.execute_command("POST.GET", "u_empty"))] * 2))
        self.assertEqual(empty[b"has_vector"], 0)
        # TEXT alone, and TITLE with TEXT.
        self.assertEqual(self.r.execute_command("POST.ADD", "u_text", "AUTHOR", "a", "CULTURE",
                                                "US", "TEXT", "sun sun"), b"OK")
        got = unpack(dict(zip(*[iter(self.r.execute_command("POST.GET", "u_text",
                                                            "WITHVECTOR"))] * 2))[b"vector"])
        self.assertEqual(max(range(DIM), key=lambda i: got[i]), 2)
        given = struct.pack("<8f", 0, 0, 0, 0, 0, 0, 2, 0)
        self.assertEqual(self.add("u_given", "US", "my cat", "VECTOR", "FP32", given), b"OK")
        got = unpack(dict(zip(*[iter(self.r.execute_command("POST.GET", "u_given",
                                                            "WITHVECTOR"))] * 2))[b"vector"])
        self.assertEqual(got, (0, 0, 0, 0, 0, 0, 1, 0))

    def test_import_encodes_posts_without_vector(self):
        posts = os.path.join(self.tmp, "posts.jsonl")
        with open(posts, "w", encoding="utf-8") as f:
            f.write(json.dumps({"id": "i_zh", "author": "x", "culture": "CN", "lang": "zh",
                                "title": "我的猫"}, ensure_ascii=False) + "\n")
            f.write(json.dumps({"id": "i_en", "author": "y", "culture": "US",
                                "title": "my cat", "text": "the cat"}) + "\n")
            f.write(json.dumps({"id": "i_bad", "author": "z", "culture": "US",
                                "title": "xyzzy"}) + "\n")
        data = os.path.join(self.tmp, "imported")
        res = subprocess.run([IMPORT, "--data-dir", data, "--posts", posts, "--text-model",
                              self.lexicon], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("no known words in text", res.stderr)
        res = subprocess.run([IMPORT, "--data-dir", data, "--posts", posts, "--text-model",
                              self.lexicon, "--skip-invalid"], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        server = Server("--text-model", self.lexicon, dim=None, data_dir=data).start()
        try:
            r = server.client()
            self.assertEqual(r.execute_command("SIMILAR", "i_zh", "CROSS"), [b"i_en"])
            self.assertIsNone(r.execute_command("POST.GET", "i_bad"))
        finally:
            server.stop()
            server.cleanup()


class RefusedStartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bf_text_refused_")
        cls.lexicon = build_lexicon(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def refused(self, server, *pattern, extra=()):
        with self.assertRaises(RuntimeError) as cm:
            server.start(extra, timeout=30)
        for p in pattern:
            self.assertRegex(str(cm.exception), p)
        self.assertIsNone(server.proc)

    def test_database_of_another_dimension(self):
        server = Server(dim=64)
        try:
            server.start()
            server.stop()
            server.dim = None
            model = ("--text-model", self.lexicon)
            self.refused(server, "exited with 1", "database dimension is 64",
                         f"makes {DIM}-d vectors, so its database must have dimension {DIM}",
                         extra=model)
            server.dim = 64  # and --dim beside the model must be the model's
            self.refused(server, f"dim is 64 but the text model .* makes {DIM}-d vectors",
                         extra=model)
            server.start()  # without the model the database still serves
            self.assertEqual(server.client().info("server")["dim"], 64)
            server.stop()
        finally:
            server.cleanup()

    def test_missing_or_corrupt_lexicon(self):
        missing = os.path.join(self.tmp, "nope.bin")
        server = Server("--text-model", missing, dim=None)
        try:
            self.refused(server, "exited with 1", "cannot open text model .*nope.bin")
        finally:
            server.cleanup()
        corrupt = os.path.join(self.tmp, "corrupt.bin")
        with open(self.lexicon, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF  # one flipped byte: the checksum fails
        with open(corrupt, "wb") as f:
            f.write(data)
        server = Server("--text-model", corrupt, dim=None)
        try:
            self.refused(server, "exited with 1", "corrupt.bin is not a valid lexicon file")
        finally:
            server.cleanup()

    def test_without_text_model(self):
        server = Server(dim=4).start()
        try:
            r = server.client()
            with self.assertRaisesRegex(redis.ResponseError,
                                        "^no text model loaded: start the server with "
                                        "--text-model FILE$"):
                r.execute_command("EMBED", "TEXT", "my cat")
            # Without a text model a title is only a title: the post has no vector.
            self.assertEqual(r.execute_command("POST.ADD", "p", "AUTHOR", "a", "CULTURE", "US",
                                               "TITLE", "cat"), b"OK")
            got = dict(zip(*[iter(r.execute_command("POST.GET", "p"))] * 2))
            self.assertEqual(got[b"has_vector"], 0)
        finally:
            server.stop()
            server.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
