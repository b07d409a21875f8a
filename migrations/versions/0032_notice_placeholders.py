"""outcome notices: the one placeholder syntax ({appeals} becomes {{ appeals }})

Revision ID: 0032_notice_placeholders
Revises: 0031_target_salutations
Create Date: 2026-12-07 01:30:00

Letters, mailings and notices now share the sandboxed ``{{ }}`` syntax, checked
when saved; a notice scheduled before this change still holds ``{appeals}``,
which would otherwise go out as typed. Data only: the schema does not change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_notice_placeholders"
down_revision = "0031_target_salutations"
branch_labels = None
depends_on = None

NOTICES = sa.table(
    "outcome_notices",
    sa.column("id", sa.Integer),
    sa.column("body", sa.Text),
    sa.column("thanks_body", sa.Text),
)


def _rewrite(old: str, new: str) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(NOTICES.c.id, NOTICES.c.body, NOTICES.c.thanks_body))
    for row_id, body, thanks in rows.all():
        changed = {
            name: value.replace(old, new)
            for name, value in (("body", body), ("thanks_body", thanks))
            if value and old in value
        }
        if changed:
            connection.execute(NOTICES.update().where(NOTICES.c.id == row_id).values(**changed))


def upgrade():
    _rewrite("{appeals}", "{{ appeals }}")


def downgrade():
    _rewrite("{{ appeals }}", "{appeals}")
