"""The real Contracts Finder sample, imported once for the session: counts from the data."""

from django.db.models import Count

from commissioner.ocds.models import Release
from commissioner.orgs.models import Organisation, OrganisationAlias
from commissioner.register.models import Contract, Supplier


def test_sample_counts(db):
    assert Release.objects.count() == 200
    assert Release.objects.values("ocid").distinct().count() == 190
    assert Contract.objects.count() == 190
    assert Supplier.objects.count() == 249


def test_every_principal_council_in_the_sample_matches(db):
    unmatched = OrganisationAlias.objects.filter(method="unmatched", name__iregex=r"\b(council|borough)\b")
    assert list(unmatched.values_list("name", flat=True)) == []
    parish = set(OrganisationAlias.objects.filter(method="parish").values_list("name", flat=True))
    assert parish == {"Lancing Parish Council", "Martock Parish Council", "Thame Town Council"}
    councils = Organisation.objects.filter(kind="council")
    assert councils.count() == 51
    assert all(c.gss_code.startswith("E") for c in councils)
    # Names that need normalisation land on the right council.
    for name, code in [("Hertfordshire County Council - Children's Services", "HRT"),
                       ("Warwickshire County Council (WCC)", "WAR"), ("East Herts Council", "EHE"),
                       ("THE LONDON BOROUGH OF CAMDEN", "CMD"), ("Westminster City Council", "WSM")]:
        alias = OrganisationAlias.objects.get(name=name)
        assert alias.organisation.la_code == code, name


def test_statuses_from_the_data(db):
    counts = dict(Contract.objects.values_list("status").annotate(n=Count("id")))
    assert counts["planned"] == 7
    assert sum(counts.values()) == 190
