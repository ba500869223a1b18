"""``{% feedback_panel contract=... %}`` / ``{% feedback_panel provider=... %}``: the residents' feedback summary on
the register's contract and provider pages; ``theme_label``: a theme key's name."""

from django import template
from django.urls import reverse

from commissioner.feedback import analysis, queries
from commissioner.orgs import tenancy

register = template.Library()


@register.filter
def theme_label(key):
    return analysis.theme_label(key)


@register.inclusion_tag("feedback/includes/panel.html", takes_context=True)
def feedback_panel(context, contract=None, provider=None):
    user = context["request"].user
    if contract is not None:
        stories = queries.for_contract(user, contract)
        page_url = reverse("feedback-service", args=[contract.ocid])
        export_url = reverse("feedback-service-export", args=[contract.ocid])
        can_export = tenancy.can_edit(user, contract.owner_id)
    else:
        stories = queries.for_provider(user, provider)
        page_url = reverse("feedback-provider", args=[provider.pk])
        export_url = reverse("feedback-provider-export", args=[provider.pk])
        can_export = queries.is_moderator(user)
    return {"summary": queries.summary(stories), "page_url": page_url, "export_url": export_url,
            "can_export": can_export, "request": context["request"]}
