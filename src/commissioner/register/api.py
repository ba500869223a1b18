"""API endpoints for contracts and providers, and the helpers the other API routers share.

Every read goes through ``register.queries`` (tenancy-scoped by ``visible_to``); filters are parsed
by its ``*Filters.from_params`` so the API accepts exactly what the pages accept.
"""

from math import ceil
from typing import Literal

from django.http import Http404, StreamingHttpResponse
from ninja import Path, Query, Router

from commissioner.ocds.models import Release
from commissioner.register import queries
from commissioner.register.models import Contract, Provider
from commissioner.register.queries import FilterError
from commissioner.register.schemas import (
    MAX_ID,
    ContractDetail,
    ContractHistory,
    ContractItem,
    ContractQuery,
    PageParams,
    ProviderDetail,
    ProviderItem,
    ProviderQuery,
    Text,
    page_of,
)

router = Router()

CSV_RESPONSE = {"responses": {200: {"description": "CSV, one row per record, with a header row.",
                                    "content": {"text/csv": {"schema": {"type": "string"}}}}}}


def filters_of(cls, params):
    """Parse the documented query parameters with the shared filter parser (FilterError names the bad one)."""
    return cls.from_params(params.model_dump(exclude_none=True))


def paginate(request, qs, paging: PageParams):
    """One page of ``qs`` with its count and links; a page past the last is a 422 naming ``page``."""
    count = qs.count()
    pages = max(1, ceil(count / paging.page_size))
    if paging.page > pages:
        raise FilterError("page", f"page {paging.page} is past the last page ({pages})")
    start = (paging.page - 1) * paging.page_size

    def link(page):
        params = request.GET.copy()
        params["page"] = str(page)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

    return {
        "count": count, "page": paging.page, "page_size": paging.page_size, "pages": pages,
        "next": link(paging.page + 1) if paging.page < pages else None,
        "previous": link(paging.page - 1) if paging.page > 1 else None,
        "results": list(qs[start:start + paging.page_size]),
    }


def csv_response(rows, filename):
    response = StreamingHttpResponse(queries.csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def contract_or_404(user, ocid):
    try:
        return queries.contract(user, ocid)
    except Contract.DoesNotExist:
        raise Http404(f"No contract with ocid '{ocid[:200]}'.") from None


# Contracts --------------------------------------------------------------------------------------


@router.get("/contracts", response=page_of(ContractItem, "ContractPage"), tags=["contracts"])
def list_contracts(request, filters: Query[ContractQuery], paging: Query[PageParams]):
    """Contracts you can see, filtered and sorted like the register page."""
    qs = queries.contracts(request.user, filters_of(queries.ContractFilters, filters))
    return paginate(request, queries.with_suppliers(qs), paging)


@router.get("/contracts.csv", tags=["contracts"], openapi_extra=CSV_RESPONSE)
def contracts_csv(request, filters: Query[ContractQuery]):
    """The filtered contracts (every page) as CSV: the same columns as the register download."""
    qs = queries.contracts(request.user, filters_of(queries.ContractFilters, filters))
    return csv_response(queries.contract_csv_rows(qs), "contracts.csv")


# Before /contracts/{ocid}: an ocid may contain '/', so that route would also match '.../history'.
@router.get("/contracts/{path:ocid}/history", response=ContractHistory, tags=["contracts"])
def contract_history(request, ocid: Path[Text]):
    """The releases of a contracting process in date order, each with what it changed."""
    contract = contract_or_404(request.user, ocid)
    releases = Release.objects.filter(ocid=contract.ocid).order_by("date", "id").only(
        "release_id", "date", "tags", "changes")
    return {"ocid": contract.ocid, "release_count": len(releases), "releases": releases}


@router.get("/contracts/{path:ocid}", response=ContractDetail, tags=["contracts"])
def contract_detail(request, ocid: Path[Text], include: Literal["compiled"] = Query(
        None, description="'compiled' adds the compiled OCDS release.")):
    """One contract with its suppliers, documents and values; the compiled OCDS release on request."""
    from commissioner.ocds.services import compiled_releases

    contract = contract_or_404(request.user, ocid)
    contract.compiled = compiled_releases([contract.ocid]).get(contract.ocid) if include == "compiled" else None
    return contract


# Providers --------------------------------------------------------------------------------------


@router.get("/providers", response=page_of(ProviderItem, "ProviderPage"), tags=["providers"])
def list_providers(request, filters: Query[ProviderQuery], paging: Query[PageParams]):
    """Providers you can see: one entity however many names and ids it appears under."""
    qs = queries.providers(request.user, filters_of(queries.ProviderFilters, filters))
    return paginate(request, qs, paging)


@router.get("/providers.csv", tags=["providers"], openapi_extra=CSV_RESPONSE)
def providers_csv(request, filters: Query[ProviderQuery]):
    qs = queries.providers(request.user, filters_of(queries.ProviderFilters, filters))
    return csv_response(queries.provider_csv_rows(qs), "providers.csv")


@router.get("/providers/{provider_id}", response=ProviderDetail, tags=["providers"])
def provider_detail(request, provider_id: int = Path(..., ge=1, le=MAX_ID)):
    """A provider with its identities (how each was matched) and its contracts."""
    try:
        return queries.providers(request.user).get(pk=provider_id)
    except Provider.DoesNotExist:
        raise Http404(f"No provider with id {provider_id}.") from None
