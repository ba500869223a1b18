"""OCDS import and export: the only place that writes releases and OCDS-fed contracts.

Releases are read as a stream and handled in chunks. Each chunk is one transaction:
its new releases are stored, every ocid it touches is recompiled with ocdsmerge from all
the releases we hold for it, and the contracts are saved. An import killed midway leaves
whole chunks only, and running it again finishes the job without duplicates.

Speed (see docs/benchmarks.md). Compiling is the costly part, and it is pure: from the
second chunk on, one worker process (spawned, never forked) compiles the ocids of a chunk
that have no stored release while this process reads the next chunk and writes the previous
one; this process takes a share of the compiling too, sized so that neither side waits. The
worker's result for an ocid is used only if, when its chunk is written, we still hold no
release for that ocid (otherwise it is compiled here from everything we hold, as for any
ocid with stored releases). Rows are written with one executemany per table and chunk.
"""

import hashlib
import os
import time
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, NamedTuple

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from ocdskit.upgrade import upgrade_release_10_11
from ocdsmerge.merge import CompiledRelease
from ocdsmerge.util import sorted_releases

from commissioner.methods.text import clean_text
from commissioner.ocds import mapping, reader
from commissioner.ocds.models import ImportRun, Release
from commissioner.ocds.schema import merger
from commissioner.orgs.services import organisation_for_buyer
from commissioner.register import services as register
from commissioner.register.models import Source

CHUNK = 500
MAX_CHANGES = 300
AHEAD = 1  # chunks read and sent to the worker before the oldest is written
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


