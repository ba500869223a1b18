"""API endpoints for local value measures (/api/v1/benchmarking/local-measures...).

Reads are public for published (and retired) measures, as on the pages; a draft is visible only to its
council's admins and commissioners (a 404 to anyone else). Writes need a session and the CSRF token
(``X-CSRFToken``), like every other unsafe method of the API; they go through ``benchmarking.services``,
which decide who may act (403, recorded in the audit trail) and what is valid (422 naming the field).
The comparison endpoint gives the councils using the same version as the chosen council, with the same
rank, percentile, quartile and MAD figures as the national measure endpoint.
"""

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Body, Field, Path, Query, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.security import django_auth
from pydantic import StringConstraints

from commissioner.benchmarking import local_views, queries, services
from commissioner.benchmarking.api import table_out
from commissioner.benchmarking.models import Measure
from commissioner.benchmarking.schemas import CouncilRef, MeasureTableOut, PeriodText, SlugText
from commissioner.orgs.models import Organisation
from commissioner.performance.schemas import NumberOrText
from commissioner.register.api import paginate
from commissioner.register.queries import FilterError
from commissioner.register.schemas import PageParams, QueryParams, Text, api_url, page_of

router = Router(tags=["benchmarking"])

CodeText = Annotated[Text, StringConstraints(max_length=40)]
# Generous limits: the services give the precise message (naming the field) for anything longer.
LongText = Annotated[Text, StringConstraints(max_length=20000)]


# Schemas ----------------------------------------------------------------------------------------

class LocalParams(QueryParams):
    q: Annotated[Text, StringConstraints(max_length=local_views.MAX_QUERY)] = Field(
        None, description="Words to find in the code, name, definition or owner council's name.")


class ComparisonParams(QueryParams):
    org: SlugText = Field(..., description="The council (slug) to compare: it must use the measure.",
                          json_schema_extra={"example": "doncaster"})
    period: PeriodText = Field(None, description="The period, e.g. 2023-24; default the latest.")


class LocalMeasureItem(Schema):
    code: str
    name: str
    owner: CouncilRef
    version: int
    status: str = Field(..., description="draft, published or retired.")
    unit: str
    polarity: str = Field(..., description="higher, lower or none (neither is better).")
    definition: str
    collection: str = Field(..., description="How the values are collected.")
    synthetic: bool = Field(..., description="Made-up demo values, not real data.")
    councils_using: int = Field(..., description="The owner and every adopter, on any version.")
    adopters: int
    url: str

    @staticmethod
    def resolve_councils_using(obj):
        return obj.adopters + 1

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "benchmarking_local_measure", code=obj.code)


class VersionOut(Schema):
    version: int
    name: str
    definition: str
    unit: str
    polarity: str
    collection: str
    published: datetime = Field(..., alias="created_at")


class CouncilUsing(Schema):
    organisation: CouncilRef
    role: str = Field(..., description="owner or adopter.")
    version: int = Field(..., description="The version the council uses (the owner: always the latest).")
    since: datetime


COMPARISON = ("each council is compared with the councils using the same version (its owner and adopters on that "
              "version): see .../comparison?org=<slug>")


class LocalMeasureOut(LocalMeasureItem):
    councils: list[CouncilUsing] = Field(..., description="Owner first, then adopters by name.")
    versions: list[VersionOut] = Field(..., description="Each published version's text, latest first.")
    comparison: str = Field(COMPARISON, description="How councils are compared.")

    @staticmethod
    def resolve_councils(obj):
        return [{"organisation": o, "role": role, "version": v, "since": since}
                for o, v, since, role in local_views.adoption_rows(obj)]

    @staticmethod
    def resolve_versions(obj):
        return list(obj.versions.all())


class AdoptionOut(Schema):
    measure: str
    organisation: CouncilRef
    version: int | None = Field(..., description="The version used; null once the council stopped using it.")
    latest_version: int


class ValueOut(Schema):
    measure: str
    organisation: CouncilRef
    period: str
    value: float
    version: int = Field(..., description="The measure version the value was recorded under.")
    note: str
    created: bool = Field(..., description="True for a new value; false when it replaced or repeated one.")
    changed: bool = Field(..., description="False when the same value was already recorded (nothing saved).")
    synthetic: bool


# Request bodies: one body parameter per field, so that a problem names the field as sent.
OrgField = Annotated[SlugText | None, Body(None, description=(
    "The council acting (its slug or three-letter code); default your only council."))]
