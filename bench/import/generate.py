"""Writes the benchmark's supporter CSV: mixed languages and scripts, with faults.

Deterministic (seeded): about 2% of rows are invalid (broken addresses, unknown
countries or languages) and about 5% repeat an earlier address, sometimes with
other letter case in the domain or a changed name, as real exports do.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

PEOPLE = {
    "en": (["Alice", "Tom", "Grace", "Oliver", "Amelia"], ["Smith", "Jones", "Taylor", "Brown"]),
    "fr": (["Élodie", "François", "Chloé", "Théo"], ["Lefèvre", "Dubois", "Moreau", "Girard"]),
    "es": (["José", "Lucía", "Íñigo", "María"], ["García", "Muñoz", "Peña", "Núñez"]),
    "ru": (["Анна", "Дмитрий", "Ольга", "Сергей"], ["Иванова", "Петров", "Смирнова", "Козлов"]),
    "uk": (["Олена", "Тарас", "Ірина", "Богдан"], ["Шевченко", "Коваль", "Бойко", "Ткачук"]),
    "ar": (["فاطمة", "أحمد", "ليلى", "يوسف"], ["الحسن", "منصور", "حداد", "خوري"]),
}
PLACES = {
    "en": [("GB", "London"), ("IE", "Dublin"), ("US", "Chicago"), ("AU", "Sydney")],
    "fr": [("FR", "Lyon"), ("BE", "Liège"), ("CA", "Montréal"), ("SN", "Dakar")],
    "es": [("ES", "Sevilla"), ("MX", "Ciudad de México"), ("AR", "Córdoba")],
    "ru": [("RU", "Москва"), ("KZ", "Алматы"), ("LV", "Rīga")],
    "uk": [("UA", "Київ"), ("UA", "Львів"), ("PL", "Kraków")],
    "ar": [("EG", "القاهرة"), ("LB", "بيروت"), ("MA", "الدار البيضاء")],
}
DOMAINS = ["example.org", "mail.example.com", "post.example.net", "exämple.de", "пример.рф"]
INTERESTS = ["europe", "africa", "americas", "death-penalty", "torture", "defenders"]
HEADER = ["Email", "First name", "Last name", "Language", "Country", "City", "Interests"]


def _invalid(rng: random.Random, row: list[str]) -> list[str]:
    kind = rng.randrange(4)
    if kind == 0:
        row[0] = row[0].replace("@", " at ")
    elif kind == 1:
        row[0] = row[0].split("@")[0] + "@"
    elif kind == 2:
        row[4] = "XZ"
    else:
        row[3] = "qq"
    return row


def rows(count: int, seed: int = 1):
    rng = random.Random(seed)
    earlier: list[list[str]] = []
    for n in range(count):
        if earlier and rng.random() < 0.05:
            row = list(rng.choice(earlier))
            if rng.random() < 0.5:
                local, _, domain = row[0].partition("@")
                row[0] = f"{local}@{domain.upper()}"
            yield row
            continue
        language = rng.choice(list(PEOPLE))
        firsts, lasts = PEOPLE[language]
        country, city = rng.choice(PLACES[language])
        row = [
            f"s{n}.{rng.randrange(10**6)}@{rng.choice(DOMAINS)}",
            rng.choice(firsts),
            rng.choice(lasts),
            language,
            country,
            city,
            ";".join(rng.sample(INTERESTS, rng.randrange(3))),
        ]
        if rng.random() < 0.02:
            row = _invalid(rng, row)
        elif len(earlier) < 2000:
            earlier.append(row)
        elif rng.random() < 0.01:
            earlier[rng.randrange(len(earlier))] = row
        yield row


def write(path: Path, count: int, seed: int = 1) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    write(args.path, args.rows)
    print(f"wrote {args.rows:,} rows to {args.path}")
