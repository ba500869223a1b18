"""Performance pages benchmark: the council-wide pages and a contract page on a large synthetic register.

    .venv/bin/python bench/performance_bench.py [--contracts 5000] [--kpis 5] [--returns 20] [--repeat 30]
                                                [--postgres postgres://postgres@127.0.0.1:5432] [--keep] [--reuse]

1. Makes its own database: a SQLite file under bench/out/ (gitignored), or, with ``--postgres URL``, the
   database ``commissioner_perfbench`` on that server (dropped and made again; dropped at the end unless
   ``--keep``). DATABASE_URL is set before Django starts; ``migrate`` builds the schema.
2. Generates, from a fixed seed, a clearly synthetic register for one council ("Synthetic Benchmark
   Council", slug ``bench-council``): ``--contracts`` contracts (ocid ``bench-synthetic-<n>``, values
   from £10k to £20m, started over the last 6 years, ending over the next 0-4 years, 15 CPV divisions,
   a few hundred synthetic providers), ``--kpis`` KPIs per contract and ``--returns`` quarterly returns
   per KPI (5,000 x 5 x 20 = 500,000 returns by default), plus a few corrected returns, break clauses and
   other events, contract changes, s.52 exemptions and s.71 assessments. Every KPI and return is
   ``synthetic=True`` and every name says "Synthetic". Classifications come from
   ``methods.performance.classify`` and proposed ratings from ``methods.procurement.propose_rating``,
   so the data is consistent with what the services would have stored.
3. Times, through ``django.test.Client`` as an admin member of the council (``orgs.services.create_user``),
   the compliance page, the forward plan, the opportunities page and a contract page (rotating over a
   sample of contracts), together with a bare Django view (``HttpResponse("ok")`` at /bench-bare/, through
   the same middleware) as the anchor measured in the same run. One warm-up request per page is
   excluded; then ``--repeat`` rounds, each requesting every page once (interleaved, so that a change
   in the machine's speed hits every page alike). p50 and p95 are nearest-rank percentiles.
4. Counts each page's queries and their time (one extra request under ``CaptureQueriesContext``), and
   for a page that misses its target prints where its time goes (cProfile of one more request).
5. Prints the table: page, p50, p95, target, PASS/FAIL, p95 / bare p95, queries, SQL time, page size.
   Exit code 0 when every page meets its target.

Targets (from the issue): p95 under 300 ms for the council-wide pages, under 100 ms for a contract page.

``--reuse`` times a database kept by an earlier ``--keep`` run of the same size without generating it
again (the generation is most of the CPU the bench takes).
"""

import argparse
import cProfile
import math
import os
import platform
import pstats
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pagetiming import BARE_URL, cpu_model, install_urlconf, percentile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_DBNAME = "commissioner_perfbench"
SEED = 20261125
SLUG = "bench-council"
COUNCIL_TARGET_MS = 300
CONTRACT_TARGET_MS = 100
BATCH = 2000  # rows per INSERT statement in bulk_create (SQLite caps it lower by itself)

# 15 CPV divisions, the first three with a unit-cost KPI (compared across contracts by the opportunities page).
DIVISIONS = [("85", "services", "Health and social work services", "£ per hour", Decimal("22.50")),
             ("90", "services", "Sewage, refuse, cleaning and environmental services", "£ per tonne", Decimal(95)),
             ("60", "services", "Transport services", "£ per journey", Decimal(18)),
             ("79", "services", "Business services", None, None),
             ("80", "services", "Education and training services", None, None),
             ("72", "services", "IT services", None, None),
             ("50", "services", "Repair and maintenance services", None, None),
             ("98", "services", "Other community, social and personal services", None, None),
             ("55", "services", "Hotel, restaurant and retail trade services", None, None),
             ("71", "services", "Architectural and engineering services", None, None),
             ("45", "works", "Construction work", None, None),
             ("33", "goods", "Medical equipments and pharmaceuticals", None, None),
             ("30", "goods", "Office and computing machinery", None, None),
             ("34", "goods", "Transport equipment", None, None),
             ("66", "services", "Financial and insurance services", None, None)]

