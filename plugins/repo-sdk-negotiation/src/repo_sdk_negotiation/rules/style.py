"""Style guardrails that need the negotiation's context: one language per reply, no repeated script.

They differ from generic mixed-script / repetition checks in two ways that matter
here: names from the task (a hotel called "Casa del Sol", a city written in its own
script) are not language switches, and repetition is measured against the agent's
own earlier turns, where a canned pitch shows.
"""

from __future__ import annotations

import re
import string
from collections.abc import Hashable
from functools import lru_cache
from itertools import chain
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.rules.blanking import Blanker
from repo_sdk.rules.context import DialogueContext, DialogueTracker
from repo_sdk.rules.script import class_bounds
from repo_sdk.rules.speedups import SPEEDUPS
from repo_sdk.rules.views import TextView
from repo_sdk.types import RuleHit, Turn
from repo_sdk_negotiation.rules.base import Context, NegotiationRule
from repo_sdk_negotiation.text import Segment, commas, find_terms, segment_at, sentence_commas, sentences

__all__ = ["EarlierReplies", "OneLanguage", "RepeatedScript", "words_among", "words_of"]

SCRIPTS = {
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "kana": "\u3040-\u30ff",
    "hangul": "\uac00-\ud7af\u1100-\u11ff",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff",
    "hebrew": "\u0590-\u05ff",
    "thai": "\u0e00-\u0e7f",
    "devanagari": "\u0900-\u097f",
}
LANGUAGE_SCRIPTS = {
    "zh": {"han"},
    "ja": {"han", "kana"},
    "ko": {"hangul"},
    "ru": {"cyrillic"},
    "uk": {"cyrillic"},
    "el": {"greek"},
    "ar": {"arabic"},
    "he": {"hebrew"},
    "th": {"thai"},
    "hi": {"devanagari"},
}
# distinctive function and courtesy words; words shared with English are left out
STOPWORDS = {
    "en": "the and is are we you your our this that with for of to it could would can please thank room price".split(),
    "es": "el los las que por para con una del es muy pero nuestro nuestra usted gracias habitación precio podemos "
    "podría noche sí está hola buenos días saludos lo entiendo perfectamente han este esta año mucho muchas muchos "
    "también ahora todo bien hemos tenemos estamos gustaría quisiera favor costes precios habitaciones".split(),
    "fr": "le les des est et pour avec une nous vous pas prix chambre merci très votre notre sur dans qui bonjour "
    "nuit oui c'est je tout fait bonne journée beaucoup avez sommes suis comprends pouvons pourriez désolé "
    "aujourd'hui".split(),
    "de": "der die das und ist nicht wir sie ihr ihre für mit ein eine zimmer preis danke bitte sehr auf guten tag "
    "nacht ja vielen noch einen schönen ich haben gerne ihnen uns gut leider können verstehe".split(),
    "it": "il gli che con sono siamo non prezzo camera grazie molto nostro vostro della del buongiorno notte sì "
    "ciao ho abbiamo questo questa tutto buona giornata capisco possiamo potrebbe arrivederci".split(),
    "pt": "os que para com uma não nós você preço quarto obrigado obrigada muito nosso noite sim olá até breve boa "
    "tarde também entendo podemos poderia".split(),
    "ca": "moltes gràcies adéu entenc podem preu habitació nit també molt bon dia".split(),
}
COURTESY = {
    "gracias",
    "merci",
    "grazie",
    "danke",
    "obrigado",
    "obrigada",
    "hola",
    "bonjour",
    "buongiorno",
    "ciao",
    "olá",
    "gràcies",
    "moltes",
    "vielen",
    "arigato",
    "arigatou",
    "xiexie",
    "spasibo",
    "bedankt",
    "tack",
    "takk",
    "kiitos",
    "adiós",
    "adéu",
    "tschüss",
    "servus",
    "grüezi",
    "bonsoir",
    "buenas",
    "buonasera",
    "saludos",
    "cordialmente",
    "atentamente",
    "abrazos",
    "bisous",
    "señor",
    "señora",
    "enchanté",
    "encantado",
    "encantada",
    "prego",
    "arrivederci",
    "bientôt",
    "obrigadíssimo",
    "muchas",
    "muchísimas",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
# the words that can make a hit in a reply expected in each language: other languages' and courtesy words that
# are not words of its own (a clause holding none has no more of another language's words than of its own)
_FOREIGN = {
    lg: frozenset().union(*(w for o, w in STOPWORDS.items() if o != lg), COURTESY) - frozenset(STOPWORDS[lg])
    for lg in STOPWORDS
}
# letters and the apostrophe, kept; a non-ASCII character, kept when it is a letter
_LETTERS = Blanker(string.ascii_lowercase + "'", re.compile(r"[^\W\d_]"))


def words_of(text: str) -> set[str]:
    """The words of ``text`` (letters, with one apostrophe inside: ``don't``), lower-cased.

    Read by blanking what is not a letter or an apostrophe in the lower-cased text and
    splitting it (the expression's reading when lower-casing keeps every character one
    character, and no capital sigma, whose lower case depends on what follows it).

    Example:
        >>> sorted(words_of("Don't PAY 80eur, l'hôtel!"))
        ["don't", 'eur', "l'hôtel", 'pay']
    """
    lower = text.lower()
    plain = len(lower) == len(text) and "\u03a3" not in text
    if plain and SPEEDUPS is not None:
        return SPEEDUPS.letter_words(lower)  # (the expression's reading, in C: no string per word seen before)
    spaced = _LETTERS(lower) if plain else None
    if spaced is None:
        return set(map(str.lower, _WORD.findall(text)))
    words = set(spaced.split())
    if "'" in spaced:  # an apostrophe joins two runs of letters only
        words = {w for run in words for w in ((run,) if "'" not in run else _WORD.findall(run))}
    return words


def words_among(text: str, among: frozenset[str], lower: str | None = None) -> set[str]:
    """``among & words_of(text)``: with the C part, read without making the set of every word.

    ``lower``: ``text.lower()``, where the caller has it.

    Example:
        >>> sorted(words_among("Merci, c'est BIEN", frozenset({"merci", "bien", "gracias"})))
        ['bien', 'merci']
    """
    lower = text.lower() if lower is None else lower
    if SPEEDUPS is not None and len(lower) == len(text) and "\u03a3" not in text:  # (see words_of)
        return SPEEDUPS.letter_words_in(lower, _word_set(among))  # type: ignore[no-any-return]
    return among & words_of(text)


@lru_cache(maxsize=64)
def _word_set(words: frozenset[str]) -> object:
    """The C part's table of ``words`` (made once per set)."""
    return SPEEDUPS.word_set(words)  # type: ignore[union-attr]


_LANGUAGES_OF: dict[str, list[str]] = {}  # word -> the languages listing it, in STOPWORDS order
for _lg, _words in STOPWORDS.items():
    for _w in dict.fromkeys(_words):
        _LANGUAGES_OF.setdefault(_w, []).append(_lg)


@lru_cache(maxsize=64)
def _foreign_runs(lang: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """Runs of the scripts a reply in ``lang`` must not hold, and their characters' ranges (once per language)."""
    own = LANGUAGE_SCRIPTS.get(lang, set())
    foreign = "".join(r for name, r in SCRIPTS.items() if name not in own)
    return re.compile(rf"[{foreign}]+(?:[\s,.!?\u3001\u3002\uff0c]*[{foreign}]+)*"), class_bounds(foreign)


def _foreign_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """The spans of the runs of other scripts in ``text`` (a test in C first: most replies hold none)."""
    if text.isascii():  # every foreign script lies outside ASCII
        return []
    runs, bounds = _foreign_runs(lang)
    if SPEEDUPS is not None and not SPEEDUPS.any_in_ranges(text, bounds):
        return []
    return [m.span() for m in runs.finditer(text)]


class OneLanguageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, description="expected language (ISO 639-1); default: the task's, else en")
    min_foreign_words: int = Field(2, ge=1, description="function words of another language that make a clause foreign")


class OneLanguage(NegotiationRule[OneLanguageParams]):
    """A reply that switches language: another script, a clause in another Latin language, a foreign courtesy word.

    Names from the task (hotel, city, room types) are masked first, so "Hotel Casa
    del Sol" or a city written in kanji is not a switch. Latin languages are told
    apart by function words (en, es, fr, de, it, pt, ca); replies expected in a
    non-Latin language only flag other non-Latin scripts.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> [h.evidence for h in OneLanguage().check(make_sample(response="好的, we can do 95 EUR."))]
        ['好的']
        >>> OneLanguage().check(make_sample(response="Hello Casa del Sol team!", task={"hotel": "Casa del Sol"}))
        []
    """

    name: ClassVar[str] = "negotiation.one_language"
    description: ClassVar[str] = "reply mixes languages (other script, foreign clause or courtesy word)"
    default_points: ClassVar[float] = -15.0
    needs_tickets = False

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        lang = (p.language or ctx.task.language or "en").lower()[:2]
        text = ctx.reading.text
        names = _names(ctx)
        if names:  # only the names whose words the reply holds can be found in it
            folded = ctx.folded
            names = [n for n, words in names if all(w in folded for w in words)]
        names = find_terms(text, names) if names else []
        if names:  # blank the names out in one pass (cutting the text once per name costs its square)
            pieces, pos = [], 0
            for a, b, _ in names:
                pieces += [text[pos:a], " " * (b - a)]
                pos = b
            text = "".join([*pieces, text[pos:]])
        reason = f"text in another script in a reply expected in {lang!r}"
        hits = [self.hit_at(ctx, reason, span) for span in _foreign_spans(text, lang)]
        if lang not in STOPWORDS:
            return hits
        lower = ctx.reply.lower if ctx.reply is not None and text is ctx.reply.text else text.lower()  # (shared)
        held = words_among(text, _FOREIGN[lang], lower)  # the foreign words the reply holds
        if not held:
            return sorted(hits, key=lambda h: h.span or (0, 0))  # no clause can hold a foreign word
        for piece in _pieces_holding(text, lower, held):
            start, clause = piece.start, piece.text
            low = clause.lower()  # (lower case is read character by character: a word's is in its clause's)
            if not any(w in low for w in held):
                continue  # a clause hits only by another language's function word or a courtesy word
            words = [w.lower() for w in _WORD.findall(clause)]
            if held.isdisjoint(words):
                continue
            counts = dict.fromkeys(STOPWORDS, 0)
            for w in words:
                for lg in _LANGUAGES_OF.get(w, ()):
                    counts[lg] += 1
            other = max((lg for lg in counts if lg != lang), key=lambda lg: counts[lg])
            if counts[other] >= p.min_foreign_words and counts[other] > counts[lang]:
                span = (start, start + len(clause.rstrip()))
                hits.append(self.hit_at(ctx, f"a clause in {other!r} in a reply expected in {lang!r}", span))
            else:
                for m in _WORD.finditer(clause):
                    if m.group(0).lower() in COURTESY and m.group(0).lower() not in STOPWORDS[lang]:
                        span = (start + m.start(), start + m.end())
                        hits.append(self.hit_at(ctx, f"foreign courtesy word in a reply expected in {lang!r}", span))
        return sorted(hits, key=lambda h: h.span or (0, 0))


def _pieces_holding(text: str, lower: str, held: set[str]) -> list[Segment]:
    """:func:`repo_sdk_negotiation.text.commas` of ``text``, but only the sentences where a word of ``held``
    may stand (``lower``: ``text.lower()``): a piece elsewhere holds none of them, and cannot hit."""
    if len(lower) != len(text) or "\u03a3" in text:  # (lower case not read character by character)
        return commas(text)
    every = sentences(text)
    chosen = {segment_at(every, m.start()) for m in _held_words(frozenset(held)).finditer(lower)}  # (and maybe more)
    return [piece for s in sorted(c for c in chosen if c is not None) for piece in sentence_commas(s)]


@lru_cache(maxsize=256)
def _held_words(held: frozenset[str]) -> re.Pattern[str]:
    """Where a word of ``held`` (as :data:`_WORD` reads words) may stand: not after or before a letter."""
    words = "|".join(map(re.escape, sorted(held, key=len, reverse=True)))
    return re.compile(rf"(?<![^\W\d_])(?:{words})(?![^\W\d_])")


def _names(ctx: Context) -> list[tuple[str, tuple[str, ...]]]:
    """The task's names lower-cased, each with the words a reply must hold (folded) for it to be found
    (none for a name outside ASCII, whose case folding this test does not follow): once per dialogue."""

    def read() -> list[tuple[str, tuple[str, ...]]]:
        names = [n.lower() for n in ctx.task.names()]
        return [(n, tuple(n.split()) if n.isascii() else ()) for n in names]

    return ctx.dialogue.memo("negotiation.names", read) if ctx.dialogue is not None else read()


class RepeatedScriptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_sentence_words: int = Field(7, ge=2, description="a sentence this long repeated verbatim is a canned script")
    similarity: float = Field(0.6, gt=0, le=1, description="word-trigram Jaccard with an earlier reply that hits")
    min_reply_words: int = Field(8, ge=3, description="replies shorter than this are not compared as a whole")


_TOKEN = re.compile(r"[\w€$£]+")
_TOKEN_CHARS = Blanker(string.ascii_lowercase + string.digits + "_$", re.compile(r"[\w€£]"))  # (lower-cased)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _trigrams(tokens: list[str]) -> set[tuple[str, ...]]:
    return set(zip(tokens, tokens[1:], tokens[2:], strict=False))  # the shorter lists end it


class _Script:
    """A reply as :class:`RepeatedScript` reads it, made once per text (as the reply, then as history).

    Attributes:
        sentences: per sentence, its segment, how many tokens it has and a key of them (equal keys: the same
            tokens in the same order).
        count: how many tokens the reply has.
        grams: the keys of its word trigrams: with the C part, a 64-bit hash of the three tokens each, sorted,
            as bytes (8 a key); without it, the set of the tuples of them.
    """

    def __init__(self, text: str, lower: str | None = None) -> None:
        lower = text.lower() if lower is None else lower
        segments = sentences(text)
        # the sentences' tokens read off the text lower-cased once (the same unless a character lower-cases to
        # two, or a capital sigma, whose lower case depends on what surrounds it); only whitespace lies between
        # sentences, and a sentence ends before a space or a full stop: the reply's tokens are its sentences'
        plain = len(lower) == len(text) and "\u03a3" not in text
        if SPEEDUPS is not None and plain:  # tokens joined into one str per sentence, trigram keys: read in C
            self.sentences, self._grams, self.count = SPEEDUPS.script_keys(lower, segments)  # (segments: spans)
            return
        if not plain:
            per_sentence = [tuple(_tokens(s.text)) for s in segments]
            self.tokens = _TOKEN.findall(lower)
        else:
            if (spaced := _TOKEN_CHARS(lower)) is not None:  # the characters outside tokens made spaces
                per_sentence = [tuple(spaced[s.start : s.end].split()) for s in segments]
            else:
                findall = _TOKEN.findall
                per_sentence = [tuple(findall(lower, s.start, s.end)) for s in segments]
            self.tokens = list(chain.from_iterable(per_sentence))
        self.count = len(self.tokens)
        if SPEEDUPS is not None:  # the keys the C part gives (one kind of key in a process)
            self.sentences = [(s, len(toks), " ".join(toks)) for s, toks in zip(segments, per_sentence, strict=True)]
            self._grams = SPEEDUPS.gram_keys(self.tokens)
        else:
            self.sentences = [(s, len(toks), toks) for s, toks in zip(segments, per_sentence, strict=True)]
            self._grams = None

    @property
    def grams(self) -> Any:
        """The keys of the reply's word trigrams (see the class)."""
        if self._grams is None:
            self._grams = _trigrams(self.tokens)
        return self._grams


_SCRIPT = "negotiation.repeated_script"  # the text views' memo key


def _script_of(view: TextView) -> _Script:
    """The view's text read as :class:`_Script` reads it, once (its lower case shared with other rules)."""
    return view.memo(_SCRIPT, lambda text: _Script(text, view.lower))


class EarlierReplies(DialogueTracker):
    """The agent's earlier replies as :class:`RepeatedScript` compares them, built turn by turn.

    Holds the key of every earlier sentence's tokens, each earlier reply's word
    trigrams, and the union of them all. A reply too few of whose trigrams occur in
    the union cannot be a near-copy of any earlier reply, so only a reply that may be
    one is compared with each earlier reply. A turn is read when the tracker is next
    asked (a dialogue's last turns, fed after its last reply was scored, are never
    read). With the C part the trigrams are sorted 64-bit keys in bytes and the union a
    set of them in C (:attr:`_Script.grams`); without it, sets of tuples.
    """

    def __init__(self, dialogue: DialogueContext) -> None:
        super().__init__(dialogue)
        self._sentences: set[Hashable] = set()
        self._grams: list[Any] = []
        self._union: Any = SPEEDUPS.key_set() if SPEEDUPS is not None else set()
        self._pending: list[TextView] = []

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        if turn.role == "assistant":
            self._pending.append(view)

    def _catch_up(self) -> None:
        for view in self._pending:
            script = _script_of(view)  # read already when it was the reply
            self._sentences.update(key for _, _, key in script.sentences)
            self._grams.append(script.grams)
            if isinstance(self._union, set):
                self._union |= script.grams
            else:
                SPEEDUPS.key_set_add(self._union, script.grams)  # type: ignore[union-attr]  # (made with it)
        self._pending.clear()

    @property
    def count(self) -> int:
        """How many earlier agent replies there are."""
        return len(self._grams) + len(self._pending)

    @property
    def sentences(self) -> set[Hashable]:
        """The keys of every earlier agent sentence (:attr:`_Script.sentences`)."""
        self._catch_up()
        return self._sentences

    def near_copy(self, grams: Any, similarity: float) -> bool:
        """Whether the trigram Jaccard of ``grams`` (:attr:`_Script.grams`) with an earlier reply reaches
        ``similarity``."""
        self._catch_up()
        if not grams:
            return False
        if isinstance(self._union, set):
            size, in_union = len(grams), len(grams & self._union)
            shared, size_of = (lambda earlier: len(grams & earlier)), len
        else:  # (8 bytes a key)
            size, in_union = len(grams) // 8, SPEEDUPS.key_set_count(self._union, grams)  # type: ignore[union-attr]
            shared, size_of = (lambda earlier: SPEEDUPS.keys_shared(grams, earlier)), (lambda g: len(g) // 8)  # type: ignore[union-attr]
        # n shared with a reply of b trigrams give n / (size + b - n) <= n / size (b >= n), and n is at most
        # what all earlier replies share: under the bound, no reply reaches ``similarity`` (a correctly
        # rounded division keeps that order)
        if in_union / size < similarity:
            return False
        for earlier in self._grams:
            n = shared(earlier)
            if n and n / (size + size_of(earlier) - n) >= similarity:
                return True
        return False


class RepeatedScript(NegotiationRule[RepeatedScriptParams]):
    """The agent repeats itself: a long sentence verbatim from an earlier turn, or a near-copy of an earlier reply.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> pitch = "A better rate would make your hotel stand out for travellers comparing options."
        >>> len(RepeatedScript().check(make_sample(response=pitch, history=[("assistant", pitch), ("user", "No.")])))
        1
    """

    name: ClassVar[str] = "negotiation.repeated_script"
    description: ClassVar[str] = "repeats an earlier reply or a long sentence of it verbatim"
    default_points: ClassVar[float] = -10.0
    needs_tickets = False

    def check_context(self, ctx: Context) -> list[RuleHit]:
        p = self.config
        assert ctx.dialogue is not None
        earlier = ctx.dialogue.tracker(EarlierReplies)
        if not earlier.count:
            return []
        seen = earlier.sentences
        script = _script_of(ctx.reply) if ctx.reply is not None else _Script(ctx.response)
        hits = []
        for s, count, key in script.sentences:
            if count >= p.min_sentence_words and key in seen:
                reason = "repeats a sentence from an earlier reply word for word"
                hits.append(self.hit_at(ctx, reason, (s.start, s.end)))
        if hits:
            return hits
        if script.count < p.min_reply_words:
            return []
        if earlier.near_copy(script.grams, p.similarity):
            return [self.hit_at(ctx, "near-copy of an earlier reply", (0, len(ctx.response)))]
        return []
