"""The patients page search (issue 9): the list's own "Last, First" format, names in any
order, date of birth in the usual formats, phone digits; scoped to the current practice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from practices.search import parse
from tests import factories
from tests.conftest import login

LIST = "/patients/"


@pytest.fixture
def fran(world) -> Client:
    factories.PatientFactory(
        practice=world.sunrise,
        last_name="Okafor",
        first_name="Ada",
        date_of_birth=dt.date(1984, 3, 7),
        phone="(212) 555-0147",
    )
    factories.PatientFactory(
        practice=world.sunrise, last_name="Adams", first_name="Kara", phone="646.555.0199"
    )
    # The same person's namesake at the other practice: never in this list.
    factories.PatientFactory(
        practice=world.maple,
        last_name="Okafor",
        first_name="Ada",
        date_of_birth=dt.date(1984, 3, 7),
        phone="212-555-0147",
    )
    return login(Client(), world.fran)


def found(client: Client, term: str) -> list[str]:
    response = client.post(LIST, {"q": term}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    return [f"{p.last_name}, {p.first_name}" for p in response.context["page_obj"]]


@pytest.mark.parametrize(
    "term",
    ["Okafor, Ada", "okafor,ada", "Ada Okafor", "ada okafor", "Okafor Ada", "okaf", "Ada O"],
)
def test_names_in_any_order_and_the_lists_own_format(fran, term):
    assert found(fran, term) == ["Okafor, Ada"]


@pytest.mark.parametrize(
    "term", ["03/07/1984", "3/7/1984", "1984-03-07", "03-07-1984", "03/07/84", "Mar 7, 1984"]
)
def test_date_of_birth_in_common_formats(fran, term):
    assert found(fran, term) == ["Okafor, Ada"]


@pytest.mark.parametrize(
    "term", ["2125550147", "212-555-0147", "(212) 555 0147", "+1 212 555 0147", "212.555.0147"]
)
def test_phone_by_its_digits(fran, term):
    assert found(fran, term) == ["Okafor, Ada"]


def test_other_matches_and_misses(fran, world):
    assert found(fran, "646 555 0199") == ["Adams, Kara"]
    assert found(fran, "kara adams") == ["Adams, Kara"]
    assert found(fran, "Okafor, Kara") == []
    assert found(fran, "01/01/1999") == []
    assert found(fran, "555-0000") == []
    assert found(fran, world.sunrise_patient.account_number) == [
        f"Sunriser, {world.sunrise_patient.first_name}"
    ]
    member = world.sunrise_patient.coverages.get().member_id
    assert found(fran, member) == [f"Sunriser, {world.sunrise_patient.first_name}"]


def test_the_term_is_read_once_for_both_searches():
    term = parse(" Mar 7,  1984 ")
    assert (term.date, term.names, term.phone_digits) == (dt.date(1984, 3, 7), (), "")
    term = parse("+1 (212) 555-0147")
    assert (term.date, term.phone_digits) == (None, "12125550147")
    assert parse("Okafor, Ada").names == ("Okafor", "Ada")


def test_a_patient_with_several_coverages_once_and_no_self_subquery(fran, world):
    """Coverages are matched by EXISTS: a patient with two coverages is listed once, and
    the query reads the patients once (``pk IN (a query of the patients)`` was planned as
    a nested loop over the table twice whenever statistics were stale)."""
    from practices.models import Patient
    from practices.search import matching_patients

    patient = world.sunrise_patient
    member = patient.coverages.get().member_id
    factories.CoverageFactory(patient=patient, member_id=member, cob_order=2)
    assert found(fran, member) == [f"Sunriser, {patient.first_name}"]
    assert found(fran, "Sunriser") == [f"Sunriser, {patient.first_name}"]
    sql = str(matching_patients(Patient.objects.all(), "Okafor, Ada 212").query)
    assert sql.count('FROM "practices_patient"') == 1
    assert "EXISTS" in sql
