"""The register filters and sorts contracts by residents' feedback (issue 6): published stories only, on the page,
in the CSV download of the filtered view and in the API; bad values are refused naming the parameter."""

import pytest

from commissioner.feedback import services as fs
from commissioner.feedback.models import Story
from commissioner.register.models import Contract
from helpers import client_for, csv_rows


@pytest.fixture
def stories(users):
    fs.demo(la_code="DNC")
    published = Story.objects.filter(status=Story.Status.PUBLISHED, contract__isnull=False)
    assert published.exists() and Story.objects.exclude(status=Story.Status.PUBLISHED).exists()
    return users


def _expected():
    """{ocid: (published stories, mean overall)} recounted from the stories."""
    out = {}
    for s in Story.objects.filter(status=Story.Status.PUBLISHED, contract__isnull=False).select_related("contract"):
        n, total = out.get(s.contract.ocid, (0, 0))
        out[s.contract.ocid] = (n + 1, total + s.overall)
    return {k: (n, total / n) for k, (n, total) in out.items()}


def test_filter_and_sort_by_published_stories(stories):
    expected = _expected()
    client = client_for(stories, "anonymous")
    r = client.get("/api/v1/contracts", {"feedback": "any", "sort": "-stories", "page_size": 100})
    assert r.status_code == 200, r.content
    got = [c["ocid"] for c in r.json()["results"]]
    assert set(got) == set(expected)
    counts = [expected[o][0] for o in got]
    assert counts == sorted(counts, reverse=True)
    r = client.get("/api/v1/contracts", {"feedback": "none", "page_size": 1})
    assert r.json()["count"] == Contract.objects.filter(is_private=False).count() - len(expected)
    # Unanswered: published stories with no reply.
    unanswered = set(Story.objects.filter(status=Story.Status.PUBLISHED, contract__isnull=False,
                                          replies__isnull=True).values_list("contract__ocid", flat=True))
    r = client.get("/api/v1/contracts", {"feedback": "unanswered", "page_size": 100})
    assert {c["ocid"] for c in r.json()["results"]} == unanswered
    # Rating, lowest first.
    r = client.get("/api/v1/contracts", {"feedback": "any", "sort": "rating", "page_size": 100})
    ratings = [expected[c["ocid"]][1] for c in r.json()["results"]]
    assert ratings == sorted(ratings)


def test_page_shows_the_stories_column_and_the_csv_is_the_filtered_view(stories):
    expected = _expected()
    client = client_for(stories, "anonymous")
    page = client.get("/contracts/", {"feedback": "any", "sort": "-stories"})
    html = page.content.decode()
    assert page.status_code == 200 and "Residents' stories (mean rating out of 5)" in html
    top = max(expected.items(), key=lambda kv: (kv[1][0], ))
    assert f"{top[1][0]} ({top[1][1]:.1f})" in html
    assert "Residents' stories" not in client.get("/contracts/").content.decode().split("<table")[-1]
    rows = csv_rows(client.get("/contracts.csv", {"feedback": "any"}))
    assert {r[0] for r in rows[1:]} == set(expected)


@pytest.mark.parametrize("params, name", [({"feedback": "lots"}, "feedback"), ({"sort": "stories!"}, "sort")])
def test_bad_feedback_parameters_name_themselves(stories, params, name):
    client = client_for(stories, "anonymous")
    r = client.get("/api/v1/contracts", params)
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == name
    page = client.get("/contracts/", params)
    assert page.status_code == 400 and f'href="#id_{name}"' in page.content.decode()


def test_category_ranking_shows_residents_stories_beside_kpi_results(stories):
    from django.db.models import Avg, Count

    from commissioner.benchmarking.providers import rebuild_summaries

    rebuild_summaries()
    story = Story.objects.filter(status=Story.Status.PUBLISHED, provider__isnull=False,
                                 contract__cpv_division__gt="").select_related("contract", "provider").first()
    expected = Story.objects.filter(status=Story.Status.PUBLISHED, provider=story.provider).aggregate(
        n=Count("id"), mean=Avg("overall"))
    client = client_for(stories, "superuser")
    r = client.get(f"/benchmarking/categories/{story.contract.cpv_division}/", {"org": "", "peer": "national"})
    html = r.content.decode()
    assert r.status_code == 200 and "Residents' stories (mean rating out of 5)" in html
    row = html[html.index(f">{story.provider.name}</a>"):]
    row = row[:row.index("</tr>")]
    assert f"{expected['n']} ({expected['mean']:.1f})" in row
