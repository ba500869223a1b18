"""The only writes for options appraisals: create an appraisal, add an option, set its yearly flows, set the
MCDA weights. Each is one transaction with the audit trail (commissioner.orgs.services.audit). Bad input raises
``AppraisalInputError`` naming the field and saves nothing; a user who may not write is refused with ``Refused``
(a PermissionDenied), and the refusal is audited.
"""

import math
import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from commissioner.appraisal.models import OPTION_KINDS, Appraisal, Option
from commissioner.methods import appraisal as m
from commissioner.methods import options_appraisal as calc
from commissioner.orgs.services import Refused, audit, refuse_unless_editor, snapshot  # noqa: F401  (Refused: for callers)
from commissioner.register.models import Contract

MAX_HORIZON = 300
MAX_OPTIONS = 12
MAX_MONEY = 1e13  # £10 trillion a year: larger is a typing slip
MAX_RATE = 0.2
APPRAISAL_FIELDS = ("title", "service", "description", "horizon", "bound", "discounting", "rate", "weights",
                    "draws", "seed", "priorities_area", "owner", "is_private", "synthetic")
OPTION_FIELDS = ("name", "kind", "partners", "costs", "benefits", "ob_shares", "scores", "cost_low", "cost_high",
                 "benefit_low", "benefit_high", "prefilled_from")


def _option_snapshot(option):
    """The option's inputs for the audit trail, as JSON (flows stay lists)."""
    return {name: getattr(option, name) for name in OPTION_FIELDS}


class AppraisalInputError(ValueError):
    """Bad input: ``field`` names the form or API field."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


# Parsing ---------------------------------------------------------------------------------------------

def parse_number(value, field, *, low=None, high=None, allow_blank=False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_blank:
            return None
        raise AppraisalInputError(field, "is needed")
    if isinstance(value, bool):
        raise AppraisalInputError(field, f"must be a number, not {value!r}")
    text = str(value).strip()
    cleaned = re.sub(r"[£,%\s]", "", text)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    try:
        number = float(cleaned.strip("()"))
    except ValueError:
        raise AppraisalInputError(field, f"must be a number, not '{text[:40]}'") from None
    if not math.isfinite(number):
        raise AppraisalInputError(field, "must be a finite number")
    number = -number if negative else number
    if low is not None and number < low or high is not None and number > high:
        raise AppraisalInputError(field, f"must be from {low:g} to {high:g}, not {number:g}")
    return number


def parse_flows(value, field, horizon):
    """Pounds by year, year 0 first: a list, or text with the years separated by ', ' (comma and space), ';' or
    new lines (a comma followed by three digits is a thousands separator: '1,000,000' is one amount). A blank entry
    is a missing year (kept as null, counted as 0, shown as missing)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = [p.strip() for p in re.split(r"[;\n]|,(?!\d{3}(?:\D|$))", value.strip())]
        items = [re.sub(r"[£,\s]", "", p) for p in parts]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise AppraisalInputError(field, "must be a list of amounts by year, year 0 first")
    if len(items) > horizon + 1:
        raise AppraisalInputError(field, f"has {len(items)} years (0 to {len(items) - 1}) but the appraisal runs "
                                         f"for {horizon} years after year 0: at most {horizon + 1} amounts")
    out = []
    for year, item in enumerate(items):
        if item is None or (isinstance(item, str) and item.strip() == ""):
            out.append(None)
            continue
        out.append(parse_number(item, f"{field} (year {year})", low=-MAX_MONEY, high=MAX_MONEY))
    while out and out[-1] is None:
        out.pop()
    return out


def parse_shares(value, field="optimism_bias"):
    """Project types and cost shares: a dict, or text such as 'standard_buildings 70, non_standard_buildings 30'."""
    if value in (None, "", {}):
        return {}
    if isinstance(value, str):
        shares = {}
        for part in re.split(r"[,;\n]", value):
            part = part.strip()
            if not part:
                continue
            bits = re.split(r"[\s:=]+", part)
            kind = bits[0].strip().lower()
            share = bits[1] if len(bits) > 1 else "1"
            shares[kind] = parse_number(share, field, low=0)
        value = shares
    if not isinstance(value, dict):
        raise AppraisalInputError(field, "must give project types and cost shares")
    try:
        m.optimism_bias(value, "upper")
    except m.AppraisalError as e:
        raise AppraisalInputError(field, e.message) from None
    return {str(k): float(v) for k, v in value.items()}


