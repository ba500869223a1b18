"""National benchmarking at scale (issue 4): council, measure and provider pages on a national data set.

    .venv/bin/python bench/benchmark_bench.py [--postgres postgres://postgres@127.0.0.1:5432] [--repeat 30]
                                              [--measures 1000] [--contracts 2000000] [--keep] [--reuse]

1. Makes its own PostgreSQL database ``commissioner_benchbench`` on the server given (dropped and made
   again; dropped at the end unless ``--keep``); ``migrate`` builds the schema. National scale is a
   PostgreSQL matter (architecture.md, "Scale"): there is no SQLite mode.
2. Generates, server-side with set-based SQL (``INSERT ... SELECT`` from ``generate_series``, every
   pseudo-random number a hash of the row's index and a fixed seed, ``hashint8extended``: the same data
   on every run), a clearly synthetic national data set: 350 councils ("Synthetic ... Council NNN", with
   realistic authority types and the 9 English regions, GSS-like codes E06/E07/E08/E09/E10 9xxxxx),
   ``--measures`` measures (``SYN0001`` ..., mixed polarity including context measures, ``synthetic``)
   with a value for every council and year 2013-14 ... 2022-23 (about 3% missing, stored as null; a
   tenth of the measures have no district rows), a few councils' imported peer groups, ``--contracts``
   contracts spread over the 350 buyers and 45 CPV divisions, held by about 4,000 synthetic providers (each
   holding contracts with most councils), 5 KPIs on every fifth contract with 10 quarterly returns each
   (20 million returns at the default size) classified as ``methods.performance.classify`` does, and
   Procurement Act assessments with ratings. Every KPI, return, assessment and measure is
   ``synthetic=True``; every name says "Synthetic". Secondary indexes and constraints of the big tables
   are dropped before loading and made again after (as a bulk load would), then ``VACUUM ANALYZE``; then
   the summary tables are built: ``benchmarking.summary.rebuild_positions()`` (national, type and region
   positions of every council in each measure's latest period) and, where it exists,
   ``benchmarking.providers.rebuild_summaries()`` (provider results per contract).
3. Times, through ``django.test.Client`` (signed in as a commissioner of the council timed, and anonymously
   where the page is public), with a bare Django view (``HttpResponse("ok")`` at /bench-bare/, through the
   same middleware) as the anchor measured in the same run: the council summary page (national and
   same-type peers) and its API; a measure page with the council's peer group (national and same type) and
   its API; the provider cross-council page, the CPV category ranking and their API endpoints (if their
   URLs exist); computed nearest neighbours on 40 measures x 350 councils, called directly
   (``queries.computed_neighbours``) and through the API. One warm-up request each, then ``--repeat``
   interleaved rounds; p50 and p95 are nearest-rank percentiles.
4. Counts each page's queries and SQL time (one more request), and profiles (cProfile) any page that
   misses its target. Prints the table: page, p50, p95, target, PASS/FAIL, p95 / bare p95, queries,
   SQL ms, KB. Exit code 0 when every page meets its target.

Targets (issue 4): pages and API p95 under 150 ms; nearest neighbours under 50 ms.

``--reuse`` times a database kept by an earlier ``--keep`` run (migrating it, and building the
positions summary if it is empty) without generating it again.
"""

import argparse
import cProfile
import os
import platform
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pagetiming import BARE_URL, cpu_model, install_urlconf, percentile

ROOT = Path(__file__).resolve().parent.parent
PG_DBNAME = "commissioner_benchbench"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
SEED = 20261125
PAGE_TARGET_MS = 150
NEIGHBOURS_TARGET_MS = 50
N_COUNCILS = 350
N_NEIGHBOUR_MEASURES = 40
PERIODS = [(2013 + i, f"{2013 + i}-{(14 + i) % 100:02d}") for i in range(10)]  # 2013-14 ... 2022-23

# (la_type, la_type_name, GSS prefix, count, regions)
REGIONS = ["North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West"]
SHIRE_REGIONS = ["North West", "Yorkshire and The Humber", "East Midlands", "West Midlands", "East of England",
                 "South East", "South West"]
COUNCIL_TYPES = [
    ("CTY", "County council", "E10", 24, SHIRE_REGIONS),
    ("NMD", "Non-metropolitan district", "E07", 181, SHIRE_REGIONS),
    ("UTA", "Unitary authority", "E06", 69, [r for r in REGIONS if r != "London"]),
    ("MD", "Metropolitan district", "E08", 40, ["North East", "North West", "Yorkshire and The Humber",
                                                  "West Midlands"]),
    ("LBO", "London borough", "E09", 36, ["London"]),
]
assert sum(t[3] for t in COUNCIL_TYPES) == N_COUNCILS

