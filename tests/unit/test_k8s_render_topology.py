"""deploy/k8s/render_topology.py: the MongoDB credentials go into every mongo_uri, encoded so that any
password survives, and the result still passes load_settings."""
from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo.uri_parser import parse_uri

from shared.settings import load_settings
from tests.unit.k8s_render import K8S

SCRIPT = K8S / "render_topology.py"
TOPOLOGY = json.loads((K8S / "base" / "app" / "topology.json").read_text())

_spec = importlib.util.spec_from_file_location("render_topology", SCRIPT)
render_topology = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_topology)

credential = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(username=credential, password=credential)
def test_any_username_and_password_reach_the_driver_unchanged(username, password):
    rendered = render_topology.render(TOPOLOGY, username, password)
    for shard, original in zip(rendered["shards"], TOPOLOGY["shards"], strict=True):
        parsed = parse_uri(shard["mongo_uri"])
        assert (parsed["username"], parsed["password"]) == (username, password)
        assert parsed["nodelist"] == parse_uri(original["mongo_uri"])["nodelist"]
        assert parsed["options"]["replicaSet"] == "rs0"
    assert load_settings("content", {"ELEARN_TOPOLOGY": json.dumps(rendered)}).shard_map.names == ("na", "eu", "apac")


def test_the_config_map_itself_is_left_unchanged():
    before = json.dumps(TOPOLOGY)
    render_topology.render(TOPOLOGY, "u", "p")
    assert json.dumps(TOPOLOGY) == before


@pytest.mark.parametrize("uri, error", [
    ("mongodb://root:secret@mongo-0.mongo:27017/", "already holds credentials"),
    ("http://mongo-0.mongo:27017/", "expected a mongodb://"),
])
def test_a_uri_with_credentials_or_another_scheme_is_refused(uri, error):
    topology = {"shards": [{**TOPOLOGY["shards"][0], "mongo_uri": uri}]}
    with pytest.raises(render_topology.RenderError, match=error):
        render_topology.render(topology, "u", "p")


def test_the_command_writes_a_file_only_its_owner_reads_and_refuses_missing_credentials(tmp_path):
    source, dest = tmp_path / "topology.json", tmp_path / "out" / "topology.json"
    source.write_text(json.dumps(TOPOLOGY))
    dest.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGO_")}
    run = lambda extra: subprocess.run([sys.executable, str(SCRIPT), str(source), str(dest)],  # noqa: E731
                                       env={**env, **extra}, capture_output=True, text=True, timeout=30)
    refused = run({"MONGO_USERNAME": "elearn"})
    assert refused.returncode == 1 and "MONGO_PASSWORD" in refused.stderr and not dest.exists()
    done = run({"MONGO_USERNAME": "elearn", "MONGO_PASSWORD": "p@ss/word"})
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    uri = json.loads(dest.read_text())["shards"][0]["mongo_uri"]
    assert uri.startswith("mongodb://elearn:p%40ss%2Fword@mongo-0.mongo:27017,")
