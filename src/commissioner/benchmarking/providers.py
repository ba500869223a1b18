"""Provider performance across councils: reads for the provider and category benchmarking pages and API.

Every figure comes from ``performance.ProviderContractSummary``: one row per contract and provider
holding it, with the contract's current results (counts of current KPI returns by classification,
the latest current Procurement Act assessment, the latest unit cost). The summary is kept by
``performance.services`` on every write (``refresh_summaries``) and rebuilt in bulk, idempotently,
with set-based SQL by ``rebuild_summaries()`` (after a bulk load, or to repair it). So a page reads a
few grouped queries on one indexed table, whatever the number of returns.

Tenancy: the rows a user sees are ``ProviderContractSummary.objects.visible_to(user)``, the
``orgs.tenancy`` rule on the contract's owner and privacy (copied into the row): public contracts,
and private ones of the user's own councils. These are aggregates (counts, ratings, unit costs): no
single return, evidence or comment is shown. The pages and API are for signed-in council members and
site administrators (``may_benchmark``); performance is never public.

The calculations are the pure functions of ``methods.provider_results``.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Aggregate, Count, FloatField, Max, Q, Sum

from commissioner.methods import procurement
from commissioner.methods import provider_results as pr
from commissioner.orgs import tenancy
from commissioner.orgs.models import Organisation
from commissioner.performance.models import (
    Assessment,
    Kpi,
    KpiReturn,
    ProviderCategorySummary,
    ProviderContractSummary,
)
from commissioner.register.cpv import division_name
from commissioner.register.models import Contract, ContractSupplier, Provider, Supplier

RANKING_METHOD = pr.RANKING_METHOD
SHARE_METHOD = pr.SHARE_METHOD
UNIT_COST_METHOD = pr.UNIT_COST_METHOD
PERCENTILE_METHOD = pr.PERCENTILE_METHOD
MISSING = "missing figures are shown as missing, never 0: they are left out of ranks and counted"

COUNT_FIELDS = ("met", "slightly_below", "below", "significantly_below")


# The summary table: rebuilt in bulk and refreshed per contract ------------------------------------

def _summary_sql(where_contract: str) -> str:
    """INSERT ... SELECT filling the summary (for every contract, or those matching ``where_contract``, a
    condition on a column called ``contract_id`` / ``id``; ``{c}`` is replaced by the table alias)."""
    t = {
        "s": ProviderContractSummary._meta.db_table, "c": Contract._meta.db_table,
        "cs": ContractSupplier._meta.db_table, "sup": Supplier._meta.db_table, "k": Kpi._meta.db_table,
        "r": KpiReturn._meta.db_table, "a": Assessment._meta.db_table,
    }

    def w(alias, prefix=" WHERE "):
        return f"{prefix}{where_contract.format(c=alias)}" if where_contract else ""

    return f"""
INSERT INTO {t['s']} (contract_id, provider_id, owner_id, is_private, buyer_id, cpv_division, kpis, met,
    slightly_below, below, significantly_below, rating, rated_on, unit_cost, unit_cost_unit,
    unit_cost_period_end, synthetic)
SELECT cp.contract_id, cp.provider_id, c.owner_id, c.is_private, c.buyer_id, c.cpv_division,
    COALESCE(k.n, 0), COALESCE(r.met, 0), COALESCE(r.sb, 0), COALESCE(r.b, 0), COALESCE(r.sig, 0),
    COALESCE(a.rating, ''), a.assessed_on, u.value, COALESCE(u.unit, ''), u.period_end,
    CASE WHEN COALESCE(k.syn, 0) + COALESCE(r.syn, 0) + COALESCE(a.syn, 0) > 0 THEN TRUE ELSE FALSE END
FROM (SELECT DISTINCT cs.contract_id, sup.provider_id FROM {t['cs']} cs
      JOIN {t['sup']} sup ON sup.id = cs.supplier_id{w('cs')}) cp
JOIN {t['c']} c ON c.id = cp.contract_id
LEFT JOIN (SELECT contract_id, SUM(CASE WHEN is_active THEN 1 ELSE 0 END) AS n,
                  MAX(CASE WHEN synthetic THEN 1 ELSE 0 END) AS syn
           FROM {t['k']} kk{w('kk')} GROUP BY contract_id) k ON k.contract_id = c.id
