"""Peer groups on the web and the API: computed nearest neighbours with chosen measures and weights (saved
as a peer group), a council's own peer groups (add, change, delete; who may), and the code mapping table.

The hand-built data: Merton and three other London boroughs on two measures,
    X: Merton 0, Southwark 1, Lambeth 2, Camden 10;   Y: Merton 0, Southwark 4, Lambeth 2, Camden 0.
Population SDs: X sqrt(62.75 / 4) = 3.9608, Y sqrt(11 / 4) = 1.6583. With equal weights Lambeth is nearest:
sqrt((2 / 3.9608)^2 + (2 / 1.6583)^2) = 1.3075; Southwark 2.4253; Camden 2.5248 (the farthest: rebased 1.0,
Lambeth 1.3075 / 2.5248 = 0.5179). Weighting Y ten times less than X changes nothing at the top; weighting X
ten times less than Y puts Camden first (0.7984: it differs from Merton on X only)."""

import json

import pytest
from django.test import Client

from commissioner.benchmarking import services
from commissioner.benchmarking.models import CodeMapping, PeerGroup
from commissioner.orgs import reference
from commissioner.orgs.models import AuditEvent
from commissioner.orgs.services import council_organisation
from helpers import ROLES, client_for, statuses

VALUES = {"MRT": (0, 0), "SWK": (1, 4), "LBH": (2, 2), "CMD": (10, 0)}


def gss(code):
    return reference.councils()[code].gss_code


@pytest.fixture
def two_measures(users):
    for i, code in enumerate(("PEERX", "PEERY")):
        measure, _ = services.define_measure(data={"code": code, "name": f"Peer test {code[-1]}", "unit": "%",
                                                   "synthetic": True})
        rows = "organisation code,period,value\n" + "".join(f"{gss(c)},2022-23,{v[i]}\n" for c, v in VALUES.items())
        assert services.import_tidy_csv(rows.encode(), measure=measure, actor=users["superuser"]).applied
    return {code: council_organisation(code) for code in VALUES}


def url(slug, **params):
    from urllib.parse import urlencode
    return f"/benchmarking/councils/{slug}/neighbours/?" + urlencode(params, doseq=True)


def names(response):
    return [n.key.name for n in response.context["result"].neighbours]


@pytest.mark.django_db
def test_neighbours_page_equal_and_weighted(two_measures):
    merton = two_measures["MRT"]
    client = Client()
    page = client.get(url(merton.slug, m=["PEERX", "PEERY"]))
    assert page.status_code == 200
    result = page.context["result"]
    assert [(n.key.la_code, round(n.distance, 4), round(n.rebased, 4), n.rank) for n in result.neighbours] == [
        ("LBH", 1.3075, 0.5179, 1), ("SWK", 2.4253, 0.9606, 2), ("CMD", 2.5248, 1.0, 3)]
    assert result.compared == 4 and "population SD" in page.content.decode()
    weighted = client.get(url(merton.slug, m=["PEERX", "PEERY"], **{"w-PEERX": "0.1", "w-PEERY": "1"}))
    nearest = weighted.context["result"].neighbours[0]
    assert (nearest.key.la_code, round(nearest.distance, 4)) == ("CMD", 0.7984)
    assert "weighted 0.1, 1" in weighted.content.decode()
    rows = csv_rows_plain(client.get(url(merton.slug, m=["PEERX", "PEERY"], format="csv")))
    assert rows[0][:6] == ["rank", "organisation_code", "la_code", "organisation", "distance", "rebased"]
    assert [r[2] for r in rows[1:]] == ["LBH", "SWK", "CMD"] and rows[1][4] == "1.307488"
    data = json.loads(client.get(url(merton.slug, m=["PEERX"], limit=2, format="json")).content)
    assert len(data["rows"]) == 2 and data["measures"] == "PEERX (2022-23) weight 1"


def csv_rows_plain(response):
    import csv
    import io
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
@pytest.mark.parametrize("params, field, message", [
    ({"m": ["PEERX"], "w-PEERX": "heavy"}, "w-PEERX", "Enter the weight for PEERX as a number from 0 to 1000"),
    ({"m": ["PEERX"], "w-PEERX": "-1"}, "w-PEERX", "Enter the weight for PEERX as a number from 0 to 1000"),
    ({"m": ["PEERX"], "w-PEERX": "1e400"}, "w-PEERX", "Enter the weight for PEERX as a number from 0 to 1000"),
    ({"m": ["PEERX"], "w-PEERX": "NaN"}, "w-PEERX", "Enter the weight for PEERX as a number from 0 to 1000"),
    ({"m": ["PEERX", "PEERY"], "w-PEERX": "0", "w-PEERY": "0"}, "m", "Give at least one chosen measure a weight"),
    ({"m": ["ASC99"]}, "m", "has no values for ASC99"),
    ({"m": ["<script>x</script>"]}, "m", "has no values for"),
    ({"m": ["PEERX"], "limit": "0"}, "limit", "Enter how many neighbours as a whole number from 1 to 100"),
    ({"m": ["PEERX"], "limit": "9" * 30}, "limit", "Enter how many neighbours"),
])
def test_neighbours_page_bad_input(two_measures, params, field, message):
    page = Client().get(url(two_measures["MRT"].slug, **params))
    assert page.status_code == 400 and page.context["result"] is None
    assert message in page.context["errors"][field]
    body = page.content.decode()
    assert "There is a problem" in body and "<script>x" not in body


