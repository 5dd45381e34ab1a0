"""What the public tracking page shows for a token: no account, no internal ids.

Everything a token reveals is chosen here, field by field: the order's number
and title, the timeline, the technician's first name (never the surname, the
phone or any id) and, while the order is open, their portrait under the link's own
URL, the site's city (never the street), the position and ETA only
while the technician is on the way (:func:`api.location.services.en_route_position`),
the sealed report's public verification link, and the rating. Nothing live is
shown once the order is finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.http.ratelimit import RateLimiter
from api.location.services import en_route_position
from api.signoff.pdf import FoundPdf, stored_pdf
from api.signoff.sealing import latest_report
from api.sites.models import Site
from api.technicians.models import Technician, TechnicianPhoto
from api.technicians.photos import photo_of
from api.tenants.models import Tenant
from api.tracking import links, rules
from api.tracking.errors import NoReportYet, NoTechnicianPhotoShown
from api.tracking.models import WorkOrderRating
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Status
from dispatch.routing import Router, StraightLine
from media.blobs import BlobMissing, BlobStore

_FINISHED = (Status.COMPLETED, Status.CLOSED)
_ENDED = (*_FINISHED, Status.CANCELLED)


@dataclass(frozen=True)
class Viewer:
    """Who looks: the language they asked for (None: the tenant's), and from where."""

    language: str | None
    address: str


def track(
    session: Session,
    limiter: RateLimiter,
    token: str,
    viewer: Viewer,
    public_url: str,
    router: Router | None = None,
) -> dict[str, Any]:
    """The page's data for a working token; 404 ``tracking.link_not_found`` otherwise.
    Counted per token and per address before the lookup, so guessing is limited too
    (what is not even shaped like a token is refused uncounted)."""
    links.check_shape(token)
    limiter.hit(f"tracking-token:{token}", f"tracking-ip:{viewer.address}")
    return view(session, token, viewer.language, public_url, router)


def view(
    session: Session,
    token: str,
    language: str | None,
    public_url: str,
    router: Router | None = None,
) -> dict[str, Any]:
    """:func:`track` without counting: for a live stream that was counted when it
    opened and re-reads the page's data at each change (the same rules, the link
    checked again each time)."""
    link, order = links.open_link(session, token)
    tenant_locale, timezone = session.execute(
        select(Tenant.locale, Tenant.timezone).where(Tenant.id == order.tenant_id)
    ).one()
    language = language or rules.language_of(tenant_locale, "en")
    rating = _rating(session, order)
    report = latest_report(session, order)
    facts = rules.OrderFacts(
        status=order.status,
        created_at=order.created_at,
        scheduled_start=order.scheduled_start,
        history=_history(session, order),
        report_sealed_at=report.sealed_at if report is not None else None,
        rated_at=rating.rated_at if rating is not None else None,
    )
    steps = rules.timeline(facts)
    done = {step.key for step in steps if step.done}
    site = session.get(Site, order.site_id)
    position, eta = _live(session, order, site, router or StraightLine())
    return {
        "reference": order.number,
        "title": order.title,
        "status": order.status.value,
        "language": language,
        "timezone": timezone,
        "current_step": rules.current_step(steps).value,
        "steps": [
            {
                "key": step.key.value,
                "title": rules.TITLES[step.key][language],
                "done": step.done,
                "occurred_at": step.occurred_at,
            }
            for step in steps
        ],
        "cancelled_at": order.cancelled_at,
        "schedule": _schedule(order),
        "technician": _technician(session, order, language, done, token, public_url),
        "site": {"city": site.city if site is not None else None},
        "position": position,
        "eta": eta,
        "report": _report(report, public_url) if rules.Step.REPORT_READY in done else None,
        "rating": _shown_rating(rating),
        "can_rate": rating is None and rules.Step.WORK_DONE in done,
        "expires_at": links.expires_at(link, order),
    }


def eta_seconds(session: Session, order: WorkOrder, router: Router | None = None) -> int | None:
    """The expected travel time left, as the page shows it (None unless on the way with a
    fix since setting off, to a site with coordinates)."""
    site = session.get(Site, order.site_id)
    _, eta = _live(session, order, site, router or StraightLine())
    return None if eta is None else int(eta["seconds"])


def report_pdf(
    session: Session, store: BlobStore, limiter: RateLimiter, token: str, address: str
) -> FoundPdf:
    """The sealed report's PDF (its latest version, in the tenant's language, as the
    worker stored it) once the work is done; 404 ``tracking.no_report`` before."""
    links.check_shape(token)
    limiter.hit(f"tracking-token:{token}", f"tracking-ip:{address}")
    _, order = links.open_link(session, token)
    report = latest_report(session, order) if order.status in _FINISHED else None
    if report is None:
        raise NoReportYet()
    return stored_pdf(store, report, f"{order.number}-v{report.version}.pdf")


def _history(session: Session, order: WorkOrder) -> tuple[tuple[Any, Any, datetime], ...]:
    rows = session.execute(
        select(StatusChange.from_status, StatusChange.to_status, StatusChange.occurred_at)
        .where(StatusChange.tenant_id == order.tenant_id, StatusChange.work_order_id == order.id)
        .order_by(StatusChange.occurred_at, StatusChange.recorded_at)
    )
    return tuple((frm, to, at) for frm, to, at in rows)


def _schedule(order: WorkOrder) -> dict[str, Any] | None:
    if order.scheduled_start is None:
        return None
    return {"start": order.scheduled_start, "end": order.scheduled_end}


def _technician(
    session: Session,
    order: WorkOrder,
    language: str,
    done: set[rules.Step],
    token: str,
    public_url: str,
) -> dict[str, Any] | None:
    if order.assignee_id is None or rules.Step.TECHNICIAN_ASSIGNED not in done:
        return None
    technician = session.get(Technician, order.assignee_id)
    if technician is None or technician.tenant_id != order.tenant_id:
        return None
    photo = _shown_photo(session, order)
    return {
        "name": rules.addressed_as(technician.name, technician.name_en, language),
        # Served under the link itself: the URL names nothing but the token (and which
        # portrait, so a new photo is not hidden by a browser's cache).
        "photo_url": (
            f"{public_url.rstrip('/')}/v1/tracking/{token}/technician-photo"
            f"?v={photo.large_sha256[:16]}"
            if photo is not None
            else None
        ),
    }


def technician_photo(
    session: Session, store: BlobStore, limiter: RateLimiter, token: str, address: str
) -> tuple[BinaryIO, str]:
    """The assigned technician's large portrait (WebP) and its SHA-256, while the order is
    open; 404 ``tracking.no_technician_photo`` otherwise (no photo, nobody assigned, or
    the order finished or cancelled)."""
    links.check_shape(token)
    limiter.hit(f"tracking-token:{token}", f"tracking-ip:{address}")
    _, order = links.open_link(session, token)
    photo = _shown_photo(session, order)
    if photo is None:
        raise NoTechnicianPhotoShown()
    try:
        return store.open(order.tenant_id, photo.large_sha256), photo.large_sha256
    except BlobMissing:
        raise NoTechnicianPhotoShown() from None


def _shown_photo(session: Session, order: WorkOrder) -> TechnicianPhoto | None:
    """The photo a customer may see: the assigned technician's, while the order is open."""
    if order.assignee_id is None or order.status in _ENDED or order.status is Status.NEW:
        return None
    return photo_of(session, order.tenant_id, order.assignee_id)


def _live(
    session: Session, order: WorkOrder, site: Site | None, router: Router
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Position and ETA, only while on the way (None once arrived or finished)."""
    location = en_route_position(session, order)
    if location is None:
        return None, None
    position = {
        "lat": location.lat,
        "lon": location.lon,
        "accuracy_m": location.accuracy_m,
        "fixed_at": location.fixed_at,
    }
    if site is None or site.lat is None or site.lon is None:
        return position, None
    leg = router.travel((location.lat, location.lon), (site.lat, site.lon))
    eta = {
        "seconds": leg.seconds,
        "arrive_by": utcnow() + timedelta(seconds=leg.seconds),
        "distance_m": round(leg.metres),
        "profile": leg.source,
    }
    return position, eta


def _report(report: Any, public_url: str) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "version": report.version,
        "sealed_at": report.sealed_at,
        "sha256": report.sha256,
        "verification_url": f"{public_url.rstrip('/')}/v/{report.token}/verification",
        "verification_page_url": f"{public_url.rstrip('/')}/v/{report.token}",
        "pdf_ready": report.pdf_sha256 is not None,
    }


def _rating(session: Session, order: WorkOrder) -> WorkOrderRating | None:
    return session.scalars(
        select(WorkOrderRating).where(
            WorkOrderRating.tenant_id == order.tenant_id,
            WorkOrderRating.work_order_id == order.id,
        )
    ).one_or_none()


def _shown_rating(rating: WorkOrderRating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {"score": rating.score, "comment": rating.comment, "rated_at": rating.rated_at}
