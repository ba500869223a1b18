"""The REST API at /api/v1/: one NinjaAPI instance, errors as RFC 9457 problem details.

- Endpoints live beside their domain (register/api.py, orgs/api.py, ocds/api.py) and read only
  through ``register.queries``, so tenancy is enforced in one place.
- Authentication: the Django session cookie; anonymous clients read public data. Unsafe methods
  need the CSRF token (``X-CSRFToken``), as on the pages.
- Every error (400, 401, 403, 404, 405, 422, 429, 500) is ``application/problem+json``.
- The docs page (/api/v1/docs) uses the Swagger UI files shipped inside django-ninja, served
  from here: no CDN.
"""

import functools
import json
import logging
from http import HTTPStatus
from pathlib import Path

import ninja
from django.conf import settings
from django.core.exceptions import BadRequest, ObjectDoesNotExist, PermissionDenied, SuspiciousOperation
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.security import SessionAuth
from ninja.throttling import UserRateThrottle
from pydantic import Field

from commissioner.appraisal.api import router as appraisal_router
from commissioner.benchmarking.api import router as benchmarking_router
from commissioner.benchmarking.api_local import router as benchmarking_local_router
from commissioner.benchmarking.api_providers import router as benchmarking_providers_router
from commissioner.feedback.api import router as feedback_router
from commissioner.market.api import router as market_router
from commissioner.ocds.api import router as ocds_router
from commissioner.orgs.api import router as orgs_router
from commissioner.participation.api import router as participation_router
from commissioner.performance.api import router as performance_router
from commissioner.register.api import router as register_router
from commissioner.register.queries import FilterError
from commissioner.risk.api import router as risk_router
from commissioner.socialvalue.api import router as socialvalue_router

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types: "about:blank" (the status says it all) or this one, which adds an `errors` list.
INVALID_PARAMETERS = "urn:commissioner:problem:invalid-parameters"

request_logger = logging.getLogger("django.request")


# Problem details (RFC 9457) ---------------------------------------------------------------------


class ProblemError(Schema):
    name: str = Field(..., description="The parameter or field, e.g. page_size.")
    in_: str = Field(..., alias="in", description="Where it was: query, path, header, cookie or body.")
    detail: str
    code: str = Field(..., description="Machine-readable reason, e.g. less_than_equal, invalid.")


class Problem(Schema):
    type: str = Field(..., description=f"'about:blank', or '{INVALID_PARAMETERS}' for invalid parameters.")
    title: str
    status: int
    detail: str
    instance: str = Field(..., description="The request path and query that caused the problem.")
    errors: list[ProblemError] | None = Field(None, description="Each invalid parameter (422 only).")


def problem(request, status, detail, *, type="about:blank", title=None, errors=None, headers=None):
    body = {"type": type, "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail,
            "instance": request.get_full_path()}
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid_parameters(request, errors):
    detail = "; ".join(f"{e['name']}: {e['detail']}" for e in errors)
    return problem(request, 422, detail, type=INVALID_PARAMETERS, title="Invalid request parameters",
                   errors=errors)


def on_validation_error(request, exc: ValidationError):
    errors = []
    for error in exc.errors:
        where, *name = error.get("loc") or ("query",)
        errors.append({"name": ".".join(str(part) for part in name) or str(where), "in": str(where),
                       "detail": error.get("msg", "invalid value"), "code": error.get("type", "invalid")})
    return invalid_parameters(request, errors)


def on_filter_error(request, exc: FilterError):
    return invalid_parameters(request, [{"name": exc.field, "in": "query", "detail": exc.message,
                                         "code": "invalid"}])


def on_not_found(request, exc):
    message = str(exc) if isinstance(exc, Http404) and exc.args else ""
    return problem(request, 404, message or "Nothing here: check the path, or whether you need to log in.")


def on_http_error(request, exc: HttpError):
    if isinstance(exc, AuthenticationError):
        return problem(request, 401, "Log in first: this endpoint needs a session cookie.",
                       headers={"WWW-Authenticate": f'Cookie realm="{settings.SITE_NAME}", '
                                                    f'cookie-name="{settings.SESSION_COOKIE_NAME}"'})
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    return problem(request, status, str(exc))


