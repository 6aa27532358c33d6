from django.http import HttpResponse, HttpResponseNotFound, HttpResponseServerError


def page_not_found(request, exception=None):
    return HttpResponseNotFound("Not found")


def server_error(request):
    return HttpResponseServerError("Server error")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
