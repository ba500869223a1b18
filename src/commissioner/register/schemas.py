"""Request and response schemas of the REST API (/api/v1/).

Query schemas only document the parameters (names, types, allowed values) and refuse NUL
characters; the values are parsed by ``queries.*Filters.from_params``, the one place for filters,
so the API accepts exactly what the pages accept.
"""

from datetime import date, datetime
from typing import Annotated, Any

from django.conf import settings
from django.urls import reverse
from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, create_model, model_validator
from pydantic_core import PydanticCustomError

from commissioner.orgs.models import Organisation
from commissioner.register import queries
from commissioner.register.cpv import division_name
from commissioner.register.models import Status, SupplierType
from commissioner.register.queries import CONTRACT_SORTS, FEEDBACK_FILTERS, ORG_SORTS, PROVIDER_SORTS

# Largest id the databases store (signed 64-bit): anything larger is refused before the query.
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000


def _no_nul(value):
    if value is not None and "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def _text(description, *, enum=None, fmt=None, example=None):
    """An optional text query parameter, with its allowed values shown in the OpenAPI document.

    Fields are typed ``str`` with a None default (not ``str | None``) so that the OpenAPI document
    shows a plain string with its enum or format.
    """
    extra = {}
    if enum is not None:
        extra["enum"] = sorted(enum)
    if fmt:
        extra["format"] = fmt
    if example is not None:
        extra["example"] = example
    return Field(None, description=description, json_schema_extra=extra or None)


def api_url(context, name, **kwargs):
    """Absolute URL of an API endpoint, for links in responses."""
    path = reverse(f"api:{name}", kwargs=kwargs)
    request = (context or {}).get("request")
    return request.build_absolute_uri(path) if request is not None else path


# Query parameters -------------------------------------------------------------------------------


class QueryParams(BaseModel):
    """Query parameters; an empty value (``?provider=``, as an HTML form sends) counts as absent.

    A plain pydantic model: ninja's Schema would hand the validator a wrapped object, not the dict.
    """

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data):
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class PageParams(QueryParams):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    page_size: int = Field(
        settings.REGISTER_PAGE_SIZE, ge=1, le=settings.API_MAX_PAGE_SIZE,
        description=f"Results per page, at most {settings.API_MAX_PAGE_SIZE}.",
    )


class ContractQuery(QueryParams):
    q: Text = _text("Words that must all appear in the title, description, buyer or suppliers.",
                    example="parking")
    buyer: Text = _text("Buying organisation's slug (see /organisations).", example="merton")
    category: Text = _text("CPV division: the first two digits of the CPV code.", example="85")
    supplier_type: Text = _text("A supplier's type.", enum=SupplierType.values)
    status: Text = _text("Stage of the contracting process.", enum=Status.values)
    method: Text = _text("Procurement method (OCDS codelist).", example="open")
    value_min: Text = _text("Smallest value in GBP (commas and £ are allowed).", example="10000")
    value_max: Text = _text("Largest value in GBP.", example="1000000")
    start_from: Text = _text("Starting on or after this date (YYYY-MM-DD).", fmt="date")
    start_to: Text = _text("Starting on or before this date.", fmt="date")
    end_from: Text = _text("Ending on or after this date.", fmt="date")
    end_to: Text = _text("Ending on or before this date.", fmt="date")
    provider: int = Field(None, ge=1, le=MAX_ID, description="Provider id (see /providers).")
    feedback: Text = _text("Residents' feedback: contracts with published stories (any), with stories not yet "
                           "answered (unanswered) or without stories (none).", enum=list(FEEDBACK_FILTERS))
    sort: Text = _text("Order of results; '-' for descending. Default -published. stories: number of residents' "
                       "published stories; rating: their mean overall rating.", enum=CONTRACT_SORTS)


class ProviderQuery(QueryParams):
    q: Text = _text("Words in the provider's name or any of its identities, or a company number.")
    supplier_type: Text = _text("Provider type.", enum=SupplierType.values)
    buyer: Text = _text("Only providers with a contract from this organisation (slug).")
    sort: Text = _text("Order of results. Default -value.", enum=PROVIDER_SORTS)


