"""OCDS import and export: the only place that writes releases and OCDS-fed contracts.

Releases are read as a stream and handled in chunks. Each chunk is one transaction:
its new releases are stored, every ocid it touches is recompiled with ocdsmerge from all
the releases we hold for it, and the contracts are saved. An import killed midway leaves
whole chunks only, and running it again finishes the job without duplicates.

Speed (see docs/benchmarks.md). For files of some size (WORKER_MIN_BYTES) a worker process
(``python -c WORKER_CODE``) reads, validates and hashes the releases and compiles, ahead of
time, the ocids of each chunk that have no stored release; this process writes the chunks.
A share of each chunk's compiling is left to this process, adjusted as the import goes so
that neither process waits for the other. A compiled result from the worker is used only if,
when its chunk is written, we still hold no release for that ocid (otherwise the ocid is
compiled here from every release we hold, as in a single-process import, which small files,
standard input and COMMISSIONER_IMPORT_WORKERS=0 get). Rows go in with one executemany per
table and chunk; the cyclic garbage collector is paused (release trees hold no cycles).
"""

import contextlib
import functools
import gc
import hashlib
import itertools
import json
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from queue import SimpleQueue as Queue
from typing import ClassVar, NamedTuple

import orjson
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from ocdskit.upgrade import upgrade_release_10_11
from ocdsmerge.exceptions import DuplicateIdValueWarning
from ocdsmerge.merge import CompiledRelease
from ocdsmerge.util import sorted_releases

from commissioner.methods.text import clean_text
from commissioner.ocds import mapping, reader
from commissioner.ocds.models import ImportRun, Release
from commissioner.ocds.schema import merger
from commissioner.ocds.single import compile_single
from commissioner.orgs.services import organisation_for_buyer
from commissioner.register import services as register
from commissioner.register.models import Source

# Duplicate party ids are a known quirk of real notices; mapping.parties_by_id merges them.
warnings.filterwarnings("ignore", category=DuplicateIdValueWarning)

CHUNK = 500
COMMIT_EVERY = 4  # chunks to a transaction
MAX_CHANGES = 300
SUPPLIERS_KEPT = 20_000  # suppliers an import remembers (from upsert_supplier) between chunks
WORKERS_ENV = "COMMISSIONER_IMPORT_WORKERS"  # 0: compile everything in this process


@dataclass
class ImportSummary:
    read: int = 0
    releases_new: int = 0
    releases_updated: int = 0
    releases_unchanged: int = 0
    contracts_created: int = 0
    contracts_updated: int = 0
    contracts_unchanged: int = 0
    rejected: list = field(default_factory=list)  # (source, position, ocid, reason)
    seconds: float = 0.0

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "rejected"} | {"rejected": len(self.rejected)}

    def lines(self):
        yield (f"read {self.read} releases: {self.releases_new} new, {self.releases_updated} updated, "
               f"{self.releases_unchanged} unchanged, {len(self.rejected)} rejected")
        yield (f"contracts: {self.contracts_created} created, {self.contracts_updated} updated, "
               f"{self.contracts_unchanged} unchanged ({self.seconds:.1f} s)")
        for source, position, ocid, reason in self.rejected[:200]:
            yield f"rejected: {source}, {position}" + (f", ocid {ocid}" if ocid else "") + f": {reason}"
        if len(self.rejected) > 200:
            yield f"... and {len(self.rejected) - 200} more rejected"


def digest(raw: bytes) -> str:
    """A release's digest: sha256 of its JSON as stored (orjson's compact UTF-8, keys in the order read)."""
    return hashlib.sha256(raw).hexdigest()


def canonical_digest(raw) -> str:
    """sha256 of the release's JSON with sorted keys: the digest imports before 2026-12 stored (a release held
    with it is unchanged if this matches; it costs three times as much, so it is only worked out then)."""
    return hashlib.sha256(orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)).hexdigest()


def compile_history(releases):
    """Compile releases (any order) with ocdsmerge; return (compiled, [(release, changes)]) in date order.
    One release alone is compiled without ocdsmerge where that gives the same (see ocds/single.py)."""
    if len(releases) == 1 and (compiled := compile_single(releases[0])) is not None:
        return compiled, [(releases[0], [])]
    rules = merger().merge_rules
    compiled = CompiledRelease(merge_rules=rules)
    history = []
    for rel in sorted_releases(releases):
        before = dict(compiled.data) if history else None
        compiled.append(rel)
        if before is None:
            changes = []
        else:
            changes = []
            for key, value in compiled.data.items():
                if key[0] in ("id", "date", "tag"):
                    continue
                old = before.get(key)
                if old != value:
                    changes.append([mapping.flat_path(key), old, value])
                    if len(changes) >= MAX_CHANGES:
                        break
        history.append((rel, changes))
    return compiled.asdict(), history


def compiled_releases(ocids) -> dict:
    """{ocid: compiled release} for the ocids we hold releases for, compiled from them all (as imports do)."""
    held = {}
    for ocid, data in Release.objects.filter(ocid__in=list(ocids)).values_list("ocid", "data"):
        held.setdefault(ocid, []).append(data)
    return {ocid: compile_history(releases)[0] for ocid, releases in held.items()}


def _text_part(value):
    """One part of a contract's search text, as register.search_text makes it (None: left out)."""
    return clean_text(value).lower() if value else None


class Compiled(NamedTuple):
    """An ocid compiled, with what the register needs from it (picklable: made in the worker too)."""

    changes: dict            # release id -> [[path, before, after], ...]
    fields: dict             # mapping.contract_fields
    suppliers: list          # mapping.award_suppliers
    buyer: tuple             # (name, website)
    count: int               # releases compiled
    text: tuple              # search text parts: title, description, buyer name, ocid, reference


