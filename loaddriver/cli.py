"""`elearn load`: drive the load through the gateway, then write report.pdf with the JSON and CSV beside it.

Exits 1 when any call had an unexpected outcome, a --rps run achieved less than --min-rate-ratio of its
target, or a --max-p99-ms / --min-success-rate threshold is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

from loaddriver import export, served_by, server_side
from loaddriver.compare import compare
from loaddriver.driver import GatewayUnreachable, Options, Run
from loaddriver.figures import DEFAULT_MIN_RATE_RATIO
from loaddriver.report import write_pdf
from shared.auth.tokens import user_token
from shared.settings import SettingsError, parse_shard_map, read_topology, tls_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument("--total", type=int, help="stop after this many calls (default 3000)")
    amount.add_argument("--duration", type=float, help="stop after this many seconds (after the warm-up)")
    parser.add_argument("--concurrency", type=int, default=16, help="workers (default 16)")
    parser.add_argument("--connections", type=int, default=4, help="channels shared by the workers (default 4)")
    parser.add_argument("--rps", type=float, default=0.0, help="target calls per second (default: as fast as possible)")
    parser.add_argument("--min-rate-ratio", type=float, default=DEFAULT_MIN_RATE_RATIO,
                        help="with --rps, fail when fewer than this share of the due calls went out "
                             f"(default {DEFAULT_MIN_RATE_RATIO})")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds to ramp up to --rps")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds of calls left out of the statistics")
    parser.add_argument("--deadline", type=float, default=10.0, help="deadline of each call in seconds")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="above 1: students and lesson progress written by batch calls of this many items")
    parser.add_argument("--invalid-ratio", type=float, default=0.1, help="share of deliberately invalid calls")
    parser.add_argument("--gateway", help="gateway address (default 127.0.0.1:50051, or the --data-dir cluster's)")
    parser.add_argument("--data-dir", help="a local cluster's data folder: its gateway, shard map and signing key")
    parser.add_argument("--token", help="an admin's access token (default: $ELEARN_TOKEN, else one minted from the "
                                        "--data-dir cluster's key)")
    parser.add_argument("--report", default="report.pdf", help="PDF path; the .json and .csv go beside it")
    parser.add_argument("--name", default="load", help="a name for the run")
    parser.add_argument("--tags", default="", help="comma-separated tags for the run")
    parser.add_argument("--baseline", help="an earlier run's results JSON to compare with")
    parser.add_argument("--max-p99-ms", type=float, help="fail when the overall p99 of OK calls is above this")
    parser.add_argument("--min-success-rate", type=float,
                        help="fail when the share of valid calls that succeeded is below this (0 to 1)")


def _cluster(args) -> tuple[str, dict[str, list[str]], dict]:
    env = dict(os.environ)
    gateway = args.gateway
    if args.data_dir:
        data_dir = pathlib.Path(args.data_dir)
        env["ELEARN_CONFIG"] = str(data_dir / "topology.json")
        if gateway is None and (data_dir / "cluster.json").exists():
            gateway = f"127.0.0.1:{json.loads((data_dir / 'cluster.json').read_text())['ports']['gateway']}"
    topology = read_topology(env)
    shard_map = parse_shard_map(topology)
    return gateway or "127.0.0.1:50051", {s.name: list(s.regions) for s in shard_map.shards}, topology


def _token(args) -> str | None:
    """--token, else $ELEARN_TOKEN, else an operator's admin token from the data folder's key."""
    explicit = args.token or os.environ.get("ELEARN_TOKEN")
    if explicit or not args.data_dir:
        return explicit
    auth_dir = pathlib.Path(args.data_dir).resolve() / "auth"
    if not (auth_dir / "jwks.json").exists():
        return None
    return user_token(auth_dir, 0, "ADMIN", ttl_s=12 * 3600)


def _validate(args, parser_error) -> None:
    if args.concurrency < 1 or args.connections < 1:
        parser_error("--concurrency and --connections must be at least 1")
    if not 0 <= args.min_rate_ratio <= 1:
        parser_error("--min-rate-ratio must be from 0 to 1")
    if not 0 <= args.invalid_ratio <= 1:
        parser_error("--invalid-ratio must be from 0 to 1")
    if (args.total is not None and args.total < 1) or (args.duration is not None and args.duration <= 0):
        parser_error("--total and --duration must be positive")
    if args.rps < 0 or args.ramp < 0 or args.warmup < 0 or args.deadline <= 0:
        parser_error("--rps, --ramp and --warmup must not be negative; --deadline must be positive")


def thresholds_missed(summary: dict, args) -> list[str]:
    missed = []
    rate = summary["rate"]
    if rate and rate["missed"]:
        missed.append(f"achieved rate {rate['achieved_rps']:.1f} calls/s is below the target {rate['target_rps']:g}/s "
                      f"({rate['sent_calls']:,} of {rate['due_calls']:,} due calls went out, ratio "
                      f"{rate['ratio']:.2f} < --min-rate-ratio {rate['min_ratio']:g})")
    p99 = summary["latency"]["ok"].get("p99")
    if args.max_p99_ms is not None and p99 is not None and p99 > args.max_p99_ms:
        missed.append(f"p99 {p99:.1f} ms is above --max-p99-ms {args.max_p99_ms}")
    rate = summary["valid_success_rate"]
    if args.min_success_rate is not None and rate is not None and rate < args.min_success_rate:
        missed.append(f"success rate of valid calls {rate:.4f} is below --min-success-rate {args.min_success_rate}")
    return missed


def figure_lines(summary: dict) -> list[str]:
    """The rate against the target, the latency from the schedule, and the driver's CPU, one line each."""
    lines = []
    rate, ok = summary["rate"], summary["latency"]["ok"]
    if rate:
        lines.append(f"rate: achieved {rate['achieved_rps']:.1f}/s of the target {rate['target_rps']:g}/s "
                     f"({rate['ratio']:.0%} of the due calls went out)")
        scheduled = summary["latency"]["ok_from_schedule"]
        if scheduled["count"]:
            lines.append(f"p99 of OK calls: {ok['p99']:.1f} ms from the send, {scheduled['p99']:.1f} ms from the "
                         "schedule (coordinated omission corrected)")
    cpu = summary["driver"]
    if cpu and cpu["cpu_ms_per_call"] is not None:
        lines.append(f"driver CPU: {cpu['cpu_ms_per_call']:.2f} ms a call, {cpu['core_share']:.0%} of one core")
    return lines


