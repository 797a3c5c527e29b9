"""REST endpoints for claims, one module per concern:

- ``claims``: ``ClaimViewSet`` (queues, detail, create, next action, transitions, notes,
  follow-ups, work next);
- ``attachments``: the attachment serializer and the viewset's ``attachments`` action;
- ``serializers`` (answers), ``inputs`` (request bodies), ``fields``, ``filters``,
  ``pagination``, ``responses`` (shared error answers of the schema);
- ``rows`` (the list's rows built directly, proven equal to the serializer's) and
  ``list_reads`` (a queue's page query kept per page shape and read as values).
"""

# Imported for its side effect: drf-spectacular registers ClaimStatusFieldExtension (the
# shared ClaimStatusEnum component) when its module is imported.
from claims.api import fields  # noqa: F401
from claims.api.claims import ClaimViewSet
from claims.api.pagination import ClaimCursorPagination

__all__ = ["ClaimCursorPagination", "ClaimViewSet"]
