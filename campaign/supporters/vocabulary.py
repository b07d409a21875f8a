"""The fixed vocabularies supporters are described with: interests and the
time zone a country defaults to; languages and countries are campaign.i18n's
(re-exported here for the code that checks a supporter's fields).

Lookups are precomputed sets and dicts because the import checks every row.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from campaign.i18n import N_, country, country_codes, language, language_codes

__all__ = [
    "INTERESTS",
    "REGIONS",
    "THEMES",
    "country",
    "country_codes",
    "interest_choices",
    "interests",
    "language",
    "language_codes",
    "timezone_for",
]


REGIONS = {
    "africa": N_("Africa"),
    "americas": N_("Americas"),
    "asia-pacific": N_("Asia and the Pacific"),
    "europe": N_("Europe and Central Asia"),
    "middle-east": N_("Middle East and North Africa"),
}
THEMES = {
    "death-penalty": N_("Death penalty"),
    "torture": N_("Torture and ill-treatment"),
    "defenders": N_("Human rights defenders"),
    "prisoners": N_("Prisoners of conscience"),
    "expression": N_("Freedom of expression"),
    "refugees": N_("Refugees and migrants"),
    "women": N_("Women's rights"),
}
INTERESTS = {**REGIONS, **THEMES}

# Countries spanning several zones: the zone most of their people live in.
_MAIN_ZONE = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MX": "America/Mexico_City",
    "MN": "Asia/Ulaanbaatar",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}
_SPLIT = re.compile(r"[;,|]")


@cache
def _interest_keys() -> dict[str, str]:
    table = {key: key for key in INTERESTS}
    table.update({label.lower(): key for key, label in INTERESTS.items()})
    return table


def interests(value) -> list[str]:
    """Keys of the interests named (keys or labels); KeyError names an unknown one."""
    items = _SPLIT.split(value) if isinstance(value, str) else list(value or [])
    table, result = _interest_keys(), []
    for item in items:
        item = (item or "").strip().lower()
        if not item:
            continue
        key = table.get(item)
        if key is None:
            raise KeyError(item)
        if key not in result:
            result.append(key)
    return result


@cache
def _zone_table() -> dict[str, str]:
    zones = {}
    for name in ("zone.tab", "zone1970.tab"):
        path = Path("/usr/share/zoneinfo") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            parts = line.split("\t")
            for code in parts[0].split(","):
                zones.setdefault(code, parts[2])
    return zones


def timezone_for(country_code: str | None) -> str:
    if not country_code:
        return "UTC"
    return _MAIN_ZONE.get(country_code) or _zone_table().get(country_code, "UTC")


def interest_choices() -> list[tuple[str, str]]:
    return list(INTERESTS.items())
