"""/console: operators log in, answer help-desk tickets and review tallies.

Every POST carries the CSRF token; every page but the login form needs a live session.
A change to a confirmed tally (the change form, or accepting a conflicting tally in its
place) is only proposed here; another supervisor or admin approves it at /console/approvals
(bots.approvals). Every action is audited as `operator:<name>`.
Replies and notices are queued as outbound messages and enqueued after the commit, so
they travel the same retried path as every other reply.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bots import approvals, helpdesk, review
from bots.replies import format_values, rule_failures
from jobs.queues import enqueue_outbound
from relay import operators
from relay.ballots import Listed, ballot_for, listed
from relay.db import session_scope
from relay.models import (
    AuditEntry,
    Contest,
    InboundMessage,
    Officer,
    OutboundMessage,
    ReviewItem,
    Submission,
    TallyChange,
    Ticket,
    TicketMessage,
)
from web.auth import SESSION_KEY, client_ip, current_operator, login_required
from web.common import check_csrf, local_time, new_csrf_token, safe_next
from web.console import delivery, words
from web.console.live import conditional, poll_seconds
from web.console.review_filters import AGES as REVIEW_AGES
from web.console.review_filters import ReviewFilter
from web.console.ticket_filters import AGES, ASSIGNED, CHANNELS, TicketFilter
from web.i18n import current_language, t
from web.photo_links import redirect_to_photo

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
blueprint.add_app_template_global(words.actor, "audit_actor")


@blueprint.before_request
def _csrf() -> None:
    if request.method == "POST":
        check_csrf()


def _operator_name() -> str:
    return _active().operator_name


def _active() -> operators.ActiveSession:
    active = current_operator()
    assert active is not None
    return active


def _enqueue(ids: list[int]) -> None:
    for outbound_id in ids:
        enqueue_outbound(outbound_id)


# --- login ------------------------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    next_url = safe_next(request.values.get("next"), url_for("console.index"))
    if request.method == "GET":
        if current_operator() is not None:
            return redirect(next_url)
        return render_template("console/login.html", next_url=next_url, error=None)
    name = request.form.get("name", "").strip()[:100]
    password = request.form.get("password", "")
    ip = client_ip()
    failed: operators.FailedLogins | None = None
    with session_scope() as db:
        wait = operators.retry_after(db, ip, name)
        token = None
        if not wait:
            operator = operators.authenticate(db, name, password, ip)
            if operator is not None:
                failed = operators.take_failed_logins(db, operator)
                token = operators.open_session(db, operator, ip, failed)
                operators.close_expired(db)
    if wait:
        page = render_template(
            "console/login.html", next_url=next_url, error=t("login_throttled", n=wait)
        )
        return page, 429, {"Retry-After": str(wait)}
    if token is None:
        error = t("login_failed")
        return render_template("console/login.html", next_url=next_url, error=error), 401
    session.clear()  # a fresh session (and CSRF token) at every login
    session[SESSION_KEY] = token
    new_csrf_token()
    if failed is not None:
        flash(
            t(
                "failed_logins_since",
                n=failed.count,
                ip=failed.last_ip or "?",
                at=local_time(failed.last_at),
            )
        )
    return redirect(next_url)


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    token = session.get(SESSION_KEY)
    if token:
        with session_scope() as db:
            operators.close_session(db, str(token))
    session.clear()
    return redirect(url_for("console.login"))


@blueprint.route("/password", methods=["GET", "POST"])
@login_required()
def password() -> ResponseReturnValue:
    active = current_operator()
    assert active is not None
    error = None
    if request.method == "POST":
        new, again = request.form.get("password", ""), request.form.get("again", "")
        if new != again:
            error = t("password_mismatch")
        else:
            with session_scope() as db:
                operator = db.get_one(operators.Operator, active.operator_id)
                try:
                    operators.set_password(db, operator, new)
                except operators.WeakPassword:
                    error = t("password_weak", n=operators.MIN_PASSWORD_LENGTH)
        if error is None:
            flash(t("password_changed"))
            return redirect(url_for("console.index"))
    return render_template(
        "console/password.html", forced=active.must_change_password, error=error
    ), (400 if error else 200)


# --- overview and tickets ---------------------------------------------------------------------


def _ticket_rows(
    db: Session, status: str, limit: int = 200, where: TicketFilter | None = None
) -> list[dict[str, Any]]:
    query = (
        select(Ticket)
        .where(Ticket.status == status)
        .order_by(Ticket.waiting_since.is_(None), Ticket.waiting_since, Ticket.updated_at)
        .limit(limit)
    )
    tickets = db.scalars((where or TicketFilter()).apply(query)).all()
    officers = {
        o.id: o
        for o in db.scalars(
            select(Officer).where(Officer.id.in_({t.officer_id for t in tickets if t.officer_id}))
        )
    }
    last_in: dict[int, TicketMessage] = {}
    for message in db.scalars(
        select(TicketMessage)
        .where(
            TicketMessage.ticket_id.in_([ticket.id for ticket in tickets]),
            TicketMessage.direction == "in",
        )
        .order_by(TicketMessage.id)
    ):
        last_in[message.ticket_id] = message
    return [
        {
            "ticket": ticket,
            "officer": officers.get(ticket.officer_id or 0),
            "last": last_in.get(ticket.id),
        }
        for ticket in tickets
    ]


@blueprint.get("/")
@login_required()
def index() -> ResponseReturnValue:
    with session_scope() as db:
        items = review.open_items(db, limit=20)
        tickets = _ticket_rows(db, "open", limit=20)
        counts = {
            "tickets": db.scalar(select(func.count()).where(Ticket.status == "open")),
            "waiting": db.scalar(
                select(func.count()).where(
                    Ticket.status == "open", Ticket.waiting_since.is_not(None)
                )
            ),
            "review": db.scalar(select(func.count()).where(ReviewItem.status == "open")),
            "held": db.scalar(select(func.count()).where(InboundMessage.status == helpdesk.HELD)),
            "approvals": db.scalar(
                select(func.count()).where(TallyChange.status == "pending")
            ),
        }
        page = render_template(
            "console/index.html",
            tickets=tickets,
            items=_item_rows(db, items),
            counts=counts,
            poll_seconds=poll_seconds(),
        )
    return conditional(page)


@blueprint.get("/tickets")
@login_required()
def tickets() -> ResponseReturnValue:
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "faq"):
        abort(404)
    where = TicketFilter.from_args(request.args, me=_operator_name())
    with session_scope() as db:
        counts = dict(
            db.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
        )
        page = render_template(
            "console/tickets.html",
            rows=_ticket_rows(db, status, where=where),
            status=status,
            where=where,
            counts=counts,
            channels=CHANNELS,
            ages=AGES,
            assigned=ASSIGNED,
            poll_seconds=poll_seconds(),
        )
    return conditional(page)


@blueprint.get("/tickets/<int:ticket_id>")
@login_required()
def ticket(ticket_id: int) -> ResponseReturnValue:
    with session_scope() as db:
        found = db.get(Ticket, ticket_id)
        if found is None:
            abort(404)
        messages = db.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id)
        ).all()
        outbound = {
            o.id: o
            for o in db.scalars(
                select(OutboundMessage).where(
                    OutboundMessage.id.in_([m.outbound_id for m in messages if m.outbound_id])
                )
            )
        }
        officer = db.get(Officer, found.officer_id) if found.officer_id else None
        sms_copies = delivery.fallbacks(db, list(outbound))
        templates = {i: delivery.template_used(o) for i, o in outbound.items()}
        window = delivery.window_notice(db, found)
        submissions = []
        if officer is not None:
            submissions = db.scalars(
                select(Submission)
                .where(
                    (Submission.officer_id == officer.id)
                    | (Submission.tps_code == (officer.tps_code or ""))
                )
                .order_by(Submission.id.desc())
                .limit(30)
            ).all()
        language = officer.language if officer and officer.language == "en" else "id"
        canned = [
            {"reply": c, "body": canned_body_for(c, language)} for c in canned_listed(db)
        ]
        chosen = request.args.get("canned", type=int)
        prefill = next((c["body"] for c in canned if c["reply"].id == chosen), "")
        history = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "ticket", AuditEntry.entity_id == str(found.id))
            .order_by(AuditEntry.id)
        ).all()
        queue = list(
            db.scalars(
                select(Ticket.id)
                .where(Ticket.status == "open")
                .order_by(Ticket.waiting_since.is_(None), Ticket.waiting_since, Ticket.updated_at)
                .limit(500)
            )
        )
        at = queue.index(found.id) if found.id in queue else -1
        neighbours = {
            "prev": queue[at - 1] if at > 0 else None,
            "next": queue[at + 1] if 0 <= at < len(queue) - 1 else None,
        }
        active = _active()
        may_assign = operators.can_approve(db.get_one(operators.Operator, active.operator_id).role)
        return render_template(
            "console/ticket.html",
            neighbours=neighbours,
            me=active.operator_name,
            canned=canned,
            canned_language=language,
            prefill=prefill,
            history=[(entry, words.audit_sentence(entry)) for entry in history],
            may_assign=may_assign,
            operator_names=active_operator_names(db) if may_assign else [],
            ticket=found,
            messages=messages,
            outbound=outbound,
            officer=officer,
            submissions=submissions,
            sms_copies=sms_copies,
            templates=templates,
            window=window,
            reply_prefix=helpdesk.say(
                "operator_reply", officer.language if officer else "id", ticket=found.id, body=""
            ),
        )


@blueprint.post("/tickets/<int:ticket_id>/reply")
@login_required()
def reply(ticket_id: int) -> ResponseReturnValue:
    body = request.form.get("body", "").strip()
    if not body:
        flash(t("reply_empty"))
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    if len(body) > 1000:
        flash(t("reply_too_long"))
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    with session_scope() as db:
        found = db.get(Ticket, ticket_id)
        if found is None:
            abort(404)
        claimed_by = found.assigned_to
        outbound = helpdesk.operator_reply(db, found, _operator_name(), body)
        if request.form.get("close"):
            helpdesk.set_status(db, found, _operator_name(), "closed")
        outbound_id = outbound.id
    _enqueue([outbound_id])
    flash(t("reply_queued"))
    if claimed_by and claimed_by != _operator_name():  # warned, never stopped
        flash(t("reply_other_claim", name=claimed_by))
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/status")
@login_required()
def ticket_status(ticket_id: int) -> ResponseReturnValue:
    status = request.form.get("status", "")
    if status not in ("open", "closed"):
        abort(400)
    with session_scope() as db:
        found = db.get(Ticket, ticket_id)
        if found is None:
            abort(404)
        helpdesk.set_status(db, found, _operator_name(), status)
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


# --- review -------------------------------------------------------------------------------------


def _item_rows(db: Session, items: list[ReviewItem]) -> list[dict[str, Any]]:
    ids = {i.submission_id for i in items if i.submission_id} | {
        i.other_submission_id for i in items if i.other_submission_id
    }
    subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_(ids)))}
    return [
        {
            "item": item,
            "submission": subs.get(item.submission_id or 0),
            "other": subs.get(item.other_submission_id or 0),
        }
        for item in items
    ]


@blueprint.get("/review")
@login_required()
def review_queue() -> ResponseReturnValue:
    where = ReviewFilter.from_args(request.args)
    with session_scope() as db:
        review.sync_conflicts(db)
        page = render_template(
            "console/review.html",
            rows=_item_rows(db, where.items(db)),
            where=where,
            counts=where.counts(db),
            kinds=review.KINDS,
            ages=REVIEW_AGES,
            poll_seconds=poll_seconds(),
        )
    return conditional(page)


def _photos(
    db: Session, inbound_id: int | None, marks: dict[str, str] | None = None,
    focus: str | None = None, form: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    from web.console.photos import photo_viewers

    return photo_viewers(db, inbound_id, marks, focus, form)


def _submission_view(
    db: Session, submission: Submission | None, item: ReviewItem | None = None
) -> dict[str, Any] | None:
    if submission is None:
        return None
    inbound = db.get(InboundMessage, submission.inbound_id)
    marks, focus = None, None
    if item is not None and submission.id == item.submission_id:
        from web.console.photos import review_marks

        marks, focus = review_marks(item)  # the photo in question: zoomed on the number
    return {
        "submission": submission,
        "officer": db.get(Officer, submission.officer_id),
        "inbound": inbound,
        "photos": _photos(db, submission.inbound_id, marks, focus,
                          (submission.contest_code, submission.tps_code)),
        "votes": submission.votes_by_ballot(),
    }


def _listed_at(db: Session, contest: Contest, tps_code: str | None) -> list[Listed]:
    """The candidates on the TPS's ballot: a regional contest's are its area's."""
    return listed(ballot_for(db, contest, tps_code) if tps_code else None, contest)


