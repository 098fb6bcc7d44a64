"""E-mail: an outbox written in the same transaction as the change it announces, sent after commit."""