LEFT JOIN (SELECT kk.contract_id,
                  SUM(CASE WHEN rr.classification = 'met' THEN 1 ELSE 0 END) AS met,
                  SUM(CASE WHEN rr.classification = 'slightlyBelow' THEN 1 ELSE 0 END) AS sb,
                  SUM(CASE WHEN rr.classification = 'below' THEN 1 ELSE 0 END) AS b,
                  SUM(CASE WHEN rr.classification = 'significantlyBelow' THEN 1 ELSE 0 END) AS sig,
                  MAX(CASE WHEN rr.synthetic THEN 1 ELSE 0 END) AS syn
           FROM {t['r']} rr JOIN {t['k']} kk ON kk.id = rr.kpi_id
           WHERE rr.is_current{w('kk', ' AND ')} GROUP BY kk.contract_id) r ON r.contract_id = c.id
LEFT JOIN (SELECT aa.contract_id, aa.rating, aa.assessed_on, CASE WHEN aa.synthetic THEN 1 ELSE 0 END AS syn,
                  ROW_NUMBER() OVER (PARTITION BY aa.contract_id ORDER BY aa.assessed_on DESC, aa.id DESC) AS rn
           FROM {t['a']} aa WHERE aa.is_current{w('aa', ' AND ')}) a ON a.contract_id = c.id AND a.rn = 1
LEFT JOIN (SELECT kk.contract_id, rr.value, kk.unit, rr.period_end,
                  ROW_NUMBER() OVER (PARTITION BY kk.contract_id ORDER BY rr.period_start DESC, kk.id ASC) AS rn
           FROM {t['r']} rr JOIN {t['k']} kk ON kk.id = rr.kpi_id
           WHERE rr.is_current AND kk.unit LIKE %s{w('kk', ' AND ')}) u ON u.contract_id = c.id AND u.rn = 1
"""


UNIT_COST_LIKE = "£%"


def _category_sql(divisions: int = 0, providers: int = 0) -> str:
    """WITH ... INSERT ... SELECT of the category summary from the public rows of the contract summary: every
    division and provider, or (with placeholders for the parameters ``divisions`` then ``providers``, in
    that order, three times) those in the given divisions and providers. The unit cost is the median (the
    middle value, or the mean of the two middle ones) of the contracts' latest unit costs in the division's
    most common unit (the most rows; a tie: the first unit by name)."""
    t, c = ProviderContractSummary._meta.db_table, ProviderCategorySummary._meta.db_table

    def within(alias, with_providers=True):
        out = f" AND {alias}.cpv_division IN ({', '.join(['%s'] * divisions)})" if divisions else ""
        if providers and with_providers:
            out += f" AND {alias}.provider_id IN ({', '.join(['%s'] * providers)})"
        return out

    return f"""
WITH mu AS (
    SELECT cpv_division, unit FROM (
        SELECT s.cpv_division, s.unit_cost_unit AS unit,
               ROW_NUMBER() OVER (PARTITION BY s.cpv_division ORDER BY COUNT(*) DESC, s.unit_cost_unit) AS rn
        FROM {t} s WHERE NOT s.is_private AND s.unit_cost IS NOT NULL AND s.cpv_division <> ''{within('s', False)}
        GROUP BY s.cpv_division, s.unit_cost_unit) u
    WHERE u.rn = 1)
INSERT INTO {c} (cpv_division, provider_id, contracts, councils, met, slightly_below, below, significantly_below,
    returns, share_met, rated_good, rated_approaching, rated_requires_improvement, rated_inadequate, rated_other,
    unit_cost_unit, unit_cost_median, unit_cost_contracts, synthetic)
SELECT g.cpv_division, g.provider_id, g.contracts, g.councils, g.met, g.sb, g.b, g.sig, g.n,
    CASE WHEN g.n > 0 THEN CAST(g.met AS DOUBLE PRECISION) / g.n END,
    g.r1, g.r2, g.r3, g.r4, g.r5, COALESCE(mu.unit, ''), md.median, COALESCE(md.n, 0),
    CASE WHEN g.syn > 0 THEN TRUE ELSE FALSE END
