"""Categories are reference data: written to every shard atomically, or to none."""
from __future__ import annotations

import uuid

import grpc
import pytest

from elearning.courses.v1 import courses_service_pb2 as pb
from tests.integration.courses_client import category, stub

SHARDS = ("na", "eu", "apac")


def category_rows(cluster, slug: str) -> dict[str, list]:
    return {s: cluster.query(s, "primary", "SELECT id, name, slug, description, parent_id FROM course_categories "
                                           "WHERE slug = %s", (slug,)) for s in SHARDS}


def test_a_category_is_identical_on_every_shard(cluster, gateway_channel):
    parent = category(gateway_channel)
    child = stub(gateway_channel).CreateCategory(pb.CreateCategoryRequest(category=pb.Category(
        name="Child", slug=f"child-{uuid.uuid4().hex[:8]}", description="d", parent_id=parent.id)), timeout=10)
    rows = category_rows(cluster, child.slug)
    assert rows["na"] == rows["eu"] == rows["apac"] == [(child.id, "Child", child.slug, "d", parent.id)]
    assert stub(gateway_channel).GetCategory(pb.GetCategoryRequest(id=child.id), timeout=5) == child


def test_a_write_that_fails_on_one_shard_changes_no_shard(cluster, gateway_channel):
    began = cluster.now()
    slug = f"split-{uuid.uuid4().hex[:8]}"
    # Only apac already has this slug (as if that shard had diverged): the all-shards write must fail there.
    cluster.execute("apac", "INSERT INTO course_categories (id, name, slug) VALUES (%s, 'Squatter', %s)",
                    (uuid.uuid4().int >> 70, slug))
    before = {s: cluster.query(s, "primary", "SELECT count(*) FROM course_categories") for s in SHARDS}
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateCategory(pb.CreateCategoryRequest(
            category=pb.Category(name="New", slug=slug)), timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert {s: cluster.query(s, "primary", "SELECT count(*) FROM course_categories") for s in SHARDS} == before
    assert category_rows(cluster, slug)["na"] == [] and category_rows(cluster, slug)["eu"] == []
    assert cluster.prepared_since(began) == {shard: 0 for shard in SHARDS}
    cluster.execute("apac", "DELETE FROM course_categories WHERE slug = %s", (slug,))


@pytest.mark.parametrize("fields, field", [
    (dict(name=" ", slug="ok-slug"), "category.name"),
    (dict(name="Ok", slug="Not A Slug"), "category.slug"),
    (dict(name="Ok", slug="ok-slug-x", parent_id=-1), "category.parent_id"),
])
def test_bad_categories_are_invalid_argument(gateway_channel, fields, field):
    from tests.integration.users_client import field_violations
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateCategory(pb.CreateCategoryRequest(category=pb.Category(**fields)), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)


def test_a_missing_parent_is_failed_precondition(gateway_channel):
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).CreateCategory(pb.CreateCategoryRequest(category=pb.Category(
            name="Orphan", slug=f"orphan-{uuid.uuid4().hex[:6]}", parent_id=12345)), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_list_categories_pages_in_creation_order(gateway_channel):
    made = [category(gateway_channel).id for _ in range(3)]
    seen, token = [], ""
    while True:
        page = stub(gateway_channel).ListCategories(pb.ListCategoriesRequest(page_size=2, page_token=token),
                                                    timeout=5)
        seen += [c.id for c in page.categories]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in made] == made
