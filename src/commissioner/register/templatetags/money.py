"""Display filters for pages: money ("£1,234"), percentages and status tag colours."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

STATUS_TAG_CLASSES = {
    "planned": "govuk-tag--grey",
    "tender": "govuk-tag--blue",
    "tender_closed": "govuk-tag--yellow",
    "awarded": "govuk-tag--green",
    "contract": "govuk-tag--turquoise",
    "terminated": "govuk-tag--red",
    "cancelled": "govuk-tag--red",
}
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(value, currency="GBP"):
    """'£1,234' (whole pounds); '' for no value, so templates can chain ``|default:"Not known"``."""
    return _money(value, currency, pence=False)


@register.filter
def money_exact(value, currency="GBP"):
    """'£1,234.50' when there are pence, else '£1,234'."""
    return _money(value, currency, pence=True)


def _money(value, currency, pence):
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    places = Decimal("0.01") if pence and amount != amount.to_integral_value() else Decimal(1)
    amount = amount.quantize(places, rounding=ROUND_HALF_UP)
    digits = f"{abs(amount):,.2f}" if places == Decimal("0.01") else f"{abs(amount):,.0f}"
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency or "GBP")
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


@register.filter
def percent(value, places=1):
    """'59.7%'; '' for no value."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):.{int(places)}f}%"
    except (InvalidOperation, ValueError):
        return ""


@register.filter
def status_tag_class(status):
    """The GOV.UK tag colour class for a contract status."""
    return STATUS_TAG_CLASSES.get(status, "govuk-tag--grey")


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
