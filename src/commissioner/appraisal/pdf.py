"""The appraisal as a PDF for members (WeasyPrint). Nothing is fetched from outside: the url_fetcher refuses every
URL except the project's own static files, and the report uses none by default (inline CSS and SVG)."""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone


class RemoteResourceRefused(ValueError):
    pass


def _static_roots():
    roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [r.resolve() for r in roots]


def local_only(url):
    """True for a file: URL under the static directories; anything else (http, https, ...) is refused."""
    if not url.startswith("file://"):
        return False
    path = Path(url[len("file://"):].split("?")[0]).resolve()
    return any(path.is_relative_to(root) for root in _static_roots())


def url_fetcher():
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if not local_only(url):
                raise RemoteResourceRefused(f"refused to fetch {url[:200]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=("file",))


def render_pdf(appraisal, context) -> bytes:
    from weasyprint import HTML

    html = render_to_string("appraisal/report.html", {**context, "generated": timezone.now()})
    return HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=url_fetcher()).write_pdf()
