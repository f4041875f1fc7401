"""Generate the Python gRPC stubs for every proto under protos/ into the `elearning` package.

Usage: python tools/codegen.py [--out DIR]   (default: the repository root)
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PROTOSET = PROTO_ROOT / "elearning.protoset"
PACKAGE_DOC = '"""Generated gRPC stubs for the elearning protos: do not edit (run `make protos`)."""\n'


def proto_files() -> list[pathlib.Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: pathlib.Path, protoset: pathlib.Path | None = None) -> None:
    """Run protoc once over all protos, then make every output folder a package.

    Also writes the descriptor set (`protoset`, default protos/elearning.protoset) that grpcurl can use
    to `describe` methods with their comments, which Python's server reflection cannot resolve (grpc/grpc#34743).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--descriptor_set_out={protoset or PROTOSET}",
        "--include_imports",
        "--include_source_info",  # the comments, so `grpcurl describe` shows them
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in {(out_dir / f).parent for f in files}:
        while folder != out_dir:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text(PACKAGE_DOC)
            folder = folder.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT)
    args = parser.parse_args(argv)
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
