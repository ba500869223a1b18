"""Reads for options appraisals, scoped by orgs.tenancy (``visible_to``)."""

from commissioner.appraisal.models import Appraisal


def appraisals(user):
    return list(Appraisal.objects.visible_to(user).select_related("owner").order_by("-updated_at", "-id"))


def appraisal_for(user, pk):
    """The appraisal if the user may see it, else None."""
    return (Appraisal.objects.visible_to(user).select_related("owner", "created_by")
            .prefetch_related("options", "contracts").filter(pk=pk).first())
