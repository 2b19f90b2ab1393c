"""`python -m benchmarks [WORKLOAD ...] [--runs N] [--duration S] [--only postgresql|pgaurora]`."""

from __future__ import annotations

import argparse
import contextlib
import sys

from benchmarks import harness, report
from benchmarks.workloads import DEFAULT, WORKLOADS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("workloads", nargs="*", help=f"default: all of {', '.join(WORKLOADS)}")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    ap.add_argument("--only", choices=("postgresql", "pgaurora"))
    ap.add_argument("--bare", action="store_true", help="also run the bare asyncio SELECT 1 server")
    args = ap.parse_args(argv)
    names = args.workloads or list(DEFAULT)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}")
    summaries = []
    with contextlib.ExitStack() as stack:
        servers = []
        if args.only != "pgaurora":
            servers.append(stack.enter_context(harness.postgresql()))
        if args.only != "postgresql":
            servers.append(stack.enter_context(harness.pgaurora()))
        if args.bare:
            servers.append(stack.enter_context(harness.bare()))
        failed: list[str] = []
        for name in names:
            workload = WORKLOADS[name]
            print(f"{name}: {workload.DESCRIPTION}", flush=True)
            # the bare server answers SELECT 1 and nothing else
            usable = [s for s in servers if s.name != "bare-asyncio" or name.startswith("select1")]
            try:
                results = harness.run_workload(workload, usable, args.runs, args.duration)
            except Exception as exc:  # one workload failing (setup or run) must not lose the others
                failed.append(name)
                print(f"{name}: FAILED: {str(exc)[-1500:]}", flush=True)
                continue
            summaries.append(report.summarize(name, results))
    report.print_table(summaries)
    print(f"\nresults: {report.write(summaries)}")
    if failed:
        print(f"failed workloads: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
