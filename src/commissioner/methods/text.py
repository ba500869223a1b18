"""Text clean-up and name normalisation for matching (pure functions)."""

import html
import re
import unicodedata

# Common UTF-8-read-as-cp1252 sequences seen in Contracts Finder data.
_MOJIBAKE_MARKERS = ("â€", "Ã", "Â£", "Â ")


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Windows-1252 (e.g. 'â€¢' -> '•'); else unchanged."""
    if not text or text.isascii() or not any(m in text for m in _MOJIBAKE_MARKERS):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    # Mixed text: repair runs one at a time.
    def repair(match):
        try:
            return match.group(0).encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"[ÂÃâ][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ¡-¿]{1,2}", repair, text)


def clean_text(text) -> str:
    """HTML-unescape, repair mojibake and trim a value from a notice."""
    if text is None:
        return ""
    text = str(text)
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():  # the common case: no mojibake, no odd spaces
        return text.strip()
    text = fix_mojibake(text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").strip()


def simple_key(name: str) -> str:
    """Lower-case, accents stripped, punctuation to spaces, '&' as 'and', spaces collapsed."""
    name = clean_text(name).lower().replace("&", " and ").replace("'", "").replace("’", "")
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    name = re.sub(r"[^a-z0-9]+", " ", name)
    return " ".join(name.split())


_COMPANY_SUFFIXES = {
    "ltd", "limited", "plc", "llp", "lp", "inc", "co", "company", "the", "uk", "cic", "cio", "group",
    "holdings", "holding",
}


def supplier_name_key(name: str) -> str:
    """Normalised supplier name: 'Marstons Holdings PLC.' and 'MARSTONS HOLDINGS LIMITED' agree."""
    words = simple_key(name).split()
    kept = [w for w in words if w not in _COMPANY_SUFFIXES]
    return " ".join(kept or words)


_SHORT_FORMS = {
    "herts": "hertfordshire", "beds": "bedfordshire", "bucks": "buckinghamshire", "cambs": "cambridgeshire",
    "glos": "gloucestershire", "hants": "hampshire", "lancs": "lancashire", "leics": "leicestershire",
    "lincs": "lincolnshire", "northants": "northamptonshire", "notts": "nottinghamshire",
    "oxon": "oxfordshire", "staffs": "staffordshire", "wilts": "wiltshire", "worcs": "worcestershire",
    "yorks": "yorkshire", "derbys": "derbyshire", "st": "saint", "bcp": "bournemouth christchurch and poole",
    "banes": "bath and north east somerset", "b and nes": "bath and north east somerset",
}
_COUNCIL_WORDS = {
    "council", "borough", "metropolitan", "district", "county", "city", "of", "the", "london",
    "royal", "mbc", "bc", "dc", "cc", "corporation", "unitary", "authority",
}


def council_name_keys(name: str) -> list[str]:
    """Candidate keys for a buyer name, strictest first.

    1. the simple key of the whole name;
    2. with a department suffix removed ('- Children's Services', '(WCC)', or words after 'Council');
    3. with generic council words ('City of', 'Borough', 'Metropolitan', ...) removed and short
       forms expanded ('Herts' -> 'Hertfordshire').
    """
    cleaned = clean_text(name)
    keys = [simple_key(cleaned)]
    base = re.sub(r"\([^)]*\)", " ", cleaned)            # '(WCC)'
    base = re.split(r"\s[-–—:]\s|,", base)[0]              # ' - Children's Services'
    m = re.match(r"(.*?\bcouncil\b)", base, flags=re.IGNORECASE)
    if m:                                                  # 'Suffolk County Council Passenger Transport'
        base = m.group(1)
    keys.append(simple_key(base))
    words = simple_key(base).split()
    expanded = " ".join(_SHORT_FORMS.get(w, w) for w in words)
    for short, full in _SHORT_FORMS.items():
        if " " in short:
            expanded = expanded.replace(short, full)
    core = [w for w in expanded.split() if w not in _COUNCIL_WORDS]
    if core:
        keys.append(" ".join(core))
    out = []
    for k in keys:
        if k and k not in out:
            out.append(k)
    return out


def council_core_key(name: str) -> str:
    """The loosest key of a reference name (for building the reference index)."""
    return council_name_keys(name)[-1]


_PARISH = re.compile(r"\b(parish|town|community|village|neighbourhood)\s+council\b", re.IGNORECASE)


def is_parish_or_town_council(name: str) -> bool:
    return bool(_PARISH.search(clean_text(name)))


_PUBLIC_BODY = re.compile(
    r"\b(nhs|department|ministry|office|constabulary|police|university|college|agency|"
    r"authority|fire|rescue|integrated care board|icb|nhs trust|commission|regulator|inspectorate|"
    r"school|academy|academies|national|hm |his majesty|crown|defra|desnz|dft|dfe|cps|ofcom|cefas)\b",
    re.IGNORECASE,
)


def looks_public_body(name: str) -> bool:
    return bool(_PUBLIC_BODY.search(clean_text(name)))
