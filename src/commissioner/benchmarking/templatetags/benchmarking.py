from decimal import ROUND_HALF_UP, Decimal

from django import template

from commissioner.benchmarking.queries import plain as plain_text

register = template.Library()


@register.filter
def plain(value):
    """A value as plain text to at most 3 decimal places (the downloads keep every digit), 'missing' when
    there is none (never 0)."""
    if value is None:
        return "missing"
    if isinstance(value, Decimal) and value.as_tuple().exponent < -3:
        value = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return plain_text(value)


@register.filter
def mads(value):
    """A MAD distance to 1 decimal place with its sign; a dash when there is none."""
    if value is None:
        return "none"
    return f"{value:+.1f}".replace("-", "\u2212")


@register.filter
def pct(value):
    return "none" if value is None else f"{value:.1f}"


@register.filter
def quartile(value, polarity="higher"):
    if value is None:
        return "none"
    if polarity == "none":
        return {1: "1 (highest)", 2: "2", 3: "3", 4: "4 (lowest)"}[value]
    return {1: "1 (best)", 2: "2", 3: "3", 4: "4 (worst)"}[value]
