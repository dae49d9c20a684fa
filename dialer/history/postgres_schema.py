"""The team history's schema on PostgreSQL, and who may do what in it.

Everything lives in the schema ``dialer`` of the team's database. Who sees what is
PostgreSQL's to enforce (grants, column grants, row-level security and one trigger), not
the client's: a person connecting with ``psql`` and their own password can do exactly what
the dialer does on their behalf, and no more.

- An **agent** reads, adds and annotates (note, disposition) their own calls, adds their
  timeline steps and the reports their desktop polled. They can change no fact of a call
  once placed (who, when, which numbers, which account: no column grant), cannot change
  the outcome of a finished call (the trigger), and can delete nothing.
- A **supervisor** reads everyone's calls, timelines and reports, and annotates any call;
  the calls they place themselves are theirs as an agent's are.
- A **receiver** (the webhook receiver's service identity) adds reports, outcomes and the
  calls placed outside the app; it reads the columns of calls that matching and applying a
  report needs, and of the reports only their digests (a redelivery is then stored once),
  never notes, dispositions, request bodies or report bodies.

The three team roles are group roles (NOLOGIN) named after the database, so that two
teams on one server never share one; each person is a login role in one of them. The
schema is versioned (``dialer.meta``): ``setup`` upgrades it in place, a client refuses a
newer one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from dialer.core.team import TeamRole
from dialer.history.records import FINAL_STATUSES

SCHEMA = "dialer"
NOTIFY_CHANNEL = "dialer_calls"  # schema 1's one channel for everyone (see _v2)
CHANNEL_PREFIX = "dialer_calls_"  # each person's own channel: this and 32 random hex digits

# The calls table's columns, in CallRecord's field order, then who placed the call.
CALL_COLUMNS = (
    "id", "account", "provider", "customer", "agent", "bridge", "flow_id", "status",
    "provider_ref", "message", "error", "request", "created_at", "updated_at", "origin",
    "answered", "started_at", "ended_at", "agent_seconds", "talk_seconds", "billed_seconds",
    "charge", "recording_url", "hangup_by", "cause", "note", "disposition", "placed_by",
)  # fmt: skip

# What a provider (or the agent's desktop, learning from one) may still change on a call:
# its progress and outcome. Everything else is fixed once placed.
OUTCOME_COLUMNS = (
    "status", "provider_ref", "message", "error", "updated_at", "answered", "started_at",
    "ended_at", "agent_seconds", "talk_seconds", "billed_seconds", "charge", "recording_url",
    "hangup_by", "cause",
)  # fmt: skip
ANNOTATION_COLUMNS = ("note", "disposition")
# A receiver reads what matching and applying a report needs, not the people's words.
RECEIVER_READS = tuple(
    c for c in CALL_COLUMNS if c not in ("note", "disposition", "request", "placed_by")
)

_FINAL_SQL = ", ".join(f"'{status}'" for status in sorted(FINAL_STATUSES))


@dataclass(frozen=True, slots=True)
class GroupRoles:
    """The team's three group roles (quoted identifiers ready for SQL)."""

    agent: str
    supervisor: str
    receiver: str

    def of(self, role: TeamRole) -> str:
        return {
            TeamRole.AGENT: self.agent,
            TeamRole.SUPERVISOR: self.supervisor,
            TeamRole.RECEIVER: self.receiver,
        }[role]


def group_role_names(database: str) -> dict[TeamRole, str]:
    """The group role names a team in ``database`` gets (at most 63 bytes each)."""
    stem = database
    if len(database.encode()) > 40:
        stem = "team_" + hashlib.sha256(database.encode()).hexdigest()[:16]
    return {role: f"{stem}_dialer_{role.value}" for role in TeamRole}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quoted_roles(names: dict[TeamRole, str]) -> GroupRoles:
    return GroupRoles(
        agent=_quote(names[TeamRole.AGENT]),
        supervisor=_quote(names[TeamRole.SUPERVISOR]),
        receiver=_quote(names[TeamRole.RECEIVER]),
    )


def _bare(quoted: str) -> str:
    """A quoted role name as a string literal's content (names hold no quotes)."""
    return quoted.strip('"').replace("'", "''")


