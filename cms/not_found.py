"""The site's own 404 page in development too.

With ``DEBUG`` on, Django answers a missing page with its English technical page, ignoring
the site's handler; a developer trying the site as readers do should see what readers see.
Views that raise Http404 go through ``process_exception`` before Django's debug handling."""

from django.http import Http404
from django.views.defaults import page_not_found


class SiteNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
