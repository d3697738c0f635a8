"""The one vocabulary: domain types and event schemas shared by api, stream, recsys and edge."""
