"""DynamoDB session store: one item per quiz, TTL attribute `expires_at`, conditional writes.

Table: partition key `session_id` (S); TTL enabled on `expires_at` (N, epoch seconds). The
quiz itself is one JSON string attribute (`data`, well under DynamoDB's 400 KB item limit: a
20-round quiz is < 4 KB, plus ~20-35 KB once an `adaptive` quiz is finished and keeps its
strategy's final state); `revision` is a top-level number so writes can be conditional on it.
The endpoint comes from boto3's usual configuration (AWS_ENDPOINT_URL for tests)."""

from __future__ import annotations

import time
from typing import Any

from .base import SessionConflict, SessionNotFound, SessionStore
from .model import QuizSession


class DynamoDBSessionStore(SessionStore):
    def __init__(self, table: str, client: Any = None):
        import boto3  # only the AWS deployment needs boto3

        self.table = table
        self.location = f"dynamodb://{table}"
        self.client = client or boto3.client("dynamodb")

    def _item(self, session: QuizSession) -> dict[str, Any]:
        return {
            "session_id": {"S": session.session_id},
            "revision": {"N": str(session.revision)},
            "expires_at": {"N": str(session.expires_at)},
            "data": {"S": session.to_json()},
        }

    def _put(self, session: QuizSession, condition: str, values: dict[str, Any] | None,
             conflict_message: str) -> None:
        extra = {"ExpressionAttributeValues": values} if values else {}
        try:
            self.client.put_item(
                TableName=self.table, Item=self._item(session), ConditionExpression=condition,
                **extra,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise SessionConflict(conflict_message) from None

    def create(self, session: QuizSession) -> None:
        self._put(session, "attribute_not_exists(session_id)", None,
                  f"session {session.session_id} already exists")

    def get(self, session_id: str) -> QuizSession:
        # Strongly consistent: a pick must see the previous pick's write.
        item = self.client.get_item(
            TableName=self.table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        ).get("Item")
        # TTL deletion is lazy (up to days late), so expiry is also checked here.
        if item is None or int(item["expires_at"]["N"]) <= time.time():
            raise SessionNotFound(session_id)
        return QuizSession.from_json(item["data"]["S"])

    def replace(self, session: QuizSession, expected_revision: int) -> None:
        self._put(session, "revision = :expected",
                  {":expected": {"N": str(expected_revision)}},
                  f"session {session.session_id} changed concurrently")


def create_table(table: str, client: Any = None) -> None:
    """Create the sessions table with TTL (for local stacks and tests; SAM creates it in AWS)."""
    import boto3

    client = client or boto3.client("dynamodb")
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table)
    client.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
