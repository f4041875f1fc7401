"""Rename the proto enum values to buf's prefixed form (ENUM_VALUE_PREFIX) in the protos and in every user.

Usage: python tools/rename_enums.py [--check] [PATH ...]   (default: the repository root)

Idempotent: an old name is only matched where it stands alone, so a second run (or a run over code merged
later) changes nothing already renamed. What it renames, and only that (stored texts such as the rows'
'EUROPE' or the topology's region lists are domain values and stay):
  - .proto: the value declarations inside each renamed enum's body;
  - .py: attribute access through an imported stub module (`common_pb2.EUROPE`, `pb.UserRole.STUDENT` where
    `pb` is `users_service_pb2`), and `Enum.Value("OLD")` with a literal;
  - in any file that mentions grpcurl (.py/.md/.sh/.json/.yaml): JSON literals of an enum field,
    `"region": "EUROPE"` (also with shell-escaped quotes), and checks of its output, `x["region"] == "EUROPE"`;
    a `kind` whose value two enums share (VIDEO) is
    resolved by the service the same line or its neighbours name, else reported.
It reports (never changes) what it cannot rename safely: `Enum.Name(...)`/`Enum.Value(variable)` of a
renamed enum outside shared/proto_values.py (use `enum_name`/`enum_value` there: they map to stored text).
After it changed a .proto, run `make protos`. With --check it changes nothing and exits 1 if it would.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".md", ".sh", ".json", ".yaml", ".yml", ".proto"}
SKIP_DIRS = {".git", ".venv", "node_modules", "build", ".elearn", "__pycache__"}
GENERATED = "elearning/"  # the stubs: `make protos` writes them
# Renaming its own table would rename the old names in it; the helper that maps to stored text stays too.
SKIP_FILES = {"tools/rename_enums.py", "tests/unit/test_rename_enums.py"}

# stub module (file stem) -> enum -> old value names; the new name is the enum's UPPER_SNAKE prefix + old.
RENAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "common_pb2": {
        "Region": ("NORTH_AMERICA", "SOUTH_AMERICA", "EUROPE", "AFRICA", "ASIA", "OCEANIA"),
    },
    "users_service_pb2": {
        "UserRole": ("STUDENT", "INSTRUCTOR", "ADMIN"),
    },
    "content_service_pb2": {
        "ContentKind": ("VIDEO", "DOCUMENT"),
        "Theme": ("LIGHT", "DARK", "SYSTEM"),
    },
    "courses_service_pb2": {
        "CourseLevel": ("BEGINNER", "INTERMEDIATE", "ADVANCED"),
        "CourseState": ("DRAFT", "PUBLISHED", "ARCHIVED"),
        "LessonKind": ("VIDEO", "ARTICLE", "QUIZ"),
    },
    "enrollments_service_pb2": {
        "PaymentState": ("UNPAID", "PAID", "REFUNDED"),
    },
    "payments_service_pb2": {
        "PaymentMethodKind": ("CARD", "PAYPAL", "BANK_TRANSFER"),
        "TransactionKind": ("CHARGE", "REFUND"),
        "TransactionStatus": ("PENDING", "SUCCEEDED", "FAILED"),
    },
}
# JSON field name (proto or lowerCamel) -> the enums whose values it may hold.
JSON_FIELDS: dict[str, tuple[str, ...]] = {
    "region": ("Region",),
    "role": ("UserRole",),
    "theme": ("Theme",),
    "level": ("CourseLevel",),
    "state": ("CourseState",),
    "payment_state": ("PaymentState",), "paymentState": ("PaymentState",),
    "status": ("TransactionStatus",),
    "kind": ("ContentKind", "LessonKind", "PaymentMethodKind", "TransactionKind"),
}
# The proto package each enum lives in, named by a grpcurl line that calls one of its services.
PACKAGE_OF = {enum: module.removesuffix("_pb2").removesuffix("_service")
              for module, enums in RENAMES.items() for enum in enums}


def prefix(enum: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum).upper() + "_"


def new_name(enum: str, old: str) -> str:
    return prefix(enum) + old


def python_aliases(text: str) -> dict[str, str]:
    """alias -> stub module for every `from elearning... import X_pb2 [as alias]` / `import ...X_pb2 as a`."""
    aliases: dict[str, str] = {}
    for match in re.finditer(r"^\s*from\s+elearning[\w.]*\s+import\s+\(?([^)\n]+)\)?", text, re.M):
        for part in match.group(1).split(","):
            words = part.split()
            if words and words[0] in RENAMES:
                aliases[words[2] if len(words) == 3 and words[1] == "as" else words[0]] = words[0]
    for match in re.finditer(r"^\s*import\s+elearning[\w.]*\.(\w+_pb2)\s+as\s+(\w+)", text, re.M):
        if match.group(1) in RENAMES:
            aliases[match.group(2)] = match.group(1)
    return aliases


def rename_python(text: str) -> str:
    for alias, module in python_aliases(text).items():
        for enum, olds in RENAMES[module].items():
            for old in olds:
                new = new_name(enum, old)
                text = re.sub(rf"\b{re.escape(alias)}\.(?:{enum}\.)?{old}\b(?!\s*\()",
                              lambda m, new=new: m.group(0).rsplit(".", 1)[0] + "." + new, text)
    for enums in RENAMES.values():
        for enum, olds in enums.items():
            for old in olds:
                text = re.sub(rf"\b{enum}\.Value\(\s*(['\"]){old}\1\s*\)",
                              lambda m, e=enum, o=old: f"{e}.Value({m.group(1)}{new_name(e, o)}{m.group(1)})", text)
    return text


def _json_enum(field: str, old: str, context: str) -> str | None:
    """The enum a JSON literal `"field": "old"` belongs to, or None when none or ambiguous."""
    candidates = [e for e in JSON_FIELDS.get(field, ()) if old in _values(e)]
    if len(candidates) > 1:
        named = [e for e in candidates if re.search(rf"\b{PACKAGE_OF[e]}\.v\d", context)]
        candidates = named if len(named) == 1 else candidates
    return candidates[0] if len(candidates) == 1 else None


def _values(enum: str) -> tuple[str, ...]:
    return next(enums[enum] for enums in RENAMES.values() if enum in enums)


JSON_LITERAL = re.compile(r'(\\?")(\w+)\\?"(\s*:\s*)(\\?")([A-Z][A-Z_]*)\\?"')
# A check of grpcurl's JSON output: `user["region"] == "EUROPE"`.
JSON_COMPARED = re.compile(r'\[(")(\w+)"\](\s*==\s*)(")([A-Z][A-Z_]*)"')


def rename_json(text: str, path: str, problems: list[str]) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        def replace(m: re.Match[str], i: int = i) -> str:
            q1, field, colon, q2, old = m.groups()
            if field not in JSON_FIELDS or not any(old in _values(e) for e in JSON_FIELDS[field]):
                return m.group(0)
            enum = _json_enum(field, old, "\n".join(lines[max(0, i - 5):i + 6]))
            if enum is None:
                problems.append(f"{path}:{i + 1}: ambiguous enum value {field}={old}: rename by hand")
                return m.group(0)
            if m.re is JSON_COMPARED:
                return f'["{field}"]{colon}"{new_name(enum, old)}"'
            return f'{q1}{field}{q1}{colon}{q2}{new_name(enum, old)}{q2}'
        lines[i] = JSON_COMPARED.sub(replace, JSON_LITERAL.sub(replace, line))
    return "\n".join(lines)


def rename_proto(text: str) -> str:
    def body(m: re.Match[str]) -> str:
        enum, content = m.group(1), m.group(2)
        for enums in RENAMES.values():
            for old in enums.get(enum, ()):
                content = re.sub(rf"^(\s*){old}(\s*=)", rf"\g<1>{new_name(enum, old)}\2", content, flags=re.M)
        return m.group(0).replace(m.group(2), content)
    return re.sub(r"\benum\s+(\w+)\s*\{([^}]*)\}", body, text)


def report_conversions(text: str, path: str, problems: list[str]) -> None:
    if path.endswith("shared/proto_values.py"):
        return
    enums = "|".join(e for enums in RENAMES.values() for e in enums)
    for n, line in enumerate(text.split("\n"), 1):
        for m in re.finditer(rf"\b({enums})\.(Name|Value|keys|items)\((?!\s*['\"][A-Z_]+['\"]\s*\))", line):
            problems.append(f"{path}:{n}: {m.group(0)}...) uses the prefixed proto name; where it meets "
                            "stored text use shared.proto_values.enum_name/enum_value")


def rename(text: str, path: str, problems: list[str]) -> str:
    if path.endswith(".proto"):
        return rename_proto(text)
    if path.endswith(".py"):
        text = rename_python(text)
        report_conversions(text, path, problems)
    if "grpcurl" in text:
        text = rename_json(text, path, problems)
    return text


def files(paths: list[pathlib.Path]) -> Iterator[pathlib.Path]:
    for top in paths:
        candidates = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in candidates:
            rel = path.resolve().relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT) else str(path)
            if (path.is_file() and path.suffix in SUFFIXES and rel not in SKIP_FILES
                    and not rel.startswith(GENERATED)
                    and not SKIP_DIRS.intersection(path.relative_to(top).parts if top.is_dir() else ())):
                yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=pathlib.Path, default=[ROOT])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    problems: list[str] = []
    changed: list[str] = []
    for path in files(args.paths):
        text = path.read_text(encoding="utf-8")
        new = rename(text, str(path), problems)
        if new != text:
            changed.append(str(path))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for name in changed:
        print(("would change " if args.check else "changed ") + name)
    if any(name.endswith(".proto") for name in changed) and not args.check:
        print("protos changed: run `make protos` to regenerate the stubs")
    for problem in problems:
        print("check: " + problem, file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
