from django.http import JsonResponse


def search(request):
    return JsonResponse({"count": 0, "results": []})


def article(request, pk):
    return JsonResponse({"error": "TODO"}, status=404)
