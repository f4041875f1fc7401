"""Validation and normalisation rules of content and preferences: each broken rule names its request field.

The same limits feed the MongoDB `$jsonSchema` validators (services/content/schema.py), but the local
MongoDB stand-in does not enforce validators, so these rules are what actually guards the data.
"""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from services.content.domain import KINDS, THEMES, Content, Document, Rendition, Video
from shared import validation
from shared.errors import Violations

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_TAGS = 20
MAX_TAG = 50
MAX_URL = 2048
MAX_DURATION_S = 24 * 3600
MAX_RENDITIONS = 20
MAX_RESOLUTION = 20
MAX_BITRATE_KBPS = 1_000_000
MAX_TRANSCRIPT = 1_000_000
MAX_DOCUMENT_BYTES = 2 * 1024 ** 3
MAX_PAGES = 100_000
MAX_INT32 = 2 ** 31 - 1
MIME_TYPES = frozenset({
    "application/pdf", "application/epub+zip", "application/zip", "application/json",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/plain", "text/markdown", "text/csv", "text/html",
    "image/png", "image/jpeg", "image/svg+xml", "image/webp",
    "audio/mpeg", "audio/ogg",
})
MIN_SPEED, MAX_SPEED = 0.25, 3.0


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL with a host, or None when it is one."""
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    if any(c.isspace() for c in url) or not url.isprintable():
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL with a host"
    return None


def check_url(raw: str, violations: Violations, field: str) -> str:
    url = raw.strip()
    problem = "is required" if not url else url_problem(url)
    if problem:
        violations.add(field, problem)
    return url


def check_title(raw: str, violations: Violations, field: str) -> str:
    return validation.text(raw, field, violations, limit=MAX_TITLE)


def check_description(raw: str, violations: Violations, field: str) -> str:
    description = validation.text(raw, field, violations, required=False, limit=MAX_DESCRIPTION)
    return description


def check_tags(raw: tuple[str, ...], violations: Violations, field: str) -> tuple[str, ...]:
    """Lower-cased, trimmed, without duplicates, in first-seen order."""
    tags: list[str] = []
    for i, tag in enumerate(raw):
        tag = tag.strip().lower()
        if not tag or len(tag) > MAX_TAG:
            violations.add(f"{field}[{i}]", f"must be 1 to {MAX_TAG} characters")
        elif tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        violations.add(field, f"must have at most {MAX_TAGS} distinct tags (got {len(tags)})")
    return tuple(tags)


def check_count(value: int, violations: Violations, field: str, *, minimum: int, maximum: int = MAX_INT32) -> int:
    if value < minimum:
        violations.add(field, "must be greater than 0" if minimum == 1 else f"must be at least {minimum}")
    elif value > maximum:
        violations.add(field, f"must be at most {maximum}")
    return value


def check_video(video: Video, violations: Violations, field: str) -> Video:
    check_count(video.duration_seconds, violations, f"{field}.duration_seconds", minimum=1, maximum=MAX_DURATION_S)
    if len(video.renditions) > MAX_RENDITIONS:
        violations.add(f"{field}.renditions", f"must have at most {MAX_RENDITIONS} renditions")
    renditions = []
    for i, rendition in enumerate(video.renditions):
        where = f"{field}.renditions[{i}]"
        resolution = rendition.resolution.strip()
        if not resolution or len(resolution) > MAX_RESOLUTION:
            violations.add(f"{where}.resolution", f"must be 1 to {MAX_RESOLUTION} characters, not blank")
        check_count(rendition.bitrate_kbps, violations, f"{where}.bitrate_kbps", minimum=1, maximum=MAX_BITRATE_KBPS)
        renditions.append(Rendition(resolution, rendition.bitrate_kbps, check_url(rendition.url, violations,
                                                                                   f"{where}.url")))
    if len(video.transcript) > MAX_TRANSCRIPT:
        violations.add(f"{field}.transcript", f"must be at most {MAX_TRANSCRIPT} characters")
    return Video(video.duration_seconds, tuple(renditions), check_url(video.storage_url, violations,
                                                                        f"{field}.storage_url"), video.transcript)


def check_document(document: Document, violations: Violations, field: str) -> Document:
    mime_type = document.mime_type.strip().lower()
    if not mime_type:
        violations.add(f"{field}.mime_type", "is required")
    elif mime_type not in MIME_TYPES:
        violations.add(f"{field}.mime_type", f"unknown or unsupported MIME type {mime_type!r}; allowed: "
                                             + ", ".join(sorted(MIME_TYPES)))
    check_count(document.size_bytes, violations, f"{field}.size_bytes", minimum=1, maximum=MAX_DOCUMENT_BYTES)
    check_count(document.page_count, violations, f"{field}.page_count", minimum=0, maximum=MAX_PAGES)
    return Document(mime_type, document.size_bytes, document.page_count,
                    check_url(document.url, violations, f"{field}.url"))


def check_details(content: Content, violations: Violations, prefix: str) -> tuple[Video | None, Document | None]:
    """The details branch matching `kind`, validated; the other branch must be unset."""
    if content.kind not in KINDS:
        violations.add(f"{prefix}.kind", "is required (VIDEO or DOCUMENT)" if content.kind in (
            "", "CONTENT_KIND_UNSPECIFIED") else f"unknown kind {content.kind!r}")
        return content.video, content.document
    wanted, other = ("video", "document") if content.kind == "VIDEO" else ("document", "video")
    if getattr(content, other) is not None:
        violations.add(f"{prefix}.{other}", f"must not be set for a {content.kind} item")
    if getattr(content, wanted) is None:
        violations.add(f"{prefix}.{wanted}", f"is required for a {content.kind} item")
        return None, None
    if content.kind == "VIDEO":
        return check_video(content.video, violations, f"{prefix}.video"), None
    return None, check_document(content.document, violations, f"{prefix}.document")


def check_content(content: Content, violations: Violations, prefix: str = "content_item") -> Content:
    """Every rule of a content item (course_id's shard is checked by the service); returns it normalised."""
    if content.lesson_id < 0:
        violations.add(f"{prefix}.lesson_id", "must be 0 (course-level) or a lesson ID")
    video, document = check_details(content, violations, prefix)
    return Content(
        course_id=content.course_id, lesson_id=content.lesson_id, kind=content.kind,
        title=check_title(content.title, violations, f"{prefix}.title"),
        description=check_description(content.description, violations, f"{prefix}.description"),
        tags=check_tags(content.tags, violations, f"{prefix}.tags"),
        position=check_count(content.position, violations, f"{prefix}.position", minimum=0),
        video=video, document=document)


def check_language(raw: str, violations: Violations, field: str) -> str:
    """Empty, or a BCP 47 language tag such as "en" or "pt-BR"."""
    return validation.language(raw, field, violations)


def check_playback_speed(speed: float, violations: Violations, field: str) -> float:
    if not math.isfinite(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
        violations.add(field, f"must be between {MIN_SPEED} and {MAX_SPEED} (got {speed})")
    return speed


def check_theme(theme: str, violations: Violations, field: str) -> str:
    if theme in ("", "THEME_UNSPECIFIED"):
        return "SYSTEM"
    if theme not in THEMES:
        violations.add(field, f"unknown theme {theme!r}")
    return theme
