"""种草 articles: the feed, likes, shares, comments, and brand/staff publishing with moderation."""