FROM (SELECT s.cpv_division, s.provider_id, COUNT(*) AS contracts, COUNT(DISTINCT s.buyer_id) AS councils,
             SUM(s.met) AS met, SUM(s.slightly_below) AS sb, SUM(s.below) AS b, SUM(s.significantly_below) AS sig,
             SUM(s.met + s.slightly_below + s.below + s.significantly_below) AS n,
             SUM(CASE WHEN s.rating = 'good' THEN 1 ELSE 0 END) AS r1,
             SUM(CASE WHEN s.rating = 'approaching' THEN 1 ELSE 0 END) AS r2,
             SUM(CASE WHEN s.rating = 'requires_improvement' THEN 1 ELSE 0 END) AS r3,
             SUM(CASE WHEN s.rating = 'inadequate' THEN 1 ELSE 0 END) AS r4,
             SUM(CASE WHEN s.rating = 'other' THEN 1 ELSE 0 END) AS r5,
             SUM(CASE WHEN s.synthetic THEN 1 ELSE 0 END) AS syn
      FROM {t} s WHERE NOT s.is_private AND s.cpv_division <> ''{within('s')}
      GROUP BY s.cpv_division, s.provider_id) g
LEFT JOIN mu ON mu.cpv_division = g.cpv_division
LEFT JOIN (SELECT x.cpv_division, x.provider_id, AVG(x.unit_cost) AS median, MAX(x.n) AS n FROM (
              SELECT s.cpv_division, s.provider_id, s.unit_cost,
                     ROW_NUMBER() OVER (PARTITION BY s.cpv_division, s.provider_id ORDER BY s.unit_cost) AS rn,
                     COUNT(*) OVER (PARTITION BY s.cpv_division, s.provider_id) AS n
              FROM {t} s JOIN mu ON mu.cpv_division = s.cpv_division AND mu.unit = s.unit_cost_unit
              WHERE NOT s.is_private AND s.unit_cost IS NOT NULL{within('s')}) x
           WHERE x.rn IN ((x.n + 1) / 2, (x.n + 2) / 2)
           GROUP BY x.cpv_division, x.provider_id) md
  ON md.cpv_division = g.cpv_division AND md.provider_id = g.provider_id
"""


def rebuild_summaries() -> int:
    """Rebuild the whole summary table from contracts, KPIs, returns and assessments with set-based SQL
    (one DELETE and one INSERT ... SELECT ... GROUP BY, in one transaction). Idempotent: running it twice
    gives the same rows. Returns the number of rows."""
    table = ProviderContractSummary._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(_summary_sql(""), [UNIT_COST_LIKE])
        cursor.execute(f"DELETE FROM {ProviderCategorySummary._meta.db_table}")
        cursor.execute(_category_sql())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"ANALYZE {ProviderCategorySummary._meta.db_table}")
    return ProviderContractSummary.objects.count()


def refresh_summaries(contract_ids) -> None:
    """Recompute the summary rows of these contracts (called by ``performance.services`` on every write,
    inside its transaction)."""
    ids = sorted({int(i) for i in contract_ids})
    if not ids:
        return
    table = ProviderContractSummary._meta.db_table
    pairs = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cpv_division, provider_id FROM {table} WHERE contract_id IN ({marks})", chunk)
            pairs.update(cursor.fetchall())
            cursor.execute(f"DELETE FROM {table} WHERE contract_id IN ({marks})", chunk)
            cursor.execute(_summary_sql(f"{{c}}.contract_id IN ({marks})"),
                           [*chunk, *chunk, *chunk, *chunk, UNIT_COST_LIKE, *chunk])
            cursor.execute(f"SELECT cpv_division, provider_id FROM {table} WHERE contract_id IN ({marks})", chunk)
            pairs.update(cursor.fetchall())
    _refresh_categories(pairs)


REBUILD_SHARE = 0.2  # a bulk import touching more than this share of the contracts rebuilds the summaries


def refresh_after_import(contract_ids) -> None:
    """After a bulk import: refresh the summary rows of the contracts it created or relinked, or, when they
    are many (over REBUILD_SHARE of all contracts, or over 5,000), rebuild the whole summary in one set-based
    pass, which is far cheaper than refreshing chunk by chunk."""
    ids = set(contract_ids)
    if not ids:
        return
    if len(ids) > 5_000 or len(ids) > REBUILD_SHARE * Contract.objects.count():
        rebuild_summaries()
    else:
        with transaction.atomic():
            refresh_summaries(ids)


def _refresh_categories(pairs) -> None:
    """Recompute the category summary of these (division, provider) pairs; if a division's most common unit
    of cost changed, of every provider in the division."""
    pairs = {(d, p) for d, p in pairs if d}
    if not pairs:
        return
    c = ProviderCategorySummary._meta.db_table
    divisions = sorted({d for d, _ in pairs})
    stored = dict(ProviderCategorySummary.objects.filter(cpv_division__in=divisions).exclude(unit_cost_unit="")
                  .values_list("cpv_division", "unit_cost_unit").distinct())
    now = dict(ProviderContractSummary.objects.filter(cpv_division__in=divisions, is_private=False,
                                                      unit_cost__isnull=False)
               .values_list("cpv_division", "unit_cost_unit").annotate(n=Count("id"))
               .order_by("cpv_division", "-n", "unit_cost_unit").values_list("cpv_division", "unit_cost_unit")
               .reverse())  # the last of each division (the most common) wins in dict()
    whole = [d for d in divisions if stored.get(d) != now.get(d)]
    with connection.cursor() as cursor:
        if whole:
            marks = ", ".join(["%s"] * len(whole))
            cursor.execute(f"DELETE FROM {c} WHERE cpv_division IN ({marks})", whole)
            cursor.execute(_category_sql(len(whole)), whole * 3)
        rest = sorted({(d, p) for d, p in pairs if d not in whole})
        for start in range(0, len(rest), 500):
            chunk = rest[start:start + 500]
            divs, provs = sorted({d for d, _ in chunk}), sorted({p for _, p in chunk})
            dm, pm = ", ".join(["%s"] * len(divs)), ", ".join(["%s"] * len(provs))
            cursor.execute(f"DELETE FROM {c} WHERE cpv_division IN ({dm}) AND provider_id IN ({pm})",
                           [*divs, *provs])
            cursor.execute(_category_sql(len(divs), len(provs)), [*divs, *divs, *provs, *divs, *provs])


def refresh_provider_summaries(provider_ids) -> None:
    """Recompute the summary rows of every contract of these providers (after a merge or a split moves
    supplier identities between providers)."""
    ids = ContractSupplier.objects.filter(supplier__provider_id__in=list(provider_ids)).values_list(
        "contract_id", flat=True).distinct()
    refresh_summaries(list(ids))


# Who may read -------------------------------------------------------------------------------------

def may_benchmark(user) -> bool:
    """Signed-in members of a council and site administrators (performance is never public)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or bool(tenancy.member_org_ids(user))


