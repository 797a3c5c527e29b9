"""X12 005010 837P/837D claim batch parsing: pure Python, no Django models, no database.

``parse_837(text)`` returns a frozen ``Batch`` of ``ParsedClaim``s; malformed input raises
``X12Error(segment_index, segment_id, reason)`` (a ``ValueError``), e.g.
``segment 14 (CLM): CLM02 total charge 'abc' is not a number``. ``detect_x12(text)`` tells
whether content is X12 at all.
"""

from claims.x12.model import (
    Adjustment,
    Batch,
    LineAdjudication,
    OtherPayer,
    ParsedClaim,
    ParsedLine,
    Patient,
    Subscriber,
    Tooth,
)
from claims.x12.parser_837 import parse_837
from claims.x12.tokenizer import Delimiters, X12Error, X12Errors, detect_x12

__all__ = [
    "Adjustment",
    "Batch",
    "Delimiters",
    "LineAdjudication",
    "OtherPayer",
    "ParsedClaim",
    "ParsedLine",
    "Patient",
    "Subscriber",
    "Tooth",
    "X12Error",
    "X12Errors",
    "detect_x12",
    "parse_837",
]
