"""Who may read a page, compared: the plain rules of the audience guard (no database)."""

import pytest

from review.pipeline.audience import (
    LOOSER,
    NARROWER,
    SAME,
    Rule,
    ancestor_paths,
    change,
    describe,
    effective_rules,
    rules_of,
)

PASSWORD = Rule.of(kind="password")
LOGIN = Rule.of(kind="login")


def groups(*names):
    return Rule.of(kind="groups", groups=names)


def test_public_is_the_empty_audience_and_descriptions_are_canonical():
    assert describe([]) == []
    assert describe([groups("乙", "甲", "甲"), PASSWORD]) == [
        {"type": "groups", "groups": sorted(["甲", "乙"])}, {"type": "password"}]
    assert rules_of(describe([groups("甲"), LOGIN])) == sorted([groups("甲"), LOGIN])


@pytest.mark.parametrize(("old", "new", "expected"), [
    ([PASSWORD], [], LOOSER),                      # password removed: public
    ([], [PASSWORD], NARROWER),
    ([PASSWORD], [PASSWORD], SAME),                # the password itself is not signed
    ([LOGIN], [groups("教师")], NARROWER),          # groups admit logged-in users only
    ([groups("教师")], [LOGIN], LOOSER),
    ([groups("教师")], [groups("教师", "家长")], LOOSER),
    ([groups("教师", "家长")], [groups("教师")], NARROWER),
    ([groups("教师")], [groups("家长")], LOOSER),   # not comparable: someone new reads
    ([PASSWORD], [LOGIN], LOOSER),
    ([LOGIN], [PASSWORD], LOOSER),
    ([LOGIN], [LOGIN, PASSWORD], NARROWER),
    ([LOGIN, PASSWORD], [PASSWORD], LOOSER),
    ([groups("教师")], [groups()], NARROWER),       # no group: nobody but superusers
])
def test_changes_are_classified_by_who_may_read_afterwards(old, new, expected):
    assert change(old=old, new=new) == expected


def test_restrictions_apply_from_the_page_and_every_ancestor():
    assert ancestor_paths("000100020003") == ["0001", "00010002", "000100020003"]
    rules = {"00010002": [PASSWORD], "000100020003": [LOGIN], "00010003": [groups("x")]}
    assert effective_rules("0001000200030004", rules) == [PASSWORD, LOGIN]
    assert effective_rules("00010003", rules) == [groups("x")]
    assert effective_rules("0001", rules) == []
