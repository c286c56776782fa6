from __future__ import annotations

from django.urls import path

from pmrtrial.edc.ui import views

urlpatterns = [
    path("login/", views.EdcLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.home, name="home"),
    path("language/", views.language, name="language"),
    path("screen/", views.screen, name="screen"),
    path("queries/", views.queries, name="queries"),
    path("queries/<int:query_id>/", views.query_action, name="query_action"),
    path("unblinding/", views.unblinding, name="unblinding"),
    path("database/", views.database, name="database"),
    path("export/", views.export, name="export"),
    path("p/<str:subject_id>/", views.participant, name="participant"),
    path("p/<str:subject_id>/action/", views.participant_action, name="participant_action"),
    path("p/<str:subject_id>/audit/", views.audit, name="audit"),
    path("p/<str:subject_id>/gc/", views.gc_log, name="gc_log"),
    path("p/<str:subject_id>/flares/", views.flares, name="flares"),
    path("p/<str:subject_id>/f/<str:key>/<str:form>/", views.form, name="form"),
    path("p/<str:subject_id>/f/<str:key>/<str:form>/preview/", views.preview, name="preview"),
]
