"""The councils reference (mySociety 'UK Local Authority Names and Codes', CC BY 4.0), read-only."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from commissioner.methods.text import council_name_keys, simple_key

DATA = Path(__file__).resolve().parent / "data"
ATTRIBUTION = "UK Local Authority Names and Codes, mySociety (CC BY 4.0)"


@dataclass(frozen=True)
class Council:
    code: str
    official_name: str
    nice_name: str
    gss_code: str
    former_gss_codes: str
    type_code: str
    type_name: str
    region: str
    nation: str
    current: bool
    replaced_by: str
    population: int | None
    alt_names: tuple


@lru_cache(maxsize=1)
def councils() -> dict[str, Council]:
    """English authorities by three-letter code (current and former)."""
    out = {}
    with open(DATA / "uk_local_authorities_future.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["nation"] != "England":
                continue
            pop = row.get("pop-2020") or ""
            out[row["local-authority-code"]] = Council(
                code=row["local-authority-code"],
                official_name=row["official-name"],
                nice_name=row["nice-name"],
                gss_code=row["gss-code"],
                former_gss_codes=row["former-gss-codes"],
                type_code=row["local-authority-type"],
                type_name=row["local-authority-type-name"],
                region=row["region"],
                nation=row["nation"],
                current=row["current-authority"] == "True",
                replaced_by=row["replaced-by"],
                population=int(float(pop)) if pop else None,
                alt_names=tuple(n for n in row["alt-names"].split(",") if n),
            )
    return out


@lru_cache(maxsize=1)
def _indexes():
    """(exact index, normalised index): key -> code. Current authorities win over former ones."""
    refs = councils()
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}

    def put(index, key, code):
        if not key:
            return
        old = index.get(key)
        if old is None or (not refs[old].current and refs[code].current):
            index[key] = code

    with open(DATA / "lookup_name_to_registry.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["local-authority-code"] in refs:
                put(exact, simple_key(row["la-name"]), row["local-authority-code"])
    for c in refs.values():
        for n in (c.official_name, c.nice_name, *c.alt_names):
            put(exact, simple_key(n), c.code)
            put(loose, council_name_keys(n)[-1], c.code)
    return exact, loose


def match_council(name: str) -> tuple[str, str] | None:
    """(code, method) for a buyer name, or None. Exact names first, then light normalisation."""
    exact, loose = _indexes()
    keys = council_name_keys(name)
    if keys and keys[0] in exact:
        return exact[keys[0]], "exact"
    for key in keys[1:]:
        if key in exact:
            return exact[key], "normalised"
    for key in keys:
        if key in loose:
            return loose[key], "normalised"
    return None
