"""The scheduler: periodic jobs (plan, observe, verify, remind)."""
