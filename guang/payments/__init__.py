"""Orders and WeChat Pay (API v3) payment notifications, applied exactly once."""
