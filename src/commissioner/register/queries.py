"""Reads for the register: one set of filters shared by pages, the API, CLI exports and CSV downloads.

Every function starts from ``visible_to(user)``: tenancy is never re-implemented by a caller.
"""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from commissioner.orgs.models import Organisation
from commissioner.register.cpv import division_name
from commissioner.register.models import (
    Contract,
    ContractSupplier,
    Provider,
    Status,
    SupplierType,
)

CONTRACT_SORTS = {
    "published": "published", "-published": "-published", "value": "value", "-value": "-value",
    "title": "title", "-title": "-title", "end": "end_date", "-end": "-end_date",
    "start": "start_date", "-start": "-start_date", "buyer": "buyer_name", "-buyer": "-buyer_name",
    "stories": "feedback_stories", "-stories": "-feedback_stories", "rating": "feedback_rating",
    "-rating": "-feedback_rating",
}
# Residents' feedback filter: published stories on the contract (feedback app).
FEEDBACK_FILTERS = {"any": "With residents' stories", "unanswered": "With stories not yet answered",
                    "none": "Without residents' stories"}
PROVIDER_SORTS = {
    "name": "name", "-name": "-name", "value": "total_value", "-value": "-total_value",
    "contracts": "contract_count", "-contracts": "-contract_count",
}
ORG_SORTS = {"name": "name", "-name": "-name", "contracts": "n_contracts", "-contracts": "-n_contracts",
             "value": "total_value", "-value": "-total_value"}


