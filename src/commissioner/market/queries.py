"""Reads for market analysis, all through ``visible_to`` (orgs.tenancy), and the analysis tables.

Every table is a list of dicts with the same keys as its CSV download (``TABLES``). Individuals'
payments are counted in totals (as "Individuals (redacted)") but never named, and are left out of
supplier concentration (one "Redacted" line is many people, not one supplier).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Min, Sum

from commissioner.market.models import CategoryMapping, Grant, Payment, SpendFile
from commissioner.methods import market
from commissioner.orgs.models import Organisation
from commissioner.register.cpv import division_name
from commissioner.register.models import Contract, Supplier, SupplierType

# The local rule: a supplier is local when its postcode area is the council's own or borders it.
# Councils without an entry have no local measure (shown as missing). Postcode areas from Royal Mail.
HOME_AREAS = {
    "TRF": {"home": ("M", "WA"), "neighbours": ("SK", "WN", "BL", "OL")},  # Trafford: Manchester, Altrincham
    "HYN": {"home": ("BB",), "neighbours": ("BL", "PR", "OL", "LA")},  # Hyndburn: Blackburn (Accrington)
}
TYPE_GROUPS = {
    SupplierType.SME: "SME", SupplierType.VCSE: "VCSE", SupplierType.LARGE: "Large",
    SupplierType.PUBLIC: "Public sector", SupplierType.INHOUSE: "Public sector",
    SupplierType.LATC: "Public sector", SupplierType.SHARED: "Public sector",
}
TYPE_ORDER = ("SME", "VCSE", "Large", "Public sector", "Unknown (not matched or type not known)",
              "Individuals (redacted)")
ALL = "All categories"
NOT_STATED = "Not stated"
UNMAPPED = "unmapped"
UNMAPPED_LABEL = "Unmapped: no CPV division chosen for these categories"
UNCLASSIFIED = "unclassified"
UNCLASSIFIED_LABEL = "Register contracts with no CPV code"

TABLES = {
    "files": ("id", "name", "layout", "encoding", "first_date", "last_date", "months", "row_count", "redacted_count",
              "total"),
    "categories": ("category", "spend", "payments", "suppliers", "top5_share", "hhi", "concentration",
                   "cpv_division", "individual_payments"),
    "divisions": ("cpv_division", "name", "categories", "spend", "payments", "suppliers", "top5_share", "hhi",
                  "concentration", "register_contracts", "register_value"),
    "types": ("supplier_type", "spend", "share", "payments"),
    "local": ("where", "spend", "share_of_known"),
    "suppliers": ("rank", "supplier", "spend", "share", "supplier_type", "register_provider", "match"),
    "entrants": ("financial_year", "suppliers_paid", "new_entrants", "spend_with_new_entrants"),
    "grant_years": ("financial_year", "grants", "amount", "recipients", "with_charity_or_company_number",
                    "matched_to_register"),
    "grant_recipients": ("rank", "recipient", "grants", "amount", "charity_number", "company_number",
                         "register_provider"),
}


def councils(user):
    """Councils with spend the user can see, with their file counts."""
    ids = SpendFile.objects.visible_to(user).values_list("council_id", flat=True).distinct()
    return Organisation.objects.filter(pk__in=list(ids)).order_by("name")


def council_by_slug(slug):
    return Organisation.objects.filter(slug=slug).first()


def files(user, council):
    return SpendFile.objects.visible_to(user).filter(council=council).order_by("first_date")


def file_for(user, pk):
    """One loaded file the user can see, or None."""
    return SpendFile.objects.visible_to(user).select_related("council").filter(pk=pk).first()


def payment_count(spend_file) -> int:
    """How many payments a loaded file holds now (the number a removal takes away)."""
    return Payment.objects.filter(spend_file=spend_file).count()


def payments(user, council, category=None):
    qs = Payment.objects.visible_to(user).filter(council=council)
    if category and category != ALL:
        qs = qs.filter(category="" if category == NOT_STATED else category)
    return qs


def financial_year(d) -> int:
    """The year an English council's financial year starts in (April to March)."""
    return d.year if d.month >= 4 else d.year - 1


def fy_label(y: int) -> str:
    return f"{y}-{str(y + 1)[-2:]}"


def _supplier_key(provider_id, payee_key, payee):
    return f"p{provider_id}" if provider_id else f"n:{payee_key or payee.lower()}"


