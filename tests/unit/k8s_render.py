"""Helpers for the manifest tests: render deploy/k8s with kubectl kustomize, index the objects, match selectors."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TARGETS = ("base", "overlays/local", "overlays/production")  # the base is applicable by itself too
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def kubectl() -> str:
    """The kubectl on PATH (`make system-deps` installs the distribution's package; kustomize v5 is built in)."""
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: run `make system-deps` (it installs the kubectl package)")
    return found


def tool_env() -> dict[str, str]:
    """The environment with that kubectl first on PATH, for scripts that call `kubectl`."""
    env = dict(os.environ)
    env["PATH"] = f"{pathlib.Path(kubectl()).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def render(folder: pathlib.Path) -> list[dict]:
    out = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {folder} failed: {out.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def of_kind(objects: list[dict], *kinds: str) -> list[dict]:
    return [o for o in objects if o["kind"] in kinds]


def named(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} named {name}, found {len(matches)}"
    return matches[0]


def pod_labels(workload: dict) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def selects(selector: dict | None, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) matches `labels`."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def service_selects(service: dict, labels: dict[str, str]) -> bool:
    """A Service's selector is a plain map; an empty or missing one selects no pod (its endpoints are manual)."""
    selector = service["spec"].get("selector") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}