@blueprint.get("/review/<int:item_id>")
@login_required()
def review_item(item_id: int) -> ResponseReturnValue:
    with session_scope() as db:
        item = db.get(ReviewItem, item_id)
        if item is None:
            abort(404)
        submission = db.get(Submission, item.submission_id) if item.submission_id else None
        other = db.get(Submission, item.other_submission_id) if item.other_submission_id else None
        if other is None and submission is not None and item.kind in review.KINDS[:2]:
            from bots.tallies import confirmed_for

            other = confirmed_for(
                db, submission.tps_code, submission.contest_code, submission.training
            )
        contest = db.get(Contest, item.contest_code) if item.contest_code else None
        tickets = []
        if submission is not None:
            tickets = db.scalars(
                select(Ticket)
                .where(Ticket.officer_id == submission.officer_id, Ticket.status == "open")
                .order_by(Ticket.id)
            ).all()
        return render_template(
            "console/review_item.html",
            item=item,
            reasons=words.item_reasons(item),
            contest=contest,
            candidates=_listed_at(db, contest, item.tps_code) if contest else [],
            mine=_submission_view(db, submission, item),
            other=_submission_view(db, other, item),
            photos=_photos(db, item.inbound_id, *review_marks(item)) if submission is None else [],
            tickets=tickets,
        )