def supplier_postcode(address):
    """The postcode of a notice's address: postalCode, else one found at the end of the street address."""
    if not isinstance(address, dict):
        return None
    return market.find_postcode(address.get("postalCode")) or market.find_postcode(address.get("streetAddress"))


def _postcodes(provider_ids):
    out = {}
    for pid, address in Supplier.objects.filter(provider_id__in=provider_ids).values_list("provider_id", "address"):
        code = supplier_postcode(address)
        if code and pid not in out and market.postcode_area(code):
            out[pid] = code
    return out


CENT = Decimal("0.01")


def _money(values):
    """Rows with ``spend`` as pence-exact Decimals (SQLite sums decimals as floats)."""
    rows = list(values)
    for r in rows:
        r["spend"] = Decimal(str(r["spend"] or 0)).quantize(CENT)
    return rows


def analysis(user, council, category=None):
    """Every table of the market page for one council (and one category, or all)."""
    base = payments(user, council, category)
    rows = _money(base.values("category", "provider_id", "payee_key", "payee", "individual",
                              "provider__supplier_type", "provider__name")
                  .annotate(spend=Sum("amount"), n=Count("id")))
    total = sum((r["spend"] for r in rows), Decimal(0))
    # Categories (always over all categories, so the user can pick one).
    cat_rows = rows if not category or category == ALL else _money(
        payments(user, council).values("category", "provider_id", "payee_key", "payee", "individual")
        .annotate(spend=Sum("amount"), n=Count("id")))
    per_cat = defaultdict(lambda: defaultdict(Decimal))
    cat_count, cat_total, cat_people = defaultdict(int), defaultdict(Decimal), defaultdict(int)
    for r in cat_rows:
        cat = r["category"] or NOT_STATED
        cat_count[cat] += r["n"]
        cat_total[cat] += r["spend"]
        if r["individual"]:
            cat_people[cat] += r["n"]
        else:
            per_cat[cat][_supplier_key(r["provider_id"], r["payee_key"], r["payee"])] += r["spend"]
    mapped = category_divisions(council)
    categories = []
    for cat in sorted(cat_count, key=lambda c: -cat_total[c]):
        spends = [float(v) for v in per_cat[cat].values()]
        h = market.hhi(spends)
        categories.append({"category": cat, "spend": cat_total[cat],
                           "payments": cat_count[cat], "suppliers": sum(1 for v in spends if v > 0),
                           "top5_share": market.top_n_share(spends, 5), "hhi": h,
                           "concentration": market.hhi_band(h),
                           "cpv_division": "" if cat == NOT_STATED else mapped.get(market.category_key(cat), ""),
                           # payments to private individuals: counted in the spend, never named or in concentration
                           "individual_payments": cat_people[cat]})
    divisions = _divisions(user, council, categories, per_cat, cat_count, cat_total)
    # Supplier types.
    by_type = defaultdict(lambda: [Decimal(0), 0])
    for r in rows:
        label = ("Individuals (redacted)" if r["individual"] else
                 TYPE_GROUPS.get(r["provider__supplier_type"], TYPE_ORDER[4]))
        by_type[label][0] += r["spend"]
        by_type[label][1] += r["n"]
    type_share = market.share_by({k: float(v[0]) for k, v in by_type.items()})
    types = [{"supplier_type": t, "spend": by_type[t][0], "share": type_share[t], "payments": by_type[t][1]}
             for t in TYPE_ORDER if t in by_type]
    # Suppliers (named; individuals never).
    per_supplier = defaultdict(lambda: {"spend": Decimal(0), "names": set()})
    for r in rows:
        if r["individual"]:
            continue
        s = per_supplier[_supplier_key(r["provider_id"], r["payee_key"], r["payee"])]
        s["spend"] += r["spend"]
        s["names"].add(r["payee"] or NOT_STATED)
        s["provider"] = r["provider__name"] or ""
        s["provider_id"] = r["provider_id"]
        s["type"] = TYPE_GROUPS.get(r["provider__supplier_type"], "Unknown") if r["provider_id"] else "Unknown"
    supplier_share = market.shares(float(s["spend"]) for s in per_supplier.values())
    ranked = sorted(per_supplier.values(), key=lambda s: -s["spend"])
    positive_total = sum(float(s["spend"]) for s in ranked if s["spend"] > 0)
    suppliers = [{"rank": i, "supplier": min(s["names"]), "spend": s["spend"],
                  "share": (float(s["spend"]) / positive_total if positive_total and s["spend"] > 0 else None),
                  "supplier_type": s["type"], "register_provider": s["provider"],
                  "match": "matched" if s["provider_id"] else "not matched"}
                 for i, s in enumerate(ranked[:50], start=1)]
    spends = [float(s["spend"]) for s in ranked]
    concentration = {"top5_share": market.top_n_share(spends, 5), "hhi": market.hhi(spends),
                     "suppliers": len(supplier_share), "left_out": sum(1 for v in spends if v <= 0)}
    concentration["band"] = market.hhi_band(concentration["hhi"])
    # Local suppliers, where postcodes are known.
    areas = HOME_AREAS.get(council.la_code or "")
    local = []
    if areas:
        codes = _postcodes({s.get("provider_id") for s in ranked if s.get("provider_id")})
        sums = {"Local (same or neighbouring area)": Decimal(0), "Not local": Decimal(0),
                "Postcode not known": Decimal(0)}
        for s in ranked:
            flag = market.is_local(codes.get(s.get("provider_id")), areas["home"] + areas["neighbours"])
            key = "Postcode not known" if flag is None else ("Local (same or neighbouring area)" if flag else "Not local")
            sums[key] += s["spend"]
        known = float(sums["Local (same or neighbouring area)"] + sums["Not local"])
        local = [{"where": k, "spend": v,
                  "share_of_known": (float(v) / known if known > 0 and k != "Postcode not known" else None)}
                 for k, v in sums.items()]
    # New entrants per financial year (over all the council's data, so "new" means new to the council).
    first_year, per_year_suppliers, per_year_spend = {}, defaultdict(set), defaultdict(lambda: defaultdict(Decimal))
    for r in _money(base.filter(individual=False).values("provider_id", "payee_key", "payee", "month")
                    .annotate(spend=Sum("amount")).order_by()):
        y, m = int(r["month"][:4]), int(r["month"][5:])
        fy = y if m >= 4 else y - 1
        k = _supplier_key(r["provider_id"], r["payee_key"], r["payee"])
        first_year[k] = min(first_year.get(k, fy), fy)
        per_year_suppliers[fy].add(k)
        per_year_spend[fy][k] += r["spend"]
    counts = market.new_entrants(first_year, per_year_suppliers.keys())
    entrants = [{"financial_year": fy_label(y), "suppliers_paid": len(per_year_suppliers[y]),
                 "new_entrants": counts[y],
                 "spend_with_new_entrants": (None if counts[y] is None else
                                             sum((v for k, v in per_year_spend[y].items() if first_year[k] == y),
                                                 Decimal(0)))}
                for y in sorted(per_year_suppliers)]
    grant_years, grant_recipients = grants(user, council)
    return {"grant_years": grant_years, "grant_recipients": grant_recipients, "total": total,
            "categories": categories, "divisions": divisions, "types": types, "suppliers": suppliers,
            "concentration": concentration, "local": local, "local_rule": areas, "entrants": entrants,
            "payments": sum(r["n"] for r in rows),
            "date_range": base.aggregate(first=Min("paid_on"))}


