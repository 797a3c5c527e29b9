"""Frozen dataclasses produced by ``claims.x12.parse_837``.

Money is ``decimal.Decimal``, dates are ``datetime.date``, sequences are tuples (so the
objects are really immutable and compare by value). Empty optional elements are ``None``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from claims.x12.tokenizer import Delimiters


@dataclass(frozen=True)
class Adjustment:
    group: str  # CAS01: CO, PR, OA, PI, CR
    reason: str  # CARC, e.g. "42"
    amount: Decimal


@dataclass(frozen=True)
class OtherPayer:
    """Loop 2320 (other subscriber information) with its 2330B payer name."""

    responsibility: str  # SBR01 of the 2320 loop
    cob_order: int | None
    payer_name: str | None
    payer_id: str | None
    paid_amount: Decimal | None  # AMT*D
    adjustments: tuple[Adjustment, ...]  # claim-level CAS


@dataclass(frozen=True)
class LineAdjudication:
    """Loop 2430: SVD with its CAS adjustments and DTP*573 adjudication date."""

    payer_id: str
    paid_amount: Decimal
    procedure_code: str | None
    paid_units: Decimal | None
    adjustments: tuple[Adjustment, ...]
    adjudication_date: dt.date | None


@dataclass(frozen=True)
class Tooth:
    number: str  # TOO02
    surfaces: tuple[str, ...]  # TOO03 components


@dataclass(frozen=True)
class ParsedLine:
    line_number: int
    procedure_qualifier: str  # HC (837P) or AD (837D)
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    place_of_service: str | None  # SV105 / SV303, when it differs from the claim's
    diagnosis_pointers: tuple[int, ...]  # 837P only
    teeth: tuple[Tooth, ...]  # 837D only
    service_date: dt.date | None
    service_date_to: dt.date | None
    adjudications: tuple[LineAdjudication, ...]
    unit_basis: str | None = None  # SV103: UN units, MJ minutes (837P only)

    @property
    def tooth_number(self) -> str | None:
        return self.teeth[0].number if self.teeth else None

    @property
    def surfaces(self) -> tuple[str, ...]:
        return self.teeth[0].surfaces if self.teeth else ()


@dataclass(frozen=True)
class Subscriber:
    member_id: str | None
    first_name: str | None
    last_name: str | None
    dob: dt.date | None
    payer_responsibility: str  # SBR01: P, S, T, A..H, U
    cob_order: int | None  # P=1, S=2, T=3, ...; None for U (unknown)
    relationship: str | None  # SBR02 ("18" = self) when the subscriber is the patient
    group_number: str | None  # SBR03


@dataclass(frozen=True)
class Patient:
    first_name: str | None
    last_name: str | None
    dob: dt.date | None
    relationship: str  # "18" (self) or PAT01, e.g. "01" spouse, "19" child


@dataclass(frozen=True)
class ParsedClaim:
    claim_number: str
    total_charge: Decimal
    facility_code: str  # CLM05-1: place of service (837P) / facility code (837D)
    frequency_code: str  # CLM05-3
    payer_name: str | None
    payer_id: str | None
    billing_npi: str | None
    rendering_npi: str | None
    subscriber: Subscriber
    patient: Patient
    diagnosis_codes: tuple[str, ...]
    service_date_from: dt.date | None  # claim DTP*472, else earliest line date
    service_date_to: dt.date | None
    other_payers: tuple[OtherPayer, ...]
    lines: tuple[ParsedLine, ...]
    payer_claim_number: str | None = None  # REF*F8: the claim a replacement (7) or void (8) changes
    predetermination: bool = False  # CLM19 = PB (837D): a pre-treatment estimate, not a claim

    @property
    def place_of_service(self) -> str:
        return self.facility_code


@dataclass(frozen=True)
class Batch:
    kind: str  # "837P" or "837D"
    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    interchange_control_number: str  # ISA13
    implementation: str  # GS08, e.g. 005010X222A1
    delimiters: Delimiters
    claims: tuple[ParsedClaim, ...]
    transaction_type: str = "CH"  # BHT06: CH chargeable claims, RP encounters (not billable)
