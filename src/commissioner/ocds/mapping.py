"""Pure functions: validate a release, and read register fields out of a compiled release."""

import math
from datetime import UTC, date, datetime

from commissioner.methods.text import clean_text

AMOUNT_PATHS = (
    ("tender", "value"), ("tender", "minValue"), ("planning", "budget", "amount"),
)
INACTIVE = {"cancelled", "unsuccessful"}
REGISTER_OCID_PREFIX = "ocds-register-"  # releases made from council contract registers (CSV)


class InvalidRelease(ValueError):
    """A release we refuse, with the field at fault."""


def parse_datetime(value):
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    # OCDS dates carry a time zone; a date-time without one is read as UTC, not as local time.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def parse_date(value):
    dt = parse_datetime(value)
    if dt is not None:
        return dt.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _check_amount(value, where, max_amount):
    if not isinstance(value, dict):
        raise InvalidRelease(f"{where} must be an object with amount and currency")
    amount = value.get("amount")
    if amount is None:
        return
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise InvalidRelease(f"{where}.amount must be a number, got {type(amount).__name__} {str(amount)[:40]!r}")
    if math.isnan(amount) or math.isinf(amount) or amount < 0 or amount > max_amount:
        raise InvalidRelease(f"{where}.amount {amount!r} is absurd (allowed 0 to {max_amount:,})")
    currency = value.get("currency")
    if currency is not None and (not isinstance(currency, str) or len(currency) != 3):
        raise InvalidRelease(f"{where}.currency must be a three-letter code, got {str(currency)[:20]!r}")


def _list_of_objects(release, key, where=None):
    value = release.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise InvalidRelease(f"{where or key} must be an array of objects")
    return value


def validate_release(release, *, max_amount=10**12):
    """Normalise and check one release in place; raise InvalidRelease naming the field."""
    if not isinstance(release, dict):
        raise InvalidRelease(f"a release must be a JSON object, got {type(release).__name__}")
    ocid = release.get("ocid")
    if not isinstance(ocid, str) or not ocid.strip():
        raise InvalidRelease("missing ocid" if ocid in (None, "") else f"ocid must be a string, got {ocid!r:.40}")
    if len(ocid) > 200:
        raise InvalidRelease("ocid is longer than 200 characters")
    rid = release.get("id")
    if rid is None or rid == "":
        raise InvalidRelease("missing release id")
    if isinstance(rid, (int, float)) and not isinstance(rid, bool):
        release["id"] = str(rid)
    elif not isinstance(rid, str):
        raise InvalidRelease(f"release id must be a string, got {type(rid).__name__}")
    if "date" not in release or release["date"] in (None, ""):
        raise InvalidRelease("missing date")
    if parse_datetime(release["date"]) is None:
        raise InvalidRelease(f"date {str(release['date'])[:40]!r} is not an ISO 8601 date-time")
    tag = release.get("tag")
    if tag is not None and (not isinstance(tag, list) or not all(isinstance(t, str) for t in tag)):
        raise InvalidRelease("tag must be an array of strings")
    for key in ("tender", "planning", "buyer"):
        if key in release and release[key] is not None and not isinstance(release[key], dict):
            raise InvalidRelease(f"{key} must be an object")
    for path in AMOUNT_PATHS:
        node = release
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        if node is not None:
            _check_amount(node, ".".join(path), max_amount)
    parties = _list_of_objects(release, "parties")
    for i, party in enumerate(parties):
        if "name" in party and party["name"] is not None and not isinstance(party["name"], str):
            raise InvalidRelease(f"parties[{i}].name must be a string")
    for key in ("awards", "contracts"):
        for i, obj in enumerate(_list_of_objects(release, key)):
            if obj.get("value") is not None:
                _check_amount(obj["value"], f"{key}[{i}].value", max_amount)
            if key == "awards":
                _list_of_objects(obj, "suppliers", f"awards[{i}].suppliers")
    return release


def _objects(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, dict) for x in value)


