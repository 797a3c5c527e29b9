"""factory-boy factories for tenants, people and reference data."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from practices import models
from practices.choices import ClaimFormat, CobOrder, PracticeKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password("test-pass-123")


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Practice
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    kind = PracticeKind.DENTAL


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Vendor
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.Sequence(lambda n: f"vendor-{n}")


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Payer

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Payer {n}")
    payer_id = factory.Sequence(lambda n: f"P{n:05d}")
    claim_format = ClaimFormat.DENTAL


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Provider

    practice = factory.SubFactory(PracticeFactory)
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Provider{n}")
    npi = factory.Sequence(lambda n: f"{1000000000 + n}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Patient

    practice = factory.SubFactory(PracticeFactory)
    account_number = factory.Sequence(lambda n: f"A{n:06d}")
    first_name = "Jane"
    last_name = factory.Sequence(lambda n: f"Doe{n}")
    date_of_birth = dt.date(1980, 5, 17)


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Coverage

    patient = factory.SubFactory(PatientFactory)
    practice = factory.SelfAttribute("patient.practice")
    payer = factory.SubFactory(PayerFactory, practice=factory.SelfAttribute("..practice"))
    member_id = factory.Sequence(lambda n: f"M{n:08d}")
    subscriber_name = "Jane Doe"
    cob_order = CobOrder.PRIMARY


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Appointment

    patient = factory.SubFactory(PatientFactory)
    practice = factory.SelfAttribute("patient.practice")
    provider = factory.SubFactory(ProviderFactory, practice=factory.SelfAttribute("..practice"))
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    planned_procedures = ["D1110"]
