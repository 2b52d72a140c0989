"""The cold/warm harness: functions-framework processes measured beside a no-op floor."""