def needs_upgrade(release) -> bool:
    """OCDS 1.0 data: organisations inline, no parties array.

    Data of the wrong shape is not upgraded: validate_release then says what is wrong with it.
    """
    if not isinstance(release, dict) or "parties" in release:
        return False
    tender, awards = release.get("tender"), release.get("awards")
    if (release.get("buyer") is not None and not isinstance(release["buyer"], dict)
            or tender is not None and not isinstance(tender, dict)
            or awards is not None and not _objects(awards)
            or any(a.get("suppliers") is not None and not _objects(a["suppliers"]) for a in awards or [])
            or isinstance(tender, dict) and tender.get("tenderers") is not None and not _objects(tender["tenderers"])
            or isinstance(tender, dict) and tender.get("procuringEntity") is not None
            and not isinstance(tender["procuringEntity"], dict)):
        return False
    if isinstance(release.get("buyer"), dict) and ("identifier" in release["buyer"] or "name" in release["buyer"]):
        return True
    tender = release.get("tender") or {}
    if isinstance(tender, dict) and "procuringEntity" in tender:
        return True
    return any("suppliers" in a for a in release.get("awards") or [] if isinstance(a, dict))


def _amount(value):
    if isinstance(value, dict):
        amount = value.get("amount")
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            return amount
    return None


def _currency(*values):
    for v in values:
        if isinstance(v, dict) and isinstance(v.get("currency"), str):
            return v["currency"][:3]
    return "GBP"


def status_of(compiled) -> str:
    """The stage of a contracting process, for users to filter on."""
    contracts = [c for c in compiled.get("contracts") or [] if isinstance(c, dict)]
    awards = [a for a in compiled.get("awards") or [] if isinstance(a, dict)]
    tender = compiled.get("tender") or {}
    if contracts and all(c.get("status") in ("terminated", "cancelled") for c in contracts):
        return "terminated"
    if any(c.get("status") in ("active", "pending", None) for c in contracts):
        return "contract"
    if any(a.get("status") in ("active", "pending", None) for a in awards):
        return "awarded"
    tstatus = tender.get("status")
    if tstatus in ("cancelled", "unsuccessful", "withdrawn") or (awards and all(
            a.get("status") in INACTIVE for a in awards)):
        return "cancelled"
    if tstatus in ("planning", "planned") or (not tender and compiled.get("planning")):
        return "planned"
    if tstatus == "active":
        end = parse_datetime((tender.get("tenderPeriod") or {}).get("endDate"))
        return "tender" if end is None or end.timestamp() > datetime.now().timestamp() else "tender_closed"
    if tstatus == "complete":
        return "tender_closed"
    return "tender" if tender else "planned"


def _parties_by_id(compiled):
    """Parties by id; duplicate ids are merged (first value wins, later ones fill gaps)."""
    out = {}
    for party in compiled.get("parties") or []:
        if not isinstance(party, dict):
            continue
        pid = str(party.get("id") or "")
        if pid in out:
            merged = dict(party)
            merged.update({k: v for k, v in out[pid].items() if v not in (None, "", [], {})})
            out[pid] = merged
        else:
            out[pid] = party
    return out


def _identifiers(party):
    ids = []
    more = party.get("additionalIdentifiers")
    for ident in [party.get("identifier")] + (more if isinstance(more, list) else []):
        if isinstance(ident, dict):
            scheme = str(ident.get("scheme") or "").strip()
            value = str(ident.get("id") or "").strip()
            if value[-2:] == ".0" and value[:-2].isdigit():  # a number that went through a spreadsheet
                value = value[:-2]
            if scheme and value:
                ids.append({"scheme": scheme, "id": value})
    return ids


def _companies_house(ids):
    for i in ids:
        if i["scheme"].upper() == "GB-COH":
            v = i["id"].replace(" ", "").upper()
            return v.zfill(8) if v.isdigit() else v[:12]
    return ""


def _charity(ids):
    for i in ids:
        if i["scheme"].upper() in ("GB-CHC", "GB-SC", "GB-NIC"):
            return i["id"][:12]
    return ""


