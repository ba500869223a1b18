"""Returns uploaded as CSV (to be written)."""

from django.http import Http404


def returns_upload(request, ocid):
    raise Http404("not written yet")
