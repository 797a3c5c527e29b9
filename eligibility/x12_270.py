"""X12 005010X279A1 270 (eligibility inquiry) writing: pure Python, no database.

``write_270(envelope, inquiries)`` returns one interchange (ISA/GS, one ST per payer, IEA)
for a clearinghouse: per payer (HL 20) and provider asking (HL 21), one 2000C loop per
subscriber (HL 22, member id), and a 2000D loop (HL 23) per dependent patient of that
subscriber. Every patient asked about carries our trace number (TRN*1), which the payer
returns in the 271 (TRN*2). Control numbers come from the caller (stored, unique).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

GUIDE = "005010X279A1"
ELEMENT, COMPONENT, SEGMENT, REPETITION = "*", ":", "~", "^"
# Characters a value may not carry (they are delimiters); X12 basic character set only.
_UNSAFE = re.compile(r"[^A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    date_of_birth: dt.date | None = None


@dataclass(frozen=True)
class Inquiry:
    """One patient to ask about: who pays, who asks, the subscriber and (for a dependent)
    the patient, the date of service and the service types (30: health benefit plan
    coverage; 35: dental care)."""

    trace: str  # our reference for this patient, returned in the 271's TRN*2
    payer_name: str
    payer_id: str
    provider_name: Person  # the provider asking (an organisation: first name "")
    provider_npi: str
    subscriber: Person
    member_id: str
    service_date: dt.date
    patient: Person | None = None  # a dependent; None when the patient is the subscriber
    group_number: str = ""
    service_types: tuple[str, ...] = ("30",)


@dataclass(frozen=True)
class Envelope:
    control_number: int  # ISA13 and GS06, unique per sender
    sender_id: str  # ISA06 / GS02
    receiver_id: str  # ISA08 / GS03 (the clearinghouse)
    originator_id: str  # TRN03: "9" + nine digits (a number of our own)
    created_at: dt.datetime
    production: bool = True  # ISA15 P, else T (test)


def clean(value: str, limit: int) -> str:
    """Upper case, no delimiters or characters outside the X12 basic set, at most ``limit``."""
    return _UNSAFE.sub("", value.upper()).strip()[:limit]


class _Writer:
    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, *elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()
        self.segments.append(ELEMENT.join(values))


def _person(w: _Writer, qualifier: str, person: Person, member_id: str = "") -> None:
    tail = ("", "", "", "MI", clean(member_id, 80)) if member_id else ()
    w.add("NM1", qualifier, "1", clean(person.last_name, 60), clean(person.first_name, 35), *tail)


def _patient_loop(w: _Writer, inquiry: Inquiry, env: Envelope, person: Person) -> None:
    w.add("TRN", "1", clean(inquiry.trace, 50), clean(env.originator_id, 10))
    if inquiry.patient is None:
        _person(w, "IL", person, inquiry.member_id)
        if inquiry.group_number:
            w.add("REF", "6P", clean(inquiry.group_number, 50))
    else:
        _person(w, "03", person)
    if person.date_of_birth is not None:
        w.add("DMG", "D8", person.date_of_birth.strftime("%Y%m%d"))
    w.add("DTP", "291", "D8", inquiry.service_date.strftime("%Y%m%d"))
    for service_type in inquiry.service_types:
        w.add("EQ", clean(service_type, 2))


def _subscriber_key(inquiry: Inquiry) -> tuple[str, str, str]:
    return (inquiry.member_id, inquiry.subscriber.last_name, inquiry.subscriber.first_name)


def _transaction(w: _Writer, st: str, env: Envelope, inquiries: list[Inquiry]) -> None:
    start = len(w.segments)
    first = inquiries[0]
    w.add("ST", "270", st, GUIDE)
    w.add(
        "BHT",
        "0022",
        "13",
        f"{env.control_number}{st}",
        env.created_at.strftime("%Y%m%d"),
        env.created_at.strftime("%H%M"),
    )
    hl = 1
    w.add("HL", "1", "", "20", "1")
    w.add(
        "NM1",
        "PR",
        "2",
        clean(first.payer_name, 60),
        "",
        "",
        "",
        "",
        "PI",
        clean(first.payer_id, 80),
    )
    providers: dict[str, list[Inquiry]] = {}
    for inquiry in inquiries:
        providers.setdefault(inquiry.provider_npi, []).append(inquiry)
    for npi, asked in providers.items():
        hl += 1
        provider_hl = hl
        w.add("HL", str(hl), "1", "21", "1")
        name = asked[0].provider_name
        kind = "1" if name.first_name else "2"
        w.add(
            "NM1", "1P", kind, clean(name.last_name, 60), clean(name.first_name, 35),
            "", "", "", "XX", clean(npi, 80),
        )  # fmt: skip
        subscribers: dict[tuple[str, str, str], list[Inquiry]] = {}
        for inquiry in asked:
            subscribers.setdefault(_subscriber_key(inquiry), []).append(inquiry)
        for group in subscribers.values():
            own = [i for i in group if i.patient is None]
            dependents = [i for i in group if i.patient is not None]
            hl += 1
            subscriber_hl = hl
            w.add("HL", str(hl), str(provider_hl), "22", "1" if dependents else "0")
            if own:
                _patient_loop(w, own[0], env, own[0].subscriber)
            else:
                lead = group[0]
                _person(w, "IL", lead.subscriber, lead.member_id)
                if lead.group_number:
                    w.add("REF", "6P", clean(lead.group_number, 50))
            for inquiry in dependents:
                assert inquiry.patient is not None
                hl += 1
                w.add("HL", str(hl), str(subscriber_hl), "23", "0")
                _patient_loop(w, inquiry, env, inquiry.patient)
    count = len(w.segments) - start + 1
    w.add("SE", str(count), st)


def write_270(envelope: Envelope, inquiries: Iterable[Inquiry]) -> str:
    """One 270 interchange for the inquiries (one transaction per payer); ``~`` ends every
    segment, one per line."""
    env = envelope
    if not 1 <= env.control_number <= 999_999_999:
        raise ValueError(f"control number {env.control_number} is not 1..999999999")
    by_payer: dict[tuple[str, str], list[Inquiry]] = {}
    for inquiry in inquiries:
        by_payer.setdefault((inquiry.payer_id, inquiry.payer_name), []).append(inquiry)
    if not by_payer:
        raise ValueError("nothing to ask: no inquiries")
    w = _Writer()
    control = f"{env.control_number:09d}"
    when = env.created_at
    w.add(
        "ISA", "00", " " * 10, "00", " " * 10,
        "ZZ", clean(env.sender_id, 15).ljust(15), "ZZ", clean(env.receiver_id, 15).ljust(15),
        when.strftime("%y%m%d"), when.strftime("%H%M"), REPETITION, "00501", control, "0",
        "P" if env.production else "T", COMPONENT,
    )  # fmt: skip
    w.add(
        "GS", "HS", clean(env.sender_id, 15), clean(env.receiver_id, 15),
        when.strftime("%Y%m%d"), when.strftime("%H%M"), str(env.control_number), "X", GUIDE,
    )  # fmt: skip
    for n, group in enumerate(by_payer.values(), start=1):
        _transaction(w, f"{n:04d}", env, group)
    w.add("GE", str(len(by_payer)), str(env.control_number))
    w.add("IEA", "1", control)
    return "".join(f"{segment}{SEGMENT}\n" for segment in w.segments)