class FilterError(ValueError):
    """A filter value we cannot use; ``field`` names the parameter."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _decimal(field, raw):
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        raise FilterError(field, f"'{str(raw)[:40]}' is not a number") from None
    if not value.is_finite() or abs(value) > Decimal(10) ** 15:
        raise FilterError(field, "number out of range")
    return value


def _date(field, raw):
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise FilterError(field, f"'{str(raw)[:40]}' is not a date (use YYYY-MM-DD)") from None


def _text(params, field, max_length):
    raw = params.get(field) or ""
    if "\x00" in raw:
        raise FilterError(field, "contains a NUL character")
    return raw.strip()[:max_length]


def _choice(field, raw, choices):
    if raw in (None, ""):
        return None
    if raw not in choices:
        raise FilterError(field, f"'{str(raw)[:40]}' is not one of {', '.join(sorted(choices))}")
    return raw


@dataclass
class ContractFilters:
    q: str = ""
    buyer: str = ""            # organisation slug
    category: str = ""         # CPV division, two digits
    supplier_type: str = ""
    status: str = ""
    method: str = ""           # procurement method
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    start_from: date | None = None
    start_to: date | None = None
    end_from: date | None = None
    end_to: date | None = None
    provider: int | None = None
    feedback: str = ""         # FEEDBACK_FILTERS
    sort: str = "-published"

    @property
    def uses_feedback(self):
        return bool(self.feedback) or self.sort.lstrip("-") in ("stories", "rating")

    @classmethod
    def from_params(cls, params):
        """Parse query parameters (a QueryDict or dict); raise FilterError naming the bad one."""
        get = params.get
        f = cls(
            q=_text(params, "q", 200),
            buyer=_text(params, "buyer", 120),
            category=_text(params, "category", 2),
            supplier_type=_choice("supplier_type", get("supplier_type"), set(SupplierType.values)) or "",
            status=_choice("status", get("status"), set(Status.values)) or "",
            method=_text(params, "method", 30),
            value_min=_decimal("value_min", get("value_min")),
            value_max=_decimal("value_max", get("value_max")),
            start_from=_date("start_from", get("start_from")),
            start_to=_date("start_to", get("start_to")),
            end_from=_date("end_from", get("end_from")),
            end_to=_date("end_to", get("end_to")),
            feedback=_choice("feedback", get("feedback"), set(FEEDBACK_FILTERS)) or "",
            sort=_choice("sort", get("sort"), set(CONTRACT_SORTS)) or "-published",
        )
        if f.category and not f.category.isdigit():
            raise FilterError("category", "use the two-digit CPV division, e.g. 85")
        provider = get("provider")
        if provider not in (None, ""):
            try:
                f.provider = int(provider)
            except (TypeError, ValueError):
                raise FilterError("provider", "must be a provider id") from None
            if not 0 < f.provider < 2**63:
                raise FilterError("provider", "must be a provider id")
        return f


def contracts(user, filters: ContractFilters | None = None):
    """Contracts the user may see, filtered and sorted."""
    f = filters or ContractFilters()
    qs = Contract.objects.visible_to(user).select_related("buyer")
    if f.q:
        for word in f.q.lower().split()[:8]:
            qs = qs.filter(search_text__contains=word)
    if f.buyer:
        qs = qs.filter(buyer__slug=f.buyer)
    if f.category:
        qs = qs.filter(cpv_division=f.category)
    if f.supplier_type:
        qs = qs.filter(contract_suppliers__supplier__provider__supplier_type=f.supplier_type)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.method:
        qs = qs.filter(procurement_method=f.method)
    if f.value_min is not None:
        qs = qs.filter(value__gte=f.value_min)
    if f.value_max is not None:
        qs = qs.filter(value__lte=f.value_max)
    if f.start_from:
        qs = qs.filter(start_date__gte=f.start_from)
    if f.start_to:
        qs = qs.filter(start_date__lte=f.start_to)
    if f.end_from:
        qs = qs.filter(end_date__gte=f.end_from)
    if f.end_to:
        qs = qs.filter(end_date__lte=f.end_to)
    if f.provider:
        qs = qs.filter(contract_suppliers__supplier__provider_id=f.provider)
    if f.supplier_type or f.provider:
        qs = qs.distinct()
    if f.uses_feedback:
        qs = with_feedback(qs, f.feedback)
    order = CONTRACT_SORTS[f.sort]
    nulls = order.lstrip("-")
    from django.db.models import F

    expr = F(nulls).desc(nulls_last=True) if order.startswith("-") else F(nulls).asc(nulls_last=True)
    return qs.order_by(expr, "ocid")


def with_feedback(qs, which=""):
    """Contracts annotated with their residents' published stories (``feedback_stories``, ``feedback_rating``: the
    mean overall rating, 1-5) and, with ``which``, only those with stories, with unanswered stories or without."""
    from django.db.models import Avg, Count, Exists, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from commissioner.feedback.models import Story

    published = Story.objects.filter(contract=OuterRef("pk"), status=Story.Status.PUBLISHED).order_by()
    per_contract = published.values("contract")
    qs = qs.annotate(
        feedback_stories=Coalesce(Subquery(per_contract.annotate(n=Count("id")).values("n")[:1],
                                           output_field=IntegerField()), 0),
        feedback_rating=Subquery(per_contract.annotate(r=Avg("overall")).values("r")[:1]))
    if which == "any":
        qs = qs.filter(Exists(published))
    elif which == "none":
        qs = qs.exclude(Exists(published))
    elif which == "unanswered":
        qs = qs.filter(Exists(published.filter(replies__isnull=True)))
    return qs


def with_suppliers(qs):
    return qs.prefetch_related(Prefetch(
        "contract_suppliers", queryset=ContractSupplier.objects.select_related("supplier__provider")))


def contract(user, ocid):
    return with_suppliers(Contract.objects.visible_to(user).select_related("buyer", "owner")).get(ocid=ocid)


@dataclass
class ProviderFilters:
    q: str = ""
    supplier_type: str = ""
    buyer: str = ""
    sort: str = "-value"

    @classmethod
    def from_params(cls, params):
        get = params.get
        return cls(
            q=_text(params, "q", 200),
            supplier_type=_choice("supplier_type", get("supplier_type"), set(SupplierType.values)) or "",
            buyer=_text(params, "buyer", 120),
            sort=_choice("sort", get("sort"), set(PROVIDER_SORTS)) or "-value",
        )


def providers(user, filters: ProviderFilters | None = None):
    f = filters or ProviderFilters()
    qs = Provider.objects.visible_to(user)
    if f.q:
        for word in f.q.lower().split()[:8]:
            number = word.upper().zfill(8) if word.isdigit() and len(word) < 8 else word
            qs = qs.filter(Q(name__icontains=word) | Q(suppliers__name__icontains=word)
                           | Q(companies_house__iexact=number))
        qs = qs.distinct()
    if f.supplier_type:
        qs = qs.filter(supplier_type=f.supplier_type)
    if f.buyer:
        # Only through contracts the user may see: a private contract must not reveal its provider.
        visible = Contract.objects.visible_to(user).filter(buyer__slug=f.buyer)
        qs = qs.filter(suppliers__contract_links__contract__in=visible).distinct()
    return qs.order_by(PROVIDER_SORTS[f.sort], "name", "id")


def provider_contracts(user, provider):
    return contracts(user, ContractFilters(provider=provider.pk, sort="-value"))


@dataclass
class OrgFilters:
    q: str = ""
    kind: str = ""
    region: str = ""
    sort: str = "-contracts"

    @classmethod
    def from_params(cls, params):
        get = params.get
        return cls(
            q=_text(params, "q", 200),
            kind=_choice("kind", get("kind"), set(Organisation.Kind.values)) or "",
            region=_text(params, "region", 60),
            sort=_choice("sort", get("sort"), set(ORG_SORTS)) or "-contracts",
        )


def _with_visible_totals(user):
    visible = Contract.objects.visible_to(user)
    return Organisation.objects.annotate(
        n_contracts=Count("contracts", filter=Q(contracts__in=visible), distinct=True),
        total_value=Sum("contracts__value", filter=Q(contracts__in=visible)),
    )


def organisation(user, slug):
    """Any organisation (names and codes are public), with the count and value of contracts the user may see."""
    return _with_visible_totals(user).get(slug=slug)


def organisations(user, filters: OrgFilters | None = None):
    """Organisations that buy something the user can see."""
    f = filters or OrgFilters()
    qs = _with_visible_totals(user).filter(n_contracts__gt=0)
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(aliases__name__icontains=f.q) | Q(gss_code__iexact=f.q)).distinct()
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.region:
        qs = qs.filter(region=f.region)
    return qs.order_by(ORG_SORTS[f.sort], "name")


def dashboard(user, organisation, today=None):
    """Figures for a buyer: totals, by supplier type, by category, SME/VCSE share, contracts ending."""
    today = today or timezone.localdate()
    qs = Contract.objects.visible_to(user).filter(buyer=organisation)
    total = qs.aggregate(n=Count("id"), value=Sum("value"))
    links = ContractSupplier.objects.filter(contract__in=qs)
    # Value split between a contract's suppliers: each link's own award value where known,
    # else the contract value divided by its number of suppliers.
    by_type = {}
    per_contract = {}
    for cid, stype, link_value, cvalue in links.values_list(
            "contract_id", "supplier__provider__supplier_type", "value", "contract__value"):
        per_contract.setdefault(cid, []).append((stype, link_value, cvalue))
    for cid, rows in per_contract.items():
        for stype, link_value, cvalue in rows:
            share = (cvalue or Decimal(0)) / len(rows) if link_value is None else link_value
            entry = by_type.setdefault(stype, {"count": set(), "value": Decimal(0)})
            entry["count"].add(cid)
            entry["value"] += share
    labels = dict(SupplierType.choices)
    awarded_value = sum((e["value"] for e in by_type.values()), Decimal(0))
    supplier_rows = [
        {"type": t, "label": labels[t], "count": len(by_type.get(t, {"count": ()})["count"]),
         "value": by_type.get(t, {"value": Decimal(0)})["value"],
         "share": (by_type[t]["value"] / awarded_value * 100) if t in by_type and awarded_value else Decimal(0)}
        for t in SupplierType.values
    ]
    sme_vcse = sum((r["value"] for r in supplier_rows if r["type"] in ("sme", "vcse")), Decimal(0))
    categories = [
        {"division": r["cpv_division"] or "", "name": division_name(r["cpv_division"]), "count": r["n"],
         "value": r["v"] or Decimal(0)}
        for r in qs.values("cpv_division").annotate(n=Count("id"), v=Sum("value")).order_by("-v", "cpv_division")
    ]
    ending = []
    for months in (6, 12, 18):
        until = today + timedelta(days=round(months * 30.44))
        part = qs.filter(end_date__gte=today, end_date__lte=until)
        agg = part.aggregate(n=Count("id"), v=Sum("value"))
        ending.append({"months": months, "count": agg["n"], "value": agg["v"] or Decimal(0), "until": until})
    return {
        "count": total["n"], "value": total["value"] or Decimal(0), "by_supplier_type": supplier_rows,
        "awarded_value": awarded_value,
        "sme_vcse_share": (sme_vcse / awarded_value * 100) if awarded_value else None,
        "by_category": categories, "ending": ending, "today": today,
    }


CONTRACT_CSV_COLUMNS = [
    "ocid", "buyer", "buyer_gss_code", "title", "status", "value", "currency", "tender_value", "award_value",
    "suppliers", "supplier_types", "start_date", "end_date", "cpv", "category", "procurement_method",
    "delivery_model", "source", "private", "published",
]


def _safe_cell(value):
    """Defuse spreadsheet formula injection in CSV cells."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def contract_csv_rows(qs):
    yield CONTRACT_CSV_COLUMNS
    for c in with_suppliers(qs).iterator(chunk_size=500):
        links = list(c.contract_suppliers.all())
        yield [_safe_cell(v) for v in (
            c.ocid, c.buyer_name or (c.buyer.name if c.buyer else ""), c.buyer.gss_code if c.buyer else "",
            c.title, c.status, c.value, c.currency, c.tender_value, c.award_value,
            "; ".join(link.supplier.provider.name for link in links),
            "; ".join(link.supplier.provider.supplier_type for link in links),
            c.start_date, c.end_date, c.cpv, division_name(c.cpv_division) if c.cpv_division else "",
            c.procurement_method, c.delivery_model, c.source, "yes" if c.is_private else "no",
            c.published.isoformat() if c.published else "",
        )]