def compile_ocid(ocid, releases) -> Compiled:
    """Compile one ocid's releases and read its register fields. Raises on data that will not compile."""
    compiled, history = compile_history(releases)
    fields = mapping.contract_fields(compiled)
    suppliers = mapping.award_suppliers(compiled)
    buyer = mapping.buyer_of(compiled, mapping.parties_by_id(compiled))
    text = (_text_part(fields["title"]), _text_part(fields["description"]), _text_part(buyer[0]),
            _text_part(ocid), _text_part(fields["reference"]))
    return Compiled({rel["id"]: ch for rel, ch in history},
                    fields, suppliers, buyer, len(releases), text)


def _with_rows(compiled):
    """The worker's results, each new contract's fields made into its row of database values."""
    done = [(ocid, r) for ocid, r in compiled.items() if not isinstance(r, str)]
    rows = register.contract_rows([r.fields | {"ocid": ocid} for ocid, r in done])
    for (ocid, r), row in zip(done, rows, strict=True):
        compiled[ocid] = r._replace(fields=row)
    return compiled


def compiled_or_reason(ocid, releases):
    """compile_ocid, or the reason it cannot be compiled (a release that compiles into nonsense is refused
    whole)."""
    try:
        return compile_ocid(ocid, releases)
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"


def compile_jobs(jobs):
    """[(ocid, [release, as JSON or parsed])] -> {ocid: Compiled or "cannot compile" reason}. Pure."""
    with _no_gc():
        return {ocid: compiled_or_reason(ocid, [orjson.loads(r) if isinstance(r, (bytes, str)) else r
                                                for r in releases]) for ocid, releases in jobs}


class _no_gc:
    """Pause the cyclic garbage collector. Releases are large trees of dicts and lists, freed by reference
    counting; while thousands are built, the collector would otherwise scan every live object again and
    again (a third of the CPU time). Cycles made meanwhile are collected when it resumes."""

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()
        return False


class _kept_memory:
    """glibc only (elsewhere a no-op): memory freed is kept for the next chunk instead of going back to the
    system at once. Each chunk makes and frees a few megabytes of buffers (pickles, rows); by default glibc
    hands them back and takes fresh pages again for the next chunk, which the kernel must zero (200,000 page
    faults at 100,000 releases, a tenth of a core's time in the worker). Restored, and trimmed, after."""

    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
    DEFAULT = 128 * 1024  # both thresholds' defaults

    def __enter__(self):
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            self.mallopt, self.trim = libc.mallopt, libc.malloc_trim
        except (ImportError, OSError, AttributeError):  # not glibc
            self.mallopt = None
            return self
        self.mallopt(self.M_MMAP_THRESHOLD, 64 << 20)
        self.mallopt(self.M_TRIM_THRESHOLD, 256 << 20)
        return self

    def __exit__(self, *exc):
        if self.mallopt is not None:
            self.mallopt(self.M_MMAP_THRESHOLD, self.DEFAULT)
            self.mallopt(self.M_TRIM_THRESHOLD, self.DEFAULT)
            self.trim(0)
        return False


def import_workers() -> int:
    """Worker processes for compiling: COMMISSIONER_IMPORT_WORKERS, else 1 when there are two or more CPUs."""
    value = os.environ.get(WORKERS_ENV, "")
    if value.strip().isdigit():
        return min(int(value), 1)
    return 1 if (os.cpu_count() or 1) >= 2 else 0


class Entry(NamedTuple):
    """A valid release waiting in a chunk: only what the import needs, the release itself as JSON (text,
    or UTF-8 bytes on SQLite) in ``row``, its Release row as database values (InsertPlan), made where it
    was read."""

    source: str
    position: str
    ocid: str
    rid: str
    date: str
    tags: list
    digest: str
    row: list

    @property
    def raw(self) -> str | bytes:
        return self.row[_release_columns()["data"]]


@functools.cache
def _release_columns():
    """Release column -> its index in an InsertPlan row."""
    return {name: i for i, name in enumerate(register.InsertPlan.of(Release).attnames)}


@dataclass
class Pending:
    """A chunk read and deduplicated, with what the worker compiled ahead for it."""

    size: int
    latest: dict                    # (ocid, release id) -> Entry; last copy wins
    compiled: dict | None = None    # ocid -> Compiled or reason, for ocids we held no release for when read
    left: list | None = None        # [(ocid, [release JSON])]: the same, left for this process to compile


# The worker: ``python -c WORKER_CODE OPTIONS``. It reads and validates the files, compiles ahead, and
# sends each chunk as a pickle down a pipe; the writing process sends back how long it waited for it.
WORKER_CODE = ("import sys, django; django.setup(); "
               "from commissioner.ocds.services import worker_main; worker_main(sys.argv[1])")
WORKER_MIN_BYTES = 2_000_000  # smaller imports are done in one process (a worker takes a second to start)
HEAD = CHUNK  # items of a big import this process does while the worker starts


