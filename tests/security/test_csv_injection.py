"""CSV formula injection: no cell of any CSV export starts with a formula character."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cells(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    response.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows, "an empty export proves nothing"
    return [cell for row in rows for cell in row]


def assert_neutralised(values: list[str], expected=()) -> None:
    bad = [v for v in values if v.startswith(DANGEROUS)]
    assert bad == [], f"formula cells: {bad}"
    for text in expected:
        assert "'" + text in values, f"{text!r} is missing from the export"


@pytest.fixture
def hostile_supporters(app, db):
    from campaign.supporters import services

    lst = services.save_list(None, None, "Export")
    ids = []
    for number, formula in enumerate(FORMULAS):
        supporter = services.create_supporter(
            None,
            {"email": f"s{number}@example.org", "first_name": formula, "last_name": formula,
             "city": formula, "language": "en"},
        )  # fmt: skip
        ids.append(supporter.id)
    services.add_to_list(None, lst, ids)
    segment = services.save_segment(None, None, "Everyone english", {"languages": ["en"]})
    db.session.commit()
    return lst, segment


def test_segment_export_neutralises_formulas(login, hostile_supporters):
    _lst, segment = hostile_supporters
    response = login("coordinator").get(f"/supporters/segments/{segment.id}/export.csv")
    assert_neutralised(cells(response), FORMULAS)


def test_list_export_neutralises_formulas(login, hostile_supporters):
    lst, _segment = hostile_supporters
    response = login("coordinator").get(f"/supporters/lists/{lst.id}/export.csv")
    assert_neutralised(cells(response), FORMULAS)


@pytest.fixture
def hostile_reports(app, db):
    from campaign.cases import services as cases
    from campaign.letters import services as letters

    for number, formula in enumerate(FORMULAS):
        case = cases.create_case(
            None,
            {"title": formula, "summary": "S", "recommended_actions": "R", "languages": ["en"],
             "country_code": "UA", "themes": [], "deadline": date.today() + timedelta(days=5)},
        )  # fmt: skip
        cases.link_person(None, case, cases.save_person(None, None, {"name": f"P {number}"}))
        cases.issue_case(None, case)
        letters.record_action(case, channel="letter", source="staff")
    db.session.commit()


def test_appeals_report_neutralises_case_titles(login, hostile_reports):
    response = login("viewer").get("/reports/appeals.csv")
    assert_neutralised(cells(response), FORMULAS)


@pytest.mark.parametrize(
    "slug", ["time-to-outcome", "improvement", "by-country", "by-year", "by-theme", "mailings"]
)
def test_every_report_csv_is_neutralised(login, hostile_reports, slug):
    response = login("viewer").get(f"/reports/{slug}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert_neutralised([cell for row in rows for cell in row])


@pytest.mark.commits  # the importer writes on a thread and connection of its own
def test_import_rejections_csv_is_neutralised(login, db, tmp_path):
    from campaign.supporters import imports

    path = tmp_path / "hostile.csv"
    lines = ["Email,First name,City"] + [
        f"{f.replace(',', ' ')},{f.replace(',', ' ')},x" for f in FORMULAS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = imports.from_path(None, path)
    imports.configure(
        None, job, mapping=job.mapping, consent_source="test", list_id=None, policy="keep",
        dry_run=True,
    )  # fmt: skip
    db.session.commit()
    counts = imports.execute(job)
    db.session.commit()
    assert counts is not None and counts.rejected == len(FORMULAS)
    response = login("coordinator").get(f"/supporters/imports/{job.id}/rejected.csv")
    values = cells(response)
    assert_neutralised(values)
    assert any(v.startswith("'=HYPERLINK") for v in values)
