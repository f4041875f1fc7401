"""Validation rules of courses, categories and reviews; each broken rule names its request field."""
from __future__ import annotations

import re

from services.courses.domain import LESSON_KINDS, LEVELS, Lesson, Module
from shared import validation
from shared.errors import FailedPrecondition, Violations
from shared.validation import text  # noqa: F401 - the shared text rule, as rules.text for the service

MAX_MODULES = 50
MAX_LESSONS = 100
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def slug(value: str, field: str, violations: Violations) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 100 or not _SLUG.fullmatch(cleaned):
        violations.add(field, "must be 1 to 100 lower-case letters, digits and single hyphens (web-development)")
    return cleaned


def choice(value: str, allowed: tuple[str, ...], field: str, violations: Violations) -> str:
    if value not in allowed:
        violations.add(field, "is required" if value.endswith("UNSPECIFIED") or not value
                       else f"unknown value {value!r}")
    return value


def language(value: str, field: str, violations: Violations) -> str:
    return validation.language(value, field, violations, required=True)


def outline(modules: list[Module], field: str, violations: Violations) -> tuple[Module, ...]:
    if len(modules) > MAX_MODULES:
        violations.add(field, f"at most {MAX_MODULES} modules")
    checked = []
    for m, module in enumerate(modules):
        where = f"{field}[{m}]"
        lessons = []
        if len(module.lessons) > MAX_LESSONS:
            violations.add(f"{where}.lessons", f"at most {MAX_LESSONS} lessons per module")
        for n, lesson in enumerate(module.lessons):
            at = f"{where}.lessons[{n}]"
            kind = choice(lesson.kind, LESSON_KINDS, f"{at}.kind", violations)
            if lesson.duration_seconds < 0 or (kind == "VIDEO" and lesson.duration_seconds == 0):
                violations.add(f"{at}.duration_seconds", "must be greater than 0" if kind == "VIDEO"
                               else "must not be negative")
            lessons.append(Lesson(title=text(lesson.title, f"{at}.title", violations), kind=kind,
                                  duration_seconds=lesson.duration_seconds, is_preview=lesson.is_preview))
        checked.append(Module(title=text(module.title, f"{where}.title", violations), lessons=tuple(lessons)))
    return tuple(checked)


def level(value: str, field: str, violations: Violations) -> str:
    return choice(value, LEVELS, field, violations)


def rating(value: int, field: str, violations: Violations) -> int:
    if not 1 <= value <= 5:
        violations.add(field, f"must be from 1 to 5 (got {value})")
    return value


def check_archivable(state: str) -> None:
    """Only a published course is archived (archiving an archived one changes nothing)."""
    if state not in ("PUBLISHED", "ARCHIVED"):
        raise FailedPrecondition(f"only a PUBLISHED course can be archived (this one is {state})",
                                 reason="COURSE_NOT_PUBLISHED")
