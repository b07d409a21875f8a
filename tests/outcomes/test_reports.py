import csv
import io
from datetime import date

from campaign.cases import services as cases
from campaign.demo import load
from campaign.outcomes import reports


def test_reports_show_the_demo_story(app, db, login):
    load(supporters=0)
    db.session.commit()
    share = reports.improvement_share()
    assert share.rows == [[2, 1, "50%"]]  # UA 205/16 released; the Kuku case upheld
    by_country = {row[0]: row for row in reports.outcomes_by_country().rows}
    assert by_country["Ukraine"][1:3] == [8, 2]
    times = {row[0]: row[4] for row in reports.time_to_outcome().rows}
    assert times["UA 205/16"] == (date(2017, 10, 25) - date(2016, 8, 25)).days
    page = login("viewer").get("/reports/").get_data(as_text=True)
    for title in ("Appeals per case", "Time from issue to outcome", "Outcomes by theme"):
        assert title in page
    assert "<svg" in page


def test_csv_export_escapes_formulas(app, db, login):
    cases.create_case(None, {"title": "=HYPERLINK(\"http://evil\")", "summary": "S",
                             "recommended_actions": "A"}, number=1, year=2020)  # fmt: skip
    db.session.commit()
    response = login("viewer").get("/reports/appeals.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["UA", "Title"]
    assert rows[1][1].startswith("'=")
    assert login("viewer", "v2@example.org").get("/reports/nope.csv").status_code == 404


def test_mailing_statistics_count_each_state_and_name_the_ua(app, db):
    from datetime import UTC, datetime

    from campaign.mailings.models import Delivery, Mailing

    case = cases.create_case(None, {"title": "T", "summary": "S", "recommended_actions": "A"},
                             number=7, year=2021)  # fmt: skip
    with_case = Mailing(kind="appeal", case_id=case.id, subject="Appeal for T",
                        started_at=datetime(2021, 3, 2, 9, tzinfo=UTC))  # fmt: skip
    free = Mailing(kind="free", subject="News", started_at=datetime(2021, 3, 1, 9, tzinfo=UTC))
    draft = Mailing(kind="free", subject="Not started")
    db.session.add_all([with_case, free, draft])
    db.session.flush()
    states = ["sent"] * 3 + ["failed", "bounced", "suppressed"]
    db.session.add_all(Delivery(mailing_id=with_case.id, state=s) for s in states)
    db.session.add(Delivery(mailing_id=free.id, state="sent"))
    db.session.commit()
    rows = reports.mailing_statistics().rows
    assert rows == [
        ["2021-03-02", "Appeal", case.label, "Appeal for T", 6, 3, 1, 1, 1, "50.0%"],
        ["2021-03-01", "Free-form", "", "News", 1, 1, 0, 0, 0, "100.0%"],
    ]
