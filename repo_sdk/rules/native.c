/* How the rules read text, in C: no Python step per character or token (repo_sdk.rules.speedups loads it).
 *
 * encode(tokens) -> str
 *     One ASCII character per token, from a hash of the token's characters: equal tokens get
 *     equal characters (what the codes' prefilter needs), different ones share one 1 time in 128.
 * sentence_tokens(lower, spans) -> (codes, tokens, all tokens, all code)
 *     For each (start, end) span of `lower` (a lower-cased text), the tokens there as
 *     repo_sdk.rules.text.TOKEN finds them (a run of word characters other than '_' and CJK;
 *     a CJK character alone) and the code of them; then every span's tokens in one list, and
 *     the code of that list (the spans' codes joined).
 *
 * split_sentences(text) -> [(start, end), ...]
 *     repo_sdk.rules.text.split_sentences: a sentence ends after a run of . ! ? ... followed by
 *     closing quotes or brackets and then whitespace or the end, after a run of CJK stops, and at
 *     each newline; each piece is stripped of whitespace and empty ones are left out.
 *
 * script_keys(lower, spans) -> ([(span, count, joined), ...], grams, count)
 *     The tokens of each (start, end, ...) span of `lower`: the runs of word characters, '$', '\u20ac' and
 *     '\u00a3' there, as re.findall(r"[\w\u20ac$\u00a3]+", lower, start, end) finds them. For each span, the
 *     span, how many tokens there are, and a str of them joined by single spaces (equal strs: equal token
 *     sequences); the keys of every three tokens in a row, the spans' tokens taken one after another, sorted
 *     and each once, as bytes (8 a key, in the machine's order); and how many tokens there are in all. A key is a 64-bit hash of the three tokens'
 *     characters, in order (two different triples share one about once in 2**64 pairs), never 0.
 * gram_keys(tokens) -> bytes
 *     The keys script_keys gives, of a sequence of tokens (str).
 * key_set() -> set; key_set_add(set, keys) -> None; key_set_count(set, keys) -> int
 *     A set of such keys (a hash table in C) that keys (bytes) are added to, and how many of some keys it holds.
 * keys_shared(a, b) -> int
 *     How many keys two such sorted key bytes share.
 * line_sentences(text) -> [(start, end), ...]
 *     The stripped, non-empty matches of [^E\n]*(?:[E]+(?=\s|$)|\n|$)|[^\n]+ in `text`, E the ASCII and
 *     CJK full stops, exclamation and question marks (the negotiation plugin's sentences): a sentence
 *     runs to a run of them followed by whitespace or the end, to a newline, or to the end; where a stop
 *     is followed by anything else ("80.00"), the sentence runs to the end of its line.
 * segments(cls, text, spans) -> (cls(start, end, text[start:end]), ...)
 *     A tuple of `cls` items, `cls` a tuple type with no fields of its own (a named tuple), made without a
 *     Python call each.
 * letter_words(lower) -> set[str]
 *     The words of `lower` as re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", lower) finds them: runs of
 *     letters (word characters other than decimal digits and '_'), a word taking one apostrophe with
 *     letters after it.
 * word_set(words) -> table
 * letter_words_in(lower, table) -> set[str]
 *     The words letter_words finds that are among `words` (looked up by a hash of their characters in a
 *     table made once: no str made for a word of the text).
 * words_table(words) -> table
 * words_in(text, table) -> bytes
 *     The words of the tuple `words` (distinct, non-empty, ASCII) that occur in `text` as substrings, as a
 *     bitmap: bit k (bit k % 8 of byte k // 8) set where words[k] does. One pass over the text for all words
 *     (a text's position is looked up by its characters), the table made once for many texts.
 * needs_table(items) -> table
 * needs_met(found, table) -> int
 *     `items` is a tuple of items (patterns), each a tuple of its needs, each a tuple of the bit positions
 *     (in `found`, a bitmap words_in gives) of the words that meet it. The int with bit k set where every
 *     need of items[k] has a word in `found` (an item without needs always has); bits past the end of
 *     `found` are not set.
 * chars_present(text, chars) -> str
 *     The characters of `chars` (a few) that `text` holds, in the order of `chars`.
 * any_in_ranges(text, bounds) -> bool
 *     Whether `text` holds a character in one of the ranges bounds[0]..bounds[1], bounds[2]..bounds[3], ...
 *     (a tuple of code points, each range's first and last).
 * close_codes(code, codes, cutoff) -> [index, ...] | None
 * any_close(codes, candidates, cutoff) -> [bool, ...] | None
 *     What repo_sdk.rules.codes's functions of those names find with rapidfuzz: the codes whose Indel
 *     similarity (2 x longest common subsequence / total length) to `code` is at least `cutoff`; for
 *     each code, whether one candidate is. The subsequence by Hyyro's bit-parallel algorithm, 64
 *     characters a step. None when a string is not ASCII (the caller then asks rapidfuzz).
 * close_earlier(codes, cutoff) -> [(index, [earlier index, ...]), ...] | None
 *     For each code with close ones before it, those (in order); codes with none are left out.
 *
 * The rules keep each in Python, used where this module is not built or REPO_SDK_PURE_PYTHON is set
 * (repo_sdk/rules: codes.py, text.py, views.py, format.py, script.py, words.py; the negotiation plugin's
 * text.py, rules/style.py). tests/rules/test_rules_speedups.py, test_rules_words.py and the plugin's
 * test_negotiation_speedups.py check both give the same results, and the same rows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define FNV_START 14695981039346656037ULL
#define FNV_STEP(h, c) (((h) ^ (uint64_t)(c)) * 1099511628211ULL)

static inline uint64_t hash_finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_of(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = FNV_START; /* FNV-1a over the code points, then a 64-bit finalizer */
    for (Py_ssize_t i = start; i < end; i++) h = FNV_STEP(h, PyUnicode_READ(kind, data, i));
    return hash_finish(h);
}

static inline Py_UCS1 code_of(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    return (Py_UCS1)(hash_of(kind, data, start, end) & 0x7F);
}

/* The tokens made lately, by the hash of their characters: a token met again (most are: words recur) is
   the same str object, not a new one (no allocation; its hash, once computed, is kept). One slot per hash
   value's low bits, the latest token there. */
#define HELD_BITS 16
#define HELD_LONGEST 64 /* a longer token is made anew each time: the table holds at most 65,536 x 64 characters */
static PyObject *held[1 << HELD_BITS];
#define HELD_SLOT(h) (&held[((h) >> 7) & ((1 << HELD_BITS) - 1)]) /* where a hash's token is held */

static PyObject *token_of(PyObject *text, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, uint64_t h) {
    Py_ssize_t n = end - start;
    if (n > HELD_LONGEST) return PyUnicode_Substring(text, start, end); /* (a 1 MB "word" is not kept) */
    PyObject **slot = HELD_SLOT(h);
    PyObject *found = *slot;
    if (found != NULL && PyUnicode_GET_LENGTH(found) == n) {
        int same = 1, fkind = PyUnicode_KIND(found);
        const void *fdata = PyUnicode_DATA(found);
        if (fkind == kind) {
            same = memcmp(fdata, (const char *)data + start * kind, (size_t)(n * kind)) == 0;
        } else {
            for (Py_ssize_t i = 0; i < n && same; i++)
                same = PyUnicode_READ(fkind, fdata, i) == PyUnicode_READ(kind, data, start + i);
        }
        if (same) {
            Py_INCREF(found);
            return found;
        }
    }
    PyObject *tok = PyUnicode_Substring(text, start, end);
    if (tok == NULL) return NULL;
    Py_INCREF(tok);
    Py_XSETREF(*slot, tok);
    return tok;
}

static inline int is_cjk(Py_UCS4 c) { /* repo_sdk.rules.text.CJK */
    return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
           (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff);
}

/* 0: outside a token, 1: in a run, 2: a token of its own (CJK) */
static inline int token_kind(Py_UCS4 c) {
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (is_cjk(c)) return 2;
    return Py_UNICODE_ISALNUM(c) ? 1 : 0; /* the regular expression's \w, less '_' (ASCII) */
}

/* token_kind of each character of a one-byte (Latin-1) text, made at import */
static uint8_t latin1_kinds[256];

static void latin1_kinds_init(void) {
    for (int c = 0; c < 256; c++) latin1_kinds[c] = (uint8_t)token_kind((Py_UCS4)c);
}

