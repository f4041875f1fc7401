"""`python -m launcher.deploy_keys DIR`: the signing keys a deployment mounts as secrets, made once into DIR.

DIR is an auth folder like the local cluster's (`elearn rotate-keys --data-dir deploy/secrets` rotates in it):
every signer's key, the JWKS, and a copy of each signer's current key as `keys/<signer>.pem`, the fixed name
docker-compose and Kubernetes mount (`shared.auth.keys`). Existing keys are kept; run it again after a
rotation to refresh the copies. Nothing here is committed: deploy/secrets/ is ignored by git.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

from launcher.cluster import AUTH_SIGNERS
from shared.auth import keys


def export(folder: pathlib.Path) -> list[str]:
    """Make the missing signers' keys in `folder` and write each current key under its signer's name."""
    keys.ensure_keys(folder, AUTH_SIGNERS)
    for signer in AUTH_SIGNERS:
        keys.write_mounted_copy(folder, signer)
    return list(AUTH_SIGNERS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.deploy_keys", description=__doc__)
    parser.add_argument("folder", nargs="?", default="deploy/secrets/auth", help="default deploy/secrets/auth")
    folder = pathlib.Path(parser.parse_args(argv).folder)
    signers = export(folder)
    print(f"deploy_keys: {len(signers)} signers' keys and jwks.json in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
