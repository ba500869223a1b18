"""OCDS import and export: the only place that writes releases and OCDS-fed contracts.

Releases are read as a stream and handled in chunks. Each chunk is one transaction:
its new releases are stored, every ocid it touches is recompiled with ocdsmerge from all
the releases we hold for it, and the contracts are saved. An import killed midway leaves
whole chunks only, and running it again finishes the job without duplicates.
"""

import hashlib
import time
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from django.conf import settings
from django.db import transaction
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

CHUNK = 1000
MAX_CHANGES = 300


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
    return value


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


class Importer:
    """One import run: caches buyers and suppliers across chunks."""

    def __init__(self, *, actor=None, source_label="import", progress=None, source=Source.OCDS,
                 private=False):
        self.actor = actor
        self.source = source  # Source.OCDS, or Source.REGISTER for council registers turned into releases
        self.private = private
        self.actor_label = source_label
        self.summary = ImportSummary()
        self.orgs = {}
        self.suppliers = {}
        self.providers_touched = set()
        self.progress = progress
        self.max_amount = settings.MAX_AMOUNT

    def reject(self, item, reason, ocid=""):
        self.summary.rejected.append((item.source, item.position, ocid, reason))

    def run(self, paths):
        start = time.monotonic()
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
                chunk.append((item, release))
                if len(chunk) >= CHUNK:
                    self._flush(chunk)
                    chunk = []
        if chunk:
            self._flush(chunk)
        register.refresh_provider_totals(self.providers_touched)
        self.summary.seconds = time.monotonic() - start
        return self.summary

    def _flush(self, chunk):
        with transaction.atomic():
            self._store_chunk(chunk)
        if self.progress:
            self.progress(len(chunk))

    def _store_chunk(self, chunk):
        # Last copy wins when a chunk holds the same release twice.
        latest = {}
        for item, rel in chunk:
            latest[(rel["ocid"], rel["id"])] = (item, rel, digest(rel))
        ocids = {k[0] for k in latest}
        existing = {(o, r): (pk, d) for pk, o, r, d in Release.objects.filter(ocid__in=ocids).values_list(
            "pk", "ocid", "release_id", "digest")}
        new, updated, touched = [], [], set()
        for (ocid, rid), (item, rel, dg) in latest.items():
            old = existing.get((ocid, rid))
            if old is None:
                new.append((item, rel, dg))
                touched.add(ocid)
            elif old[1] != dg:
                updated.append((old[0], item, rel, dg))
                touched.add(ocid)
            else:
                self.summary.releases_unchanged += 1
        self.summary.releases_unchanged += len(chunk) - len(latest)
        if not touched:
            return
        # Compile every touched ocid from what we hold plus what arrived (pure, before any write).
        held = {}
        for ocid, rid, data in Release.objects.filter(ocid__in=touched).values_list("ocid", "release_id", "data"):
            held.setdefault(ocid, {})[rid] = data
        for item, rel, dg in new:
            held.setdefault(rel["ocid"], {})[rel["id"]] = rel
        for pk, item, rel, dg in updated:
            held[rel["ocid"]][rel["id"]] = rel
        compiled_by_ocid, failed = {}, set()
        for ocid in touched:
            try:
                compiled, history = compile_history(list(held[ocid].values()))
                fields = mapping.contract_fields(compiled)
                suppliers = mapping.award_suppliers(compiled)
                buyer = mapping.buyer_of(compiled, mapping.parties_by_id(compiled))
            except Exception as e:  # a release that compiles into nonsense is refused whole
                failed.add(ocid)
                for item, rel, dg in new:
                    if rel["ocid"] == ocid:
                        self.reject(item, f"cannot compile: {type(e).__name__}: {e}", ocid)
                continue
            compiled_by_ocid[ocid] = (compiled, history, fields, suppliers, buyer, len(held[ocid]))
        new = [x for x in new if x[1]["ocid"] not in failed]
        updated = [x for x in updated if x[2]["ocid"] not in failed]
        changes = {}
        for ocid, (_, history, *_rest) in compiled_by_ocid.items():
            for rel, ch in history:
                changes[(ocid, rel["id"])] = ch
        Release.objects.bulk_create([
            Release(ocid=rel["ocid"], release_id=rel["id"], date=mapping.parse_datetime(rel["date"]),
                    tags=rel.get("tag") or [], data=rel, digest=dg, source=item.source[-500:],
                    changes=changes.get((rel["ocid"], rel["id"]), []))
            for item, rel, dg in new
        ], batch_size=500)
        for pk, item, rel, dg in updated:
            Release.objects.filter(pk=pk).update(data=rel, digest=dg, date=mapping.parse_datetime(rel["date"]),
                                                 tags=rel.get("tag") or [], source=item.source[-500:])
        # Earlier releases of an ocid may have new changes (a release slotted in between).
        to_fix = []
        for r in Release.objects.filter(ocid__in=compiled_by_ocid).only("pk", "ocid", "release_id", "changes"):
            ch = changes.get((r.ocid, r.release_id))
            if ch is not None and ch != r.changes:
                r.changes = ch
                to_fix.append(r)
        Release.objects.bulk_update(to_fix, ["changes"], batch_size=500)
        self.summary.releases_new += len(new)
        self.summary.releases_updated += len(updated)
        self._save_contracts(compiled_by_ocid)

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

    def _save_contracts(self, compiled_by_ocid):
        batch = []
        for ocid, (compiled, history, fields, suppliers, buyer, count) in compiled_by_ocid.items():
            buyer_name, website = buyer
            org = self._organisation(buyer_name or "Unknown buyer", website)
            links = [(self._supplier(facts), award_id, value) for facts, award_id, value in suppliers]
            supplier_names = " ".join(s.name for s, _, _ in links)
            fields.update(
                owner=org, buyer=org, buyer_name=buyer_name[:300], source=self.source, is_private=self.private,
                compiled=orjson.loads(orjson.dumps(compiled, default=_jsonable)), release_count=count,
                search_text=register.search_text(fields["title"], fields["description"], supplier_names,
                                                 buyer_name, org.name, ocid, fields["reference"]),
            )
            batch.append((ocid, fields, links))
        outcomes = register.apply_contracts(batch, actor=self.actor, actor_label=self.actor_label)
        for outcome in outcomes:
            setattr(self.summary, f"contracts_{outcome}", getattr(self.summary, f"contracts_{outcome}") + 1)


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