static PyObject *encode(PyObject *self, PyObject *tokens) {
    PyObject *seq = PySequence_Fast(tokens, "encode: expected a sequence of str");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyUnicode_New(n, 127);
    if (out == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    Py_UCS1 *dst = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = items[i];
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "encode: token %zd is %.50s, not str", i, Py_TYPE(t)->tp_name);
            Py_DECREF(seq);
            Py_DECREF(out);
            return NULL;
        }
        dst[i] = code_of(PyUnicode_KIND(t), PyUnicode_DATA(t), 0, PyUnicode_GET_LENGTH(t));
    }
    Py_DECREF(seq);
    return out;
}

/* A (start, end) tuple of Python ints, clamped to a text of `len` characters; -1 and an exception if not. */
static int read_span(PyObject *span, Py_ssize_t len, Py_ssize_t *start, Py_ssize_t *end) {
    if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) < 2) { /* (a segment: start, end, text) */
        PyErr_SetString(PyExc_TypeError, "spans must be (start, end) tuples");
        return -1;
    }
    Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0)), e = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
    if ((s == -1 || e == -1) && PyErr_Occurred()) return -1;
    *start = s < 0 ? 0 : s;
    *end = e > len ? len : e;
    return 0;
}

/* One token of a sentence, found before its str is looked up: where it is, and the hash of its characters. */
typedef struct {
    Py_ssize_t start, end;
    uint64_t hash;
} Found;

#define PREFETCH_AHEAD 4 /* tokens: the str held for one is fetched while four before it are looked up */

/* The tokens of lower[s:e] into found[*count...] (grown as needed), each one's slot of `held` prefetched. */
static int find_tokens(int kind, const void *data, Py_ssize_t s, Py_ssize_t e, Found **found, Py_ssize_t *count,
                       Py_ssize_t *cap) {
    const Py_UCS1 *bytes = kind == PyUnicode_1BYTE_KIND ? (const Py_UCS1 *)data : NULL;
    Py_ssize_t i = s, m = *count;
    while (i < e) {
        Py_ssize_t j = i + 1;
        uint64_t h;
        if (bytes != NULL) { /* (most texts: a table lookup a character, the hash on the way) */
            if (!latin1_kinds[bytes[i]]) {
                i++;
                continue;
            }
            h = FNV_STEP(FNV_START, bytes[i]);
            for (; j < e && latin1_kinds[bytes[j]]; j++) h = FNV_STEP(h, bytes[j]);
            h = hash_finish(h);
        } else {
            int what = token_kind(PyUnicode_READ(kind, data, i));
            if (what == 0) {
                i++;
                continue;
            }
            if (what == 1)
                while (j < e && token_kind(PyUnicode_READ(kind, data, j)) == 1) j++;
            h = hash_of(kind, data, i, j);
        }
        if (m >= *cap) {
            Py_ssize_t more = *cap ? *cap * 2 : 256;
            Found *grown = PyMem_Realloc(*found, (size_t)more * sizeof(Found));
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            *found = grown;
            *cap = more;
        }
        __builtin_prefetch(HELD_SLOT(h)); /* (the table is large: its slots are mostly out of the cache) */
        (*found)[m++] = (Found){i, j, h};
        i = j;
    }
    *count = m;
    return 0;
}

static PyObject *sentence_tokens(PyObject *self, PyObject *args) {
    PyObject *text, *spans;
    if (!PyArg_ParseTuple(args, "UO!:sentence_tokens", &text, &PyList_Type, &spans)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), n = PyList_GET_SIZE(spans), cap = 0, total = 0;
    Found *found = NULL;
    PyObject *codes = PyList_New(n), *lists = PyList_New(n), *flat = NULL, *whole = NULL;
    if (codes == NULL || lists == NULL) goto fail;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t s, e, m = 0;
        if (read_span(PyList_GET_ITEM(spans, k), len, &s, &e) < 0) goto fail;
        if (find_tokens(kind, data, s, e, &found, &m, &cap) < 0) goto fail;
        PyObject *toks = PyList_New(m), *code = PyUnicode_New(m, 127);
        if (toks == NULL || code == NULL) {
            Py_XDECREF(toks);
            Py_XDECREF(code);
            goto fail;
        }
        PyList_SET_ITEM(lists, k, toks);
        PyList_SET_ITEM(codes, k, code);
        Py_UCS1 *chars = PyUnicode_1BYTE_DATA(code);
        for (Py_ssize_t t = 0; t < m; t++) {
            if (t + PREFETCH_AHEAD < m) { /* the str held for a token further on, while this one is looked up */
                PyObject *ahead = *HELD_SLOT(found[t + PREFETCH_AHEAD].hash);
                if (ahead != NULL) __builtin_prefetch(ahead);
            }
            PyObject *tok = token_of(text, kind, data, found[t].start, found[t].end, found[t].hash);
            if (tok == NULL) goto fail;
            PyList_SET_ITEM(toks, t, tok);
            chars[t] = (Py_UCS1)(found[t].hash & 0x7F);
        }
        total += m;
    }
    /* every token in order, and the code of them all (the sentences' codes one after another) */
    flat = PyList_New(total);
    whole = PyUnicode_New(total, 127);
    if (flat == NULL || whole == NULL) goto fail;
    Py_ssize_t at = 0;
    Py_UCS1 *all = PyUnicode_1BYTE_DATA(whole);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *toks = PyList_GET_ITEM(lists, k), *code = PyList_GET_ITEM(codes, k);
        Py_ssize_t m = PyList_GET_SIZE(toks);
        for (Py_ssize_t t = 0; t < m; t++) {
            PyObject *tok = PyList_GET_ITEM(toks, t);
            Py_INCREF(tok);
            PyList_SET_ITEM(flat, at + t, tok);
        }
        if (m) memcpy(all + at, PyUnicode_1BYTE_DATA(code), (size_t)m);
        at += m;
    }
    PyMem_Free(found);
    return Py_BuildValue("(NNNN)", codes, lists, flat, whole);
fail:
    PyMem_Free(found);
    Py_XDECREF(codes);
    Py_XDECREF(lists);
    Py_XDECREF(flat);
    Py_XDECREF(whole);
    return NULL;
}

static inline int is_word_char(Py_UCS4 c) { /* [\w\u20ac$\u00a3] */
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
    return c == 0x20ac || c == 0xa3 || Py_UNICODE_ISALNUM(c);
}

/* A key of three tokens in a row from their characters' hashes (hash_of), mixed so that the order counts;
   never 0 (an empty slot of a key set). */
static inline uint64_t gram_key(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t h = a * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 31) ^ c) * 0x94d049bb133111ebULL;
    h ^= h >> 32;
    return h ? h : 1;
}

/* Sorts keys: by insertion when few (a reply's), else by their bytes from the lowest (8 stable passes). */
static int sort_keys(uint64_t *keys, Py_ssize_t n) {
    if (n <= 128) {
        for (Py_ssize_t i = 1; i < n; i++) {
            uint64_t key = keys[i];
            Py_ssize_t j = i;
            for (; j > 0 && keys[j - 1] > key; j--) keys[j] = keys[j - 1];
            keys[j] = key;
        }
        return 0;
    }
    uint64_t *from = keys, *to = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    if (to == NULL) return -1;
    for (int shift = 0; shift < 64; shift += 8) {
        Py_ssize_t at[257] = {0};
        for (Py_ssize_t i = 0; i < n; i++) at[((from[i] >> shift) & 255) + 1]++;
        for (int b = 0; b < 256; b++) at[b + 1] += at[b];
        for (Py_ssize_t i = 0; i < n; i++) to[at[(from[i] >> shift) & 255]++] = from[i];
        uint64_t *swap = from;
        from = to, to = swap;
    }
    PyMem_Free(to); /* (after 8 passes the keys are back in `keys`) */
    return 0;
}

/* The keys of every three hashes in a row, sorted and each once, as bytes (8 a key, native order). */
static PyObject *grams_of(const uint64_t *hashes, Py_ssize_t n) {
    Py_ssize_t count = n > 2 ? n - 2 : 0, distinct = 0;
    PyObject *out = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint64_t));
    if (out == NULL) return NULL;
    uint64_t *keys = (uint64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < count; i++) keys[i] = gram_key(hashes[i], hashes[i + 1], hashes[i + 2]);
    if (sort_keys(keys, count) < 0) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (distinct == 0 || keys[i] != keys[distinct - 1]) keys[distinct++] = keys[i];
    if (distinct < count && _PyBytes_Resize(&out, distinct * (Py_ssize_t)sizeof(uint64_t)) < 0) return NULL;
    return out;
}

static int token_room(uint64_t **hashes, Py_ssize_t **bounds, Py_ssize_t *held) {
    *held *= 2;
    uint64_t *h = PyMem_Realloc(*hashes, *held * sizeof(uint64_t));
    if (h != NULL) *hashes = h;
    Py_ssize_t *b = h == NULL ? NULL : PyMem_Realloc(*bounds, 2 * *held * sizeof(Py_ssize_t));
    if (b != NULL) *bounds = b;
    if (b == NULL) PyErr_NoMemory();
    return b == NULL ? -1 : 0;
}

