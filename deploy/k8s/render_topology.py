"""Copy the topology with the MongoDB credentials from the environment put into every mongo_uri (init step)."""
from __future__ import annotations

import json
import os
import pathlib
import sys
from urllib.parse import quote, urlsplit, urlunsplit

USAGE = "usage: render_topology.py SOURCE DEST  (MONGO_USERNAME and MONGO_PASSWORD in the environment)"


class RenderError(ValueError):
    """The topology or the credentials cannot be combined; the message says which."""


def with_credentials(uri: str, username: str, password: str) -> str:
    """`uri` with `username:password@` before its hosts, both percent-encoded (a password may hold @ or /)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise RenderError(f"mongo_uri {uri!r}: expected a mongodb:// or mongodb+srv:// URI")
    if "@" in parts.netloc:
        raise RenderError("mongo_uri already holds credentials; keep them out of the ConfigMap")
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def render(topology: dict, username: str, password: str) -> dict:
    """A copy of `topology` whose shards' mongo_uri carry the credentials."""
    if not username or not password:
        raise RenderError("MONGO_USERNAME and MONGO_PASSWORD must both be set and non-empty")
    shards = topology.get("shards")
    if not isinstance(shards, list):
        raise RenderError("topology: 'shards' must be a list")
    rendered = dict(topology)
    rendered["shards"] = [
        {**shard, "mongo_uri": with_credentials(shard["mongo_uri"], username, password)}
        if shard.get("mongo_uri") else shard
        for shard in shards]
    return rendered


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    source, dest = map(pathlib.Path, argv)
    try:
        topology = json.loads(source.read_text())
        text = json.dumps(render(topology, os.environ.get("MONGO_USERNAME", ""),
                                 os.environ.get("MONGO_PASSWORD", "")), indent=2)
    except (OSError, json.JSONDecodeError, RenderError) as exc:
        print(f"render_topology: {exc}", file=sys.stderr)
        return 1
    # Only this process's user may read the credentials it writes.
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