CPV_DIVISIONS = [
    ("03", "goods", "Agricultural, farming, fishing, forestry and related products"),
    ("09", "goods", "Petroleum products, fuel, electricity and other sources of energy"),
    ("14", "goods", "Mining, basic metals and related products"), ("15", "goods", "Food, beverages, tobacco"),
    ("16", "goods", "Agricultural machinery"), ("18", "goods", "Clothing, footwear, luggage articles"),
    ("19", "goods", "Leather and textile fabrics, plastic and rubber materials"),
    ("22", "goods", "Printed matter and related products"), ("24", "goods", "Chemical products"),
    ("30", "goods", "Office and computing machinery"), ("31", "goods", "Electrical machinery and apparatus"),
    ("32", "goods", "Radio, television, communication equipment"),
    ("33", "goods", "Medical equipments, pharmaceuticals and personal care products"),
    ("34", "goods", "Transport equipment and auxiliary products to transportation"),
    ("35", "goods", "Security, fire-fighting, police and defence equipment"),
    ("37", "goods", "Musical instruments, sport goods, games, toys"),
    ("38", "goods", "Laboratory, optical and precision equipments"),
    ("39", "goods", "Furniture, furnishings, domestic appliances and cleaning products"),
    ("41", "goods", "Collected and purified water"), ("42", "goods", "Industrial machinery"),
    ("43", "goods", "Machinery for mining, quarrying, construction equipment"),
    ("44", "goods", "Construction structures and materials"), ("45", "works", "Construction work"),
    ("48", "goods", "Software package and information systems"),
    ("50", "services", "Repair and maintenance services"),
    ("51", "services", "Installation services (except software)"),
    ("55", "services", "Hotel, restaurant and retail trade services"), ("60", "services", "Transport services"),
    ("63", "services", "Supporting and auxiliary transport services"),
    ("64", "services", "Postal and telecommunications services"), ("65", "services", "Public utilities"),
    ("66", "services", "Financial and insurance services"), ("70", "services", "Real estate services"),
    ("71", "services", "Architectural, construction, engineering and inspection services"),
    ("72", "services", "IT services"), ("73", "services", "Research and development services"),
    ("75", "services", "Administration, defence and social security services"),
    ("76", "services", "Services related to the oil and gas industry"),
    ("77", "services", "Agricultural, forestry, horticultural, aquacultural and apicultural services"),
    ("79", "services", "Business services: law, marketing, consulting, recruitment, printing and security"),
    ("80", "services", "Education and training services"), ("85", "services", "Health and social work services"),
    ("90", "services", "Sewage, refuse, cleaning and environmental services"),
    ("92", "services", "Recreational, cultural and sporting services"),
    ("98", "services", "Other community, social and personal services"),
]
PROVIDERS_PER_DIVISION = 89  # 45 x 89 = 4,005 providers
# Unit-cost KPIs (the category ranking compares them): division -> (unit, price)
UNIT_COSTS = {"85": ("£ per hour", 22.5), "90": ("£ per tonne", 95.0), "60": ("£ per journey", 18.0),
              "55": ("£ per meal", 4.8), "80": ("£ per learner hour", 12.0)}
# (name, unit, target, direction, tolerance, spread of results as a share of the target)
KPI_TEMPLATES = [
    ("Synthetic: visits delivered on time", "%", 95, "higher", 2, 0.06),
    ("Synthetic: service users satisfied", "%", 85, "higher", 5, 0.10),
    ("Synthetic: days to respond to a referral", "days", 5, "lower", 1, 0.35),
    ("Synthetic: complaints upheld per 1,000 hours", "per 1,000 hours", 2, "lower", 0.5, 0.40),
    ("Synthetic: milestones delivered on schedule", "%", 90, "higher", 3, 0.08),
]
QUARTER_STARTS = ["2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-04-01", "2025-07-01",
                  "2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01"]
BIG_TABLES = ["benchmarking_measurevalue", "register_contract", "register_contractsupplier", "performance_kpi",
              "performance_kpireturn", "performance_assessment"]


# ------------------------------------------------------------------------------------------------
# Database


def pg_url(url, dbname):
    return urlunsplit(urlsplit(url)._replace(path="/" + dbname))


def pg_exec(url, sql):
    import psycopg

    with psycopg.connect(pg_url(url, "postgres"), autocommit=True) as con:
        cur = con.execute(sql)
        return cur.fetchall() if cur.description else None


# ------------------------------------------------------------------------------------------------
# Generation: set-based SQL on the server. r(k, s) is a pseudo-random number in [0, 1) from the row key k and
# a stream number s: the same on every run (hashint8extended is stable across platforms).

RAND_SQL = f"""
CREATE OR REPLACE FUNCTION bench_r(k bigint, s bigint) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(k, s + {SEED}) & 4503599627370495)::double precision / 4503599627370496.0 $$;
"""


class Loader:
    """Runs the SQL, filling every NOT NULL column the SQL does not name with the Django field's default."""

    def __init__(self, cursor):
        self.cur = cursor
        self.timings = []

    def run(self, label, sql, params=None, quiet=False):
        t = time.perf_counter()
        self.cur.execute(sql, params)
        dt = time.perf_counter() - t
        self.timings.append((label, dt, self.cur.rowcount))
        if not quiet:
            print(f"  {label}: {self.cur.rowcount:,} rows in {dt:.1f} s", flush=True)
        return self.cur.rowcount

    def insert(self, label, model, columns: dict, from_sql, params=None):
        """INSERT INTO model's table (columns..., defaults...) SELECT exprs..., defaults... FROM ..."""
        from django.db import connection
        from django.db.models.fields import NOT_PROVIDED

        names, exprs, extra = list(columns), list(columns.values()), []
        for f in model._meta.concrete_fields:
            if f.primary_key or f.column in columns:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                names.append(f.column)
                exprs.append("now()")
            elif not f.null:
                if f.default is NOT_PROVIDED and not f.blank:
                    raise RuntimeError(f"{model.__name__}.{f.name} is NOT NULL with no default: name it")
                names.append(f.column)
                exprs.append("%s")
                extra.append(f.get_db_prep_save(f.get_default(), connection))
        sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(exprs)} {from_sql}")
        # the defaults' placeholders come first in the SELECT list, before any in from_sql
        n_extra = len(extra)
        return self.run(label, sql, (extra if n_extra else []) + list(params or []))