def _review_action(item_id: int, action: str) -> ResponseReturnValue:
    note = request.form.get("note", "").strip()[:500]
    with session_scope() as db:
        item = db.get(ReviewItem, item_id)
        if item is None:
            abort(404)
        proposed = None
        try:
            if action == "accept":
                change, ids = approvals.accept_or_propose(db, _operator_name(), item, note)
                proposed = change.id if change is not None else None
            else:
                ids = review.dismiss(db, _operator_name(), item, note)
        except review.ReviewError as error:
            db.rollback()
            flash(t("review_error", reason=str(error)))
            return redirect(url_for("console.review_item", item_id=item_id))
    _enqueue(ids)
    if proposed is not None:
        flash(t("change_proposed", n=proposed))
        return redirect(url_for("console.approvals_page"))
    flash(t("review_done"))
    return redirect(url_for("console.review_queue"))


@blueprint.post("/review/<int:item_id>/accept")
@login_required()
def review_accept(item_id: int) -> ResponseReturnValue:
    return _review_action(item_id, "accept")


@blueprint.post("/review/<int:item_id>/dismiss")
@login_required()
def review_dismiss(item_id: int) -> ResponseReturnValue:
    return _review_action(item_id, "dismiss")


@blueprint.get("/submissions/<int:submission_id>")
@login_required()
def submission(submission_id: int) -> ResponseReturnValue:
    with session_scope() as db:
        found = db.get(Submission, submission_id)
        if found is None:
            abort(404)
        contest = db.get_one(Contest, found.contest_code)
        history = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "submission", AuditEntry.entity_id == str(found.id))
            .order_by(AuditEntry.id)
        ).all()
        return render_template(
            "console/submission.html",
            view=_submission_view(db, found),
            contest=contest,
            candidates=_listed_at(db, contest, found.tps_code),
            history=[(entry, words.audit_sentence(entry)) for entry in history],
            item_id=request.args.get("item", type=int),
        )


