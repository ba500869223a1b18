"""Stream OCDS releases out of any file shape, in constant memory.

Accepted: release packages, record packages, JSON lines (one release or package per line),
concatenated JSON, a bare release, and folders of such files (recursively). Yields
``Item(source, position, release)`` or ``Item(source, position, error=...)``: a bad line or
release is reported and reading goes on where the format allows it.
"""

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import ijson
import orjson

JSON_SUFFIXES = {".json", ".jsonl", ".jl", ".ndjson", ".txt"}
LINE_PEEK = 8 * 1024 * 1024  # a first line longer than this is streamed, not read whole


@dataclass
class Item:
    source: str
    position: str
    release: dict | None = None
    error: str | None = None
    package: dict | None = None  # package metadata (without releases/records), when known


class CountingReader(io.RawIOBase):
    """Counts bytes handed to the parser, to name the position of an error."""

    def __init__(self, raw):
        self.raw, self.offset = raw, 0

    def readable(self):
        return True

    def readinto(self, b):
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.offset += n
        return n


def iter_paths(path):
    p = Path(path)
    if p.is_dir():
        for root, dirs, files in os.walk(p):
            dirs.sort()
            for f in sorted(files):
                if Path(f).suffix.lower() in JSON_SUFFIXES:
                    yield Path(root) / f
    else:
        yield p


def read(path_or_dash):
    """Items from a path (file or folder) or '-' for standard input."""
    if str(path_or_dash) == "-":
        yield from read_stream(sys.stdin.buffer, "<stdin>")
        return
    p = Path(path_or_dash)
    if not p.exists():
        yield Item(str(p), "file", error=f"{p}: no such file or folder")
        return
    for f in iter_paths(p):
        try:
            with open(f, "rb") as fh:
                yield from read_stream(fh, str(f))
        except OSError as e:
            yield Item(str(f), "file", error=f"{f}: cannot read: {e.strerror or e}")


BOM = b"\xef\xbb\xbf"


class _Prefixed(io.RawIOBase):
    """The bytes already read to sniff the format, then the rest of the stream."""

    def __init__(self, head, raw):
        self.head, self.raw = head, raw

    def readable(self):
        return True

    def readinto(self, b):
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def _sniff_head(counter):
    """Read the first two non-blank lines (at most LINE_PEEK bytes) to tell JSON lines from JSON."""
    head = bytearray()
    while len(head) < LINE_PEEK:
        data = counter.read(min(1 << 16, LINE_PEEK - len(head)))
        if not data:
            break
        head += data
        if b"\n" in data and len([line for line in head.split(b"\n")[:-1] if line.strip()]) >= 2:
            break
    return bytes(head)


