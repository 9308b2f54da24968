"""Fill the telephony tables with plausible call rows for the call reports (STAT-1) on a demo installation:
calls (CDR), their queue-log events and legs, and the agents' state log, with answered calls linked to the phone
cases registered the same day. Deterministic for a given --seed; refuses to add to a table that has calls
unless --append.

    python manage.py fake_calls --days 30 --per-day 400
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from hotline.cases.models import Case, Channel
from hotline.common import clock
from hotline.orgs.models import Role, User
from hotline.telephony.models import (
    Agent,
    AgentStateLog,
    Call,
    CallCase,
    CallControl,
    CallLeg,
    CallStatus,
    ControlKind,
    Disposition,
    IvrFlow,
    IvrStep,
    IvrStepEvent,
    IvrVersion,
    IvrVersionStatus,
    LegRole,
    NotReadyReason,
    Number,
    Queue,
    QueueEvent,
    QueueLog,
)
from hotline.telephony.states import AgentEvent, AgentState

HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 15, 15, 14, 12, 10, 9, 8, 6, 4, 2]
BREAKS = [NotReadyReason.BREAK, NotReadyReason.MEAL, NotReadyReason.TRAINING, NotReadyReason.MEETING]


def ms(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() * 1000)


class Command(BaseCommand):
    help = "Generate call rows (CDR, queue log, agent-state log) for the call reports on a demo installation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--per-day", type=int, default=400)
        parser.add_argument("--seed", type=int, default=12345)
        parser.add_argument("--append", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        days, per_day = options["days"], options["per_day"]
        if not (1 <= days <= 3660 and 1 <= per_day <= 100_000):
            raise CommandError("--days 1..3660, --per-day 1..100000")
        if Call.objects.exists() and not options["append"]:
            raise CommandError("calls exist already: pass --append to add more")
        rng = random.Random(options["seed"])
        with transaction.atomic():
            queues, agents = self._setup(rng)
            today = timezone.localtime(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0)
            total = 0
            for d in range(days, 0, -1):
                total += self._day(rng, today - dt.timedelta(days=d), per_day, queues, agents)
        self.stdout.write(f"{total} calls over {days} days, {len(agents)} agents, {len(queues)} queues")

    def _setup(self, rng: random.Random) -> tuple[list[Queue], list[Agent]]:
        queues = list(Queue.objects.order_by("code"))
        if not queues:
            queues = [
                Queue.objects.create(code="general", name="综合"),
                Queue.objects.create(code="enterprise", name="企业服务"),
            ]
        agents = list(Agent.objects.order_by("agent_id"))
        if not agents:
            users = [u for u in User.objects.order_by("pk") if u.has_role(Role.AGENT)][:20]
            password = make_password(None)
            for i, user in enumerate(users):
                agent = Agent.objects.create(
                    agent_id=f"9{i:03d}", password=password, extension=f"9{i:03d}", user=user
                )
                agent.skills.set(queues if i % 3 else queues[:1])
                agents.append(agent)
        if not agents:
            raise CommandError("no agents and no user with the agent role to seat")
        return queues, agents

    def _day(
        self, rng: random.Random, day: dt.datetime, per_day: int, queues: list[Queue], agents: list[Agent]
    ) -> int:
        end_of_day = day + dt.timedelta(days=1)
        cases = list(
            Case.objects.filter(channel=Channel.PHONE, created_at__gte=day, created_at__lt=end_of_day)
            .order_by("created_at")
            .values_list("pk", "created_at")
        )
        starts = sorted(
            day + dt.timedelta(hours=rng.choices(range(24), HOUR_WEIGHTS)[0], seconds=rng.uniform(0, 3600))
            for _ in range(per_day)
        )
        free_at = {a.pk: day + dt.timedelta(hours=8) for a in agents}
        calls: list[Call] = []
        logs: list[QueueLog] = []
        states: list[AgentStateLog] = []
        legs: list[CallLeg] = []
        links: list[tuple[int, int]] = []
        stamp = int(day.timestamp())
        for n, started in enumerate(starts):
            queue = rng.choice(queues)
            call_id = f"fk{stamp:x}{n:05d}"
            enqueued = started + dt.timedelta(seconds=rng.uniform(5, 40))  # IVR
            wait = dt.timedelta(seconds=rng.expovariate(1 / 25))
            agent = min(agents, key=lambda a: free_at[a.pk])
            call = Call(
                call_id=call_id,
                caller=f"13{rng.randrange(10**9):09d}",
                dialed="12345",
                queue=queue,
                status=CallStatus.ENDED,
                started_at=started,
                enqueued_at=enqueued,
            )
            abandon = wait > dt.timedelta(seconds=90) or rng.random() < 0.06
            if abandon:
                call.disposition = Disposition.ABANDONED
                call.ended_at = enqueued + wait
                calls.append(call)
                logs.append(
                    QueueLog(queue=queue, event=QueueEvent.ABANDON, wait_ms=ms(wait), at=call.ended_at)
                )
            else:
                answered = enqueued + wait
                talk = dt.timedelta(seconds=max(20, rng.gauss(210, 90)))
                wrap = dt.timedelta(seconds=rng.uniform(15, 90))
                call.disposition, call.agent = Disposition.ANSWERED, agent
                call.answered_at, call.ended_at = answered, answered + talk
                call.time_to_person_ms = ms(answered - started)
                calls.append(call)
                ring = max(enqueued, answered - dt.timedelta(seconds=3))
                logs += [
                    QueueLog(
                        queue=queue, event=QueueEvent.OFFER, agent=agent, wait_ms=ms(ring - enqueued), at=ring
                    ),
                    QueueLog(
                        queue=queue, event=QueueEvent.CONNECT, agent=agent, wait_ms=ms(wait), at=answered
                    ),
                ]
                idle = max(dt.timedelta(0), ring - free_at[agent.pk])
                states += [
                    AgentStateLog(agent=agent, event=AgentEvent.OFFER, from_state=AgentState.READY,
                                  to_state=AgentState.RINGING, previous_ms=ms(idle), at=ring),
                    AgentStateLog(agent=agent, event=AgentEvent.ANSWER, from_state=AgentState.RINGING,
                                  to_state=AgentState.TALKING, previous_ms=ms(answered - ring), at=answered),
                    AgentStateLog(agent=agent, event=AgentEvent.HANGUP, from_state=AgentState.TALKING,
                                  to_state=AgentState.WRAP_UP, previous_ms=ms(talk), at=call.ended_at),
                    AgentStateLog(agent=agent, event=AgentEvent.WRAP_UP_DONE, from_state=AgentState.WRAP_UP,
                                  to_state=AgentState.READY, previous_ms=ms(wrap), at=call.ended_at + wrap),
                ]  # fmt: skip
                free_at[agent.pk] = call.ended_at + wrap
                if rng.random() < 0.08:  # a break after the call
                    reason = rng.choice(BREAKS)
                    pause = dt.timedelta(minutes=rng.uniform(5, 30))
                    at = free_at[agent.pk]
                    states += [
                        AgentStateLog(agent=agent, event=AgentEvent.NOT_READY, from_state=AgentState.READY,
                                      to_state=AgentState.NOT_READY, reason=reason, previous_ms=0, at=at),
                        AgentStateLog(agent=agent, event=AgentEvent.READY, from_state=AgentState.NOT_READY,
                                      to_state=AgentState.READY, previous_ms=ms(pause), at=at + pause),
                    ]  # fmt: skip
                    free_at[agent.pk] = at + pause
                if rng.random() < 0.03:  # transferred to an outside number
                    legs.append(CallLeg(leg_id=f"{call_id}-x", role=LegRole.EXTERNAL, direction="out",
                                        remote="sip:external@127.0.0.1", started_at=call.ended_at - dt.timedelta(seconds=30),
                                        answered_at=call.ended_at - dt.timedelta(seconds=25), ended_at=call.ended_at))  # fmt: skip
            logs.append(QueueLog(queue=queue, event=QueueEvent.ENQUEUE, wait_ms=0, at=enqueued))
        Call.objects.bulk_create(calls, batch_size=2000)
        by_id = dict(Call.objects.filter(call_id__in=[c.call_id for c in calls]).values_list("call_id", "pk"))
        # Queue-log rows were built in call order; attach each to its call.
        index = 0
        for call in calls:
            pk = by_id[call.call_id]
            count = 2 if call.disposition == Disposition.ABANDONED else 3
            for log in logs[index : index + count]:
                log.call_id = pk
            index += count
        QueueLog.objects.bulk_create(logs, batch_size=5000)
        AgentStateLog.objects.bulk_create(states, batch_size=5000)
        for leg in legs:
            leg.call_id = by_id[leg.leg_id[:-2]]
        CallLeg.objects.bulk_create(legs, batch_size=2000)
        answered_pks = [by_id[c.call_id] for c in calls if c.disposition == Disposition.ANSWERED]
        for case_row, call_pk in zip(cases, answered_pks, strict=False):
            links.append((call_pk, case_row[0]))
        CallCase.objects.bulk_create(
            [CallCase(call_id=c, case_id=k, linked_at=day + dt.timedelta(hours=12)) for c, k in links],
            batch_size=2000,
        )
        self._ivr_and_controls(rng, calls, by_id)
        return len(calls)

    # Trunk (access number), IVR path and call controls (transfers, consults, conferences, holds): a second
    # pass over the day's calls, so the rows above stay as they were for a given seed.
    MENU = (("1", "consult"), ("2", "complaint"), ("3", "progress"), ("0", "agent"))
    CONTROLS = (
        ControlKind.BLIND_TRANSFER,
        ControlKind.CONSULT,
        ControlKind.CONSULT_TRANSFER,
        ControlKind.CONFERENCE,
    )

    def _ivr_and_controls(self, rng: random.Random, calls: list[Call], by_id: dict[str, int]) -> None:
        version, numbers = self._ivr_setup(calls[0].queue if calls else None)
        steps: list[IvrStep] = []
        controls: list[CallControl] = []
        holds: list[AgentStateLog] = []
        by_number: dict[int, list[int]] = {}
        for call in calls:
            pk = by_id[call.call_id]
            number = rng.choice(numbers)
            by_number.setdefault(number.pk, []).append(pk)
            digit, node = rng.choice(self.MENU)
            at = call.started_at + dt.timedelta(seconds=2)
            steps += [
                IvrStep(call_id=pk, version=version, node="welcome", event=IvrStepEvent.ENTER, at=at),
                IvrStep(call_id=pk, version=version, node="main_menu", event=IvrStepEvent.ENTER, at=at),
            ]
            if rng.random() < 0.05:
                steps.append(
                    IvrStep(call_id=pk, version=version, node="main_menu", event=IvrStepEvent.TIMEOUT, at=at)
                )
            steps += [
                IvrStep(call_id=pk, version=version, node="main_menu", event=IvrStepEvent.KEYS, digits=digit, at=at),
                IvrStep(call_id=pk, version=version, node=node, event=IvrStepEvent.ENTER, at=at),
            ]  # fmt: skip
            if call.answered_at is None or call.ended_at is None or call.agent is None:
                continue
            talk = call.ended_at - call.answered_at
            if rng.random() < 0.06:
                controls.append(
                    CallControl(call_id=pk, kind=rng.choice(self.CONTROLS), agent=call.agent,
                                target="2001", at=call.answered_at + talk / 2)
                )  # fmt: skip
            if rng.random() < 0.10:
                held = call.answered_at + talk / 3
                pause = talk / 6
                holds += [
                    AgentStateLog(agent=call.agent, event=AgentEvent.HOLD, from_state=AgentState.TALKING,
                                  to_state=AgentState.HOLD, call_id=pk, previous_ms=ms(talk / 3), at=held),
                    AgentStateLog(agent=call.agent, event=AgentEvent.RETRIEVE, from_state=AgentState.HOLD,
                                  to_state=AgentState.TALKING, call_id=pk, previous_ms=ms(pause), at=held + pause),
                ]  # fmt: skip
        for number_pk, pks in by_number.items():
            Call.objects.filter(pk__in=pks).update(
                number_id=number_pk, dialed=numbers_by_pk(numbers)[number_pk]
            )
        IvrStep.objects.bulk_create(steps, batch_size=5000)
        CallControl.objects.bulk_create(controls, batch_size=2000)
        AgentStateLog.objects.bulk_create(holds, batch_size=5000)

    def _ivr_setup(self, queue: Queue | None) -> tuple[IvrVersion, list[Number]]:
        now = clock.now()
        flow, _new = IvrFlow.objects.get_or_create(
            code="fake-main", defaults={"name": "主菜单（模拟）", "created_at": now}
        )
        version = flow.versions.filter(status=IvrVersionStatus.PUBLISHED).first() or IvrVersion.objects.create(
            flow=flow, number=1, status=IvrVersionStatus.PUBLISHED, graph={}, created_at=now, updated_at=now,
            published_at=now,
        )  # fmt: skip
        numbers = list(Number.objects.order_by("number"))
        if not numbers and queue is not None:
            numbers = [
                Number.objects.create(number="12345", name="12345热线", queue=queue, ivr_flow=flow),
                Number.objects.create(number="96345", name="原企业服务热线", queue=queue, ivr_flow=flow),
            ]
        return version, numbers


def numbers_by_pk(numbers: list[Number]) -> dict[int, str]:
    return {n.pk: n.number for n in numbers}