def _import_bytes(paths):
    """Total size of the files to import, or None when one is standard input."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        for f in reader.iter_paths(path):
            try:
                total += os.path.getsize(f)
            except OSError:
                pass
    return total


class Importer:
    """One import run: caches buyers and suppliers across chunks."""

    def __init__(self, *, actor=None, source_label="import", progress=None, source=Source.OCDS, private=False):
        self.actor = actor
        self.actor_label = source_label
        self.summary = ImportSummary()
        self.touched = set()  # contracts whose provider benchmarking summary is refreshed at the end
        self.orgs = {}
        self.suppliers = {}
        self.progress = progress
        self.max_amount = settings.MAX_AMOUNT
        self.source = source
        self.private = private
        self.bulk = False  # one transaction, secondary indexes made at the end (_bulk_load)
        self.seen = None  # in a bulk load: the ocids the register may hold (_Seen)
        self.totals = True  # apply_contracts's keep_totals; in a bulk load, a register.TotalsShift written at its end
        self._text = {}

    def reject(self, item, reason, ocid=""):
        self.summary.rejected.append((item.source, item.position, ocid, reason))

    def run(self, paths):
        start = time.monotonic()
        gc.collect()
        gc.freeze()  # what exists now (Django, the schema, ...) is never scanned during the import
        try:
            with _import_pragmas() as pragmas, _no_gc(), _kept_memory():
                size = _import_bytes(paths)
                with _bulk_load(pragmas.wal and _is_bulk(size)) as self.bulk:
                    self._run(paths, size, query=not pragmas.wal)
        finally:
            gc.unfreeze()
        self.summary.seconds = time.monotonic() - start
        return self.summary

    def _run(self, paths, size, query):
        from commissioner.benchmarking.providers import refresh_after_import

        if self.bulk:
            self.seen, self.totals = _Seen.of_register(), register.TotalsShift()
        worker, head = None, 0
        if import_workers() and size is not None and size >= WORKER_MIN_BYTES:
            # (no reading while this process writes under a rollback journal: the reads would wait for its
            # writes and its writes for the reads)
            worker = _Worker.start(paths, self.max_amount, skip=HEAD, query=query)
            head = HEAD if worker else 0
        try:
            if worker:
                # While the worker starts, this process does the first items itself.
                self._write_all(self._prepare(e) for e in self._chunks(paths, stop=head))
                try:
                    self._write_all(worker.chunks(self))
                except _NoWorker as e:  # it never started (nothing of its written): do the rest here
                    warnings.warn(f"OCDS import: {e}; importing in one process", stacklevel=3)
                    worker.stop()
                    worker = None
            if not worker:
                self._write_all(self._prepare(e) for e in self._chunks(paths, start=head))
        finally:
            if worker:
                worker.stop()
            if not self.bulk:  # once for the whole import (what was committed, even if a later chunk failed)
                refresh_after_import(self.touched)
        if self.bulk:  # in its transaction, before the indexes are made again
            self.totals.write()
            refresh_after_import(self.touched)

    def _write_all(self, chunks):
        """Write the chunks, COMMIT_EVERY to a transaction: a record is never half-written, and an import
        stopped midway loses only its last transaction (run again, it ends as one clean run would). Fewer
        commits write each index page touched by several chunks once, not once a chunk. A bulk load is one
        transaction already (_bulk_load): the chunks go straight in."""
        if self.bulk:
            for n, pending in enumerate(chunks, start=1):
                self._write(pending)
                if n % 50 == 0:
                    gc.collect()
            return
        chunks, n = iter(chunks), 0
        while True:
            with transaction.atomic():
                group = 0
                for pending in chunks:
                    self._write(pending)
                    n, group = n + 1, group + 1
                    if n % 50 == 0:  # chunks make next to no cyclic garbage: an occasional sweep will do
                        gc.collect()
                    if group == COMMIT_EVERY:
                        break
            if group < COMMIT_EVERY:
                return

    # Reading (in the worker when there is one)

    def _releases(self, paths, start=0, stop=None):
        """(Entry, release) for each valid release among the items (releases or errors, counted over all
        the paths) from ``start`` to before ``stop``. Each release is validated and made into its Release
        row as soon as it is read, while it is fresh in the CPU's caches: walking (and freeing) a release
        again after a chunk's worth of others costs several times more."""
        items = (item for path in paths for item in reader.read(path))
        plan, made = register.InsertPlan.of(Release), 0
        for n, item in enumerate(itertools.islice(items, stop)):
            if n < start:
                continue
            if item.error:
                self.reject(item, item.error.split(": ", 1)[-1] if ": " in item.error else item.error)
                continue
            self.summary.read += 1
            release = item.release
            try:
                if mapping.needs_upgrade(release) or (item.package or {}).get("version") == "1.0":
                    upgrade_release_10_11(release, reorder=False)
                mapping.validate_release(release, max_amount=self.max_amount)
            except mapping.InvalidRelease as e:
                ocid = release.get("ocid") if isinstance(release, dict) else ""
                self.reject(item, str(e), ocid if isinstance(ocid, str) else "")
                continue
            except Exception as e:  # noqa: BLE001  (malformed structure that the upgrade could not handle)
                self.reject(item, f"cannot read release: {type(e).__name__}: {e}")
                continue
            if made % CHUNK == 0:
                make = plan.maker()  # (imported_at: the time a chunk's first release is read)
            if (entry := self._entry(item, release, make)) is not None:
                made += 1
                yield entry, release

    def _entry(self, item, release, make):
        """The Entry of a valid release, or None (rejected: it will not serialise)."""
        try:
            raw = orjson.dumps(release)
        except (TypeError, orjson.JSONEncodeError) as e:  # e.g. an integer beyond 64 bits
            self.reject(item, f"cannot read release: {type(e).__name__}: {e}", release["ocid"])
            return None
        dg = digest(raw)
        row = make({"ocid": release["ocid"], "release_id": release["id"], "digest": dg,
                    "date": mapping.parse_datetime(release["date"]), "tags": release.get("tag") or [],
                    "data": register.JSONText(raw), "source": item.source[-500:]})
        return Entry(item.source, item.position, release["ocid"], release["id"], release["date"],
                     release.get("tag") or [], dg, row)

    def _chunks(self, paths, start=0, stop=None):
        """Lists of valid Entries, CHUNK at a time (the releases themselves kept as JSON only), of the items
        from ``start`` to before ``stop`` (_releases)."""
        chunk = []
        for entry, _ in self._releases(paths, start, stop):
            chunk.append(entry)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _flush(self, chunk):
        """Store [(item, valid release)] now, as one transaction (the register importer's way in)."""
        make = register.InsertPlan.of(Release).maker()
        pending = self._prepare([e for item, release in chunk if (e := self._entry(item, release, make))])
        with transaction.atomic():
            self._write(pending, size=len(chunk))

    @staticmethod
    def _prepare(entries):
        latest = {}
        for e in entries:
            latest[(e.ocid, e.rid)] = e
        return Pending(size=len(entries), latest=latest)

    def _speculated(self, pending):
        """Compiled results for the chunk's ocids that had no stored release when it was read."""
        out = pending.compiled or {}
        if pending.left:
            out.update(compile_jobs(pending.left))
        return out

    # Writing

    def _write(self, pending, size=None):
        """Write one chunk (inside a transaction: _write_all's or _flush's)."""
        self._store_chunk(pending, self._speculated(pending))
        if self.progress:
            self.progress(pending.size if size is None else size)

    def _store_chunk(self, pending, speculated):
        latest = pending.latest
        ocids = {k[0] for k in latest}
        if self.seen is not None:  # a bulk load asks only about the ocids the register may hold
            asked = {o for o in ocids if o in self.seen}
            self.seen.update(ocids)
        else:
            asked = ocids
        existing = {(o, r): (pk, d) for pk, o, r, d in Release.objects.filter(ocid__in=asked).order_by()
                    .values_list("pk", "ocid", "release_id", "digest")} if asked else {}
        stored = {o for o, _ in existing}  # ocids we already hold releases for
        new, updated, touched = [], [], {}  # touched: ocids in the order met (a dict, for a stable order)
        for key, e in latest.items():
            old = existing.get(key)
            if old is None:
                new.append(e)
                touched[e.ocid] = True
            elif old[1] != e.digest and old[1] != canonical_digest(e.raw):
                updated.append((old[0], e))
                touched[e.ocid] = True
            else:
                self.summary.releases_unchanged += 1
        self.summary.releases_unchanged += pending.size - len(latest)
        if not touched:
            return
        results = dict(touched)  # ocid -> Compiled or reason, in the order met
        asked_here = [o for o in touched if o in asked]
        contracts = register.existing_contracts(asked_here) if asked_here else {}
        here = {}
        for ocid in touched:
            if ocid in stored or ocid in contracts or ocid not in speculated:
                here[ocid] = True
            else:
                results[ocid] = speculated[ocid]
        if here:
            # Compile from everything we hold plus what arrived (pure, before any write).
            held = {}
            stored_here = [o for o in here if o in stored]
            if stored_here:
                for ocid, rid, data in Release.objects.filter(ocid__in=stored_here).values_list(
                        "ocid", "release_id", "data"):
                    held.setdefault(ocid, {})[rid] = data
            for e in new:
                if e.ocid in here:
                    held.setdefault(e.ocid, {})[e.rid] = e.raw
            for _, e in updated:
                if e.ocid in here:
                    held[e.ocid][e.rid] = e.raw
            for ocid in here:  # arrivals are parsed one ocid at a time, to keep memory flat
                releases = [orjson.loads(r) if isinstance(r, (bytes, str)) else r for r in held.pop(ocid).values()]
                results[ocid] = compiled_or_reason(ocid, releases)
        failed = {ocid for ocid, r in results.items() if isinstance(r, str)}
        for e in new:
            if e.ocid in failed:
                self.reject(e, f"cannot compile: {results[e.ocid]}", e.ocid)
        if failed:
            new = [e for e in new if e.ocid not in failed]
            updated = [x for x in updated if x[1].ocid not in failed]
            results = {o: r for o, r in results.items() if o not in failed}
        changes_at = _release_columns()["changes"]
        for e in new:  # the rows were made when read; only what the release changed was not known then
            if changes := results[e.ocid].changes.get(e.rid):
                e.row[changes_at] = register.json_text(changes)
        register.InsertPlan.of(Release).insert([e.row for e in new])
        for pk, e in updated:
            Release.objects.filter(pk=pk).update(data=orjson.loads(e.raw), digest=e.digest, tags=e.tags,
                                                 date=mapping.parse_datetime(e.date), source=e.source[-500:])
        # Earlier releases of an ocid may have new changes (a release slotted in between).
        refresh = [o for o in results if o in stored]
        if refresh:
            to_fix = []
            for r in Release.objects.filter(ocid__in=refresh).only("pk", "ocid", "release_id", "changes"):
                ch = results[r.ocid].changes.get(r.release_id)
                if ch is not None and ch != r.changes:
                    r.changes = ch
                    to_fix.append(r)
            Release.objects.bulk_update(to_fix, ["changes"], batch_size=500)
        self.summary.releases_new += len(new)
        self.summary.releases_updated += len(updated)
        self._save_contracts(results, contracts)

    def _organisation(self, name, website):
        key = name.lower()
        if key not in self.orgs:
            self.orgs[key] = organisation_for_buyer(name, website=website)
        return self.orgs[key]

    def _supplier(self, facts, org):
        if self.private:  # a private register's suppliers stay with their council
            facts = dict(facts, key=f"private:{org.pk}:{facts['key']}"[:300], owner=org, is_private=True)
        key = facts["key"]
        cached = self.suppliers.get(key)
        if cached is not None and (cached[1] is facts or cached[1] == facts):
            return cached[0]
        supplier = register.upsert_supplier(actor_label=self.actor_label, **facts)
        if len(self.suppliers) >= SUPPLIERS_KEPT:  # memory stays flat however many suppliers a file names
            self.suppliers.clear()
        self.suppliers[key] = (supplier, facts)
        return supplier

    def _cleaned(self, value):
        """_text_part with a cache (supplier and organisation names repeat)."""
        out = self._text.get(value)
        if out is None:
            if len(self._text) > 10_000:
                self._text.clear()
            out = self._text[value] = (_text_part(value),)
        return out[0]

    def _save_contracts(self, results, contracts):
        at = register.contract_columns()
        batch = []
        for ocid, r in results.items():
            buyer_name, website = r.buyer
            org = self._organisation(buyer_name or "Unknown buyer", website)
            links = [(self._supplier(facts, org), award_id, value) for facts, award_id, value in r.suppliers]
            supplier_names = " ".join(s.name for s, _, _ in links)
            title, description, buyer_text, ocid_text, reference = r.text
            # register.search_text(title, description, supplier names, buyer name, org name, ocid, reference)
            parts = (title, description, self._cleaned(supplier_names), buyer_text, self._cleaned(org.name),
                     ocid_text, reference)
            mine = {"owner_id": org.pk, "buyer_id": org.pk, "buyer_name": buyer_name[:300], "source": self.source,
                    "is_private": self.private, "release_count": r.count,
                    "search_text": " ".join(p for p in parts if p is not None)[:20000]}
            if isinstance(r.fields, list):  # a new contract's row, made by the worker
                fields = r.fields
                for name, value in mine.items():
                    fields[at[name]] = value
            else:
                fields = r.fields | mine
            batch.append((ocid, fields, links))
        # Providers' totals move by what these contracts added before and add now, in the chunk's
        # transaction: never left stale (a bulk load, one transaction, moves them together at its end).
        outcomes = register.apply_contracts(batch, actor=self.actor, actor_label=self.actor_label,
                                            keep_totals=self.totals, existing=contracts, touched=self.touched)
        if self.bulk and len(self.totals.deltas) >= SUPPLIERS_KEPT:  # memory stays flat
            self.totals.write()
        for outcome in outcomes:
            setattr(self.summary, f"contracts_{outcome}", getattr(self.summary, f"contracts_{outcome}") + 1)