PROVIDER_CSV_COLUMNS = ["id", "name", "supplier_type", "scale", "vcse", "companies_house", "charity_number",
                        "contracts", "total_value", "identities"]


def provider_csv_rows(qs):
    yield PROVIDER_CSV_COLUMNS
    for p in qs.prefetch_related("suppliers").iterator(chunk_size=500):
        yield [_safe_cell(v) for v in (
            p.pk, p.name, p.supplier_type, p.scale, "" if p.is_vcse is None else ("yes" if p.is_vcse else "no"),
            p.companies_house, p.charity_number, p.contract_count, p.total_value,
            "; ".join(s.key for s in p.suppliers.all()),
        )]


ORG_CSV_COLUMNS = ["slug", "name", "kind", "gss_code", "la_code", "type", "region", "contracts", "total_value"]


def organisation_csv_rows(qs):
    yield ORG_CSV_COLUMNS
    for o in qs:
        yield [_safe_cell(v) for v in (o.slug, o.name, o.kind, o.gss_code, o.la_code or "", o.la_type_name,
                                       o.region, o.n_contracts, o.total_value or 0)]


class Echo:
    def write(self, value):
        return value


def csv_lines(rows):
    """Encode rows as CSV text lines (for streaming responses and the CLI)."""
    writer = csv.writer(Echo())
    for row in rows:
        yield writer.writerow(row)