class OrgQuery(QueryParams):
    q: Text = _text("Part of the name or an alias, or an exact GSS code.")
    kind: Text = _text("Kind of organisation.", enum=Organisation.Kind.values)
    region: Text = _text("Region, exactly as shown in results.", example="London")
    sort: Text = _text("Order of results. Default -contracts.", enum=ORG_SORTS)


# Responses --------------------------------------------------------------------------------------


def page_of(item, name):
    """The paginated response schema for a list of ``item``."""
    return create_model(
        name, __base__=Schema,
        count=(int, Field(..., description="Results matching the filters, on all pages.")),
        page=(int, ...), page_size=(int, ...), pages=(int, ...),
        next=(str | None, Field(..., description="URL of the next page, or null on the last.")),
        previous=(str | None, Field(..., description="URL of the previous page, or null on the first.")),
        results=(list[item], ...),
    )


class OrgRef(Schema):
    slug: str
    name: str
    gss_code: str


class SupplierRef(Schema):
    """A supplier of a contract as the notice names it, with the provider it was matched to."""

    provider_id: int
    provider_name: str
    name: str
    supplier_type: str
    scale: str
    is_vcse: bool | None


class ContractSupplier(SupplierRef):
    key: str
    scheme: str
    identifier: str
    companies_house: str
    charity_number: str
    identifiers: list[dict[str, Any]]
    award_id: str
    value: float | None = Field(..., description="This supplier's award value, where the notice gives one.")


def _supplier(link, detail=False):
    s, p = link.supplier, link.supplier.provider
    out = {"provider_id": p.pk, "provider_name": p.name, "name": s.name, "supplier_type": p.supplier_type,
           "scale": s.scale or p.scale, "is_vcse": s.is_vcse if s.is_vcse is not None else p.is_vcse}
    if detail:
        out.update(key=s.key, scheme=s.scheme, identifier=s.identifier, companies_house=s.companies_house,
                   charity_number=s.charity_number, identifiers=s.identifiers or [], award_id=link.award_id,
                   value=link.value)
    return out


class ContractItem(Schema):
    ocid: str
    url: str
    title: str
    buyer: OrgRef | None
    buyer_name: str
    status: str
    value: float | None = Field(..., description="Award value where awarded, else the tender value (GBP).")
    currency: str
    start_date: date | None
    end_date: date | None
    cpv: str
    category: str
    procurement_method: str
    delivery_model: str
    source: str
    is_private: bool
    published: datetime | None
    suppliers: list[SupplierRef]

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "contract_detail", ocid=obj.ocid)

    @staticmethod
    def resolve_category(obj):
        return division_name(obj.cpv_division) if obj.cpv_division else ""

    @staticmethod
    def resolve_suppliers(obj):
        return [_supplier(link) for link in obj.contract_suppliers.all()]


class ContractDetail(ContractItem):
    owner: OrgRef
    description: str
    reference: str
    tender_status: str
    procurement_method_details: str
    main_category: str
    cpv_description: str
    cpv_division: str
    tender_value: float | None
    tender_min_value: float | None
    award_value: float | None
    review_date: date | None
    tender_end_date: date | None
    suitable_sme: bool | None
    suitable_vcse: bool | None
    documents: list[dict[str, Any]]
    release_count: int
    history_url: str
    releases_url: str
    suppliers: list[ContractSupplier]
    compiled: dict[str, Any] | None = Field(
        None, description="The compiled OCDS release: only with ?include=compiled.")

    @staticmethod
    def resolve_suppliers(obj):
        return [_supplier(link, detail=True) for link in obj.contract_suppliers.all()]

    @staticmethod
    def resolve_history_url(obj, context):
        return api_url(context, "contract_history", ocid=obj.ocid)

    @staticmethod
    def resolve_releases_url(obj, context):
        return api_url(context, "release_package", ocid=obj.ocid)


