"""Request and response schemas of the benchmarking API (/api/v1/benchmarking/...).

Positions (rank, percentile, quartile, MAD distance) are worked out by ``benchmarking.queries`` (which
uses ``methods.benchmarking``); these schemas only carry them, with the methods and the peer group
stated in fields. A missing value is null, never 0, and is listed apart from the ranked values.
"""

from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints

from commissioner.register.schemas import QueryParams, Text, api_url

MAX_PERIOD = 20  # as MeasureValue.period
MAX_PEER = 40
MAX_SLUG = 120  # as Organisation.slug
PEER_HELP = ("The peer group: 'national' (default: every council with a row), 'type' (same type of council as "
             "org), 'region' (same region as org), or 'group-<id>' (a stored peer group of org that you may see).")

PeerText = Annotated[Text, StringConstraints(max_length=MAX_PEER)]
PeriodText = Annotated[Text, StringConstraints(max_length=MAX_PERIOD)]
SlugText = Annotated[Text, StringConstraints(max_length=MAX_SLUG)]


# Query parameters -------------------------------------------------------------------------------


class MeasureParams(QueryParams):
    period: PeriodText = Field(None, description="The period, e.g. 2022-23; default the latest.",
                               json_schema_extra={"example": "2022-23"})
    peer: PeerText = Field(None, description=PEER_HELP, json_schema_extra={"example": "national"})
    org: SlugText = Field(None, description="A council's slug: its row is highlighted and described; needed "
                                            "for any peer group but 'national'.",
                          json_schema_extra={"example": "merton"})


class CouncilParams(QueryParams):
    peer: PeerText = Field(None, description=PEER_HELP, json_schema_extra={"example": "national"})


# Responses --------------------------------------------------------------------------------------


class Methods(Schema):
    """How the figures are worked out."""

    percentile_method: str
    quartile_method: str
    mad_method: str
    missing: str = Field(..., description="How missing values are treated.")


class PeerOut(Schema):
    key: str = Field(..., description="national, type, region or group-<id>.")
    label: str = Field(..., description="As used in the sentences.")
    description: str
    members: int | None = Field(..., description="Councils in the group; null for national (everyone with a row).")


class MeasureRef(Schema):
    code: str
    name: str
    unit: str
    polarity: str = Field(..., description="higher, lower or none (a context measure: neither is better).")
    url: str

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "benchmarking_measure", code=obj.code)


class MeasureItem(MeasureRef):
    definition: str
    polarity_note: str
    source: str
    source_url: str
    licence: str
    synthetic: bool = Field(..., description="Made up for the demo, not published data.")
    version: int
    councils: int = Field(..., description="Councils with a value in any period.")
    rows: int = Field(..., description="Rows in all periods, missing values included.")
    periods: list[str] = Field(..., description="Periods with rows, earliest first.")


class CouncilRef(Schema):
    slug: str
    name: str
    gss_code: str
    la_code: str | None
    la_type_name: str
    region: str
    url: str = Field(..., description="The council's benchmarking summary.")

    @staticmethod
    def resolve_url(obj, context):
        return api_url(context, "benchmarking_council", slug=obj.slug)


class ValueRow(Schema):
    """One council's value for the period and where it stands in the peer group (nulls when missing)."""

    organisation: CouncilRef
    value: float | None = Field(..., description="Null when missing (never 0).")
    note: str
    rank: int | None = Field(..., description="1 is best (highest first for a context measure); ties share.")
    of: int = Field(..., description="Values ranked (missing ones left out).")
    percentile: float | None = Field(..., description="100 is best.")
    quartile: int | None = Field(..., description="1 is the best quarter.")
    mad_distance: float | None = Field(..., description="MADs from the median, positive = better.")
    highlighted: bool = Field(..., description="The council named by org.")


class Quartiles(Schema):
    q1: float | None
    median: float | None
    q3: float | None


class MeasureTableOut(Schema):
    measure: MeasureRef
    period: str | None = Field(..., description="Null when the measure has no rows.")
    periods: list[str]
    peer: PeerOut
    methods: Methods
    n: int = Field(..., description="Councils with a value (ranked).")
    median: float | None
    mad: float | None = Field(..., description="Median absolute deviation (unscaled).")
    quartiles: Quartiles
    values: list[ValueRow] = Field(..., description="Councils with a value, best first.")
    missing: list[ValueRow] = Field(..., description="Councils with no value, by name.")
    missing_count: int
    highlighted: ValueRow | None = Field(..., description="The row of the council named by org, if any.")
    sentence: str = Field(..., description="Plain English for the highlighted council; empty without one.")
    references: list["ReferenceOut"] = Field(..., description="Areas that are not councils (England, a region) "
                                                               "in the same period, for comparison: never ranked.")