# --- Provider identities and the audit trail (added for the provider, organisation and audit pages) ---

def provider_identities(user, provider):
    """The supplier identities merged into a provider, each with its number of contracts the user can see."""
    from commissioner.register.models import Supplier

    visible = Contract.objects.visible_to(user)
    return (Supplier.objects.filter(provider=provider)
            .annotate(n_contracts=Count("contract_links__contract",
                                        filter=Q(contract_links__contract__in=visible), distinct=True))
            .order_by("name", "key"))


def provider_totals(user, provider):
    """Number and total value of the provider's contracts that the user can see (each contract once)."""
    agg = Contract.objects.filter(pk__in=provider_contracts(user, provider).values("pk")).aggregate(
        n=Count("id"), value=Sum("value"))
    return {"count": agg["n"], "value": agg["value"] or Decimal(0)}


@dataclass
class AuditFilters:
    model: str = ""
    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_params(cls, params):
        get = params.get
        f = cls(
            model=(get("model") or "").strip()[:60],
            action=(get("action") or "").strip()[:40],
            actor=(get("actor") or "").strip()[:200],
            date_from=_date("date_from", get("date_from")),
            date_to=_date("date_to", get("date_to")),
        )
        if f.date_from and f.date_to and f.date_to < f.date_from:
            raise FilterError("date_to", "the end date must be the same as or after the start date")
        return f


def audit_scope(user):
    """Audit events an admin may read: superusers all; organisation admins their organisations' events
    and the changes they made themselves; anyone else none."""
    from commissioner.orgs.models import AuditEvent
    from commissioner.orgs.tenancy import member_org_ids

    qs = AuditEvent.objects.select_related("organisation", "actor")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    orgs = member_org_ids(user, ("admin",))
    if not orgs:
        return qs.none()
    return qs.filter(Q(organisation_id__in=orgs) | Q(actor=user))


def audit_events(user, filters: AuditFilters | None = None):
    """The audit trail the user may read, filtered, newest first."""
    f = filters or AuditFilters()
    qs = audit_scope(user)
    if f.model:
        qs = qs.filter(model=f.model)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor:
        qs = qs.filter(actor_label__icontains=f.actor)
    if f.date_from:
        qs = qs.filter(at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(at__date__lte=f.date_to)
    return qs.order_by("-at", "-id")
