"""Where each claim of an 837 lies, and a hash of what it says, without parsing it.

``claim_spans(text)`` reads the raw segments once (no ``Segment`` objects, no checks) and
returns, per claim (CLM), its first and last segment position (as the tokenizer numbers
them: ISA = 1), its number (CLM01), its payer id (the subscriber loop's NM1*PR09) and a
digest of everything the parser reads for it: the component separator (ISA16), the
group's version (GS08), the billing provider loop (2000A), the subscriber loop (2000B)
and, under a patient, the patient loop (2000C) up to the first claim, and the claim's own
segments up to the next HL, CLM or SE.
Two claims with the same digest parse to the same ``ParsedClaim``.

An importer that knows a digest (``claims.imports.digests``) can have ``parse_837`` drop
that claim's segments (``drop``) instead of reading them. ``VERSION`` is part of every
digest: change it when the parser or its rules read a claim differently, and every stored
digest stops matching (the claims are then compared the full way once).

Anything malformed gives no spans (the parse reports it).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from claims.x12.tokenizer import X12Error, _read_delimiters

VERSION = "837-spans-2"
_WHITESPACE = " \t\r\n\ufeff"


class Span(NamedTuple):
    start: int  # CLM's position
    end: int  # the claim's last segment
    number: str  # CLM01
    payer_id: str  # NM1*PR09 of its subscriber loop, upper case
    digest: str


def _payer(loop: list[str], element: str) -> str:
    prefix = f"NM1{element}PR{element}"
    for text in loop:
        if text.startswith(prefix):
            parts = text.split(element)
            return parts[9].upper() if len(parts) > 9 else ""
    return ""


def claim_spans(text: str) -> list[Span]:
    """Every claim's span in file order; [] for anything the walk does not understand."""
    try:
        return _spans(text)
    except (X12Error, IndexError, ValueError, KeyError):
        return []


def _spans(text: str) -> list[Span]:
    body = text.lstrip(_WHITESPACE)
    delims, _isa = _read_delimiters(body)
    e = delims.element
    hl, se, gs, clm = f"HL{e}", f"SE{e}", f"GS{e}", f"CLM{e}"
    sep = "\x1d"
    spans: list[Span] = []
    version = ""
    billing: list[str] = []
    subs: dict[str, list[str]] = {}
    sub: list[str] = []
    pat: list[str] | None = None
    loop: list[str] | None = None  # the HL loop collecting segments (before any claim)
    claim: list[str] | None = None
    start = 0
    number = ""

    def close(end: int) -> None:
        assert claim is not None
        head = (
            VERSION,
            delims.component,  # ISA16: the tokenizer splits components by it
            version,
            sep.join(billing),
            sep.join(sub),
            sep.join(pat or ()),
        )
        digest = hashlib.blake2b("\x1e".join((*head, *claim)).encode(), digest_size=20)
        spans.append(Span(start, end, number, _payer(sub, e), digest.hexdigest()))

    for index, raw in enumerate(body.split(delims.segment)[:-1], start=1):
        piece = raw.strip("\r\n")
        head3 = piece[:3]
        if head3 in (hl, se) or piece[:4] == clm:
            if claim is not None:
                close(index - 1)
                claim = None
            if head3 == hl:
                parts = piece.split(e)
                loop = [piece]
                if parts[3] == "20":
                    billing, sub, pat = loop, [], None
                elif parts[3] == "22":
                    subs[parts[1]] = sub = loop
                    pat = None
                else:
                    sub, pat = subs.get(parts[2], []), loop
            elif head3 == se:
                loop = None
            else:
                claim, loop, start = [piece], None, index
                number = piece.split(e, 2)[1]
        elif claim is not None:
            claim.append(piece)
        elif loop is not None:
            loop.append(piece)
        elif head3 == gs:
            version = piece.split(e)[8]
    if claim is not None:
        raise ValueError("the last claim is not closed")
    return spans