def _int_field(name: str) -> int:
    raw = request.form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 6:
        raise review.ReviewError(t("not_a_number", field=name))
    return int(raw)


@blueprint.post("/submissions/<int:submission_id>/change")
@login_required()
def change(submission_id: int) -> ResponseReturnValue:
    item_id = request.form.get("item", type=int)
    with session_scope() as db:
        found = db.get(Submission, submission_id)
        if found is None:
            abort(404)
        contest = db.get_one(Contest, found.contest_code)
        try:
            listed = _listed_at(db, contest, found.tps_code)
            votes = {c.ballot_number: _int_field(f"v{c.ballot_number}") for c in listed}
            sah, ts = _int_field("sah"), _int_field("ts")
            item = db.get(ReviewItem, item_id) if item_id else None
            note = request.form.get("note", "")[:500]
            change, ids = approvals.change_or_propose(
                db, _operator_name(), found, votes, sah, ts, note, item
            )
            proposed = change.id if change is not None else None
        except review.ReviewError as error:
            db.rollback()
            if error.failures:
                numbers = [c.ballot_number for c in _listed_at(db, contest, found.tps_code)]
                flash(
                    rule_failures(
                        error.failures, current_language(), contest.code, found.tps_code, numbers
                    )
                )
            else:
                flash(t("review_error", reason=str(error)))
            return redirect(
                url_for("console.submission", submission_id=submission_id, item=item_id)
            )
    _enqueue(ids)
    if proposed is not None:
        flash(t("change_proposed", n=proposed))
        return redirect(url_for("console.approvals_page"))
    flash(t("tally_changed"))
    return redirect(url_for("console.submission", submission_id=submission_id))