# (name, unit, target, direction, tolerance, spread of results as a share of the target)
KPI_TEMPLATES = [
    ("Synthetic: visits delivered on time", "%", Decimal(95), "higher", Decimal(2), 0.06),
    ("Synthetic: service users satisfied", "%", Decimal(85), "higher", Decimal(5), 0.10),
    ("Synthetic: days to respond to a referral", "days", Decimal(5), "lower", Decimal(1), 0.35),
    ("Synthetic: complaints upheld per 1,000 hours", "per 1,000 hours", Decimal(2), "lower", Decimal("0.5"), 0.40),
    ("Synthetic: milestones delivered on schedule", "%", Decimal(90), "higher", Decimal(3), 0.08),
    ("Synthetic: staff turnover", "%", Decimal(15), "lower", Decimal(2), 0.30),
    ("Synthetic: social value delivered", "£k", Decimal(50), "higher", Decimal(5), 0.25),
]


# ------------------------------------------------------------------------------------------------
# Database


def pg_admin_url(url):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def pg_bench_url(url):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + PG_DBNAME))


def pg_exec(url, sql):
    import psycopg

    with psycopg.connect(pg_admin_url(url), autocommit=True) as con:
        cur = con.execute(sql)
        return cur.fetchall() if cur.description else None


def sqlite_path(args):
    return OUT / f"perfbench_{args.contracts}x{args.kpis}x{args.returns}.sqlite3"