def parse_scores(value, field="scores"):
    value = value or {}
    if not isinstance(value, dict):
        raise AppraisalInputError(field, "must give a score 0-100 for each criterion")
    unknown = set(value) - set(calc.CRITERION_NAMES)
    if unknown:
        raise AppraisalInputError(field, f"unknown criterion {min(unknown)!r}: one of "
                                         f"{', '.join(calc.CRITERION_NAMES)}")
    out = {}
    for c in calc.CRITERION_NAMES:
        v = parse_number(value.get(c), f"score_{c}", low=0, high=100, allow_blank=True)
        if v is not None:
            out[c] = v
    return out


def parse_weights(value, field="weights"):
    if not isinstance(value, dict):
        raise AppraisalInputError(field, "must give a weight for each criterion")
    unknown = set(value) - set(calc.CRITERION_NAMES)
    if unknown:
        raise AppraisalInputError(field, f"unknown criterion {min(unknown)!r}: one of "
                                         f"{', '.join(calc.CRITERION_NAMES)}")
    out = {c: parse_number(value.get(c), f"weight_{c}", low=0, high=1e6, allow_blank=True) or 0.0
           for c in calc.CRITERION_NAMES}
    if sum(out.values()) <= 0:
        raise AppraisalInputError(f"weight_{calc.CRITERION_NAMES[0]}", "at least one weight must be above 0")
    return out


def clean_text(value, field, max_length):
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise AppraisalInputError(field, "must be text")
    if "\x00" in text:
        raise AppraisalInputError(field, "must not contain a NUL character")
    if len(text) > max_length:
        raise AppraisalInputError(field, f"must be {max_length} characters or fewer")
    return text


def _choice(value, field, choices):
    if value not in choices:
        raise AppraisalInputError(field, f"choose one of {', '.join(choices)}")
    return value


def _horizon(value):
    number = parse_number(value, "horizon", low=1, high=MAX_HORIZON)
    if number != int(number):
        raise AppraisalInputError("horizon", "must be a whole number of years")
    return int(number)


def _rate(discounting, rate):
    if discounting != "custom":
        return None
    number = parse_number(rate, "rate", low=0, high=MAX_RATE * 100)
    return number / 100


# Writes ----------------------------------------------------------------------------------------------

def create_appraisal(*, actor, owner, title, service="", description="", horizon=10, bound="upper",
                     discounting="standard", rate=None, weights=None, contracts=(), synthetic=False) -> Appraisal:
    """Open an appraisal for ``owner`` (private to it). ``rate`` is in % (only for custom discounting)."""
    refuse_unless_editor(actor, owner, "open an appraisal")
    title = clean_text(title, "title", 200)
    if not title:
        raise AppraisalInputError("title", "is needed: what is being appraised")
    service = clean_text(service, "service", 200)
    description = clean_text(description, "description", 5000)
    h = _horizon(horizon)
    bound = _choice(bound, "bound", [b for b, _ in Appraisal.Bound.choices])
    discounting = _choice(discounting, "discounting", [d for d, _ in Appraisal.Discounting.choices])
    r = _rate(discounting, rate)
    w = parse_weights(weights) if weights is not None else dict(calc.DEFAULT_WEIGHTS)
    linked = _linked(actor, contracts)
    with transaction.atomic():
        row = Appraisal.objects.create(
            title=title, service=service, description=description, horizon=h, bound=bound,
            discounting=discounting, rate=r, weights=w, owner=owner, is_private=True, synthetic=synthetic,
            created_by=actor if actor is not None and actor.is_authenticated else None)
        row.contracts.set(linked)
        audit(actor=actor, organisation=owner, action="created", obj=row,
              after={**snapshot(row, APPRAISAL_FIELDS), "contracts": [c.ocid for c in linked]})
    return row


