from django.http import HttpResponse


def article_detail(request, pk, slug=None):
    return HttpResponse("TODO", content_type="text/plain")
