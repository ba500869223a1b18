"""Import benchmark: our full OCDS import against ``ocdskit compile`` on the same file.

    .venv/bin/python bench/import_bench.py [--releases 100000] [--repeat 3] [--keep]

1. Builds a deterministic, clearly synthetic release package under bench/out/: the 200 real
   Contracts Finder releases in data/samples/ copied as often as needed, each copy with new
   ocids (``<ocid>-synthetic-<copy>``) and release ids, the package's ``publisher.name`` and
   ``x_note`` saying so.
2. Times ``ocdskit compile --root-path releases.item`` on it (the patched schema is written to
   a local file and passed with ``--schema``: nothing is downloaded), output to /dev/null.
3. Times ``commissioner import ocds FILE --quiet`` into a fresh, migrated SQLite database.
   Steps 2 and 3 run ``--repeat`` times in turn (a, b, a, b, ...): on a shared machine one pair of
   runs can be several tenths apart either way, and a pair run close together in time sees the same
   conditions.
4. Prints every pair, then the medians of both wall times and of the pairs' ratios, releases per
   second and peak RSS (the highest of any run), checks that the database holds one contract per
   distinct ocid, and says PASS or FAIL against the targets: our import no slower than ocdskit (the
   median ratio <= 1.0) and under 200 MB peak RSS.

Peak RSS is sampled from /proc every 20 ms over the child's whole process tree (the sum of
the RSS of every process in it, so worker processes count), and also read from wait4()'s
ru_maxrss (largest single process); the larger of the two is reported.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SAMPLE = ROOT / "data" / "samples" / "contracts_finder" / "cf_englishdata_release_package.json"
VENV_BIN = Path(sys.executable).parent
RATIO_TARGET = 1.0
RSS_TARGET_MB = 200


def build_package(n: int, path: Path) -> int:
    """Write a release package of ``n`` synthetic releases; return the number of distinct ocids."""
    package = orjson.loads(SAMPLE.read_bytes())
    originals = package.pop("releases")
    package["publisher"] = {"name": "SYNTHETIC benchmark data (Commissioner bench/import_bench.py)"}
    package["uri"] = f"urn:commissioner:bench:synthetic:{n}"
    package["x_note"] = (
        f"SYNTHETIC: {n} releases made by copying the 200 real Contracts Finder releases of "
        "data/samples/contracts_finder/cf_englishdata_release_package.json, each copy k with ocids and "
        "release ids suffixed '-synthetic-<k>'. Not real data; for benchmarking only. Original note: "
        + package.get("x_note", ""))
    head = orjson.dumps(package)[:-1] + b',"releases":['
    ocids = 0
    with open(path, "wb") as out:
        out.write(head)
        written = 0
        copy = 0
        while written < n:
            seen = set()
            for rel in originals:
                if written >= n:
                    break
                suffix = f"-synthetic-{copy:04d}"
                rel = dict(rel, ocid=rel["ocid"] + suffix, id=str(rel["id"]) + suffix)
                seen.add(rel["ocid"])
                if written:
                    out.write(b",\n")
                out.write(orjson.dumps(rel))
                written += 1
            ocids += len(seen)
            copy += 1
        out.write(b"]}\n")
    return ocids


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree_rss_kb(root_pid: int) -> int:
    """Sum of VmRSS (kB) over ``root_pid`` and all its descendants, found through
    /proc/<pid>/task/<tid>/children (a few small reads, so that sampling does not take CPU from the
    process measured); where the kernel has no such file, by reading every process in /proc."""
    if not os.path.exists(f"/proc/{root_pid}/task/{root_pid}/children"):
        return _tree_rss_kb_scan(root_pid)
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE_KB
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError, IndexError):  # the process ended meanwhile
            continue
    return total


def _tree_rss_kb_scan(root_pid: int) -> int:
    """_tree_rss_kb by reading every process in /proc."""
    children = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            with open(f"/proc/{entry}/statm", "rb") as f:
                pages = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * PAGE_KB
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd, *, stdin=None, stdout=subprocess.DEVNULL, env=None):
    """Run ``cmd``; return (seconds, CPU seconds, peak RSS in MB, returncode, stderr text)."""
    stdin_f = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115  (closed below)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=stdin_f, stdout=stdout, stderr=subprocess.PIPE, env=env)
    peak = [0]
    done = threading.Event()
    stderr_chunks = []

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.02)

    def drain():
        stderr_chunks.append(proc.stderr.read())

    sampler = threading.Thread(target=sample, daemon=True)
    drainer = threading.Thread(target=drain, daemon=True)
    sampler.start()
    drainer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    drainer.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdin:
        stdin_f.close()
    peak_mb = max(peak[0], usage.ru_maxrss) / 1024  # ru_maxrss is in kB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # the child and the children it waited for (our worker)
    return seconds, cpu, peak_mb, proc.returncode, b"".join(stderr_chunks).decode(errors="replace")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=100_000, help="number of releases (default 100000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="pairs of runs, ocdskit then ours, one after the other (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and database")
    args = parser.parse_args(argv)
    n, repeat = args.releases, max(1, args.repeat)
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"synthetic_{n}.json"
    schema = OUT / "release-schema-patched.json"
    db = OUT / f"bench_{n}.sqlite3"

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioner.settings")
    from commissioner.ocds.schema import write_schema

    write_schema(schema)
    t = time.perf_counter()
    ocids = build_package(n, data)
    print(f"built {data.relative_to(ROOT)}: {n} releases, {ocids} ocids, "
          f"{data.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s", flush=True)

    ocdskit = shutil.which("ocdskit", path=str(VENV_BIN)) or "ocdskit"
    cmd_a = [ocdskit, "compile", "--root-path", "releases.item", "--schema", str(schema)]
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}")
    commissioner = shutil.which("commissioner", path=str(VENV_BIN)) or "commissioner"
    cmd_b = [commissioner, "import", "ocds", str(data), "--quiet"]
    print("(a) " + " ".join(cmd_a) + f" < {data.relative_to(ROOT)} > /dev/null", flush=True)
    print("(b) DATABASE_URL=sqlite:///" + str(db.relative_to(ROOT)) + " " + " ".join(cmd_b)
          + "   (into a fresh, migrated database each time)", flush=True)
    print(f"\n{'pair':>4}  {'ocdskit':>9}  {'ours':>9}  {'ratio':>6}  {'our CPU':>8}  {'our peak RSS':>12}")
    a_runs, b_runs = [], []
    for i in range(1, repeat + 1):
        # (a) ocdskit compile, then (b) our import, close together in time: each pair's ratio is measured
        # under the same conditions of the machine. Before each, the previous database is deleted and the
        # disk brought up to date (os.sync), so that neither run pays for the writing-back and discarding of
        # the 800 MB the previous import left in the page cache.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.sync()
        a = run_measured(cmd_a, stdin=data)
        if a[3] != 0:
            sys.exit(f"ocdskit compile failed ({a[3]}):\n{a[4][-3000:]}")
        subprocess.run([commissioner, "migrate", "--verbosity", "0"], env=env, check=True)
        os.sync()
        b = run_measured(cmd_b, env=env, stdout=subprocess.PIPE)
        if b[3] != 0:
            sys.exit(f"commissioner import failed ({b[3]}):\n{b[4][-3000:]}")
        a_runs.append(a)
        b_runs.append(b)
        print(f"{i:>4}  {a[0]:>7.1f} s  {b[0]:>7.1f} s  {b[0] / a[0]:>6.2f}  {b[1]:>6.1f} s  {b[2]:>9.0f} MB",
              flush=True)

    con = sqlite3.connect(db)
    contracts = con.execute("select count(*) from register_contract").fetchone()[0]
    releases = con.execute("select count(*) from ocds_release").fetchone()[0]
    with_history = con.execute("select count(*) from ocds_release where changes != '[]'").fetchone()[0]
    events = con.execute("select count(*) from orgs_auditevent").fetchone()[0]
    con.close()

    ratios = [b[0] / a[0] for a, b in zip(a_runs, b_runs, strict=True)]
    ratio = statistics.median(ratios)
    a_sec, b_sec = statistics.median(a[0] for a in a_runs), statistics.median(b[0] for b in b_runs)
    a_cpu, b_cpu = statistics.median(a[1] for a in a_runs), statistics.median(b[1] for b in b_runs)
    a_rss, b_rss = max(a[2] for a in a_runs), max(b[2] for b in b_runs)
    ok_ratio, ok_rss, ok_count = ratio <= RATIO_TARGET, b_rss < RSS_TARGET_MB, contracts == ocids and releases == n
    print()
    print(f"releases                 {n:>10,}   (distinct ocids {ocids:,})")
    print(f"ocdskit compile          {a_sec:>10.1f} s   {n / a_sec:>8,.0f} releases/s   peak RSS {a_rss:6.0f} MB"
          f"   CPU {a_cpu:.1f} s   (median of {repeat})")
    print(f"commissioner import      {b_sec:>10.1f} s   {n / b_sec:>8,.0f} releases/s   peak RSS {b_rss:6.0f} MB"
          f"   CPU {b_cpu:.1f} s   (median of {repeat})")
    print(f"ratio ours/ocdskit       {ratio:>10.2f}   (median of the pairs' ratios; "
          f"{min(ratios):.2f} to {max(ratios):.2f})")
    print(f"database                 {contracts:,} contracts, {releases:,} releases "
          f"({with_history:,} with changes), {events:,} audit events")
    print(f"speed  (ratio <= {RATIO_TARGET:.1f})     {'PASS' if ok_ratio else 'FAIL'}")
    print(f"memory (RSS < {RSS_TARGET_MB} MB)     {'PASS' if ok_rss else 'FAIL'}")
    print(f"correct (contracts == ocids, releases == {n})  {'PASS' if ok_count else 'FAIL'}")
    if not args.keep:
        data.unlink(missing_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return 0 if ok_ratio and ok_rss and ok_count else 1


if __name__ == "__main__":
    sys.exit(main())