def category_divisions(council) -> dict:
    """{category key: CPV division} for every category the council has mapped."""
    return dict(CategoryMapping.objects.filter(council=council).values_list("key", "division"))


def register_divisions(user, council) -> dict:
    """The register's categories for the council as buyer: {CPV division ('' when none): (contracts,
    value)}, read through ``visible_to`` like every register page."""
    rows = (Contract.objects.visible_to(user).filter(buyer=council).values("cpv_division")
            .annotate(n=Count("id"), v=Sum("value")).order_by())
    return {r["cpv_division"] or "": (r["n"], Decimal(str(r["v"] or 0)).quantize(CENT)) for r in rows}


def _divisions(user, council, categories, per_cat, cat_count, cat_total):
    """Spend by CPV division (through the council's category mappings) beside the register's contracts
    in that division. Spend in categories not mapped is one honest "unmapped" row, never spread."""
    groups = defaultdict(list)
    for c in categories:
        groups[c["cpv_division"] or UNMAPPED].append(c["category"])
    register = register_divisions(user, council)
    codes = sorted(({g for g in groups if g != UNMAPPED} | {d for d in register if d}),
                   key=lambda d: (-sum((cat_total[c] for c in groups.get(d, ())), Decimal(0)), d))
    out = []
    for code in [*codes, UNMAPPED] + ([UNCLASSIFIED] if "" in register else []):
        cats = groups.get(code, [])
        if code == UNMAPPED and not cats:
            continue
        suppliers = defaultdict(Decimal)
        for cat in cats:
            for k, v in per_cat[cat].items():
                suppliers[k] += v
        spends = [float(v) for v in suppliers.values()]
        h = market.hhi(spends)
        contracts, value = register.get("" if code == UNCLASSIFIED else code, (0, Decimal(0)))
        spend_side = code != UNCLASSIFIED
        out.append({
            "cpv_division": "" if code in (UNMAPPED, UNCLASSIFIED) else code,
            "name": {UNMAPPED: UNMAPPED_LABEL, UNCLASSIFIED: UNCLASSIFIED_LABEL}.get(code) or division_name(code),
            "categories": len(cats) if spend_side else None,
            "spend": sum((cat_total[c] for c in cats), Decimal(0)) if spend_side else None,
            "payments": sum(cat_count[c] for c in cats) if spend_side else None,
            "suppliers": sum(1 for v in spends if v > 0) if spend_side else None,
            "top5_share": market.top_n_share(spends, 5), "hhi": h,
            "concentration": market.hhi_band(h) if spend_side else None,
            "register_contracts": None if code == UNMAPPED else contracts,
            "register_value": None if code == UNMAPPED else value,
        })
    return out


