"""Assignment pages (namespace ``assignments``): setting, progress, grading, exports and
the course dashboard."""

from __future__ import annotations

from django.urls import path

from annotations.views import assignments as views
from annotations.views import dashboard, exports

app_name = "assignments"

urlpatterns = [
    path("courses/<int:pk>/assignments/", views.assignment_list, name="list"),
    path("courses/<int:pk>/assignments/new/", views.assignment_create, name="create"),
    path("courses/<int:pk>/dashboard/", dashboard.course_dashboard, name="dashboard"),
    path("courses/<int:pk>/work.json", exports.course_work_json, name="course-work-json"),
    path("assignments/<int:pk>/", views.assignment_detail, name="detail"),
    path("assignments/<int:pk>/edit/", views.assignment_edit, name="edit"),
    path("assignments/<int:pk>/delete/", views.assignment_delete, name="delete"),
    path("assignments/<int:pk>/progress/", views.class_table, name="progress"),
    path("assignments/<int:pk>/grades/<int:user_id>/", views.grade_edit, name="grade"),
    path("assignments/<int:pk>/extensions/", views.extension_grant, name="extension-grant"),
    path(
        "assignments/<int:pk>/extensions/<int:user_id>/revoke/",
        views.extension_revoke,
        name="extension-revoke",
    ),
    path("assignments/<int:pk>/release/", views.grades_release, name="release"),
    path("assignments/<int:pk>/withhold/", views.grades_withhold, name="withhold"),
    path("assignments/<int:pk>/grades.csv", exports.grades_csv, name="grades-csv"),
    path("assignments/<int:pk>/canvas.csv", exports.grades_canvas_csv, name="grades-canvas-csv"),
    path("assignments/<int:pk>/work.json", exports.assignment_work_json, name="work-json"),
]
