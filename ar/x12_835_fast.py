"""The 835 parser's fast path: the same ``ParsedRemittance`` as the checked walk of
``ar.x12_835`` for a well-formed file, about four times faster (issue 11's parse target).

Where the checked walk builds a ``Segment`` object per segment and calls a method per
element, this splits the body on the segment terminator once, each segment on the element
separator once, dispatches on the id inline, converts each distinct number once (a
``Decimal`` is immutable: equal amounts share one), sums the balances while it reads, and
holds the cyclic garbage collector off while it allocates.

It accepts only what it is sure of: anything the checked walk would report (a malformed or
unknown segment, a number or date it refuses, a claim or file that does not balance,
several transaction sets...) raises ``Slow`` and ``parse_835`` runs the checked walk, which
reports it with its segment number. ``tests/ar/test_835_fast.py`` holds both paths to the
same result on every sample and on generated files.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from decimal import Decimal

from ar.x12_835 import (
    GROUPS,
    KNOWN_835,
    ZERO,
    ParsedAdjustment,
    ParsedClaimPayment,
    ParsedLine,
    ParsedProviderAdjustment,
    ParsedRemark,
    ParsedRemittance,
    parse_835_checked,
)
from claims.x12.tokenizer import X12Error, _read_delimiters

_WHITESPACE = " \t\r\n\ufeff"
# ``tokenizer._NUMBER`` for many values at once: every distinct number, one per line.
_NUMBERS = re.compile(r"(?:-?(?:\d+(?:\.\d*)?|\.\d+)\n)*")
_ONE_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_PAD = [""] * 24
ONE = Decimal("1")


class Slow(Exception):
    """The fast path is not sure: the checked walk parses this file."""


def parse_835(text: str) -> ParsedRemittance:
    """Parse one 835 transaction; every problem raises together in ``X12Errors``.

    A well-formed file takes the fast path (the same result); any file it is not sure of
    takes the checked walk of ``ar.x12_835``, which names every problem."""
    try:
        return parse_fast(text)
    except Slow:
        return parse_835_checked(text)


def parse_fast(text: str) -> ParsedRemittance:
    """The checked walk's result for a well-formed, balanced 835; ``Slow`` otherwise."""
    body = text.lstrip(_WHITESPACE)
    try:
        delims, _isa = _read_delimiters(body)
    except X12Error:
        raise Slow from None
    pieces = body.split(delims.segment)
    if pieces[-1].strip(_WHITESPACE):
        raise Slow  # data after the last terminator
    del pieces[-1]
    if "\r" in body or "\n" in body:
        pieces = [p.strip("\r\n") for p in pieces]
    if "" in pieces:
        raise Slow  # an empty segment
    joined = "".join(pieces)
    if not joined.isprintable() or "\ufffd" in joined:
        raise Slow
    del joined
    # The walk allocates ~6 objects per claim and none of them in a cycle: the cyclic
    # collector would only rescan them (a third of the time), so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _walk(pieces, delims.element, delims.component)
    except ArithmeticError:
        raise Slow from None  # never a crash: the checked walk reports what is wrong
    finally:
        if collecting:
            gc.enable()


def _date(value: str, cache: dict[str, dt.date]) -> dt.date:
    day = cache.get(value)
    if day is None:
        if len(value) != 8 or not value.isdigit():
            raise Slow
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise Slow from None
        cache[value] = day
    return day