def spend_categories(user, council):
    """The council's spend categories for the mapping page: one row per category key (the spellings a
    file uses, most used first), its spend and payments, the division chosen and the suggestion."""
    mapped = {m.key: m for m in CategoryMapping.objects.filter(council=council)}
    rows = _money(Payment.objects.visible_to(user).filter(council=council).exclude(category="")
                  .values("category").annotate(spend=Sum("amount"), n=Count("id")).order_by())
    grouped = {}
    for r in sorted(rows, key=lambda r: (-r["n"], r["category"])):
        key = market.category_key(r["category"])
        if not key:
            continue
        g = grouped.setdefault(key, {"key": key, "category": r["category"], "spellings": [], "spend": Decimal(0),
                                     "payments": 0})
        g["spellings"].append(r["category"])
        g["spend"] += r["spend"]
        g["payments"] += r["n"]
    out = []
    for key, g in sorted(grouped.items(), key=lambda kv: -kv[1]["spend"]):
        m = mapped.get(key)
        suggestion = market.suggest_division(g["category"])
        out.append({**g, "division": m.division if m else "", "division_name": division_name(m.division) if m else "",
                    "suggested": suggestion[0] if suggestion else "",
                    "suggested_name": division_name(suggestion[0]) if suggestion else "",
                    "keyword": suggestion[1] if suggestion else ""})
    return out


def grants(user, council):
    """The council's 360Giving grants to VCSE organisations: per financial year, and the largest
    recipients (grouped by the 360Giving recipient identifier, else the name)."""
    years = defaultdict(lambda: {"grants": 0, "amount": Decimal(0), "recipients": set(), "ids": 0, "matched": 0})
    recipients = defaultdict(lambda: {"grants": 0, "amount": Decimal(0)})
    for g in Grant.objects.visible_to(user).filter(council=council).select_related("provider").order_by("award_date",
                                                                                                          "id"):
        y = years[financial_year(g.award_date)]
        key = g.recipient_id or g.recipient_name.lower()
        y["grants"] += 1
        y["amount"] += g.amount
        y["recipients"].add(key)
        y["ids"] += bool(g.charity_number or g.company_number)
        y["matched"] += g.provider_id is not None
        r = recipients[key]
        r["grants"] += 1
        r["amount"] += g.amount
        r.update(recipient=g.recipient_name, charity_number=g.charity_number or r.get("charity_number", ""),
                 company_number=g.company_number or r.get("company_number", ""),
                 register_provider=(g.provider.name if g.provider_id else r.get("register_provider", "")))
    year_rows = [{"financial_year": fy_label(fy), "grants": v["grants"], "amount": v["amount"],
                  "recipients": len(v["recipients"]), "with_charity_or_company_number": v["ids"],
                  "matched_to_register": v["matched"]} for fy, v in sorted(years.items())]
    ranked = sorted(recipients.values(), key=lambda r: (-r["amount"], r["recipient"]))[:30]
    recipient_rows = [{"rank": i, **{k: r[k] for k in ("recipient", "grants", "amount", "charity_number",
                                                      "company_number", "register_provider")}}
                      for i, r in enumerate(ranked, start=1)]
    return year_rows, recipient_rows
