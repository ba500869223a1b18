"""Reads for supplier financial risk, scoped by orgs.tenancy (``visible_to``)."""

from commissioner.register.models import Contract
from commissioner.risk.models import RiskAssessment, SupplierAccounts


def contract_for(user, ocid):
    """The contract if the user may see it in the register, else None."""
    return Contract.objects.visible_to(user).select_related("owner").filter(ocid=ocid).first()


def accounts(user, contract, provider):
    """The provider's accounts held by the contract's council that the user may see, newest first."""
    return list(SupplierAccounts.objects.visible_to(user).filter(owner=contract.owner, provider=provider)
                .select_related("entered_by").order_by("-year"))


def assessments(user, contract, provider=None):
    """The contract's assessments that the user may see, newest first (current and superseded)."""
    qs = RiskAssessment.objects.visible_to(user).filter(contract=contract).select_related("provider", "assessed_by")
    if provider is not None:
        qs = qs.filter(provider=provider)
    return list(qs.order_by("-assessed_at", "-id"))