static PyObject *script_keys(PyObject *self, PyObject *args) {
    PyObject *text, *spans;
    if (!PyArg_ParseTuple(args, "UO!:script_keys", &text, &PyList_Type, &spans)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), n = PyList_GET_SIZE(spans), count = 0, held = 64;
    Py_UCS4 narrowest = PyUnicode_IS_ASCII(text) ? 127 : 0; /* (an ASCII text: every piece is ASCII) */
    uint64_t *hashes = PyMem_Malloc(held * sizeof(uint64_t));
    Py_ssize_t *bounds = PyMem_Malloc(2 * held * sizeof(Py_ssize_t)); /* each token's start and end */
    PyObject *read = PyList_New(n), *grams = NULL, *out = NULL;
    if (hashes == NULL || bounds == NULL) PyErr_NoMemory();
    if (hashes == NULL || bounds == NULL || read == NULL) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t s, e, first = count, chars = 0;
        Py_UCS4 widest = narrowest;
        if (read_span(PyList_GET_ITEM(spans, k), len, &s, &e) < 0) goto done;
        for (Py_ssize_t i = s; i < e;) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (!is_word_char(c)) {
                i++;
                continue;
            }
            uint64_t h = 14695981039346656037ULL; /* (hash_of, read along) */
            Py_ssize_t j = i;
            do {
                if (c > widest) widest = c;
                h = (h ^ (uint64_t)c) * 1099511628211ULL;
            } while (++j < e && is_word_char(c = PyUnicode_READ(kind, data, j)));
            h ^= h >> 33;
            h *= 0xff51afd7ed558ccdULL;
            h ^= h >> 33;
            if (count == held && token_room(&hashes, &bounds, &held) < 0) goto done;
            hashes[count] = h;
            bounds[2 * count] = i, bounds[2 * count + 1] = j;
            chars += j - i;
            count++;
            i = j;
        }
        /* the span's tokens joined by single spaces (a str of the narrowest kind that holds them) */
        Py_ssize_t tokens = count - first, size = tokens ? chars + tokens - 1 : 0;
        PyObject *joined = PyUnicode_New(size, widest);
        if (joined == NULL) goto done;
        int jkind = PyUnicode_KIND(joined);
        void *jdata = PyUnicode_DATA(joined);
        Py_ssize_t at = 0;
        for (Py_ssize_t t = first; t < count; t++) {
            if (t > first) PyUnicode_WRITE(jkind, jdata, at++, ' ');
            if (jkind == kind) {
                memcpy((char *)jdata + at * kind, (const char *)data + bounds[2 * t] * kind,
                       (size_t)((bounds[2 * t + 1] - bounds[2 * t]) * kind));
                at += bounds[2 * t + 1] - bounds[2 * t];
                continue;
            }
            for (Py_ssize_t m = bounds[2 * t]; m < bounds[2 * t + 1]; m++)
                PyUnicode_WRITE(jkind, jdata, at++, PyUnicode_READ(kind, data, m));
        }
        PyObject *triple = Py_BuildValue("(OnN)", PyList_GET_ITEM(spans, k), tokens, joined);
        if (triple == NULL) goto done;
        PyList_SET_ITEM(read, k, triple);
    }
    if ((grams = grams_of(hashes, count)) != NULL) out = Py_BuildValue("(OOn)", read, grams, count);
done:
    PyMem_Free(hashes);
    PyMem_Free(bounds);
    Py_XDECREF(read);
    Py_XDECREF(grams);
    return out;
}

static PyObject *gram_keys(PyObject *self, PyObject *tokens) {
    PyObject *seq = PySequence_Fast(tokens, "gram_keys: expected a sequence of str");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint64_t *hashes = PyMem_Malloc((n + 1) * sizeof(uint64_t));
    PyObject *grams = NULL;
    if (hashes == NULL) PyErr_NoMemory();
    for (Py_ssize_t i = 0; hashes != NULL && i < n; i++) {
        PyObject *token = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(token)) {
            PyErr_Format(PyExc_TypeError, "gram_keys: token %zd is not str", i);
            break;
        }
        hashes[i] = hash_of(PyUnicode_KIND(token), PyUnicode_DATA(token), 0, PyUnicode_GET_LENGTH(token));
        if (i == n - 1) grams = grams_of(hashes, n);
    }
    if (hashes != NULL && n == 0) grams = grams_of(hashes, 0);
    PyMem_Free(hashes);
    Py_DECREF(seq);
    return grams;
}

/* A set of keys (never 0): open addressing, grown to stay at most half full. */
#define KEY_SET "repo_sdk.rules.native.key_set"
typedef struct {
    uint64_t *slots;
    size_t mask, used;
} KeySet;

static void key_set_free(PyObject *capsule) {
    KeySet *set = PyCapsule_GetPointer(capsule, KEY_SET);
    if (set == NULL) return;
    PyMem_Free(set->slots);
    PyMem_Free(set);
}

static inline size_t key_slot(const KeySet *set, uint64_t key) {
    size_t s = (size_t)(key ^ (key >> 29)) & set->mask;
    while (set->slots[s] != 0 && set->slots[s] != key) s = (s + 1) & set->mask;
    return s;
}

static PyObject *key_set(PyObject *self, PyObject *unused) {
    KeySet *set = PyMem_Calloc(1, sizeof(KeySet));
    if (set != NULL && (set->slots = PyMem_Calloc(64, sizeof(uint64_t))) == NULL) {
        PyMem_Free(set);
        set = NULL;
    }
    if (set == NULL) return PyErr_NoMemory();
    set->mask = 63;
    PyObject *capsule = PyCapsule_New(set, KEY_SET, key_set_free);
    if (capsule == NULL) {
        PyMem_Free(set->slots);
        PyMem_Free(set);
    }
    return capsule;
}

static KeySet *key_set_of(PyObject *capsule, const char *name) {
    if (PyCapsule_IsValid(capsule, KEY_SET)) return PyCapsule_GetPointer(capsule, KEY_SET);
    PyErr_Format(PyExc_TypeError, "%s: the set is not one key_set made", name);
    return NULL;
}

static PyObject *key_set_add(PyObject *self, PyObject *args) {
    PyObject *capsule;
    const char *keys;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "Oy#:key_set_add", &capsule, &keys, &size)) return NULL;
    KeySet *set = key_set_of(capsule, "key_set_add");
    if (set == NULL) return NULL;
    for (Py_ssize_t i = 0; i + 8 <= size; i += 8) {
        uint64_t key;
        memcpy(&key, keys + i, 8);
        if (key == 0) continue;
        if (2 * (set->used + 1) > set->mask + 1) { /* grow: every key placed again */
            KeySet bigger = {PyMem_Calloc(2 * (set->mask + 1), sizeof(uint64_t)), 2 * set->mask + 1, set->used};
            if (bigger.slots == NULL) return PyErr_NoMemory();
            for (size_t j = 0; j <= set->mask; j++)
                if (set->slots[j] != 0) bigger.slots[key_slot(&bigger, set->slots[j])] = set->slots[j];
            PyMem_Free(set->slots);
            *set = bigger;
        }
        size_t s = key_slot(set, key);
        if (set->slots[s] == 0) set->slots[s] = key, set->used++;
    }
    Py_RETURN_NONE;
}

static PyObject *key_set_count(PyObject *self, PyObject *args) {
    PyObject *capsule;
    const char *keys;
    Py_ssize_t size, found = 0;
    if (!PyArg_ParseTuple(args, "Oy#:key_set_count", &capsule, &keys, &size)) return NULL;
    KeySet *set = key_set_of(capsule, "key_set_count");
    if (set == NULL) return NULL;
    for (Py_ssize_t i = 0; i + 8 <= size; i += 8) {
        uint64_t key;
        memcpy(&key, keys + i, 8);
        found += key != 0 && set->slots[key_slot(set, key)] == key;
    }
    return PyLong_FromSsize_t(found);
}

static PyObject *keys_shared(PyObject *self, PyObject *args) {
    const char *a, *b;
    Py_ssize_t na, nb, i = 0, j = 0, shared = 0;
    if (!PyArg_ParseTuple(args, "y#y#:keys_shared", &a, &na, &b, &nb)) return NULL;
    while (i + 8 <= na && j + 8 <= nb) { /* (both sorted: one merge) */
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + j, 8);
        shared += x == y;
        i += x <= y ? 8 : 0;
        j += y <= x ? 8 : 0;
    }
    return PyLong_FromSsize_t(shared);
}