def visible_rows(user):
    return ProviderContractSummary.objects.visible_to(user)


# Provider across councils -------------------------------------------------------------------------

class _Results:
    """Shared by a council's and a provider's row: returns counted by classification and the share met."""

    @property
    def returns(self):
        return sum(self.counts.values())

    @property
    def share_pct(self):
        return pr.percent(self.share_met)


@dataclass
class CouncilResults(_Results):
    buyer: Organisation | None
    buyer_label: str
    contracts: int
    kpis: int
    counts: dict  # met, slightly_below, below, significantly_below
    share_met: float | None
    ratings: dict  # rating -> number of contracts whose latest rating it is
    latest_rating: str | None
    latest_rated_on: object
    unit_costs: list  # [{"unit", "median", "latest", "latest_period_end", "contracts"}]
    synthetic: bool
    own: bool = False

    @property
    def latest_rating_label(self):
        return procurement.RATING_LABELS.get(self.latest_rating, "") if self.latest_rating else ""


@dataclass
class ProviderResults:
    provider: object
    councils: list
    divisions: list  # [(division, name, contracts)] to link to the category rankings
    totals: CouncilResults | None
    synthetic: bool
    missing_share: int = 0  # councils with no current returns


_GROUP_SUMS = {"contracts": Count("id"), "kpis": Sum("kpis"), "met": Sum("met"),
               "slightly_below": Sum("slightly_below"), "below": Sum("below"),
               "significantly_below": Sum("significantly_below"),
               "synthetic": Count("id", filter=Q(synthetic=True))}


def _counts(row):
    return {k: int(row[k] or 0) for k in COUNT_FIELDS}


