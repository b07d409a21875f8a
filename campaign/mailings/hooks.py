"""What the mailings domain contributes to the layers below it: dashboard
panels, the sending metrics, the "received mailing" segment filter, and
settling a supporter's unsent copies when the supporter is erased."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, update

from campaign.core.dashboard import panel
from campaign.core.metrics import collector
from campaign.extensions import db
from campaign.mailings.models import (
    BOUNCE_KINDS,
    DELIVERY_STATES,
    IN_FLIGHT,
    STATES,
    Bounce,
    Delivery,
    DeliveryState,
    Mailing,
    MailingState,
)
from campaign.mailings.services import progress
from campaign.supporters.segments import recipients
from campaign.supporters.signals import supporter_erasing


def mailings_in_flight() -> list[tuple]:
    mailings = db.session.scalars(
        select(Mailing).where(Mailing.state.in_(IN_FLIGHT)).order_by(Mailing.id.desc()).limit(10)
    )
    return [(mailing, progress(mailing)) for mailing in mailings]


def bounces_needing_attention(limit: int = 10) -> list:
    return list(db.session.scalars(select(Bounce).order_by(Bounce.received_at.desc()).limit(limit)))


@panel("mailings/_panel_in_flight.html", order=20)
def in_flight_panel() -> dict:
    return {"mailings": mailings_in_flight()}


@panel("mailings/_panel_bounces.html", order=50)
def bounces_panel() -> dict:
    return {"bounces": bounces_needing_attention()}


@recipients("received_mailing")
def received(mailing_id: int):
    """The supporters a mailing was sent to."""
    return select(Delivery.supporter_id).where(
        Delivery.mailing_id == mailing_id, Delivery.state == DeliveryState.SENT
    )


@supporter_erasing.connect
def settle_deliveries(supporter_id: int) -> None:
    """Unsent copies end suppressed; the rows stay (anonymous) for the mailing's counts."""
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.supporter_id == supporter_id,
            Delivery.state.in_((DeliveryState.QUEUED, DeliveryState.SENDING)),
        )
        .values(state=DeliveryState.SUPPRESSED, last_error="supporter erased")
    )


@collector
def sending_families(now: datetime) -> list:
    """Deliveries and mailings by state, the send rate, expired leases, bounces."""
    families = []

    # Deliveries by mailing and state: one grouped query; totals are its sums.
    per_mailing = GaugeMetricFamily(
        "ua_mailing_deliveries",
        "Deliveries of each mailing in flight (scheduled, sending, paused), by state.",
        labels=["mailing_id", "mailing_state", "state"],
    )
    totals: dict[str, int] = {}
    rows = db.session.execute(
        select(Delivery.mailing_id, Mailing.state, Delivery.state, func.count())
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .group_by(Delivery.mailing_id, Mailing.state, Delivery.state)
    )
    for mailing_id, mailing_state, state, count in rows:
        totals[state] = totals.get(state, 0) + count
        if mailing_state in IN_FLIGHT:
            per_mailing.add_metric([str(mailing_id), mailing_state, state], count)
    by_state = GaugeMetricFamily(
        "ua_deliveries", "All deliveries (outbox rows), by state.", labels=["state"]
    )
    for state in DELIVERY_STATES:
        by_state.add_metric([state], totals.get(state, 0))
    sent = CounterMetricFamily("ua_messages_sent", "Messages handed to the SMTP relay.")
    sent.add_metric([], totals.get(DeliveryState.SENT, 0))
    failed = CounterMetricFamily(
        "ua_messages_failed", "Deliveries given up after their last attempt."
    )
    failed.add_metric([], totals.get(DeliveryState.FAILED, 0))
    families += [per_mailing, by_state, sent, failed]

    mailings = GaugeMetricFamily("ua_mailings", "Mailings, by state.", labels=["state"])
    counts = dict(
        db.session.execute(select(Mailing.state, func.count()).group_by(Mailing.state)).all()
    )
    for mailing_state in STATES:
        mailings.add_metric([mailing_state], counts.get(mailing_state, 0))
    families.append(mailings)

    minute = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(
            Mailing.state.in_((*IN_FLIGHT, MailingState.SENT)),
            Delivery.state == DeliveryState.SENT,
            Delivery.sent_at >= now - timedelta(seconds=60),
        )
    )
    rate = GaugeMetricFamily(
        "ua_send_rate_per_second", "Messages sent per second over the last minute."
    )
    rate.add_metric([], round((minute or 0) / 60, 3))
    families.append(rate)

    expired = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.state == DeliveryState.SENDING, Delivery.lease_until < now)
    )
    leases = GaugeMetricFamily(
        "ua_outbox_leases_expired",
        "Deliveries claimed by a worker whose lease ran out (the sweeper re-queues them).",
    )
    leases.add_metric([], expired or 0)
    families.append(leases)

    bounces = GaugeMetricFamily(
        "ua_bounces_last_24h", "Bounces and complaints received in the last 24 hours, by kind.",
        labels=["kind"],
    )  # fmt: skip
    received = dict(
        db.session.execute(
            select(Bounce.kind, func.count())
            .where(Bounce.received_at >= now - timedelta(hours=24))
            .group_by(Bounce.kind)
        ).all()
    )
    for kind in BOUNCE_KINDS:
        bounces.add_metric([kind], received.get(kind, 0))
    families.append(bounces)
    return families
