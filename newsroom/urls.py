"""Newsroom's URLs: the public site, the JSON API and the admin."""
from django.contrib import admin
from django.urls import include, path

from articles.security import ThrottledAdminAuthenticationForm

# Says plainly when too many failed sign-ins have paused signing in.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", include("articles.urls")),
    path("api/", include("articles.api_urls")),
    path("admin/", admin.site.urls),
]

handler404 = "articles.views.errors.page_not_found"
handler500 = "articles.views.errors.server_error"
