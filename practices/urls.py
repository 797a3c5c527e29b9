from django.urls import path

from practices import account_views, stepup, token_views, views

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
    path("access/memberships/<int:pk>/revoke/", views.revoke_membership, name="revoke-membership"),
    path("access/assignments/<int:pk>/revoke/", views.revoke_assignment, name="revoke-assignment"),
]
