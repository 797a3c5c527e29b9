"""Schema-driven fuzzing of the API (issue 8, #7): schemathesis reads the OpenAPI schema the
app serves and sends every operation generated input, valid and invalid, as a signed-in
biller, in-process through the WSGI handler. No answer may be a 5xx.

Bounded for CI by a fixed number of examples per operation and mode (not a clock, which
would flake on a busy machine), no shrinking, derandomized (the same examples every run), no
example database: the whole test takes well under a minute.
"""

from __future__ import annotations

import secrets
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from ar import services as remittance_services
from ar.acknowledgements import acknowledgement_import
from denials import services as denial_services
from denials.appeals import appeal_create
from denials.models import Denial
from eligibility.models import EligibilityCheck
from eligibility.responses import response_import
from eligibility.services import checks_for_upcoming
from tests import factories
from tests.ar.conftest import sample
from tests.ar.test_accounts_api import patient_billing_ids
from tests.ar.test_plans_pages import plan_ids
from tests.claims import conftest as claim_fixtures
from tests.eligibility.test_authorizations_api import front_desk_ids
from tests.sops.scene import sops_ids
from tests.sops.test_access_review_matrix import access_review_ids

make_claim = claim_fixtures.make_claim

# Examples per operation: about 200 requests over 28 operations, 15-30 s on a busy machine.
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 3}


@contextmanager
def same_connection() -> Iterator[None]:
    """Keep the test's transaction across in-process requests: the WSGI handler closes
    "old" connections at each request's start and end. Django's test client unhooks the
    same signal for each of its requests (and hooks it again after)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors() -> Any:
    """Tracebacks of the exceptions the handler turned into 500s, for the failure message."""
    caught: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        caught.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    yield caught
    got_request_exception.disconnect(record)


def open_check(world: Any) -> int:
    """The eligibility check the beat job opens for the world's appointment (in 72 h)."""
    checks_for_upcoming()
    return EligibilityCheck.objects.get(appointment__patient=world.sunrise_patient).pk


def existing_ids(world: Any, make_claim: Any) -> dict[str, int]:
    """A row the biller may see per resource, so operations on one object reach the view
    (and its serializers) instead of answering 404 to a generated id."""
    claim = make_claim()
    patient = world.sunrise_patient
    return {
        **patient_billing_ids(world),
        **plan_ids(world),
        **sops_ids(world),
        **access_review_ids(world),
        **front_desk_ids(world),
        "/api/v1/claims/": claim.pk,
        "/api/v1/patients/": patient.pk,
        "/api/v1/coverages/": patient.coverages.get().pk,
        "/api/v1/appointments/": patient.appointments.get().pk,
        "/api/v1/payers/": make_claim.payer.pk,
        "/api/v1/practices/": world.sunrise.pk,
        "/api/v1/imports/": 1,
        "/api/v1/remittances/": remittance_services.remittance_upload(
            actor=world.bill,
            practice=world.sunrise,
            content=sample("x12sdk-generated-paid-in-full.835").encode(),
            filename="fuzz.835",
            enqueue=False,
        ).pk,
        "/api/v1/acknowledgements/": acknowledgement_import(
            actor=world.bill,
            practice=world.sunrise,
            content=sample("imsweb-277ca-accepted.txt").encode(),
            filename="fuzz.txt",
        ).pk,
        "/api/v1/eligibility-responses/": response_import(
            actor=world.bill,
            practice=world.sunrise,
            content=(
                Path(__file__).parent / "eligibility/samples/linuxforhealth-demo.271"
            ).read_bytes(),
            filename="fuzz.271",
        ).pk,
        "/api/v1/eligibility-checks/": open_check(world),
        "/api/v1/denials/": denial_services.open_denial(
            actor=world.bill,
            claim=claim,
            group_code="CO",
            carc="50",
            amount="10.00",
            received_on=claim.service_date_from,
        ).pk,
        "/api/v1/appeals/": appeal_create(
            actor=world.bill, denial=Denial.objects.get(claim=claim)
        ).pk,
    }


def test_api_never_answers_a_server_error(world, make_claim, client_for, server_errors):
    ids = existing_ids(world, make_claim)
    factories.PatientFactory(practice=world.maple)  # another practice's rows exist too
    client = client_for(world.bill)
    spec = client.get("/api/v1/schema/", {"format": "json"}).json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = WSGIHandler()
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret the cookie may carry
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: csrf,
    }
    headers = {"X-CSRFToken": csrf}

    with same_connection():
        operations = fuzz(schema, ids, headers, cookies, server_errors)

    assert operations >= 25  # the whole API, not an empty schema


def fuzz(schema: Any, ids: dict[str, int], headers: Any, cookies: Any, errors: list[str]) -> int:
    """Every operation, in both modes; the number of operations."""
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        fixed = {}
        if "{id}" in operation.path:
            fixed = {"id": ids[operation.path.split("{id}")[0]]}
        for mode, examples in EXAMPLES.items():
            # Invalid input needs something to make invalid: with only an id in the path,
            # that is the id itself.
            negatable = len(operation.query) > 0 or len(list(operation.body)) > 0
            keep = fixed if mode == GenerationMode.POSITIVE or negatable else {}
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=keep)

            @hypothesis_settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            @given(case=strategy)
            def call(case: schemathesis.Case) -> None:
                errors.clear()
                response = case.call(headers=headers, cookies=cookies)
                assert response.status_code < 500, (
                    f"{case.as_curl_command()}\n-> {response.status_code}\n" + "\n".join(errors)
                )

            call()
    return operations