def read_stream(fh, name):
    counter = CountingReader(fh)
    head = _sniff_head(counter)
    head = head.removeprefix(BOM)  # UTF-8 with a byte-order mark (Excel, Windows tools)
    buffered = io.BufferedReader(_Prefixed(head, counter), buffer_size=1 << 16)
    stripped = head.lstrip()
    if not stripped:
        yield Item(name, "byte 0", error=f"{name}: empty file, no OCDS data")
        return
    if stripped[:1] not in (b"{", b"["):
        hint = " (UTF-16? save it as UTF-8)" if stripped[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        yield Item(name, "byte 0",
                   error=f"{name}: not JSON (starts with {stripped[:20]!r}){hint}; expected OCDS")
        return
    if _looks_like_json_lines(head):
        yield from _read_lines(buffered, name)
        return
    # Performance only: a plain release package file is read by _read_release_package (C-built
    # releases); anything else, or anything odd part-way, by _read_json_stream, skipping what the
    # fast path already yielded (the same Items, in the same order).
    fast, yielded = _read_release_package(fh, name), 0
    while True:
        try:
            item = next(fast)
        except StopIteration as stop:
            if stop.value:
                return
            break
        yielded += 1
        yield item
    for i, item in enumerate(_read_json_stream(buffered, name, counter)):
        if i >= yielded:
            yield item


def _read_release_package(fh, name):
    """Performance only: the releases of a file holding one release package, built by ijson in C.

    Building each release from parse events in Python costs several times more than the rest of the
    reading. Here the package metadata (the keys before "releases") comes from the first events, then
    ``ijson.items`` builds the releases. Yields exactly the Items that _read_json_stream yields first,
    and returns True when that was the whole file; returns False as soon as the file is anything else
    (a record package, several values, a second "releases" key, malformed JSON, ...), and the caller
    lets _read_json_stream do it all (skipping the Items already yielded).
    """
    path = getattr(fh, "name", None)
    try:
        if not isinstance(path, str) or not os.path.isfile(path) or not os.path.samefile(path, fh.fileno()):
            return False
    except (OSError, ValueError, io.UnsupportedOperation):
        return False

    def opened():
        f = open(path, "rb")  # noqa: SIM115  (closed by the callers' with)
        if f.read(len(BOM)) != BOM:
            f.seek(0)
        return f

    try:
        with opened() as f:  # the metadata: every top-level key before "releases"
            events = ijson.parse(f, use_float=True)
            if next(events, None) != ("", "start_map", None):
                return False
            meta = ijson.ObjectBuilder()
            meta.event("start_map", None)
            for prefix, event, value in events:
                if prefix == "releases" and event == "start_array":
                    break
                if prefix == "" and event == "end_map" or prefix.startswith(("releases", "records")):
                    return False
                meta.event(event, value)
            else:
                return False
        package = meta.value
        if "ocid" in package:  # a record, not a package
            return False
        with open(path, "rb") as f:  # one "releases" key and no "records" anywhere in the file
            releases, tail = 0, b""
            while block := f.read(1 << 22):
                buf = tail + block
                if b'"records"' in buf:
                    return False
                releases += buf.count(b'"releases"')
                tail = buf[-9:]
        if releases != 1:
            return False
        with opened() as f:
            for n, built in enumerate(ijson.items(f, "releases.item", use_float=True)):
                where = f"value 1, release {n}"
                if isinstance(built, dict):
                    yield Item(name, where, release=built, package=package)
                else:
                    yield Item(name, where,
                               error=f"{name}, {where}: a release must be a JSON object, got {_kind(built)}")
    except (ijson.JSONError, ijson.IncompleteJSONError, ValueError, OSError):
        return False
    return True


def _looks_like_json_lines(head):
    """One JSON object per line: the first line is a whole object and the next starts another."""
    lines = [line.strip() for line in head.split(b"\n")]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith(b"{"):
        return False
    first = lines[0]
    try:
        orjson.loads(first)
        parsed = True
    except orjson.JSONDecodeError:
        parsed = False
    if len(lines) == 1:
        return parsed
    second = lines[1]
    if parsed:
        return second.startswith(b"{")
    # A first line that is itself broken: still JSON lines if the next line is a whole object
    # (in a pretty-printed file the second line is a key, never an object).
    try:
        return isinstance(orjson.loads(second), dict)
    except orjson.JSONDecodeError:
        return first.endswith(b"}") and second.startswith(b"{") and second.endswith(b"}")


def _read_lines(fh, name):
    for lineno, line in enumerate(fh, start=1):
        line = line.strip()
        if not line:
            continue
        where = f"line {lineno}"
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield Item(name, where, error=f"{name}, {where}: malformed JSON ({e})")
            continue
        yield from _unpack(value, name, where)


# Keys of which an OCDS release has at least one; an object with none of them is not OCDS.
RELEASE_KEYS = {"ocid", "id", "date", "tag", "initiationType", "parties", "buyer", "planning", "tender",
                "awards", "contracts", "language", "relatedProcesses"}


def _unpack(value, name, where):
    """A parsed top-level value: a release, a release package, a record or a record package."""
    if not isinstance(value, dict):
        yield Item(name, where, error=f"{name}, {where}: expected a JSON object, got {_kind(value)}")
        return
    if "records" in value or ("releases" in value and "ocid" not in value):
        meta = {k: v for k, v in value.items() if k not in ("releases", "records")}
        releases, records = value.get("releases"), value.get("records")
        for key, seq in (("releases", releases), ("records", records)):
            if seq is not None and not isinstance(seq, list):
                yield Item(name, where, error=f"{name}, {where}: '{key}' must be an array, got {_kind(seq)}")
        for i, rel in enumerate(releases if isinstance(releases, list) else []):
            if isinstance(rel, dict):
                yield Item(name, f"{where}, release {i}", release=rel, package=meta)
            else:
                yield Item(name, f"{where}, release {i}",
                           error=f"{name}, {where}, release {i}: a release must be a JSON object, got {_kind(rel)}")
        for i, rec in enumerate(records if isinstance(records, list) else []):
            yield from _record_releases(rec, name, f"{where}, record {i}", meta)
        return
    if "releases" in value or "compiledRelease" in value:  # a bare record
        yield from _record_releases(value, name, where, None)
        return
    if not RELEASE_KEYS.intersection(value):
        keys = ", ".join(sorted(value)[:5]) or "none"
        yield Item(name, where, error=f"{name}, {where}: not OCDS: an object with no ocid, releases or records "
                                      f"(keys: {keys})")
        return
    yield Item(name, where, release=value)


def _kind(value):
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _is_linked(release):
    """A linked release in a record: a url (with date and tag) instead of the release itself."""
    return isinstance(release, dict) and "url" in release and "ocid" not in release and "id" not in release


def _record_releases(rec, name, where, meta):
    if not isinstance(rec, dict):
        yield Item(name, where, error=f"{name}, {where}: a record must be a JSON object, got {_kind(rec)}")
        return
    releases = rec.get("releases")
    if releases is not None and not isinstance(releases, list):
        yield Item(name, where, error=f"{name}, {where}: a record's releases must be an array")
        releases = None
    embedded = [(i, r) for i, r in enumerate(releases or []) if not _is_linked(r)]
    if embedded:
        for i, rel in embedded:
            if isinstance(rel, dict):
                yield Item(name, f"{where}, release {i}", release=rel, package=meta)
            else:
                yield Item(name, f"{where}, release {i}",
                           error=f"{name}, {where}, release {i}: a release must be a JSON object, got {_kind(rel)}")
    elif isinstance(rec.get("compiledRelease"), dict):
        # Linked releases only: the compiled release is the best we have.
        yield Item(name, f"{where}, compiledRelease", release=rec["compiledRelease"], package=meta)
    else:
        yield Item(name, where, error=f"{name}, {where}: record has neither releases nor compiledRelease")


def _read_json_stream(fh, name, counter):
    """Concatenated JSON values; the releases/records of a package are built one at a time.

    Top-level objects are packages, records or releases; a top-level array holds such objects.
    Only one release (or record) is held in memory at a time, plus the package metadata.
    A whole number beyond 64 bits stops the C parser ("integer overflow"): a file is then read
    again with ijson's pure-Python parser, which takes any number (and the value is judged as
    data: an absurd amount is rejected, not the rest of the file).
    """
    for yielded, item in enumerate(_parse_json_stream(fh, name, counter, ijson.parse)):
        if item.error and "integer overflow" in item.error and _rewind(counter):
            again = io.BufferedReader(_Prefixed(b"", counter), buffer_size=1 << 16)
            if again.peek(len(BOM))[:len(BOM)] == BOM:
                again.read(len(BOM))
            python_parse = ijson.get_backend("python").parse
            for i, retry in enumerate(_parse_json_stream(again, name, counter, python_parse)):
                if i >= yielded:
                    yield retry
            return
        yield item


def _rewind(counter):
    raw = counter.raw
    try:
        if not raw.seekable():
            return False
        raw.seek(0)
    except (OSError, ValueError):
        return False
    counter.offset = 0
    return True


def _parse_json_stream(fh, name, counter, parse):
    index = 0            # top-level value number (1-based)
    meta = None          # ObjectBuilder of the current top-level object, without its releases/records
    kind = None          # "releases" or "records" while inside that array of a top-level object; "item" in a top-level array
    item_prefix = None
    item, depth, n = None, 0, 0   # the member being built, its nesting depth, members seen in this array
    had_items = False    # the top-level object had a releases/records array
    linked, full = 0, 0  # a bare record: linked releases (url only) and full releases seen
    last_ocid = None
    count = 0
    try:
        for prefix, event, value in parse(fh, multiple_values=True, use_float=True):
            if item is not None:  # inside one release, record or array member
                item.event(event, value)
                depth += 1 if event in ("start_map", "start_array") else -1 if event in ("end_map", "end_array") else 0
                if depth:
                    continue
            elif kind is not None and prefix == item_prefix:
                item = ijson.ObjectBuilder()
                item.event(event, value)
                depth = 1 if event in ("start_map", "start_array") else 0
                if depth:
                    continue
            elif kind is not None:  # the end of the releases/records array or of the top-level array
                kind = None
                continue
            elif prefix == "" and event != "map_key":
                if event == "start_map":
                    index += 1
                    meta, had_items, linked, full = ijson.ObjectBuilder(), False, 0, 0
                    meta.event(event, value)
                elif event == "end_map":
                    meta.event(event, value)
                    top = meta.value
                    if not had_items:
                        yield from _unpack(top, name, f"value {index}")
                    elif linked and not full:
                        yield from _record_releases(top, name, f"value {index}", None)
                    meta = None
                elif event == "start_array":
                    index += 1
                    kind, item_prefix, n = "item", "item", 0
                else:
                    index += 1
                    yield Item(name, f"value {index}",
                               error=f"{name}, value {index}: a bare {event} is not OCDS (expected a JSON object)")
                continue
            elif meta is not None and prefix in ("releases", "records") and event == "start_array":
                kind, item_prefix, n, had_items = prefix, prefix + ".item", 0, True
                continue
            else:
                if meta is not None:
                    meta.event(event, value)
                continue
            # A member is complete.
            built, item = item.value, None
            count += 1
            where = f"value {index}, {'item' if kind == 'item' else kind[:-1]} {n}"
            n += 1
            if isinstance(built, dict) and isinstance(built.get("ocid"), str):
                last_ocid = built["ocid"]
            package = meta.value if meta is not None else None
            if kind == "records":
                yield from _record_releases(built, name, where, package)
            elif kind == "item":
                yield from _unpack(built, name, where)
            elif not isinstance(built, dict):
                yield Item(name, where, error=f"{name}, {where}: a release must be a JSON object, got {_kind(built)}")
            elif "ocid" not in built and "id" not in built and "url" in built and "ocid" in (package or {}):
                linked += 1  # a linked release inside a bare record: the compiledRelease stands for it
            else:
                full += 1
                yield Item(name, where, release=built, package=package)
    except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as e:
        after = f" after {count} releases or records" + (f" (last ocid {last_ocid})" if last_ocid else "")
        reason = " ".join(str(e).split())[:300]
        yield Item(name, f"byte {counter.offset}",
                   error=f"{name}: malformed or truncated JSON{after}, at or before byte {counter.offset}: {reason}")
