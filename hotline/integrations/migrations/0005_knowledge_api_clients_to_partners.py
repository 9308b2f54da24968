"""The knowledge base's third-party search clients (knowledge.ApiClient) become partners with `knowledge:read`.

Their keys keep working: the partner's key prefix is the client's, and its key hash is the client's hash of the
part after the dot, marked `secret-sha256:` (see Partner.api_key_hash). Each gets a new signing secret nobody
holds yet; rotating the partner's credentials on the partner screen issues a new key and a secret (the old key
then stops working).
"""

import secrets

from django.db import migrations

LEGACY_KEY_HASH = "secret-sha256:"


def clients_to_partners(apps, schema_editor):
    from hotline.common import crypto

    ApiClient = apps.get_model("knowledge", "ApiClient")
    Partner = apps.get_model("integrations", "Partner")
    for client in ApiClient.objects.order_by("pk"):
        code = f"kb-{client.key_prefix}"[:40]
        n = 1
        while Partner.objects.filter(code=code).exists():
            n += 1
            code = f"kb-{client.key_prefix}-{n}"[:40]
        partner = Partner.objects.create(
            code=code,
            name=client.name[:100],
            kind="other",
            is_active=client.is_active,
            secret_sealed=crypto.encrypt(secrets.token_urlsafe(32)),
            sign_method="HMAC-SHA256",
            encryption="none",
            scopes=["knowledge:read"],
            rate_per_minute=600,
            api_key_prefix=client.key_prefix,
            api_key_hash=LEGACY_KEY_HASH + client.key_hash,
            knowledge_public_only=client.public_only,
        )
        partner.knowledge_spaces.set(client.spaces.all())


def partners_to_clients(apps, schema_editor):
    ApiClient = apps.get_model("knowledge", "ApiClient")
    Partner = apps.get_model("integrations", "Partner")
    for partner in Partner.objects.filter(api_key_hash__startswith=LEGACY_KEY_HASH).order_by("pk"):
        client = ApiClient.objects.create(
            name=partner.name,
            key_prefix=partner.api_key_prefix,
            key_hash=partner.api_key_hash[len(LEGACY_KEY_HASH) :],
            public_only=partner.knowledge_public_only,
            is_active=partner.is_active,
        )
        client.spaces.set(partner.knowledge_spaces.all())
        partner.knowledge_spaces.clear()
        partner.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_partner_knowledge_search"),
        ("knowledge", "0002_synonym_groups"),
    ]

    operations = [migrations.RunPython(clients_to_partners, partners_to_clients)]
