from django.shortcuts import render

from rfi import permissions


@permissions.require(permissions.can_view_internal_pages)
def index(request):
    return render(request, "tenders/index.html")