class _Seen:
    """The ocids a bulk load may find in the register: those it held at the start and those written since,
    as a Bloom filter of fixed size (2 MB, whatever the size of the file). ``ocid in seen`` is False only
    for an ocid certainly not there, which needs no query; at a million ocids about one in 200 of the others
    is a false positive (it is queried, as without the filter)."""

    MASK = (1 << 24) - 1  # bits

    def __init__(self):
        self.bits = bytearray((self.MASK + 1) >> 3)

    @classmethod
    def of_register(cls):
        from commissioner.register.models import Contract

        seen = cls()
        seen.update(Contract.objects.values_list("ocid", flat=True).iterator(chunk_size=2000))
        seen.update(Release.objects.values_list("ocid", flat=True).distinct().iterator(chunk_size=2000))
        return seen

    def _spots(self, ocid):
        h, m = hash(ocid), self.MASK  # (SipHash: its bits are as good as random)
        return h & m, (h >> 20) & m, (h >> 40) & m

    def update(self, ocids):
        bits = self.bits
        for ocid in ocids:
            for p in self._spots(ocid):
                bits[p >> 3] |= 1 << (p & 7)

    def __contains__(self, ocid):
        bits = self.bits
        return all(bits[p >> 3] >> (p & 7) & 1 for p in self._spots(ocid))


