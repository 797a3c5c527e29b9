"""The bulk rows of dataset L as COPY text: patients and coverages per practice, then
claims with their lines and a short timeline, chunk by chunk (``bench/dataset.py``).

No model objects: each row is one tab-separated line built from precomputed strings.
Shapes follow the demo (``demo.claim_mix``: status shares and ages, next actions and wait
reasons, notes, follow-up outcomes); the stored priority and its reasons come from
``claims.priority.compute``, the function the work core stores on every save.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from claims.choices import FINAL_STATUSES, TRANSITIONS, ClaimStatus, NextAction
from claims.priority import compute
from demo.claim_mix import (
    AGE_DAYS,
    APPEAL_OUTCOMES,
    DIAGNOSES,
    DUE_TODAY_SHARE,
    FOLLOW_UP_OUTCOMES,
    FOLLOW_UPS,
    NEXT_ACTIONS,
    OVERDUE_SHARE,
    PAYER_DRIVEN,
    REPS,
    STATUS_NOTES,
    STATUS_WEIGHTS,
    WAIT_REASONS,
)

S = ClaimStatus
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
BIG_SHARE = 0.125  # of all claims at practice 1 (125,000 of a million)
CHUNK = 20_000  # claims per COPY round
CLAIMS_PER_PATIENT = 16
FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olive",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fox",
    "Garcia",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moore",
    "Nguyen",
]
POSTERIOR = ["2", "3", "4", "5", "12", "13", "14", "15", "18", "19", "20", "21", "28", "29",
             "30", "31"]  # fmt: skip
ANY_TOOTH = [str(t) for t in range(1, 33)]
# The status before the claim's current one (the last move its timeline shows).
PREVIOUS = {
    S.READY: [S.DRAFT],
    S.SUBMITTED: [S.READY],
    S.ACCEPTED: [S.SUBMITTED],
    S.REJECTED: [S.SUBMITTED],
    S.IN_ADJUDICATION: [S.ACCEPTED],
    S.PAID: [S.IN_ADJUDICATION, S.ACCEPTED],
    S.PARTIALLY_PAID: [S.IN_ADJUDICATION, S.ACCEPTED],
    S.DENIED: [S.IN_ADJUDICATION, S.ACCEPTED],
    S.APPEALED: [S.DENIED, S.DENIED, S.PARTIALLY_PAID],
    S.CLOSED: [S.PAID] * 15 + [S.PARTIALLY_PAID] * 2 + [S.DENIED] * 3,
    S.VOID: [S.DRAFT, S.READY, S.REJECTED],
}
for _status, _before in PREVIOUS.items():
    assert all(_status in TRANSITIONS[b] for b in _before), _status
DEPTH = {S.DRAFT: 0, S.READY: 1, S.SUBMITTED: 2, S.ACCEPTED: 3, S.REJECTED: 3,
         S.IN_ADJUDICATION: 4, S.PAID: 5, S.PARTIALLY_PAID: 5, S.DENIED: 5, S.APPEALED: 6,
         S.CLOSED: 6}  # fmt: skip
LABEL = {s.value: s.label for s in S}
ACTION_LABEL = {a.value: a.label for a in NextAction}
NOTES = {status: [" " + n for n in notes] for status, notes in STATUS_NOTES.items()}
COINSURANCE = {True: [Decimal(x) / 100 for x in (0, 20, 20, 50)],
               False: [Decimal(x) / 100 for x in (0, 10, 20)]}  # fmt: skip
N = "\\N"
ONE = Decimal(1)
SHARES = [Decimal(35 + k) / 100 for k in range(46)]  # a partial payment's share
SURFACES = ("MO", "DO", "OB", "OL", "MOD")
POINTERS = ["[]"] + ["[" + ", ".join(str(p) for p in range(1, k + 1)) + "]" for k in range(1, 5)]
REJECTIONS = STATUS_NOTES[S.REJECTED]
APPEAL_FOLLOW_UPS = FOLLOW_UP_OUTCOMES + APPEAL_OUTCOMES
WAIT = NextAction.WAIT.value


def _table(weights: dict[Any, int] | list[tuple[Any, int]]) -> list[Any]:
    """Expand weights into a list to index with a random number (a fast weighted draw)."""
    items = weights.items() if isinstance(weights, dict) else weights
    return [value for value, weight in items for _ in range(weight)]


STATUS_TABLE = _table(STATUS_WEIGHTS)
ACTION_TABLES = {status: _table(actions) for status, actions in NEXT_ACTIONS.items()}


class _Claim:
    """What ``claims.priority.compute`` reads of a claim."""

    __slots__ = ("status", "total_billed", "total_paid", "total_adjusted",
                 "service_date_from", "timely_filing_deadline", "next_action_due")  # fmt: skip

    def __init__(self, *values: Any) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


@dataclass
class PracticePlan:
    """One practice of the dataset: its size, and the ids of its reference rows."""

    index: int
    slug: str
    name: str
    dental: bool
    claims: int
    lines: float
    seed: int
    practice_id: int = 0
    importer_id: int = 0
    owners: list[tuple[int, int]] = field(default_factory=list)  # (user id, weight)
    payers: list[tuple[int, int, int, str, str]] = field(default_factory=list)
    provider_ids: list[int] = field(default_factory=list)
    fees: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    codes: dict[str, Decimal] = field(default_factory=dict)
    patients: list[tuple[str, ...]] = field(default_factory=list)
    coverages: list[tuple[int, int, int, str]] = field(default_factory=list)
    patient0: int = 0
    coverage0: int = 0

    def rng(self, what: str) -> random.Random:
        return random.Random(f"dataset-l-{self.seed}-{self.slug}-{what}")

    def people(self, today: dt.date) -> None:
        """Draw the patients and their coverages (primary for 96 %, secondary for 12 %)."""
        rng = self.rng("patients")
        count = max(20, self.claims // CLAIMS_PER_PATIENT)
        payer_table = _table([(i, p[2]) for i, p in enumerate(self.payers)])
        self.patients, self.coverages = [], []
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            dob = today - dt.timedelta(days=rng.randrange(365, 33000))
            self.patients.append((
                f"L{self.index:02d}P{i + 1:06d}", first, last, dob.isoformat(),
                f"555-{rng.randrange(10000):04d}",
                f"{first.lower()}.{last.lower()}{i + 1}@example.test",
                f"{rng.randrange(1, 999)} Main St",
            ))  # fmt: skip
            roll = rng.random()
            if roll < 0.96 or i == 0:
                primary = payer_table[int(rng.random() * len(payer_table))]
                self.coverages.append((i, primary, 1, f"{first} {last}"))
                if roll < 0.12:
                    second = (primary + 1 + int(rng.random() * 3)) % len(self.payers)
                    self.coverages.append((i, second, 2, f"{first} {last}"))

    def patient_text(self) -> Iterator[str]:
        for i, (account, first, last, dob, phone, email, street) in enumerate(self.patients):
            yield (
                f"{self.patient0 + i}\t{self.practice_id}\t{account}\t{first}\t{last}\t{dob}\t"
                f"{phone}\t{email}\t{street}\tSpringfield\tIL\t62701\n"
            )

    def coverage_text(self) -> Iterator[str]:
        for j, (patient, payer, order, name) in enumerate(self.coverages):
            payer_pk = self.payers[payer][0]
            yield (
                f"{self.coverage0 + j}\t{self.practice_id}\t{self.patient0 + patient}\t"
                f"{payer_pk}\tM{self.index:02d}{patient:07d}{order}\tG{payer_pk:05d}\t{name}\t"
                f"self\t{order}\t2025-01-01\t{N}\n"
            )


class ClaimRows:
    """Claims, lines and timeline entries of every practice, as COPY text per chunk."""

    CLAIM_COLUMNS = (
        "id, practice_id, patient_id, coverage_id, payer_id, provider_id, owner_id, "
        "pms_claim_number, payer_claim_number, rejection_reason, claim_format, "
        "service_date_from, service_date_to, diagnosis_codes, status, next_action, "
        "next_action_due, wait_reason, total_billed, total_allowed, total_paid, "
        "patient_responsibility, total_adjusted, other_payer_paid, timely_filing_deadline, "
        "first_submitted_at, submission_count, clean_at_first_submission, "
        "accepted_on_first_submission, follow_up_count, locked_by_id, locked_until, "
        "priority, priority_reasons, version, created_at, updated_at"
    )
    LINE_COLUMNS = (
        "claim_id, line_number, procedure_code, modifiers, diagnosis_pointers, tooth, "
        "surfaces, teeth, units, unit_basis, charge, service_date, service_date_to"
    )
    ACTIVITY_COLUMNS = (
        "claim_id, kind, actor_id, at, text, channel, contact, outcome, next_step, data"
    )

    def __init__(self, plans: list[PracticePlan], today: dt.date, now: dt.datetime, seed: int):
        self.plans, self.today, self.now, self.seed = plans, today, now, seed
        self.first_id: dict[str, int] = {}
        self.latest = now - dt.timedelta(minutes=5)

    def reservations(self) -> list[tuple[str, int]]:
        return [("claims_claim", sum(p.claims for p in self.plans))]

    def chunks(self, size: int = CHUNK) -> Iterator[tuple[str, str, str, int]]:
        """(claims, lines, timeline) text of up to ``size`` claims at a time."""
        from django.utils import timezone

        tz = timezone.get_current_timezone()
        claim_id = self.first_id["claims_claim"]
        for plan in self.plans:
            practice = _Practice(plan, self.today, self.latest, tz)
            rng = plan.rng("claims")
            done = 0
            while done < plan.claims:
                n = min(size, plan.claims - done)
                claims: list[str] = []
                lines: list[str] = []
                activities: list[str] = []
                for k in range(done + 1, done + n + 1):
                    practice.claim(rng, claim_id, k, claims, lines, activities)
                    claim_id += 1
                done += n
                yield "".join(claims), "".join(lines), "".join(activities), n


class _Practice:
    """One practice's precomputed draws and the builder of its claims. Times are whole
    seconds since the epoch (UTC) and dates are ordinals, formatted from caches."""

    def __init__(self, plan: PracticePlan, today: dt.date, latest: dt.datetime, tz: Any):
        self.plan, self.tz = plan, tz
        self.today, self.today_date = today.toordinal(), today
        self.latest = int(latest.timestamp())
        self.latest_day = latest.astimezone(tz).date().toordinal()
        self.owner_table = _table(plan.owners)
        self.primaries = [c for c in self._coverages() if c[3] == 1]
        self.secondaries = [c for c in self._coverages() if c[3] == 2]
        draws = plan.rng("orders")
        codes = list(plan.codes)
        self.orders = [draws.sample(codes, len(codes)) for _ in range(64)]
        self.diagnoses = [draws.sample(DIAGNOSES, 3) for _ in range(64)]
        self.p_extra = (plan.lines - 1) / 5  # 1 + Binomial(5, p) lines: mean plan.lines
        # Charge choices per (payer, code): 115-160 % of the fee, as (charge, text, fee part).
        self.charges: dict[tuple[int, str], list[tuple[Decimal, str, Decimal]]] = {}
        for payer in plan.payers:
            for code, usual in plan.codes.items():
                fee = plan.fees.get((payer[0], code)) or usual
                options = []
                for pct in range(115, 161):
                    charge = (fee * pct / 100).quantize(CENT)
                    options.append((charge, str(charge), min(fee.quantize(CENT), charge)))
                self.charges[(payer[0], code)] = options
        self.filing = {p[0]: p[1] for p in plan.payers}
        self.formats = {p[0]: p[3] for p in plan.payers}
        self.payer_codes = {p[0]: p[4] for p in plan.payers}
        self.coinsurance = COINSURANCE[plan.dental]
        self.prefix = f"L{plan.index:02d}-"
        self._dates: dict[int, tuple[dt.date, str, str]] = {}
        self._midnights: dict[int, int] = {}
        self._days: dict[int, str] = {}

    def _coverages(self) -> Iterator[tuple[int, int, int, int]]:
        """(coverage id, patient id, payer pk, cob order)."""
        plan = self.plan
        for j, (patient, payer, order, _name) in enumerate(plan.coverages):
            yield plan.coverage0 + j, plan.patient0 + patient, plan.payers[payer][0], order

    def date(self, ordinal: int) -> tuple[dt.date, str, str]:
        """(date, ISO text, mm/dd/yyyy) of a day ordinal."""
        found = self._dates.get(ordinal)
        if found is None:
            day = dt.date.fromordinal(ordinal)
            found = self._dates[ordinal] = (day, day.isoformat(), f"{day:%m/%d/%Y}")
        return found

    def midnight(self, ordinal: int) -> int:
        """The epoch second of the local midnight starting the day."""
        found = self._midnights.get(ordinal)
        if found is None:
            start = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), tzinfo=self.tz)
            found = self._midnights[ordinal] = int(start.timestamp())
        return found

    def stamp(self, t: int) -> str:
        """COPY text of a timestamptz (UTC)."""
        day, second = divmod(t, 86400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = dt.date.fromordinal(719163 + day).isoformat()
        return f"{text} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00"

    def claim(  # noqa: C901, PLR0912, PLR0915 - one row's draws in order, kept flat for speed
        self,
        rng: random.Random,
        claim_id: int,
        number: int,
        claims: list[str],
        lines_out: list[str],
        activities: list[str],
    ) -> None:
        rnd, plan, stamp = rng.random, self.plan, self.stamp
        status = STATUS_TABLE[int(rnd() * len(STATUS_TABLE))]
        low, high = AGE_DAYS[status]
        age = low + int(rnd() * (high - low + 1))
        if rnd() < 0.04 and self.secondaries:
            coverage = self.secondaries[int(rnd() * len(self.secondaries))]
        else:
            coverage = self.primaries[int(rnd() * len(self.primaries))]
        coverage_id, patient_id, payer, _order = coverage
        service_day = self.today - age
        service, service_text, _ = self.date(service_day)
        created_day = service_day + min(age, int(rnd() * 3))
        created = self.midnight(created_day) + (8 + int(rnd() * 10)) * 3600
        created += int(rnd() * 60) * 60
        if created > self.latest:
            created, created_day = self.latest, self.latest_day
        end = created + int((self.latest - created) * (0.55 + 0.42 * rnd()))
        owner = self.owner_table[int(rnd() * len(self.owner_table))]

        # Lines: 1 + Binomial(5, p) codes of one random order of the practice's codes.
        p_extra = self.p_extra
        count = 1 + (rnd() < p_extra) + (rnd() < p_extra) + (rnd() < p_extra)
        count += (rnd() < p_extra) + (rnd() < p_extra)
        codes = self.orders[int(rnd() * 64)][:count]
        diagnoses: list[str] = []
        if not plan.dental:
            diagnoses = self.diagnoses[int(rnd() * 64)][: 1 + int(rnd() * 3)]
        billed, fee_part = ZERO, ZERO
        charges = self.charges
        for line_number, code in enumerate(codes, start=1):
            charge, charge_text, fee = charges[(payer, code)][int(rnd() * 46)]
            billed += charge
            fee_part += fee
            tooth, surfaces, teeth, modifiers, pointers, basis = "", "", "[]", "[]", "[]", ""
            if plan.dental:
                if code == "D5213":  # a partial denture: several teeth on one line
                    first = 18 + int(rnd() * 4)
                    picked = range(first, first + 3 + int(rnd() * 3))
                    tooth = str(first)
                    teeth = (
                        "[" + ", ".join(f'{{"tooth": "{t}", "surfaces": ""}}' for t in picked) + "]"
                    )
                elif code in ("D2392", "D2740", "D7140"):
                    if code == "D2392":
                        tooth = POSTERIOR[int(rnd() * 16)]
                        surfaces = SURFACES[int(rnd() * 5)]
                    else:
                        tooth = ANY_TOOTH[int(rnd() * 32)]
                    teeth = f'[{{"tooth": "{tooth}", "surfaces": "{surfaces}"}}]'
            else:
                basis = "UN"
                pointers = POINTERS[1 + int(rnd() * len(diagnoses))]
                if code.startswith("992") and count > 1 and rnd() < 0.5:
                    modifiers = '["25"]'
            lines_out.append(
                f"{claim_id}\t{line_number}\t{code}\t{modifiers}\t{pointers}\t{tooth}\t"
                f"{surfaces}\t{teeth}\t1\t{basis}\t{charge_text}\t{service_text}\t{N}\n"
            )

        # Where the claim has been: the status before this one, submissions, the decision.
        before = ""
        if status != S.DRAFT:
            choices = PREVIOUS[status]
            before = choices[int(rnd() * len(choices))]
        submitted = status not in (S.DRAFT, S.READY) and not (
            status == S.VOID and before != S.REJECTED
        )
        resubmitted = submitted and status not in (S.REJECTED, S.VOID) and rnd() < 0.08
        decision = status if status in (S.PAID, S.PARTIALLY_PAID, S.DENIED) else None
        if status in (S.APPEALED, S.CLOSED):
            decision = before
        accepted = decision is not None or status in (S.ACCEPTED, S.IN_ADJUDICATION)
        total_allowed = total_paid = patient = adjusted = ZERO
        if decision == S.DENIED:
            if status == S.CLOSED:
                adjusted = billed  # written off
        elif decision is not None:
            coins = self.coinsurance[int(rnd() * len(self.coinsurance))]
            share = ONE if decision == S.PAID else SHARES[int(rnd() * 46)]
            total_allowed = (fee_part * share).quantize(CENT)
            patient = (total_allowed * coins).quantize(CENT)
            total_paid = total_allowed - patient
            adjusted = (billed * share).quantize(CENT) - total_allowed
            if status == S.CLOSED:
                adjusted = billed - total_paid - patient
            adjusted = max(adjusted, ZERO)
        other_paid = N
        if coverage[3] != 1:
            other_paid = str((billed * SHARES[int(rnd() * 41)]).quantize(CENT))

        # The next action of an open claim (the invariant: action, owner, due; wait: why).
        is_open = status not in FINAL_STATUSES
        action, due, due_text, wait = "", None, N, ""
        if is_open:
            table = ACTION_TABLES[status]
            action = table[int(rnd() * len(table))]
            if action == WAIT:
                reasons = WAIT_REASONS[status]
                wait = reasons[int(rnd() * len(reasons))]
            roll = rnd()
            if roll < DUE_TODAY_SHARE:
                due_day = self.today
            elif roll < DUE_TODAY_SHARE + OVERDUE_SHARE:
                due_day = max(self.today - 1 - int(rnd() * 21), created_day)
            else:
                due_day = self.today + 1 + int(rnd() * 30)
            due, due_text, due_us = self.date(due_day)
        follow_ups = 0
        if accepted and status in FOLLOW_UPS:
            lo, hi = FOLLOW_UPS[status]
            follow_ups = lo + int(rnd() * (hi - lo + 1))
        deadline, deadline_text, _ = self.date(service_day + self.filing[payer])
        rank = compute(
            _Claim(status, billed, total_paid, adjusted, service, deadline, due), self.today_date
        )
        reasons_json = '["' + '", "'.join(rank.reasons) + '"]' if rank.reasons else "[]"

        first_submitted, clean, first_ok, submissions = N, N, N, 0
        if submitted:
            submissions = 2 if resubmitted else 1
            first_submitted = stamp(created + int((end - created) * (0.1 + 0.3 * rnd())))
            rejected_first = resubmitted or status == S.REJECTED or before == S.REJECTED
            if status != S.SUBMITTED:
                first_ok = "f" if rejected_first else "t"
            clean = "t" if rnd() < (0.3 if rejected_first else 0.93) else "f"
        payer_claim = ""
        if accepted:  # the payer's number (ICN), from the claim's own
            payer_claim = f"{self.payer_codes[payer]}{plan.index:03d}{number:08d}"
        rejection = ""
        if status == S.REJECTED or (status == S.VOID and before == S.REJECTED):
            rejection = REJECTIONS[int(rnd() * len(REJECTIONS))]
        version = 1 + DEPTH.get(status, DEPTH.get(before, 0) + 1) + 3 * resubmitted
        version += follow_ups + is_open
        created_text, end_text = stamp(created), stamp(end)
        diagnoses_json = '["' + '", "'.join(diagnoses) + '"]' if diagnoses else "[]"
        claims.append(
            f"{claim_id}\t{plan.practice_id}\t{patient_id}\t{coverage_id}\t{payer}\t"
            f"{plan.provider_ids[int(rnd() * len(plan.provider_ids))]}\t{owner}\t"
            f"{self.prefix}{number:07d}\t{payer_claim}\t{rejection}\t{self.formats[payer]}\t"
            f"{service_text}\t{service_text}\t{diagnoses_json}\t{status}\t{action}\t"
            f"{due_text}\t{wait}\t{billed}\t{total_allowed}\t{total_paid}\t{patient}\t"
            f"{adjusted}\t{other_paid}\t{deadline_text}\t{first_submitted}\t"
            f"{submissions}\t{clean}\t{first_ok}\t{follow_ups}\t{N}\t{N}\t{rank.score}\t"
            f"{reasons_json}\t{version}\t{created_text}\t{end_text}\n"
        )

        # The timeline: created (by the importer), follow-ups, the last move, the next action.
        activities.append(
            f"{claim_id}\tcreated\t{plan.importer_id}\t{created_text}\t"
            f'Created with {count} line(s).\t\t\t\t\t{{"source": "pms"}}\n'
        )
        if follow_ups:
            outcomes = APPEAL_FOLLOW_UPS if status == S.APPEALED else FOLLOW_UP_OUTCOMES
            payer_name = self.payer_codes[payer]
            for _ in range(follow_ups):
                at = stamp(created + int((end - created) * (0.3 + 0.65 * rnd())))
                outcome, next_step = outcomes[int(rnd() * len(outcomes))]
                if rnd() < 0.6:
                    channel = "phone"
                    contact = f"{payer_name} provider services, rep {REPS[int(rnd() * 8)]}"
                else:
                    channel, contact = "portal", f"{payer_name} provider portal"
                activities.append(
                    f"{claim_id}\tfollow_up\t{owner}\t{at}\t{outcome}\t{channel}\t{contact}\t"
                    f"{outcome}\t{next_step}\t{{}}\n"
                )
        if before:
            actor = N if status in PAYER_DRIVEN else owner
            notes = NOTES.get(status)
            note = notes[int(rnd() * len(notes))] if notes else ""
            activities.append(
                f"{claim_id}\tstatus\t{actor}\t{end_text}\t{LABEL[before]} → {LABEL[status]}."
                f'{note}\t\t\t\t\t{{"from": "{before}", "to": "{status}"}}\n'
            )
        if is_open:
            text = f"Next: {ACTION_LABEL[action]}, due {due_us}"
            if wait:
                text += f" (waiting for {wait})"
            activities.append(
                f"{claim_id}\tnext_action\t{owner}\t{end_text}\t{text}\t\t\t\t\t"
                f'{{"next_action": "{action}", "due": "{due_text}"}}\n'
            )