static int add_stripped(PyObject *out, int kind, const void *data, Py_ssize_t start, Py_ssize_t end);

static inline int is_stop(Py_UCS4 c) {
    return c == '.' || c == '!' || c == '?' || c == 0x3002 || c == 0xff01 || c == 0xff1f;
}

static PyObject *line_sentences(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "line_sentences: expected str, got %.50s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), p = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    while (p < n) {
        Py_ssize_t q = p, end;
        Py_UCS4 c = 0;
        while (q < n && !is_stop(c = PyUnicode_READ(kind, data, q)) && c != '\n') q++;
        if (q == n) {
            end = n;
        } else if (c == '\n') {
            end = q + 1;
        } else {
            Py_ssize_t r = q + 1;
            while (r < n && is_stop(PyUnicode_READ(kind, data, r))) r++;
            if (r == n || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, r))) {
                end = r;
            } else { /* [^\n]+: the rest of the line */
                end = q;
                while (end < n && PyUnicode_READ(kind, data, end) != '\n') end++;
            }
        }
        if (add_stripped(out, kind, data, p, end) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        p = end;
    }
    return out;
}

static inline int is_run(Py_UCS4 c) { return c == '.' || c == '!' || c == '?' || c == 0x2026; }
static inline int is_cjk_stop(Py_UCS4 c) { return c == 0x3002 || c == 0xff01 || c == 0xff1f; }
static inline int is_closer(Py_UCS4 c) {
    return c == '"' || c == '\'' || c == 0x201d || c == 0x2019 || c == ')' || c == ']';
}

/* appends the span of text[start:end] stripped of whitespace, unless nothing is left */
static PyObject *segments(PyObject *self, PyObject *args) {
    PyTypeObject *cls;
    PyObject *text, *spans;
    if (!PyArg_ParseTuple(args, "O!UO!:segments", &PyType_Type, &cls, &text, &PyList_Type, &spans)) return NULL;
    if (!PyType_IsSubtype(cls, &PyTuple_Type) || cls->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_Format(PyExc_TypeError, "segments: %.50s is not a tuple type without fields of its own", cls->tp_name);
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), n = PyList_GET_SIZE(spans);
    PyObject *out = PyTuple_New(n);
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        Py_ssize_t s, e;
        PyObject *seg = NULL;
        if (read_span(PyList_GET_ITEM(spans, k), len, &s, &e) == 0 && (seg = cls->tp_alloc(cls, 3)) != NULL) {
            PyObject *start = PyLong_FromSsize_t(s), *end = PyLong_FromSsize_t(e);
            PyObject *piece = PyUnicode_Substring(text, s, e < s ? s : e);
            PyTuple_SET_ITEM(seg, 0, start); /* (NULLs too: the segment is dropped below) */
            PyTuple_SET_ITEM(seg, 1, end);
            PyTuple_SET_ITEM(seg, 2, piece);
            if (start == NULL || end == NULL || piece == NULL) Py_CLEAR(seg);
        }
        if (seg == NULL) Py_CLEAR(out);
        else PyTuple_SET_ITEM(out, k, seg);
    }
    return out;
}

static int add_stripped(PyObject *out, int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    while (start < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start))) start++;
    while (end > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1))) end--;
    if (start == end) return 0;
    PyObject *span = Py_BuildValue("(nn)", start, end);
    if (span == NULL) return -1;
    int failed = PyList_Append(out, span);
    Py_DECREF(span);
    return failed;
}

static PyObject *split_sentences(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "split_sentences: expected str, got %.50s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), pos = 0, i = 0;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        Py_ssize_t end = i + 1;
        if (is_run(c)) {
            while (end < n && is_run(PyUnicode_READ(kind, data, end))) end++;
            while (end < n && is_closer(PyUnicode_READ(kind, data, end))) end++;
            if (end < n && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end))) {
                i = end; /* no end here, nor at the rest of the run */
                continue;
            }
        } else if (is_cjk_stop(c)) {
            while (end < n && is_cjk_stop(PyUnicode_READ(kind, data, end))) end++;
        } else if (c != '\n') {
            i++;
            continue;
        }
        if (add_stripped(out, kind, data, pos, end) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        pos = i = end;
    }
    if (pos < n && add_stripped(out, kind, data, pos, n) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* A code's character masks: bit i of masks[c * words + w / 64] set where the code holds c at 64 w + i;
   those of a code of up to 64 characters (most are) in `local`, no allocation. */
typedef struct {
    uint64_t *masks, *row;
    const Py_UCS1 *code;
    Py_ssize_t length, words;
    uint64_t local[128];
} Pattern;

static int pattern_init(Pattern *p, PyObject *code) {
    p->length = PyUnicode_GET_LENGTH(code);
    p->code = PyUnicode_1BYTE_DATA(code);
    p->words = p->length ? (p->length + 63) / 64 : 1;
    if (p->words == 1) {
        p->masks = p->local;
        memset(p->local, 0, sizeof(p->local));
    } else {
        p->masks = PyMem_Calloc((size_t)(128 * p->words + p->words), sizeof(uint64_t));
        if (p->masks == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->row = p->masks + 128 * p->words;
    }
    for (Py_ssize_t i = 0; i < p->length; i++) p->masks[p->code[i] * p->words + i / 64] |= (uint64_t)1 << (i % 64);
    return 0;
}

static void pattern_free(Pattern *p) {
    if (p->masks != p->local) PyMem_Free(p->masks);
}

/* Indel similarity of the pattern's code and `other` (ASCII) at least cutoff? */
static int close_to(Pattern *p, PyObject *other, double cutoff) {
    Py_ssize_t lb = PyUnicode_GET_LENGTH(other), total = p->length + lb, words = p->words;
    if (total == 0) return 1.0 >= cutoff;
    Py_ssize_t shorter = p->length < lb ? p->length : lb;
    if (1.0 - (double)(total - 2 * shorter) / (double)total < cutoff) return 0; /* not even at best */
    const Py_UCS1 *b = PyUnicode_1BYTE_DATA(other);
    if (words == 1) { /* (most codes: a sentence's) */
        const uint64_t *masks = p->masks;
        /* first a bound: the subsequence holds only characters of `other` that the code holds */
        Py_ssize_t shared = 0;
        for (Py_ssize_t j = 0; j < lb; j++) shared += masks[b[j]] != 0;
        shared = shared < p->length ? shared : p->length;
        if (1.0 - (double)(total - 2 * shared) / (double)total < cutoff) return 0;
        uint64_t s = ~(uint64_t)0;
        for (Py_ssize_t j = 0; j < lb; j++) {
            uint64_t u = s & masks[b[j]];
            s = (s + u) | (s - u);
        }
        uint64_t zeros = p->length == 64 ? ~s : ~s & (((uint64_t)1 << p->length) - 1);
        Py_ssize_t lcs = __builtin_popcountll(zeros);
        return 1.0 - (double)(total - 2 * lcs) / (double)total >= cutoff;
    }
    /* a long code: the common prefix and suffix first (they are in every longest common subsequence), so a
       copy of a long text, or one edited in a few places together, costs linear time; the rest bit-parallel,
       over the words of the code's part between them only */
    const Py_UCS1 *a = p->code;
    Py_ssize_t lo = 0, hi = 0;
    while (lo < shorter && a[lo] == b[lo]) lo++;
    while (hi < shorter - lo && a[p->length - 1 - hi] == b[lb - 1 - hi]) hi++;
    Py_ssize_t lcs = lo + hi, end = p->length - hi; /* the code's part left: [lo, end) */
    if (lo + hi < shorter) {
        Py_ssize_t w0 = lo / 64, w1 = (end - 1) / 64;
        uint64_t first = ~(uint64_t)0 << (lo % 64), last = ~(uint64_t)0 >> (63 - (end - 1) % 64);
        uint64_t *row = p->row;
        for (Py_ssize_t w = w0; w <= w1; w++) row[w] = ~(uint64_t)0;
        for (Py_ssize_t j = lo; j < lb - hi; j++) {
            const uint64_t *m = p->masks + b[j] * words;
            uint64_t carry = 0;
            for (Py_ssize_t w = w0; w <= w1; w++) {
                uint64_t mw = m[w] & (w == w0 ? first : ~(uint64_t)0) & (w == w1 ? last : ~(uint64_t)0);
                uint64_t s = row[w], u = s & mw, x = s + carry, c1 = x < s, sum = x + u, c2 = sum < x;
                carry = c1 | c2;
                row[w] = sum | (s - u);
            }
        }
        for (Py_ssize_t w = w0; w <= w1; w++)
            lcs += __builtin_popcountll(~row[w] & (w == w0 ? first : ~(uint64_t)0) & (w == w1 ? last : ~(uint64_t)0));
    }
    return 1.0 - (double)(total - 2 * lcs) / (double)total >= cutoff;
}

static int all_ascii(PyObject *seq) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyUnicode_Check(items[i]) || !PyUnicode_IS_ASCII(items[i])) return 0;
    return 1;
}