def _v1(g: GroupRoles) -> list[str]:
    everyone = f"{g.agent}, {g.supervisor}, {g.receiver}"
    agent_inserts = ", ".join(CALL_COLUMNS)
    outcome = ", ".join(OUTCOME_COLUMNS)
    annotations = ", ".join(ANNOTATION_COLUMNS)
    receiver_reads = ", ".join(RECEIVER_READS)
    own_call = (
        "EXISTS (SELECT 1 FROM dialer.calls c WHERE c.id = call_id AND c.placed_by = current_user)"
    )
    return [
        f"GRANT USAGE ON SCHEMA dialer TO {everyone}",
        "GRANT SELECT ON dialer.meta TO " + everyone,
        # -- people ----------------------------------------------------------------------
        """CREATE TABLE dialer.people (
            name      text PRIMARY KEY,
            role      text NOT NULL CHECK (role IN ('agent', 'supervisor', 'receiver')),
            active    boolean NOT NULL DEFAULT true,
            added_at  timestamptz NOT NULL DEFAULT now()
        )""",
        "ALTER TABLE dialer.people ENABLE ROW LEVEL SECURITY",
        f"GRANT SELECT ON dialer.people TO {everyone}",
        f"CREATE POLICY own_row ON dialer.people FOR SELECT TO {g.agent}, {g.receiver} "
        "USING (name = current_user)",
        f"CREATE POLICY everyone ON dialer.people FOR SELECT TO {g.supervisor} USING (true)",
        # -- secrets the team's receivers share (the webhook path token) -----------------
        "CREATE TABLE dialer.receiver_secrets (key text PRIMARY KEY, value text NOT NULL)",
        f"GRANT SELECT ON dialer.receiver_secrets TO {g.receiver}",
        # -- calls -----------------------------------------------------------------------
        f"""CREATE TABLE dialer.calls (
            id              text PRIMARY KEY,
            account         text NOT NULL,
            provider        text NOT NULL,
            customer        text NOT NULL,
            agent           text,
            bridge          text,
            flow_id         text,
            status          text NOT NULL,
            provider_ref    text,
            message         text NOT NULL DEFAULT '',
            error           text NOT NULL DEFAULT '',
            request         jsonb NOT NULL DEFAULT '{{}}',
            created_at      double precision NOT NULL,
            updated_at      double precision NOT NULL,
            origin          text NOT NULL DEFAULT 'app' CHECK (origin IN ('app', 'outside')),
            answered        boolean,
            started_at      double precision,
            ended_at        double precision,
            agent_seconds   integer,
            talk_seconds    integer,
            billed_seconds  integer,
            charge          double precision,
            recording_url   text,
            hangup_by       text,
            cause           text NOT NULL DEFAULT '',
            note            text NOT NULL DEFAULT '',
            disposition     text NOT NULL DEFAULT '',
            placed_by       text DEFAULT current_user,
            is_open         boolean GENERATED ALWAYS AS (status NOT IN ({_FINAL_SQL})) STORED,
            numbers         text GENERATED ALWAYS AS (
                regexp_replace(customer, '[^0-9]', '', 'g') || ' '
                || regexp_replace(coalesce(agent, ''), '[^0-9]', '', 'g')) STORED,
            agent_digits    text GENERATED ALWAYS AS (
                regexp_replace(coalesce(agent, ''), '[^0-9]', '', 'g')) STORED
        )""",
        "CREATE INDEX calls_by_created ON dialer.calls (created_at, id)",
        "CREATE INDEX calls_by_person ON dialer.calls (placed_by, created_at, id)",
        "CREATE INDEX calls_by_account ON dialer.calls (account, created_at, id)",
        "CREATE INDEX calls_by_status ON dialer.calls (status, created_at, id)",
        "CREATE INDEX calls_by_agent ON dialer.calls (agent_digits, created_at, id)",
        "CREATE INDEX calls_by_bridge ON dialer.calls (bridge, created_at, id)",
        "CREATE INDEX calls_by_ref ON dialer.calls (provider, provider_ref) "
        "WHERE provider_ref IS NOT NULL",
        "CREATE INDEX calls_open ON dialer.calls (provider, created_at) WHERE is_open",
        "ALTER TABLE dialer.calls ENABLE ROW LEVEL SECURITY",
        f"GRANT SELECT, INSERT ({agent_inserts}) ON dialer.calls TO {g.agent}",
        f"GRANT UPDATE ({outcome}, {annotations}) ON dialer.calls TO {g.agent}",
        f"GRANT SELECT, INSERT ({agent_inserts}) ON dialer.calls TO {g.supervisor}",
        f"GRANT UPDATE ({outcome}, {annotations}) ON dialer.calls TO {g.supervisor}",
        f"GRANT SELECT ({receiver_reads}, is_open) ON dialer.calls TO {g.receiver}",
        f"GRANT INSERT ({receiver_reads}, placed_by), UPDATE ({outcome}) ON dialer.calls "
        f"TO {g.receiver}",
        f"CREATE POLICY agent_reads ON dialer.calls FOR SELECT TO {g.agent} "
        "USING (placed_by = current_user)",
        f"CREATE POLICY agent_adds ON dialer.calls FOR INSERT TO {g.agent} "
        "WITH CHECK (placed_by = current_user AND origin = 'app')",
        f"CREATE POLICY agent_updates ON dialer.calls FOR UPDATE TO {g.agent} "
        "USING (placed_by = current_user) WITH CHECK (placed_by = current_user)",
        f"CREATE POLICY supervisor_reads ON dialer.calls FOR SELECT TO {g.supervisor} USING (true)",
        f"CREATE POLICY supervisor_adds ON dialer.calls FOR INSERT TO {g.supervisor} "
        "WITH CHECK (placed_by = current_user AND origin = 'app')",
        f"CREATE POLICY supervisor_annotates ON dialer.calls FOR UPDATE TO {g.supervisor} "
        "USING (true)",
        f"CREATE POLICY receiver_reads ON dialer.calls FOR SELECT TO {g.receiver} USING (true)",
        f"CREATE POLICY receiver_adds ON dialer.calls FOR INSERT TO {g.receiver} "
        "WITH CHECK (placed_by IS NULL AND origin = 'outside')",
        f"CREATE POLICY receiver_updates ON dialer.calls FOR UPDATE TO {g.receiver} USING (true)",
        # A desktop writes the progress of the calls it placed, but a finished call's
        # outcome is the audit's, and another person's call's outcome is theirs and the
        # provider's: no agent or supervisor changes either (a provider's late report,
        # through a receiver, still may; a supervisor's note is no outcome). The function
        # runs as its caller; `pg_has_role` asks which of the team's roles that is.
        f"""CREATE FUNCTION dialer.guard_finished_call() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF ({", ".join(f"OLD.{c}" for c in OUTCOME_COLUMNS if c != "updated_at")})
                       IS DISTINCT FROM
                       ({", ".join(f"NEW.{c}" for c in OUTCOME_COLUMNS if c != "updated_at")})
                   AND (pg_has_role(current_user, '{_bare(g.agent)}', 'MEMBER')
                        OR pg_has_role(current_user, '{_bare(g.supervisor)}', 'MEMBER'))
                THEN
                    IF OLD.placed_by IS DISTINCT FROM current_user THEN
                        RAISE EXCEPTION 'call % was placed by someone else: its outcome '
                            'cannot be rewritten', OLD.id
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    IF NOT OLD.is_open THEN
                        RAISE EXCEPTION 'call % is finished: its outcome cannot be rewritten',
                            OLD.id USING ERRCODE = 'insufficient_privilege';
                    END IF;
                END IF;
                RETURN NEW;
            END $$""",
        # Only agents' and supervisors' changes are checked (WHEN is evaluated without
        # calling the function: a receiver's batch of outcomes pays nothing for it).
        "CREATE TRIGGER guard_finished_call BEFORE UPDATE ON dialer.calls FOR EACH ROW "
        f"WHEN (pg_has_role(current_user, '{_bare(g.agent)}', 'MEMBER') "
        f"OR pg_has_role(current_user, '{_bare(g.supervisor)}', 'MEMBER')) "
        "EXECUTE FUNCTION dialer.guard_finished_call()",
        # Every open window hears of every change it may read (it reads the row again, as
        # its own role: the id alone tells nothing).
        # Once per statement, over the rows it changed: a batch of reports is one call.
        f"""CREATE FUNCTION dialer.notify_calls() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{NOTIFY_CHANNEL}', id) FROM changed;
                RETURN NULL;
            END $$""",
        "CREATE TRIGGER notify_added AFTER INSERT ON dialer.calls REFERENCING NEW TABLE AS "
        "changed FOR EACH STATEMENT EXECUTE FUNCTION dialer.notify_calls()",
        "CREATE TRIGGER notify_changed AFTER UPDATE ON dialer.calls REFERENCING NEW TABLE AS "
        "changed FOR EACH STATEMENT EXECUTE FUNCTION dialer.notify_calls()",
        # -- the timeline of each call ---------------------------------------------------
        """CREATE TABLE dialer.timeline (
            id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            call_id   text NOT NULL REFERENCES dialer.calls (id),
            at        double precision NOT NULL,
            status    text NOT NULL,
            source    text NOT NULL,
            detail    text NOT NULL DEFAULT '',
            added_by  text NOT NULL DEFAULT current_user,
            UNIQUE (call_id, at, status, source)
        )""",
        "ALTER TABLE dialer.timeline ENABLE ROW LEVEL SECURITY",
        f"GRANT SELECT, INSERT (call_id, at, status, source, detail) ON dialer.timeline "
        f"TO {g.agent}",
        f"GRANT SELECT, INSERT (call_id, at, status, source, detail) ON dialer.timeline "
        f"TO {g.supervisor}",
        f"GRANT INSERT (call_id, at, status, source, detail) ON dialer.timeline TO {g.receiver}",
        f"CREATE POLICY agent_reads ON dialer.timeline FOR SELECT TO {g.agent} USING ({own_call})",
        f"CREATE POLICY agent_adds ON dialer.timeline FOR INSERT TO {g.agent} "
        f"WITH CHECK ({own_call})",
        f"CREATE POLICY supervisor_reads ON dialer.timeline FOR SELECT TO {g.supervisor} "
        "USING (true)",
        f"CREATE POLICY supervisor_adds ON dialer.timeline FOR INSERT TO {g.supervisor} "
        f"WITH CHECK ({own_call})",
        f"CREATE POLICY receiver_adds ON dialer.timeline FOR INSERT TO {g.receiver} "
        "WITH CHECK (true)",
        # -- the reports, as received ----------------------------------------------------
        """CREATE TABLE dialer.reports (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            call_id      text NOT NULL REFERENCES dialer.calls (id),
            received_at  double precision NOT NULL,
            source       text NOT NULL,
            digest       text NOT NULL UNIQUE,
            body         text NOT NULL,
            added_by     text NOT NULL DEFAULT current_user
        )""",
        "CREATE INDEX reports_by_call ON dialer.reports (call_id)",
        "ALTER TABLE dialer.reports ENABLE ROW LEVEL SECURITY",
        f"GRANT SELECT, INSERT (call_id, received_at, source, digest, body) ON dialer.reports "
        f"TO {g.agent}",
        f"GRANT SELECT, INSERT (call_id, received_at, source, digest, body) ON dialer.reports "
        f"TO {g.supervisor}",
        f"GRANT SELECT (call_id, digest), INSERT (call_id, received_at, source, digest, body) "
        f"ON dialer.reports TO {g.receiver}",
        f"CREATE POLICY agent_reads ON dialer.reports FOR SELECT TO {g.agent} USING ({own_call})",
        f"CREATE POLICY agent_adds ON dialer.reports FOR INSERT TO {g.agent} "
        f"WITH CHECK ({own_call})",
        f"CREATE POLICY supervisor_reads ON dialer.reports FOR SELECT TO {g.supervisor} "
        "USING (true)",
        f"CREATE POLICY supervisor_adds ON dialer.reports FOR INSERT TO {g.supervisor} "
        f"WITH CHECK ({own_call})",
        f"CREATE POLICY receiver_reads ON dialer.reports FOR SELECT TO {g.receiver} USING (true)",
        f"CREATE POLICY receiver_adds ON dialer.reports FOR INSERT TO {g.receiver} "
        "WITH CHECK (true)",
    ]


