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


def read_stream(fh, name):
    buffered = io.BufferedReader(CountingReader(fh), buffer_size=1 << 16)
    head = buffered.peek(LINE_PEEK)[:LINE_PEEK]
    stripped = head.lstrip()
    if not stripped:
        yield Item(name, "byte 0", error=f"{name}: empty file, no OCDS data")
        return
    if stripped[:1] not in (b"{", b"["):
        yield Item(name, "byte 0", error=f"{name}: not JSON (starts with {stripped[:20]!r}); expected OCDS")
        return
    first_nl = head.find(b"\n")
    if _looks_like_json_lines(head, first_nl):
        yield from _read_lines(buffered, name)
    else:
        yield from _read_json_stream(buffered, name)


def _looks_like_json_lines(head, first_nl):
    if first_nl < 0:
        return False
    first = head[:first_nl].strip()
    if not first.startswith(b"{"):
        return False
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    rest = head[first_nl:].strip()
    return not rest or rest.startswith(b"{")


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


def _unpack(value, name, where):
    """A parsed top-level value: a release, a release package or a record package."""
    if not isinstance(value, dict):
        yield Item(name, where, error=f"{name}, {where}: expected a JSON object, got {type(value).__name__}")
        return
    if "releases" in value or "records" in value:
        meta = {k: v for k, v in value.items() if k not in ("releases", "records")}
        for i, rel in enumerate(value.get("releases") or []):
            yield Item(name, f"{where}, release {i}", release=rel, package=meta)
        for i, rec in enumerate(value.get("records") or []):
            yield from _record_releases(rec, name, f"{where}, record {i}", meta)
        return
    yield Item(name, where, release=value)


def _record_releases(rec, name, where, meta):
    if not isinstance(rec, dict):
        yield Item(name, where, error=f"{name}, {where}: a record must be a JSON object")
        return
    full = [r for r in rec.get("releases") or [] if isinstance(r, dict) and "ocid" in r and "date" in r]
    if full:
        for i, rel in enumerate(full):
            yield Item(name, f"{where}, release {i}", release=rel, package=meta)
    elif isinstance(rec.get("compiledRelease"), dict):
        # Linked releases only: the compiled release is the best we have.
        yield Item(name, f"{where}, compiledRelease", release=rec["compiledRelease"], package=meta)
    else:
        yield Item(name, where, error=f"{name}, {where}: record has neither releases nor compiledRelease")


def _read_json_stream(fh, name):
    """Concatenated JSON values; the releases/records of a package are built one at a time."""
    counter = fh.raw
    index, done, last_ocid = 0, 0, None
    meta = item = None
    kind = None  # "releases", "records" or "item" while inside such an array
    had_items = False
    try:
        for prefix, event, value in ijson.parse(fh, multiple_values=True, use_float=True):
            if prefix == "" and event != "map_key":
                if event == "start_map":
                    index += 1
                    meta, had_items = ijson.ObjectBuilder(), False
                    meta.event(event, value)
                elif event == "end_map":
                    meta.event(event, value)
                    if not had_items:
                        yield from _unpack(meta.value, name, f"value {index}")
                    meta = None
                elif event == "start_array":
                    index += 1
                    kind, had_items = "item", True
                elif event == "end_array":
                    kind = None
                else:
                    index += 1
                    yield Item(name, f"value {index}", error=f"{name}, value {index}: a bare {event} is not OCDS")
                continue
            if kind is None and prefix in ("releases", "records") and event == "start_array":
                kind, had_items = prefix, True
                continue
            if kind is not None and prefix == kind and event == "end_array":
                kind = None
                continue
            if kind is not None and (prefix == f"{kind}.item" or prefix.startswith(f"{kind}.item.")
                                     or (kind == "item" and prefix.startswith("item"))):
                if item is None:
                    item = ijson.ObjectBuilder()
                item.event(event, value)
                if prefix == f"{kind}.item" and event not in ("start_map", "start_array", "map_key"):
                    where = f"value {index}, {kind.rstrip('s')} {done}"
                    built, item = item.value, None
                    done += 1
                    if isinstance(built, dict):
                        last_ocid = built.get("ocid", last_ocid)
                    package = meta.value if meta is not None else None
                    if kind == "records":
                        yield from _record_releases(built, name, where, package)
                    elif kind == "releases":
                        if isinstance(built, dict):
                            yield Item(name, where, release=built, package=package)
                        else:
                            yield Item(name, where, error=f"{name}, {where}: a release must be a JSON object")
                    else:
                        yield from _unpack(built, name, where)
                continue
            if meta is not None:
                meta.event(event, value)
    except (ijson.JSONError, ijson.IncompleteJSONError, ValueError) as e:
        after = f" after {done} releases" + (f" (last ocid {last_ocid})" if last_ocid else "")
        yield Item(name, f"byte {counter.offset}",
                   error=f"{name}: malformed or truncated JSON{after}, at or before byte {counter.offset}: {e}")