static PyObject *close_codes(PyObject *self, PyObject *args) {
    PyObject *code, *codes;
    double cutoff;
    if (!PyArg_ParseTuple(args, "OOd:close_codes", &code, &codes, &cutoff)) return NULL;
    PyObject *seq = PySequence_Fast(codes, "close_codes: expected a sequence of str");
    if (seq == NULL) return NULL;
    if (!PyUnicode_Check(code) || !PyUnicode_IS_ASCII(code) || !all_ascii(seq)) {
        Py_DECREF(seq);
        Py_RETURN_NONE;
    }
    Pattern p;
    if (pattern_init(&p, code) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject *out = PyList_New(0);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        if (!close_to(&p, items[i], cutoff)) continue;
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL || PyList_Append(out, index) < 0) Py_CLEAR(out);
        Py_XDECREF(index);
    }
    pattern_free(&p);
    Py_DECREF(seq);
    return out;
}

static PyObject *any_close(PyObject *self, PyObject *args) {
    PyObject *codes, *candidates;
    double cutoff;
    if (!PyArg_ParseTuple(args, "OOd:any_close", &codes, &candidates, &cutoff)) return NULL;
    PyObject *qs = PySequence_Fast(codes, "any_close: expected a sequence of str");
    if (qs == NULL) return NULL;
    PyObject *cs = PySequence_Fast(candidates, "any_close: expected a sequence of str");
    if (cs == NULL) {
        Py_DECREF(qs);
        return NULL;
    }
    PyObject *out = NULL;
    if (!all_ascii(qs) || !all_ascii(cs)) {
        out = Py_None;
        Py_INCREF(out);
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(qs), m = PySequence_Fast_GET_SIZE(cs);
    PyObject **queries = PySequence_Fast_ITEMS(qs), **items = PySequence_Fast_ITEMS(cs);
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        Pattern p;
        if (pattern_init(&p, queries[i]) < 0) {
            Py_CLEAR(out);
            break;
        }
        int found = 0;
        for (Py_ssize_t j = 0; j < m && !found; j++) found = close_to(&p, items[j], cutoff);
        pattern_free(&p);
        PyObject *flag = found ? Py_True : Py_False;
        Py_INCREF(flag);
        PyList_SET_ITEM(out, i, flag);
    }
done:
    Py_DECREF(qs);
    Py_DECREF(cs);
    return out;
}

static inline int is_letter(Py_UCS4 c) { /* [^\W\d_] */
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return Py_UNICODE_ISALNUM(c) && !Py_UNICODE_ISDECIMAL(c);
}

/* The words of `text` as letter_words reads them, each added to `out` (a set). */
static int add_letter_words(PyObject *out, PyObject *text) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    while (i < n) {
        if (!is_letter(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n && is_letter(PyUnicode_READ(kind, data, j))) j++;
        if (j + 1 < n && PyUnicode_READ(kind, data, j) == '\'' && is_letter(PyUnicode_READ(kind, data, j + 1))) {
            j += 2;
            while (j < n && is_letter(PyUnicode_READ(kind, data, j))) j++;
        }
        PyObject *word = token_of(text, kind, data, i, j, hash_of(kind, data, i, j));
        if (word == NULL || PySet_Add(out, word) < 0) {
            Py_XDECREF(word);
            return -1;
        }
        Py_DECREF(word);
        i = j;
    }
    return 0;
}
static PyObject *letter_words(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "letter_words: expected str, got %.50s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    PyObject *out = PySet_New(NULL);
    if (out != NULL && add_letter_words(out, text) < 0) Py_CLEAR(out);
    return out;
}
/* Words looked up by the hash of their characters (hash_of): the words (a tuple held), their hashes, and
   open-addressed slots of their indexes. */
#define WORD_SET "repo_sdk.rules.native.word_set"
typedef struct {
    PyObject *words;
    uint64_t *hashes;
    int32_t *slots; /* -1: empty */
    size_t mask;
} WordSet;

static void word_set_free(PyObject *capsule) {
    WordSet *set = PyCapsule_GetPointer(capsule, WORD_SET);
    if (set == NULL) return;
    Py_XDECREF(set->words);
    PyMem_Free(set->hashes);
    PyMem_Free(set->slots);
    PyMem_Free(set);
}

static PyObject *word_set(PyObject *self, PyObject *iterable) {
    PyObject *words = PySequence_Tuple(iterable);
    if (words == NULL) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(words);
    size_t slots = 16;
    while (slots < 2 * (size_t)n + 2) slots *= 2;
    WordSet *set = PyMem_Calloc(1, sizeof(WordSet));
    if (set != NULL) {
        set->words = words, set->mask = slots - 1;
        set->hashes = PyMem_Malloc(((size_t)n + 1) * sizeof(uint64_t));
        set->slots = PyMem_Malloc(slots * sizeof(int32_t));
    }
    PyObject *capsule = set == NULL ? NULL : PyCapsule_New(set, WORD_SET, word_set_free);
    if (capsule == NULL) {
        if (set != NULL) PyMem_Free(set->hashes), PyMem_Free(set->slots), PyMem_Free(set);
        Py_DECREF(words);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    if (set->hashes == NULL || set->slots == NULL || n >= INT32_MAX) {
        Py_DECREF(capsule);
        return PyErr_NoMemory();
    }
    memset(set->slots, -1, slots * sizeof(int32_t));
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyTuple_GET_ITEM(words, k);
        if (!PyUnicode_Check(w)) {
            Py_DECREF(capsule);
            PyErr_Format(PyExc_TypeError, "word_set: word %zd is not str", k);
            return NULL;
        }
        uint64_t h = set->hashes[k] = hash_of(PyUnicode_KIND(w), PyUnicode_DATA(w), 0, PyUnicode_GET_LENGTH(w));
        size_t s = (size_t)h & set->mask;
        while (set->slots[s] >= 0) s = (s + 1) & set->mask; /* (an equal word twice: the first is found) */
        set->slots[s] = (int32_t)k;
    }
    return capsule;
}

static PyObject *letter_words_in(PyObject *self, PyObject *args) {
    PyObject *text, *capsule;
    if (!PyArg_ParseTuple(args, "UO:letter_words_in", &text, &capsule)) return NULL;
    if (!PyCapsule_IsValid(capsule, WORD_SET)) {
        PyErr_SetString(PyExc_TypeError, "letter_words_in: the set is not one word_set made");
        return NULL;
    }
    const WordSet *set = PyCapsule_GetPointer(capsule, WORD_SET);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    PyObject *out = PySet_New(NULL);
    while (out != NULL && i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!is_letter(c)) {
            i++;
            continue;
        }
        uint64_t h = 14695981039346656037ULL; /* (hash_of, read along) */
        Py_ssize_t j = i;
        do h = (h ^ (uint64_t)c) * 1099511628211ULL;
        while (++j < n && is_letter(c = PyUnicode_READ(kind, data, j)));
        if (j + 1 < n && c == '\'' && is_letter(PyUnicode_READ(kind, data, j + 1))) {
            h = (h ^ (uint64_t)'\'') * 1099511628211ULL;
            while (++j < n && is_letter(c = PyUnicode_READ(kind, data, j))) h = (h ^ (uint64_t)c) * 1099511628211ULL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        for (size_t s = (size_t)h & set->mask; set->slots[s] >= 0; s = (s + 1) & set->mask) {
            int32_t k = set->slots[s];
            PyObject *word = PyTuple_GET_ITEM(set->words, k);
            if (set->hashes[k] != h || PyUnicode_GET_LENGTH(word) != j - i) continue;
            int wkind = PyUnicode_KIND(word), same = 1;
            const void *wdata = PyUnicode_DATA(word);
            for (Py_ssize_t m = 0; m < j - i && same; m++)
                same = PyUnicode_READ(wkind, wdata, m) == PyUnicode_READ(kind, data, i + m);
            if (same) {
                if (PySet_Add(out, word) < 0) Py_CLEAR(out);
                break;
            }
        }
        i = j;
    }
    return out;
}

