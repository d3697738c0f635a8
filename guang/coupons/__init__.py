"""Geo-targeted coupon campaigns: claim within quota and stock, redeem (核销) exactly once."""
