"""tools/rename_enums.py renames proto enum values where they are proto values, never stored text, and twice
changes nothing."""
from __future__ import annotations

from tools import rename_enums

PYTHON = '''from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2 as courses_pb

user = User(region=common_pb2.EUROPE, theme=pb.Theme.DARK)
lesson = courses_pb.Lesson(kind=courses_pb.VIDEO)
item = pb.ContentItem(kind=pb.VIDEO)
assert pb.ContentKind.Value("DOCUMENT")
SHARDS = {"eu": ("EUROPE", "AFRICA")}
row = {"region": "EUROPE"}
other.VIDEO
'''
RENAMED = '''from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2 as courses_pb

user = User(region=common_pb2.REGION_EUROPE, theme=pb.Theme.THEME_DARK)
lesson = courses_pb.Lesson(kind=courses_pb.LESSON_KIND_VIDEO)
item = pb.ContentItem(kind=pb.CONTENT_KIND_VIDEO)
assert pb.ContentKind.Value("CONTENT_KIND_DOCUMENT")
SHARDS = {"eu": ("EUROPE", "AFRICA")}
row = {"region": "EUROPE"}
other.VIDEO
'''
MARKDOWN = '''grpcurl -d '{"user": {"region": "ASIA", "role": "ADMIN"}}' host elearning.users.v1.UserService/CreateUser
grpcurl -d '{"content_item": {"kind": "VIDEO"}}' host elearning.content.v1.ContentService/CreateContentItem
"routes": {"users": {"EUROPE": "users-eu:50061"}}
'''


def rename(text: str, path: str) -> tuple[str, list[str]]:
    problems: list[str] = []
    return rename_enums.rename(text, path, problems), problems


def test_python_renames_stub_access_only_and_is_idempotent():
    once, _ = rename(PYTHON, "x.py")
    assert once == RENAMED
    assert rename(once, "x.py")[0] == once


def test_grpcurl_json_literals_are_renamed_by_field_and_service():
    once, problems = rename(MARKDOWN, "README.md")
    assert '"region": "REGION_ASIA", "role": "USER_ROLE_ADMIN"' in once
    assert '"kind": "CONTENT_KIND_VIDEO"' in once
    assert '{"EUROPE": "users-eu:50061"}' in once and not problems
    assert rename(once, "README.md")[0] == once


def test_a_check_of_grpcurl_output_is_renamed():
    text = 'out = grpcurl(...)\nassert out["region"] == "AFRICA" and row["region"] == "AFRICA"\n'
    once, _ = rename(text, "test_x.py")
    assert once == 'out = grpcurl(...)\nassert out["region"] == "REGION_AFRICA" and row["region"] == "REGION_AFRICA"\n'


def test_an_ambiguous_json_value_is_reported_not_guessed():
    text = '''grpcurl -d '{"kind": "VIDEO"}' host some.Service/Method\n'''
    once, problems = rename(text, "run.sh")
    assert once == text and problems == ["run.sh:1: ambiguous enum value kind=VIDEO: rename by hand"]


def test_proto_values_inside_the_renamed_enums_only():
    proto = "enum Theme {\n  THEME_UNSPECIFIED = 0;\n  LIGHT = 1;\n}\nenum Other {\n  LIGHT = 0;\n}\n"
    once, _ = rename(proto, "a.proto")
    assert once == "enum Theme {\n  THEME_UNSPECIFIED = 0;\n  THEME_LIGHT = 1;\n}\nenum Other {\n  LIGHT = 0;\n}\n"
    assert rename(once, "a.proto")[0] == once


def test_a_conversion_that_meets_stored_text_is_reported():
    _, problems = rename("from elearning.users.v1 import users_service_pb2 as pb\npb.UserRole.Value(role)\n", "s.py")
    assert len(problems) == 1 and "enum_value" in problems[0]