def _v2(g: GroupRoles) -> list[str]:
    """Schema 2. Each person hears only of the calls they may read: a notification goes to the
    channel of the person who placed the call and to each supervisor's, never to one
    channel everyone listens on (where an agent heard every call's id, others' too).
    A channel's name is random and only its owner (and supervisors) can read it; LISTEN
    itself checks no privilege, so the name is what keeps it someone's own."""
    del g  # no grant changes: people already read their own row
    channel = f"'{CHANNEL_PREFIX}' || replace(gen_random_uuid()::text, '-', '')"
    return [
        f"ALTER TABLE dialer.people ADD COLUMN channel text NOT NULL DEFAULT ({channel})",
        "CREATE UNIQUE INDEX people_by_channel ON dialer.people (channel)",
        # As its owner (setup's administrator): the trigger fires for an agent, who may not
        # read the supervisors' rows. Once per statement, over the rows it changed.
        """CREATE OR REPLACE FUNCTION dialer.notify_calls() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
                PERFORM pg_notify(p.channel, c.id)
                    FROM changed c JOIN dialer.people p ON p.name = c.placed_by
                    WHERE p.active;
                PERFORM pg_notify(p.channel, c.id)
                    FROM changed c CROSS JOIN dialer.people p
                    WHERE p.role = 'supervisor' AND p.active;
                RETURN NULL;
            END $$""",
        "REVOKE ALL ON FUNCTION dialer.notify_calls() FROM PUBLIC",
        *_adopting_outside_calls(),
    ]


