from django.http import HttpResponse


def search_page(request):
    return HttpResponse("TODO", content_type="text/plain")