class Change(Schema):
    path: str
    before: Any
    after: Any


class ReleaseOut(Schema):
    release_id: str
    date: datetime | None
    tags: list[str]
    changes: list[Change] = Field(..., description="What this release changed in the compiled record.")

    @staticmethod
    def resolve_changes(obj):
        return [{"path": path, "before": before, "after": after} for path, before, after in obj.changes]


class ContractHistory(Schema):
    ocid: str
    release_count: int
    releases: list[ReleaseOut]


class ProviderItem(Schema):
    id: int
    url: str
    name: str
    supplier_type: str
    scale: str
    is_vcse: bool | None
    companies_house: str
    charity_number: str
    is_private: bool
    contract_count: int
    total_value: float

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "provider_detail", provider_id=obj.pk)


class Identity(Schema):
    """One way the provider appears in notices, and why it was matched to this provider."""

    key: str
    name: str
    scheme: str
    identifier: str
    scale: str
    is_vcse: bool | None
    companies_house: str
    charity_number: str
    identifiers: list[dict[str, Any]]
    match: str
    match_detail: str


class ProviderDetail(ProviderItem):
    identities: list[Identity]
    contracts: list[ContractItem] = Field(
        ..., description=f"Its contracts you can see, largest first (at most {settings.API_MAX_PAGE_SIZE}).")
    contracts_url: str = Field(..., description="All its contracts, paginated and filterable.")

    @staticmethod
    def resolve_identities(obj):
        return obj.suppliers.all()

    @staticmethod
    def resolve_contracts(obj, context):
        visible = queries.provider_contracts(context["request"].user, obj)
        return queries.with_suppliers(visible)[:settings.API_MAX_PAGE_SIZE]

    @staticmethod
    def resolve_contracts_url(obj, context):
        return api_url(context, "list_contracts") + f"?provider={obj.pk}"


class OrgItem(Schema):
    slug: str
    url: str
    name: str
    kind: str
    gss_code: str
    la_code: str | None
    la_type_name: str
    region: str
    nation: str
    contract_count: int
    total_value: float

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "organisation_detail", slug=obj.slug)

    @staticmethod
    def resolve_contract_count(obj):
        return obj.n_contracts

    @staticmethod
    def resolve_total_value(obj):
        return obj.total_value or 0


class OrgDetail(OrgItem):
    former_gss_codes: str
    is_current: bool
    replaced_by: str
    population: int | None
    website: str
    contracts_url: str
    dashboard_url: str

    @staticmethod
    def resolve_contracts_url(obj, context):
        return api_url(context, "list_contracts") + f"?buyer={obj.slug}"

    @staticmethod
    def resolve_dashboard_url(obj, context):
        return api_url(context, "organisation_dashboard", slug=obj.slug)


class SupplierTypeShare(Schema):
    type: str
    label: str
    count: int
    value: float
    share: float = Field(..., description="Percentage of the awarded value.")


class CategoryShare(Schema):
    division: str
    name: str
    count: int
    value: float


class Ending(Schema):
    months: int
    until: date
    count: int
    value: float


class Dashboard(Schema):
    organisation: OrgRef
    as_at: date
    count: int
    value: float
    awarded_value: float
    sme_vcse_share: float | None = Field(..., description="Percentage of the awarded value going to SMEs and VCSEs.")
    by_supplier_type: list[SupplierTypeShare]
    by_category: list[CategoryShare]
    ending: list[Ending] = Field(..., description="Contracts ending within 6, 12 and 18 months of as_at.")


class Publisher(Schema):
    name: str


class ReleasePackage(Schema):
    """An OCDS 1.1 release package."""

    uri: str
    version: str
    publishedDate: str
    publisher: Publisher
    license: str
    releases: list[dict[str, Any]]


class Membership(Schema):
    organisation: OrgRef
    role: str


class Me(Schema):
    username: str
    is_superuser: bool
    memberships: list[Membership]
