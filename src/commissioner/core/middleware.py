"""Security headers that Django does not set itself."""

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'"
)
# The API docs page (Swagger UI from django-ninja's local assets) needs inline styles.
CSP_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs") or request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", CSP_DOCS)
        else:
            response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
