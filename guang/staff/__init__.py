"""店员说: staff posts, staff profiles, 向TA咨询 and shoppers' advisors."""