# --- changes to confirmed tallies: a second person approves ------------------------------------


def _change_rows(db: Session, changes: list[TallyChange]) -> list[dict[str, Any]]:
    subs = {
        s.id: s
        for s in db.scalars(
            select(Submission).where(Submission.id.in_({c.submission_id for c in changes}))
        )
    }
    return [
        {
            "change": change,
            "submission": subs.get(change.submission_id),
            "before": format_values(*approvals.numbers(change.before)),
            "after": format_values(*approvals.numbers(change.after)),
        }
        for change in changes
    ]


@blueprint.get("/approvals")
@login_required()
def approvals_page() -> ResponseReturnValue:
    active = _active()
    with session_scope() as db:
        recent = db.scalars(
            select(TallyChange)
            .where(TallyChange.status != "pending")
            .order_by(TallyChange.decided_at.desc(), TallyChange.id.desc())
            .limit(30)
        ).all()
        return render_template(
            "console/approvals.html",
            rows=_change_rows(db, approvals.pending(db)),
            recent=_change_rows(db, list(recent)),
            may_approve=operators.can_approve(active.role),
            me=active.operator_name,
        )


@blueprint.post("/approvals/<int:change_id>/<decision>")
@login_required()
def decide_change(change_id: int, decision: str) -> ResponseReturnValue:
    if decision not in ("approve", "reject"):
        abort(404)
    active = _active()
    note = request.form.get("note", "").strip()[:500]
    with session_scope() as db:
        # The role as it is now, not as it was at login.
        role = db.get_one(operators.Operator, active.operator_id).role
        try:
            if decision == "approve":
                ids = approvals.approve(db, active.operator_name, role, change_id, note)
                done = t("change_approved", n=change_id)
            else:
                status = approvals.reject(db, active.operator_name, role, change_id, note)
                ids, done = [], t(f"change_{status}", n=change_id)
        except review.ReviewError as error:
            db.rollback()
            flash(t("review_error", reason=str(error)))
            return redirect(url_for("console.approvals_page"))
    _enqueue(ids)
    flash(done)
    return redirect(url_for("console.approvals_page"))


@blueprint.get("/operators")
@login_required()
def operators_page() -> ResponseReturnValue:
    active = _active()
    with session_scope() as db:
        if db.get_one(operators.Operator, active.operator_id).role != "admin":
            abort(403)
        listed = db.scalars(select(operators.Operator).order_by(operators.Operator.name)).all()
        return render_template("console/operators.html", operators=listed)


@blueprint.get("/media/<int:inbound_id>/<int:index>")
@login_required()
def photo(inbound_id: int, index: int) -> ResponseReturnValue:
    with session_scope() as db:
        inbound = db.get(InboundMessage, inbound_id)
        items = list(inbound.media or []) if inbound else []
    if index >= len(items) or not isinstance(items[index], dict) or not items[index].get("key"):
        abort(404)
    return redirect_to_photo(str(items[index]["key"]))


# Routes in modules of their own: /console/attention, /console/tickets/<id>/claim|release|
# assign, /console/canned, the upright photos.
from web.console import attention, canned, claims  # noqa: E402,F401
from web.console import photos as _photo_routes  # noqa: E402,F401
from web.console.canned import body_for as canned_body_for  # noqa: E402
from web.console.canned import listed as canned_listed  # noqa: E402
from web.console.claims import active_operator_names  # noqa: E402
from web.console.photos import review_marks  # noqa: E402