NameField = Annotated[LongText | None, Body(None, description="Up to 300 characters.")]
DefinitionField = Annotated[LongText | None, Body(None, description="What is counted and how it is worked out.")]
UnitField = Annotated[LongText | None, Body(None, description="For example % (up to 60 characters).")]
PolarityField = Annotated[LongText | None, Body(None, description="higher, lower or none.")]
CollectionField = Annotated[LongText | None, Body(None, description="How the values are collected.")]
ConfirmField = Annotated[bool, Body(False, description=(
    "Set true to confirm a change that makes a new version (definition, unit, polarity or collection)."))]
PeriodField = Annotated[Annotated[Text, StringConstraints(max_length=40)], Body(..., description=(
    "2023-24, 2023/24, FY2024 or a calendar year 2024."))]
ValueField = Annotated[NumberOrText, Body(..., description="A JSON number or a numeric string.")]
NoteField = Annotated[LongText | None, Body(None, description="Up to 200 characters.")]


class ActingBody(Schema):
    organisation: SlugText | None = Field(None, description=(
        "The council acting (its slug or three-letter code); default your only council."))


# Helpers ----------------------------------------------------------------------------------------

def _invalid(field, message):
    return ValidationError([{"loc": ("body", field), "msg": message, "type": "invalid"}])


def _call(fn, **kwargs):
    """Run a service: NotAllowed is a 403 (already audited), other bad input a 422 naming the field."""
    try:
        return fn(**kwargs)
    except services.NotAllowed as e:
        raise PermissionDenied(e.message) from None
    except services.BenchmarkError as e:
        raise _invalid(e.field, e.message) from None


def _measure(user, code) -> Measure:
    try:
        return local_views.visible_local(user, code)
    except Http404:
        raise Http404(f"No local value measure with code '{code[:40]}'.") from None


def _detail(measure):
    measure.adopters = measure.adoptions.count()
    return measure


def _org(user, ref):
    """The council named (slug or three-letter code), else the user's only council; 422 naming it otherwise."""
    if ref:
        org = (Organisation.objects.filter(slug=ref).first()
               or Organisation.objects.filter(la_code=ref.upper()).first())
        if org is None:
            raise _invalid("organisation", f"no council '{ref[:120]}'")
        return org
    orgs = list(local_views.acting_organisations(user)[:2]) if not user.is_superuser else []
    if len(orgs) != 1:
        raise _invalid("organisation", "say which council this is for (its slug)")
    return orgs[0]


# Reads ------------------------------------------------------------------------------------------

@router.get("/benchmarking/local-measures", response=page_of(LocalMeasureItem, "LocalMeasurePage"),
            url_name="benchmarking_local_measures")
def list_local_measures(request, params: Query[LocalParams], paging: Query[PageParams]):
    """Published local value measures, with how many councils use each (owner + adopters)."""
    return paginate(request, local_views.local_measures(params.q or ""), paging)


@router.get("/benchmarking/local-measures/{code}", response=LocalMeasureOut, url_name="benchmarking_local_measure")
def local_measure(request, code: Path[CodeText]):
    """One local value measure: its text, every published version, and the councils using it."""
    return _detail(_measure(request.user, code))


@router.get("/benchmarking/local-measures/{code}/comparison", response=MeasureTableOut,
            url_name="benchmarking_local_comparison")
def local_comparison(request, code: Path[CodeText], params: Query[ComparisonParams]):
    """The council against the councils using the same version of the measure: rank, percentile, quartile,
    MADs from the median and a sentence (peer group 'adopters')."""
    measure = _measure(request.user, code)
    org = Organisation.objects.filter(slug=params.org).first()
    if org is None:
        raise FilterError("org", f"no council with slug '{params.org[:120]}'")
    if queries.adopters_version(measure, org) is None:
        raise FilterError("org", f"{org.name} does not use {measure.code}")
    if params.period is not None and params.period not in queries.measure_periods(measure):
        raise FilterError("period", f"{measure.code} has no rows for '{params.period[:20]}'")
    return table_out(queries.measure_table(measure, params.period, peer_key="adopters", org=org, user=request.user))


# Writes -----------------------------------------------------------------------------------------

@router.post("/benchmarking/local-measures", response={201: LocalMeasureOut}, auth=django_auth,
             url_name="benchmarking_local_create")
def create_local_measure(request, organisation: OrgField, name: NameField, definition: DefinitionField,
                         unit: UnitField, polarity: PolarityField, collection: CollectionField):
    """Define a local value measure for your council (a draft: publish it for others to adopt)."""
    owner = _org(request.user, organisation)
    measure = _call(services.define_local_measure, actor=request.user, owner=owner, data=dict(
        name=name, definition=definition, unit=unit, polarity=polarity, collection=collection))
    return Status(201, _detail(measure))


