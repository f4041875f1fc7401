"""`elearn token` (print an access token minted from the data folder's key) and `elearn rotate-keys`."""
from __future__ import annotations

import argparse
import pathlib

from launcher.layout import default_data_dir
from shared.auth import keys
from shared.auth.caller import ROLES
from shared.auth.tokens import ACCESS_TTL_S, Signer, user_token
from shared.settings import SERVICES


def _auth_dir(args: argparse.Namespace) -> pathlib.Path:
    folder = (pathlib.Path(args.data_dir).resolve() if args.data_dir else default_data_dir()) / "auth"
    if not (folder / "jwks.json").exists():
        raise SystemExit(f"elearn: no signing keys in {folder} (run `elearn up` first)")
    return folder


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", type=int, default=0, help="the user ID the token names (the subject)")
    parser.add_argument("--role", default="STUDENT", type=str.upper, choices=ROLES,
                        help="the role the token carries (default STUDENT; the operator decides)")
    parser.add_argument("--region", default="", help="the user's home region, e.g. EUROPE (optional)")
    parser.add_argument("--service", choices=[*SERVICES, "sso"],
                        help="a service's identity token instead of a user's (what that service sends)")
    parser.add_argument("--ttl", type=int, default=ACCESS_TTL_S, help="lifetime in seconds (default 900)")


def token_command(args: argparse.Namespace) -> int:
    folder = _auth_dir(args)
    if args.service:
        print(Signer(folder, keys.service_signer(args.service)).mint(
            f"service:{args.service}", "SERVICE", ttl_s=args.ttl).token)
    else:
        print(user_token(folder, args.user, args.role, args.region, ttl_s=args.ttl))
    return 0


def add_rotate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signer", default=keys.PEOPLE,
                        help="whose key to rotate: people (default) or service-<name>")


def rotate_command(args: argparse.Namespace) -> int:
    """A new current key; the previous one stays published until the tokens it signed have expired.
    Rotate a signer at most once per access-token lifetime (15 min), or tokens of the retired key fail early."""
    folder = _auth_dir(args)
    if not (folder / "signers" / args.signer).exists():
        raise SystemExit(f"elearn: no signer {args.signer!r} in {folder}")
    kid = keys.new_key(folder, args.signer)
    print(f"elearn: {args.signer} now signs with {kid}; the previous key verifies until its tokens expire")
    return 0
