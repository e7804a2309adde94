"""Access control (SPEC §9): who is calling, and which roles they hold."""