def provider_across_councils(provider, user) -> ProviderResults:
    """The provider's results side by side by council (buyer), from the contracts the user may see."""
    rows = visible_rows(user).filter(provider=provider)
    own = set(tenancy.member_org_ids(user))
    groups = list(rows.values("buyer").annotate(**_GROUP_SUMS).order_by("buyer"))
    ratings = defaultdict(dict)
    latest = {}
    for r in rows.exclude(rating="").values("buyer", "rating").annotate(n=Count("id"), last=Max("rated_on")):
        ratings[r["buyer"]][r["rating"]] = r["n"]
        if r["buyer"] not in latest or r["last"] > latest[r["buyer"]][1]:
            latest[r["buyer"]] = (r["rating"], r["last"])
    costs = defaultdict(lambda: defaultdict(list))
    for buyer, unit, value, end in rows.filter(unit_cost__isnull=False).values_list(
            "buyer", "unit_cost_unit", "unit_cost", "unit_cost_period_end").order_by("unit_cost_period_end", "id"):
        costs[buyer][unit].append((value, end))
    orgs = Organisation.objects.in_bulk([g["buyer"] for g in groups if g["buyer"]])
    councils = []
    for g in groups:
        buyer = orgs.get(g["buyer"])
        counts = _counts(g)
        unit_costs = []
        for unit, values in sorted(costs[g["buyer"]].items()):
            unit_costs.append({"unit": unit, "median": pr.median([v for v, _ in values]), "latest": values[-1][0],
                               "latest_period_end": values[-1][1], "contracts": len(values)})
        rating, rated_on = latest.get(g["buyer"], (None, None))
        councils.append(CouncilResults(
            buyer=buyer, buyer_label=buyer.name if buyer else "Buyer not matched to a council",
            contracts=g["contracts"], kpis=int(g["kpis"] or 0), counts=counts, share_met=pr.share_met(counts),
            ratings=pr.ratings_spread(ratings[g["buyer"]]), latest_rating=rating, latest_rated_on=rated_on,
            unit_costs=unit_costs, synthetic=bool(g["synthetic"]), own=g["buyer"] in own))
    councils.sort(key=lambda c: (not c.own, c.buyer_label))
    totals = None
    if councils:
        all_counts = {k: sum(c.counts[k] for c in councils) for k in COUNT_FIELDS}
        all_ratings = defaultdict(int)
        for c in councils:
            for k, n in c.ratings.items():
                all_ratings[k] += n
        newest = max((c for c in councils if c.latest_rated_on), key=lambda c: c.latest_rated_on, default=None)
        totals = CouncilResults(
            buyer=None, buyer_label="All councils shown", contracts=sum(c.contracts for c in councils),
            kpis=sum(c.kpis for c in councils), counts=all_counts, share_met=pr.share_met(all_counts),
            ratings=pr.ratings_spread(all_ratings), latest_rating=newest.latest_rating if newest else None,
            latest_rated_on=newest.latest_rated_on if newest else None, unit_costs=[],
            synthetic=any(c.synthetic for c in councils))
    divisions = [(d["cpv_division"], division_name(d["cpv_division"]), d["n"])
                 for d in rows.exclude(cpv_division="").values("cpv_division").annotate(n=Count("id"))
                 .order_by("-n", "cpv_division")]
    return ProviderResults(provider=provider, councils=councils, divisions=divisions, totals=totals,
                           synthetic=any(c.synthetic for c in councils),
                           missing_share=sum(1 for c in councils if c.share_met is None))


def council_rows(result: ProviderResults) -> list[dict]:
    """The provider's table as plain rows for the CSV and JSON downloads (missing stays None)."""
    out = []
    for c in result.councils:
        costs = "; ".join(f"{u['unit']}: {u['latest']} (median {u['median']}, {u['contracts']} contracts)"
                          for u in c.unit_costs)
        out.append({
            "council": c.buyer_label, "council_slug": c.buyer.slug if c.buyer else None,
            "council_code": (c.buyer.gss_code or c.buyer.la_code or None) if c.buyer else None,
            "your_council": c.own, "contracts": c.contracts, "kpis": c.kpis, **c.counts, "returns": c.returns,
            "share_met": pr.percent(c.share_met), "latest_rating": c.latest_rating,
            "latest_rated_on": c.latest_rated_on.isoformat() if c.latest_rated_on else None,
            **{f"rated_{k}": n for k, n in c.ratings.items()},
            "unit_costs": costs or None, "synthetic": c.synthetic})
    return out


COUNCIL_FIELDS = ["council", "council_slug", "council_code", "your_council", "contracts", "kpis", *COUNT_FIELDS,
                  "returns", "share_met", "latest_rating", "latest_rated_on",
                  *[f"rated_{k}" for k in procurement.RATINGS], "unit_costs", "synthetic"]


# Category ranking ---------------------------------------------------------------------------------

