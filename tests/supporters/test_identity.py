"""One supporter per mailbox (DESIGN.md rule 5): addresses that differ only in
letter case, local part included, or in IDNA form are one supporter, found by
every path that takes an address; the address stays as first given."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from campaign import create_app
from campaign.extensions import db as the_db
from campaign.mailings.bounces import _supporter_by_email
from campaign.mailings.models import BounceScore, Delivery, Mailing
from campaign.supporters import imports, services
from campaign.supporters.imports.stream import BATCH
from campaign.supporters.models import (
    ConsentEvent,
    ListMember,
    Supporter,
    SupporterList,
    email_key,
)
from tests.conftest import make_config

HEADER = "Email,First name,Last name,Language,Country,City,Interests\n"


def import_text(db, tmp_path, text: str, policy: str = "keep"):
    path = tmp_path / "people.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    job = imports.from_path(None, path)
    imports.configure(
        None, job, mapping=job.mapping, consent_source="stall", policy=policy, dry_run=False
    )
    db.session.commit()
    counts = imports.execute(job)
    db.session.commit()
    return counts


def supporters(db) -> list[Supporter]:
    return list(db.session.scalars(select(Supporter).order_by(Supporter.id)))


def test_the_key_is_the_whole_address_case_folded_with_an_ascii_domain():
    assert email_key(" Ann.Person@EXAMPLE.org ") == "ann.person@example.org"
    assert email_key("Ann@Bücher.Example") == email_key("ann@xn--bcher-kva.example")
    assert email_key("ann@xn--bcher-kva.example") == "ann@xn--bcher-kva.example"


@pytest.mark.slow  # the importer's writer thread, or migrations: real commits
def test_an_import_makes_one_supporter_of_case_variants(app, db, tmp_path):
    counts = import_text(
        db,
        tmp_path,
        "Ann.Person@EXAMPLE.org,Ann,,,,,\nann.person@example.org,Annie,,,,,\n"
        "ANN.PERSON@example.ORG,A,,,,,\nbob@bücher.example,Bob,,,,,\n",
    )
    assert (counts.created, counts.duplicates) == (2, 2)
    ann, bob = supporters(db)
    assert (ann.email, ann.first_name) == ("Ann.Person@example.org", "Ann")  # as first given
    assert ann.email_key == "ann.person@example.org"
    assert bob.email_key == "bob@xn--bcher-kva.example"
    assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 2


@pytest.mark.slow  # the importer's writer thread, or migrations: real commits
@pytest.mark.parametrize("policy", ["keep", "update"])
def test_an_import_matches_an_existing_supporter_whatever_the_case(
    app, db, tmp_path, make_supporter, policy
):
    person = make_supporter(email="ann.person@example.org", first_name="Ann")
    counts = import_text(db, tmp_path, "ANN.Person@Example.org,Annie,,,,,\n", policy)
    assert counts.created == 0
    assert (counts.updated, counts.unchanged) == ((1, 0) if policy == "update" else (0, 1))
    [only] = supporters(db)
    assert only.id == person.id and only.email == "ann.person@example.org"
    assert only.first_name == ("Annie" if policy == "update" else "Ann")


@pytest.mark.slow  # the importer's writer thread, or migrations: real commits
def test_a_dry_run_counts_case_variants_as_duplicates_across_batches(app, db, tmp_path):
    path = tmp_path / "people.csv"
    rows = [f"p{i}@example.org,,,,,,\n" for i in range(BATCH)]
    path.write_text(HEADER + "".join(rows) + "P1@EXAMPLE.ORG,,,,,,\n", encoding="utf-8")
    job = imports.from_path(None, path)
    imports.configure(None, job, mapping=job.mapping, consent_source="stall", dry_run=True)
    db.session.commit()
    counts = imports.execute(job)
    assert (counts.created, counts.duplicates) == (BATCH, 1)


def test_the_api_refuses_a_case_variant_of_a_known_address(app, db, make_supporter, api_client):
    make_supporter(email="ann.person@example.org")
    client, headers = api_client("coordinator")
    response = client.post(
        "/api/v1/supporters", json={"email": "Ann.Person@EXAMPLE.org"}, headers=headers
    )
    assert response.status_code == 409, response.get_json()
    assert len(supporters(db)) == 1


def test_a_sign_up_with_another_case_is_the_same_supporter(app, db, make_supporter):
    person = make_supporter(email="ann.person@example.org")
    services.sign_up({"email": "ANN.PERSON@example.org"}, ip="192.0.2.1")
    db.session.commit()
    assert [s.id for s in supporters(db)] == [person.id]


def test_unsubscribe_and_bounce_lookups_match_any_case(app, db, make_supporter):
    person = make_supporter(email="ann.person@example.org")
    assert services.find_by_email("Ann.Person@EXAMPLE.org").id == person.id
    assert _supporter_by_email("ANN.PERSON@EXAMPLE.ORG") == person.id


def test_the_database_refuses_a_second_row_for_one_mailbox(app, db, make_supporter):
    from sqlalchemy.exc import IntegrityError

    make_supporter(email="ann.person@example.org")
    db.session.add(Supporter(email="Ann.Person@example.org", state="pending"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    if db_backend == "postgresql":
        return request.getfixturevalue("postgres_server").create_database("merge_test")
    return f"sqlite:///{tmp_path / 'merge.sqlite3'}"


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from campaign import ROOT

    return ScriptDirectory(str(ROOT / "migrations")).get_revision(revision).down_revision


_BEFORE_THE_KEY = _revision_before("0050_supporter_email_key")


@pytest.mark.slow  # the importer's writer thread, or migrations: real commits
def test_the_migration_merges_case_variants_and_keeps_their_history(
    empty_database, tmp_path, capsys
):
    app = create_app(make_config(empty_database, tmp_path))
    with app.app_context():
        # The schema just before 0050, the revision that brings the key.
        upgrade(revision=_BEFORE_THE_KEY)
        conn = the_db.session.connection()
        table = Supporter.__table__
        columns = [c for c in table.columns if c.name != "email_key"]

        def add(email: str, state: str) -> int:
            values = {"email": email, "state": state, "first_name": email[:3]}
            for column in columns:
                if column.name not in values and column.default is not None:
                    default = column.default.arg
                    values[column.name] = default(None) if callable(default) else default
            values.pop("id", None)
            # The table as the revision before 0050 has it: no email_key (nor its default).
            typed = (sa.column(k, table.c[k].type) for k in values)
            before = sa.table("supporters", sa.column("id"), *typed)
            insert = before.insert().values(values).returning(before.c.id)
            return conn.execute(insert).scalar_one()

        first = add("Ann.Person@example.org", "subscribed")
        second = add("ann.person@example.org", "unsubscribed")
        third = add("ANN.PERSON@example.org", "subscribed")
        other = add("bob@example.org", "subscribed")
        for supporter_id, state in ((first, "subscribed"), (second, "unsubscribed")):
            conn.execute(
                ConsentEvent.__table__.insert().values(
                    supporter_id=supporter_id, new_state=state, source="test", detail=""
                )
            )
        petition = conn.execute(
            SupporterList.__table__.insert().values(name="Petition").returning(SupporterList.id)
        ).scalar_one()
        conn.execute(ListMember.__table__.insert(), [{"list_id": petition, "supporter_id": third}])
        mailing = conn.execute(
            Mailing.__table__.insert().values(subject="Appeal").returning(Mailing.id)
        ).scalar_one()
        conn.execute(Delivery.__table__.insert(), [{"mailing_id": mailing, "supporter_id": second}])
        conn.execute(BounceScore.__table__.insert(), [{"supporter_id": third, "score": 1.0}])
        the_db.session.commit()

        upgrade()

        rows = the_db.session.execute(
            select(Supporter.id, Supporter.email, Supporter.email_key, Supporter.state)
        ).all()
        assert sorted(rows) == [
            (first, "Ann.Person@example.org", "ann.person@example.org", "unsubscribed"),
            (other, "bob@example.org", "bob@example.org", "subscribed"),
        ]
        events = the_db.session.scalars(
            select(ConsentEvent).where(ConsentEvent.supporter_id == first).order_by(ConsentEvent.id)
        ).all()
        assert [e.new_state for e in events[:2]] == ["subscribed", "unsubscribed"]
        merges = [e for e in events if e.source == "merge of case variants"]
        assert len(merges) == 2 and f"#{second}" in merges[0].detail
        assert merges[-1].new_state == "unsubscribed"
        assert the_db.session.scalar(select(ListMember.supporter_id)) == first
        assert the_db.session.scalar(select(Delivery.supporter_id)) == first
        assert the_db.session.scalar(select(BounceScore.supporter_id)) == first
        the_db.session.remove()
        the_db.engine.dispose()
    printed = capsys.readouterr().out
    assert f"merged supporter #{second}" in printed and f"merged supporter #{third}" in printed
