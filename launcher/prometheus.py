"""`elearn up --with-prometheus`: Debian's Prometheus scraping every process of the local cluster, with the
alerting rules of deploy/prometheus/rules.yml, its data in <data-dir>/prometheus."""
from __future__ import annotations

import json
import pathlib
import shutil

from launcher.layout import Layout
from launcher.processes import ProcessSpec

RULES = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "rules.yml"
SCRAPE_INTERVAL = "1s"  # a local cluster under a short load: rates over a few seconds need samples


class PrometheusMissing(RuntimeError):
    pass


def config(layout: Layout, rules: pathlib.Path) -> dict:
    """The scrape configuration: one job, one target per process, labelled with the process's name."""
    host = layout.ports.host
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(rules)],
        "scrape_configs": [{
            "job_name": "elearn",
            "static_configs": [{"targets": [f"{host}:{port}"], "labels": {"process": component}}
                               for component, port in layout.metrics_ports().values()],
        }],
    }


def spec(layout: Layout) -> ProcessSpec:
    """Write the configuration (JSON is YAML) and the rules into the data folder; the command to run."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise PrometheusMissing("prometheus is not installed (`make system-deps` installs Debian's package)")
    folder = layout.data_dir / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    rules = folder / "rules.yml"
    shutil.copyfile(RULES, rules)
    config_file = folder / "prometheus.yml"
    config_file.write_text(json.dumps(config(layout, rules), indent=2) + "\n")
    address = f"{layout.ports.host}:{layout.ports.prometheus}"
    argv = [binary, f"--config.file={config_file}", f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address={address}", "--storage.tsdb.retention.time=2d", "--log.level=warn",
            "--log.format=json"]
    return ProcessSpec("prometheus", argv, layout.ports.prometheus, str(config_file))
