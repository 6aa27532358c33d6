from django.urls import path

from articles import api

app_name = "api"

urlpatterns = [
    path("search", api.search, name="search"),
    path("articles/<int:pk>", api.article, name="article"),
]
