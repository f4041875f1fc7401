"""The `elearn seed` subcommand: its options, the pre-flight checks on the gateway, and the report it prints."""
from __future__ import annotations

import argparse
import json
import random
import sys

from launcher import target
from launcher.components import SERVICES
from launcher.processes import health_status
from launcher.progress import Progress
from launcher.seed import BATCH_SIZE, Seeder
from launcher.seed_plan import Counts, SeedError
from launcher.seed_report import render
from shared.auth.client import token_source, with_token
from shared.channels import open_channel
from shared.settings import TlsSettings

CONTENT_SERVICE = "elearning.content.v1.ContentService"
COUNT_OPTIONS = (  # (option, Counts field, help)
    ("--students", "students", "students, spread over the six regions"),
    ("--instructors", "instructors", "instructors, spread over the six regions"),
    ("--categories", "categories", "course categories (three top-level, the rest below them)"),
    ("--courses", "courses", "published courses, each with 3-8 modules of 3-7 lessons"),
    ("--enrollments", "enrollments", "enrollments (distinct student and course pairs), with lesson progress"),
    ("--payments", "payments", "paid enrollments, each with its charge and invoice"),
    ("--password-users", "password_users", "students created with a password (the others sign on with SSO)"),
    ("--content-per-lesson", "content_per_lesson", "content items per lesson (videos and documents)"),
    ("--preferences", "preferences", "users with stored preferences"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Counts()
    parser.add_argument("--gateway", help="the gateway's host:port (default: the data folder's cluster, "
                                          "else 127.0.0.1:50051)")
    parser.add_argument("--token", help="an admin's access token (default: $ELEARN_TOKEN, else one minted from the "
                                        "data folder's key)")
    parser.add_argument("--seed", type=int, help="makes the data reproducible; a second run with the same seed "
                                                 "replays instead of duplicating (default: a random seed)")
    for option, name, text in COUNT_OPTIONS:
        default = getattr(defaults, name)
        parser.add_argument(option, dest=name, type=int, default=default, metavar="N",
                            help=f"{text} (default {'every user' if default is None else default})")
    parser.add_argument("--workers", type=int, default=8, help="concurrent calls (default 8)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, metavar="N",
                        help=f"users and lesson progress per batch call, 1 to 1000 (default {BATCH_SIZE})")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def counts_from(args: argparse.Namespace) -> Counts:
    return Counts(**{name: getattr(args, name) for _option, name, _text in COUNT_OPTIONS})


def preflight(gateway: str, tls: TlsSettings | None) -> bool:
    """Raise SeedError unless the gateway serves the required APIs; return whether it serves content."""
    if health_status(gateway, "", timeout_s=3, tls=tls) == "UNREACHABLE":
        raise SeedError(f"the gateway at {gateway} does not answer; is the cluster up (`elearn up`)? "
                        "(choose another with --gateway or --data-dir)")
    required = [c.health_names[0] for c in SERVICES if c.name != "content"]
    down = [name for name in required if health_status(gateway, name, timeout_s=3, tls=tls) != "SERVING"]
    if down:
        raise SeedError(f"the gateway at {gateway} does not report SERVING for: {', '.join(down)}")
    return health_status(gateway, CONTENT_SERVICE, timeout_s=3, tls=tls) == "SERVING"


def command(args: argparse.Namespace) -> int:
    """0 when done; 2 when seeding cannot start (counts, gateway); 1 when a call failed part way."""
    where = target.resolve(args.data_dir, args.gateway)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    counts = counts_from(args)
    try:
        counts.check()
        tls = where.tls
        with_content = preflight(where.gateway, tls)
    except SeedError as exc:
        print(f"elearn seed: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"elearn seed: seed {seed} into {where.gateway} (topology: {where.source}); "
              f"`--seed {seed}` replays this run")
    try:
        with with_token(open_channel(where.gateway, tls), token_source(where.token(args.token))) as channel:
            result = Seeder(channel, where.shard_map, counts, seed, with_content=with_content,
                            workers=max(1, args.workers), progress=Progress(sys.stderr),
                            batch_size=min(max(1, args.batch_size), 1000)).run()
    except SeedError as exc:
        print(f"elearn seed: {exc}", file=sys.stderr)
        print(f"elearn seed: run again with --seed {seed} to finish: what was made is replayed, not duplicated",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"seed": result.seed, "gateway": where.gateway, "seconds": round(result.seconds, 2),
                          "per_shard": result.per_shard, "notes": result.notes}, indent=2))
        return 0
    for note in result.notes:
        print(f"note: {note}")
    print(render(result.per_shard))
    print(f"elearn seed: done in {result.seconds:.1f} s (seed {seed}; categories are copied to every shard)")
    return 0
