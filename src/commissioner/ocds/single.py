"""The compiled release of an ocid that has one release, without flattening it, when that gives
exactly what ocdsmerge gives.

ocdsmerge compiles by flattening every release into (path, value) pairs and building the
compiled release back from them; for one release on its own that round trip changes only a few
things, all of them found in one walk over the release:

- ``tag``, ``id`` and ``date`` become ``["compiled"]``, ``<ocid>-<date>`` and the date, and the
  compiled release starts with them and ``ocid``; fields whose merge rule is ``omitWhenMerged``
  are left out;
- empty objects, empty arrays (unless ``wholeListMerge``) and objects left empty are left out;
- in arrays of objects merged by identifier, each object's ``id`` comes first.

Anything else merging would change, or that we would have to reason about, sends the release to
ocdsmerge instead (``compile_single`` returns None): a null value anywhere, an object in such an
array without an ``id`` or with an ``id`` that is not a string or an integer, two objects with the
same ``id`` (merged by ocdsmerge), and arrays that mix objects with other values. The result is
byte for byte the result of ocdsmerge (key order included), tested on every real release we have
(tests/test_ocds_single.py). Every ocid with more than one release is compiled by ocdsmerge.
"""

from functools import lru_cache

from commissioner.ocds.schema import merger


class _Merge(Exception):
    pass


OMIT, WHOLE = "omitWhenMerged", "wholeListMerge"


@lru_cache(maxsize=1)
def _rules():
    """The wholeListMerge rules as a tree: {field: rule, or {field: ...} for the rules deeper down}; None
    unless omitWhenMerged applies to exactly the top-level ``id``, ``date`` and ``tag`` (as in OCDS 1.1),
    which compile_single drops itself."""
    rules = merger().merge_rules
    if {path for path, rule in rules.items() if rule == OMIT} != {("id",), ("date",), ("tag",)}:
        return None  # a schema unlike OCDS 1.1's: ocdsmerge does it all
    tree = {}
    for path, rule in sorted(rules.items(), key=lambda item: len(item[0])):
        if rule != WHOLE:
            continue
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
            if type(node) is str:  # a rule higher up already decides
                break
        else:
            node[path[-1]] = rule
    return tree


_SCALARS = frozenset((str, int, float, bool))


def _copy(obj, rules):
    """``obj`` as compiled; ``rules`` is its rule tree (None: no rules below)."""
    out = {}
    for key, value in obj.items():
        kind = type(value)
        if kind in _SCALARS:  # most values: kept as they are
            out[key] = value
            continue
        if value is None:
            raise _Merge
        sub = rules.get(key) if rules is not None else None
        if sub is not None and type(sub) is str:  # wholeListMerge: kept whole
            out[key] = value
        elif kind is dict:
            if value:
                copied = _copy(value, sub)
                if copied:
                    out[key] = copied
        elif kind is list:
            if not value:
                continue
            if type(value[0]) is dict:
                seen = set()
                items = []
                for item in value:
                    if type(item) is not dict or "id" not in item:
                        raise _Merge
                    ident = item["id"]
                    if type(ident) not in (str, int) or ident in seen:
                        raise _Merge
                    seen.add(ident)
                    copied = _copy(item, sub)
                    if "id" not in copied:
                        raise _Merge
                    if next(iter(copied)) != "id":
                        copied = {"id": copied.pop("id"), **copied}
                    items.append(copied)
                out[key] = items
            elif any(type(item) is dict for item in value):
                raise _Merge
            else:
                out[key] = value
        else:
            out[key] = value
    return out


def compile_single(release: dict) -> dict | None:
    """ocdsmerge's compiled release of ``release`` alone, or None where ocdsmerge must do it."""
    rules = _rules()
    if rules is None:
        return None
    ocid, date = release.get("ocid"), release.get("date")
    if ocid is None or date is None:
        return None
    try:
        body = _copy(release, rules)
    except _Merge:
        return None
    for key in ("id", "date", "tag", "ocid"):  # (omitted when merged; the ocid goes first)
        body.pop(key, None)
    return {"tag": ["compiled"], "id": f"{ocid}-{date}", "date": date, "ocid": ocid, **body}
