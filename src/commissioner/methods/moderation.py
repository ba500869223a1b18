"""Residents' stories: automatic checks before a moderator sees them, pure functions (no Django).

``check(text, ...)`` returns the reasons to hold a story (an empty list: nothing found). Each reason is
a ``Hold`` with a ``kind`` (personal_data, abuse, spam, blocked), a ``code`` and a plain-English
``reason``. A reason never quotes what it found: moderation history must not keep the personal data
that a moderator then removes, so the reason says *what sort* of thing was found, not the thing.

Personal data: a name after a title (Mr, Mrs, Ms, Miss, Dr, ...), a phone number (UK landline or
mobile, +44 or 0 first, with spaces, dots, dashes or brackets), an email address, a UK postcode, a
street address (a house number then a street word: "12 Acacia Avenue"). Abuse: a small word list (whole
words, case and simple disguises folded: "1d10t"). Spam: links (http, www., a bare domain), the same
text posted before, one word or character repeated many times, text mostly in capitals. A council's own
block list of words (``blocked_words``) holds a story too.

``redact(text)`` replaces what the personal-data checks find with "[removed]", for a moderator who
publishes a story without it.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Hold:
    kind: str  # personal_data, abuse, spam or blocked
    code: str
    reason: str

    def as_dict(self):
        return {"kind": self.kind, "code": self.code, "reason": self.reason}


KINDS = {"personal_data": "Personal data", "abuse": "Abuse", "spam": "Spam", "blocked": "Block list"}

TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "nurse", "sister",
          "cllr", "councillor")
# A title, then a capitalised word (the name): "Mr Smith", "Dr. A Patel", "Mrs O'Neill".
NAME_AFTER_TITLE = re.compile(
    r"\b(?:" + "|".join(TITLES) + r")\.?\s+(?:[A-Z]\.?\s+)?[A-Z][a-zA-Z'\u2019-]+", re.IGNORECASE)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# UK phone numbers: +44 or 0, then 9-10 more digits, in groups separated by spaces, dots, dashes or brackets.
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)(?:[\s.\-()]*\d){9,10}(?!\d)")
# UK postcodes (outward code, space optional, inward code).
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[A-Z]{2}\b", re.IGNORECASE)
STREET_WORDS = ("street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "close", "drive", "dr", "way", "court",
                "crescent", "grove", "place", "gardens", "terrace", "walk", "square", "hill", "row", "mews", "park")
ADDRESS = re.compile(r"\b\d{1,4}[a-z]?,?\s+(?:[A-Z][a-zA-Z'\u2019-]+\s+){1,3}(?:" + "|".join(STREET_WORDS) + r")\b\.?",
                     re.IGNORECASE)
# Capitalised words that follow a title but are not names ("Dr appointment" is caught only if capitalised).
NOT_NAMES = frozenset({"and", "or", "the", "a", "an", "who", "was", "is", "said", "told", "at", "in", "on"})

LINK = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|info|biz|xyz|ru|top|io|co\.uk|uk)\b",
                  re.IGNORECASE)

# A small list of abusive words, matched as whole words after folding case, accents and common digit
# disguises. Councils add their own (the block list).
ABUSE_WORDS = frozenset({
    "idiot", "idiots", "moron", "morons", "stupid", "scum", "scumbag", "scumbags", "bastard", "bastards", "bitch",
    "bitches", "fuck", "fucking", "fucker", "fuckers", "shit", "shite", "crap", "arse", "arsehole", "asshole",
    "wanker", "wankers", "twat", "twats", "prick", "cunt", "cunts", "retard", "retarded", "slag", "dickhead",
    "bollocks", "piss", "pissed",
})
_DISGUISE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_WORD = re.compile(r"[\w@$!]+")

MIN_REPEAT = 6  # the same word this many times in a row, or a character 10 times, is spam
CAPS_SHARE = 0.7  # letters in capitals above this share (of 40 letters or more) is shouting


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed: for comparing texts."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().lower()


def words(text: str) -> list[str]:
    """The words of a text, folded, with digit disguises undone ("1d10t" -> "idiot")."""
    return [w.translate(_DISGUISE).strip("_") for w in _WORD.findall(fold(text))]


def _names_after_titles(text):
    found = []
    for m in NAME_AFTER_TITLE.finditer(text or ""):
        name = m.group(0).split()[-1]
        if name.lower().strip(".") in NOT_NAMES or not name[0].isupper():
            continue
        found.append(m)
    return found


def _phones(text):
    return [m for m in PHONE.finditer(text or "") if 10 <= sum(c.isdigit() for c in m.group(0)) <= 13]


def personal_data(text: str) -> list[Hold]:
    """What sorts of personal data the text seems to hold (never the data itself)."""
    out = []
    if _names_after_titles(text):
        out.append(Hold("personal_data", "name", "A person's name after a title (such as Mr, Mrs or Dr)"))
    if _phones(text):
        out.append(Hold("personal_data", "phone", "A phone number"))
    if EMAIL.search(text or ""):
        out.append(Hold("personal_data", "email", "An email address"))
    if POSTCODE.search(text or ""):
        out.append(Hold("personal_data", "postcode", "A postcode"))
    if ADDRESS.search(text or ""):
        out.append(Hold("personal_data", "address", "A street address"))
    return out


def abuse(text: str, extra_words: Iterable[str] = ()) -> list[Hold]:
    """Abusive words from the built-in list; ``extra_words`` (the block list) are reported apart."""
    found = set(words(text))
    out = []
    if found & ABUSE_WORDS:
        out.append(Hold("abuse", "abuse", "Abusive or offensive language"))
    extra = {w for w in (fold(x) for x in extra_words) if w}
    single = {w for w in extra if " " not in w}
    phrases = extra - single
    folded = " ".join(words(text))
    if found & single or any(f" {p} " in f" {folded} " for p in phrases):
        out.append(Hold("blocked", "blocked_word", "A word or phrase on the block list"))
    return out


def spam(text: str, recent_texts: Iterable[str] = ()) -> list[Hold]:
    """Links, text posted before (``recent_texts``: other recent stories), repetition, shouting."""
    out = []
    if LINK.search(EMAIL.sub(" ", text or "")):
        out.append(Hold("spam", "link", "A link to a website"))
    mine = fold(text)
    if mine and any(fold(t) == mine for t in recent_texts):
        out.append(Hold("spam", "repeated_text", "The same text was posted before"))
    ws = words(text)
    run = best = 0
    for i, w in enumerate(ws):
        run = run + 1 if i and w == ws[i - 1] else 1
        best = max(best, run)
    if best >= MIN_REPEAT or re.search(r"(\S)\1{9,}", text or ""):
        out.append(Hold("spam", "repetition", "A word or character repeated many times"))
    elif len(ws) >= 20:
        top, count = Counter(ws).most_common(1)[0]
        if count / len(ws) > 0.4 and len(top) > 2:
            out.append(Hold("spam", "repetition", "A word or character repeated many times"))
    letters = [c for c in text or "" if c.isalpha()]
    if len(letters) >= 40 and sum(c.isupper() for c in letters) / len(letters) > CAPS_SHARE:
        out.append(Hold("spam", "capitals", "Written mostly in capital letters"))
    return out


def check(text: str, *, blocked_words: Iterable[str] = (), recent_texts: Iterable[str] = ()) -> list[Hold]:
    """Every reason to hold the text, personal data first, each code once."""
    seen, out = set(), []
    for hold in (*personal_data(text), *abuse(text, blocked_words), *spam(text, recent_texts)):
        if hold.code not in seen:
            seen.add(hold.code)
            out.append(hold)
    return out


# What each hold means, said to the story's author in plain words (never repeating what was found).
FOR_AUTHOR = {
    "name": "it seems to name a person (a name after a title such as Mr, Mrs or Dr)",
    "phone": "it seems to contain a phone number",
    "email": "it seems to contain an email address",
    "postcode": "it seems to contain a postcode",
    "address": "it seems to contain a street address",
    "abuse": "it seems to contain abusive or offensive language",
    "blocked_word": "it contains a word or phrase on the block list",
    "link": "it contains a link to a website",
    "repeated_text": "the same text was sent before",
    "repetition": "a word or character is repeated many times",
    "capitals": "it is written mostly in capital letters",
    "wave": "many stories were sent from your internet connection at once",
}


def for_author(holds: Iterable[dict]) -> list[str]:
    """The holds of a story (``Hold.as_dict()``), each in plain words for its author, in order, once each."""
    out = []
    for hold in holds:
        code = hold.get("code", "")
        words_ = FOR_AUTHOR.get(code) or (hold.get("reason", "") or "").lower()
        if words_ and words_ not in out:
            out.append(words_)
    return out


REMOVED = "[removed]"


def redact(text: str) -> str:
    """The text with names after titles, phone numbers, emails, postcodes and street addresses replaced by
    "[removed]" (the title stays: "Mr [removed]")."""
    text = EMAIL.sub(REMOVED, text or "")
    for m in reversed(_phones(text)):
        text = text[:m.start()] + REMOVED + text[m.end():]
    text = ADDRESS.sub(REMOVED, text)
    text = POSTCODE.sub(REMOVED, text)
    for m in reversed(_names_after_titles(text)):
        title = m.group(0).split()[0]
        text = text[:m.start()] + f"{title} {REMOVED}" + text[m.end():]
    return text


def text_digest_key(text: str) -> str:
    """The folded text, for finding the same story posted again (the caller hashes it)."""
    return " ".join(re.findall(r"[^\W_]+", fold(text)))


def postcode_area(postcode: str) -> str:
    """The postcode area (the letters at the start: "DN" of "DN1 3BU"), upper case; "" if none."""
    m = re.match(r"\s*([A-Za-z]{1,2})\d", postcode or "")
    return m.group(1).upper() if m else ""


def postcode_district(postcode: str) -> str:
    """The outward code ("DN1" of "DN1 3BU"), upper case; "" if none."""
    m = re.match(r"\s*([A-Za-z]{1,2}\d[A-Za-z\d]?)(?:\s*\d[A-Za-z]{2})?\s*$", postcode or "")
    return m.group(1).upper() if m else ""


def mean(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def trend(points: Iterable[tuple[str, float]]) -> list[dict]:
    """Average rating per period: ``points`` are (period, rating) pairs; periods sorted as strings."""
    by = {}
    for period, value in points:
        by.setdefault(period, []).append(value)
    return [{"period": p, "count": len(v), "average": mean(v)} for p, v in sorted(by.items())]
