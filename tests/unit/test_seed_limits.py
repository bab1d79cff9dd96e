"""The seed's length limits are the register's column lengths. The pure domain layer
cannot read them from the models, so it writes them again; this test keeps the two equal:
a value exactly as long as its column is read, one character more is refused by name."""
from __future__ import annotations

import copy

import pytest

from governance.domain import seed
from governance.domain.source import Entry, SourceError
from governance.domain.vocabulary import USERNAME
from governance.models import Centre, DataCategory, Employee, NonGrantableArea, System
from governance.models.base import max_length

AREA = {"key": "k", "name_da": "Område", "name_en": "Area", "contact": "kfi"}
ENTRIES = {
    "centre": (seed._centre, {"code": "C", "name": "Center", "manager": "kfi"}),
    "category": (seed._category, {"code": "c", "kind": "ordinary", "name_da": "Kategori",
                                  "name_en": "Category"}),
    "employee": (seed._employee, {"username": "u", "name": "N", "email": "u@htk.dk",
                                  "centre": "C", "title": "T", "roles": ["requester"]}),
    "system": (seed._system, {"code": "S", "name": "System", "external_owner": "Ejer",
                              "owner": "kfi", "user_admins": ["kfi"], "access_levels": ["read"],
                              "scopes": ["summary"], "data_categories": ["identity"],
                              "non_grantable_areas": [AREA]}),
}
LIMITS = [
    ("centre", ("code",), Centre.code), ("centre", ("name",), Centre.name),
    ("category", ("code",), DataCategory.code), ("category", ("name_da",), DataCategory.name_da),
    ("category", ("name_en",), DataCategory.name_en),
    ("employee", ("name",), Employee.name), ("employee", ("email",), Employee.email),
    ("employee", ("title",), Employee.title),
    ("system", ("code",), System.code), ("system", ("name",), System.name),
    ("system", ("external_owner",), System.external_owner),
    ("system", ("non_grantable_areas", "key"), NonGrantableArea.key),
    ("system", ("non_grantable_areas", "name_da"), NonGrantableArea.name_da),
    ("system", ("non_grantable_areas", "name_en"), NonGrantableArea.name_en),
]


def read(kind: str, path: tuple[str, ...], value: str):
    build, fields = ENTRIES[kind]
    fields = copy.deepcopy(fields)
    target = fields["non_grantable_areas"][0] if path[0] == "non_grantable_areas" else fields
    target[path[-1]] = value + ("@htk.dk" if path[-1] == "email" else "")
    return build(Entry("seed.yaml", f"{kind}s[0]", fields))


@pytest.mark.parametrize("kind, path, column", LIMITS,
                         ids=[f"{kind}.{'.'.join(path)}" for kind, path, _ in LIMITS])
def test_seed_limit_is_the_column_length(kind, path, column):
    length = max_length(column) - (len("@htk.dk") if path[-1] == "email" else 0)
    filler = "x" if (kind, path) == ("category", ("code",)) else "X"  # codes are lowercase
    assert read(kind, path, filler * length)
    with pytest.raises(SourceError) as refused:
        read(kind, path, filler * (length + 1))
    assert refused.value.field == path[-1]
    assert f"at most {max_length(column)} fit" in str(refused.value)


def test_category_code_rule_is_the_column_length():
    from governance.domain.vocabulary import CATEGORY_CODE
    limit = max_length(DataCategory.code)
    assert CATEGORY_CODE.fullmatch("c" * limit) and not CATEGORY_CODE.fullmatch("c" * (limit + 1))


def test_username_rule_is_the_column_length():
    limit = max_length(Employee.username)
    assert USERNAME.fullmatch("u" * limit) and not USERNAME.fullmatch("u" * (limit + 1))


def test_policy_id_rule_is_the_column_length():
    from governance.domain.policy import POLICY_ID
    from governance.models import AccessRequest, Grant, PolicyVersion
    limits = {max_length(c) for c in (PolicyVersion.name, Grant.purpose, AccessRequest.purpose)}
    assert len(limits) == 1
    limit = limits.pop()
    assert POLICY_ID.fullmatch("p" * limit) and not POLICY_ID.fullmatch("p" * (limit + 1))
