"""The Mailchimp sandbox's seeding: members made from the ``email`` records of the test population
(statuses from their consent, the malformed ones as an address with no domain suffix), and a new
member as Mailchimp shows one.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.testing.population import people as population_people
from core.testing.population import population

from ._cursor import format_time, parse_time
from ._mapping import subscriber_hash

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox


def _ascii_address(email: str) -> str:
    """Mailchimp keeps addresses in ASCII: an internationalised domain is stored in its IDNA form."""
    local, sep, domain = email.strip().rpartition("@")
    if not sep or domain.isascii():
        return email.strip()
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email.strip()


# --- seeding -----------------------------------------------------------------------------------
def seed_members(sb: MailchimpSandbox, count: int, seed: int) -> None:
    rng = random.Random(seed * 7919 + 17)
    persons = population_people(count, seed)
    for index, record in population(count, seed, malformed_share=0.02):
        if record.get("source") != "email":
            continue
        if index is None:
            # Realistic bad data: an address Mailchimp took in an old import that has no domain
            # suffix, and a phone that is not one; normalise_record must quarantine it.
            email, status = f"{record['id']}@example", "transactional"
        else:
            email = str(record.get("email") or persons[index].email)
            granted = bool(record.get("consent", {}).get("email"))
            roll = rng.random()
            if granted:
                status = "pending" if roll < 0.07 else "subscribed"
            else:
                status = "cleaned" if roll < 0.2 else "transactional" if roll < 0.35 else "unsubscribed"
        changed = parse_time(str(record.get("updated_at", ""))) or sb.clock.now()
        opted = changed - timedelta(days=rng.randint(0, 60), seconds=rng.randint(0, 3600))
        country = record.get("country")
        member = new_member(
            sb,
            _ascii_address(email),
            status,
            {
                "FNAME": record.get("first_name", ""),
                "LNAME": record.get("last_name", ""),
                "PHONE": record.get("phone", ""),
                "ADDRESS": (
                    {"addr1": "", "addr2": "", "city": "", "state": "", "zip": "", "country": country}
                    if country
                    else ""
                ),
            },
            changed,
            timestamp_opt=format_time(opted) if status in ("subscribed", "unsubscribed", "cleaned") else "",
            # Imported members have no signup time; form signups do.
            timestamp_signup="" if rng.random() < 0.5 else format_time(opted - timedelta(hours=2)),
            language=rng.choice(["", "", "", "", "en", "fr", "de"]),
            source="Import",
        )
        sb.members.setdefault(member["id"], member)
    sb._index = None


def new_member(
    sb: MailchimpSandbox,
    email: str,
    status: str,
    merge: Mapping[str, Any],
    at: datetime,
    *,
    timestamp_opt: str = "",
    timestamp_signup: str = "",
    language: str = "",
    source: str = "API - Generic",
) -> dict[str, Any]:
    member_id = subscriber_hash(email)
    first, last = str(merge.get("FNAME", "") or ""), str(merge.get("LNAME", "") or "")
    return {
        "id": member_id,
        "email_address": email,
        "unique_email_id": member_id[:10],
        "contact_id": uuid.uuid5(uuid.NAMESPACE_URL, member_id).hex,
        "full_name": " ".join(p for p in (first, last) if p),
        "web_id": next(sb._web_ids),
        "email_type": "html",
        "status": status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": {k: v for k, v in merge.items() if v not in (None, "")},
        "interests": {},
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": timestamp_signup,
        "ip_opt": "",
        "timestamp_opt": timestamp_opt,
        "member_rating": 2,
        "last_changed": format_time(at),
        "language": language,
        "vip": False,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "",
            "timezone": "",
            "region": "",
        },
        "source": source,
        "tags_count": 0,
        "tags": [],
        "list_id": sb.list_id,
    }