def supplier_facts(party_ref, parties) -> dict:
    """What we know of a supplier: key, name, identifiers, scale, VCSE."""
    pid = str(party_ref.get("id") or "")
    party = parties.get(pid, {}) if pid else {}
    name = clean_text(party.get("name") or party_ref.get("name") or "")
    if not name:
        name = clean_text((party.get("identifier") or {}).get("legalName") or "")
    ids = _identifiers(party) or _identifiers(party_ref)
    details = party.get("details") if isinstance(party.get("details"), dict) else {}
    scale = details.get("scale") if details.get("scale") in ("sme", "large", "micro") else ""
    if scale == "micro":
        scale = "sme"
    vcse = details.get("vcse") if isinstance(details.get("vcse"), bool) else None
    # Older Contracts Finder notices (2017-2020) put the supplier's declarations on the party itself.
    if not scale and isinstance(party.get("sme"), bool):
        scale = "sme" if party["sme"] else "large"
    if vcse is None and isinstance(party.get("vco"), bool):
        vcse = party["vco"]
    from commissioner.methods.text import supplier_name_key

    if ids:
        key = f"{ids[0]['scheme']}-{ids[0]['id']}"
    elif pid and pid.upper().startswith(("GB-", "XI-", "IE-")) and len(pid) > 6:
        key = pid
    else:
        key = "name:" + supplier_name_key(name)
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    return {
        "key": key[:300], "name": name or key, "scheme": ids[0]["scheme"] if ids else "",
        "identifier": ids[0]["id"] if ids else (pid if key == pid else ""), "scale": scale, "is_vcse": vcse,
        "companies_house": _companies_house(ids), "charity_number": _charity(ids), "identifiers": ids,
        "address": {k: clean_text(v) for k, v in address.items() if isinstance(v, str)},
    }


def buyer_of(compiled, parties) -> tuple[str, str]:
    """(name, website) of the buyer."""
    buyer = compiled.get("buyer") if isinstance(compiled.get("buyer"), dict) else {}
    party = parties.get(str(buyer.get("id") or ""), {})
    if not party:
        party = next((p for p in parties.values() if "buyer" in (p.get("roles") or [])), {})
    if not party:
        tender = compiled.get("tender") or {}
        party = tender.get("procuringEntity") if isinstance(tender.get("procuringEntity"), dict) else {}
        party = parties.get(str(party.get("id") or ""), party)
    name = clean_text(party.get("name") or buyer.get("name")
                      or (party.get("identifier") or {}).get("legalName") or "")
    details = party.get("details") if isinstance(party.get("details"), dict) else {}
    url = details.get("url") or (party.get("contactPoint") or {}).get("url") or ""
    return name, url if isinstance(url, str) and url.startswith(("http://", "https://")) else ""


def _documents(compiled):
    docs, seen = [], set()
    sections = [("planning", compiled.get("planning")), ("tender", compiled.get("tender"))]
    sections += [("award", a) for a in compiled.get("awards") or []]
    sections += [("contract", c) for c in compiled.get("contracts") or []]
    for stage, obj in sections:
        if not isinstance(obj, dict):
            continue
        for d in obj.get("documents") or []:
            if not isinstance(d, dict):
                continue
            url = d.get("url") if isinstance(d.get("url"), str) else ""
            key = url or (stage, d.get("id"))
            if key in seen:
                continue
            seen.add(key)
            docs.append({
                "stage": stage, "type": str(d.get("documentType") or ""),
                "title": clean_text(d.get("title") or d.get("description") or d.get("documentType") or "Document"),
                "url": url if url.startswith(("http://", "https://")) else "",
                "published": str(d.get("datePublished") or "")[:10],
            })
    return docs