def digest(release) -> str:
    return hashlib.sha256(orjson.dumps(release, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def compile_history(releases):
    """Compile releases (any order) with ocdsmerge; return (compiled, [(release, changes)]) in date order."""
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


def _text_part(value):
    """One part of a contract's search text, as register.search_text makes it (None: left out)."""
    return clean_text(value).lower() if value else None


class Compiled(NamedTuple):
    """An ocid compiled, with what the register needs from it (picklable: made in the worker too)."""

    compiled: bytes          # the compiled release as JSON
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
    return Compiled(orjson.dumps(compiled, default=_jsonable), {rel["id"]: ch for rel, ch in history},
                    fields, suppliers, buyer, len(releases), text)


def compile_jobs(jobs):
    """[(ocid, [release JSON, ...])] -> {ocid: Compiled or "cannot compile" reason}. Pure; runs in the worker."""
    out = {}
    for ocid, raws in jobs:
        try:
            out[ocid] = compile_ocid(ocid, [orjson.loads(r) for r in raws])
        except Exception as e:  # a release that compiles into nonsense is refused whole
            out[ocid] = f"{type(e).__name__}: {e}"
    return out


def import_workers() -> int:
    """Worker processes for compiling: COMMISSIONER_IMPORT_WORKERS, else 1 when there are two or more CPUs."""
    value = os.environ.get(WORKERS_ENV, "")
    if value.strip().isdigit():
        return min(int(value), 1)
    return 1 if (os.cpu_count() or 1) >= 2 else 0


class Entry(NamedTuple):
    """A valid release waiting in a chunk: only what the import needs, the release itself as JSON."""

    source: str
    position: str
    ocid: str
    rid: str
    date: str
    tags: list
    raw: bytes
    digest: str


@dataclass
class Pending:
    """A chunk read, deduplicated, and (in part) sent to the worker to compile."""

    size: int
    latest: dict                      # (ocid, release id) -> Entry; last copy wins
    local: list | None = None         # [(ocid, [raw])] to compile here when written (None: no speculation)
    remote: list | None = None        # [(ocid, [raw])] sent to the worker
    future: object = None


class Importer:
    """One import run: caches buyers and suppliers across chunks."""

    def __init__(self, *, actor=None, source_label="import", progress=None, source=Source.OCDS, private=False):
        self.actor = actor
        self.actor_label = source_label
        self.summary = ImportSummary()
        self.orgs = {}
        self.suppliers = {}
        self.providers_touched = set()
        self.progress = progress
        self.max_amount = settings.MAX_AMOUNT
        self.source = source
        self.private = private
        self.pool = None
        self.workers = import_workers()
        self.local_share = 0.3  # of each chunk's speculative compiling done here; adapted as we go
        self._text = {}

    def reject(self, item, reason, ocid=""):
        self.summary.rejected.append((item.source, item.position, ocid, reason))

    # Reading

    def run(self, paths):
        start = time.monotonic()
        pending = deque()
        try:
            with _import_pragmas():
                for n, entries in enumerate(self._chunks(paths)):
                    if n == 0 and self.workers and len(entries) >= CHUNK:  # not for small files
                        self._start_pool()
                    pending.append(self._prepare(entries))
                    while len(pending) > AHEAD:
                        self._write(pending.popleft())
                while pending:
                    self._write(pending.popleft())
        finally:
            self._stop_pool()
        register.refresh_provider_totals(self.providers_touched)
        self.summary.seconds = time.monotonic() - start
        return self.summary

    def _chunks(self, paths):
        chunk = []
        for path in paths:
            for item in reader.read(path):
                if item.error:
                    self.reject(item, item.error.split(": ", 1)[-1] if ": " in item.error else item.error)
                    continue
                self.summary.read += 1
                release = item.release
                try:
                    if mapping.needs_upgrade(release) or (item.package or {}).get("version") == "1.0":
                        upgrade_release_10_11(release)
                    mapping.validate_release(release, max_amount=self.max_amount)
                except mapping.InvalidRelease as e:
                    ocid = release.get("ocid") if isinstance(release, dict) else ""
                    self.reject(item, str(e), ocid if isinstance(ocid, str) else "")
                    continue
                except Exception as e:  # malformed structure that the upgrade could not handle
                    self.reject(item, f"cannot read release: {type(e).__name__}: {e}")
                    continue
                entry = self._entry(item, release)
                if entry is not None:
                    chunk.append(entry)
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _entry(self, item, release):
        try:
            raw = orjson.dumps(release, option=orjson.OPT_NON_STR_KEYS)
            dg = digest(release)
        except (TypeError, orjson.JSONEncodeError) as e:  # e.g. an integer beyond 64 bits
            self.reject(item, f"cannot read release: {type(e).__name__}: {e}", release["ocid"])
            return None
        return Entry(item.source, item.position, release["ocid"], release["id"], release["date"],
                     release.get("tag") or [], raw, dg)

    def _flush(self, chunk):
        """Store [(item, valid release)] now, as one transaction (the register importer's way in)."""
        entries = [e for e in (self._entry(item, rel) for item, rel in chunk) if e is not None]
        self._write(self._prepare(entries), size=len(chunk))

    # Compiling ahead, in the worker

    def _start_pool(self):
        try:
            import multiprocessing

            import django

            # The worker sets Django up before it unpickles its first job (which imports this module);
            # it never opens a database connection.
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=django.setup)
        except Exception as e:  # no processes here (sandbox, odd platform): compile in this process
            warnings.warn(f"OCDS import: no worker process ({e}); compiling in this process", stacklevel=2)
            self.pool = None

    def _stop_pool(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _prepare(self, entries):
        latest = {}
        for e in entries:
            latest[(e.ocid, e.rid)] = e
        pending = Pending(size=len(entries), latest=latest)
        if self.pool is None or not latest:
            return pending
        ocids = {o for o, _ in latest}
        held = set(Release.objects.filter(ocid__in=ocids).order_by().values_list("ocid", flat=True).distinct())
        jobs = {}
        for (ocid, _), e in latest.items():
            if ocid not in held:
                jobs.setdefault(ocid, []).append(e.raw)
        jobs = list(jobs.items())
        cut = round(len(jobs) * (1 - self.local_share))
        pending.remote, pending.local = jobs[:cut], jobs[cut:]
        if pending.remote:
            try:
                pending.future = self.pool.submit(compile_jobs, pending.remote)
            except Exception:  # the worker died: carry on here
                self._stop_pool()
                pending.local, pending.remote = jobs, None
        return pending

    def _speculated(self, pending):
        """Compiled results for the chunk's ocids that had no stored release when it was read."""
        if pending.local is None:
            return {}
        ready = pending.future is None or pending.future.done()
        out = compile_jobs(pending.local)
        if pending.future is not None:
            waited = time.monotonic()
            try:
                out.update(pending.future.result())
            except Exception:  # the worker died (killed, out of memory): compile its share here
                self._stop_pool()
                out.update(compile_jobs(pending.remote))
            waited = time.monotonic() - waited
            # Balance the two processes: take more when we waited, less when the worker was done first.
            if waited > 0.005:
                self.local_share = min(0.8, self.local_share + 0.02)
            elif ready:
                self.local_share = max(0.0, self.local_share - 0.02)
        return out

    # Writing

    def _write(self, pending, size=None):
        speculated = self._speculated(pending)  # compiling stays outside the transaction
        with transaction.atomic():
            self._store_chunk(pending, speculated)
        if self.progress:
            self.progress(pending.size if size is None else size)

    def _store_chunk(self, pending, speculated):
        latest = pending.latest
        ocids = {k[0] for k in latest}
        existing = {(o, r): (pk, d) for pk, o, r, d in Release.objects.filter(ocid__in=ocids).order_by()
                    .values_list("pk", "ocid", "release_id", "digest")}
        stored = {o for o, _ in existing}  # ocids we already hold releases for
        new, updated, touched = [], [], set()
        for key, e in latest.items():
            old = existing.get(key)
            if old is None:
                new.append(e)
                touched.add(e.ocid)
            elif old[1] != e.digest:
                updated.append((old[0], e))
                touched.add(e.ocid)
            else:
                self.summary.releases_unchanged += 1
        self.summary.releases_unchanged += pending.size - len(latest)
        if not touched:
            return
        results = {}
        here = set()
        for ocid in touched:
            if ocid in stored or ocid not in speculated:
                here.add(ocid)
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
                releases = [orjson.loads(r) if isinstance(r, bytes) else r for r in held.pop(ocid).values()]
                try:
                    results[ocid] = compile_ocid(ocid, releases)
                except Exception as ex:  # a release that compiles into nonsense is refused whole
                    results[ocid] = f"{type(ex).__name__}: {ex}"
        failed = {ocid for ocid, r in results.items() if isinstance(r, str)}
        for e in new:
            if e.ocid in failed:
                self.reject(e, f"cannot compile: {results[e.ocid]}", e.ocid)
        if failed:
            new = [e for e in new if e.ocid not in failed]
            updated = [x for x in updated if x[1].ocid not in failed]
            results = {o: r for o, r in results.items() if o not in failed}
        register.insert_rows(Release, [
            dict(ocid=e.ocid, release_id=e.rid, date=mapping.parse_datetime(e.date), tags=e.tags,
                 data=register.JSONText(e.raw), digest=e.digest, source=e.source[-500:],
                 changes=results[e.ocid].changes.get(e.rid, []))
            for e in new
        ])
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
        self._save_contracts(results)

    def _organisation(self, name, website):
        key = name.lower()
        if key not in self.orgs:
            self.orgs[key] = organisation_for_buyer(name, website=website)
        return self.orgs[key]

    def _supplier(self, facts):
        key = facts["key"]
        cached = self.suppliers.get(key)
        if cached is not None and cached[1] == facts:
            return cached[0]
        supplier = register.upsert_supplier(actor_label=self.actor_label, **facts)
        self.suppliers[key] = (supplier, facts)
        self.providers_touched.add(supplier.provider_id)
        return supplier

    def _cleaned(self, value):
        """_text_part with a cache (supplier and organisation names repeat)."""
        out = self._text.get(value)
        if out is None:
            if len(self._text) > 50_000:
                self._text.clear()
            out = self._text[value] = (_text_part(value),)
        return out[0]

    def _save_contracts(self, results):
        batch = []
        for ocid, r in results.items():
            buyer_name, website = r.buyer
            org = self._organisation(buyer_name or "Unknown buyer", website)
            links = [(self._supplier(facts), award_id, value) for facts, award_id, value in r.suppliers]
            supplier_names = " ".join(s.name for s, _, _ in links)
            title, description, buyer_text, ocid_text, reference = r.text
            # register.search_text(title, description, supplier names, buyer name, org name, ocid, reference)
            parts = (title, description, self._cleaned(supplier_names), buyer_text, self._cleaned(org.name),
                     ocid_text, reference)
            fields = dict(r.fields)
            fields.update(
                owner=org, buyer=org, buyer_name=buyer_name[:300], source=self.source, is_private=self.private,
                compiled=register.JSONText(r.compiled), release_count=r.count,
                search_text=" ".join(p for p in parts if p is not None)[:20000],
            )
            batch.append((ocid, fields, links))
        outcomes = register.apply_contracts(batch, actor=self.actor, actor_label=self.actor_label)
        for outcome in outcomes:
            setattr(self.summary, f"contracts_{outcome}", getattr(self.summary, f"contracts_{outcome}") + 1)


class _import_pragmas:
    """SQLite only, while importing (restored after): a bigger page cache, in-memory temporary tables, no
    waiting for the disk (synchronous=OFF: SQLite is for the demo and tests only, production runs
    PostgreSQL, and an interrupted import is simply run again), and a WAL checkpoint every ~40 MB
    written rather than every 4 MB."""

    SETTINGS: ClassVar = {"cache_size": -8000, "temp_store": 2, "synchronous": 0, "wal_autocheckpoint": 10000}

    def __enter__(self):
        self.saved = {}
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            return self
        with connection.cursor() as cursor:
            for name, value in self.SETTINGS.items():
                cursor.execute(f"PRAGMA {name}")
                self.saved[name] = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA {name} = {int(value)}")
        return self

    def __exit__(self, *exc):
        if self.saved and connection.connection is not None:
            with connection.cursor() as cursor:
                for name, value in self.saved.items():
                    cursor.execute(f"PRAGMA {name} = {int(value)}")
        return False


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
    ocids = contracts.filter(source=Source.OCDS).values_list("ocid", flat=True).order_by("ocid")
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

