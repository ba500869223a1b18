"""Reads for social return and social value, scoped by orgs.tenancy (``visible_to``), and the SROI
results and promised-vs-delivered summaries computed from them (methods.sroi does the arithmetic)."""

import re
from collections import OrderedDict
from decimal import Decimal

from commissioner.methods import sroi
from commissioner.orgs.models import Organisation
from commissioner.register.models import Contract, Provider
from commissioner.socialvalue.models import Commitment, Delivery, Proxy, SroiModel, SroiOutcome
from commissioner.socialvalue.services import method_outcomes, open_proxies  # noqa: F401  (open_proxies: a read)

ASSUMPTIONS = (("quantity", "Quantity"), ("proxy", "Financial proxy (£)"), ("deadweight", "Deadweight"),
               ("displacement", "Displacement"), ("attribution", "Attribution"), ("drop_off", "Drop-off"))
PERCENT_KEYS = ("deadweight", "displacement", "attribution", "drop_off")


def contract_for(user, ocid):
    if "\x00" in ocid:  # PostgreSQL refuses NUL in text: no such contract
        return None
    return Contract.objects.visible_to(user).select_related("owner").filter(ocid=ocid).first()


def organisation(slug):
    if not re.fullmatch(r"[-\w]{1,120}", slug, flags=re.ASCII):
        return None
    return Organisation.objects.filter(slug=slug).first()


def proxies(user, owner):
    return list(Proxy.objects.visible_to(user).filter(owner=owner).order_by("name", "id"))


def councils_for(user):
    """Where the user's social value work is: the organisations they belong to, then any other whose SROI models
    or commitments they may see (published ones; every one, for a site administrator), each with the number of
    models and commitments the user may see, and whether they may edit."""
    from django.db.models import Count

    from commissioner.orgs import tenancy

    own = set(tenancy.member_org_ids(user))
    models_ = dict(SroiModel.objects.visible_to(user).values_list("owner_id").annotate(n=Count("id")))
    commitments = dict(Commitment.objects.visible_to(user).values_list("owner_id").annotate(n=Count("id")))
    orgs = Organisation.objects.filter(pk__in=own | set(models_) | set(commitments)).order_by("name")
    rows = [{"org": o, "own": o.pk in own, "models": models_.get(o.pk, 0), "commitments": commitments.get(o.pk, 0),
             "can_edit": tenancy.can_edit(user, o.pk)} for o in orgs]
    return sorted(rows, key=lambda r: (not r["own"], r["org"].name))


def models_of(user, owner=None):
    qs = SroiModel.objects.visible_to(user).select_related("owner", "contract")
    if owner is not None:
        qs = qs.filter(owner=owner)
    return list(qs.order_by("name", "id"))


def model_for(user, pk):
    return SroiModel.objects.visible_to(user).select_related("owner", "contract").filter(pk=pk).first()


def proxy_for(user, pk):
    return Proxy.objects.visible_to(user).select_related("owner").filter(pk=pk).first()


def outcome_for(user, pk):
    """An outcome of a model the user may see."""
    return (SroiOutcome.objects.select_related("model__owner", "model__contract")
            .filter(pk=pk, model__in=SroiModel.objects.visible_to(user)).first())


def commitment_for(user, pk):
    """A commitment the user may see, on a contract the user may see."""
    return (Commitment.objects.visible_to(user).select_related("contract", "owner")
            .filter(pk=pk, contract__in=Contract.objects.visible_to(user)).first())


def delivery_for(user, pk):
    return (Delivery.objects.select_related("commitment__contract", "commitment__owner")
            .filter(pk=pk, commitment__in=Commitment.objects.visible_to(user),
                    commitment__contract__in=Contract.objects.visible_to(user)).first())


def results(model):
    """The SROI results of a model: methods.sroi.sroi on its outcomes, and a sensitivity table with the
    switching value (ratio 1:1) of every assumption of every outcome. Shares are given in percent."""
    outcomes = method_outcomes(model)
    result = sroi.sroi(outcomes, float(model.inputs))
    sensitivity = []
    for i, o in enumerate(outcomes):
        for key, label in ASSUMPTIONS:
            value = sroi.switching_value(outcomes, float(model.inputs), i, key)
            current = getattr(o, key)
            if key in PERCENT_KEYS:
                current, value = current * 100, None if value is None else value * 100
            sensitivity.append({"outcome": o.name, "assumption": label, "key": key, "current": current,
                                "switching": value, "percent": key in PERCENT_KEYS})
    return result, sensitivity


def _total(deliveries):
    return sum((d.counted for d in deliveries), Decimal(0))


def commitment_rows(commitments):
    """Promised vs delivered per commitment; delivered is the sum of what is counted (shared benefits split)."""
    rows = []
    for c in commitments:
        deliveries = list(c.deliveries.all())
        delivered = _total(deliveries) if deliveries else None
        rows.append({"commitment": c, "contract": c.contract, "measure": c.measure, "unit": c.unit,
                     "promised": c.promised, "delivered": delivered, "periods": len(deliveries),
                     "deliveries": deliveries, "synthetic": c.synthetic or any(d.synthetic for d in deliveries),
                     "share": (delivered / c.promised * 100) if delivered is not None and c.promised else None})
    return rows


def for_contract(user, contract):
    qs = (Commitment.objects.visible_to(user).filter(contract=contract).select_related("contract")
          .prefetch_related("deliveries").order_by("measure", "id"))
    return commitment_rows(qs)


def grouped(rows):
    """Rows summed by (measure, unit): promised, delivered (missing when nothing recorded), contracts."""
    groups = OrderedDict()
    for r in sorted(rows, key=lambda r: (r["measure"].lower(), r["unit"].lower())):
        g = groups.setdefault((r["measure"].lower(), r["unit"].lower()), {
            "measure": r["measure"], "unit": r["unit"], "promised": Decimal(0), "delivered": None, "contracts": 0,
            "synthetic": False})
        g["promised"] += r["promised"]
        if r["delivered"] is not None:
            g["delivered"] = (g["delivered"] or Decimal(0)) + r["delivered"]
        g["contracts"] += 1
        g["synthetic"] = g["synthetic"] or r["synthetic"]
    for g in groups.values():
        g["share"] = (g["delivered"] / g["promised"] * 100) if g["delivered"] is not None and g["promised"] else None
    return list(groups.values())


def for_council(user, organisation):
    qs = (Commitment.objects.visible_to(user).filter(owner=organisation).select_related("contract")
          .prefetch_related("deliveries").order_by("contract__title", "measure", "id"))
    return commitment_rows(qs)


def for_provider(user, provider: Provider):
    qs = (Commitment.objects.visible_to(user)
          .filter(contract__contract_suppliers__supplier__provider=provider,
                  contract__in=Contract.objects.visible_to(user))
          .select_related("contract", "owner").prefetch_related("deliveries").distinct()
          .order_by("contract__title", "measure", "id"))
    return commitment_rows(qs)


def provider_for(user, pk):
    return Provider.objects.visible_to(user).filter(pk=pk).first()
