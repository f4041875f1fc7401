"""Realistic request data from Faker, spread over the six regions; deterministic for a given seed."""
from __future__ import annotations

import random
import unicodedata

from faker import Faker

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from shared.proto_values import enum_texts

REGIONS = enum_texts(common_pb2.Region)
CURRENCY = {"NORTH_AMERICA": "USD", "SOUTH_AMERICA": "BRL", "EUROPE": "EUR", "AFRICA": "ZAR", "ASIA": "INR",
            "OCEANIA": "AUD"}
LOCALE = {"NORTH_AMERICA": "en_US", "SOUTH_AMERICA": "pt_BR", "EUROPE": "fr_FR", "AFRICA": "en_GB",
          "ASIA": "en_IN", "OCEANIA": "en_AU"}
LESSON_KINDS = (courses_pb.LESSON_KIND_VIDEO, courses_pb.LESSON_KIND_VIDEO, courses_pb.LESSON_KIND_ARTICLE)
PRICES = ("0.00", "9.99", "19.99", "49.00", "89.90")
SUBJECTS = ("Data Engineering", "Distributed Systems", "Machine Learning", "Web Development", "Statistics",
            "Cloud Security", "Product Design", "Financial Modelling", "Mobile Apps", "Databases")


class DataMaker:
    """One per worker: its own Faker and random stream, so a seeded run repeats exactly."""

    def __init__(self, seed: int, worker: int):
        self.rng = random.Random(seed * 1000003 + worker)
        self.fakers = {region: Faker(locale) for region, locale in LOCALE.items()}
        for n, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed * 1000003 + worker * 31 + n)

    def region(self) -> str:
        return self.rng.choice(REGIONS)

    def person(self, region: str, tag: str) -> tuple[str, str]:
        """(full name, unique email) for someone of `region`; `tag` makes the email unique in the run."""
        faker = self.fakers[region]
        name = faker.name()
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        local = "".join(c for c in ascii_name.lower() if c.isalnum())[:20] or "user"
        return name, f"{local}.{tag}@{faker.free_email_domain()}"

    def course(self, region: str) -> tuple[str, str, str, list[courses_pb.Module]]:
        """(title, amount, currency, outline) of a course with 3 to 6 modules of 2 to 5 lessons."""
        subject = self.rng.choice(SUBJECTS)
        title = f"{subject}: {self.fakers[region].catch_phrase()}"[:200]
        modules = []
        for m in range(self.rng.randint(3, 6)):
            lessons = [courses_pb.Lesson(title=f"{self.fakers[region].bs().capitalize()}"[:200],
                                         kind=self.rng.choice(LESSON_KINDS),
                                         duration_seconds=self.rng.randint(120, 1500))
                       for _ in range(self.rng.randint(2, 5))]
            modules.append(courses_pb.Module(title=f"Part {m + 1}: {subject}", lessons=lessons))
        return title, self.rng.choice(PRICES), CURRENCY[region], modules

    def sentence(self, region: str = "EUROPE") -> str:
        return self.fakers[region].sentence(nb_words=10)