REGISTER_NOTE = "Register: "
EVIDENCE_NOTE = "Scores from evidence: "


def _provenance(text, *, drop, add=""):
    """Where an option's figures came from, as ' | '-separated notes: the note starting with ``drop`` removed
    (those figures were changed by hand or are being replaced), ``add`` appended."""
    parts = [p for p in (text or "").split(" | ") if p and not p.startswith(drop)]
    return " | ".join([*parts, add] if add else parts)[:600]


def annual_value(contract):
    """The contract's value a year: its value over its term in years (at least one), or None."""
    if contract.value is None:
        return None
    if contract.start_date and contract.end_date and contract.end_date > contract.start_date:
        months = max(12, round((contract.end_date - contract.start_date).days / 365.25 * 12))
        return float((contract.value * 12 / months).quantize(Decimal("0.01")))
    return float(contract.value)


def register_costs(appraisal):
    """Business-as-usual costs from the linked contracts: their annual values, in years 1 to the horizon.
    Returns (costs, note) or ([], '') when no linked contract has a value."""
    values = [(c, annual_value(c)) for c in appraisal.contracts.all().order_by("ocid")]
    values = [(c, v) for c, v in values if v is not None]
    if not values:
        return [], ""
    total = round(sum(v for _, v in values), 2)
    note = REGISTER_NOTE + "; ".join(f"{c.title[:60]} (£{v:,.0f} a year)" for c, v in values)
    return [0.0] + [total] * appraisal.horizon, note[:300]


def add_option(*, actor, appraisal, name, kind, partners="", description="", costs=None, benefits=None,
               ob_shares=None, scores=None, cost_low=90, cost_high=130, benefit_low=70, benefit_high=110,
               prefill=True) -> Option:
    """Add a delivery option. A business-as-usual option with no costs given takes them from the register's
    linked contracts (their annual value in each year) when ``prefill``."""
    refuse_unless_editor(actor, appraisal.owner, "add an option", appraisal)
    name = clean_text(name, "name", 120)
    if not name:
        raise AppraisalInputError("name", "is needed")
    partners = clean_text(partners, "partners", 300)
    description = clean_text(description, "description", 5000)
    kind = _choice(kind, "kind", [k for k, _ in OPTION_KINDS])
    if kind == "shared_service" and not (partners or "").strip():
        raise AppraisalInputError("partners", "name the councils the service would be shared with")
    with transaction.atomic():
        appraisal = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
        if appraisal.options.count() >= MAX_OPTIONS:
            raise AppraisalInputError("name", f"an appraisal has at most {MAX_OPTIONS} options")
        if appraisal.options.filter(name__iexact=name).exists():
            raise AppraisalInputError("name", f"there is already an option called '{name[:60]}'")
        c = parse_flows(costs, "costs", appraisal.horizon)
        b = parse_flows(benefits, "benefits", appraisal.horizon)
        prefilled = ""
        if not c and kind == "bau" and prefill:
            c, prefilled = register_costs(appraisal)
        row = Option(appraisal=appraisal, name=name, kind=kind, partners=partners,
                     description=description, costs=c, benefits=b, ob_shares=parse_shares(ob_shares),
                     scores=parse_scores(scores), prefilled_from=prefilled,
                     position=appraisal.options.count())
        _ranges(row, cost_low, cost_high, benefit_low, benefit_high)
        row.save()
        appraisal.save(update_fields=["updated_at"])
        audit(actor=actor, organisation=appraisal.owner, action="created", obj=row,
              after=_option_snapshot(row))
    return row


def _ranges(row, cost_low, cost_high, benefit_low, benefit_high):
    cl = parse_number(cost_low, "cost_low", low=0, high=1000)
    ch = parse_number(cost_high, "cost_high", low=0, high=1000)
    bl = parse_number(benefit_low, "benefit_low", low=0, high=1000)
    bh = parse_number(benefit_high, "benefit_high", low=0, high=1000)
    if not cl <= 100 <= ch:
        raise AppraisalInputError("cost_low", "the low and high costs must be below and above 100% of the likely")
    if not bl <= 100 <= bh:
        raise AppraisalInputError("benefit_low", "the low and high benefits must be below and above 100% of the "
                                                 "likely")
    row.cost_low, row.cost_high, row.benefit_low, row.benefit_high = cl, ch, bl, bh


