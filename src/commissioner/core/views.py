from django.shortcuts import render
from django.views.decorators.http import require_safe

from commissioner.register import queries
from commissioner.register.forms import can_add_contracts


@require_safe
def home(request):
    councils = queries.organisations(request.user, queries.OrgFilters(kind="council", sort="-contracts"))[:10]
    return render(request, "core/home.html", {
        "contract_count": queries.contracts(request.user).count(),
        "councils": councils,
        "can_add": can_add_contracts(request.user),
    })