@pytest.mark.django_db
def test_save_neighbours_as_peer_group_who_may(users, two_measures):
    merton = two_measures["MRT"]
    data = {"m": ["PEERX", "PEERY"], "w-PEERX": "1", "w-PEERY": "0.1", "limit": "2", "name": "Near on X"}
    path = f"/benchmarking/councils/{merton.slug}/neighbours/"
    expected = statuses(302, 302, 302, 403, 403, 302)
    for role in ROLES:
        response = client_for(users, role).post(path, data)
        assert response.status_code == expected[role], role
        if role == "anonymous":
            assert response["Location"].startswith("/sign-in/")
    group = PeerGroup.objects.get(owner=merton, name="Near on X")
    assert group.kind == "computed" and {m.la_code for m in group.members.all()} == {"LBH", "SWK"}
    assert group.source == "computed on PEERX 2022-23 (weight 1), PEERY 2022-23 (weight 0.1)"
    assert AuditEvent.objects.filter(model="benchmarking.PeerGroup", action="saved").count() == 3  # 3 allowed roles
    page = client_for(users, "admin").get(f"/benchmarking/councils/{merton.slug}/?peer=group-{group.pk}")
    assert page.context["peer"].member_ids == {merton.pk} | {m.pk for m in group.members.all()}


@pytest.mark.django_db
def test_peer_groups_page_matrix(users, two_measures):
    merton = two_measures["MRT"]
    path = f"/benchmarking/councils/{merton.slug}/peer-groups/"
    # anonymous: sign in; the other council's admin: refused (CIPFA lists are not open data)
    assert {role: client_for(users, role).get(path).status_code for role in ROLES} == statuses(302, 200, 200, 200,
                                                                                                403, 200)
    form = {"name": "Inner London", "codes": f"{gss('SWK')}, lbh\n{gss('CMD')} {gss('MRT')}"}
    assert {role: client_for(users, role).post(path, form).status_code for role in ROLES} == statuses(302, 302, 302,
                                                                                                     403, 403, 302)
    group = PeerGroup.objects.get(owner=merton, name="Inner London")
    assert sorted(m.la_code for m in group.members.all()) == ["CMD", "LBH", "SWK"]  # Merton itself left out
    assert "Inner London" in client_for(users, "viewer").get(path).content.decode()


