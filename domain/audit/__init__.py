"""The audit trail (SPEC §9): one event per request that touches patient data, and per refusal."""
