"""Reads for supplier financial risk, scoped by orgs.tenancy: the council's members see its accounts and
assessments (``visible_to``); a provider's own users see the accounts of their provider held by a council they
hold a contract with (``shared_with_supplier``), and none of the council's assessments."""

from commissioner.orgs import tenancy
from commissioner.register.models import Contract
from commissioner.risk.models import RiskAssessment, SupplierAccounts


def contract_for(user, ocid):
    """The contract if the user may see it in the register, or holds it as the supplier; else None."""
    found = Contract.objects.visible_to(user).select_related("owner").filter(ocid=ocid).first()
    if found is None and tenancy.provider_ids(user):
        found = tenancy.performance_contracts(Contract.objects.select_related("owner").filter(ocid=ocid),
                                              user).first()
    return found


def providers_for(user, contract, providers):
    """The providers of ``providers`` (the contract's) whose risk page the user may use: all of them for the
    council's members, another council and superusers; only their own for the provider's user of this contract."""
    if user.is_superuser or contract.owner_id in tenancy.member_org_ids(user) or not tenancy.provider_ids(user):
        return providers
    return [p for p in providers if p.pk in tenancy.provider_ids(user)] or providers


def accounts(user, contract, provider):
    """The provider's accounts held by the contract's council that the user may see, newest first."""
    return list(tenancy.shared_with_supplier(SupplierAccounts.objects.all(), user)
                .filter(owner=contract.owner, provider=provider)
                .select_related("entered_by", "supplier_user").order_by("-year"))


def assessments(user, contract, provider=None):
    """The contract's assessments that the user may see, newest first (current and superseded)."""
    qs = RiskAssessment.objects.visible_to(user).filter(contract=contract).select_related("provider", "assessed_by")
    if provider is not None:
        qs = qs.filter(provider=provider)
    return list(qs.order_by("-assessed_at", "-id"))
