"""Contacts made comparable (opdigital/subject_requests/contacts.py): the same e-mail or phone
however it was typed, and nothing else."""

from __future__ import annotations

import pytest

from opdigital.subject_requests import contacts
from opdigital.subject_requests.models import ContactKind


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("ana@example.org", ContactKind.EMAIL), ("(31) 3277-4000", ContactKind.PHONE), ("", "phone")],
)
def test_an_at_sign_makes_an_email(typed, kind):
    assert contacts.kind_of(typed) == kind


@pytest.mark.parametrize(
    "typed", ["Ana.Souza@Example.ORG", "  ana.souza@example.org ", "ANA.SOUZA@EXAMPLE.ORG\t"]
)
def test_emails_are_trimmed_and_compared_ignoring_case(typed):
    assert contacts.key(typed) == "ana.souza@example.org"
    assert contacts.same(typed, "ana.souza@example.org")


@pytest.mark.parametrize(
    "typed",
    [
        "(31) 99876-5432",
        "31 99876 5432",
        "31998765432",
        "+55 31 99876-5432",
        "+55 (31) 9 9876-5432",
        "5531998765432",
        "0055 31 99876 5432",
        "031 99876-5432",
        "(031) 99876.5432",
    ],
)
def test_phones_are_compared_by_their_national_digits(typed):
    assert contacts.phone_key(typed) == "31998765432"
    assert contacts.same(typed, "(31) 99876-5432")


def test_a_landline_with_the_country_code():
    assert contacts.phone_key("+55 31 3277-4000") == "3132774000"
    assert contacts.phone_key("553132774000") == "3132774000"
    assert contacts.same("0 31 3277 4000", "(31) 3277-4000")


def test_different_contacts_are_not_the_same():
    assert not contacts.same("ana@example.org", "ana@example.com")
    assert not contacts.same("(31) 99876-5432", "(31) 99876-5433")
    # Without its area code a number matches only one written the same way.
    assert not contacts.same("99876-5432", "(31) 99876-5432")
    # A foreign number keeps its country code and never equals a Brazilian one.
    assert contacts.phone_key("+351 912 345 678") == "+351912345678"
    assert not contacts.same("+351 31 99876 5432", "(31) 99876-5432")
    # An e-mail and a phone are never the same contact; nor is an empty one.
    assert not contacts.same("31998765432@example.org", "31998765432")
    assert not contacts.same("", "")
    assert not contacts.same("()", "-")


def test_validity():
    assert contacts.is_valid("ana@example.org")
    assert contacts.is_valid("(31) 3277-4000")
    assert contacts.is_valid("+55 31 99876-5432")
    for bad in ("ana@", "@example.org", "ana example.org", "1234", "31 3277 4000 x12", "", "  "):
        assert not contacts.is_valid(bad), bad


def test_masked_contacts_show_only_enough_to_recognise_them():
    assert contacts.masked("ana.souza@example.org") == "a***@example.org"
    assert contacts.masked("(31) 99876-5432") == "*******5432"
