from django.urls import path

from praxisbote.portal import views

app_name = "portal"

urlpatterns = [
    path("t/<str:code>", views.slip_page, name="slip"),
    path("t/<str:code>/ics", views.slip_ics, name="slip_ics"),
    path("t/<str:code>/cannot-come", views.cannot_come, name="cannot_come"),
    path("o/<str:code>", views.offer_page, name="offer"),
    path("o/<str:code>/take", views.offer_take, name="offer_take"),
]