class _NoWorker(RuntimeError):
    """The worker process ended before sending anything."""


class _Worker:
    """The writing process's side of the worker: start it, take its chunks, stop it."""

    def __init__(self, proc, inbox, feedback):
        self.proc, self.inbox, self.feedback = proc, inbox, feedback
        self.unpacker = _Unpacker()

    @classmethod
    def start(cls, paths, max_amount, skip=0, query=True):
        db = connection.settings_dict
        # The worker asks the database which ocids we hold (to compile only the others; the rest is
        # compiled again here, from all their releases), if ``query``; not a database it cannot see
        # (SQLite in memory, as in tests).
        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
        query = query and not in_memory
        results_r, results_w = os.pipe()
        feedback_r, feedback_w = os.pipe()
        options = {"paths": list(paths), "out": results_w, "feedback": feedback_r, "max_amount": max_amount,
                   "db_name": str(db["NAME"]) if query else None, "chunk": CHUNK, "skip": skip}
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE or "commissioner.settings")
        try:
            proc = subprocess.Popen([sys.executable, "-c", WORKER_CODE, json.dumps(options)], env=env,
                                    pass_fds=(results_w, feedback_r), stdin=subprocess.DEVNULL)
        except OSError as e:  # no processes here (sandbox, odd platform): do it all in this process
            warnings.warn(f"OCDS import: no worker process ({e}); importing in one process", stacklevel=3)
            for fd in (results_r, results_w, feedback_r, feedback_w):
                os.close(fd)
            return None
        os.close(results_w)
        os.close(feedback_r)
        _big_pipe(results_r)
        return cls(proc, os.fdopen(results_r, "rb", buffering=1 << 20), os.fdopen(feedback_w, "wb", buffering=0))

    def chunks(self, importer):
        """Pending chunks as the worker sends them; its read count and rejections go into ``importer``."""
        received = 0
        while True:
            waited = time.monotonic()
            self.inbox.peek(1)  # wait for the worker (not counting the unpickling below)
            waited = time.monotonic() - waited
            try:
                message = pickle.load(self.inbox)
                received += 1
            except (EOFError, pickle.UnpicklingError):  # the worker is gone (maybe midway through a chunk)
                code = self.proc.wait()
                if not received:
                    raise _NoWorker(f"the worker process ended at start (exit code {code})") from None
                raise RuntimeError(f"the import worker process stopped (exit code {code}); what was committed "
                                   "so far is complete: run the import again to finish") from None
            kind, read, rejected, pending = message
            importer.summary.read += read
            importer.summary.rejected += rejected
            if kind == "error":
                raise RuntimeError(f"the import worker failed: {pending}")
            if kind == "done":
                return
            pending = self.unpacker.unpack(pending)
            with contextlib.suppress(OSError):
                self.feedback.write(struct.pack("d", waited))
            yield pending

    def stop(self):
        for f in (self.inbox, self.feedback):
            with contextlib.suppress(OSError):
                f.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Chunks cross the pipe as plain tuples: pickling named tuples costs twice as much. Suppliers repeat from
