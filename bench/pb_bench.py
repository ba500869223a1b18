"""Participatory budgeting rules (issue 6): ours against pabutools on the real Warsaw 2026 city-wide file.

    .venv/bin/python bench/pb_bench.py [--file PATH] [--repeat 20] [--venv bench/out/pb-venv]

1. Makes its own virtualenv (``bench/out/pb-venv``, gitignored) with ``pabutools`` from the package index
   (pinned, see PABUTOOLS below) the first time; pabutools is never a dependency of the product.
2. In that environment, as a child process: parses the file with ``pabutools.election.parse_pabulib``, then
   times ``greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)`` (greedy by approval votes,
   skipping what does not fit) and ``method_of_equal_shares(instance, profile, sat_class=Cost_Sat)`` (Equal
   Shares with cost utilities, no completion), once each by default (they take tens of seconds).
3. In this process: parses the file with ``commissioner.methods.pabulib.load`` and times
   ``methods.pb.prepare`` + ``greedy`` and ``prepare`` + ``equal_shares(utility="cost", completion=None)``
   ``--repeat`` times each (median). Our times include ``prepare`` (building the arrays from the ballots);
   pabutools' exclude building its profile, so the ratio is conservative.
4. Checks that both give the same funded projects for both rules, prints times and ratios, PASS/FAIL
   against the target (ours at least 50x faster for both rules), and exits 1 on a mismatch or a miss.

For information it also times our Equal Shares with add1 completion (Warsaw's per-voter budget raised
step by step); pabutools' ``voter_budget_increment=1`` is not run (each step costs a full count).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commissioner.methods import pabulib
from commissioner.methods import pb as rules

PABUTOOLS = "pabutools==1.2.3"
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "pabulib" / "large" / "Poland_Warszawa_2026.pb"
DEFAULT_VENV = ROOT / "bench" / "out" / "pb-venv"
TARGET_RATIO = 50

CHILD = r"""
import json, sys, time
from importlib.metadata import version
from pabutools.election import parse_pabulib, Cost_Sat
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

path, repeat = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
instance, profile = parse_pabulib(path)
parse_s = time.perf_counter() - t
out = {"version": version("pabutools"), "parse_s": parse_s}
for name, run in (
    ("greedy", lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)),
    ("mes", lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat)),
):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    out[name] = {"times": times, "funded": sorted(p.name for p in result)}
print(json.dumps(out))
"""


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import pabutools"]
    if python.exists() and subprocess.run(check, check=False, capture_output=True).returncode == 0:
        return python
    print(f"making {venv} with {PABUTOOLS} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PABUTOOLS],
        check=True,
    )
    return python


def time_ours(pb, repeat):
    budget, costs, ballots = pb.budget, pb.costs(), pb.ballots()
    runs = {
        "greedy": lambda: rules.greedy(rules.prepare(budget, costs, ballots)),
        "mes": lambda: rules.equal_shares(rules.prepare(budget, costs, ballots), utility="cost", completion=None),
    }
    results = {}
    for name, run in runs.items():
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            outcome = run()
            times.append(time.perf_counter() - t)
        results[name] = {"times": times, "funded": sorted(outcome.funded), "outcome": outcome}
    election = rules.prepare(budget, costs, ballots)
    prepare_times = []
    for _ in range(repeat):
        t = time.perf_counter()
        rules.prepare(budget, costs, ballots)
        prepare_times.append(time.perf_counter() - t)
    results["prepare"] = {"times": prepare_times}
    t = time.perf_counter()
    add1 = rules.equal_shares(election, utility="cost", completion="add1")
    results["add1"] = {"times": [time.perf_counter() - t], "outcome": add1}
    return results


def ms(seconds):
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=20, help="runs of ours per rule (median reported)")
    parser.add_argument("--pabutools-repeat", type=int, default=1, help="runs of pabutools per rule")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"no file at {args.file}")
    python = ensure_venv(args.venv)
    print(f"file: {args.file.name}", flush=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    t = time.perf_counter()
    pb = pabulib.load(args.file)
    our_parse = time.perf_counter() - t
    print(f"ours: parsed and checked in {ms(our_parse)}: {len(pb.projects)} projects, {len(pb.votes):,} votes")
    ours = time_ours(pb, args.repeat)

    print(f"running pabutools ({PABUTOOLS}) in {args.venv} ...", flush=True)
    child = subprocess.run(
        [str(python), "-c", CHILD, str(args.file), str(args.pabutools_repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"pabutools {theirs['version']}: parsed in {ms(theirs['parse_s'])}")

    ok = True
    print()
    print("| rule | pabutools | ours (prepare + rule, median) | ratio | same outcome | target >= 50x |")
    print("|---|---:|---:|---:|---|---|")
    for name, label in (("greedy", "greedy by votes"), ("mes", "Equal Shares, cost utility")):
        their_s = statistics.median(theirs[name]["times"])
        our_s = statistics.median(ours[name]["times"])
        same = theirs[name]["funded"] == ours[name]["funded"]
        ratio = their_s / our_s
        passed = same and ratio >= TARGET_RATIO
        ok = ok and passed
        print(
            f"| {label} ({len(ours[name]['funded'])} funded) | {ms(their_s)} | {ms(our_s)} | {ratio:,.0f}x | "
            f"{'yes' if same else 'NO'} | {'PASS' if passed else 'FAIL'} |"
        )
        if not same:
            print(f"  pabutools only: {sorted(set(theirs[name]['funded']) - set(ours[name]['funded']))}")
            print(f"  ours only: {sorted(set(ours[name]['funded']) - set(theirs[name]['funded']))}")
    print()
    print(f"ours, prepare alone (median): {ms(statistics.median(ours['prepare']['times']))}")
    add1 = ours["add1"]["outcome"]
    print(
        f"ours, Equal Shares with add1 (information): {ms(ours['add1']['times'][0])}, {add1.add1_rounds} steps, "
        f"{len(add1.funded)} funded, {add1.cost:,} of {add1.budget:,} spent"
    )
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