# What a provider's report set on a call placed outside the app, taken over by the desktop's
# call it turns out to be (the report is the provider's word on the outcome).
_ADOPTED = (
    "status", "answered", "started_at", "ended_at", "agent_seconds", "talk_seconds",
    "billed_seconds", "charge", "recording_url", "hangup_by", "cause",
)  # fmt: skip


def _adopting_outside_calls() -> list[str]:
    """A desktop that could not reach the team database while a receiver could sends its
    call late: the receiver, finding no call for the provider's report, has by then added
    it as a call placed outside the app. When the desktop's call arrives with the same
    provider reference on the same account, it takes that call's reports, timeline and
    (when the report concluded it) outcome, and the outside call goes: one call, not two.

    As the schema's owner: the agent whose call arrives may not read, change or delete the
    outside call. Only a call of the app with a provider reference looks (an index serves
    the lookup); the receiver's own writes never do."""
    outcome = ", ".join(
        f"{c} = CASE WHEN outside.is_open THEN calls.{c} ELSE outside.{c} END" for c in _ADOPTED
    )
    return [
        "CREATE INDEX calls_by_reference ON dialer.calls (provider, provider_ref) "
        "WHERE origin = 'outside'",
        f"""CREATE FUNCTION dialer.adopt_outside_call() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            DECLARE
                outside dialer.calls%ROWTYPE;
            BEGIN
                SELECT * INTO outside FROM dialer.calls c
                    WHERE c.origin = 'outside' AND c.provider = NEW.provider
                      AND c.provider_ref = NEW.provider_ref AND c.account = NEW.account
                    ORDER BY c.created_at LIMIT 1 FOR UPDATE;
                IF NOT FOUND THEN
                    RETURN NULL;
                END IF;
                UPDATE dialer.reports SET call_id = NEW.id WHERE call_id = outside.id;
                DELETE FROM dialer.timeline t WHERE t.call_id = outside.id AND EXISTS (
                    SELECT 1 FROM dialer.timeline mine WHERE mine.call_id = NEW.id
                      AND mine.at = t.at AND mine.status = t.status AND mine.source = t.source);
                UPDATE dialer.timeline SET call_id = NEW.id WHERE call_id = outside.id;
                UPDATE dialer.calls AS calls SET {outcome},
                    updated_at = greatest(calls.updated_at, outside.updated_at)
                    WHERE calls.id = NEW.id;
                DELETE FROM dialer.calls WHERE id = outside.id;
                RETURN NULL;
            END $$""",  # noqa: S608 - the columns are this module's own names
        "REVOKE ALL ON FUNCTION dialer.adopt_outside_call() FROM PUBLIC",
        "CREATE TRIGGER adopt_on_insert AFTER INSERT ON dialer.calls FOR EACH ROW "
        "WHEN (NEW.origin = 'app' AND NEW.provider_ref IS NOT NULL) "
        "EXECUTE FUNCTION dialer.adopt_outside_call()",
        "CREATE TRIGGER adopt_on_reference AFTER UPDATE OF provider_ref ON dialer.calls "
        "FOR EACH ROW WHEN (NEW.origin = 'app' AND OLD.provider_ref IS NULL "
        "AND NEW.provider_ref IS NOT NULL) EXECUTE FUNCTION dialer.adopt_outside_call()",
    ]


# Each schema version's statements, given the team's group roles; version N+1 upgrades N.
MIGRATIONS: tuple[Callable[[GroupRoles], list[str]], ...] = (_v1, _v2)
LATEST = len(MIGRATIONS)
