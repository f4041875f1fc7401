"""The README's map of one request's path names only what exists: each `file  name` pair resolves in the code."""
from __future__ import annotations

import importlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAIR = re.compile(r"^\s+(\S+\.(?:py|sql))\s+([A-Za-z_][\w.]*)", re.MULTILINE)


def path_block() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("**One request's path**")
    return readme[start:readme.index("```\n", readme.index("```text", start) + 1)]


def test_the_request_path_has_its_steps():
    pairs = PAIR.findall(path_block())
    assert len(pairs) >= 12, pairs


def test_every_name_in_the_request_path_exists():
    for path, name in PAIR.findall(path_block()):
        if path.endswith(".sql"):
            assert name in (ROOT / path).read_text(), f"{path} has no {name}"
            continue
        target: object = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        for part in name.split("."):
            assert hasattr(target, part), f"{path} has no {name}"
            target = getattr(target, part)