def contract_fields(compiled) -> dict:
    """Register fields from a compiled release (no buyer organisation, no suppliers)."""
    tender = compiled.get("tender") if isinstance(compiled.get("tender"), dict) else {}
    awards = [a for a in compiled.get("awards") or [] if isinstance(a, dict)]
    contracts = [c for c in compiled.get("contracts") or [] if isinstance(c, dict)]
    live_awards = [a for a in awards if a.get("status") not in INACTIVE]
    classification = tender.get("classification") if isinstance(tender.get("classification"), dict) else {}
    if not classification:
        for item in tender.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("classification"), dict):
                classification = item["classification"]
                break
    cpv = ""
    if str(classification.get("scheme") or "").upper() == "CPV":
        cpv = str(classification.get("id") or "").split("-")[0][:12]
    award_amounts = [_amount(a.get("value")) for a in live_awards]
    award_value = sum(a for a in award_amounts if a is not None) if any(
        a is not None for a in award_amounts) else None
    contract_amounts = [_amount(c.get("value")) for c in contracts if c.get("status") not in INACTIVE]
    if award_value is None and any(a is not None for a in contract_amounts):
        award_value = sum(a for a in contract_amounts if a is not None)
    tender_value = _amount(tender.get("value"))
    live_contracts = [c for c in contracts if c.get("status") not in INACTIVE]
    periods = [c.get("period") for c in live_contracts] + [a.get("contractPeriod") for a in live_awards]
    periods = [p for p in periods if isinstance(p, dict)] or (
        [tender["contractPeriod"]] if isinstance(tender.get("contractPeriod"), dict) else [])
    starts = [d for d in (parse_date(p.get("startDate")) for p in periods) if d]
    ends = [d for d in (parse_date(p.get("endDate")) for p in periods) if d]
    title = (tender.get("title") or next((a.get("title") for a in awards if a.get("title")), None)
             or next((c.get("title") for c in contracts if c.get("title")), None)
             or (compiled.get("planning") or {}).get("project") or compiled.get("ocid"))
    suitability = tender.get("suitability") if isinstance(tender.get("suitability"), dict) else {}
    fields = {
        "title": clean_text(title)[:1000],
        "description": clean_text(tender.get("description") or ""),
        "reference": clean_text(tender.get("id") or "")[:200],
        "status": status_of(compiled),
        "tender_status": str(tender.get("status") or "")[:30],
        "procurement_method": str(tender.get("procurementMethod") or "")[:30],
        "procurement_method_details": clean_text(tender.get("procurementMethodDetails") or "")[:300],
        "main_category": str(tender.get("mainProcurementCategory") or "")[:20],
        "cpv": cpv,
        "cpv_description": clean_text(classification.get("description") or "")[:300],
        "cpv_division": cpv[:2],
        "tender_value": tender_value,
        "tender_min_value": _amount(tender.get("minValue")),
        "award_value": award_value,
        "value": award_value if award_value is not None else tender_value,
        "currency": _currency(*(a.get("value") for a in live_awards), tender.get("value")),
        "start_date": min(starts) if starts else None,
        "end_date": max(ends) if ends else None,
        "tender_end_date": parse_date((tender.get("tenderPeriod") or {}).get("endDate")
                                      if isinstance(tender.get("tenderPeriod"), dict) else None),
        "published": parse_datetime(compiled.get("date")),
        "suitable_sme": suitability.get("sme") if isinstance(suitability.get("sme"), bool) else None,
        "suitable_vcse": suitability.get("vcse") if isinstance(suitability.get("vcse"), bool) else None,
        "documents": _documents(compiled),
    }
    if str(compiled.get("ocid") or "").startswith(REGISTER_OCID_PREFIX) or any(
            "x_reviewDate" in c for c in contracts):
        # Council registers (Transparency Code) give a review date; notices do not, so an OCDS
        # import never touches a review date set in Commissioner.
        reviews = [d for d in (parse_date(c.get("x_reviewDate")) for c in live_contracts) if d]
        fields["review_date"] = min(reviews) if reviews else None
    return fields


def award_suppliers(compiled):
    """[(supplier facts, award id, award value)] for live awards."""
    parties = _parties_by_id(compiled)
    out = []
    for a in compiled.get("awards") or []:
        if not isinstance(a, dict) or a.get("status") in INACTIVE:
            continue
        for ref in a.get("suppliers") or []:
            if isinstance(ref, dict):
                out.append((supplier_facts(ref, parties), str(a.get("id") or "")[:200], _amount(a.get("value"))))
    return out


def parties_by_id(compiled):
    return _parties_by_id(compiled)


def flat_path(key) -> str:
    return "/".join(str(k) for k in key)