# contract to contract: their facts cross once, then by key (_Packer); equal buyers cross as one object.

class _Packer:
    """The worker's side: a chunk as a picklable tuple. A supplier's facts equal to those last sent under its
    key go as the key alone; the two sides forget them together (``reset``), so memory stays flat."""

    KEPT = 5_000  # supplier keys and buyers remembered

    def __init__(self):
        self.sent, self.buyers = {}, {}

    def pack(self, pending):
        reset = len(self.sent) + len(self.buyers) > self.KEPT
        if reset:
            self.sent.clear()
            self.buyers.clear()
        compiled = {}
        for ocid, r in pending.compiled.items():
            if not isinstance(r, str):
                suppliers = []
                for facts, award, value in r.suppliers:
                    key = facts["key"]
                    if self.sent.get(key) == facts:
                        facts = key
                    else:
                        self.sent[key] = facts
                    suppliers.append((facts, award, value))
                r = (r.changes, r.fields, suppliers, self.buyers.setdefault(r.buyer, r.buyer), r.count, r.text)
            compiled[ocid] = r
        return (reset, pending.size, [tuple(e) for e in pending.latest.values()], compiled, pending.left)


class _Unpacker:
    """The writing process's side of _Packer."""

    def __init__(self):
        self.known = {}

    def unpack(self, packed):
        reset, size, entries, compiled, left = packed
        if reset:
            self.known.clear()
        latest = {}
        for t in entries:
            e = Entry._make(t)
            latest[e.ocid, e.rid] = e
        known = self.known
        for ocid, r in compiled.items():
            if not isinstance(r, str):
                suppliers = r[2]
                for i, (facts, award, value) in enumerate(suppliers):
                    if type(facts) is str:
                        suppliers[i] = (known[facts], award, value)
                    else:
                        known[facts["key"]] = facts
                compiled[ocid] = Compiled._make(r)
        return Pending(size=size, latest=latest, left=left, compiled=compiled)