def set_flows(*, actor, option, costs=None, benefits=None, ob_shares=None, scores=None, ranges=None, name=None,
              kind=None, partners=None, description=None) -> Option:
    """Change an option: its yearly costs and benefits and, when given, its name, kind, partners, description,
    optimism bias, scores and ranges (None keeps what is there)."""
    appraisal = option.appraisal
    refuse_unless_editor(actor, appraisal.owner, "change an option", option)
    with transaction.atomic():
        row = _locked_option(option)
        before = _option_snapshot(row)
        if name is not None:
            name = clean_text(name, "name", 120)
            if not name:
                raise AppraisalInputError("name", "is needed")
            if appraisal.options.filter(name__iexact=name).exclude(pk=row.pk).exists():
                raise AppraisalInputError("name", f"there is already an option called '{name[:60]}'")
            row.name = name
        if kind is not None:
            row.kind = _choice(kind, "kind", [k for k, _ in OPTION_KINDS])
        if partners is not None:
            row.partners = clean_text(partners, "partners", 300)
        if description is not None:
            row.description = clean_text(description, "description", 5000)
        if row.kind == "shared_service" and not row.partners.strip():
            raise AppraisalInputError("partners", "name the councils the service would be shared with")
        if costs is not None:
            row.costs = parse_flows(costs, "costs", appraisal.horizon)
            if row.costs != before["costs"]:
                row.prefilled_from = _provenance(row.prefilled_from, drop=REGISTER_NOTE)
        if benefits is not None:
            row.benefits = parse_flows(benefits, "benefits", appraisal.horizon)
        if ob_shares is not None:
            row.ob_shares = parse_shares(ob_shares)
        if scores is not None:
            row.scores = parse_scores(scores)
            if row.scores != before["scores"]:
                row.prefilled_from = _provenance(row.prefilled_from, drop=EVIDENCE_NOTE)
        if ranges is not None:
            _ranges(row, *ranges)
        row.save()
        Appraisal.objects.filter(pk=appraisal.pk).update(updated_at=row.updated_at)
        audit(actor=actor, organisation=appraisal.owner, action="updated", obj=row, before=before,
              after=_option_snapshot(row))
    return row


def _locked_option(option):
    """The option's row, locked for the change; a clear error if it was removed meanwhile (two tabs, a
    double click)."""
    row = Option.objects.select_for_update().filter(pk=option.pk).first()
    if row is None:
        raise AppraisalInputError("name", f"the option '{option.name[:60]}' was removed meanwhile")
    return row


def delete_option(*, actor, option) -> None:
    """Remove an option from its appraisal (audited with everything it held)."""
    appraisal = option.appraisal
    refuse_unless_editor(actor, appraisal.owner, "remove an option", option)
    with transaction.atomic():
        row = _locked_option(option)
        audit(actor=actor, organisation=appraisal.owner, action="deleted", obj=row, before=_option_snapshot(row))
        row.delete()
        Appraisal.objects.filter(pk=appraisal.pk).update(updated_at=timezone.now())


MIN_DRAWS, MAX_DRAWS = 1_000, 200_000
MAX_SEED = 2**31 - 1


def _whole(value, field, low, high):
    number = parse_number(value, field, low=low, high=high)
    if number != int(number):
        raise AppraisalInputError(field, "must be a whole number")
    return int(number)


def _linked(actor, contracts):
    visible = Contract.objects.visible_to(actor)
    linked = []
    for ocid in contracts or ():
        ocid = clean_text(ocid, "contracts", 200)
        contract = visible.filter(ocid=ocid).first()
        if contract is None:
            raise AppraisalInputError("contracts", f"no contract with ocid '{str(ocid)[:80]}' in the register")
        if contract not in linked:
            linked.append(contract)
    if len(linked) > 50:
        raise AppraisalInputError("contracts", "link at most 50 contracts")
    return linked


