"""Realistic sample records from Faker, as the API's request messages. Each record depends only on the seed and
its key (never on the counts or on other records), so the same seed always writes the same parameters under
the same request ID."""
from __future__ import annotations

import re
import unicodedata

from faker import Faker

from elearning.common.v1 import common_pb2
from elearning.content.v1 import content_service_pb2 as content_pb
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from launcher import seed_vocab as vocab
from launcher.seed_plan import CourseKey, UserKey, derive, rng
from shared.proto_values import region_value

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
LESSON_KINDS = (courses_pb.LESSON_KIND_VIDEO, courses_pb.LESSON_KIND_VIDEO, courses_pb.LESSON_KIND_VIDEO,
                courses_pb.LESSON_KIND_ARTICLE, courses_pb.LESSON_KIND_QUIZ)
LEVELS = (courses_pb.COURSE_LEVEL_BEGINNER, courses_pb.COURSE_LEVEL_INTERMEDIATE, courses_pb.COURSE_LEVEL_ADVANCED)


def ascii_slug(text: str, limit: int = 24) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", ".", plain).strip(".")[:limit].strip(".")


class SampleData:
    """Builds the messages of one seed. Not thread-safe: build everything first, then send it."""

    def __init__(self, seed: int):
        self.seed = seed
        self._fakers: dict[str, Faker] = {}

    def _faker(self, locale: str, *key: object) -> Faker:
        fake = self._fakers.get(locale)
        if fake is None:
            fake = self._fakers[locale] = Faker(locale)
        fake.seed_instance(derive(self.seed, *key))
        return fake

    def place(self, user: UserKey) -> tuple[str, str, str]:
        """(Faker locale, country code, time zone) of a user, within the user's region."""
        places = vocab.REGION_PLACES[user.region]
        return places[derive(self.seed, "place", user.name) % len(places)]

    def user(self, user: UserKey) -> users_pb.User:
        locale, _country, time_zone = self.place(user)
        fake = self._faker(locale, "user", user.name)
        name = fake.name()
        handle = ascii_slug(fake.user_name()) or ascii_slug(name) or "user"
        domain = EMAIL_DOMAINS[derive(self.seed, "domain", user.name) % len(EMAIL_DOMAINS)]
        en = self._faker("en_US", "profile", user.name)
        teaching = user.role == "instructor"
        profile = users_pb.UserProfile(
            headline=(f"{fake.job()} and instructor" if teaching else en.catch_phrase())[:200],
            bio=en.paragraph(nb_sentences=3), time_zone=time_zone, language=locale.replace("_", "-"),
            avatar_url=f"https://avatars.example.com/{derive(self.seed, 'avatar', user.name):016x}.png",
            website_url=f"https://{handle.replace('.', '-')}.example.com/" if teaching else "")
        return users_pb.User(
            email=f"{handle}.s{self.seed}.{user.name}@{domain}", full_name=name,
            region=region_value(user.region), profile=profile,
            role=users_pb.USER_ROLE_INSTRUCTOR if teaching else users_pb.USER_ROLE_STUDENT)

    def password(self, user: UserKey) -> str:
        return self._faker("en_US", "password", user.name).password(length=16)

    def category(self, index: int, parent_id: int) -> courses_pb.Category:
        name, slug, description, _topics = vocab.CATEGORIES[index % len(vocab.CATEGORIES)]
        lap = index // len(vocab.CATEGORIES)
        if lap:
            name, slug = f"{name} {lap + 1}", f"{slug}-{lap + 1}"
        return courses_pb.Category(name=name, slug=slug, description=description, parent_id=parent_id)

    def course(self, key: CourseKey, instructor: UserKey, instructor_id: int, category_id: int
               ) -> courses_pb.Course:
        fake = self._faker("en_US", "course", key.index)
        pick = rng(self.seed, "course", key.index)
        topic = pick.choice(vocab.CATEGORIES[key.category % len(vocab.CATEGORIES)][3])
        currency, rate = vocab.REGION_CURRENCY[instructor.region]
        price = round(pick.choice(vocab.USD_PRICES) * rate) - 0.01
        modules = [courses_pb.Module(
            title=f"{m + 1}. {fake.catch_phrase()}",
            lessons=[self._lesson(fake, pick, m, n) for n in range(pick.randint(3, 7))])
            for m in range(pick.randint(3, 8))]
        return courses_pb.Course(
            instructor_id=instructor_id, category_id=category_id,
            title=pick.choice(vocab.COURSE_TITLES).format(t=topic),
            subtitle=fake.sentence(nb_words=10).rstrip("."), description="\n\n".join(fake.paragraphs(3)),
            language="en", level=pick.choice(LEVELS),
            price=common_pb2.Money(currency_code=currency, amount=f"{price:.2f}"), modules=modules)

    @staticmethod
    def _lesson(fake: Faker, pick, module: int, number: int) -> courses_pb.Lesson:
        kind = pick.choice(LESSON_KINDS)
        seconds = pick.randint(180, 1500) if kind == courses_pb.LESSON_KIND_VIDEO else pick.randint(120, 900)
        return courses_pb.Lesson(title=fake.sentence(nb_words=5).rstrip("."), kind=kind, duration_seconds=seconds,
                                 is_preview=module == 0 and number == 0)

    def payment_method(self, user: UserKey, user_id: int, full_name: str) -> tuple[payments_pb.PaymentMethod, str]:
        """A method and its vault token (never a card number: the sandbox accepts any `tok_` token)."""
        _locale, country, _zone = self.place(user)
        pick = rng(self.seed, "payment-method", user.name)
        roll = pick.random()
        method = payments_pb.PaymentMethod(user_id=user_id, billing_name=full_name, country_code=country)
        if roll < 0.7:
            method.kind = payments_pb.PAYMENT_METHOD_KIND_CARD
            method.card_brand = pick.choice(("visa", "visa", "mastercard", "amex"))
            method.last4 = f"{pick.randrange(10000):04d}"
            method.exp_month, method.exp_year = pick.randint(1, 12), pick.randint(2031, 2036)
        elif roll < 0.9:
            method.kind = payments_pb.PAYMENT_METHOD_KIND_PAYPAL
        else:
            method.kind = payments_pb.PAYMENT_METHOD_KIND_BANK_TRANSFER
            method.last4 = f"{pick.randrange(10000):04d}"
        return method, f"tok_seed_{derive(self.seed, 'token', user.name):016x}"

    def content(self, course: CourseKey, course_id: int, lesson: courses_pb.Lesson, where: str, number: int
                ) -> content_pb.ContentItem:
        """Item `number` of a lesson: a video of a VIDEO lesson first, documents otherwise."""
        fake = self._faker("en_US", "content", course.name, where, number)
        base = f"https://cdn.example.com/courses/{course_id}/{lesson.id}/{number}"
        item = content_pb.ContentItem(course_id=course_id, lesson_id=lesson.id, title=lesson.title,
                                      description=fake.paragraph(nb_sentences=2), position=number,
                                      tags=[w.lower() for w in fake.words(3, unique=True)])
        if number == 0 and lesson.kind == courses_pb.LESSON_KIND_VIDEO:
            item.kind = content_pb.CONTENT_KIND_VIDEO
            item.video.CopyFrom(content_pb.VideoDetails(
                duration_seconds=lesson.duration_seconds, storage_url=f"https://uploads.example.com/{fake.uuid4()}.mp4",
                transcript=fake.paragraph(nb_sentences=5),
                renditions=[content_pb.Rendition(resolution=r, bitrate_kbps=b, url=f"{base}/{r}.m3u8")
                            for r, b in vocab.RESOLUTIONS]))
            return item
        mime, extension = vocab.DOCUMENT_TYPES[derive(self.seed, "doc", course.name, where, number) % 4]
        item.kind = content_pb.CONTENT_KIND_DOCUMENT
        item.title = f"{lesson.title} ({'notes' if number == 0 else f'handout {number}'})"[:200]
        item.document.CopyFrom(content_pb.DocumentDetails(
            mime_type=mime, size_bytes=fake.random_int(20_000, 8_000_000),
            page_count=fake.random_int(1, 40) if extension != "md" else 0, url=f"{base}/material.{extension}"))
        return item

    def preferences(self, user: UserKey, user_id: int) -> content_pb.UserPreferences:
        locale, _country, _zone = self.place(user)
        pick = rng(self.seed, "preferences", user.name)
        captions = pick.random() < 0.3
        return content_pb.UserPreferences(
            user_id=user_id, language=locale.replace("_", "-"), playback_speed=pick.choice(vocab.PLAYBACK_SPEEDS),
            captions_enabled=captions, caption_language="en" if captions and pick.random() < 0.5 else "",
            theme=pick.choice((content_pb.THEME_LIGHT, content_pb.THEME_DARK, content_pb.THEME_SYSTEM)),
            notifications=content_pb.NotificationSettings(
                email_enabled=pick.random() < 0.8, push_enabled=pick.random() < 0.4,
                weekly_digest=pick.random() < 0.5, course_updates=pick.random() < 0.9))
