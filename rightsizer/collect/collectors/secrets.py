"""Secrets Manager: every secret's metadata from ListSecrets, for secrets-unused.

ListSecrets returns metadata only, never a secret's value ("does not include the encrypted
SecretString and SecretBinary values"), so reading it needs no secretsmanager:GetSecretValue
and no KMS decrypt. LastAccessedDate is "the date that the secret was last accessed in the
Region. This field is omitted if the secret has never been retrieved in the Region"; its
resolution is a date, truncated to midnight.
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_SecretListEntry.html
Secrets scheduled for deletion are left out (IncludePlannedDeletion defaults to false).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    paginated_rows,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, same_name, schema

SERVICE = "secretsmanager"


def _stamp(value: Any) -> str:
    return "" if value in (None, "") else str(value)


def collect_secrets(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    return paginated_rows(target, errors, SERVICE, "ListSecrets", "SecretList",
                          lambda secret: _row(target, secret))


def _row(target: Target, secret: dict[str, Any]) -> dict[str, Any]:
    replicas = [str(replica.get("Region", "")) for replica in
                secret.get("ReplicationStatus") or [] if replica.get("Region")]
    rules = secret.get("RotationRules") or {}
    return {
        "account": target.account,
        "region": target.region,
        "arn": secret.get("ARN", secret.get("Name", "")),
        "name": secret.get("Name", ""),
        "created_at": _stamp(secret.get("CreatedDate")),
        "last_accessed": _stamp(secret.get("LastAccessedDate")),
        "last_changed": _stamp(secret.get("LastChangedDate")),
        "rotation_enabled": bool(secret.get("RotationEnabled", False)),
        "rotation_days": int(rules.get("AutomaticallyAfterDays") or 0),
        "replica_regions": to_json(replicas),
        # Set on a replica: the Region its primary lives in.
        "primary_region": secret.get("PrimaryRegion") or "",
        "owning_service": secret.get("OwningService") or "",
        "deleted_at": _stamp(secret.get("DeletedDate")),
        "tags": to_json(tags_to_dict(secret.get("Tags"))),
    }


SPECS = (
    CollectorSpec(
        table="secrets", label="secrets",
        schema=schema(
            "account", "region", "arn", "name", "created_at", "last_accessed", "last_changed",
            "rotation_enabled", "rotation_days", "replica_regions", "primary_region",
            "owning_service", "deleted_at", "tags",
            rotation_enabled=pa.bool_(), rotation_days=pa.int64()),
        operations=same_name(f"{SERVICE}:ListSecrets"),  # tags come in each SecretListEntry
        collect=lambda target, errors, _run: collect_secrets(target, errors),
        id_column="arn",
        inventory=Inventory("secret", "Secrets Manager secrets", f"{SERVICE}:ListSecrets"),
    ),
)