def update_appraisal(*, actor, appraisal, title=None, service=None, description=None, horizon=None, bound=None,
                     discounting=None, rate=None, draws=None, seed=None, contracts=None,
                     priorities_area=None) -> Appraisal:
    """Change an appraisal's settings (None keeps what is there): title, service, description, horizon,
    optimism bias bound, discounting and single rate (in %), Monte Carlo draws and seed, and the linked contracts
    (OCIDs; an empty list unlinks them all) and the service area of the residents' priorities shown with it. A
    shorter horizon is refused while an option has more years."""
    refuse_unless_editor(actor, appraisal.owner, "change the appraisal", appraisal)
    with transaction.atomic():
        row = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
        before = {**snapshot(row, APPRAISAL_FIELDS), "contracts": sorted(c.ocid for c in row.contracts.all())}
        if title is not None:
            row.title = clean_text(title, "title", 200)
            if not row.title:
                raise AppraisalInputError("title", "is needed: what is being appraised")
        if service is not None:
            row.service = clean_text(service, "service", 200)
        if description is not None:
            row.description = clean_text(description, "description", 5000)
        if horizon is not None:
            h = _horizon(horizon)
            for o in row.options.all():
                years = max(len(o.costs), len(o.benefits))
                if years > h + 1:
                    raise AppraisalInputError("horizon", f"option '{o.name[:60]}' has {years} years (0 to "
                                                         f"{years - 1}): shorten it first, or keep at least "
                                                         f"{years - 1} years")
            row.horizon = h
        if bound is not None:
            row.bound = _choice(bound, "bound", [b for b, _ in Appraisal.Bound.choices])
        if discounting is not None:
            row.discounting = _choice(discounting, "discounting", [d for d, _ in Appraisal.Discounting.choices])
            row.rate = _rate(row.discounting, rate)
        elif rate not in (None, "") and row.discounting == "custom":
            row.rate = _rate("custom", rate)
        if draws is not None:
            row.draws = _whole(draws, "draws", MIN_DRAWS, MAX_DRAWS)
        if seed is not None:
            row.seed = _whole(seed, "seed", 0, MAX_SEED)
        if priorities_area is not None:
            row.priorities_area = clean_text(priorities_area, "priorities_area", 200)
        row.save()
        if contracts is not None:
            row.contracts.set(_linked(actor, contracts))
        after = {**snapshot(row, APPRAISAL_FIELDS), "contracts": sorted(c.ocid for c in row.contracts.all())}
        audit(actor=actor, organisation=row.owner, action="updated", obj=row, before=before, after=after)
    return row


def prefill_scores(*, actor, appraisal, evidence) -> list[Option]:
    """Give the business-as-usual options the quality and cost scores that the evidence suggests
    (``queries.evidence``: performance returns and unit costs of the linked contracts), saying where they came
    from. Scores the evidence cannot suggest are left as they are. Returns the options changed."""
    refuse_unless_editor(actor, appraisal.owner, "prefill the scores", appraisal)
    suggested = {c: evidence.get(c) for c in ("quality", "cost") if evidence.get(c) is not None}
    if not suggested:
        raise AppraisalInputError("contracts", "the linked contracts have no KPI returns or comparable unit costs "
                                               "to suggest scores from")
    changed = []
    with transaction.atomic():
        options = list(Option.objects.select_for_update().filter(appraisal=appraisal, kind="bau"))
        if not options:
            raise AppraisalInputError("kind", "add a business-as-usual option first")
        note = EVIDENCE_NOTE + "; ".join(evidence["notes"])
        for row in options:
            before = _option_snapshot(row)
            row.scores = {**row.scores, **suggested}
            row.prefilled_from = _provenance(row.prefilled_from, drop=EVIDENCE_NOTE, add=note)
            row.save()
            audit(actor=actor, organisation=appraisal.owner, action="updated", obj=row, before=before,
                  after=_option_snapshot(row))
            changed.append(row)
        Appraisal.objects.filter(pk=appraisal.pk).update(updated_at=timezone.now())
    return changed


