from django.urls import path

from articles.views import browse, errors, reading, search

app_name = "articles"

urlpatterns = [
    path("", browse.home, name="home"),
    path("search/", search.search_page, name="search"),
    path("articles/<int:pk>/", reading.article_detail, name="detail-noslug"),
    path("articles/<int:pk>/<str:slug>/", reading.article_detail, name="detail"),
    path("sources/", browse.source_list, name="sources"),
    path("sources/<str:slug>/", browse.source_detail, name="source"),
    path("topics/", browse.topic_list, name="topics"),
    path("topics/<str:slug>/", browse.topic_detail, name="topic"),
    path("archive/", browse.archive_index, name="archive"),
    path("archive/<int:year>/", browse.archive_year, name="archive-year"),
    path("archive/<int:year>/<int:month>/", browse.archive_month, name="archive-month"),
    path("about/", browse.about, name="about"),
    path("healthz", errors.healthz, name="healthz"),
]
