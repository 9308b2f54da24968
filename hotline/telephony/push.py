"""Telephony's push channels: one per agent, and the control channel to the call controller."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hotline.common.push import broker


def agent_channel(agent_pk: int) -> str:
    return f"agent:{agent_pk}"


def publish_agent(agent_pk: int, message: dict[str, Any]) -> None:
    broker().publish(agent_channel(agent_pk), message)


# Commands from the web (the agent's call-bar buttons) to the call controller, wherever it runs.
CONTROL_CHANNEL = "control"


def send_control(message: dict[str, Any]) -> None:
    broker().publish(CONTROL_CHANNEL, message)


# The supervisors' live board (agents and queues): a change says only what changed; the page re-reads the board.
BOARD_CHANNEL = "telephony:board"


def publish_board(message: dict[str, Any]) -> None:
    broker().publish(BOARD_CHANNEL, message)


def board_on_commit(message: dict[str, Any]) -> None:
    """Tell the board once the current transaction commits (nothing for a rolled-back change)."""
    transaction.on_commit(lambda: publish_board(message))