def _big_pipe(fd):
    """A 1 MB pipe buffer (Linux) instead of 64 kB: a chunk crosses in a few writes, not a hundred (each
    of which has to win the GIL back from the compiling thread)."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)


# Releases the worker reads before it compiles them: few, so that they are still in the CPU's caches; more
# when it asks the database which ocids we hold (one query a batch: PostgreSQL, or SQLite with a server).
AHEAD_BATCH, AHEAD_BATCH_ASKING = 20, 100


class _Ahead:
    """The worker's chunk in the making. Each release is compiled as soon as it is read (in batches of
    AHEAD_BATCH), while it is fresh in the CPU's caches, or, for a ``share`` of the ocids, left to the
    writer; an ocid met again in the chunk is compiled at the chunk's end from all its releases there,
    and one we hold releases for (``held``) is left to the writer, which compiles it from all of them."""

    DONE, LEFT, HELD = "done", "left", "held"

    def __init__(self, held):
        self.held = held
        self.share, self.credit = 0.2, 0.0
        self.full = 0.0  # the time compiling a whole chunk here takes (estimated from the last chunk)
        self._start()

    def _start(self):
        self.size, self.latest, self.compiled, self.first, self.again = 0, {}, {}, {}, set()
        self.spent, self.done = 0.0, 0  # time compiling and ocids compiled, in this chunk

    def balance(self, writer_waited, worker_waited):
        """Move the share left to the writer by what each process waited for the other since the last chunk:
        moving a share s of a chunk's compiling (cost ``full``) takes s * full off one process and puts it on
        the other, closing their difference by twice that. An eighth of the difference is made up at each
        chunk: the waits reported are a chunk or two old, and larger steps swing the share from end to end
        (measured: the two processes then idled 2.8 s in all at 100,000 releases, against 2.1 s)."""
        if self.done:
            self.full = self.spent / self.done * self.size
        if self.full:
            step = (writer_waited - worker_waited) / (16 * self.full)
            self.share = min(0.8, max(0.0, self.share + step))

    def add(self, batch):
        """Take [(Entry, release)]."""
        if not batch:
            return
        held = self.held({e.ocid for e, _ in batch})
        for e, release in batch:
            ocid = e.ocid
            self.size += 1
            self.latest[ocid, e.rid] = e
            if ocid in self.first:
                self.again.add(ocid)
            elif ocid in held:
                self.first[ocid] = self.HELD
            elif (credit := self.credit + self.share) >= 1:
                self.credit, self.first[ocid] = credit - 1, self.LEFT
            else:
                self.credit, self.first[ocid] = credit, self.DONE
                start = time.perf_counter()
                self.compiled[ocid] = compiled_or_reason(ocid, [release])
                self.spent, self.done = self.spent + time.perf_counter() - start, self.done + 1

    def chunk(self) -> Pending:
        """The chunk made so far, complete (and a new one begun)."""
        raws = {}
        for (ocid, _), e in self.latest.items():
            if self.first[ocid] == self.LEFT or ocid in self.again:
                raws.setdefault(ocid, []).append(e.raw)
        left = []
        for ocid, releases in raws.items():
            if self.first[ocid] == self.LEFT:
                left.append((ocid, releases))
            elif self.first[ocid] == self.DONE:
                self.compiled[ocid] = compiled_or_reason(ocid, [orjson.loads(r) for r in releases])
        pending = Pending(size=self.size, latest=self.latest, compiled=_with_rows(self.compiled), left=left)
        self._start()
        return pending


def worker_main(options):
    """The worker process: read, validate and compile ahead; send chunks down the pipe (see WORKER_CODE)."""
    opts = json.loads(options)
    _big_pipe(opts["out"])
    sys.setswitchinterval(0.001)  # the sending thread gets the GIL back soon after each write
    out = os.fdopen(opts["out"], "wb")
    feedback = opts["feedback"]
    os.set_blocking(feedback, False)
    if opts["db_name"]:
        settings.DATABASES["default"]["NAME"] = opts["db_name"]  # the writer's database (tests use their own)
    global CHUNK
    CHUNK = opts["chunk"]
    gc.collect()
    gc.freeze()
    # One message goes out (sender thread) while the next chunk is compiled; no more are held.
    queue, free, broken = Queue(), threading.Semaphore(1), threading.Event()

    def sender():
        while (data := queue.get()) is not None:
            try:
                if not broken.is_set():
                    out.write(data)
                    out.flush()
            except OSError:  # the writer is gone: stop
                broken.set()
            finally:
                del data
                free.release()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    importer = Importer()
    importer.max_amount = opts["max_amount"]
    sent = [0, 0]  # read count and rejections already sent
    blocked = [0.0]  # time waiting for the writer to take the last chunk
    packer = _Packer()

    def send(kind, pending):
        read, rejected = importer.summary.read - sent[0], importer.summary.rejected[sent[1]:]
        sent[:] = importer.summary.read, len(importer.summary.rejected)
        if isinstance(pending, Pending):
            pending = packer.pack(pending)
        data = pickle.dumps((kind, read, rejected, pending), protocol=pickle.HIGHEST_PROTOCOL)
        start = time.perf_counter()
        free.acquire()
        blocked[0] += time.perf_counter() - start
        queue.put(data)

    held_query = bool(opts["db_name"])

    def held(ocids):
        """The ocids we hold releases for (the writer compiles those from all of them), if we may ask."""
        nonlocal held_query
        if held_query:
            try:
                return set(Release.objects.filter(ocid__in=ocids).order_by().values_list("ocid", flat=True).distinct())
            except Exception:  # noqa: BLE001  (no such database here: compile everything)
                held_query = False
        return ()

    ahead, batch, chunks = _Ahead(held), [], 0
    try:
        with _no_gc(), _kept_memory():
            for item in importer._releases(opts["paths"], start=opts["skip"]):
                batch.append(item)
                if len(batch) < (AHEAD_BATCH_ASKING if held_query else AHEAD_BATCH) and ahead.size + len(batch) < CHUNK:
                    continue
                ahead.add(batch)
                batch = []
                if ahead.size < CHUNK:
                    continue
                if broken.is_set():
                    return
                # Balance the two processes on what each waited for the other since the last chunk.
                writer_waited = 0.0
                with contextlib.suppress(BlockingIOError, OSError):
                    waits = os.read(feedback, 1 << 12)
                    writer_waited = sum(struct.unpack(f"{len(waits) // 8}d", waits[:len(waits) // 8 * 8]))
                ahead.balance(writer_waited, blocked[0])
                blocked[0] = 0.0
                send("chunk", ahead.chunk())
                if (chunks := chunks + 1) % 50 == 0:
                    gc.collect()
            ahead.add(batch)
            if ahead.size:
                send("chunk", ahead.chunk())
        send("done", None)
    except BaseException:
        send("error", traceback.format_exc(limit=20))
        raise
    finally:
        queue.put(None)
        thread.join()
        with contextlib.suppress(OSError):
            out.close()


class _import_pragmas:
    """SQLite only, while importing (restored after): an 8 MB page cache (not 2 MB), in-memory temporary
    tables, no waiting for the disk (synchronous=OFF: SQLite is for the demo and tests only, production
    runs PostgreSQL, and an interrupted import is simply run again), and, when no other connection has the
    database open, a rollback journal instead of the write-ahead log (journal_mode=TRUNCATE): each page is
    written once, not to the log and again at every checkpoint, and no log index is searched on every page
    read (a tenth of the import's time and two syscalls in three at 100,000 releases). A stopped import
    leaves the journal, from which SQLite rolls the unfinished transaction back when the database is next
    opened. With other connections open (a server running) the log stays, checkpointed every ~40 MB."""

    SETTINGS: ClassVar = {"cache_size": -8000, "temp_store": 2, "synchronous": 0, "wal_autocheckpoint": 10000}

    def __enter__(self):
        self.saved, self.wal = {}, False
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            return self
        with connection.cursor() as cursor:
            for name, value in self.SETTINGS.items():
                cursor.execute(f"PRAGMA {name}")
                self.saved[name] = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA {name} = {int(value)}")
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] == "wal":
                self.wal = _journal_mode(cursor, "TRUNCATE") == "truncate"
        return self

    def __exit__(self, *exc):
        if self.saved and connection.connection is not None:
            with connection.cursor() as cursor:
                if self.wal:
                    _journal_mode(cursor, "WAL")
                for name, value in self.saved.items():
                    cursor.execute(f"PRAGMA {name} = {int(value)}")
        return False


BULK_BYTES_PER_CONTRACT = 4000  # a bulk load brings at least one release per 4 kB of file


def _is_bulk(size):
    """Whether an import of ``size`` bytes is a bulk load: a big file (WORKER_MIN_BYTES) bringing more
    releases than the register holds contracts (counting BULK_BYTES_PER_CONTRACT of file to a release)."""
    from commissioner.register.models import Contract

    return size is not None and size >= WORKER_MIN_BYTES and Contract.objects.count() * BULK_BYTES_PER_CONTRACT <= size


def _bulk_tables():
    """The tables a bulk load fills. The import reads them through their unique indexes only (links and
    provider summary rows by contract: the unique constraints' indexes begin with it)."""
    from commissioner.orgs.models import AuditEvent
    from commissioner.performance.models import ProviderContractSummary
    from commissioner.register.models import Contract, ContractSupplier

    return [m._meta.db_table for m in (Contract, AuditEvent, ContractSupplier, ProviderContractSummary)]


@contextlib.contextmanager
def _bulk_load(enabled):
    """A bulk load into SQLite (when ``enabled``: the import has the database to itself, _import_pragmas,
    and brings more than it holds, _is_bulk): the whole import is one transaction, and the secondary
    indexes of the tables it fills (_bulk_tables) are dropped at its start and made again at its end, inside
    it. Each row then goes to its table's end and the ocid's unique index only, instead of to a random page
    of ten indexes (a sixth of the import's time at 100,000 releases); an index made in one sorted pass costs
    a fraction of that. SQLite's schema changes are part of the transaction: an import stopped midway is
    rolled back whole, indexes included, when the database is next opened, and run again ends as one clean
    run. The import reads through none of the dropped indexes (only unique ones, which stay).

    Foreign keys are not checked row by row meanwhile (a third of the cost of inserting a contract), but
    once, table by table, at the end (``PRAGMA foreign_key_check``, as Django's loaddata does): a violation
    raises IntegrityError there, and the whole load is rolled back. Gives whether it is enabled."""
    if not enabled:
        yield False
        return
    from commissioner.register.models import Provider, Supplier

    checks_off = connection.disable_constraint_checking()  # (outside any transaction, or it is a no-op)
    try:
        with transaction.atomic():
            dropped = []
            with connection.cursor() as cursor:
                for table in _bulk_tables():
                    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                                   "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name", [table])
                    dropped += cursor.fetchall()
                for name, _ in dropped:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            yield True  # (an exception here rolls everything back, the dropped indexes included)
            if checks_off:
                connection.check_constraints(
                    table_names=[*_bulk_tables(), Supplier._meta.db_table, Provider._meta.db_table])
            with connection.cursor() as cursor:
                for _, sql in dropped:
                    cursor.execute(sql)
    finally:
        if checks_off:
            connection.enable_constraint_checking()


def _journal_mode(cursor, mode):
    """Set SQLite's journal mode if no other connection prevents it, without waiting; the mode in force."""
    cursor.execute("PRAGMA busy_timeout")
    timeout = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        cursor.execute(f"PRAGMA journal_mode = {mode}")
        return str(cursor.fetchone()[0]).lower()
    except OperationalError:  # "database is locked": another connection has it open
        cursor.execute("PRAGMA journal_mode")
        return str(cursor.fetchone()[0]).lower()
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def import_ocds(paths, *, actor=None, progress=None, source_label=None) -> ImportSummary:
    """Import OCDS from files, folders or '-' (stdin). Returns the summary; never raises on bad data."""
    paths = [str(p) for p in paths]
    label = source_label or f"ocds import {', '.join(paths)[:150]}"
    run = ImportRun.objects.create(kind="ocds", source=", ".join(paths)[:500],
                                   actor=actor if actor is not None and actor.is_authenticated else None)
    importer = Importer(actor=actor, source_label=label, progress=progress)
    summary = importer.run(paths)
    run.finished_at = timezone.now()
    run.counts = summary.as_dict()
    run.errors = [list(r) for r in summary.rejected[:1000]]
    run.save()
    return summary


def export_release_package(contracts, out):
    """Write an OCDS 1.1 release package of every release we hold for ``contracts`` (streamed)."""
    out.write(b'{"uri":"urn:commissioner:export","version":"1.1","publishedDate":')
    out.write(orjson.dumps(timezone.now().isoformat()))
    out.write(b',"publisher":{"name":"Commissioner export"},'
              b'"license":"http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",'
              b'"releases":[')
    first = True
    ocids = contracts.filter(source__in=[Source.OCDS, Source.REGISTER]).values_list("ocid", flat=True).order_by("ocid")
    batch = []

    def flush(batch):
        nonlocal first
        for data in Release.objects.filter(ocid__in=batch).order_by("ocid", "date", "id").values_list(
                "data", flat=True).iterator(chunk_size=500):
            if not first:
                out.write(b",")
            out.write(orjson.dumps(data))
            first = False

    for ocid in ocids.iterator(chunk_size=1000):
        batch.append(ocid)
        if len(batch) >= 500:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    out.write(b"]}\n")