def on_permission_denied(request, exc):
    return problem(request, 403, str(exc) or "You may not do this.")


def on_bad_request(request, exc):
    if isinstance(exc, SuspiciousOperation):
        logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc))
    return problem(request, 400, "The request is malformed or too large.")


def on_server_error(request, exc):
    request_logger.error("Internal Server Error: %s", request.path, exc_info=exc,
                         extra={"status_code": 500, "request": request})
    return problem(request, 500, "Something went wrong on our side; it has been logged.")


def _is_problem(response):
    return response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)


def with_problem_405(view):
    """Answer HEAD like GET, and turn ninja's plain 405 into a problem document."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "HEAD":
            request.method = "GET"  # the server drops the body, as Django's class-based views do
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not _is_problem(response):
            allowed = response.get("Allow", "")
            if "GET" in allowed.split(", "):
                allowed += ", HEAD"
            response = problem(request, 405, f"{request.method} is not allowed here; use {allowed}.",
                               headers={"Allow": allowed})
        return response

    return wrapper


# Authentication and throttling ------------------------------------------------------------------


class OptionalSessionAuth(SessionAuth):
    """The session if there is one, else anonymous; still checks CSRF on unsafe methods."""

    def authenticate(self, request, key):
        return request.user  # AnonymousUser is truthy: anonymous clients read public data


class ConfiguredThrottle(UserRateThrottle):
    """Requests per client (user, else address), from ``settings.API_THROTTLE_RATE`` such as "600/m".

    Off when the setting is absent. Counts live in Django's cache (per process unless a shared
    cache is configured).
    """

    scope = "api"

    def __init__(self):  # the rate is read per request, so a settings change applies at once
        self.rate, self.num_requests, self.duration = None, None, None

    def allow_request(self, request):
        self.rate = getattr(settings, "API_THROTTLE_RATE", None)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


# Docs with local assets -------------------------------------------------------------------------

ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {  # name -> content type; nothing else in the directory is served
    "swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript", "favicon.svg": "image/svg+xml", "favicon.png": "image/png",
}
DOCS_PAGE = engines["django"].from_string("""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ assets }}swagger-ui.css">
  <link rel="icon" href="{{ assets }}favicon.svg" type="image/svg+xml">
</head>
<body data-csrf-token="{{ csrf_token }}" data-api-csrf="true">
  <script type="application/json" id="swagger-settings">{{ swagger_settings|safe }}</script>
  <div id="swagger-ui"></div>
  <script src="{{ assets }}swagger-ui-bundle.js"></script>
  <script src="{{ assets }}swagger-ui-init.js"></script>
</body>
</html>
""")


class LocalSwagger(DocsBase):
    """Swagger UI from django-ninja's own files (ninja would use a CDN unless it is an installed app)."""

    def render_page(self, request, api, **kwargs):
        # validatorUrl None: Swagger UI would otherwise load a badge from validator.swagger.io.
        config = {"layout": "BaseLayout", "deepLinking": True, "validatorUrl": None,
                  "url": self.get_openapi_url(api, kwargs)}
        assets = reverse(f"{api.urls_namespace}:docs_asset", kwargs={"name": "x"})[:-1]
        return HttpResponse(DOCS_PAGE.render({
            "title": api.title, "assets": assets, "csrf_token": get_token(request),
            "swagger_settings": json.dumps(config).replace("<", "\\u003c"),
        }, request))


# The API ----------------------------------------------------------------------------------------

PROBLEM_STATUSES_ALWAYS = (400, 429, 500)