def drop_secondary(cur, tables):
    """Drop the tables' foreign keys, unique constraints and secondary indexes; return the SQL to remake them."""
    cur.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE contype IN ('f', 'u') AND conrelid::regclass::text = ANY(%s)""", [tables])
    constraints = cur.fetchall()
    for table, name, _ in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute("""SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)
                   AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')""", [tables])
    indexes = cur.fetchall()
    for _, name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    # indexes first (a foreign key wants its referenced unique index), then constraints, unique before foreign
    order = sorted(constraints, key=lambda c: not c[2].startswith("UNIQUE"))
    return ([(f"index {n}", d) for _, n, d in indexes]
            + [(f"constraint {n}", f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}') for t, n, d in order])


def generate(args):
    from django.db import connection, transaction

    from commissioner.benchmarking.models import ImportRun, Measure, MeasureValue, PeerGroup
    from commissioner.orgs.models import Organisation
    from commissioner.performance.models import Assessment, Kpi, KpiReturn
    from commissioner.register.models import Contract, ContractSupplier, Provider, Supplier

    counts = {}
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        cur.execute(RAND_SQL)
        load = Loader(cur)
        remake = drop_secondary(cur, BIG_TABLES)

        # Councils: 350, by type and region, round robin over the type's regions.
        rows = []
        for la_type, type_name, prefix, count, regions in COUNCIL_TYPES:
            word = {"CTY": "County", "NMD": "District", "UTA": "Unitary", "MD": "Metropolitan Borough",
                    "LBO": "London Borough"}[la_type]
            for i in range(1, count + 1):
                rows.append(Organisation(
                    name=f"Synthetic {word} Council {i:03d}", slug=f"synthetic-{la_type.lower()}-{i:03d}",
                    kind=Organisation.Kind.COUNCIL, la_code=f"Z{la_type[0]}{i:03d}",
                    gss_code=f"{prefix}9{i:05d}", la_type=la_type, la_type_name=type_name,
                    region=regions[(i - 1) % len(regions)], nation="England",
                    population=int(20_000 + (i * 7919 % 97) * 12_000)))
        with transaction.atomic():
            orgs = Organisation.objects.bulk_create(rows)
        counts["councils"] = len(orgs)

        # Measures: mixed polarity (45% higher, 40% lower, 15% context), some of them county-level only.
        polarities = ["higher"] * 9 + ["lower"] * 8 + ["none"] * 3
        units = ["%", "per 100,000 population", "£ per head", "days", "rate per 1,000", "number"]
        with transaction.atomic():
            measures = Measure.objects.bulk_create([Measure(
                code=f"SYN{i:04d}", name=f"Synthetic measure {i:04d}", unit=units[i % len(units)],
                definition="Synthetic: made up by bench/benchmark_bench.py, not a real measure.",
                polarity=polarities[(i * 7) % len(polarities)], source="Synthetic (bench/benchmark_bench.py)",
                licence="Synthetic data, no licence needed", synthetic=True)
                for i in range(1, args.measures + 1)], batch_size=2000)
            run = ImportRun.objects.create(kind="synthetic", label="Synthetic national data set (benchmark)")
        counts["measures"] = len(measures)

        # Values: every measure x council x year; a tenth of the measures have no district rows; ~3% null.
        # value = scale x (1 + council effect + measure trend x year + noise), rounded to 2 places.
        period_values = ", ".join(f"({y}, '{p}')" for y, p in PERIODS)
        load.insert("measure values", MeasureValue, {
            "measure_id": "m.id", "organisation_id": "o.id", "period": "p.label", "period_sort": "p.y",
            "value": """CASE WHEN bench_r(m.id * 100000000 + o.id * 100 + (p.y - 2000), 1) < 0.03 THEN NULL ELSE
                round((m.scale * (1 + 0.35 * (bench_r(m.id * 1000 + o.id, 2) - 0.5)
                       + m.trend * (p.y - 2013) + 0.08 * (bench_r(m.id * 100000000 + o.id * 100 + (p.y - 2000), 3)
                       - 0.5)))::numeric, 2) END""",
            "note": """CASE WHEN bench_r(m.id * 100000000 + o.id * 100 + (p.y - 2000), 1) < 0.03
                       THEN 'synthetic missing value' ELSE '' END""",
            "import_run_id": str(run.pk),
        }, f"""FROM (SELECT id, 10 + 990 * bench_r(id, 4) AS scale, 0.03 * (bench_r(id, 5) - 0.5) AS trend,
                           bench_r(id, 6) < 0.1 AS county_level FROM {Measure._meta.db_table}) m
              CROSS JOIN {Organisation._meta.db_table} o
              CROSS JOIN (VALUES {period_values}) AS p(y, label)
              WHERE NOT (m.county_level AND o.la_type = 'NMD')
              ORDER BY m.id, p.y, o.id""")
        counts["measure values"] = MeasureValue.objects.count()

        # Peer groups: five councils' imported nearest-neighbour lists (15 councils of the same type).
        with transaction.atomic():
            by_type = {}
            for o in orgs:
                by_type.setdefault(o.la_type, []).append(o)
            for la_type, members in by_type.items():
                owner = members[0]
                group = PeerGroup.objects.create(name="Synthetic nearest neighbours", kind=PeerGroup.Kind.IMPORTED,
                                                 owner=owner, source="Synthetic (bench/benchmark_bench.py)")
                group.members.set(members[1:16])
        counts["peer groups"] = PeerGroup.objects.count()

        # Providers and their supplier identities: 89 per CPV division.
        n_providers = len(CPV_DIVISIONS) * PROVIDERS_PER_DIVISION
        load.insert("providers", Provider, {
            "name": "'Synthetic Provider ' || lpad(g::text, 4, '0') || ' Ltd'",
            "name_key": "'synthetic provider ' || lpad(g::text, 4, '0')",
            "supplier_type": "(ARRAY['large', 'sme', 'vcse', 'sme', 'large', 'sme'])[1 + g %% 6]",
            "scale": "CASE WHEN g %% 3 = 0 THEN 'large' ELSE 'sme' END",
        }, f"FROM generate_series(1, {n_providers}) g ORDER BY g")
        load.insert("suppliers", Supplier, {
            "key": "'bench-synthetic-supplier-' || p.id", "name": "p.name", "provider_id": "p.id",
            "scheme": "'synthetic'", "identifier": "p.id::text", "match": "'new'",
        }, f"FROM {Provider._meta.db_table} p ORDER BY p.id")

        # Contracts: buyer uniform over the councils, division uniform over 45, provider within the division
        # skewed (the first few hold most), value log-uniform £10k-£20m, started 2018-2026, 1-5 years.
        divisions = ", ".join(f"({i}, '{d}', '{cat}', '{name.replace(chr(39), chr(39) * 2)}')"
                              for i, (d, cat, name) in enumerate(CPV_DIVISIONS))
        cur.execute(f"CREATE TEMP TABLE bench_div (i int, d text, cat text, name text); "
                    f"INSERT INTO bench_div VALUES {divisions}")
        cur.execute(f"CREATE TEMP TABLE bench_org AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, name "
                    f"FROM {Organisation._meta.db_table} WHERE slug LIKE 'synthetic-%%'")
        cur.execute(f"CREATE TEMP TABLE bench_sup AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id "
                    f"FROM {Supplier._meta.db_table} WHERE key LIKE 'bench-synthetic-supplier-%%'")
        cur.execute("CREATE UNIQUE INDEX ON bench_org (i); CREATE UNIQUE INDEX ON bench_sup (i); ANALYZE bench_org, "
                    "bench_sup, bench_div")
        load.insert("contracts", Contract, {
            "ocid": "'bench-synthetic-' || lpad(g.n::text, 7, '0')", "owner_id": "o.id", "buyer_id": "o.id",
            "buyer_name": "o.name",
            "title": "'Synthetic contract ' || lpad(g.n::text, 7, '0') || ': ' || lower(dv.name)",
            "description": "'Synthetic: made up by bench/benchmark_bench.py, not a real contract.'",
            "reference": "'SYN-' || g.n", "status": "'contract'", "main_category": "dv.cat",
            "cpv": "dv.d || '000000'", "cpv_description": "dv.name", "cpv_division": "dv.d",
            "award_value": "g.value", "value": "g.value", "start_date": "g.start",
            "end_date": "g.start + (365 + floor(bench_r(g.n, 13) * 1460))::int",
            "published": "g.start::timestamptz", "source": "'register'",
            "search_text": "lower('Synthetic contract ' || lpad(g.n::text, 7, '0') || ': ' || dv.name)",
            "release_count": "0",
        }, f"""FROM (SELECT n, floor(bench_r(n, 10) * {N_COUNCILS})::int AS oi,
                            floor(bench_r(n, 11) * {len(CPV_DIVISIONS)})::int AS di,
                            round(exp(ln(10000) + bench_r(n, 12) * (ln(20000000) - ln(10000)))::numeric, 2) AS value,
                            (date '2018-01-01' + floor(bench_r(n, 14) * 3100)::int) AS start
                     FROM generate_series(1, {args.contracts}) n) g
              JOIN bench_org o ON o.i = g.oi JOIN bench_div dv ON dv.i = g.di ORDER BY g.n""")
        counts["contracts"] = args.contracts
        load.insert("contract suppliers", ContractSupplier, {
            "contract_id": "c.id", "supplier_id": "s.id", "award_id": "c.ocid || '-award'", "value": "c.value",
        }, f"""FROM {Contract._meta.db_table} c
              JOIN bench_div dv ON dv.d = c.cpv_division
              JOIN bench_sup s ON s.i = dv.i * {PROVIDERS_PER_DIVISION}
                                        + floor({PROVIDERS_PER_DIVISION} * power(bench_r(c.id, 15), 2))::int
              WHERE c.ocid LIKE 'bench-synthetic-%%' ORDER BY c.id""")
        load.run("provider totals", f"""
            UPDATE {Provider._meta.db_table} p SET contract_count = t.n, total_value = t.v
            FROM (SELECT s.provider_id, count(*) AS n, sum(cs.value) AS v FROM {ContractSupplier._meta.db_table} cs
                  JOIN {Supplier._meta.db_table} s ON s.id = cs.supplier_id GROUP BY s.provider_id) t
            WHERE t.provider_id = p.id""")

        # KPIs: 5 on every fifth contract; in the unit-cost divisions the fifth is the unit cost.
        templates = ", ".join(f"({j}, '{n}', '{u}', {t}, '{d}', {tol}, {s})"
                              for j, (n, u, t, d, tol, s) in enumerate(KPI_TEMPLATES, 1))
        costs = ", ".join(f"('{d}', '{u}', {p})" for d, (u, p) in UNIT_COSTS.items())
        cur.execute(f"CREATE TEMP TABLE bench_tpl (j int, name text, unit text, target numeric, direction text, "
                    f"tolerance numeric, spread float8); INSERT INTO bench_tpl VALUES {templates}; "
                    f"CREATE TEMP TABLE bench_cost (d text, unit text, price numeric); INSERT INTO bench_cost VALUES {costs}")
        load.insert("KPIs", Kpi, {
            "contract_id": "c.id",
            "name": "CASE WHEN t.j = 5 AND uc.d IS NOT NULL THEN 'Synthetic: cost (' || uc.unit || ')' ELSE t.name END",
            "unit": "CASE WHEN t.j = 5 AND uc.d IS NOT NULL THEN uc.unit ELSE t.unit END",
            "target": """CASE WHEN t.j = 5 AND uc.d IS NOT NULL
                          THEN round(uc.price * (0.85 + 0.35 * bench_r(c.id * 10 + t.j, 20))::numeric, 2)
                          WHEN t.unit = '%%' THEN t.target
                          ELSE round(t.target * (0.95 + 0.1 * bench_r(c.id * 10 + t.j, 20))::numeric, 2) END""",
            "direction": "CASE WHEN t.j = 5 AND uc.d IS NOT NULL THEN 'lower' ELSE t.direction END",
            "tolerance": """CASE WHEN t.j = 5 AND uc.d IS NOT NULL THEN round(uc.price * 0.03, 2)
                             ELSE t.tolerance END""",
            "frequency": "'quarterly'", "weight": "CASE WHEN bench_r(c.id * 10 + t.j, 21) < 0.25 THEN 2 ELSE 1 END",
            "is_act_kpi": "t.j <= 3 AND c.value > 5000000", "is_active": "bench_r(c.id * 10 + t.j, 22) >= 0.01",
            "synthetic": "true",
            "definition": "'Synthetic KPI made by the benchmark generator, not a real measure.'",
        }, f"""FROM {Contract._meta.db_table} c CROSS JOIN bench_tpl t LEFT JOIN bench_cost uc ON uc.d = c.cpv_division
              WHERE c.ocid LIKE 'bench-synthetic-%%' AND c.id %% 5 = 0 ORDER BY c.id, t.j""")
        counts["KPIs"] = Kpi.objects.count()

        # Returns: 10 quarters per KPI; each KPI has a quality (70% on target, 20% borderline, 10% failing and
        # drifting); the classification is methods.performance.classify's, in SQL.
        quarters = ", ".join(f"({q}, date '{d}')" for q, d in enumerate(QUARTER_STARTS))
        load.insert("KPI returns", KpiReturn, {
            "kpi_id": "x.kpi_id", "period_start": "x.ps",
            "period_end": "(x.ps + interval '3 months' - interval '1 day')::date", "value": "x.value",
            "classification": """CASE WHEN x.shortfall <= 0 THEN 'met' WHEN x.shortfall <= x.tolerance THEN 'slightlyBelow'
                                  WHEN x.shortfall <= greatest(2 * x.tolerance, abs(x.target) / 10) THEN 'below'
                                  ELSE 'significantlyBelow' END""",
            "evidence": "CASE WHEN bench_r(x.kpi_id * 16 + x.q, 33) < 0.5 THEN 'Synthetic return' ELSE '' END",
            "source": "'generated'", "synthetic": "true", "is_current": "true",
        }, f"""FROM (SELECT y.*, CASE WHEN y.direction = 'higher' THEN y.target - y.value ELSE y.value - y.target END
                              AS shortfall
                     FROM (SELECT k.id AS kpi_id, qs.q, qs.ps, k.target, k.tolerance, k.direction,
                                  round(greatest(0, CASE WHEN k.unit = '%%' THEN least(100, v.x) ELSE v.x END)::numeric,
                                        2) AS value
                           FROM (SELECT kk.id, kk.unit, kk.target, kk.tolerance, kk.direction,
                                        CASE WHEN kk.name LIKE 'Synthetic: cost%%' THEN 0.08
                                             ELSE coalesce(t.spread, 0.1) END AS spread,
                                        CASE WHEN bench_r(kk.id, 30) < 0.7 THEN 0.02
                                             WHEN bench_r(kk.id, 30) < 0.9 THEN -0.02 ELSE -0.12 END AS quality
                                 FROM {Kpi._meta.db_table} kk LEFT JOIN bench_tpl t ON t.name = kk.name) k
                           CROSS JOIN (VALUES {quarters}) AS qs(q, ps)
                           CROSS JOIN LATERAL (SELECT k.target::float8 * (1
                                     + CASE WHEN k.direction = 'higher' THEN 1 ELSE -1 END
                                       * (k.quality + CASE WHEN k.quality < -0.1 THEN -0.01 * qs.q ELSE 0 END)
                                     + k.spread * (bench_r(k.id * 16 + qs.q, 31) + bench_r(k.id * 16 + qs.q, 32)
                                                   + bench_r(k.id * 16 + qs.q, 34) - 1.5) * 0.67) AS x) v) y) x
              ORDER BY x.kpi_id, x.q""")
        counts["KPI returns"] = args.contracts // 5 * len(KPI_TEMPLATES) * len(QUARTER_STARTS)

        # Assessments: 70% of the contracts with KPIs are assessed for 2024-25, half of those for 2025-26 too.
        ratings = "(ARRAY['good', 'good', 'good', 'good', 'approaching', 'approaching', 'requires_improvement', " \
                  "'requires_improvement', 'inadequate', 'good'])[1 + floor(bench_r(c.id * 4 + y.i, 41) * 10)::int]"
        load.insert("assessments", Assessment, {
            "contract_id": "c.id", "period_start": "y.ps", "period_end": "(y.ps + interval '1 year' - interval '1 day')::date",
            "proposed_rating": ratings, "rating": ratings,
            "proposed_score": "round((1 + 2 * bench_r(c.id * 4 + y.i, 42))::numeric, 2)",
            "explanation": "'Synthetic assessment made by the benchmark generator.'",
            "assessed_on": "(y.ps + interval '1 year' + interval '60 days')::date", "is_current": "true",
            "synthetic": "true", "kpi_results": "'[]'::jsonb",
        }, f"""FROM {Contract._meta.db_table} c CROSS JOIN (VALUES (0, date '2024-04-01'), (1, date '2025-04-01')) AS y(i, ps)
              WHERE c.ocid LIKE 'bench-synthetic-%%' AND c.id %% 5 = 0 AND bench_r(c.id, 40) < 0.7
                AND (y.i = 0 OR bench_r(c.id, 43) < 0.5) ORDER BY c.id, y.i""")
        counts["assessments"] = Assessment.objects.count()

        t = time.perf_counter()
        for label, sql in remake:
            load.run(label, sql, quiet=True)
        slowest = sorted(load.timings[-len(remake):], key=lambda x: -x[1])[:3]
        print(f"  {len(remake)} secondary indexes and constraints made again in {time.perf_counter() - t:.1f} s "
              f"(slowest: {', '.join(f'{n} {dt:.0f} s' for n, dt, _ in slowest)})", flush=True)
        cur.execute("DROP FUNCTION bench_r(bigint, bigint)")
    return counts, load.timings


def vacuum_analyze():
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    t = time.perf_counter()
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                         port=settings["PORT"] or 5432, password=settings["PASSWORD"] or None, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    return time.perf_counter() - t


def build_summaries():
    """The summary tables the pages read, as after an import: positions, then provider results."""
    from django.db import connection

    out = []
    from commissioner.benchmarking import summary

    t = time.perf_counter()
    n = summary.rebuild_positions()
    out.append(("benchmarking.summary.rebuild_positions()", time.perf_counter() - t, n))
    try:
        from commissioner.benchmarking.providers import rebuild_summaries
    except ImportError:
        rebuild_summaries = None
    if rebuild_summaries is not None:
        t = time.perf_counter()
        n = rebuild_summaries()
        out.append(("benchmarking.providers.rebuild_summaries()", time.perf_counter() - t, n))
    connection.close()
    t = time.perf_counter()
    vacuum_analyze()  # as autovacuum would soon after: the timings should not meet it
    out.append(("VACUUM ANALYZE", time.perf_counter() - t, 0))
    for label, dt, n in out:
        print(f"  {label}: {n:,} rows in {dt:.1f} s", flush=True)
    return out


def vacuum_values():
    """VACUUM ANALYZE the values: index-only scans on the covering indexes of ``MeasureValue`` (a council's
    series; one period's values of a few measures) need the visibility map."""
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        if connection.get_autocommit():
            cur.execute("VACUUM ANALYZE benchmarking_measurevalue")
    print(f"  values vacuumed and analysed ({time.perf_counter() - t:.1f} s)", flush=True)


# ------------------------------------------------------------------------------------------------
# Timing


def resolves(url):
    from django.urls import Resolver404, resolve

    try:
        resolve(url.split("?")[0])
        return True
    except Resolver404:
        return False


def profile_lines(call, top=14):
    prof = cProfile.Profile()
    prof.enable()
    call()
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append((tottime, cumtime, ncalls, f"{Path(filename).name}:{line} {func}", filename))
    total = sum(r[0] for r in rows)
    fmt = "      {:>6.0f}ms {:>6.0f}ms {:>9}  {}".format
    out = [f"    cProfile of one request: {total * 1000:.0f} ms with the profiler's overhead",
           f"    the project's functions by cumulative time:\n      {'tottime':>8} {'cumtime':>8} {'calls':>9}  function"]
    ours = sorted((r for r in rows if "/commissioner/" in r[4]), key=lambda r: r[1], reverse=True)
    out += [fmt(t * 1000, c * 1000, n, name) for t, c, n, name, _ in ours[:10]]
    out.append(f"    every function by own time:\n      {'tottime':>8} {'cumtime':>8} {'calls':>9}  function")
    out += [fmt(t * 1000, c * 1000, n, name) for t, c, n, name, _ in sorted(rows, reverse=True)[:top]]
    return out


def pick_subjects():
    """The council, measure, provider and category timed, chosen by rule from the data."""
    from django.db.models import Count

    from commissioner.benchmarking.models import Measure
    from commissioner.orgs.models import Organisation
    from commissioner.register.models import Contract, Provider

    org = Organisation.objects.get(slug="synthetic-nmd-001")
    measure = Measure.objects.get(code="SYN0002")
    codes = list(Measure.objects.filter(code__startswith="SYN", polarity__in=["higher", "lower"],
                                        values__organisation=org, values__period="2022-23")
                 .order_by("code").values_list("code", flat=True)[:N_NEIGHBOUR_MEASURES])
    provider = Provider.objects.filter(name__startswith="Synthetic Provider").order_by("-contract_count", "pk").first()
    n_buyers = (Contract.objects.filter(contract_suppliers__supplier__provider=provider)
                .aggregate(n=Count("buyer", distinct=True))["n"]) if provider else 0
    return org, measure, codes, provider, n_buyers


def run_pages(args, user):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from commissioner.benchmarking import queries

    org, measure, codes, provider, n_buyers = pick_subjects()
    print(f"council {org.name} ({org.la_type_name}, {org.region}); measure {measure.code} ({measure.polarity}); "
          f"provider {provider.name if provider else '-'} (pk {provider.pk if provider else '-'}, "
          f"{provider.contract_count if provider else 0:,} contracts with {n_buyers} councils); category 85",
          flush=True)
    signed_in, anonymous = Client(), Client()
    signed_in.force_login(user)
    s, m = org.slug, measure.code
    neighbours_q = ",".join(codes)
    pages = [
        ("bare Django view (anchor)", signed_in, BARE_URL, None),
        ("council page, national", signed_in, f"/benchmarking/councils/{s}/", PAGE_TARGET_MS),
        ("council page, same type", signed_in, f"/benchmarking/councils/{s}/?peer=type", PAGE_TARGET_MS),
        ("council page, anonymous", anonymous, f"/benchmarking/councils/{s}/", PAGE_TARGET_MS),
        ("council API, national", signed_in, f"/api/v1/benchmarking/councils/{s}", PAGE_TARGET_MS),
        ("council API, same type", signed_in, f"/api/v1/benchmarking/councils/{s}?peer=type", PAGE_TARGET_MS),
        ("measure page, national", signed_in, f"/benchmarking/measures/{m}/?org={s}", PAGE_TARGET_MS),
        ("measure page, same type", signed_in, f"/benchmarking/measures/{m}/?org={s}&peer=type", PAGE_TARGET_MS),
        ("measure page, anonymous", anonymous, f"/benchmarking/measures/{m}/?org={s}", PAGE_TARGET_MS),
        ("measure API, same type", signed_in, f"/api/v1/benchmarking/measures/{m}?org={s}&peer=type",
         PAGE_TARGET_MS),
        ("neighbours API, 40 measures", signed_in,
         f"/api/v1/benchmarking/councils/{s}/neighbours?measures={neighbours_q}", NEIGHBOURS_TARGET_MS),
    ]
    missing = []
    if provider is not None:
        for name, url in [("provider page", f"/benchmarking/providers/{provider.pk}/"),
                          ("provider API", f"/api/v1/benchmarking/providers/{provider.pk}"),
                          ("category page (CPV 85)", "/benchmarking/categories/85/"),
                          ("category API (CPV 85)", "/api/v1/benchmarking/categories/85")]:
            if resolves(url):
                pages.append((name, signed_in, url, PAGE_TARGET_MS))
            else:
                missing.append(f"{name} ({url})")
    if missing:
        print("not timed, their URLs do not exist yet: " + "; ".join(missing))

    def get(client, url):
        t = time.perf_counter()
        response = client.get(url)
        dt = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
        return dt, response

    def direct():
        return queries.computed_neighbours(org, codes, limit=15)

    direct_name = f"computed_neighbours() direct, {len(codes)}x{N_COUNCILS}"
    print(f"timing {len(pages) + 1} items: 1 warm-up + {args.repeat} rounds, interleaved", flush=True)
    sizes, broken = {}, []
    for name, client, url, target in list(pages):
        try:
            _, response = get(client, url)
        except (Exception, SystemExit) as e:  # noqa: BLE001  another engineer's page still being built: say so, time the rest
            broken.append(f"{name} ({url}): {type(e).__name__}: {str(e)[:300]}")
            pages.remove((name, client, url, target))
            continue
        sizes[name] = len(response.content)
    for line in broken:
        print(f"NOT TIMED, it fails: {line}")
    missing += broken
    found = direct()
    sizes[direct_name] = 0
    times = {name: [] for name, *_ in pages}
    times[direct_name] = []
    import gc

    pauses, started = [], []

    def gc_timer(phase, info):  # the collector's full passes during the timed rounds, to tell them from load
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif info["generation"] == 2 and started:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(gc_timer)
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        for name, client, url, _ in pages:
            times[name].append(get(client, url)[0])
        t = time.perf_counter()
        direct()
        times[direct_name].append((time.perf_counter() - t) * 1000)
    timing_s = time.perf_counter() - t0
    gc.callbacks.remove(gc_timer)

    items = pages + [(direct_name, None, None, NEIGHBOURS_TARGET_MS)]
    queries_seen = {}
    for name, client, url, _ in items:
        timed = []

        def timer(execute, sql, params, many, context, timed=timed):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timed.append(((time.perf_counter() - t) * 1000, sql))

        reset_queries()
        with CaptureQueriesContext(connection), connection.execute_wrapper(timer):
            t = time.perf_counter()
            get(client, url) if client is not None else direct()
            total = (time.perf_counter() - t) * 1000
        queries_seen[name] = (len(timed), sum(ms for ms, _ in timed), total, sorted(timed, reverse=True)[:3])

    bare_p95 = percentile(times[pages[0][0]], 95)
    print()
    head = (f"{'page':<38} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'result':>6} {'p95/bare':>9} "
            f"{'queries':>8} {'SQL ms':>7} {'KB':>6}")
    print(head)
    failed, table = [], []
    for name, client, url, target in items:
        p50, p95 = percentile(times[name], 50), percentile(times[name], 95)
        n, sql_ms, _, _ = queries_seen[name]
        verdict = "" if target is None else ("PASS" if p95 < target else "FAIL")
        if verdict == "FAIL":
            failed.append((name, client, url))
        line = (f"{name:<38} {p50:>8.1f} {p95:>8.1f} {('< ' + str(target)) if target else '-':>8} {verdict:>6} "
                f"{p95 / bare_p95:>8.0f}x {n:>8} {sql_ms:>7.1f} {sizes[name] / 1024:>6.0f}")
        print(line)
        table.append((name, p50, p95, target, verdict, p95 / bare_p95, n, sql_ms, sizes[name]))
    print(f"(p50/p95 over {args.repeat} requests each, in {timing_s:.0f} s; queries and SQL ms from one more "
          "request; KB: the response body)")
    print(f"nearest neighbours: {found.compared} councils compared on {len(found.measures)} measures, "
          f"{len(found.neighbours)} kept")
    print(f"full garbage collections during the timed rounds: {len(pauses)}"
          + (f", {sum(pauses):.0f} ms in all, the longest {max(pauses):.0f} ms" if pauses else ""))
    slow = sorted(times[direct_name], reverse=True)[:3]
    print(f"{direct_name}: slowest three {', '.join(f'{t:.0f}' for t in slow)} ms")

    print("\nslowest queries (one request):")
    for name, *_ in items[1:]:
        n, sql_ms, total, top = queries_seen[name]
        print(f"  {name}: {n} queries, {sql_ms:.1f} ms of SQL in {total:.0f} ms")
        for ms, sql in top[:2]:
            print(f"    {ms:7.1f} ms  {sql[:300]}{'...' if len(sql) > 300 else ''}")
    for name, client, url in failed:
        print(f"\nwhere the time goes: {name} ({url or 'direct call'})")
        print("\n".join(profile_lines((lambda c=client, u=url: c.get(u)) if client else direct)))
    return not failed, table, missing


# ------------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_PG,
                        help=f"the server (default {DEFAULT_PG}); database {PG_DBNAME} is made and dropped")
    parser.add_argument("--measures", type=int, default=1000, help="measures (default 1000)")
    parser.add_argument("--contracts", type=int, default=2_000_000,
                        help="contracts (default 2,000,000; every fifth has 5 KPIs x 10 returns)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="time a database kept by --keep, without generating")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: build the summary tables again")
    parser.add_argument("--default-gc", action="store_true",
                        help="undo commissioner.wsgi's garbage collector settings (gc.freeze(), thresholds), "
                             "to see what they save")
    args = parser.parse_args(argv)

    exists = bool(pg_exec(args.postgres, f"select 1 from pg_database where datname = '{PG_DBNAME}'"))
    fresh = not (args.reuse and exists)
    if fresh:
        pg_exec(args.postgres, f"drop database if exists {PG_DBNAME}")
        pg_exec(args.postgres, f"create database {PG_DBNAME}")
    os.environ["DATABASE_URL"] = pg_url(args.postgres, PG_DBNAME)
    os.environ["DJANGO_SETTINGS_MODULE"] = "commissioner.settings"
    os.environ.setdefault("DJANGO_DEBUG", "0")

    import gc

    import django

    import commissioner.wsgi  # noqa: F401  set up as the WSGI server is (django.setup(), then gc.freeze())

    if args.default_gc:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections

    from commissioner.orgs import services as org_services
    from commissioner.orgs.models import Organisation

    install_urlconf("benchbench_urls")
    server = connection.cursor().connection.info.server_version
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), {memory_gb():.0f} GB, Python {platform.python_version()}, "
          f"Django {django.get_version()}, PostgreSQL {server // 10000}.{server % 10000}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"database: PostgreSQL {PG_DBNAME}; process set up by commissioner.wsgi, "
          f"{'its gc settings undone (--default-gc)' if args.default_gc else 'with its gc settings'}: "
          f"gc thresholds {gc.get_threshold()}, {gc.get_freeze_count():,} objects frozen")
    ok = True
    try:
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.perf_counter() - t:.1f} s", flush=True)
        if fresh:
            t = time.perf_counter()
            counts, _ = generate(args)
            gen_s = time.perf_counter() - t
            vacuum_values()
            vac_s = vacuum_analyze()
            print(f"generated in {gen_s:.0f} s (+ VACUUM ANALYZE {vac_s:.0f} s): "
                  + ", ".join(f"{v:,} {k}" for k, v in counts.items()), flush=True)
            connections.close_all()
            t = time.perf_counter()
            build_summaries()
            print(f"summaries built in {time.perf_counter() - t:.0f} s", flush=True)
            org = Organisation.objects.get(slug="synthetic-nmd-001")
            user = org_services.create_user(username="bench-commissioner", password="synthetic-bench-password",
                                            organisation=org, role="commissioner")
        else:
            from commissioner.benchmarking import summary

            vacuum_values()
            if args.rebuild or not summary.PeerStats.objects.exists():
                build_summaries()
            user = get_user_model().objects.get(username="bench-commissioner")
            print("reusing the kept database (no generation)")
        with connection.cursor() as cur:
            cur.execute(f"SELECT pg_size_pretty(pg_database_size('{PG_DBNAME}'))")
            print(f"database size {cur.fetchone()[0]}")
        connections.close_all()
        ok, _, _ = run_pages(args, user)
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (the machine is shared; figures vary with it)")
    finally:
        connections.close_all()
        if not args.keep:
            pg_exec(args.postgres, f"drop database if exists {PG_DBNAME}")
    return 0 if ok else 1


def memory_gb():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
