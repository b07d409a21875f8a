"""Demo letters: English and Russian model letters for the demo UAs."""

from __future__ import annotations

from sqlalchemy import select

from campaign.cases.models import Case
from campaign.extensions import db
from campaign.letters.services import save_letter

ENGLISH = """{{ salutation }},

I am writing to you about {{ people }} ({{ case_label }}), Crimean Tatar leaders persecuted
solely for the peaceful exercise of their rights to freedom of expression and association.

I urge you to release them immediately and unconditionally, to drop all charges against
them, and to end the persecution of the Crimean Tatar community and the Mejlis.

Yours sincerely,
{{ supporter_name }}
{% if city %}{{ city }}, {% endif %}{{ country }}
{{ date }}"""

RUSSIAN = """{{ salutation }}!

Я пишу Вам по поводу {{ people }} ({{ case_label }}), лидеров крымских татар, которых
преследуют лишь за мирное осуществление права на свободу выражения мнений и объединений.

Призываю Вас немедленно и безоговорочно освободить их, снять с них все обвинения и
прекратить преследование крымскотатарского народа и Меджлиса.

С уважением,
{{ supporter_name }}
{% if city %}{{ city }}, {% endif %}{{ country }}
{{ date }}"""


def load_demo(supporters: int = 0) -> str:
    cases = list(db.session.scalars(select(Case).where(Case.number.is_not(None))))
    for case in cases:
        save_letter(
            None,
            case,
            None,
            {
                "language": "en",
                "subject": f"{case.label}: release the prisoners of conscience",
                "body": ENGLISH,
                "is_default": True,
            },
        )
        save_letter(None, case, None, {"language": "ru", "subject": f"{case.label}: освободите "
                    "узников совести", "body": RUSSIAN})  # fmt: skip
    return f"{2 * len(cases)} model letters (English, Russian)"