def remove_sqlite(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------
# Generation (a generator, not the product path: rows are written with bulk_create, without the
# services' permission checks and audit events, which the pages timed here never read).


def quarters(today, n):
    """The last ``n`` complete calendar quarters, oldest first: [(start, end)]."""
    from commissioner.methods import performance as perf

    start, _ = perf.period_bounds(today, "quarterly")
    out = []
    for _ in range(n):
        start = perf.add_months(start, -3)
        out.append((start, perf.add_months(start, 3) - timedelta(days=1)))
    return out[::-1]


def money(x):
    return Decimal(f"{x:.2f}")


def generate(args, today):
    from django.db import connection, transaction
    from django.utils import timezone

    from commissioner.methods import performance as perf
    from commissioner.methods import procurement
    from commissioner.orgs.models import Organisation
    from commissioner.performance import services
    from commissioner.performance.models import (
        Assessment,
        ContractChange,
        ContractEvent,
        Exemption,
        Kpi,
        KpiReturn,
    )
    from commissioner.register.models import Contract, ContractSupplier, Provider, Supplier

    assert connection.features.can_return_rows_from_bulk_insert, "the bench needs bulk_create to return ids"
    rng = random.Random(SEED)
    now = timezone.now()
    counts = {}

    with transaction.atomic():
        org = Organisation.objects.create(
            name="Synthetic Benchmark Council (bench/performance_bench.py)", slug=SLUG,
            kind=Organisation.Kind.COUNCIL, region="Synthetic")

        # Providers and suppliers: one supplier identity per provider.
        n_providers = max(20, min(400, args.contracts // 15))
        types_ = ["large", "sme", "vcse", "sme", "large", "public"]
        providers = Provider.objects.bulk_create([
            Provider(name=f"Synthetic Provider {i:04d} Ltd", name_key=f"synthetic provider {i:04d}",
                     supplier_type=types_[i % len(types_)], scale="sme" if i % 3 else "large")
            for i in range(1, n_providers + 1)], batch_size=BATCH)
        suppliers = Supplier.objects.bulk_create([
            Supplier(key=f"bench-synthetic-supplier-{p.pk}", name=p.name, provider=p, scheme="synthetic",
                     identifier=str(p.pk), match=Supplier.Match.NEW) for p in providers], batch_size=BATCH)
        counts["providers"] = len(providers)

        # Each division gets a pool of suppliers, Zipf-weighted: in some divisions one supplier holds
        # most of the spend (the opportunities page's dependency flag).
        pools = {}
        for d, *_ in DIVISIONS:
            pool = rng.sample(suppliers, min(len(suppliers), 25))
            skew = 2.5 if rng.random() < 0.3 else 1.1
            pools[d] = (pool, [1 / (rank + 1) ** skew for rank in range(len(pool))])

        # Contracts.
        log_lo, log_hi = math.log(10_000), math.log(20_000_000)
        rows = []
        for n in range(1, args.contracts + 1):
            div, category, div_name, _, _ = rng.choice(DIVISIONS)
            start = today - timedelta(days=rng.randrange(1, 6 * 365))
            end = today + timedelta(days=rng.randrange(0, 4 * 365))
            value = money(math.exp(rng.uniform(log_lo, log_hi)))
            review = today - timedelta(days=rng.randrange(30, 5 * 365)) if rng.random() < 0.3 else None
            title = f"Synthetic benchmark contract {n:05d}: {div_name.lower()}"
            rows.append(Contract(
                ocid=f"bench-synthetic-{n:05d}", owner=org, buyer=org, buyer_name=org.name, title=title,
                description="Synthetic: made up by bench/performance_bench.py, not a real contract.",
                reference=f"SYN-{n:05d}", status="contract", main_category=category,
                cpv=f"{div}000000", cpv_description=div_name, cpv_division=div, award_value=value, value=value,
                start_date=start, end_date=end, review_date=review, published=now, source="register",
                search_text=title.lower(), release_count=0))
        contracts = Contract.objects.bulk_create(rows, batch_size=BATCH)
        counts["contracts"] = len(contracts)

        links = []
        for c in contracts:
            pool, weights = pools[c.cpv_division]
            chosen = rng.choices(pool, weights)[:1] + (rng.choices(pool, weights) if rng.random() < 0.1 else [])
            for s in {s.pk: s for s in chosen}.values():
                links.append(ContractSupplier(contract=c, supplier=s, award_id=f"{c.ocid}-award", value=c.value))
        ContractSupplier.objects.bulk_create(links, batch_size=BATCH)
        counts["contract suppliers"] = len(links)
        totals = {}
        for link in links:
            n_, v_ = totals.get(link.supplier.provider_id, (0, Decimal(0)))
            totals[link.supplier.provider_id] = (n_ + 1, v_ + link.value)
        for p in providers:
            p.contract_count, p.total_value = totals.get(p.pk, (0, Decimal(0)))
        Provider.objects.bulk_update(providers, ["contract_count", "total_value"], batch_size=BATCH)

        # s.52 exemptions, mostly of large contracts.
        exemptions = [Exemption(contract=c, kind=rng.choice(["framework", "concession", "light_touch"]),
                                note="Synthetic exemption")
                      for c in contracts if rng.random() < (0.08 if c.value > procurement.KPI_THRESHOLD else 0.01)]
        Exemption.objects.bulk_create(exemptions, batch_size=BATCH)
        counts["exemptions"] = len(exemptions)

        # Events: break clauses, extension options, notice dates, reviews (a few withdrawn).
        events = []
        for c in contracts:
            days_left = (c.end_date - today).days
            if rng.random() < 0.25 and days_left > 120:
                events.append(ContractEvent(contract=c, kind="break", date=today + timedelta(
                    days=rng.randrange(30, days_left - 60)), note="Synthetic break clause"))
            if rng.random() < 0.15:
                events.append(ContractEvent(contract=c, kind="extension", date=c.end_date,
                                            extension_months=rng.choice([6, 12, 24]), note="Synthetic option"))
            if rng.random() < 0.10:
                events.append(ContractEvent(contract=c, kind="notice", date=c.end_date - timedelta(days=90),
                                            notice_days=90, note="Synthetic notice period"))
            if rng.random() < 0.15:
                events.append(ContractEvent(contract=c, kind="review", date=today - timedelta(
                    days=rng.randrange(10, 4 * 365)), note="Synthetic review"))
        for e in events:
            e.is_active = rng.random() >= 0.02
        ContractEvent.objects.bulk_create(events, batch_size=BATCH)
        counts["events"] = len(events)

        # Contract changes, with the verdict the services would record.
        changes = []
        for c in contracts:
            if rng.random() >= 0.12:
                continue
            current = c.value
            for _ in range(rng.choice([1, 1, 2, 3])):
                kind = rng.choices(["value", "term", "scope"], [6, 3, 1])[0]
                vc = money(float(c.value) * rng.uniform(-0.05, 0.15)) if kind == "value" else Decimal("0.00")
                tc = rng.randrange(30, 365) if kind == "term" else 0
                verdict = procurement.change_notice_required(
                    original_value=c.value, original_term_days=services.contract_term_days(c),
                    kind=services.change_kind_of(c), value_changes=[vc], term_changes=[tc])
                changes.append(ContractChange(
                    contract=c, kind=kind, changed_on=c.start_date + timedelta(days=rng.randrange(
                        0, max(1, (today - c.start_date).days))),
                    value_change=vc, term_change_days=tc, reason="Synthetic change", value_before=current,
                    value_after=current + vc, notice_required=verdict.required or kind == "scope",
                    verdict=services._verdict_json(verdict, kind)))
                current += vc
        ContractChange.objects.bulk_create(changes, batch_size=BATCH)
        counts["changes"] = len(changes)

        # KPIs: the s.52 Act KPIs mostly in place on large contracts, so that some breach the rule.
        kpis = []
        for c in contracts:
            unit_kpi = next((d for d in DIVISIONS if d[0] == c.cpv_division and d[3]), None)
            templates = rng.sample(KPI_TEMPLATES, min(args.kpis, len(KPI_TEMPLATES)))
            while len(templates) < args.kpis:
                templates.append(rng.choice(KPI_TEMPLATES))
            if unit_kpi and templates:  # the division's unit cost replaces one KPI
                _, _, _, unit, price = unit_kpi
                templates[-1] = (f"Synthetic: cost ({unit})", unit, money(float(price) * rng.uniform(0.85, 1.2)),
                                 "lower", money(float(price) * 0.03), 0.08)
            large = c.value > procurement.KPI_THRESHOLD
            n_act = (3 if rng.random() < 0.75 else rng.randrange(0, 3)) if large else int(rng.random() < 0.2)
            for i, (name, unit, target, direction, tolerance, spread) in enumerate(templates):
                scale = Decimal(str(round(rng.uniform(0.95, 1.05), 2))) if unit != "%" else Decimal(1)
                k = Kpi(
                    contract=c, name=name if i < len(KPI_TEMPLATES) else f"{name} ({i})", unit=unit,
                    target=min(target * scale, Decimal(100)) if unit == "%" else (target * scale).quantize(
                        Decimal("0.01")), direction=direction, tolerance=tolerance, frequency="quarterly",
                    weight=Decimal(rng.choice([1, 1, 1, 2])), is_act_kpi=i < n_act, is_active=rng.random() >= 0.01,
                    synthetic=True, definition="Synthetic KPI made by the benchmark generator, not a real measure.")
                k.spread = spread  # kept on the instance, which bulk_create returns
                kpis.append(k)
        kpis = Kpi.objects.bulk_create(kpis, batch_size=BATCH)
        counts["kpis"] = len(kpis)

    # Returns: ``--returns`` complete quarters per KPI, written in chunks (one transaction each).
    periods = quarters(today, args.returns)
    by_contract = {}
    for k in kpis:
        by_contract.setdefault(k.contract_id, []).append(k)
    contract_of = {c.pk: c for c in contracts}
    pending, corrections, assessments = [], [], []
    n_returns = 0

    def flush():
        nonlocal pending, n_returns
        with transaction.atomic():
            KpiReturn.objects.bulk_create(pending, batch_size=BATCH)
        n_returns += len(pending)
        pending = []

    fy_starts = sorted({perf.period_bounds(p[0], "annual")[0] for p in periods})
    for cid, ks in by_contract.items():
        c = contract_of[cid]
        # Each KPI has a quality: mostly on target, some borderline, a few failing (and drifting).
        classes = {}  # kpi id: [(period start, classification)] of its current returns
        for k in ks:
            spread = k.spread
            current = classes[k.pk] = []
            quality = rng.choices([0.02, -0.02, -0.12], [70, 20, 10])[0]
            sign = 1 if k.direction == "higher" else -1
            target = float(k.target)
            for q, (ps, pe) in enumerate(periods):
                drift = -0.01 * q if quality < -0.1 else 0
                x = target * (1 + sign * (quality + drift) + rng.gauss(0, spread / 3))
                if k.unit == "%":
                    x = min(100.0, x)
                value = money(max(0.0, x))
                cls = perf.classify(value, target=k.target, direction=k.direction, tolerance=k.tolerance)
                r = KpiReturn(kpi=k, period_start=ps, period_end=pe, value=value, classification=cls,
                              evidence="Synthetic return" if rng.random() < 0.5 else "", source="generated",
                              synthetic=True, submitted_at=now)
                if rng.random() < 0.005:  # corrected later: this one is superseded
                    r.is_current = False
                    corrections.append(r)
                else:
                    current.append((ps, cls))
                pending.append(r)
        # s.71 assessments of whole financial years, each proposed from that year's returns.
        if rng.random() < 0.7:
            # Financial years the contract ran in that ended at least 120 days ago (assessed 20-120 days after).
            done = [fy for fy in fy_starts if fy >= c.start_date - timedelta(days=365)
                    and perf.add_months(fy, 12) + timedelta(days=119) <= today]
            for fy in done[-rng.choice([1, 1, 2, 3]):]:
                fy_end = perf.add_months(fy, 12) - timedelta(days=1)
                assessed_on = fy_end + timedelta(days=rng.randrange(20, 120))
                results = []
                for k in ks:
                    inside = [cls for ps, cls in classes[k.pk] if fy <= ps <= fy_end]
                    results.append((k.weight, inside[-1] if inside else None))
                proposal = procurement.propose_rating(results)
                assessments.append(Assessment(
                    contract=c, period_start=fy, period_end=fy_end, proposed_rating=proposal.rating,
                    proposed_score=proposal.score, rating=proposal.rating, explanation=proposal.explanation,
                    assessed_on=assessed_on, synthetic=True,
                    kpi_results=[{"kpi": k.name, "weight": str(k.weight), "classification": cls}
                                 for k, (_, cls) in zip(ks, results, strict=True)]))
        if len(pending) >= 20_000:
            flush()
    flush()

    # Corrections: a new current return superseding each one marked above.
    fixed = []
    for old in corrections:
        k = old.kpi
        value = money(float(old.value) * rng.uniform(0.97, 1.03))
        fixed.append(KpiReturn(kpi=k, period_start=old.period_start, period_end=old.period_end, value=value,
                               classification=perf.classify(value, target=k.target, direction=k.direction,
                                                            tolerance=k.tolerance),
                               source="generated", synthetic=True, supersedes=old,
                               correction_reason="Synthetic correction", submitted_at=now))
    with transaction.atomic():
        KpiReturn.objects.bulk_create(fixed, batch_size=BATCH)
        Assessment.objects.bulk_create(assessments, batch_size=BATCH)
        # Kpi.trailing_misses, as services keep it when results come in one by one.
        results = {}
        for kpi_id, cls in KpiReturn.objects.filter(is_current=True).order_by("kpi_id", "period_start").values_list(
                "kpi_id", "classification"):
            results.setdefault(kpi_id, []).append(cls)
        Kpi.objects.bulk_update([Kpi(pk=kpi_id, trailing_misses=perf.trailing_misses(classes))
                                 for kpi_id, classes in results.items()], ["trailing_misses"], batch_size=BATCH)
    counts["returns"] = n_returns + len(fixed)
    counts["corrected returns"] = len(fixed)
    counts["assessments"] = len(assessments)
    return org, counts


# ------------------------------------------------------------------------------------------------
# Timing


def profile_lines(client, url, top=14):
    prof = cProfile.Profile()
    prof.enable()
    client.get(url)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append((tottime, cumtime, ncalls, f"{Path(filename).name}:{line} {func}"))
    total = sum(r[0] for r in rows)
    line = "      {:>6.0f}ms {:>6.0f}ms {:>9}  {}".format
    out = [f"    cProfile of one request: {total * 1000:.0f} ms with the profiler's overhead",
           f"    the project's functions by cumulative time:\n      {'tottime':>8} {'cumtime':>8} {'calls':>9}  function"]
    ours = sorted((r for r, key in zip(rows, stats.stats, strict=True) if "/commissioner/" in key[0]),
                  key=lambda r: r[1], reverse=True)
    out += [line(t * 1000, c * 1000, n, name) for t, c, n, name in ours[:8]]
    out.append(f"    every function by own time:\n      {'tottime':>8} {'cumtime':>8} {'calls':>9}  function")
    out += [line(t * 1000, c * 1000, n, name) for t, c, n, name in sorted(rows, reverse=True)[:top]]
    return out


def connections_close():
    from django.db import connections

    connections.close_all()


def run_pages(args, org, user):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from commissioner.performance.models import ContractChange
    from commissioner.register.models import Contract

    client = Client()
    client.force_login(user)
    # Contract pages: a fixed sample, the richest first (changes, events, assessments, corrections).
    rich = list(ContractChange.objects.filter(contract__owner=org).values_list("contract__ocid", flat=True)
                .distinct().order_by("contract__ocid")[:5])
    rng = random.Random(SEED + 1)
    all_ocids = list(Contract.objects.filter(owner=org).order_by("ocid").values_list("ocid", flat=True))
    sample = rich + rng.sample(all_ocids, min(len(all_ocids), 10))
    pages = [
        ("bare Django view (anchor)", lambda i: BARE_URL, None),
        ("council compliance", lambda i: f"/performance/councils/{SLUG}/compliance/", COUNCIL_TARGET_MS),
        ("forward plan", lambda i: f"/performance/councils/{SLUG}/forward-plan/", COUNCIL_TARGET_MS),
        ("opportunities", lambda i: f"/performance/councils/{SLUG}/opportunities/", COUNCIL_TARGET_MS),
        ("contract page", lambda i: f"/performance/contracts/{sample[i % len(sample)]}/", CONTRACT_TARGET_MS),
    ]

    def get(url):
        t = time.perf_counter()
        response = client.get(url)
        dt = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}")
        return dt, response

    print(f"timing {len(pages)} pages: 1 warm-up + {args.repeat} rounds, interleaved", flush=True)
    sizes = {}
    for name, url, _ in pages:
        _, response = get(url(0))
        sizes[name] = len(response.content)
    times = {name: [] for name, _, _ in pages}
    t0 = time.perf_counter()
    for i in range(args.repeat):
        for name, url, _ in pages:
            times[name].append(get(url(i))[0])
    timing_s = time.perf_counter() - t0

    # Queries: counted by CaptureQueriesContext, timed (to the microsecond, which its log is not) by an
    # execute wrapper. The time is that of execute(): rows fetched after it (Django reads large
    # results in chunks as it builds objects) count as Python time.
    queries = {}
    for name, url, _ in pages:
        timed = []

        def timer(execute, sql, params, many, context, timed=timed):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timed.append(((time.perf_counter() - t) * 1000, sql))

        reset_queries()
        with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
            t = time.perf_counter()
            get(url(0))
            total = (time.perf_counter() - t) * 1000
        assert len(timed) == len(ctx.captured_queries)
        queries[name] = (len(timed), sum(ms for ms, _ in timed), total, sorted(timed, reverse=True)[:3])

    # The page's data alone: its ``queries`` function, outside a request (median of 5), so that the rest of
    # the request's time (rendering the template, the middleware) shows.
    from commissioner.performance import queries as perf_queries

    def contract_data():
        c = Contract.objects.select_related("owner", "buyer").get(ocid=sample[0])
        return perf_queries.contract_performance(c).kpis

    readers = {"council compliance": ("queries.compliance()", "breaches", lambda: perf_queries.compliance(org)),
               "forward plan": ("queries.forward_plan()", "contracts", lambda: perf_queries.forward_plan(org)),
               "opportunities": ("queries.opportunities()", "contracts", lambda: perf_queries.opportunities(org)),
               "contract page": ("queries.contract_performance()", "KPIs", contract_data)}
    data = {}
    for name, (_, _, read) in readers.items():
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            rows = len(read())
            runs.append((time.perf_counter() - t) * 1000)
        data[name] = (percentile(runs, 50), rows)
    connections_close()

    bare_p95 = percentile(times[pages[0][0]], 95)
    print()
    print(f"{'page':<27} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'result':>6} {'p95/bare':>9} "
          f"{'queries':>8} {'SQL ms':>7} {'KB':>6}")
    failed = []
    for name, url, target in pages:
        p50, p95 = percentile(times[name], 50), percentile(times[name], 95)
        n, sql_ms, _, _ = queries[name]
        verdict = "" if target is None else ("PASS" if p95 < target else "FAIL")
        if verdict == "FAIL":
            failed.append((name, url))
        print(f"{name:<27} {p50:>8.1f} {p95:>8.1f} {('< ' + str(target)) if target else '-':>8} {verdict:>6} "
              f"{p95 / bare_p95:>8.0f}x {n:>8} {sql_ms:>7.1f} {sizes[name] / 1024:>6.0f}")
    print(f"(p50/p95 over {args.repeat} requests each, in {timing_s:.0f} s; queries and SQL ms from one more "
          "request under CaptureQueriesContext; SQL ms: time in execute(); KB: the page's HTML)")

    print("\nthe page's data alone (its queries function outside a request, median of 5) and the rest:")
    for name, (func, what, _) in readers.items():
        ms, rows = data[name]
        p50 = percentile(times[name], 50)
        print(f"  {name:<20} {func:<32} {ms:7.1f} ms for {rows:,} {what}; the rest of the request (template, "
              f"middleware) {max(0.0, p50 - ms):6.1f} ms of its p50, {sizes[name] / 1024:,.0f} KB of HTML")

    print("\nslowest queries per page (one request):")
    for name, _, target in pages[1:]:
        n, sql_ms, total, top = queries[name]
        print(f"  {name}: {n} queries, {sql_ms:.1f} ms of SQL in a {total:.0f} ms request "
              f"({100 * sql_ms / total if total else 0:.0f} %)")
        for ms, sql in top:
            print(f"    {ms:7.1f} ms  {sql[:400]}{'...' if len(sql) > 400 else ''}")
    for name, url in failed:
        print(f"\nwhere the time goes: {name} ({url(0)})")
        print("\n".join(profile_lines(client, url(0))))
    return not failed


# ------------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=5000, help="contracts (default 5000)")
    parser.add_argument("--kpis", type=int, default=5, help="KPIs per contract (default 5)")
    parser.add_argument("--returns", type=int, default=20, help="quarterly returns per KPI (default 20)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--postgres", metavar="URL", help="server to use instead of SQLite, e.g. "
                        f"postgres://postgres@127.0.0.1:5432 (database {PG_DBNAME} is made and dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="time a database kept by --keep, without generating")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        exists = bool(pg_exec(args.postgres, f"select 1 from pg_database where datname = '{PG_DBNAME}'"))
        fresh = not (args.reuse and exists)
        if fresh:
            pg_exec(args.postgres, f"drop database if exists {PG_DBNAME}")
            pg_exec(args.postgres, f"create database {PG_DBNAME}")
        os.environ["DATABASE_URL"] = pg_bench_url(args.postgres)
        where = f"PostgreSQL database {PG_DBNAME}"
    else:
        db = sqlite_path(args)
        fresh = not (args.reuse and db.exists())
        if fresh:
            remove_sqlite(db)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
        where = f"SQLite {db.relative_to(ROOT)}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "commissioner.settings"
    os.environ.setdefault("DJANGO_DEBUG", "0")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from commissioner.orgs import services as org_services
    from commissioner.orgs.models import Organisation

    install_urlconf("perfbench_urls")
    if connection.vendor == "postgresql":
        server = connection.cursor().connection.info.server_version
        dbinfo = f"PostgreSQL {server // 10000}.{server % 10000}"
    else:
        import sqlite3

        dbinfo = f"SQLite {sqlite3.sqlite_version}"
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
          f"Django {django.get_version()}, {dbinfo}; load average {os.getloadavg()[0]:.2f}")
    print(f"database: {where}")

    today = date.today()
    ok = True
    try:
        if fresh:
            t = time.perf_counter()
            call_command("migrate", verbosity=0)
            print(f"migrated in {time.perf_counter() - t:.1f} s", flush=True)
            t = time.perf_counter()
            org, counts = generate(args, today)
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:  # as autovacuum would shortly after a bulk load
                    cur.execute("ANALYZE")
            gen_s = time.perf_counter() - t
            print(f"generated in {gen_s:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()), flush=True)
            user = org_services.create_user(username="bench-admin", password="synthetic-bench-password",
                                            organisation=org, role="admin")
        else:
            org = Organisation.objects.get(slug=SLUG)
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(username="bench-admin")
            print("reusing the kept database (no generation)")
        connections.close_all()
        ok = run_pages(args, org, user)
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (the machine is shared; figures vary with it)")
    finally:
        connections.close_all()
        if not args.keep:
            if args.postgres:
                pg_exec(args.postgres, f"drop database if exists {PG_DBNAME}")
            else:
                remove_sqlite(sqlite_path(args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
