"""Forms for the claim page's quick actions and the queues' bulk actions.

The forms only read the input (types, choices, lengths). What a change needs (a due date,
a reason for "wait", a note's text, a follow-up's contact and outcome, an attachment's
label) is the services' rule (``work.services.check_next_action``, ``claims.services``,
``claims.attachments``); the views put the services' errors on these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from claims.choices import AttachmentKind, AttachmentStatus, FollowUpChannel, NextAction

User = get_user_model()
DATE = forms.DateInput(attrs={"type": "date"})


class BootstrapForm(forms.Form):
    """Gives every visible widget Bootstrap's classes."""

    # Fields the service refuses empty: the form accepts them empty so that the service's
    # message is the one shown, and still renders them ``required`` (the page's forms are
    # ``novalidate``, so this only tells assistive technology; the markup is unchanged).
    service_required: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" else css
        for name in self.service_required:
            self.fields[name].widget.attrs["required"] = True

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class VersionedForm(BootstrapForm):
    """Carries the claim version the user saw, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class FromQueueForm(VersionedForm):
    """Also carries the queue the person came from (its key, never PHI) and the claim's rank
    there when the page was drawn, for "Save and next"."""

    queue = forms.SlugField(required=False, max_length=50, widget=forms.HiddenInput)
    rank = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NextActionForm(FromQueueForm):
    service_required = ("next_action_due",)

    next_action = forms.ChoiceField(choices=NextAction.choices)
    next_action_due = forms.DateField(label="Due", widget=DATE, required=False)
    wait_reason = forms.CharField(
        required=False, max_length=300, help_text="Required for “wait”: what are we waiting for?"
    )


class FollowUpForm(FromQueueForm):
    """A follow-up and, in the same submit, the next action its outcome decides."""

    service_required = ("contact", "outcome")

    channel = forms.ChoiceField(choices=FollowUpChannel.choices, required=False)
    contact = forms.CharField(
        max_length=200, required=False, help_text="Who you reached (name, reference #)."
    )
    outcome = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_step = forms.CharField(max_length=500, required=False)
    next_action = forms.ChoiceField(
        label="Then",
        choices=[("", "Keep the current next action"), *NextAction.choices],
        required=False,
    )
    next_action_due = forms.DateField(label="Due", widget=DATE, required=False)
    wait_reason = forms.CharField(
        required=False, max_length=300, help_text="For “wait”: what are we waiting for?"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the next-action form on the same page has fields of the same names.
        kwargs.setdefault("auto_id", "fu_%s")
        super().__init__(*args, **kwargs)


class NoteForm(BootstrapForm):
    service_required = ("text",)

    text = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TransitionForm(VersionedForm):
    to_status = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=500)


class AttachmentForm(BootstrapForm):
    service_required = ("label",)

    kind = forms.ChoiceField(choices=AttachmentKind.choices)
    label = forms.CharField(max_length=200, required=False)
    status = forms.ChoiceField(choices=AttachmentStatus.choices, initial=AttachmentStatus.REQUESTED)
    file = forms.FileField(required=False)

    def __init__(self, *args: Any, clinical: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not clinical:
            from claims.choices import CLINICAL_ATTACHMENT_KINDS

            self.fields["kind"].choices = [
                c for c in AttachmentKind.choices if c[0] not in CLINICAL_ATTACHMENT_KINDS
            ]


class AttachmentStatusForm(BootstrapForm):
    status = forms.ChoiceField(choices=AttachmentStatus.choices)
    file = forms.FileField(required=False)
