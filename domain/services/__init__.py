"""Use cases: each service method is one thing a user of PANDA does."""
