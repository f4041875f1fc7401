"""The committed stubs in elearning/ are exactly what tools/codegen.py makes from protos/ (run `make protos`)."""
from __future__ import annotations

import pathlib

from tools import codegen

ROOT = pathlib.Path(codegen.__file__).resolve().parent.parent


def generated_files(root: pathlib.Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted((root / "elearning").rglob("*"))
            if p.is_file() and p.suffix in (".py", ".pyi")}


def test_stubs_match_the_protos(tmp_path):
    codegen.generate(tmp_path, protoset=tmp_path / "elearning.protoset")
    assert (tmp_path / "elearning.protoset").read_bytes() == codegen.PROTOSET.read_bytes(), \
        "protos/elearning.protoset is out of date: run `make protos`"
    fresh, committed = generated_files(tmp_path), generated_files(ROOT)
    assert sorted(fresh) == sorted(committed), "stub files differ from the protos: run `make protos`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"out of date with protos/: {stale}; run `make protos`"


def test_every_domain_has_a_versioned_service():
    expected = {"users": "UserService", "courses": "CourseService", "enrollments": "EnrollmentService",
                "payments": "PaymentService", "content": "ContentService"}
    for domain, service in expected.items():
        proto = ROOT / "protos" / "elearning" / domain / "v1" / f"{domain}_service.proto"
        text = proto.read_text()
        assert f"package elearning.{domain}.v1;" in text and f"service {service} {{" in text