static PyObject *chars_present(PyObject *self, PyObject *args) {
    PyObject *text, *chars;
    if (!PyArg_ParseTuple(args, "UU:chars_present", &text, &chars)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), m = PyUnicode_GET_LENGTH(chars);
    if (m > 64) {
        PyErr_SetString(PyExc_ValueError, "chars_present: at most 64 characters to look for");
        return NULL;
    }
    int kind = PyUnicode_KIND(text), ckind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(text), *cdata = PyUnicode_DATA(chars);
    uint64_t ascii[2] = {0, 0}, found = 0, wanted = m == 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1);
    signed char where[128]; /* an ASCII character -> its index in chars (-1: none) */
    Py_UCS4 wide[64], low = 0x10ffff, high = 0; /* the others, and the range they lie in */
    Py_ssize_t nwide = 0, wide_at[64];
    memset(where, -1, sizeof(where));
    for (Py_ssize_t k = 0; k < m; k++) {
        Py_UCS4 c = PyUnicode_READ(ckind, cdata, k);
        if (c >= 128) {
            wide[nwide] = c;
            wide_at[nwide++] = k;
            low = c < low ? c : low;
            high = c > high ? c : high;
        } else if (where[c] < 0) {
            where[c] = (signed char)k;
            ascii[c >> 6] |= (uint64_t)1 << (c & 63);
        }
    }
    for (Py_ssize_t i = 0; i < n && found != wanted; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 128) {
            if ((ascii[c >> 6] >> (c & 63)) & 1) found |= (uint64_t)1 << where[c];
            continue;
        }
        if (c < low || c > high) continue;
        for (Py_ssize_t k = 0; k < nwide; k++)
            if (wide[k] == c) found |= (uint64_t)1 << wide_at[k];
    }
    Py_UCS4 out[64];
    Py_ssize_t count = 0;
    for (Py_ssize_t k = 0; k < m; k++)
        if ((found >> k) & 1) out[count++] = PyUnicode_READ(ckind, cdata, k);
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, count);
}