class Median(Aggregate):
    """PostgreSQL's median (continuous percentile 0.5, the same as the linear method)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass
class ProviderRow(_Results):
    provider_id: int
    name: str
    contracts: int
    councils: int
    counts: dict
    share_met: float | None
    ratings: dict
    unit_cost: float | None  # median of the contracts' latest unit costs, in the category's unit
    unit_cost_contracts: int
    synthetic: bool
    own: bool = False  # holds a contract with the chosen council
    rank: int | None = None
    percentile: float | None = None
    unit_cost_rank: int | None = None

    @property
    def rated(self):
        return sum(self.ratings.values())


@dataclass
class CategoryRanking:
    division: str
    name: str
    org: Organisation | None
    peer: object  # benchmarking.queries.Peer
    rows: object = field(default_factory=list)  # ProviderRow: ranked best first, then missing (a list or lazy)
    ranked_count: int = 0
    missing_count: int = 0  # no current returns: not ranked
    unit: str = ""  # the unit cost compared (the most common £ unit in the category)
    unit_cost_ranked: int = 0
    unit_cost_missing: int = 0
    synthetic: bool = False
    precomputed: bool = False  # read from the category summary (national, public contracts only)


NATIONAL = ("national", "all councils", "National: every council with a contract in this category that you may see")


def category_ranking(division, user, org=None, peer=None) -> CategoryRanking:
    """Every provider with a contract in the CPV division that the user may see, ranked by the share of
    current KPI returns met (and by median unit cost, lower is better), optionally among the contracts of
    the councils in ``peer`` (a ``benchmarking.queries.Peer``); the chosen council's providers marked.

    Nationally, for a user who may see no private contract in the division (the usual case), it is read a
    page at a time from the category summary, ranked in SQL; otherwise computed from the contract summary."""
    from commissioner.benchmarking import queries

    peer = peer or queries.Peer(*NATIONAL)
    own = set()
    if org is not None:
        own = set(visible_rows(user).filter(cpv_division=division, buyer=org).values_list("provider", flat=True)
                  .distinct())
    if peer.member_ids is None:
        private = _private_providers(user, division)
        if private is not None:
            return _precomputed(division, user, org, peer, own, private)
    return _computed(division, user, org, peer, own)


MAX_ADJUSTED = 500  # providers of the user's private contracts merged into a precomputed ranking


def _private_providers(user, division):
    """The providers of the private contracts in the division the user may see (their figures are recomputed
    with them), or None when there are too many to merge into the precomputed ranking."""
    private = ProviderContractSummary.objects.filter(cpv_division=division, is_private=True)
    if not (user is not None and user.is_authenticated and user.is_superuser):
        private = private.filter(owner_id__in=tenancy.member_org_ids(user))
    ids = list(private.values_list("provider", flat=True).distinct()[:MAX_ADJUSTED + 1])
    return None if len(ids) > MAX_ADJUSTED else ids


def _division_unit(division, rows):
    """The £ unit compared in a division: the most common among its public contracts (stored in the
    category summary); if it has none, the most common among the rows given."""
    stored = next(iter(ProviderCategorySummary.objects.filter(cpv_division=division).exclude(unit_cost_unit="")
                       .order_by().values_list("unit_cost_unit", flat=True)[:1]), None)
    if stored:
        return stored
    return pr.main_unit(dict(rows.filter(unit_cost__isnull=False).values_list("unit_cost_unit")
                             .annotate(n=Count("id")).values_list("unit_cost_unit", "n")))


class _PrecomputedRows:
    """The ranked rows of a division from the category summary, read a slice at a time (for a paginator)."""

    SQL = """
SELECT cs.provider_id, p.name, cs.contracts, cs.councils, cs.met, cs.slightly_below, cs.below,
       cs.significantly_below, cs.share_met, cs.rated_good, cs.rated_approaching, cs.rated_requires_improvement,
       cs.rated_inadequate, cs.rated_other, cs.unit_cost_median, cs.unit_cost_contracts, cs.synthetic,
       CASE WHEN cs.share_met IS NULL THEN NULL
            ELSE RANK() OVER (PARTITION BY cs.share_met IS NULL ORDER BY cs.share_met DESC) END,
       CASE WHEN cs.share_met IS NULL THEN NULL
            ELSE (RANK() OVER (PARTITION BY cs.share_met IS NULL ORDER BY cs.share_met) - 1
                  + COUNT(*) OVER (PARTITION BY cs.share_met IS NULL ORDER BY cs.share_met)) * 50.0
                 / COUNT(*) OVER (PARTITION BY cs.share_met IS NULL) END,
       CASE WHEN cs.unit_cost_median IS NULL THEN NULL
            ELSE RANK() OVER (PARTITION BY cs.unit_cost_median IS NULL ORDER BY cs.unit_cost_median) END
