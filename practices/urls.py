from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from practices import (
    account_views,
    people_views,
    recovery,
    reference_views,
    stepup,
    token_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("account/login/", account_views.LoginView.as_view(), name="login"),
    path("account/logout/", account_views.auth_views.LogoutView.as_view(), name="logout"),
    path("account/mfa/setup/", account_views.mfa_setup, name="mfa-setup"),
    path("account/mfa/verify/", account_views.mfa_verify, name="mfa-verify"),
    path("account/step-up/", stepup.step_up, name="step-up"),
    path("account/tokens/", token_views.token_list, name="account-tokens"),
    path("account/tokens/<int:pk>/revoke/", token_views.token_revoke, name="account-token-revoke"),
    path("practice/switch/", views.switch_practice, name="switch-practice"),
    path("patients/", views.PatientListView.as_view(), name="patient-list"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="patient-detail"),
    path("access/", views.AccessView.as_view(), name="access"),
    path("payers/", reference_views.payer_list, name="payer-list"),
    path("payers/new/", reference_views.payer_create, name="payer-create"),
    path("payers/<int:pk>/", reference_views.payer_edit, name="payer-edit"),
    path("providers/", reference_views.provider_list, name="provider-list"),
    path("providers/new/", reference_views.provider_create, name="provider-create"),
    path("providers/<int:pk>/", reference_views.provider_edit, name="provider-edit"),
    path("access/memberships/<int:pk>/revoke/", views.revoke_membership, name="revoke-membership"),
    path("access/assignments/<int:pk>/revoke/", views.revoke_assignment, name="revoke-assignment"),
    # Account administration (issue 8): people, invitations, handover on revoke.
    path("people/", people_views.people, name="people"),
    path("people/invite/", people_views.invite, name="people-invite"),
    path("people/memberships/<int:pk>/", people_views.membership_edit, name="people-membership"),
    path(
        "people/memberships/<int:pk>/revoke/",
        people_views.membership_revoke,
        name="people-membership-revoke",
    ),
    path("people/assignments/<int:pk>/", people_views.assignment_edit, name="people-assignment"),
    path(
        "people/assignments/<int:pk>/revoke/",
        people_views.assignment_revoke,
        name="people-assignment-revoke",
    ),
    path("account/invite/<str:token>/", people_views.invite_accept, name="invite-accept"),
    path("account/mfa/recovery-codes/", recovery.recovery_codes, name="mfa-recovery-codes"),
    # Password reset by e-mail: it sets a password only; signing in still takes the second
    # factor (no sign-in after the reset, and the MFA step counts failures toward lockout).
    path(
        "account/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="practices/people/password_reset_form.html",
            email_template_name="practices/people/password_reset_email.txt",
            subject_template_name="practices/people/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "account/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="practices/people/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="practices/people/password_reset_confirm.html",
            post_reset_login=False,
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "account/password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="practices/people/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
