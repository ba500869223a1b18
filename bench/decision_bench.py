"""Decision tools benchmark (issue 5).

    .venv/bin/python bench/decision_bench.py        (or: make bench-decision)

Part 1, ``monte_carlo_bench``: methods.appraisal.monte_carlo with 7 options x 100,000 draws (seeded; the options'
present values are synthetic, made up here), timed over several runs (best and median of wall time). The anchor,
measured in the same run, is the floor any Monte Carlo of this size pays: numpy drawing the same 14 x 100,000
triangular samples and nothing else. Target: under 1 s.

Part 2, ``spend_import_bench``: the real Trafford 2025-26 spend file (241,764 payments) imported and analysed
end to end on a fresh SQLite database; prints rows per second. Target: under 30 s.

Each part is one function called by ``main``; a part prints its figures and returns True when it meets its target.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import numpy as np

from commissioner.methods.appraisal import monte_carlo

OPTIONS, DRAWS, REPEAT, TARGET_S = 7, 100_000, 5, 1.0


def _options():
    """Seven synthetic options: likely PV of benefits and costs, with low/high ranges around them."""
    out = {}
    for i in range(OPTIONS):
        b, c = 10_000_000 + 400_000 * i, 9_000_000 + 450_000 * i
        out[f"synthetic option {i + 1}"] = {"benefits": (b * 0.7, b, b * 1.1), "costs": (c * 0.9, c, c * 1.3)}
    return out


def _time(fn):
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def monte_carlo_bench():
    options = _options()
    result = monte_carlo(options, draws=DRAWS, seed=2026)
    assert abs(sum(result["probability"].values()) - 1) < 1e-9

    def anchor():
        rng = np.random.default_rng(2026)
        for spec in options.values():
            rng.triangular(*spec["benefits"], DRAWS)
            rng.triangular(*spec["costs"], DRAWS)

    best, median = _time(lambda: monte_carlo(options, draws=DRAWS, seed=2026))
    a_best, a_median = _time(anchor)
    ok = median < TARGET_S
    print(f"Monte Carlo appraisal: {OPTIONS} options x {DRAWS:,} draws (synthetic), {REPEAT} runs")
    print(f"  best {best * 1000:.1f} ms, median {median * 1000:.1f} ms; target under {TARGET_S:.0f} s: "
          f"{'PASS' if ok else 'FAIL'}")
    print(f"  anchor (numpy triangular draws only): best {a_best * 1000:.1f} ms, median {a_median * 1000:.1f} ms; "
          f"ratio {median / a_median:.2f}x")
    print("  probability best: " + ", ".join(f"{k.split()[-1]}: {v:.3f}" for k, v in result["probability"].items()))
    return ok


SPEND_ZIP = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "council_spend" / "trafford"
             / "transparency_code" / "supplier_spend" / "trafford-supplier-spend-2025-26.zip")
SPEND_TARGET_S = 30.0


def spend_import_bench():
    """Part 2: the real Trafford 2025-26 spend file (241,764 payments, read from ../shared) imported and
    analysed end to end on a fresh SQLite database: read, decode, check every row, match payees, store in
    bulk, then every table of the council's market page. Anchor: csv.reader over the same decoded text."""
    import csv
    import io
    import os
    import tempfile
    import zipfile

    if not SPEND_ZIP.exists():
        print(f"Spend import: {SPEND_ZIP} not found, skipped")
        return True
    tmp = tempfile.mkdtemp(prefix="decision-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioner.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from commissioner.market import queries, services
    from commissioner.orgs.services import council_organisation

    council = council_organisation("TRF")
    start = time.perf_counter()
    raw = zipfile.ZipFile(SPEND_ZIP).read("trafford-supplier-spend-2025-26.csv")
    result = services.import_spend(council=council, raw=raw, name=SPEND_ZIP.name, actor_label="decision bench")
    imported = time.perf_counter()
    data = queries.analysis(None, council)
    for category in [c["category"] for c in data["categories"][:5]]:
        queries.analysis(None, council, category)
    done = time.perf_counter()
    a_start = time.perf_counter()
    rows = sum(1 for _ in csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))) - 1
    anchor = time.perf_counter() - a_start
    total = done - start
    ok = total < SPEND_TARGET_S and result.rows == rows == 241_764
    print(f"Spend import: Trafford 2025-26, {result.rows:,} payments (real, OGL), fresh SQLite database")
    print(f"  import {imported - start:.1f} s ({result.rows / (imported - start):,.0f} rows/s), analysis (all "
          f"categories + the 5 largest) {done - imported:.2f} s; end to end {total:.1f} s; "
          f"target under {SPEND_TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    print(f"  anchor (csv.reader over the decoded file only): {anchor:.2f} s; ratio {total / anchor:.1f}x")
    print(f"  {result.matched:,} payments matched to register providers (none loaded here); "
          f"{result.spend_file.redacted_count:,} to individuals, redacted")
    return ok


def main():
    ok = monte_carlo_bench()
    ok = spend_import_bench() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