class ReferenceOut(Schema):
    area_code: str
    area_name: str
    value: float | None


class Position(Schema):
    rank: int | None
    of: int
    missing: int
    percentile: float | None
    quartile: int | None
    median: float | None
    mad: float | None
    mad_distance: float | None


class SeriesPoint(Schema):
    period: str
    value: float | None


class SummaryItem(Schema):
    measure: MeasureRef
    period: str | None = Field(..., description="The measure's latest period.")
    value: float | None
    position: Position
    trend: str = Field(..., description="improving, worsening, no change or not enough data (for a context "
                                        "measure: rising, falling, ...), earliest value against the latest.")
    sentence: str
    series: list[SeriesPoint] = Field(..., description="The council's values, earliest first.")
    n: int = Field(..., description="Councils in the peer group with a value.")
    missing: int = Field(..., description="Councils in the peer group with no value.")


class CouncilSummaryOut(Schema):
    organisation: CouncilRef
    peer: PeerOut
    methods: Methods
    measures: list[SummaryItem] = Field(..., description="Farthest from the peers' median first.")


# Computed nearest neighbours --------------------------------------------------------------------

MAX_NEIGHBOURS = 500
MAX_MEASURES_TEXT = 400


class NeighbourParams(QueryParams):
    measures: Annotated[Text, StringConstraints(min_length=1, max_length=MAX_MEASURES_TEXT)] = Field(
        ..., description="Measure codes, comma-separated.", json_schema_extra={"example": "ASC1,ASC2"})
    weights: Annotated[Text, StringConstraints(max_length=MAX_MEASURES_TEXT)] = Field(
        None, description="One weight per measure, comma-separated, in the same order (numbers of 0 or more, at "
                          "least one above 0); default: equal weights.", json_schema_extra={"example": "2,1"})
    limit: int = Field(15, ge=1, le=MAX_NEIGHBOURS, description=f"How many neighbours, 1 to {MAX_NEIGHBOURS}.")
    period: PeriodText = Field(None, description="Read every measure in this period; default, for each measure, "
                                                 "the latest period in which the council has a value.")


class NeighbourMeasure(Schema):
    measure: MeasureRef
    period: str = Field(..., description="The period whose values were used.")


class NeighbourOut(Schema):
    organisation: CouncilRef
    distance: float
    rebased: float = Field(..., description="distance / the largest distance of all neighbours (farthest = 1.0).")
    rank: int = Field(..., description="1 = nearest; ties share a rank.")


class NeighboursOut(Schema):
    organisation: CouncilRef
    measures: list[NeighbourMeasure]
    method: str
    sd: str = Field(..., description="population: z-scores divide by n.")
    weights: list[float] | str = Field(..., description="'equal', or the weight of each measure in order.")
    compared: int = Field(..., description="Councils with a value for at least one measure (this one included).")
    count: int = Field(..., description="Neighbours returned (at most limit).")
    neighbours: list[NeighbourOut] = Field(..., description="Nearest first; the council itself is never listed.")


# Peer groups and the code mapping table ---------------------------------------------------------

MAX_GROUP_CODES = 400


class PeerGroupIn(Schema):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)] = Field(
        ..., description="The group's name; saving under an existing name replaces its members.")
    codes: list[Annotated[Text, StringConstraints(min_length=1, max_length=12)]] = Field(
        ..., min_length=1, max_length=MAX_GROUP_CODES,
        description="Member councils' ONS (GSS) or three-letter codes; old codes are followed through the code "
                    "mapping table and the council itself is left out.", json_schema_extra={"example": ["E09000028"]})


class PeerGroupOut(Schema):
    id: int
    key: str = Field(..., description="Use as peer=<key> with org=<the council> on the measure and council "
                                      "endpoints.")
    name: str
    kind: str = Field(..., description="own, imported or computed.")
    source: str
    members: list[CouncilRef]


class CodeMappingOut(Schema):
    old_code: str
    new_code: str
    note: str