def set_weights(*, actor, appraisal, weights) -> Appraisal:
    """Record the council's MCDA weights (kept as given; normalised when they do not sum to 1, and said so)."""
    refuse_unless_editor(actor, appraisal.owner, "set the weights", appraisal)
    w = parse_weights(weights)
    with transaction.atomic():
        row = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
        before = {"weights": row.weights}
        row.weights = w
        row.save(update_fields=["weights", "updated_at"])
        audit(actor=actor, organisation=row.owner, action="updated", obj=row, before=before,
              after={"weights": w, "normalised": m.normalise_weights(w).note})
    return row


def results(appraisal):
    """Every figure of the appraisal (calc.evaluate on its inputs)."""
    options = [o.as_calc() for o in appraisal.options.all()]
    return calc.evaluate(options, bound=appraisal.bound, discounting=appraisal.discounting, rate=appraisal.rate,
                         weights=appraisal.weights or calc.DEFAULT_WEIGHTS, draws=appraisal.draws,
                         seed=appraisal.seed, horizon=appraisal.horizon)


# The demo --------------------------------------------------------------------------------------------

def demo(*, la_code="DNC"):
    """A synthetic appraisal (labelled synthetic) for the council ``la_code``, linked to one of its contracts;
    idempotent. Returns the appraisal."""
    from commissioner.orgs.models import Organisation

    org = Organisation.objects.filter(la_code=la_code).first()
    if org is None:
        return None
    existing = Appraisal.objects.filter(owner=org, synthetic=True).first()
    if existing is not None:
        return existing
    contracts = Contract.objects.filter(owner=org, source="ocds", value__gt=0).order_by("-value", "ocid")
    contract = contracts.filter(title__icontains="care").first() or contracts.first()
    service = contract.title if contract is not None else "Home care reablement"
    with transaction.atomic():
        a = Appraisal.objects.create(
            title=f"{service[:100]}: options for recommissioning (synthetic)", service=service,
            description="A synthetic example made up by the demo: the figures are not real.", horizon=10,
            weights={"cost": 0.3, "quality": 0.3, "social_value": 0.2, "risk": 0.1, "local_value": 0.2},
            priorities_area="Adult social care", owner=org, is_private=True, synthetic=True)
        base = 1_000_000.0
        bau_costs, note = [], ""
        if contract is not None:
            a.contracts.set([contract])
            bau_costs, note = register_costs(a)
            if bau_costs:
                base = bau_costs[-1]
        specs = [
            ("Business as usual", "bau", "", bau_costs or [0] + [base] * 10, [0] + [base * 1.05] * 10, {}, (80, 60, 50, 50, 40)),
            ("In-house", "in_house", "", [250_000] + [base * 0.97] * 10, [0] + [base * 1.12] * 10,
             {"standard_buildings": 1}, (70, 75, 60, 60, 80)),
            ("Voluntary and community sector", "vcse", "", [50_000] + [base * 0.95] * 10, [0] + [base * 1.1] * 10,
             {"outsourcing": 1}, (75, 70, 85, 50, 85)),
            ("Shared service", "shared_service", "Rotherham; Barnsley", [400_000] + [base * 0.9] * 10,
             [0] + [base * 1.04] * 10, {"outsourcing": 0.6, "non_standard_buildings": 0.4}, (85, 60, 50, 45, 40)),
        ]
        for i, (name, kind, partners, costs, benefits, shares, scores) in enumerate(specs):
            o = Option.objects.create(
                appraisal=a, name=name, kind=kind, partners=partners, costs=costs, benefits=benefits,
                ob_shares=shares, scores=dict(zip(calc.CRITERION_NAMES, scores, strict=True)), position=i,
                prefilled_from=note if kind == "bau" else "")
            audit(actor=None, organisation=org, action="created", obj=o, after=_option_snapshot(o))
        audit(actor=None, organisation=org, action="created", obj=a, after=snapshot(a, APPRAISAL_FIELDS))
    return a
