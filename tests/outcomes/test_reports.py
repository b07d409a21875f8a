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