@router.post("/benchmarking/local-measures/{code}/update", response=LocalMeasureOut, auth=django_auth,
             url_name="benchmarking_local_update")
def update_local_measure(request, code: Path[CodeText], name: NameField, definition: DefinitionField,
                         unit: UnitField, polarity: PolarityField, collection: CollectionField,
                         confirm_new_version: ConfirmField):
    """Change a local measure. Fields left out keep their value. Once published, a change of definition, unit,
    polarity or collection is a new version and needs confirm_new_version: true."""
    measure = _measure(request.user, code)
    given = {"name": name, "definition": definition, "unit": unit, "polarity": polarity, "collection": collection}
    data = {k: getattr(measure, k) if v is None else v for k, v in given.items()}
    if measure.is_local and measure.status != Measure.Status.DRAFT and not confirm_new_version:
        _call(services.require_owner, actor=request.user, measure=measure, attempt="change this measure")
        _, new_version = _call(services.changes, measure=measure, data=data)
        if new_version:
            raise _invalid("confirm_new_version", f"this changes what {measure.code} means: it makes version "
                                                  f"{measure.version + 1}; send confirm_new_version: true")
    measure, _ = _call(services.update_local_measure, actor=request.user, measure=measure, data=data)
    return _detail(measure)


@router.post("/benchmarking/local-measures/{code}/publish", response=LocalMeasureOut, auth=django_auth,
             url_name="benchmarking_local_publish")
def publish_local_measure(request, code: Path[CodeText]):
    """Publish a draft (or bring back a retired measure): other councils can then adopt it."""
    return _detail(_call(services.publish, actor=request.user, measure=_measure(request.user, code)))


@router.post("/benchmarking/local-measures/{code}/retire", response=LocalMeasureOut, auth=django_auth,
             url_name="benchmarking_local_retire")
def retire_local_measure(request, code: Path[CodeText]):
    """Retire a measure: no new adoptions or values; what was recorded stays."""
    return _detail(_call(services.retire, actor=request.user, measure=_measure(request.user, code)))


def _adoption_out(measure, org, version):
    return {"measure": measure.code, "organisation": org, "version": version, "latest_version": measure.version}


@router.post("/benchmarking/local-measures/{code}/adopt", response={200: AdoptionOut, 201: AdoptionOut},
             auth=django_auth, url_name="benchmarking_local_adopt")
def adopt_local_measure(request, code: Path[CodeText], body: ActingBody):
    """Your council adopts the measure at its current version (201; 200 if it already uses it)."""
    measure = _measure(request.user, code)
    org = _org(request.user, body.organisation)
    adoption, created = _call(services.adopt, actor=request.user, measure=measure, organisation=org)
    return Status(201 if created else 200, _adoption_out(measure, org, adoption.version))


@router.post("/benchmarking/local-measures/{code}/move", response=AdoptionOut, auth=django_auth,
             url_name="benchmarking_local_move")
def move_local_measure(request, code: Path[CodeText], body: ActingBody):
    """Your council moves to the measure's latest version."""
    measure = _measure(request.user, code)
    org = _org(request.user, body.organisation)
    adoption = _call(services.move_to_latest, actor=request.user, measure=measure, organisation=org)
    return _adoption_out(measure, org, adoption.version)


@router.post("/benchmarking/local-measures/{code}/withdraw", response=AdoptionOut, auth=django_auth,
             url_name="benchmarking_local_withdraw")
def withdraw_local_measure(request, code: Path[CodeText], body: ActingBody):
    """Your council stops using the measure (its values stay)."""
    measure = _measure(request.user, code)
    org = _org(request.user, body.organisation)
    _call(services.withdraw_adoption, actor=request.user, measure=measure, organisation=org)
    return _adoption_out(measure, org, None)


@router.post("/benchmarking/local-measures/{code}/values", response={200: ValueOut, 201: ValueOut},
             auth=django_auth, url_name="benchmarking_local_values")
def record_local_value(request, code: Path[CodeText], period: PeriodField, value: ValueField,
                       organisation: OrgField, note: NoteField):
    """Record your council's value for one period (201 new; 200 replaced, or repeated with nothing saved)."""
    measure = _measure(request.user, code)
    org = _org(request.user, organisation)
    done = _call(services.record_value, actor=request.user, measure=measure, organisation=org, period=period,
                 value=value if isinstance(value, str) else repr(value), note=note or "")
    v = done.value
    out: dict[str, Any] = {"measure": measure.code, "organisation": org, "period": v.period,
                           "value": float(v.value), "version": v.version, "note": v.note, "created": done.created,
                           "changed": done.changed, "synthetic": measure.synthetic}
    return Status(201 if done.created else 200, out)
