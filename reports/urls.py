from django.urls import path

from reports import api, views

urlpatterns = [
    path("kpis/", views.kpi_dashboard, name="kpi-dashboard"),
    path("kpis/export.csv", views.kpi_export, name="kpi-export"),
    path("kpis/vendor/", views.vendor_console, name="kpi-console"),
    path("kpis/mine/", views.my_throughput, name="kpi-mine"),
]
api_urlpatterns: list = [
    path("kpis/", api.KpiAPIView.as_view(), name="api-kpis"),
]
