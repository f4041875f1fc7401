"""Each service's store protocol is what its real store and its unit fake both offer: every method, with the
same parameters in the same order, so the unit tests exercise the interface the service runs on."""
from __future__ import annotations

import inspect

import pytest

from services.courses.service import CourseStore
from services.courses.store import PgCourseStore
from services.enrollments.service import EnrollmentStore
from services.enrollments.store import PgEnrollmentStore
from services.payments.service import PaymentStore
from services.payments.store import PgPaymentStore
from services.users.service import UserStore
from services.users.store import PgUserStore
from tests.unit.courses_fakes import FakeCourseStore
from tests.unit.enrollments_fakes import FakeEnrollmentStore
from tests.unit.fakes import FakeUserStore
from tests.unit.payments_fakes import FakePaymentStore

PORTS = [(UserStore, PgUserStore, FakeUserStore), (PaymentStore, PgPaymentStore, FakePaymentStore),
         (CourseStore, PgCourseStore, FakeCourseStore), (EnrollmentStore, PgEnrollmentStore, FakeEnrollmentStore)]


def methods(protocol: type) -> list[str]:
    return [name for name, member in vars(protocol).items() if inspect.isfunction(member)
            and not name.startswith("_")]


def parameters(cls: type, name: str) -> list[tuple[str, object, object]]:
    signature = inspect.signature(getattr(cls, name))
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize("protocol, real, fake", PORTS, ids=[p[0].__name__ for p in PORTS])
def test_the_real_store_and_the_fake_offer_the_protocol(protocol, real, fake):
    assert methods(protocol), "a protocol with no methods checks nothing"
    for name in methods(protocol):
        wanted = parameters(protocol, name)
        for implementation in (real, fake):
            assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
            assert parameters(implementation, name) == wanted, f"{implementation.__name__}.{name}"
