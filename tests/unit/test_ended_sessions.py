"""The ended-session list: a token of an ended session is refused even from the verifier's cache; a failed
poll keeps the last list; a token without a session (a service's) is never looked up."""
from __future__ import annotations

import pytest

from shared.auth import keys
from shared.auth.revocations import EndedSessions
from shared.auth.tokens import InvalidToken, Signer, Verifier
from tests.unit.auth_keys import auth_dir


def test_a_cached_token_of_an_ended_session_is_refused_once_the_list_names_it():
    folder = auth_dir()
    listed: list[str] = []
    ended = EndedSessions(lambda: list(listed), poll_s=60)
    verifier = Verifier(folder, ended=ended)
    token = Signer(folder, keys.PEOPLE).mint("7", "STUDENT", session_id="s-1").token
    other = Signer(folder, keys.PEOPLE).mint("7", "STUDENT", session_id="s-2").token
    assert verifier.verify(token).session_id == "s-1"  # now cached
    listed.append("s-1")
    assert ended.refresh()
    with pytest.raises(InvalidToken, match="session has ended"):
        verifier.verify(token)
    assert verifier.verify(other).user_id == 7


def test_a_failed_poll_keeps_the_last_list():
    answers = iter([["s-1"], ConnectionError("users down"), ["s-2"]])

    def fetch() -> list[str]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    ended = EndedSessions(fetch, poll_s=60)
    assert ended.refresh() and "s-1" in ended
    assert not ended.refresh() and "s-1" in ended
    assert ended.refresh() and "s-1" not in ended and "s-2" in ended