def _walk(pieces: list[str], sep: str, comp: str) -> ParsedRemittance:  # noqa: C901, PLR0912, PLR0915
    result = ParsedRemittance()
    numbers: dict[str, Decimal] = {}
    dates: dict[str, dt.date] = {}

    def num(value: str) -> Decimal:
        found = numbers.get(value)
        if found is None:
            # Decimal() also takes "sNaN", "Infinity", "1e5" and "1_0", which X12 does not:
            # anything but a plain number goes to the checked walk (it names the element).
            if not _ONE_NUMBER.fullmatch(value):
                raise Slow
            found = Decimal(value)
            numbers[value] = found
        return found

    claims = result.claims
    claim: ParsedClaimPayment | None = None
    line: ParsedLine | None = None
    line_adj = claim_adj = ZERO
    seen_st = seen_se = seen_bpr = seen_trn = False
    st_index, st_control, n1 = 0, "", ""
    keys: set[tuple[str, str]] = set()

    def end_claim() -> None:
        if claim is None:
            return
        if line is not None and line.charge - line.paid - line_adj:
            raise Slow
        if claim.charge - claim.paid - claim_adj:
            raise Slow

    for index, raw in enumerate(pieces, start=1):
        els = raw.split(sep)
        count = len(els)
        if count < 24:
            els += _PAD[count:]
        sid = els[0]
        if sid == "CAS":
            if claim is None:
                raise Slow
            group = els[1]
            if group not in GROUPS:
                raise Slow
            target = line.adjustments if line is not None else claim.adjustments
            found = 0
            for n in (2, 5, 8, 11, 14, 17):
                code = els[n]
                if not code:
                    continue
                amount = num(els[n + 1])
                quantity = num(els[n + 2]) if els[n + 2] else None
                target.append(ParsedAdjustment(index, group, code, amount, quantity))
                claim_adj += amount
                if line is not None:
                    line_adj += amount
                found += 1
            if not found:
                raise Slow
        elif sid == "SVC":
            if claim is None:
                raise Slow
            if line is not None and line.charge - line.paid - line_adj:
                raise Slow
            parts = els[1].split(comp) if els[1] else []
            if len(parts) < 2 or not parts[1]:
                raise Slow
            line = ParsedLine(
                index,
                parts[1],
                [m for m in parts[2:6] if m],
                num(els[2]),
                num(els[3]),
                (num(els[5]) if els[5] else None) or ONE,
            )
            line_adj = ZERO
            claim.lines.append(line)
        elif sid == "DTM":
            if claim is None:
                continue
            qualifier = els[1]
            if line is not None:
                if qualifier in ("472", "150"):
                    line.date_from = _date(els[2], dates)
                    if qualifier == "472":
                        line.date_to = line.date_from
                elif qualifier == "151":
                    line.date_to = _date(els[2], dates)
            elif qualifier == "232":
                claim.date_from = _date(els[2], dates)
            elif qualifier == "233":
                claim.date_to = _date(els[2], dates)
        elif sid == "CLP":
            end_claim()
            status = els[2]
            if not els[1] or not status.isdigit():
                raise Slow
            claim = ParsedClaimPayment(
                index,
                els[1],
                status,
                num(els[3]),
                num(els[4]),
                num(els[5]) if els[5] else None,
                els[6],
                els[7],
            )
            line, line_adj, claim_adj = None, ZERO, ZERO
            claims.append(claim)
            key = (els[1], els[7])
            if key in keys:
                raise Slow  # the checked walk names both segments
            keys.add(key)
        elif sid == "NM1":
            if claim is not None and els[1] == "QC":
                claim.patient_last_name, claim.patient_first_name = els[3], els[4]
                claim.member_id = els[9]
        elif sid == "AMT":
            if line is not None and els[1] == "B6":
                line.allowed_given = num(els[2])
        elif sid == "LQ":
            if line is None:
                raise Slow
            if els[1] == "HE" and els[2]:
                line.remarks.append(ParsedRemark(index, "LQ", els[2]))
        elif sid == "MOA" or sid == "MIA":
            if claim is None:
                raise Slow
            for n in (3, 4, 5, 6, 7) if sid == "MOA" else (5, 20, 21, 22, 23):
                if els[n]:
                    claim.remarks.append(ParsedRemark(index, sid, els[n]))
        elif sid == "N1":
            n1 = els[1]
            if claim is None:
                if n1 == "PR":
                    result.payer_name = els[2]
                elif n1 == "PE":
                    result.payee_name, result.payee_npi = els[2], els[4]
        elif sid == "REF":
            if claim is None and n1 == "PR" and els[1] == "2U" and not result.payer_id:
                result.payer_id = els[2]
        elif sid == "LX":
            end_claim()
            claim, line = None, None
        elif sid == "PLB":
            end_claim()
            claim, line = None, None
            if not els[1]:
                raise Slow
            when = _date(els[2], dates) if els[2] else None
            found = 0
            for n in (3, 5, 7, 9, 11, 13):
                if not els[n]:
                    continue
                reason = els[n].split(comp)
                result.provider_adjustments.append(
                    ParsedProviderAdjustment(
                        index,
                        els[1],
                        when,
                        reason[0],
                        reason[1] if len(reason) > 1 else "",
                        num(els[n + 1]),
                    )
                )
                found += 1
            if not found:
                raise Slow
        elif sid == "BPR":
            seen_bpr = True
            result.amount = num(els[2])
            if els[3] not in ("C", "D"):
                raise Slow
            result.method = els[4]
            if els[16]:
                result.payment_date = _date(els[16], dates)
        elif sid == "TRN":
            seen_trn = True
            if not els[2]:
                raise Slow
            result.trace, result.payer_id = els[2], els[3]
        elif sid == "ST":
            if seen_st or els[1] != "835":
                raise Slow  # a second transaction set, or not an 835
            seen_st, st_index, st_control = True, index, els[2]
        elif sid == "SE":
            if seen_se:
                raise Slow
            seen_se = True
            end_claim()
            claim, line = None, None
            if els[1] != str(index - st_index + 1) or els[2] != st_control:
                raise Slow
        elif sid not in KNOWN_835:
            raise Slow  # skipped with a warning, or refused: the checked walk says which
    if not (seen_st and seen_se and seen_bpr and seen_trn):
        raise Slow
    if not _NUMBERS.fullmatch("".join(f"{value}\n" for value in numbers)):
        raise Slow  # a number ``Decimal`` reads but the guide does not allow ("1e3")
    total = sum((c.paid for c in claims), ZERO)
    plb = sum((p.amount for p in result.provider_adjustments), ZERO)
    if result.amount != total - plb:
        raise Slow
    return result
