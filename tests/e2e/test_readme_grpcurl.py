"""The README's grpcurl lines, run with bash as a user types them in a folder holding the cluster as `.elearn`:
TLS with the local CA, tokens from `elearn token`. Only the port, the email, the request ID and the user ID
(which the README cannot know) are replaced."""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
README_ID = "500170306590083073"


def readme_commands() -> list[str]:
    """The grpcurl commands of the README's "Calling it" block, each with its continuation lines, as bash
    gets them (a trailing `# comment` dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Calling it"):]
    block = section[section.index("```sh\n") + len("```sh\n"):]
    commands: list[list[str]] = []
    for line in block[:block.index("```")].splitlines():
        if line.startswith("grpcurl "):
            commands.append([])
        commands[-1].append(line.split("  # ")[0].rstrip())
    return ["\n".join(lines) for lines in commands]


def test_the_readme_calls_work_over_tls_as_typed(cluster, tmp_path):
    (tmp_path / ".elearn").symlink_to(cluster.layout.data_dir)
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("ELEARN_DATA_DIR", None)
    email = f"readme-{uuid.uuid4().hex[:10]}@example.com"
    commands = readme_commands()
    assert commands and all(c.startswith("grpcurl -cacert .elearn/tls/ca.crt ") for c in commands), commands
    user_id = README_ID
    for command in commands:
        typed = (command.replace("127.0.0.1:50051", cluster.gateway).replace("ana@example.com", email)
                 .replace("7f1c...", str(uuid.uuid4())).replace(README_ID, user_id))
        result = subprocess.run(["bash", "-c", typed], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, f"{typed}\n{result.stderr}"
        if command.endswith("UserService/CreateUser"):
            user_id = json.loads(result.stdout)["id"]
        if command.endswith("UserService/GetUser"):
            assert json.loads(result.stdout)["email"] == email
        if command.endswith("UserService/Login"):
            assert re.search(r'"access_?[tT]oken": "[\w-]+\.[\w-]+\.[\w-]+"', result.stdout), result.stdout
    assert user_id != README_ID
