from django.urls import path

from praxisbote.web.views import (
    account,
    appointments,
    email,
    messages,
    outbox,
    patients,
    practice,
    sms,
    texts,
)

app_name = "web"

urlpatterns = [
    path("", practice.home, name="home"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("account/password/", account.password_change, name="password_change"),
    path("practice/", practice.practice_settings, name="practice_settings"),
    path("api-keys/", practice.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", practice.api_key_revoke, name="api_key_revoke"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", patients.patient_detail, name="patient_detail"),
    path("patients/<uuid:patient_id>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<uuid:patient_id>/export/", patients.patient_export, name="patient_export"),
    path("patients/<uuid:patient_id>/erase/", patients.patient_erase, name="patient_erase"),
    path("categories/", patients.category_list, name="categories"),
    path("categories/new/", patients.category_create, name="category_create"),
    path("categories/<int:category_id>/edit/", patients.category_edit, name="category_edit"),
    path("protocol/", messages.protocol, name="protocol"),
    path("protocol/<uuid:message_id>/", messages.message_detail, name="message_detail"),
    path("protocol/<uuid:message_id>/cancel/", messages.message_cancel, name="message_cancel"),
    path("messages/new/", messages.compose, name="message_create"),
    path("templates/", texts.template_list, name="templates"),
    path("templates/blocks/", texts.blocks_edit, name="text_blocks"),
    path("templates/preview/", texts.template_preview, name="template_preview"),
    path(
        "templates/<str:kind>/<str:channel>/<str:language>/",
        texts.template_edit,
        name="template_edit",
    ),
    path("appointments/", appointments.day_list, name="appointments"),
    path("appointments/new/", appointments.create, name="appointment_create"),
    path(
        "appointments/<uuid:appointment_id>/",
        appointments.detail,
        name="appointment_detail",
    ),
    path(
        "appointments/<uuid:appointment_id>/move/",
        appointments.move,
        name="appointment_move",
    ),
    path(
        "appointments/<uuid:appointment_id>/copy/",
        appointments.copy,
        name="appointment_copy",
    ),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        appointments.cancel,
        name="appointment_cancel",
    ),
    path("outbox/", outbox.outbox, name="outbox"),
    path("channels/", outbox.channels, name="channels"),
    path("channels/email/", email.email_settings_page, name="email_settings"),
    path("webhook/", outbox.webhook, name="webhook"),
    path("sms/", sms.sms_settings_page, name="sms_settings"),
]