def run(args, parser_error=lambda m: sys.exit(f"elearn load: {m}")) -> int:
    _validate(args, parser_error)
    try:
        gateway, shards, topology = _cluster(args)
        tls = tls_settings("client", topology, os.environ)
    except SettingsError as exc:
        parser_error(str(exc))
    options = Options(gateway=gateway, tls=tls, concurrency=args.concurrency, connections=args.connections,
                      total=args.total if args.total or args.duration else 3000, duration_s=args.duration,
                      rps=args.rps, ramp_s=args.ramp, warmup_s=args.warmup, deadline_s=args.deadline, seed=args.seed,
                      invalid_ratio=args.invalid_ratio, min_rate_ratio=args.min_rate_ratio, name=args.name,
                      tags=tuple(t for t in args.tags.split(",") if t), batch_size=args.batch_size)
    try:
        baseline = export.load_baseline(args.baseline) if args.baseline else None
    except export.BaselineError as exc:
        parser_error(str(exc))
    json_path, csv_path = export.result_paths(args.report)
    load = Run(options, shards, csv_path, token=_token(args))
    metrics = server_side.endpoints(topology)
    before = server_side.scrape(metrics)
    try:
        run_info = load.execute()
    except GatewayUnreachable as exc:
        print(f"elearn load: {exc} (is the cluster up? `elearn up`)", file=sys.stderr)
        return 2
    run_info["server_side"] = server_side.collect(metrics, before, server_side.scrape(metrics))
    summary = load.stats.summary(run_info)
    comparison = compare(summary, baseline) if baseline else None
    export.write_results(args.report, run_info, summary, baseline=baseline)
    write_pdf(args.report, run_info, summary, comparison)
    totals = summary["totals"]
    print(f"elearn load: {totals['calls']} calls in {run_info['duration_s']:.1f} s "
          f"({summary['throughput'] or 0:.0f}/s): {totals['successes']} ok, {totals['expected_rejections']} rejected "
          f"as expected, {totals['unexpected']} unexpected{' (interrupted)' if run_info['interrupted'] else ''}")
    rows = summary["rows"]
    print(f"elearn load: {rows['rows']} rows written by {rows['calls']} calls ({rows['rows_per_s'] or 0:.0f} rows/s), "
          f"{rows['batch_rows']} of them by {rows['batch_calls']} batch calls")
    print(f"elearn load: {served_by.headline(summary['served_by'])}")
    for line in figure_lines(summary):
        print(f"elearn load: {line}")
    print(f"elearn load: report {args.report}, results {json_path}, calls {csv_path}")
    problems = thresholds_missed(summary, args)
    if totals["unexpected"]:
        problems.append(f"{totals['unexpected']} unexpected outcome(s); see the report's validation page")
    for problem in problems:
        print(f"elearn load: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elearn load", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args, parser.error)


if __name__ == "__main__":
    sys.exit(main())