FROM ({source}) cs JOIN {p} p ON p.id = cs.provider_id
ORDER BY cs.share_met IS NULL, cs.share_met DESC, cs.returns DESC, p.name, cs.provider_id"""
    COLUMNS = ("provider_id", "contracts", "councils", "met", "slightly_below", "below", "significantly_below",
               "returns", "share_met", "rated_good", "rated_approaching", "rated_requires_improvement",
               "rated_inadequate", "rated_other", "unit_cost_median", "unit_cost_contracts", "synthetic")

    def __init__(self, division, count, own, adjusted=()):
        self.division, self.n, self.own = division, count, own
        self.adjusted = list(adjusted)  # ProviderRow recomputed with the user's private contracts

    def source(self):
        """The category summary's rows, with the adjusted providers' rows in place of theirs: (sql, params)."""
        sql = (f"SELECT {', '.join(self.COLUMNS)} FROM {ProviderCategorySummary._meta.db_table} "
               "WHERE cpv_division = %s")
        params = [self.division]
        if self.adjusted:
            sql += f" AND provider_id NOT IN ({', '.join(['%s'] * len(self.adjusted))})"
            params += [i.provider_id for i in self.adjusted]
            for i in self.adjusted:
                sql += f" UNION ALL SELECT {', '.join(['%s'] * len(self.COLUMNS))}"
                params += [i.provider_id, i.contracts, i.councils, *[i.counts[k] for k in COUNT_FIELDS], i.returns,
                           i.share_met, *[i.ratings[k] for k in procurement.RATINGS], i.unit_cost,
                           i.unit_cost_contracts, i.synthetic]
        return sql, params

    def __len__(self):
        return self.n

    def count(self):
        return self.n

    def __iter__(self):
        return iter(self[0:self.n])

    def __getitem__(self, index):
        if isinstance(index, int):
            return self[index:index + 1][0]
        start, stop = index.start or 0, self.n if index.stop is None else min(index.stop, self.n)
        if stop <= start:
            return []
        source, params = self.source()
        sql = self.SQL.format(source=source, p=Provider._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(sql + " LIMIT %s OFFSET %s", [*params, stop - start, start])
            return [self._row(r) for r in cursor.fetchall()]

    def _row(self, r):
        counts = dict(zip(COUNT_FIELDS, r[4:8], strict=True))
        return ProviderRow(
            provider_id=r[0], name=r[1], contracts=r[2], councils=r[3], counts=counts,
            share_met=pr.share_met(counts), ratings=dict(zip(procurement.RATINGS, r[9:14], strict=True)),
            unit_cost=None if r[14] is None else float(r[14]), unit_cost_contracts=r[15], synthetic=bool(r[16]),
            own=r[0] in self.own, rank=r[17], percentile=None if r[18] is None else float(r[18]),
            unit_cost_rank=r[19])


def _precomputed(division, user, org, peer, own, private) -> CategoryRanking:
    rows = ProviderCategorySummary.objects.filter(cpv_division=division)
    adjusted = []
    if private:
        rows = rows.exclude(provider__in=private)
        visible = visible_rows(user).filter(cpv_division=division)
        adjusted = _aggregate(visible.filter(provider__in=private), _division_unit(division, visible), own)
    agg = rows.aggregate(n=Count("id"), missing=Count("id", filter=Q(share_met__isnull=True)),
                         costed=Count("id", filter=Q(unit_cost_median__isnull=False)),
                         synthetic=Count("id", filter=Q(synthetic=True)), unit=Max("unit_cost_unit"))
    n = agg["n"] + len(adjusted)
    missing = agg["missing"] + sum(1 for i in adjusted if i.share_met is None)
    costed = agg["costed"] + sum(1 for i in adjusted if i.unit_cost is not None)
    return CategoryRanking(
        division=division, name=division_name(division), org=org, peer=peer,
        rows=_PrecomputedRows(division, n, own, adjusted), ranked_count=n - missing, missing_count=missing,
        unit=agg["unit"] or (_division_unit(division, visible_rows(user).filter(cpv_division=division)) or ""),
        unit_cost_ranked=costed, unit_cost_missing=n - costed,
        synthetic=bool(agg["synthetic"]) or any(i.synthetic for i in adjusted), precomputed=True)


def _aggregate(rows, unit, own) -> list:
    """ProviderRow per provider of the contract summary ``rows`` (not ranked), unit costs in ``unit``."""
    groups = list(rows.values("provider").annotate(councils=Count("buyer", distinct=True), **_GROUP_SUMS))
    ratings = defaultdict(dict)
    for r in rows.exclude(rating="").values("provider", "rating").annotate(n=Count("id")):
        ratings[r["provider"]][r["rating"]] = r["n"]
    medians = {}
    if unit:
        costed = rows.filter(unit_cost__isnull=False, unit_cost_unit=unit)
        if connection.vendor == "postgresql":
            for p, m, n in costed.values("provider").annotate(m=Median("unit_cost"), n=Count("id")).values_list(
                    "provider", "m", "n"):
                medians[p] = (m, n)
        else:
            values = defaultdict(list)
            for p, v in costed.values_list("provider", "unit_cost"):
                values[p].append(v)
            medians = {p: (pr.median(v), len(v)) for p, v in values.items()}
    names = dict(Provider.objects.filter(pk__in=[g["provider"] for g in groups]).values_list("pk", "name"))
    items = []
    for g in groups:
        counts = _counts(g)
        m, n = medians.get(g["provider"], (None, 0))
        items.append(ProviderRow(
            provider_id=g["provider"], name=names.get(g["provider"], ""), contracts=g["contracts"],
            councils=g["councils"], counts=counts, share_met=pr.share_met(counts),
            ratings=pr.ratings_spread(ratings[g["provider"]]), unit_cost=None if m is None else float(m),
            unit_cost_contracts=n, synthetic=bool(g["synthetic"]), own=g["provider"] in own))
    return items


def _computed(division, user, org, peer, own) -> CategoryRanking:
    rows = visible_rows(user).filter(cpv_division=division)
    if peer.member_ids is not None:
        rows = rows.filter(buyer_id__in=peer.member_ids)
    unit = _division_unit(division, rows)
    items = _aggregate(rows, unit, own)
    ranking = pr.rank([(i, i.share_met) for i in items], higher_is_better=True)
    for item, rank in ranking.ranked:
        item.rank = rank
    for item, pct in zip(items, pr.percentiles([i.share_met for i in items]), strict=True):
        item.percentile = pct
    cost_ranking = pr.rank([(i, i.unit_cost) for i in items], higher_is_better=False)
    for item, rank in cost_ranking.ranked:
        item.unit_cost_rank = rank
    ranked = sorted((i for i, _ in ranking.ranked), key=lambda i: (i.rank, -i.returns, i.name, i.provider_id))
    missing = sorted((i for i, _ in ranking.missing), key=lambda i: (i.name, i.provider_id))
    return CategoryRanking(
        division=division, name=division_name(division), org=org, peer=peer, rows=ranked + missing,
        ranked_count=len(ranked), missing_count=len(missing), unit=unit or "",
        unit_cost_ranked=len(cost_ranking.ranked), unit_cost_missing=len(cost_ranking.missing),
        synthetic=any(i.synthetic for i in items))


CATEGORY_FIELDS = ["rank", "percentile", "provider_id", "provider", "your_council_provider", "contracts", "councils",
                   *COUNT_FIELDS, "returns", "share_met", *[f"rated_{k}" for k in procurement.RATINGS],
                   "unit_cost_median", "unit_cost_unit", "unit_cost_contracts", "unit_cost_rank", "synthetic"]


def category_rows(ranking: CategoryRanking) -> list[dict]:
    out = []
    for i in ranking.rows:
        out.append({
            "rank": i.rank, "percentile": None if i.percentile is None else round(i.percentile, 1),
            "provider_id": i.provider_id, "provider": i.name, "your_council_provider": i.own,
            "contracts": i.contracts, "councils": i.councils, **i.counts, "returns": i.returns,
            "share_met": pr.percent(i.share_met), **{f"rated_{k}": n for k, n in i.ratings.items()},
            "unit_cost_median": None if i.unit_cost is None else round(i.unit_cost, 2),
            "unit_cost_unit": ranking.unit or None, "unit_cost_contracts": i.unit_cost_contracts,
            "unit_cost_rank": i.unit_cost_rank, "synthetic": i.synthetic})
    return out


def divisions_with_results(user):
    """CPV divisions with at least one provider contract the user may see: [(division, name, contracts)]."""
    return [(d["cpv_division"], division_name(d["cpv_division"]), d["n"])
            for d in visible_rows(user).exclude(cpv_division="").values("cpv_division")
            .annotate(n=Count("id")).order_by("cpv_division")]


def methods() -> dict:
    return {"ranking_method": RANKING_METHOD, "share_method": SHARE_METHOD, "unit_cost_method": UNIT_COST_METHOD,
            "percentile_method": PERCENTILE_METHOD, "missing_rule": MISSING}

