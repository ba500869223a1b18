"""One current financial risk assessment per (contract, provider): a database guarantee (a conditional unique
constraint) and a service that serialises writers on the contract's row, so the second of two assessments
made at the same moment supersedes the first instead of failing."""

import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, connections, transaction

from commissioner.orgs.models import AuditEvent
from commissioner.register.services import create_local_contract
from commissioner.risk import services
from commissioner.risk.models import RiskAssessment


def _contract(users):
    return create_local_contract(
        owner=users["merton"], actor=users["admin"], title="Community transport", delivery_model="market",
        provider_name="Little Wheels Ltd", supplier_type="sme", value=1_800_000, start_date=date(2024, 4, 1),
        end_date=date(2027, 4, 1), is_private=True)


def test_assessing_twice_leaves_exactly_one_current(users):
    contract = _contract(users)
    provider = services.providers_of(contract)[0]
    first = services.assess(actor=users["admin"], contract=contract, provider=provider, annual_value="600000",
                            audited_accounts_required=False)
    second = services.assess(actor=users["commissioner"], contract=contract, provider=provider,
                             annual_value="600000", mitigations=["payment_profile"], audited_accounts_required=False)
    rows = RiskAssessment.objects.filter(contract=contract, provider=provider)
    assert [(a.pk, a.is_current) for a in rows.order_by("id")] == [(first.pk, False), (second.pk, True)]
    assert second.supersedes_id == first.pk
    assert rows.filter(is_current=True).get().rating == "low"


def test_the_database_refuses_a_second_current_assessment(users):
    contract = _contract(users)
    provider = services.providers_of(contract)[0]
    current = services.assess(actor=users["admin"], contract=contract, provider=provider, annual_value="600000",
                              audited_accounts_required=False)
    copy = {f.attname: getattr(current, f.attname) for f in RiskAssessment._meta.concrete_fields
            if f.attname not in ("id", "supersedes_id")}
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskAssessment.objects.create(**copy)  # a second current row for the same contract and provider
    RiskAssessment.objects.create(**{**copy, "is_current": False})  # superseded rows are as many as needed
    assert RiskAssessment.objects.filter(contract=contract, provider=provider, is_current=True).get() == current


def _in_thread(fn, *args):
    """Run ``fn`` on its own connection (committed at once), outside the test's transaction."""
    out = []

    def run():
        try:
            out.append(fn(*args))
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    return out[0] if out else None


@pytest.mark.django_db
def test_two_writers_at_the_same_moment_one_supersedes_the_other():
    """Real concurrency: two threads, each on its own connection, on committed data (set up and cleaned up on
    connections of their own, outside the test's transaction). PostgreSQL only: the SQLite test database is in
    memory with a shared cache, whose table locks fail at once instead of waiting (the SQLite file the app uses
    begins every write transaction IMMEDIATE, so writers queue)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that several connections write at once (PostgreSQL)")
    from django.contrib.auth import get_user_model

    from commissioner.register.models import Contract

    contract = (Contract.objects.filter(source="ocds", contract_suppliers__supplier__provider__isnull=False)
                .order_by("ocid").first())
    provider = services.providers_of(contract)[0]
    actor = _in_thread(lambda: get_user_model().objects.create_superuser(username="race-root", password="x" * 20))
    barrier, results, errors = threading.Barrier(2), [], []

    def writer(n):
        try:
            barrier.wait(timeout=10)
            results.append(services.assess(actor=actor, contract=contract, provider=provider,
                                           annual_value=str(1000 * (n + 1)), audited_accounts_required=False))
        except Exception as e:  # noqa: BLE001 (reported by the assertion below)
            errors.append(e)
        finally:
            connections.close_all()

    def seen():
        return [(a.pk, a.is_current, a.supersedes_id)
                for a in RiskAssessment.objects.filter(contract=contract, provider=provider).order_by("id")]

    def clean_up():
        ids = list(RiskAssessment.objects.filter(contract=contract).values_list("pk", flat=True))
        RiskAssessment.objects.filter(pk__in=ids).update(supersedes=None)
        RiskAssessment.objects.filter(pk__in=ids).delete()
        AuditEvent.objects.filter(actor=actor).delete()
        AuditEvent.objects.filter(model="risk.RiskAssessment", object_pk__in=[str(i) for i in ids]).delete()
        actor.delete()

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        rows = _in_thread(seen)
        assert len(rows) == 2 == len(results)
        (first, first_current, _), (_second, second_current, supersedes) = rows
        assert (first_current, second_current, supersedes) == (False, True, first)
    finally:
        _in_thread(clean_up)