@pytest.mark.django_db
def test_peer_group_change_rename_delete(users, two_measures):
    merton = two_measures["MRT"]
    admin = client_for(users, "admin")
    base = f"/benchmarking/councils/{merton.slug}/peer-groups/"
    admin.post(base, {"name": "A", "codes": gss("SWK")})
    admin.post(base, {"name": "B", "codes": gss("LBH")})
    a = PeerGroup.objects.get(owner=merton, name="A")
    page = admin.get(f"{base}{a.pk}/")
    assert page.context["form"].initial == {"name": "A", "codes": gss("SWK")}
    clash = admin.post(f"{base}{a.pk}/", {"name": "B", "codes": gss("CMD")})
    assert clash.status_code == 400 and "already has a peer group named &#x27;B&#x27;" in clash.content.decode()
    assert [m.la_code for m in PeerGroup.objects.get(pk=a.pk).members.all()] == ["SWK"]  # unchanged
    assert admin.post(f"{base}{a.pk}/", {"name": "A2", "codes": gss("CMD")}).status_code == 302
    a.refresh_from_db()
    assert a.name == "A2" and [m.la_code for m in a.members.all()] == ["CMD"]
    event = AuditEvent.objects.filter(model="benchmarking.PeerGroup", object_pk=str(a.pk)).latest("pk")
    assert event.before == {"name": "A", "members": [gss("SWK")]} and event.after["name"] == "A2"
    assert client_for(users, "viewer").post(f"{base}{a.pk}/delete/").status_code == 403
    assert client_for(users, "other").post(f"{base}{a.pk}/delete/").status_code == 403
    assert admin.post(f"{base}{a.pk}/delete/").status_code == 302
    assert not PeerGroup.objects.filter(pk=a.pk).exists()
    assert AuditEvent.objects.filter(model="benchmarking.PeerGroup", action="deleted").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("form, message", [
    ({"name": "", "codes": "E09000028"}, "Enter the peer group&#x27;s name"),
    ({"name": "X", "codes": ""}, "Enter at least one council code"),
    ({"name": "X", "codes": "E09999999 ZZZ"}, "unknown organisation code(s): E09999999, ZZZ"),
    ({"name": "X", "codes": "E09000028; DROP TABLE"}, "These are not council codes: E09000028;"),
    ({"name": "X", "codes": " ".join(f"E0{i:07d}" for i in range(401))}, "Enter at most 400 council codes"),
    ({"name": "X" * 201, "codes": "E09000028"}, "Enter a name of at most 200 characters"),
    ({"name": "X", "codes": gss("MRT")}, "enter at least one council other than the group&#x27;s own"),
])
def test_peer_group_bad_input_saves_nothing(users, two_measures, form, message):
    response = client_for(users, "admin").post(f"/benchmarking/councils/{two_measures['MRT'].slug}/peer-groups/", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not PeerGroup.objects.exists()


@pytest.mark.django_db
def test_peer_group_form_needs_csrf(users, two_measures):
    client = client_for(users, "admin", enforce_csrf_checks=True)
    response = client.post(f"/benchmarking/councils/{two_measures['MRT'].slug}/peer-groups/",
                           {"name": "A", "codes": gss("SWK")})
    assert response.status_code == 403 and not PeerGroup.objects.exists()


@pytest.mark.django_db
def test_code_mappings_page(users):
    path = "/benchmarking/code-mappings/"
    assert {role: client_for(users, role).get(path).status_code for role in ROLES} == statuses(*[200] * 6)
    form = {"old_code": "e10000009", "new_code": "E06000059", "note": "Dorset County Council became Dorset Council"}
    assert {role: client_for(users, role).post(path, form).status_code for role in ROLES} == statuses(
        403, 403, 403, 403, 403, 302)
    mapping = CodeMapping.objects.get()
    assert (mapping.old_code, mapping.new_code) == ("E10000009", "E06000059")
    rows = csv_rows_plain(Client().get(path + "?format=csv"))
    assert rows[1][:3] == ["E10000009", "E06000059", "Dorset County Council became Dorset Council"]
    same = client_for(users, "superuser").post(path, {"old_code": "E1", "new_code": "e1"})
    assert same.status_code == 400 and "enter two different codes" in same.content.decode()
    assert client_for(users, "admin").post(f"{path}{mapping.pk}/delete/").status_code == 403
    assert client_for(users, "superuser").post(f"{path}{mapping.pk}/delete/").status_code == 302
    assert not CodeMapping.objects.exists()
    assert list(AuditEvent.objects.filter(model="benchmarking.CodeMapping").values_list("action", flat=True)
                .order_by("pk")) == ["mapped", "deleted"]


@pytest.mark.django_db
def test_api_neighbours_weights(two_measures):
    slug = two_measures["MRT"].slug
    client = Client()
    body = client.get(f"/api/v1/benchmarking/councils/{slug}/neighbours?measures=PEERX,PEERY&weights=0.1,1").json()
    assert body["weights"] == [0.1, 1.0] and body["neighbours"][0]["organisation"]["name"] == "London Borough of Camden"
    assert round(body["neighbours"][0]["distance"], 4) == 0.7984
    assert client.get(f"/api/v1/benchmarking/councils/{slug}/neighbours?measures=PEERX,PEERY").json()[
        "weights"] == "equal"
    for bad in ("1", "1,x", "-1,1", "0,0", "nan,1", "inf,1"):
        response = client.get(f"/api/v1/benchmarking/councils/{slug}/neighbours?measures=PEERX,PEERY&weights={bad}")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["name"] == "weights"


@pytest.mark.django_db
def test_api_peer_groups_matrix_and_bad_input(users, two_measures):
    merton = two_measures["MRT"]
    path = f"/api/v1/benchmarking/councils/{merton.slug}/peer-groups"
    body = {"name": "API group", "codes": [gss("SWK"), "lbh", gss("MRT")]}
    got = {role: client_for(users, role).post(path, body, content_type="application/json").status_code
           for role in ROLES}
    assert got == statuses(401, 201, 201, 403, 403, 201)
    group = PeerGroup.objects.get(owner=merton, name="API group")
    assert sorted(m.la_code for m in group.members.all()) == ["LBH", "SWK"]
    listed = {role: client_for(users, role).get(path) for role in ROLES}
    assert {r: v.status_code for r, v in listed.items()} == statuses(401, 200, 200, 200, 403, 200)
    (out,) = listed["viewer"].json()
    assert out["key"] == f"group-{group.pk}" and [m["la_code"] for m in out["members"]] == ["LBH", "SWK"]
    admin = client_for(users, "admin")
    for bad, field in (({"name": "X", "codes": ["E09999999"]}, "body.codes"),
                       ({"name": "X", "codes": []}, "body.codes"),
                       ({"name": "", "codes": [gss("SWK")]}, "body.name"),
                       ({"name": "X", "codes": [gss("MRT")]}, "body.codes"),
                       ({"name": "X", "codes": ["E0" * 10]}, "body.codes.0")):
        response = admin.post(path, bad, content_type="application/json")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["name"] == field, bad
    assert PeerGroup.objects.filter(owner=merton).count() == 1
    csrf = client_for(users, "admin", enforce_csrf_checks=True).post(path, body, content_type="application/json")
    assert csrf.status_code == 403


@pytest.mark.django_db
def test_api_code_mappings(users):
    services.add_code_mapping(old_code="E10000009", new_code="E06000059", note="Dorset")
    assert Client().get("/api/v1/benchmarking/code-mappings").json() == [
        {"old_code": "E10000009", "new_code": "E06000059", "note": "Dorset"}]
