"""Number formats for the social value pages: pounds rounded to whole pounds (as the other pages show money),
ratios to two places, and figures set side by side (promised and delivered) with the same number of decimal
places. Downloads keep full precision; these are for reading only."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def places(*values, most=2):
    """The decimal places (0 to ``most``) that show every one of ``values`` without losing what it has, once
    rounded to ``most`` places: 15 and 12.5 need 1; 15 and 27000 need 0."""
    needed = 0
    for value in values:
        number = _decimal(value)
        if number is None or not number.is_finite():
            continue
        text = format(number.quantize(Decimal(1).scaleb(-most)).normalize(), "f")
        needed = max(needed, len(text.partition(".")[2]))
    return needed


def number(value, decimals=0):
    """A number with thousands separators and exactly ``decimals`` places: 1234.5, 1 -> "1,234.5"."""
    num = _decimal(value)
    if num is None:
        return ""
    return f"{num.quantize(Decimal(1).scaleb(-decimals)):,.{decimals}f}"


@register.filter
def pounds(value):
    """Money to the whole pound: 100000.00 -> "£100,000"; negative as -£5."""
    num = _decimal(value)
    if num is None:
        return ""
    text = number(abs(num), 0)
    return f"-£{text}" if num < 0 and text != "0" else f"£{text}"


@register.filter
def like(value, other):
    """``value`` with as many decimal places as it or ``other`` needs (up to 2), so a pair set side by side
    reads alike: 15 beside 12.5 is "15.0"."""
    return number(value, places(value, other))


@register.filter
def ratio(value):
    """A ratio to two places: 0.36987 -> "0.37"."""
    return number(value, 2)