static PyObject *any_in_ranges(PyObject *self, PyObject *args) {
    PyObject *text, *bounds;
    if (!PyArg_ParseTuple(args, "UO!:any_in_ranges", &text, &PyTuple_Type, &bounds)) return NULL;
    Py_ssize_t nb = PyTuple_GET_SIZE(bounds);
    if (nb % 2 || nb > 128) {
        PyErr_SetString(PyExc_ValueError, "any_in_ranges: up to 64 (first, last) pairs of code points");
        return NULL;
    }
    Py_UCS4 lo[64], hi[64], least = 0x10ffff;
    for (Py_ssize_t k = 0; k < nb / 2; k++) {
        long a = PyLong_AsLong(PyTuple_GET_ITEM(bounds, 2 * k)), b = PyLong_AsLong(PyTuple_GET_ITEM(bounds, 2 * k + 1));
        if ((a == -1 || b == -1) && PyErr_Occurred()) return NULL;
        lo[k] = (Py_UCS4)a;
        hi[k] = (Py_UCS4)b;
        if (lo[k] < least) least = lo[k];
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (PyUnicode_MAX_CHAR_VALUE(text) < least) Py_RETURN_FALSE; /* (an ASCII text, for ranges past ASCII) */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < least) continue;
        for (Py_ssize_t k = 0; k < nb / 2; k++)
            if (c >= lo[k] && c <= hi[k]) Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static PyObject *close_earlier(PyObject *self, PyObject *args) {
    PyObject *codes;
    double cutoff;
    if (!PyArg_ParseTuple(args, "Od:close_earlier", &codes, &cutoff)) return NULL;
    PyObject *seq = PySequence_Fast(codes, "close_earlier: expected a sequence of str");
    if (seq == NULL) return NULL;
    if (!all_ascii(seq)) {
        Py_DECREF(seq);
        Py_RETURN_NONE;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t k = 1; out != NULL && k < n; k++) {
        Pattern p;
        if (pattern_init(&p, items[k]) < 0) {
            Py_CLEAR(out);
            break;
        }
        PyObject *near = NULL;
        for (Py_ssize_t j = 0; j < k; j++) {
            if (!close_to(&p, items[j], cutoff)) continue;
            PyObject *index = PyLong_FromSsize_t(j);
            if (near == NULL) near = PyList_New(0);
            if (index == NULL || near == NULL || PyList_Append(near, index) < 0) {
                Py_XDECREF(index);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(index);
        }
        pattern_free(&p);
        if (near != NULL && out != NULL) {
            PyObject *pair = Py_BuildValue("(nO)", k, near);
            if (pair == NULL || PyList_Append(out, pair) < 0) Py_CLEAR(out);
            Py_XDECREF(pair);
        }
        Py_XDECREF(near);
    }
    Py_DECREF(seq);
    return out;
}

/* Whether a reply surely repeats nothing (the repetition rule's three checks at once): True when no code
   is close to another where a check compares them: `whole` (None: no such check) with each of `replies`;
   each of `codes` of at least min_len characters with each of `sentences` of at least min_len, and (within)
   with each such code before it. False: a pair is close; None: a code is not ASCII. */
static PyObject *repeat_free(PyObject *self, PyObject *args) {
    PyObject *whole, *codes, *replies, *sentences;
    Py_ssize_t min_len;
    int within;
    double cutoff;
    if (!PyArg_ParseTuple(args, "OOOOnpd:repeat_free", &whole, &codes, &replies, &sentences, &min_len, &within,
                          &cutoff))
        return NULL;
    PyObject *qs = PySequence_Fast(codes, "repeat_free: expected a sequence of str");
    PyObject *rs = qs == NULL ? NULL : PySequence_Fast(replies, "repeat_free: expected a sequence of str");
    PyObject *ss = rs == NULL ? NULL : PySequence_Fast(sentences, "repeat_free: expected a sequence of str");
    PyObject *out = NULL;
    if (ss == NULL) goto done;
    if ((whole != Py_None && (!PyUnicode_Check(whole) || !PyUnicode_IS_ASCII(whole))) || !all_ascii(qs) ||
        !all_ascii(rs) || !all_ascii(ss)) {
        out = Py_None;
        Py_INCREF(out);
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(qs), nr = PySequence_Fast_GET_SIZE(rs), ns = PySequence_Fast_GET_SIZE(ss);
    PyObject **queries = PySequence_Fast_ITEMS(qs), **earlier = PySequence_Fast_ITEMS(ss);
    int found = 0;
    Pattern p;
    if (whole != Py_None && nr > 0) {
        PyObject **items = PySequence_Fast_ITEMS(rs);
        if (pattern_init(&p, whole) < 0) goto done;
        for (Py_ssize_t j = 0; j < nr && !found; j++) found = close_to(&p, items[j], cutoff);
        pattern_free(&p);
    }
    for (Py_ssize_t k = 0; k < n && !found; k++) {
        if (PyUnicode_GET_LENGTH(queries[k]) < min_len) continue;
        if (pattern_init(&p, queries[k]) < 0) goto done;
        for (Py_ssize_t j = 0; j < ns && !found; j++)
            found = PyUnicode_GET_LENGTH(earlier[j]) >= min_len && close_to(&p, earlier[j], cutoff);
        for (Py_ssize_t j = 0; within && j < k && !found; j++)
            found = PyUnicode_GET_LENGTH(queries[j]) >= min_len && close_to(&p, queries[j], cutoff);
        pattern_free(&p);
    }
    out = found ? Py_False : Py_True;
    Py_INCREF(out);
done:
    Py_XDECREF(qs);
    Py_XDECREF(rs);
    Py_XDECREF(ss);
    return out;
}

/* A table of words (ASCII, distinct) for words_in: each word's characters, and where a text's positions
   look it up. Words of one character are indexed by it; of two, by their pair; longer ones by their first
   three characters (a small Bloom filter first), chained. The tables are small, or (the pairs') touched
   in a few places by a text, so a long text's scan stays in the fastest caches. */
#define WORDS_TABLE "repo_sdk.rules.native.words_table"
typedef struct {
    int32_t next; /* the next word of its slot, or -1 */
    int32_t len;
    int32_t at; /* where its characters start in chars */
} WordEntry;
typedef struct {
    Py_ssize_t n;                 /* words */
    int32_t one[128];             /* a one-character word's index, or -1 */
    int32_t two[128 * 128];       /* a two-character word's index by its pair, or -1 */
    uint8_t starts[128 * 128 / 8]; /* the pairs a longer word starts with */
    uint64_t bloom[64];           /* the first three characters of the longer words, hashed to 4,096 bits */
    uint32_t mask;                /* slots - 1 (a power of two) */
    uint32_t *keys;               /* a slot's key + 1 (0: an empty slot): a longer word's first three characters */
    int32_t *head;                /* a slot's first word */
    WordEntry *words;
    char *chars;
} WordsTable;

static void words_table_release(WordsTable *t) {
    PyMem_Free(t->keys);
    PyMem_Free(t->head);
    PyMem_Free(t->words);
    PyMem_Free(t->chars);
    PyMem_Free(t);
}

static void words_table_free(PyObject *capsule) {
    WordsTable *t = PyCapsule_GetPointer(capsule, WORDS_TABLE);
    if (t != NULL) words_table_release(t);
}

static inline uint32_t slot_of(uint32_t key, uint32_t mask) { return (key * 2654435761u >> 7) & mask; }
static inline uint32_t bloom_bit(uint32_t key) { return (key * 2246822519u) >> 20; } /* (12 bits) */

/* The slot of `key` in t (an empty one where it is not there). */
static inline uint32_t key_slot_of(const WordsTable *t, uint32_t key) {
    uint32_t s = slot_of(key, t->mask);
    while (t->keys[s] != 0 && t->keys[s] != key) s = (s + 1) & t->mask;
    return s;
}

static PyObject *words_table(PyObject *self, PyObject *words) {
    if (!PyTuple_Check(words)) {
        PyErr_SetString(PyExc_TypeError, "words_table: expected a tuple of str");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(words), total = 0;
    if (n >= (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "words_table: more than 16,777,215 words");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyTuple_GET_ITEM(words, k);
        if (!PyUnicode_Check(w) || !PyUnicode_IS_ASCII(w) || PyUnicode_GET_LENGTH(w) == 0) {
            PyErr_Format(PyExc_ValueError, "words_table: word %zd is not a non-empty ASCII str", k);
            return NULL;
        }
        total += PyUnicode_GET_LENGTH(w);
    }
    if (total >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "words_table: the words are too long in all");
        return NULL;
    }
    WordsTable *t = PyMem_Calloc(1, sizeof(WordsTable));
    if (t == NULL) return PyErr_NoMemory();
    uint32_t slots = 64;
    while (slots < 2 * (uint64_t)n) slots *= 2;
    t->n = n;
    t->mask = slots - 1;
    t->keys = PyMem_Calloc(slots, sizeof(uint32_t));
    t->head = PyMem_Malloc(slots * sizeof(int32_t));
    t->words = PyMem_Malloc((n + 1) * sizeof(WordEntry));
    t->chars = PyMem_Malloc(total + 1);
    if (!t->keys || !t->head || !t->words || !t->chars) {
        words_table_release(t);
        return PyErr_NoMemory();
    }
    memset(t->one, -1, sizeof t->one);
    memset(t->two, -1, sizeof t->two);
    memset(t->head, -1, slots * sizeof(int32_t));
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyTuple_GET_ITEM(words, k);
        Py_ssize_t len = PyUnicode_GET_LENGTH(w);
        const char *c = (const char *)PyUnicode_1BYTE_DATA(w);
        memcpy(t->chars + at, c, len);
        t->words[k] = (WordEntry){-1, (int32_t)len, (int32_t)at};
        at += len;
        if (len == 1) {
            if (t->one[(unsigned)c[0]] >= 0) goto twice;
            t->one[(unsigned)c[0]] = (int32_t)k;
            continue;
        }
        unsigned pair = (unsigned)c[0] << 7 | (unsigned)c[1];
        if (len == 2) {
            if (t->two[pair] >= 0) goto twice;
            t->two[pair] = (int32_t)k;
            continue;
        }
        uint32_t key = (pair << 7 | (unsigned)c[2]) + 1;
        uint32_t s = key_slot_of(t, key);
        t->starts[pair >> 3] |= (uint8_t)(1u << (pair & 7));
        t->bloom[bloom_bit(key) >> 6] |= 1ULL << (bloom_bit(key) & 63);
        t->keys[s] = key;
        t->words[k].next = t->head[s]; /* (a chain runs from the last word to the first: each is tested) */
        t->head[s] = (int32_t)k;
        continue;
    twice:
        words_table_release(t);
        PyErr_Format(PyExc_ValueError, "words_table: word %zd is twice in the tuple", k);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(t, WORDS_TABLE, words_table_free);
    if (capsule == NULL) words_table_release(t);
    return capsule;
}

#define SET_BIT(bits, w) ((bits)[(w) >> 3] |= (uint8_t)(1u << ((w) & 7)))
#define HAS_BIT(bits, w) ((bits)[(w) >> 3] >> ((w) & 7) & 1)

/* The words of table t at position i of a text whose characters there are c0 c1 c2 (ASCII): `rest(j)` is
   the character at i + j, `tail` how many there are from i on. */
#define WORDS_AT(t, bits, c0, c1, c2, tail, rest)                                                    \
    do {                                                                                             \
        int32_t w_ = (t)->one[c0];                                                                   \
        if (w_ >= 0) SET_BIT(bits, w_);                                                              \
        if ((c1) >= 128) break;                                                                      \
        unsigned pair_ = (c0) << 7 | (c1);                                                           \
        w_ = (t)->two[pair_];                                                                        \
        if (w_ >= 0) SET_BIT(bits, w_);                                                              \
        if (!((t)->starts[pair_ >> 3] >> (pair_ & 7) & 1) || (c2) >= 128) break;                     \
        uint32_t key_ = (pair_ << 7 | (c2)) + 1, b_ = bloom_bit(key_);                               \
        if (!((t)->bloom[b_ >> 6] >> (b_ & 63) & 1)) break;                                          \
        uint32_t s_ = key_slot_of(t, key_);                                                          \
        if ((t)->keys[s_] == 0) break;                                                               \
        for (w_ = (t)->head[s_]; w_ >= 0; w_ = (t)->words[w_].next) {                                 \
            Py_ssize_t n_ = (t)->words[w_].len, j_ = 3;                                              \
            if (HAS_BIT(bits, w_) || n_ > (tail)) continue;                                          \
            const char *word_ = (t)->chars + (t)->words[w_].at;                                      \
            while (j_ < n_ && rest(j_) == (Py_UCS4)(unsigned char)word_[j_]) j_++;                 \
            if (j_ == n_) SET_BIT(bits, w_);                                                         \
        }                                                                                            \
    } while (0)

/* words_in over a text of one- or two-byte characters, read straight from its array */
#define WORDS_IN_OF(NAME, CHAR)                                                                        \
    static void NAME(const WordsTable *t, const CHAR *s, Py_ssize_t len, uint8_t *bits) {             \
        for (Py_ssize_t i = 0; i < len; i++) {                                                       \
            unsigned c0 = s[i], c1 = 128, c2 = 128;                                                  \
            if (c0 >= 128) continue;                                                                 \
            if (i + 2 < len) { /* (all but the last two) */                                          \
                c1 = s[i + 1];                                                                       \
                c2 = s[i + 2];                                                                       \
            } else if (i + 1 < len) {                                                                \
                c1 = s[i + 1];                                                                       \
            }                                                                                        \
            WORDS_AT(t, bits, c0, c1, c2, len - i, REST_ARRAY);                                      \
        }                                                                                            \
    }
#define REST_ARRAY(j) ((Py_UCS4)s[i + (j)])
WORDS_IN_OF(words_in_ucs1, Py_UCS1)
WORDS_IN_OF(words_in_ucs2, Py_UCS2)
#undef REST_ARRAY

static void words_in_any(const WordsTable *t, int kind, const void *data, Py_ssize_t len, uint8_t *bits) {
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c0 = PyUnicode_READ(kind, data, i);
        if (c0 >= 128) continue;
        Py_UCS4 c1 = i + 1 < len ? PyUnicode_READ(kind, data, i + 1) : 128;
        Py_UCS4 c2 = i + 2 < len ? PyUnicode_READ(kind, data, i + 2) : 128;
#define REST_ANY(j) PyUnicode_READ(kind, data, i + (j))
        WORDS_AT(t, bits, c0, c1, c2, len - i, REST_ANY);
#undef REST_ANY
    }
}

static PyObject *words_in(PyObject *self, PyObject *args) {
    PyObject *text, *capsule;
    if (!PyArg_ParseTuple(args, "UO:words_in", &text, &capsule)) return NULL;
    if (!PyCapsule_IsValid(capsule, WORDS_TABLE)) {
        PyErr_SetString(PyExc_TypeError, "words_in: the table is not one words_table made");
        return NULL;
    }
    const WordsTable *t = PyCapsule_GetPointer(capsule, WORDS_TABLE);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (t->n + 7) / 8 + 1);
    if (out == NULL) return NULL;
    uint8_t *bits = (uint8_t *)PyBytes_AS_STRING(out);
    memset(bits, 0, (size_t)PyBytes_GET_SIZE(out));
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (kind == PyUnicode_1BYTE_KIND) /* (most texts: the characters read as bytes) */
        words_in_ucs1(t, PyUnicode_1BYTE_DATA(text), len, bits);
    else if (kind == PyUnicode_2BYTE_KIND) /* (a curly quote, a dash: most of the others) */
        words_in_ucs2(t, PyUnicode_2BYTE_DATA(text), len, bits);
    else
        words_in_any(t, kind, data, len, bits);
    return out;
}

/* Items (patterns) each needing, for every one of its needs, one of the need's words: the word bits
   positions of each need, item after item, for needs_met. */
#define NEEDS_TABLE "repo_sdk.rules.native.needs_table"
typedef struct {
    Py_ssize_t items;
    Py_ssize_t *need_start;   /* per item, and one past the last: the index of its first need */
    Py_ssize_t *word_start;   /* per need, and one past the last: the index of its first word */
    uint32_t *words;          /* the bit positions of the needs' words */
} NeedsTable;

static void needs_table_release(NeedsTable *t) {
    PyMem_Free(t->need_start);
    PyMem_Free(t->word_start);
    PyMem_Free(t->words);
    PyMem_Free(t);
}

static void needs_table_free(PyObject *capsule) {
    NeedsTable *t = PyCapsule_GetPointer(capsule, NEEDS_TABLE);
    if (t != NULL) needs_table_release(t);
}

static PyObject *needs_table(PyObject *self, PyObject *items) {
    if (!PyTuple_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "needs_table: expected a tuple (items) of tuples (needs) of tuples of int");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(items), needs = 0, words = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyTuple_GET_ITEM(items, k);
        if (!PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "needs_table: item %zd is not a tuple of needs", k);
            return NULL;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(item); j++) {
            PyObject *need = PyTuple_GET_ITEM(item, j);
            if (!PyTuple_Check(need)) {
                PyErr_Format(PyExc_TypeError, "needs_table: need %zd of item %zd is not a tuple of int", j, k);
                return NULL;
            }
            words += PyTuple_GET_SIZE(need);
        }
        needs += PyTuple_GET_SIZE(item);
    }
    NeedsTable *t = PyMem_Calloc(1, sizeof(NeedsTable));
    if (t == NULL) return PyErr_NoMemory();
    t->items = n;
    t->need_start = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    t->word_start = PyMem_Malloc((needs + 1) * sizeof(Py_ssize_t));
    t->words = PyMem_Malloc((words + 1) * sizeof(uint32_t));
    if (!t->need_start || !t->word_start || !t->words) {
        needs_table_release(t);
        return PyErr_NoMemory();
    }
    Py_ssize_t need = 0, word = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyTuple_GET_ITEM(items, k);
        t->need_start[k] = need;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(item); j++) {
            PyObject *bits = PyTuple_GET_ITEM(item, j);
            t->word_start[need++] = word;
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(bits); i++) {
                long bit = PyLong_AsLong(PyTuple_GET_ITEM(bits, i));
                if (bit < 0 || bit >= (1 << 24)) {
                    if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError))
                        PyErr_Format(PyExc_ValueError, "needs_table: word %zd of need %zd of item %zd is not a bit "
                                     "position (an int from 0 to 16,777,215)", i, j, k);
                    needs_table_release(t);
                    return NULL;
                }
                t->words[word++] = (uint32_t)bit;
            }
        }
    }
    t->need_start[n] = need;
    t->word_start[needs] = word;
    PyObject *capsule = PyCapsule_New(t, NEEDS_TABLE, needs_table_free);
    if (capsule == NULL) needs_table_release(t);
    return capsule;
}