class ProblemAPI(NinjaAPI):
    """A NinjaAPI whose every error, including 404 for unknown paths and 405, is a problem document."""

    def set_default_exception_handlers(self):
        for exc_class, handler in (
            (Exception, on_server_error), (ValidationError, on_validation_error),
            (FilterError, on_filter_error), (Http404, on_not_found), (ObjectDoesNotExist, on_not_found),
            (HttpError, on_http_error), (PermissionDenied, on_permission_denied),
            (SuspiciousOperation, on_bad_request), (BadRequest, on_bad_request),
        ):
            self.add_exception_handler(exc_class, handler)

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            pattern.callback = self.index if pattern.name == "api-root" else with_problem_405(pattern.callback)
        patterns.append(re_path(r"^", self.unknown_path, name="unknown-path"))
        return patterns, app_name, namespace

    @csrf_exempt
    def index(self, request, **kwargs):
        def url(name, **kw):
            return request.build_absolute_uri(reverse(f"{self.urls_namespace}:{name}", kwargs=kw))

        return JsonResponse({
            "title": self.title, "version": self.version, "docs": url("openapi-view"),
            "openapi": url("openapi-json"), "contracts": url("list_contracts"),
            "providers": url("list_providers"), "organisations": url("list_organisations"),
        })

    @csrf_exempt
    def unknown_path(self, request, **kwargs):
        return problem(request, 404, f"There is no API endpoint at {request.path}; see the docs.")

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's schema, plus the problem responses and optional session auth on every operation."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema["components"]
        problem_schema = Problem.model_json_schema(by_alias=True,
                                                   ref_template="#/components/schemas/{model}")
        components["schemas"].update(problem_schema.pop("$defs", {}))
        components["schemas"]["Problem"] = problem_schema
        schemes = components.setdefault("securitySchemes", {})
        if schemes.pop(OptionalSessionAuth.__name__, None) is not None:
            schemes["SessionAuth"] = OptionalSessionAuth().openapi_security_schema
        for item in schema["paths"].values():
            for method, operation in item.items():
                statuses = set(PROBLEM_STATUSES_ALWAYS)
                where = {p["in"] for p in operation.get("parameters", [])}
                if where:
                    statuses.add(422)
                if "path" in where:
                    statuses.add(404)
                if operation.get("security") == [{OptionalSessionAuth.__name__: []}]:
                    operation["security"] = [{}, {"SessionAuth": []}]
                elif operation.get("security"):
                    statuses.add(401)
                if method not in ("get", "head", "options"):
                    statuses.add(403)
                for status in sorted(statuses):
                    operation["responses"].setdefault(status, {
                        "description": HTTPStatus(status).phrase,
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    })
        return schema


api = ProblemAPI(
    title=f"{settings.SITE_NAME} API",
    version="1",
    description=(
        "Contracts, providers and organisations from the register, read-only. Anonymous clients see "
        "public data; with a session cookie you also see your organisation's private records. "
        "Errors are RFC 9457 problem details. See docs/api.md."
    ),
    urls_namespace="api",
    docs=LocalSwagger(),
    auth=OptionalSessionAuth(),
    throttle=ConfiguredThrottle(),
)


@api.get("/docs/assets/{name}", include_in_schema=False, auth=None)
def docs_asset(request, name: str):
    if name not in ASSETS:
        raise Http404(f"No docs asset '{name[:60]}'.")
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=ASSETS[name])  # closed by Django
    response["Cache-Control"] = "public, max-age=86400"
    return response


# The routers share no path prefix, so their order does not matter (within the register router,
# /contracts/{ocid}/history must come before /contracts/{ocid}).
api.add_router("", register_router)
api.add_router("", orgs_router)
api.add_router("", ocds_router)
api.add_router("", performance_router, tags=["performance"])
api.add_router("", benchmarking_router, tags=["benchmarking"])
api.add_router("", benchmarking_local_router, tags=["benchmarking"])
api.add_router("", benchmarking_providers_router, tags=["benchmarking"])
api.add_router("", risk_router, tags=["risk"])
api.add_router("", market_router, tags=["market"])
api.add_router("", appraisal_router, tags=["appraisal"])
api.add_router("", socialvalue_router, tags=["socialvalue"])
api.add_router("", feedback_router, tags=["feedback"])
api.add_router("", participation_router, tags=["participation"])
