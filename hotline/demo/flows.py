"""The demo city's flow template: the default one (today's backbone), published before the cases are made so
that every demo case shows its position on the case page (FLW-4)."""

from __future__ import annotations

from typing import Any

from hotline.flows import services
from hotline.flows.defaults import default_flow_json
from hotline.flows.models import FlowTemplate


def seed_flow_template(*, actor: Any) -> bool:
    """Publish the default template unless the demo has one; True if it was made now."""
    if FlowTemplate.objects.filter(code="default").exists():
        return False
    version = services.template_import(actor=actor, data=default_flow_json())
    services.version_submit(actor=actor, version=version)
    services.version_publish(actor=actor, version=version)
    return True