static PyObject *needs_met(PyObject *self, PyObject *args) {
    PyObject *capsule;
    const char *found;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "y#O:needs_met", &found, &size, &capsule)) return NULL;
    if (!PyCapsule_IsValid(capsule, NEEDS_TABLE)) {
        PyErr_SetString(PyExc_TypeError, "needs_met: the table is not one needs_table made");
        return NULL;
    }
    const NeedsTable *t = PyCapsule_GetPointer(capsule, NEEDS_TABLE);
    const uint8_t *held = (const uint8_t *)found;
    uint64_t few = 0; /* (up to 64 items: the bits of an int made at once) */
    uint8_t *met = t->items > 64 ? PyMem_Calloc((size_t)t->items / 8 + 1, 1) : NULL;
    if (t->items > 64 && met == NULL) return PyErr_NoMemory();
    for (Py_ssize_t k = 0; k < t->items; k++) {
        int all = 1;
        for (Py_ssize_t j = t->need_start[k]; all && j < t->need_start[k + 1]; j++) {
            int one = 0;
            for (Py_ssize_t i = t->word_start[j]; !one && i < t->word_start[j + 1]; i++) {
                uint32_t w = t->words[i];
                one = (Py_ssize_t)(w >> 3) < size && HAS_BIT(held, w); /* (past the bytes: not held) */
            }
            all = one;
        }
        if (all && met != NULL) SET_BIT(met, k);
        else if (all) few |= 1ULL << k;
    }
    if (met == NULL) return PyLong_FromUnsignedLongLong(few);
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *out = PyLong_FromUnsignedNativeBytes(met, (size_t)t->items / 8 + 1, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    PyObject *out = _PyLong_FromByteArray(met, (size_t)t->items / 8 + 1, 1, 0);
#endif
    PyMem_Free(met);
    return out;
}

static PyMethodDef methods[] = {
    {"word_set", word_set, METH_O, "word_set(words) -> a table of the words for letter_words_in."},
    {"key_set", key_set, METH_NOARGS, "key_set() -> an empty set of 64-bit keys (script_keys' grams)."},
    {"key_set_add", key_set_add, METH_VARARGS, "key_set_add(set, keys) -> None: the keys (bytes) added."},
    {"key_set_count", key_set_count, METH_VARARGS, "key_set_count(set, keys) -> how many of the keys it holds."},
    {"keys_shared", keys_shared, METH_VARARGS, "keys_shared(a, b) -> how many keys two sorted key bytes share."},
    {"letter_words_in", letter_words_in, METH_VARARGS, "letter_words_in(lower, among) -> its words in the set among."},
    {"segments", segments, METH_VARARGS, "segments(cls, text, spans) -> (cls(start, end, text[start:end]), ...)."},
    {"script_keys", script_keys, METH_VARARGS,
     "script_keys(lower, spans) -> ([(span, tokens, joined), ...], gram keys, tokens): each span's tokens, keys."},
    {"gram_keys", gram_keys, METH_O, "gram_keys(tokens) -> the keys of every three tokens in a row."},
    {"needs_table", needs_table, METH_O, "needs_table(items) -> a table of each item's needs' word bits, for needs_met."},
    {"needs_met", needs_met, METH_VARARGS, "needs_met(found, table) -> an int with bit k set where item k's needs are met."},
    {"words_table", words_table, METH_O, "words_table(words) -> a table of the (distinct, ASCII) words for words_in."},
    {"words_in", words_in, METH_VARARGS, "words_in(text, table) -> an int with bit k set where word k is in text."},
    {"line_sentences", line_sentences, METH_O, "line_sentences(text) -> sentence spans."},
    {"letter_words", letter_words, METH_O, "letter_words(lower) -> the set of its words (letters, one apostrophe)."},
    {"close_earlier", close_earlier, METH_VARARGS, "close_earlier(codes, cutoff) -> each code's close earlier ones."},
    {"repeat_free", repeat_free, METH_VARARGS,
     "repeat_free(whole, codes, replies, sentences, min_len, within, cutoff) -> whether no pair is close."},
    {"any_in_ranges", any_in_ranges, METH_VARARGS, "any_in_ranges(text, bounds) -> whether a character is in one."},
    {"chars_present", chars_present, METH_VARARGS, "chars_present(text, chars) -> the characters of chars in text."},
    {"close_codes", close_codes, METH_VARARGS, "close_codes(code, codes, cutoff) -> indexes of the close codes."},
    {"any_close", any_close, METH_VARARGS, "any_close(codes, candidates, cutoff) -> whether each has a close one."},
    {"split_sentences", split_sentences, METH_O, "split_sentences(text) -> the spans of its sentences."},
    {"encode", encode, METH_O, "encode(tokens) -> str: one ASCII character per token, from its characters."},
    {"sentence_tokens", sentence_tokens, METH_VARARGS,
     "sentence_tokens(lower, spans) -> (codes, tokens, all tokens, all code): each span's tokens (TOKEN's) and "
     "their code, then all of them and their code."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "repo_sdk.rules.native", NULL, -1, methods};

PyMODINIT_FUNC PyInit_native(void) {
    latin1_kinds_init();
    return PyModule_Create(&module);
}
