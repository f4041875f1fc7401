"""AIP-134 update masks: which fields of a resource an update touches."""
from __future__ import annotations

from collections.abc import Iterable

from shared.errors import InvalidArgument


def resolve(paths: Iterable[str], allowed: Iterable[str], *, messages: Iterable[str] = (),
            populated: Iterable[str] = (), field: str = "update_mask") -> set[str]:
    """The validated set of paths to update.

    An empty mask means "every populated field" (AIP-134). A path `a.b` is accepted only when `a` is one of
    `messages` (an allowed message field); an unknown path, or a sub-path of a plain field, is
    INVALID_ARGUMENT naming it.
    """
    allowed, messages = set(allowed), set(messages)
    paths = list(paths) or [p for p in populated if p in allowed]
    if not paths:
        raise InvalidArgument(field, "names no field to update")
    unknown = [p for p in paths if p not in allowed and not ("." in p and p.split(".", 1)[0] in messages)]
    if unknown:
        raise InvalidArgument(field, f"unknown or immutable field(s): {', '.join(sorted(unknown))}; "
                                     f"allowed: {', '.join(sorted(allowed))}")
    return set(paths)
