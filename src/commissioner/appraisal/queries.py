"""Reads for options appraisals, scoped by orgs.tenancy (``visible_to``)."""

from commissioner.appraisal.models import Appraisal


def appraisals(user):
    return list(Appraisal.objects.visible_to(user).select_related("owner").order_by("-updated_at", "-id"))


def appraisal_for(user, pk):
    """The appraisal if the user may see it, else None."""
    return (Appraisal.objects.visible_to(user).select_related("owner", "created_by")
            .prefetch_related("options", "contracts").filter(pk=pk).first())


def evidence(appraisal, user):
    """What the register, performance and benchmarking hold on the contracts linked to the appraisal (the service
    as it is delivered now), with the scores they suggest for business as usual.

    Returns {"contracts": [...], "counts": {...}, "quality": score or None, "cost": score or None, "notes": [...],
    "synthetic": bool}. Performance figures come from the provider summary (``ProviderContractSummary``), read
    through ``visible_to``: only what the user may see. Unit costs are compared with the contracts in the same
    CPV division and unit that the user may see, the contract itself left out (``methods.options_appraisal``)."""
    from commissioner.appraisal.services import annual_value
    from commissioner.benchmarking.providers import visible_rows
    from commissioner.methods import options_appraisal as calc
    from commissioner.methods.procurement import RATING_LABELS
    from commissioner.performance.queries import performance_contracts

    keys = ("met", "slightly_below", "below", "significantly_below")
    counts = dict.fromkeys(keys, 0)
    allowed = set(performance_contracts(user).filter(pk__in=[c.pk for c in appraisal.contracts.all()])
                  .values_list("pk", flat=True))
    rows, cost_scores, synthetic = [], [], False
    for contract in appraisal.contracts.all().order_by("ocid"):
        summaries = list(visible_rows(user).filter(contract=contract).select_related("provider")
                         .order_by("provider__name")) if contract.pk in allowed else []
        # The returns are the contract's: every provider's row of the summary holds the same counts.
        returns = {k: getattr(summaries[0], k) for k in keys} if summaries else dict.fromkeys(keys, 0)
        for k in keys:
            counts[k] += returns[k]
        synthetic = synthetic or any(s.synthetic for s in summaries)
        unit = next((s for s in summaries if s.unit_cost is not None), None)
        comparables, score = [], None
        if unit is not None:
            comparables = list(visible_rows(user).filter(cpv_division=unit.cpv_division,
                                                         unit_cost_unit=unit.unit_cost_unit,
                                                         unit_cost__isnull=False)
                               .exclude(contract=contract).values_list("contract", "unit_cost").distinct())
            comparables = [cost for _, cost in comparables]  # one per contract, whatever its providers
            score = calc.cost_score(unit.unit_cost, comparables)
            if score is not None:
                cost_scores.append(score)
        latest = max((s for s in summaries if s.rated_on), key=lambda s: s.rated_on, default=None)
        rows.append({
            "contract": contract, "annual_value": annual_value(contract),
            "providers": ", ".join(s.provider.name for s in summaries),
            "performance_visible": contract.pk in allowed,
            "returns": returns, "quality": calc.quality_score(returns),
            "rating": RATING_LABELS.get(latest.rating, latest.rating) if latest else "",
            "rated_on": latest.rated_on if latest else None,
            "unit_cost": float(unit.unit_cost) if unit else None, "unit": unit.unit_cost_unit if unit else "",
            "comparables": len(comparables), "cost": score})
    quality = calc.quality_score(counts)
    cost = round(sum(cost_scores) / len(cost_scores), 1) if cost_scores else None
    notes = []
    if quality is not None:
        notes.append(f"quality {quality:g}: {counts['met']} of {sum(counts.values())} current KPI returns met")
    if cost is not None:
        notes.append(f"cost {cost:g}: unit cost against comparable contracts (cheaper is better)")
    return {"contracts": rows, "counts": counts, "quality": quality, "cost": cost, "notes": notes,
            "synthetic": synthetic}


def priority_areas(appraisal):
    """The service areas of the council's residents' priority-setting exercises with a result."""
    from commissioner.participation.models import Exercise

    return sorted(set(Exercise.objects.filter(owner=appraisal.owner, kind=Exercise.Kind.PRIORITIES,
                                              status__in=(Exercise.Status.CLOSED, Exercise.Status.PUBLISHED))
                      .exclude(service_area="").values_list("service_area", flat=True)))


def priorities(appraisal):
    """What the council's residents said matters for the service (participation: the latest priority-setting
    result for the appraisal's chosen service area, else for its service), or None."""
    from commissioner.participation.queries import priorities_for

    return priorities_for(appraisal.owner, appraisal.priorities_area or appraisal.service)
