"""API endpoint for the raw OCDS releases of a contracting process."""

import io

from django.http import HttpResponse
from ninja import Path, Router

from commissioner.ocds.services import export_release_package
from commissioner.register import queries
from commissioner.register.api import contract_or_404
from commissioner.register.schemas import ReleasePackage, Text

router = Router()


@router.get("/releases/{path:ocid}", response=ReleasePackage, tags=["releases"])
def release_package(request, ocid: Path[Text]):
    """Every release we hold for the ocid, exactly as published, as an OCDS 1.1 release package."""
    contract = contract_or_404(request.user, ocid)
    out = io.BytesIO()
    export_release_package(queries.contracts(request.user).filter(pk=contract.pk), out)
    return HttpResponse(out.getvalue(), content_type="application/json")
